//! Backup fuzz target: secret-storage payloads (a secret's JSON content, a key description, raw
//! `iv ‖ mac ‖ ciphertext`, and a mask over a genuine secret) through the decrypt paths: never a
//! panic, a failed decrypt writes nothing, and whatever decrypts re-encrypts to the same ciphertext
//! and MAC under the fixed key. The checks live in `safemeet::backup::secret_storage::fuzz_checks`
//! so that `cargo test` (`tests/fuzz_corpus.rs`) replays the seed corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::backup::secret_storage::fuzz_checks::check_secret_storage(data);
});

//! Backup fuzz target: recovery-key text into `RecoveryKey::decode` (never panics; a decoded key
//! re-encodes and decodes to itself; whitespace never changes the answer). The checks live in
//! `safemeet::backup::secret_storage::fuzz_checks` so that `cargo test` (`tests/fuzz_corpus.rs`)
//! replays the seed corpus through exactly the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::backup::secret_storage::fuzz_checks::check_recovery_key(data);
});

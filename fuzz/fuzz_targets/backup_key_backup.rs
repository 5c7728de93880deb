//! Server-side key backup payloads: `KeyBackupData` and `session_data` JSON, `GET /room_keys/version`
//! responses and the trust decision, raw `ephemeral ‖ mac ‖ ciphertext` through `decrypt_into`, and the
//! input as a plaintext that must round-trip. Never panics; whatever decrypts under the fixed key
//! re-encrypts and decrypts to the same bytes; every failure leaves the output untouched. The checks live
//! in `safemeet::backup::key_backup::fuzz_checks`, so `cargo test` (`tests/fuzz_corpus.rs`) replays the
//! seed corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safemeet::backup::key_backup::fuzz_checks::check_backup;

fuzz_target!(|data: &[u8]| check_backup(data));

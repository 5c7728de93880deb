//! Key-export files and room keys: file parsing and decryption with a fixed passphrase (files asking
//! for at most 16 rounds), our files round-tripping, imports of arbitrary JSON, and
//! `RoomKey::from_json` on arbitrary JSON. The first byte picks the mode. The checks live in
//! `safemeet::backup::export::fuzz_checks`, so `cargo test` (`tests/fuzz_corpus.rs`) replays the seed
//! corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safemeet::backup::export::fuzz_checks::check;

fuzz_target!(|data: &[u8]| check(data));

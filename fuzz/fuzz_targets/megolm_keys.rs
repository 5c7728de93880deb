//! Group-session decoding (keyss of Megolm and native sender keys): whatever parses must
//! re-encode to exactly the input. The checks live in `safemeet::megolm::fuzz_checks`, so
//! `cargo test` (`tests/fuzz_corpus.rs`) replays the seed corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safemeet::megolm::fuzz_checks::check_keys;

fuzz_target!(|data: &[u8]| check_keys(data));

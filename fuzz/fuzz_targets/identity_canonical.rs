//! Identity fuzz target: canonical JSON with a round-trip and signing-input check. The checks live in
//! `safemeet::identity::fuzz_checks` so that `cargo test` (`tests/fuzz_corpus.rs`) replays the seed
//! corpus through exactly the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::identity::fuzz_checks::check_canonical(data);
});

//! Identity fuzz target: one key object (master, self-signing, user-signing or device keys) into every decoder and verifier. The checks live in
//! `safemeet::identity::fuzz_checks` so that `cargo test` (`tests/fuzz_corpus.rs`) replays the seed
//! corpus through exactly the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::identity::fuzz_checks::check_keys(data);
});

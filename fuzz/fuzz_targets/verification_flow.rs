//! Verification fuzz target: two devices verifying each other while the input delivers, drops, tampers with and injects events. The checks live in
//! `safemeet::verification::fuzz_checks` so that `cargo test` (`tests/fuzz_corpus.rs`) replays the seed
//! corpus through exactly the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::verification::fuzz_checks::check_flow(data);
});

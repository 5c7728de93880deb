//! Identity fuzz target: a /keys/query response into a fresh identity store, asserting nothing unverified is trusted. The checks live in
//! `safemeet::identity::fuzz_checks` so that `cargo test` (`tests/fuzz_corpus.rs`) replays the seed
//! corpus through exactly the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::identity::fuzz_checks::check_keys_query(data);
});

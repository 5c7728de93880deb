//! A two-party native-profile conversation driven by the input: sends, deliveries in any order,
//! drops, replays and tampering, checked against a model of the documented bounds. The checks live in
//! `safemeet::session::fuzz_checks`; `cargo test` (`tests/fuzz_corpus.rs`) replays the seed corpus
//! through them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::session::fuzz_checks::check_interaction(data);
});

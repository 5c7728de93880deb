//! A two-party Olm conversation driven by the input: sends, deliveries in any order, drops, replays,
//! tampering, wrong transport types and pickle round trips, checked against a model of the Olm bounds
//! that predicts exactly which late messages decrypt. The checks live in
//! `safemeet::olm::fuzz_checks`; `cargo test` (`tests/fuzz_corpus.rs`) replays the seed corpus
//! through them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::olm::fuzz_checks::check_interaction(data);
});

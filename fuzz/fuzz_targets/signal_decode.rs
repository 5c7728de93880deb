//! Classic Signal decoding: the input as a `SignalMessage` and as a `PreKeySignalMessage`, with exact
//! round trips (the decoders accept only canonical encodings) and sizing. The checks live in
//! `safemeet::signal::pairwise_fuzz_checks`, so `cargo test` (`tests/fuzz_corpus.rs`) replays the seed
//! corpus through the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safemeet::signal::pairwise_fuzz_checks::check_decode;

fuzz_target!(|data: &[u8]| {
    check_decode(data);
});

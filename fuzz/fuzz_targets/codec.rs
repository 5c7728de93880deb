//! Codec fuzz target: varints and protobuf fields through the `Reader`, base64 and base58 decoding, each
//! with round-trip asserts. The checks live in `safemeet::codec::fuzz_checks` so that `cargo test`
//! (`tests/fuzz_corpus.rs`) replays the seed corpus through exactly the same code.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    safemeet::codec::fuzz_checks::check_codec(data);
});

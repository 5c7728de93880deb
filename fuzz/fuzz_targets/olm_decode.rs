//! Olm decoding: the input as a normal and as a pre-key message, with canonical round trips (byte for
//! byte exactly for canonical input), sizing, the base64 transport, and decryption by fixed sessions
//! that nothing may change. The checks live in `safemeet::olm::fuzz_checks`, so `cargo test`
//! (`tests/fuzz_corpus.rs`) replays the seed corpus through the same code.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use safemeet::olm::fuzz_checks::{DecodeFixture, check_decode_with};

thread_local! {
    // Built once: the checks assert that no input changes it.
    static FIXTURE: RefCell<DecodeFixture> = RefCell::new(DecodeFixture::new());
}

fuzz_target!(|data: &[u8]| {
    FIXTURE.with_borrow_mut(|fixture| check_decode_with(fixture, data));
});

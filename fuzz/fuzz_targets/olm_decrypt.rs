//! Olm decryption: the input as a normal and a pre-key message to both sides of an established
//! session and as a pre-key message to an account's inbound session. Only messages we produced may
//! decrypt, a failure must leave sessions and account exactly as they were, and a one-time key goes
//! only with a successful inbound session. The checks live in `safemeet::olm::fuzz_checks`;
//! `cargo test` (`tests/fuzz_corpus.rs`) replays the seed corpus through them.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use safemeet::olm::fuzz_checks::{DecryptFixture, check_decrypt_with};

thread_local! {
    // Kept across inputs: an input that decrypts nothing must leave it unchanged (checked by
    // fingerprint), and one that decrypts something has the fixture verified and rebuilt.
    static FIXTURE: RefCell<DecryptFixture> = RefCell::new(DecryptFixture::new());
}

fuzz_target!(|data: &[u8]| {
    FIXTURE.with_borrow_mut(|fixture| check_decrypt_with(fixture, data));
});

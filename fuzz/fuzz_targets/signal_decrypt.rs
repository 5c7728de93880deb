//! Classic Signal decryption: the input as both message types to both sides of an established session
//! and as a first message to an account. Only genuine messages may decrypt, and a failure must leave
//! sessions and account exactly as they were. The checks live in
//! `safemeet::signal::pairwise_fuzz_checks`; `cargo test` (`tests/fuzz_corpus.rs`) replays the seed
//! corpus through them.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use safemeet::signal::pairwise_fuzz_checks::{DecryptFixture, check_decrypt_with};

thread_local! {
    // Kept across inputs: a failing input must leave it unchanged (checked by fingerprint); one that
    // decrypts something has the fixture rebuilt.
    static FIXTURE: RefCell<DecryptFixture> = RefCell::new(DecryptFixture::new());
}

fuzz_target!(|data: &[u8]| {
    FIXTURE.with_borrow_mut(|fixture| check_decrypt_with(fixture, data));
});

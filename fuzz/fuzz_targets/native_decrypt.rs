//! Native-profile decryption: the input as a message to both sides of an established plain and
//! header-encrypted session and as a first message to an account. Only messages we produced may
//! decrypt, and a failure must leave sessions and account exactly as they were. The checks live in
//! `safemeet::session::fuzz_checks`; `cargo test` (`tests/fuzz_corpus.rs`) replays the seed corpus
//! through them.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use safemeet::session::fuzz_checks::{DecryptFixtures, check_decrypt_with};

thread_local! {
    // Kept across inputs: an input that decrypts nothing must leave it unchanged (checked by
    // fingerprint), and one that decrypts something has the affected fixture verified and rebuilt.
    static FIXTURES: RefCell<DecryptFixtures> = RefCell::new(DecryptFixtures::new());
}

fuzz_target!(|data: &[u8]| {
    FIXTURES.with_borrow_mut(|fixtures| check_decrypt_with(fixtures, data));
});

//! Group-session decryption: the input as a message (raw, or as edits to a genuine message, optionally
//! re-signed with the real key) to fixed Megolm and native inbound sessions. Only genuine messages may
//! decrypt, and a failure must leave the sessions exactly as they were. The checks live in
//! `safemeet::megolm::fuzz_checks`; `cargo test` (`tests/fuzz_corpus.rs`) replays the seed corpus.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use safemeet::megolm::fuzz_checks::{DecryptFixture, check_decrypt_with};

thread_local! {
    // Kept across inputs: a failed decryption must leave it unchanged (checked by fingerprint); one
    // that decrypts something has it rebuilt.
    static FIXTURE: RefCell<DecryptFixture> = RefCell::new(DecryptFixture::new());
}

fuzz_target!(|data: &[u8]| {
    FIXTURE.with_borrow_mut(|fixture| check_decrypt_with(fixture, data));
});

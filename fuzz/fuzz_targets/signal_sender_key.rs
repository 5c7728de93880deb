//! Signal sender keys: both decoders (distribution messages and messages; whatever decodes must
//! re-encode to exactly the input), then the input as a message (raw, or as edits to a genuine
//! message, optionally re-signed with the real XEdDSA key) to a fixed record: only genuine messages
//! may decrypt, and a failure must leave the record exactly as it was. The checks live in
//! `safemeet::signal::group::fuzz_checks`; `cargo test` (`tests/fuzz_corpus.rs`) replays the seed
//! corpus.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use safemeet::signal::group::fuzz_checks::{DecryptFixture, check_decode, check_decrypt_with};

thread_local! {
    // Kept across inputs: a failed decryption must leave it unchanged (checked by digest); one that
    // decrypts something has it rebuilt.
    static FIXTURE: RefCell<DecryptFixture> = RefCell::new(DecryptFixture::new());
}

fuzz_target!(|data: &[u8]| {
    check_decode(data);
    FIXTURE.with_borrow_mut(|fixture| check_decrypt_with(fixture, data));
});

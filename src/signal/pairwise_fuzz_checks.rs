//! Checks over arbitrary bytes for the classic Signal pairwise messages, shared by the fuzz targets
//! `signal_decode` and `signal_decrypt` (`fuzz/fuzz_targets/`) and by the corpus replay test
//! (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API, and **test-only**: a failed `assert!` is how a fuzzer reports a finding,
//! and the randomness is the native checks' deterministic generator.
//!
//! - [`check_decode`]: the input as a `SignalMessage` and as a `PreKeySignalMessage`. Whatever decodes
//!   re-encodes to exactly the input (the decoders accept only canonical encodings), the embedded
//!   message of a pre-key message decodes on its own to the same view, and the sizing functions agree.
//! - [`check_decrypt`]: the input as both message types to both sides of an established session, and
//!   as a first message to an account. Only the genuine messages in flight may decrypt (to their
//!   plaintexts); any failure leaves the sessions and the account exactly as they were (fingerprinted
//!   by a deterministic pickle).
#![cfg(feature = "alloc")]

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use super::wire::{decode_pre_key_message, decode_signal_message};
use super::{Account, MessageType, Session};
use crate::pickle::{self, PICKLE_KEY_LEN, Pickled};
use crate::session::fuzz_checks::FuzzRng;

const PICKLE_KEY: [u8; PICKLE_KEY_LEN] = [0x33; PICKLE_KEY_LEN];

/// A small skipped-key store keeps fingerprints short.
type FuzzSession = Session<16>;
type FuzzAccount = Account<4>;

fn fingerprint<T: Pickled>(value: &T) -> Vec<u8> {
    let mut out = vec![0u8; pickle::pickle_len(value)];
    let n = pickle::pickle_into(
        value,
        &mut FuzzRng::new(b"signal fingerprint"),
        &PICKLE_KEY,
        &mut out,
    )
    .expect("pickling");
    assert_eq!(n, out.len(), "pickle_len disagrees with pickle_into");
    out
}

/// [`check_decode`]: both decoders, canonical round trips, sizing.
pub fn check_decode(data: &[u8]) {
    if let Ok(view) = decode_signal_message(data) {
        assert_eq!(
            view.encoded_len(),
            data.len(),
            "encoded_len of a decoded message"
        );
        let mut out = vec![0u8; view.encoded_len()];
        let n = view.encode_into(&mut out).expect("re-encoding");
        assert_eq!(
            &out[..n],
            data,
            "a decoded SignalMessage re-encodes to its bytes"
        );
        assert_eq!(
            FuzzSession::decrypt_len(MessageType::Whisper, data).expect("decrypt_len"),
            view.ciphertext.len()
        );
        assert_eq!(view.authenticated.len() + super::wire::MAC_LEN, data.len());
    }
    if let Ok(view) = decode_pre_key_message(data) {
        assert_eq!(
            view.encoded_len(),
            data.len(),
            "encoded_len of a decoded message"
        );
        let mut out = vec![0u8; view.encoded_len()];
        let n = view.encode_into(&mut out).expect("re-encoding");
        assert_eq!(
            &out[..n],
            data,
            "a decoded PreKeySignalMessage re-encodes to its bytes"
        );
        assert_eq!(
            decode_signal_message(view.message_bytes).as_ref(),
            Ok(&view.message),
            "the embedded message decodes alone to the same view"
        );
        assert_eq!(
            FuzzSession::decrypt_len(MessageType::PreKey, data).expect("decrypt_len"),
            view.message.ciphertext.len()
        );
    }
}

/// A genuine message in flight.
struct Genuine {
    kind: MessageType,
    bytes: Vec<u8>,
    plaintext: Vec<u8>,
}

/// Alice and Bob mid-conversation, with genuine messages in flight both ways and a first message for
/// Bob's account from a second session.
pub struct DecryptFixture {
    bob_account: FuzzAccount,
    alice: FuzzSession,
    bob: FuzzSession,
    to_alice: Vec<Genuine>,
    to_bob: Vec<Genuine>,
    first: Genuine,
    prints: [Vec<u8>; 3],
}

impl fmt::Debug for DecryptFixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptFixture").finish_non_exhaustive()
    }
}

impl Default for DecryptFixture {
    fn default() -> Self {
        Self::new()
    }
}

fn send(s: &mut FuzzSession, rng: &mut FuzzRng, plaintext: &[u8]) -> Genuine {
    let expected = s.next_message_type();
    let mut out = vec![0u8; s.encrypt_len(plaintext.len())];
    let (kind, n) = s
        .encrypt_into(rng, plaintext, &mut out)
        .expect("encrypting");
    assert_eq!(n, out.len(), "encrypt_len disagrees with encrypt_into");
    assert_eq!(kind, expected);
    Genuine {
        kind,
        bytes: out,
        plaintext: plaintext.to_vec(),
    }
}

fn receive(s: &mut FuzzSession, g: &Genuine) {
    assert_eq!(
        s.decrypt(g.kind, &g.bytes).expect("genuine message"),
        g.plaintext
    );
}

impl DecryptFixture {
    /// Builds the fixture (deterministically).
    pub fn new() -> Self {
        let mut rng = FuzzRng::new(b"signal decrypt fixture");
        let alice_account = FuzzAccount::new(&mut rng);
        let carol_account = FuzzAccount::new(&mut rng);
        let mut bob_account = FuzzAccount::new(&mut rng);
        bob_account.generate_one_time_pre_keys(&mut rng, 2);
        let ids: Vec<u32> = bob_account.one_time_pre_keys().map(|(id, _)| id).collect();
        let bundle = |id| bob_account.bundle(Some(id)).expect("bundle");
        let mut alice: FuzzSession = alice_account
            .create_outbound_session(&mut rng, &bundle(ids[0]))
            .expect("outbound");
        let mut carol: FuzzSession = carol_account
            .create_outbound_session(&mut rng, &bundle(ids[1]))
            .expect("outbound");
        let m0 = send(&mut alice, &mut rng, b"m0");
        let m1 = send(&mut alice, &mut rng, b"m1 (pre-key, pending)");
        let (mut bob, pt): (FuzzSession, _) = bob_account
            .create_inbound_session(&m0.bytes)
            .expect("inbound");
        assert_eq!(pt, m0.plaintext);
        let r0 = send(&mut bob, &mut rng, b"r0 (pending)");
        let r1 = send(&mut bob, &mut rng, b"r1");
        receive(&mut alice, &r1);
        let m2 = send(&mut alice, &mut rng, b"m2 (whisper, pending)");
        let first = send(&mut carol, &mut rng, b"first from carol");
        let prints = [
            fingerprint(&alice),
            fingerprint(&bob),
            fingerprint(&bob_account),
        ];
        Self {
            bob_account,
            alice,
            bob,
            to_alice: vec![r0],
            to_bob: vec![m1, m2],
            first,
            prints,
        }
    }

    /// Tries `data` everywhere; returns whether anything decrypted (then the fixture is spent).
    fn attempt(&mut self, data: &[u8]) -> bool {
        let mut changed = false;
        for kind in [MessageType::Whisper, MessageType::PreKey] {
            for (session, genuine, print) in [
                (&mut self.alice, &self.to_alice, &self.prints[0]),
                (&mut self.bob, &self.to_bob, &self.prints[1]),
            ] {
                let mut out = vec![0u8; data.len()];
                match session.decrypt_into(kind, data, &mut out) {
                    Ok(n) => {
                        let g = genuine
                            .iter()
                            .find(|g| g.kind == kind && same_message(kind, &g.bytes, data))
                            .expect("only genuine messages decrypt");
                        assert_eq!(&out[..n], g.plaintext.as_slice());
                        changed = true;
                    }
                    Err(_) if !changed => {
                        assert_eq!(
                            &fingerprint(session),
                            print,
                            "a failure changed the session"
                        );
                    }
                    Err(_) => {}
                }
            }
        }
        let mut out = vec![0u8; data.len()];
        match self
            .bob_account
            .create_inbound_session_into::<16>(data, &mut out)
        {
            Ok((session, n)) => {
                assert!(
                    same_message(MessageType::PreKey, &self.first.bytes, data),
                    "only genuine first messages open sessions"
                );
                let ids = decode_pre_key_message(data).expect("decoded").ids;
                assert_eq!(session.their_registration_id(), ids.registration_id);
                assert_eq!(&out[..n], self.first.plaintext.as_slice());
                changed = true;
            }
            Err(_) => assert_eq!(
                fingerprint(&self.bob_account),
                self.prints[2],
                "a failure changed the account"
            ),
        }
        changed
    }

    /// After a failure-free input every genuine message still decrypts exactly once.
    fn verify_live(mut self) {
        for g in &self.to_alice {
            receive(&mut self.alice, g);
        }
        for g in &self.to_bob {
            receive(&mut self.bob, g);
        }
        let (_, pt): (FuzzSession, _) = self
            .bob_account
            .create_inbound_session(&self.first.bytes)
            .expect("first message");
        assert_eq!(pt, self.first.plaintext);
    }
}

/// Whether `data` is the genuine message `genuine`, up to what no MAC covers: a `SignalMessage` must
/// be the same bytes; a pre-key message must embed the same `SignalMessage` under the same identity
/// and base key (its registration id is unauthenticated in classic v3, and so are the prekey ids of a
/// repeated pre-key message, which go to an existing session), with the same prekey ids for a first
/// message (another id selects another key, or none, and fails).
fn same_message(kind: MessageType, genuine: &[u8], data: &[u8]) -> bool {
    match kind {
        MessageType::Whisper => genuine == data,
        MessageType::PreKey => {
            let (Ok(g), Ok(d)) = (
                decode_pre_key_message(genuine),
                decode_pre_key_message(data),
            ) else {
                return false;
            };
            g.message_bytes == d.message_bytes
                && g.base_key == d.base_key
                && g.identity_key == d.identity_key
        }
    }
}

/// [`check_decrypt`] with a fresh fixture, then a check that every genuine message still decrypts.
pub fn check_decrypt(data: &[u8]) {
    let mut fixture = DecryptFixture::new();
    if !fixture.attempt(data) {
        fixture.verify_live();
    }
}

/// [`check_decrypt`] on a fixture kept across inputs; rebuilt when an input decrypted something.
pub fn check_decrypt_with(fixture: &mut DecryptFixture, data: &[u8]) {
    if fixture.attempt(data) {
        *fixture = DecryptFixture::new();
    }
}

/// The genuine messages in flight, labelled, for a seed corpus (also good `signal_decode` seeds).
pub fn decrypt_seeds() -> Vec<(String, Vec<u8>)> {
    let f = DecryptFixture::new();
    let mut out = Vec::new();
    for (i, g) in f.to_bob.iter().enumerate() {
        out.push((format!("to-bob-{i}"), g.bytes.clone()));
    }
    for (i, g) in f.to_alice.iter().enumerate() {
        out.push((format!("to-alice-{i}"), g.bytes.clone()));
    }
    out.push((String::from("first"), f.first.bytes));
    out
}

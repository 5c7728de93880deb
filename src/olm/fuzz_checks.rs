//! Checks over arbitrary bytes for Matrix Olm, shared by the fuzz targets `olm_decode`, `olm_decrypt`
//! and `olm_interaction` (`fuzz/fuzz_targets/`) and by the corpus replay test (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API, and **test-only**. Unlike the rest of the crate this module panics on
//! purpose: a failed `assert!` is how a fuzzer reports a finding. Its randomness comes from the native
//! checks' deterministic generator, so that every run of an input builds the same keys and sessions;
//! nothing here is fit for real use.
//!
//! - [`check_decode`]: the input as a normal and as a pre-key message: decoding, canonical
//!   re-encoding (a round trip, byte for byte exactly when the input was canonical), sizing, the
//!   base64 transport, and decryption by fixed sessions that must never change.
//! - [`check_decrypt`]: the input as a normal and a pre-key message to both sides of an established
//!   session and as a pre-key message to [`Account::create_inbound_session_into`]; only messages we
//!   produced may decrypt, a failure must leave sessions and account as they were (fingerprinted by a
//!   deterministic pickle, and checked by decrypting every genuine message afterwards), and a one-time
//!   key is consumed only by a successful inbound session.
//! - [`check_interaction`]: a two-party conversation driven by the input (sends, deliveries in any
//!   order, drops, replays, tampering, pickle round trips), checked against a model of the Olm bounds
//!   in [`crate::limits`] that predicts exactly which late messages decrypt (as vodozemac would).
#![cfg(feature = "alloc")]

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use super::wire::{
    MAC_LEN, MessageView, PreKeyView, VERSION, decode_message, decode_pre_key_message,
    encode_message_head, encode_pre_key_head, message_len, pre_key_message_len,
};
use super::{Account, MessageType, OlmMessage, Session, SessionId, SessionKeys};
use crate::codec::base64;
use crate::codec::proto::{bytes_field_len, varint_field_len};
use crate::codec::{Reader, Writer};
use crate::error::{OlmError, RatchetError};
use crate::limits::{
    OLM_MAX_MESSAGE_GAP, OLM_MAX_ONE_TIME_KEYS, OLM_MAX_SKIPPED_KEYS, OLM_MAX_SKIPPED_PER_CHAIN,
};
use crate::pickle::{PICKLE_KEY_LEN, Pickled};
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::session::fuzz_checks::{Bounds, Expect, FuzzRng, ReceiverModel};
use crate::{Error, pickle};

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

const PICKLE_KEY: [u8; PICKLE_KEY_LEN] = [0x5a; PICKLE_KEY_LEN];

/// A pickle under a fixed key with a fixed-seed RNG: the same state always gives the same bytes, and
/// it covers the whole state, secrets included. Equal before and after a failure, or the failure
/// changed something.
fn fingerprint<T: Pickled>(value: &T) -> Vec<u8> {
    let mut out = vec![0u8; pickle::pickle_len(value)];
    let n = pickle::pickle_into(
        value,
        &mut FuzzRng::new(b"olm fingerprint"),
        &PICKLE_KEY,
        &mut out,
    )
    .expect("pickling");
    assert_eq!(n, out.len(), "pickle_len disagrees with pickle_into");
    out
}

fn encrypt(session: &mut Session, rng: &mut FuzzRng, plaintext: &[u8]) -> (MessageType, Vec<u8>) {
    let expected = session.next_message_type();
    let mut out = vec![0u8; session.encrypt_len(plaintext.len())];
    let (kind, n) = session
        .encrypt_into(rng, plaintext, &mut out)
        .expect("encrypting a genuine message");
    assert_eq!(n, out.len(), "encrypt_len disagrees with encrypt_into");
    assert_eq!(
        kind, expected,
        "next_message_type disagrees with encrypt_into"
    );
    (kind, out)
}

fn decrypt(session: &mut Session, kind: MessageType, message: &[u8]) -> Result<Vec<u8>, Error> {
    let len = Session::decrypt_len(kind, message);
    let mut out = vec![0u8; *len.as_ref().unwrap_or(&message.len())];
    let r = session.decrypt_into(kind, message, &mut out);
    if len.is_ok() {
        assert!(
            !matches!(r, Err(Error::Olm(OlmError::BufferTooSmall { .. }))),
            "a buffer of decrypt_len bytes was too small: {r:?}"
        );
    }
    let n = r?;
    out.truncate(n);
    Ok(out)
}

fn create_inbound(
    account: &mut Account,
    their_identity_key: &Curve25519PublicKey,
    message: &[u8],
) -> Result<(Session, Vec<u8>), Error> {
    let len = Session::decrypt_len(MessageType::PreKey, message);
    let mut out = vec![0u8; *len.as_ref().unwrap_or(&message.len())];
    let r = account.create_inbound_session_into(their_identity_key, message, &mut out);
    if len.is_ok() {
        assert!(
            !matches!(r, Err(Error::Olm(OlmError::BufferTooSmall { .. }))),
            "a buffer of decrypt_len bytes was too small: {r:?}"
        );
    }
    let inbound = r?;
    out.truncate(inbound.plaintext_len);
    Ok((inbound.session, out))
}

/// The public halves of the one-time keys an account holds.
fn one_time_keys(account: &Account) -> Vec<Curve25519PublicKey> {
    account
        .one_time
        .iter()
        .take(account.one_time_len)
        .flatten()
        .map(|k| k.public)
        .collect()
}

/// The normal message of a message of type `kind`: itself, or the one a pre-key message embeds.
fn inner_of(kind: MessageType, bytes: &[u8]) -> Vec<u8> {
    match kind {
        MessageType::Normal => bytes.to_vec(),
        MessageType::PreKey => decode_pre_key_message(bytes)
            .expect("our own pre-key message decodes")
            .message
            .to_vec(),
    }
}

/// The session keys a pre-key message names.
fn keys_of(p: &PreKeyView<'_>) -> SessionKeys {
    SessionKeys {
        identity_key: p.identity_key,
        base_key: p.base_key,
        one_time_key: p.one_time_key,
    }
}

/// Whether pre-key message `other` can create the same session as `genuine`: the same identity key,
/// one-time key, base key and embedded message. (A base key with the top bit flipped, which X25519
/// ignores, is refused by the decoder.)
fn same_first_message(genuine: &SessionKeys, genuine_inner: &[u8], other: &PreKeyView<'_>) -> bool {
    other.identity_key == genuine.identity_key
        && other.one_time_key == genuine.one_time_key
        && other.base_key == genuine.base_key
        && other.message == genuine_inner
}

/// A message we produced, with its plaintext.
#[derive(Clone)]
struct Genuine {
    kind: MessageType,
    bytes: Vec<u8>,
    /// The normal message (embedded, for a pre-key message): what the MAC covers.
    inner: Vec<u8>,
    plaintext: Vec<u8>,
}

impl Genuine {
    fn new(session: &mut Session, rng: &mut FuzzRng, plaintext: &[u8]) -> Self {
        let (kind, bytes) = encrypt(session, rng, plaintext);
        Self {
            inner: inner_of(kind, &bytes),
            kind,
            bytes,
            plaintext: plaintext.to_vec(),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// olm_decode
// ---------------------------------------------------------------------------------------------------

const RATCHET_KEY: u32 = 1;
const INDEX: u32 = 2;
const CIPHERTEXT: u32 = 4;
const ONE_TIME_KEY: u32 = 1;
const BASE_KEY: u32 = 2;
const IDENTITY_KEY: u32 = 3;
const MESSAGE: u32 = 4;

/// Whether `fields` is exactly the canonical sequence of field numbers (each once, in order, nothing
/// else). The reader refuses non-minimal varints, so with the right fields the bytes are determined.
fn has_fields(fields: &[u8], expected: &[u32]) -> bool {
    let mut numbers = Vec::new();
    for field in Reader::new(fields).fields() {
        match field {
            Ok(f) => numbers.push(f.number),
            Err(_) => return false,
        }
    }
    numbers == expected
}

/// The canonical encoding of a normal message's fields (indices past `u32::MAX` included, which
/// `encode_message_head` cannot write).
fn encode_message(view: &MessageView<'_>) -> Vec<u8> {
    let len = 1
        + bytes_field_len(RATCHET_KEY, 32)
        + varint_field_len(INDEX, view.index)
        + bytes_field_len(CIPHERTEXT, view.ciphertext.len())
        + MAC_LEN;
    let mut buf = vec![0u8; len];
    let mut w = Writer::new(&mut buf);
    w.write_u8(VERSION).expect("fits");
    w.write_bytes_field(RATCHET_KEY, view.ratchet_key.as_bytes())
        .expect("fits");
    w.write_varint_field(INDEX, view.index).expect("fits");
    w.write_bytes_field(CIPHERTEXT, view.ciphertext)
        .expect("fits");
    w.write_bytes(view.mac).expect("fits");
    assert_eq!(w.finish(), len);
    if let Ok(index) = u32::try_from(view.index) {
        // The library's encoder writes the same bytes.
        assert_eq!(
            message_len(index, view.ciphertext.len()),
            len,
            "message_len"
        );
        let mut lib = vec![0u8; len];
        let mut w = Writer::new(&mut lib);
        encode_message_head(&mut w, &view.ratchet_key, index, view.ciphertext.len())
            .expect("encode_message_head");
        w.write_bytes(view.ciphertext).expect("fits");
        w.write_bytes(view.mac).expect("fits");
        assert_eq!(w.finish(), len);
        assert_eq!(lib, buf, "encode_message_head is not canonical");
    }
    buf
}

fn encode_pre_key(view: &PreKeyView<'_>) -> Vec<u8> {
    let len = pre_key_message_len(view.message.len());
    let mut buf = vec![0u8; len];
    let mut w = Writer::new(&mut buf);
    encode_pre_key_head(
        &mut w,
        &view.one_time_key,
        &view.base_key,
        &view.identity_key,
        view.message.len(),
    )
    .expect("encode_pre_key_head");
    w.write_bytes(view.message).expect("fits");
    assert_eq!(w.finish(), len, "pre_key_message_len");
    buf
}

/// `data` as a normal message: a decoded message re-encodes canonically to bytes that decode to the
/// same fields, and to `data` itself exactly when `data` was canonical.
fn check_message(data: &[u8]) {
    let Ok(view) = decode_message(data) else {
        return;
    };
    assert_eq!(
        view.authenticated,
        &data[..data.len() - MAC_LEN],
        "the MAC must cover every byte before it"
    );
    assert_eq!(view.mac, &data[data.len() - MAC_LEN..]);
    let again = encode_message(&view);
    let view2 = decode_message(&again).expect("a canonical re-encoding decodes");
    assert_eq!(
        (view2.ratchet_key, view2.index, view2.ciphertext, view2.mac),
        (view.ratchet_key, view.index, view.ciphertext, view.mac),
        "the re-encoding decodes to other fields"
    );
    assert_eq!(view2.authenticated, &again[..again.len() - MAC_LEN]);
    let canonical = has_fields(
        &data[1..data.len() - MAC_LEN],
        &[RATCHET_KEY, INDEX, CIPHERTEXT],
    );
    assert_eq!(
        again == data,
        canonical,
        "a canonical message must re-encode to itself, and only a canonical one can"
    );
}

/// `data` as a pre-key message, likewise, and its embedded message as a normal one.
fn check_pre_key(data: &[u8]) {
    let Ok(view) = decode_pre_key_message(data) else {
        return;
    };
    let again = encode_pre_key(&view);
    let view2 = decode_pre_key_message(&again).expect("a canonical re-encoding decodes");
    assert_eq!(view2, view, "the re-encoding decodes to other fields");
    let canonical = has_fields(&data[1..], &[ONE_TIME_KEY, BASE_KEY, IDENTITY_KEY, MESSAGE]);
    assert_eq!(
        again == data,
        canonical,
        "a canonical pre-key message must re-encode to itself, and only a canonical one can"
    );
    check_message(view.message);
}

/// Sizing agrees with the decoders.
fn check_sizes(data: &[u8]) {
    let normal = decode_message(data);
    assert_eq!(
        Session::decrypt_len(MessageType::Normal, data).ok(),
        normal.as_ref().ok().map(|v| v.ciphertext.len()),
        "decrypt_len (normal) disagrees with decode_message"
    );
    let inner = decode_pre_key_message(data).map(|p| decode_message(p.message));
    let expected = match &inner {
        Ok(Ok(v)) => Some(v.ciphertext.len()),
        _ => None,
    };
    assert_eq!(
        Session::decrypt_len(MessageType::PreKey, data).ok(),
        expected,
        "decrypt_len (pre-key) disagrees with the decoders"
    );
}

/// The transport: any bytes survive base64 with either type; `data` read as a body never panics and,
/// when it decodes, round-trips through the canonical (unpadded) body.
fn check_transport(data: &[u8]) {
    let body = base64::encode(data);
    for t in [0u64, 1] {
        let m = OlmMessage::from_parts(t, &body).expect("base64 of any bytes is a message");
        assert_eq!(m.as_bytes(), data);
        assert_eq!(u64::from(m.message_type().as_u8()), t);
        assert_eq!(m.to_base64(), body, "to_base64 is not from_parts' inverse");
    }
    let t = data.first().map_or(2, |&b| u64::from(b).max(2));
    assert_eq!(
        OlmMessage::from_parts(t, &body),
        Err(OlmError::UnknownMessageType.into())
    );
    if let Ok(s) = core::str::from_utf8(data) {
        for t in [0u64, 1] {
            if let Ok(m) = OlmMessage::from_parts(t, s) {
                let b = m.to_base64();
                assert_eq!(base64::decode(&b).as_deref(), Ok(m.as_bytes()));
                assert_eq!(OlmMessage::from_parts(t, &b), Ok(m));
            }
        }
    }
}

/// The sessions [`check_decode_with`] runs decryption against, each with its fingerprint: Alice's
/// established outbound session, Bob's inbound one (with a sending chain) and a fresh outbound session
/// that has sent nothing. None has a message in flight, so nothing may decrypt. A fuzz target keeps one
/// across inputs; the checks assert that it never changes.
pub struct DecodeFixture {
    sessions: Vec<(Session, Vec<u8>)>,
}

impl DecodeFixture {
    /// Builds the fixture deterministically.
    pub fn new() -> Self {
        let mut rng = FuzzRng::new(b"olm decode");
        let alice = Account::<OLM_MAX_ONE_TIME_KEYS>::new(&mut rng);
        let mut bob = Account::<OLM_MAX_ONE_TIME_KEYS>::new(&mut rng);
        bob.generate_one_time_keys_with(&mut rng, 2, |_, _| {});
        let otks: Vec<_> = bob.one_time_keys().map(|(_, k)| k).collect();
        let mut to_bob = alice
            .create_outbound_session(&mut rng, &bob.curve25519_key(), &otks[0])
            .expect("outbound");
        let fresh = alice
            .create_outbound_session(&mut rng, &bob.curve25519_key(), &otks[1])
            .expect("outbound");
        let a0 = Genuine::new(&mut to_bob, &mut rng, b"first");
        let (mut to_alice, pt) =
            create_inbound(&mut bob, &alice.curve25519_key(), &a0.bytes).expect("inbound");
        assert_eq!(pt, a0.plaintext);
        let b0 = Genuine::new(&mut to_alice, &mut rng, b"reply");
        assert_eq!(
            decrypt(&mut to_bob, b0.kind, &b0.bytes).expect("reply"),
            b0.plaintext
        );
        let sessions = [to_bob, to_alice, fresh]
            .into_iter()
            .map(|s| {
                let fp = fingerprint(&s);
                (s, fp)
            })
            .collect();
        Self { sessions }
    }
}

impl Default for DecodeFixture {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for DecodeFixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeFixture")
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

/// [`check_decode_with`] on a freshly built fixture.
pub fn check_decode(data: &[u8]) {
    check_decode_with(&mut DecodeFixture::new(), data);
}

/// Decoding checks: `data` as a normal message and as a pre-key message must decode without panicking;
/// whatever decodes re-encodes canonically to bytes that decode to the same fields, byte for byte
/// `data` exactly when `data` was canonical (the fields once each, in order, nothing else);
/// [`Session::decrypt_len`] agrees with the decoders; [`OlmMessage::from_parts`] and base64 round-trip;
/// and the fixture's sessions, which have nothing in flight, decrypt nothing, route pre-key messages
/// consistently with [`Session::matches_pre_key_message`], and stay exactly as they were.
pub fn check_decode_with(fixture: &mut DecodeFixture, data: &[u8]) {
    check_message(data);
    check_pre_key(data);
    check_sizes(data);
    check_transport(data);

    let pre_key = decode_pre_key_message(data);
    for (session, fp) in &mut fixture.sessions {
        let matches = session.matches_pre_key_message(data);
        assert_eq!(
            matches,
            pre_key.as_ref().is_ok_and(|p| {
                let k = session.session_keys();
                (p.identity_key, p.base_key, p.one_time_key)
                    == (k.identity_key, k.base_key, k.one_time_key)
            }),
            "matches_pre_key_message disagrees with the decoder"
        );
        for kind in [MessageType::Normal, MessageType::PreKey] {
            let r = decrypt(session, kind, data);
            let e = r.expect_err("an arbitrary input decrypted");
            if kind == MessageType::PreKey && pre_key.is_ok() {
                assert_eq!(
                    e == OlmError::SessionMismatch.into(),
                    !matches,
                    "a pre-key message routed against matches_pre_key_message ({e:?})"
                );
            }
            assert!(
                session.decrypt_into(kind, data, &mut []).is_err(),
                "decrypted into an empty buffer"
            );
        }
        assert_eq!(
            &fingerprint(session),
            fp,
            "a failed decryption changed the session"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// olm_decrypt
// ---------------------------------------------------------------------------------------------------

/// A first message for Bob's account, with what a successful inbound session must show.
#[derive(Clone)]
struct First {
    message: Genuine,
    /// Made with a one-time key (works once) rather than the fallback key (works every time).
    one_time: bool,
    keys: SessionKeys,
}

/// Alice and Bob with an established session, genuine messages still in flight both ways, and first
/// messages of two more sessions (one on Bob's unused one-time key, one on his fallback key) not yet
/// delivered to Bob's account. Each of Bob's account and the two sessions keeps its current
/// fingerprint.
pub struct DecryptFixture {
    rng: FuzzRng,
    alice_identity: Curve25519PublicKey,
    bob_account: Account,
    alice: Session,
    bob: Session,
    /// From Alice, not yet read by Bob: a late pre-key message of the first chain and a skipped one of
    /// the second.
    to_bob: Vec<Genuine>,
    /// From Bob, not yet read by Alice: a skipped one.
    to_alice: Vec<Genuine>,
    first_messages: Vec<First>,
    /// First messages whose one-time key was used: they must now fail.
    used: Vec<First>,
    /// Fingerprints of Bob's account, Alice's session and Bob's session as they are now.
    account_fp: Vec<u8>,
    alice_fp: Vec<u8>,
    bob_fp: Vec<u8>,
}

impl DecryptFixture {
    /// Builds the fixture deterministically.
    pub fn new() -> Self {
        let mut rng = FuzzRng::new(b"olm decrypt");
        let alice_account = Account::<OLM_MAX_ONE_TIME_KEYS>::new(&mut rng);
        let mut bob_account = Account::<OLM_MAX_ONE_TIME_KEYS>::new(&mut rng);
        bob_account.generate_one_time_keys_with(&mut rng, 2, |_, _| {});
        let otks: Vec<_> = bob_account.one_time_keys().map(|(_, k)| k).collect();
        let _ = bob_account.generate_fallback_key(&mut rng);
        let (_, fallback) = bob_account.fallback_key().expect("a fallback key");
        bob_account.mark_keys_as_published();
        let bob_key = bob_account.curve25519_key();
        let alice_identity = alice_account.curve25519_key();

        let mut alice = alice_account
            .create_outbound_session(&mut rng, &bob_key, &otks[0])
            .expect("outbound");
        let a0 = Genuine::new(&mut alice, &mut rng, b"a0");
        let a1 = Genuine::new(&mut alice, &mut rng, b"a1 late pre-key message");
        assert_eq!(
            (a0.kind, a1.kind),
            (MessageType::PreKey, MessageType::PreKey)
        );
        let (mut bob, pt) =
            create_inbound(&mut bob_account, &alice_identity, &a0.bytes).expect("inbound");
        assert_eq!(pt, a0.plaintext);
        assert_eq!(bob.session_id(), alice.session_id());

        let b0 = Genuine::new(&mut bob, &mut rng, b"b0");
        let b1 = Genuine::new(&mut bob, &mut rng, b"b1 skipped");
        let b2 = Genuine::new(&mut bob, &mut rng, b"b2");
        for b in [&b0, &b2] {
            assert_eq!(
                decrypt(&mut alice, b.kind, &b.bytes).expect("b"),
                b.plaintext
            );
        }
        let a2 = Genuine::new(&mut alice, &mut rng, b"a2 skipped, second chain");
        let a3 = Genuine::new(&mut alice, &mut rng, b"a3");
        assert_eq!(a2.kind, MessageType::Normal);
        assert_eq!(
            decrypt(&mut bob, a3.kind, &a3.bytes).expect("a3"),
            a3.plaintext
        );

        let mut first_messages = Vec::new();
        for (key, one_time, text) in [
            (&otks[1], true, &b"c0 with a one-time key"[..]),
            (&fallback, false, &b"d0 with the fallback key"[..]),
        ] {
            let mut s = alice_account
                .create_outbound_session(&mut rng, &bob_key, key)
                .expect("outbound");
            first_messages.push(First {
                message: Genuine::new(&mut s, &mut rng, text),
                one_time,
                keys: s.session_keys(),
            });
        }
        Self {
            account_fp: fingerprint(&bob_account),
            alice_fp: fingerprint(&alice),
            bob_fp: fingerprint(&bob),
            rng,
            alice_identity,
            bob_account,
            alice,
            bob,
            to_bob: vec![a1, a2],
            to_alice: vec![b1],
            first_messages,
            used: Vec::new(),
        }
    }

    /// Hands `data` as a `kind` message to `session`: it may decrypt only if its (embedded) normal
    /// message is one of `pending`, and then to its plaintext. A pre-key message's outer fields are not
    /// authenticated, so any encoding of them that names this session will do (as in vodozemac). A
    /// failure must leave the session's fingerprint `fp` as it was. Returns whether it decrypted.
    fn try_session(
        session: &mut Session,
        fp: &mut Vec<u8>,
        pending: &mut Vec<Genuine>,
        kind: MessageType,
        data: &[u8],
    ) -> bool {
        match decrypt(session, kind, data) {
            Ok(pt) => {
                let inner = match kind {
                    MessageType::Normal => data,
                    MessageType::PreKey => {
                        assert!(
                            session.matches_pre_key_message(data),
                            "a pre-key message of another session decrypted"
                        );
                        decode_pre_key_message(data)
                            .expect("a decrypted pre-key message decodes")
                            .message
                    }
                };
                let pos = pending
                    .iter()
                    .position(|g| g.inner == inner)
                    .expect("a message we did not produce decrypted");
                assert_eq!(pt, pending.remove(pos).plaintext, "wrong plaintext");
                *fp = fingerprint(session);
                true
            }
            Err(e) => {
                assert_eq!(
                    &fingerprint(session),
                    fp,
                    "a failure changed the session ({e:?})"
                );
                false
            }
        }
    }

    /// Hands `data` to Bob's account as a first message. Returns whether the fixture changed.
    fn try_account(&mut self, data: &[u8]) -> bool {
        let before = one_time_keys(&self.bob_account);
        // From an identity key that is not the sender's: refused before anything else.
        let stranger = Curve25519SecretKey::from_bytes(&[9; 32]).public_key();
        let r = create_inbound(&mut self.bob_account, &stranger, data);
        let e = r
            .map(drop)
            .expect_err("a pre-key message from a stranger decrypted");
        if decode_pre_key_message(data).is_ok_and(|p| p.identity_key != stranger) {
            assert_eq!(e, OlmError::IdentityKeyMismatch.into());
        }
        assert_eq!(
            fingerprint(&self.bob_account),
            self.account_fp,
            "a failed inbound session changed the account ({e:?})"
        );

        match create_inbound(&mut self.bob_account, &self.alice_identity, data) {
            Ok((session, pt)) => {
                let p = decode_pre_key_message(data).expect("a pre-key message");
                let pos = self
                    .first_messages
                    .iter()
                    .position(|f| same_first_message(&f.keys, &f.message.inner, &p))
                    .expect("a first message we did not produce created a session");
                let f = self.first_messages.remove(pos);
                assert_eq!(pt, f.message.plaintext, "wrong plaintext");
                assert_eq!(session.session_keys(), keys_of(&p), "wrong session keys");
                assert_eq!(
                    session.session_id(),
                    keys_of(&p).session_id(),
                    "wrong session id"
                );
                assert!(session.has_received_message());
                let after = one_time_keys(&self.bob_account);
                if f.one_time {
                    let used = session.session_keys().one_time_key;
                    let expected: Vec<_> = before.into_iter().filter(|k| *k != used).collect();
                    assert_eq!(
                        after, expected,
                        "not exactly the one-time key used was removed"
                    );
                    self.account_fp = fingerprint(&self.bob_account);
                    self.used.push(f);
                    true
                } else {
                    assert_eq!(
                        fingerprint(&self.bob_account),
                        self.account_fp,
                        "a fallback key's use changed the account"
                    );
                    // Without a one-time key a first message can be replayed.
                    self.first_messages.push(f);
                    false
                }
            }
            Err(e) => {
                assert_eq!(
                    fingerprint(&self.bob_account),
                    self.account_fp,
                    "a failed inbound session changed the account ({e:?})"
                );
                false
            }
        }
    }

    /// Hands `data` as a normal and as a pre-key message to Bob's and Alice's sessions and as a first
    /// message to Bob's account. Returns whether anything changed.
    fn attempt(&mut self, data: &[u8]) -> bool {
        let mut changed = false;
        for kind in [MessageType::Normal, MessageType::PreKey] {
            changed |= Self::try_session(
                &mut self.bob,
                &mut self.bob_fp,
                &mut self.to_bob,
                kind,
                data,
            );
            changed |= Self::try_session(
                &mut self.alice,
                &mut self.alice_fp,
                &mut self.to_alice,
                kind,
                data,
            );
        }
        changed |= self.try_account(data);
        changed
    }

    /// Decrypts every genuine message still in flight, in both directions, then fresh ones (which
    /// need a DH step on each side); creates a session from each first message left, and checks that
    /// those whose one-time key was used are refused.
    fn verify_live(mut self) {
        for g in &self.to_bob {
            assert_eq!(
                decrypt(&mut self.bob, g.kind, &g.bytes).expect("genuine to Bob"),
                g.plaintext
            );
        }
        for g in &self.to_alice {
            assert_eq!(
                decrypt(&mut self.alice, g.kind, &g.bytes).expect("genuine to Alice"),
                g.plaintext
            );
        }
        let a = Genuine::new(&mut self.alice, &mut self.rng, b"fresh from Alice");
        assert_eq!(a.kind, MessageType::Normal);
        assert_eq!(
            decrypt(&mut self.bob, a.kind, &a.bytes).expect("fresh to Bob"),
            a.plaintext
        );
        let b = Genuine::new(&mut self.bob, &mut self.rng, b"fresh from Bob");
        assert_eq!(
            decrypt(&mut self.alice, b.kind, &b.bytes).expect("fresh to Alice"),
            b.plaintext
        );
        for f in &self.used {
            assert_eq!(
                create_inbound(
                    &mut self.bob_account,
                    &self.alice_identity,
                    &f.message.bytes
                )
                .map(drop),
                Err(OlmError::UnknownOneTimeKey.into()),
                "a one-time key worked twice"
            );
        }
        for f in &self.first_messages {
            let (s, pt) = create_inbound(
                &mut self.bob_account,
                &self.alice_identity,
                &f.message.bytes,
            )
            .expect("genuine first message");
            assert_eq!(pt, f.message.plaintext);
            assert_eq!(s.session_id(), f.keys.session_id());
        }
    }
}

impl Default for DecryptFixture {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for DecryptFixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptFixture")
            .field("to_bob", &self.to_bob.len())
            .field("to_alice", &self.to_alice.len())
            .field("first_messages", &self.first_messages.len())
            .finish_non_exhaustive()
    }
}

/// Decryption checks on a fresh fixture: [`check_decrypt_with`], then, whatever happened, every
/// genuine message in flight (and fresh ones in both directions) must still decrypt.
pub fn check_decrypt(data: &[u8]) {
    let mut f = DecryptFixture::new();
    f.attempt(data);
    f.verify_live();
}

/// Decryption checks: `data` as a normal and as a pre-key message to Bob's and to Alice's side of an
/// established session, and as a first message to Bob's account (from Alice, and from a stranger,
/// which must be refused). Nothing but a message we produced may decrypt (for a pre-key message, its
/// embedded message must be one we produced: the outer fields are not authenticated); a failure must
/// leave each session and the account exactly as it was (its deterministic pickle); a one-time key is
/// removed only by a successful inbound session, and exactly that key; a fallback key's use changes
/// nothing. A fixture something changed in is verified by decrypting every genuine message left, and
/// rebuilt.
pub fn check_decrypt_with(fixture: &mut DecryptFixture, data: &[u8]) {
    if fixture.attempt(data) {
        core::mem::take(fixture).verify_live();
    }
}

/// The genuine messages [`check_decrypt`]'s fixture has in flight, labelled, for building a seed
/// corpus: the pending messages to Bob (and the normal message embedded in the pre-key one), to Alice,
/// and the first messages for Bob's account.
pub fn decrypt_seeds() -> Vec<(String, Vec<u8>)> {
    let f = DecryptFixture::new();
    let mut out = Vec::new();
    for (i, g) in f.to_bob.iter().enumerate() {
        out.push((format!("to-bob-{i}"), g.bytes.clone()));
        if g.kind == MessageType::PreKey {
            out.push((format!("to-bob-{i}-inner"), g.inner.clone()));
        }
    }
    for (i, g) in f.to_alice.iter().enumerate() {
        out.push((format!("to-alice-{i}"), g.bytes.clone()));
    }
    for (i, first) in f.first_messages.iter().enumerate() {
        out.push((format!("first-{i}"), first.message.bytes.clone()));
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// olm_interaction
// ---------------------------------------------------------------------------------------------------

/// The most operations one input drives.
const MAX_OPS: usize = 200;
/// The most messages one input sends (enough to pass [`OLM_MAX_MESSAGE_GAP`] with bursts).
const MAX_MESSAGES: usize = 2 * OLM_MAX_MESSAGE_GAP as usize + 200;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Alice,
    Bob,
}

impl Who {
    const fn peer(self) -> Self {
        match self {
            Self::Alice => Self::Bob,
            Self::Bob => Self::Alice,
        }
    }
}

/// Where the sender is: its current chain (numbered from 0 per sender) and the next index in it.
#[derive(Debug)]
struct SenderModel {
    /// `None` when the next send starts a new chain (after a new chain from the peer was read).
    chain: Option<u32>,
    next_chain: u32,
    next_index: u32,
    /// Whether a message from the peer decrypted: until then the initiator sends pre-key messages.
    received: bool,
    /// Each chain's ratchet key, seen in the headers.
    ratchet_keys: Vec<Option<Curve25519PublicKey>>,
}

impl SenderModel {
    fn new(initiator: bool) -> Self {
        Self {
            chain: initiator.then_some(0),
            next_chain: u32::from(initiator),
            next_index: 0,
            received: !initiator,
            ratchet_keys: Vec::new(),
        }
    }

    fn next(&mut self) -> (u32, u32) {
        let chain = match self.chain {
            Some(c) => c,
            None => {
                let c = self.next_chain;
                self.next_chain += 1;
                self.next_index = 0;
                self.chain = Some(c);
                c
            }
        };
        let index = self.next_index;
        self.next_index += 1;
        (chain, index)
    }

    fn kind(&self) -> MessageType {
        if self.received {
            MessageType::Normal
        } else {
            MessageType::PreKey
        }
    }
}

/// Olm's bounds: vodozemac's, with skipped keys dropped along with their chain.
const OLM_BOUNDS: Bounds = Bounds {
    per_chain: OLM_MAX_SKIPPED_PER_CHAIN,
    total: OLM_MAX_SKIPPED_KEYS,
    gap: OLM_MAX_MESSAGE_GAP,
    drop_with_chain: true,
};

#[derive(Debug)]
struct Party {
    session: Option<Session>,
    send: SenderModel,
    receive: ReceiverModel,
}

/// A message in flight or delivered.
#[derive(Clone, Debug)]
struct Message {
    from: Who,
    chain: u32,
    index: u32,
    kind: MessageType,
    plaintext: Vec<u8>,
    bytes: Vec<u8>,
}

struct Interaction {
    rng: FuzzRng,
    /// Alice used Bob's fallback key rather than his one-time key.
    fallback: bool,
    alice_identity: Curve25519PublicKey,
    session_id: SessionId,
    bob_account: Account,
    alice: Party,
    bob: Party,
    in_flight: Vec<Message>,
    delivered: Vec<Message>,
    sent: usize,
}

impl Interaction {
    fn new(config_byte: u8) -> Self {
        let fallback = config_byte & 1 == 1;
        let mut rng = FuzzRng::new(&[b'o', b'i', config_byte & 1]);
        let alice_account = Account::<OLM_MAX_ONE_TIME_KEYS>::new(&mut rng);
        let mut bob_account = Account::<OLM_MAX_ONE_TIME_KEYS>::new(&mut rng);
        bob_account.generate_one_time_keys_with(&mut rng, 1, |_, _| {});
        let _ = bob_account.generate_fallback_key(&mut rng);
        let key = if fallback {
            bob_account.fallback_key().map(|(_, k)| k)
        } else {
            bob_account.one_time_keys().next().map(|(_, k)| k)
        }
        .expect("a key");
        bob_account.mark_keys_as_published();
        let session = alice_account
            .create_outbound_session(&mut rng, &bob_account.curve25519_key(), &key)
            .expect("outbound");
        Self {
            rng,
            fallback,
            alice_identity: alice_account.curve25519_key(),
            session_id: session.session_id(),
            bob_account,
            alice: Party {
                session: Some(session),
                send: SenderModel::new(true),
                receive: ReceiverModel::new(OLM_BOUNDS),
            },
            bob: Party {
                session: None,
                send: SenderModel::new(false),
                receive: ReceiverModel::new(OLM_BOUNDS),
            },
            in_flight: Vec::new(),
            delivered: Vec::new(),
            sent: 0,
        }
    }

    fn party(&mut self, who: Who) -> &mut Party {
        match who {
            Who::Alice => &mut self.alice,
            Who::Bob => &mut self.bob,
        }
    }

    fn send(&mut self, from: Who, len: usize) {
        if self.sent >= MAX_MESSAGES {
            return;
        }
        let counter = self.sent;
        let mut plaintext: Vec<u8> = (0..len).map(|i| (counter + i) as u8).collect();
        plaintext.extend_from_slice(&counter.to_be_bytes());
        let Self {
            rng, alice, bob, ..
        } = self;
        let party = match from {
            Who::Alice => alice,
            Who::Bob => bob,
        };
        let Some(session) = party.session.as_mut() else {
            return; // Bob cannot speak before he has a session.
        };
        let expected_kind = party.send.kind();
        let (kind, bytes) = encrypt(session, rng, &plaintext);
        assert_eq!(
            kind, expected_kind,
            "pre-key messages differ from the model"
        );
        let (chain, index) = party.send.next();
        check_header(&mut party.send, session, kind, &bytes, chain, index);
        self.sent += 1;
        self.in_flight.push(Message {
            from,
            chain,
            index,
            kind,
            plaintext,
            bytes,
        });
    }

    /// Hands `bytes` as a `kind` message to `to`: to its session, or (Bob before his first message) to
    /// his account. A failure must change nothing.
    fn receive(
        &mut self,
        to: Who,
        kind: MessageType,
        bytes: &[u8],
        may_fail: bool,
    ) -> Result<Vec<u8>, Error> {
        let Self {
            bob_account,
            alice,
            bob,
            alice_identity,
            session_id,
            fallback,
            ..
        } = self;
        let party = match to {
            Who::Alice => alice,
            Who::Bob => bob,
        };
        if let Some(session) = party.session.as_mut() {
            // Only a delivery that may fail needs the state before it (a pickle per delivery would
            // dominate the run time); one that must succeed and fails is reported by the caller.
            let before = may_fail.then(|| fingerprint(session));
            let r = decrypt(session, kind, bytes);
            if let (Err(e), Some(before)) = (&r, before) {
                assert_eq!(
                    fingerprint(session),
                    before,
                    "a failure ({e:?}) changed the session"
                );
            }
            return r;
        }
        assert_eq!(to, Who::Bob, "Alice always has a session");
        let before = fingerprint(bob_account);
        let keys_before = one_time_keys(bob_account);
        match create_inbound(bob_account, alice_identity, bytes) {
            Ok((session, pt)) => {
                assert_eq!(
                    kind,
                    MessageType::PreKey,
                    "a normal message created a session"
                );
                assert_eq!(session.session_id(), *session_id, "wrong session");
                if *fallback {
                    assert_eq!(
                        fingerprint(bob_account),
                        before,
                        "a fallback key's use changed the account"
                    );
                } else {
                    assert_eq!(keys_before.len(), 1);
                    assert!(
                        one_time_keys(bob_account).is_empty(),
                        "the one-time key survived its use"
                    );
                }
                party.session = Some(session);
                Ok(pt)
            }
            Err(e) => {
                assert_eq!(
                    fingerprint(bob_account),
                    before,
                    "a failure ({e:?}) changed the account"
                );
                Err(e)
            }
        }
    }

    /// Updates the model after `m` decrypted, and compares it with the receiver's session.
    fn accepted(&mut self, m: &Message) {
        let party = self.party(m.from.peer());
        if party.receive.accept(m.chain, m.index) {
            party.send.chain = None;
        }
        party.send.received = true;
        let session = party.session.as_ref().expect("a session after a success");
        assert!(session.has_received_message());
        assert_eq!(
            session.ratchet.receiving_chains(),
            party.receive.chains.len(),
            "receiving chains differ from the model"
        );
        assert_eq!(
            session.ratchet.skipped_keys(),
            party.receive.skipped.len(),
            "skipped keys differ from the model"
        );
    }

    /// The first delivery of the `pos`-th newest message in flight.
    fn deliver_newest(&mut self, pos: usize) {
        let len = self.in_flight.len();
        if len > 0 {
            self.deliver(len - 1 - pos % len);
        }
    }

    /// The first delivery of the `pos`-th message in flight.
    fn deliver(&mut self, pos: usize) {
        if self.in_flight.is_empty() {
            return;
        }
        let m = self.in_flight.remove(pos % self.in_flight.len());

        let to = m.from.peer();
        let expect = self.party(to).receive.predict(m.chain, m.index);
        let has_secret = self.party(to).send.chain.is_some();
        let r = self.receive(to, m.kind, &m.bytes, expect != Expect::Held);
        let ctx = || format!("{:?} chain {} index {}", m.from, m.chain, m.index);
        match expect {
            Expect::Held => {
                let pt = r.unwrap_or_else(|e| panic!("genuine message failed: {e:?} ({})", ctx()));
                assert_eq!(pt, m.plaintext, "wrong plaintext ({})", ctx());
                self.accepted(&m);
            }
            Expect::NotFound => assert_eq!(
                r.map(drop),
                Err(RatchetError::MessageKeyNotFound.into()),
                "key evicted ({})",
                ctx()
            ),
            Expect::TooFarAhead => assert_eq!(
                r.map(drop),
                Err(RatchetError::TooFarAhead.into()),
                "({})",
                ctx()
            ),
            Expect::ChainGone => {
                // A message from a chain no longer kept looks like one from a new chain: without a
                // ratchet secret (nothing sent since the last step) that is `UnexpectedRatchetKey`;
                // otherwise the DH step runs and the MAC fails (after the gap check).
                let e = r.expect_err("a message of a dropped chain decrypted");
                let expected: Error = if !has_secret {
                    RatchetError::UnexpectedRatchetKey.into()
                } else if m.index > OLM_MAX_MESSAGE_GAP {
                    RatchetError::TooFarAhead.into()
                } else {
                    OlmError::Authentication.into()
                };
                assert_eq!(e, expected, "for a dropped chain ({})", ctx());
            }
        }
        self.delivered.push(m);
    }

    /// A delivered message again: never decrypts. A pre-key message is also handed to Bob's account:
    /// refused if it used the one-time key (gone), a new session if it used the fallback key.
    fn replay(&mut self, pos: usize) {
        if self.delivered.is_empty() {
            return;
        }
        let m = self.delivered[pos % self.delivered.len()].clone();
        let to = m.from.peer();
        let r = self.receive(to, m.kind, &m.bytes, true);
        let e = r.expect_err("a replayed message decrypted");
        if self.party(to).receive.knows_chain(m.chain) {
            assert_eq!(
                e,
                RatchetError::MessageKeyNotFound.into(),
                "replay of {:?} chain {} index {}",
                m.from,
                m.chain,
                m.index
            );
        }
        if m.kind == MessageType::PreKey && self.bob.session.is_some() {
            let before = fingerprint(&self.bob_account);
            let r = create_inbound(&mut self.bob_account, &self.alice_identity, &m.bytes);
            if !self.fallback {
                assert_eq!(
                    r.map(drop),
                    Err(OlmError::UnknownOneTimeKey.into()),
                    "a used one-time key"
                );
            } else if m.index > OLM_MAX_MESSAGE_GAP {
                assert_eq!(r.map(drop), Err(RatchetError::TooFarAhead.into()));
            } else {
                let (s, pt) = r.expect("a fallback key works again");
                assert_eq!(pt, m.plaintext);
                assert_eq!(s.session_id(), self.session_id);
            }
            assert_eq!(
                fingerprint(&self.bob_account),
                before,
                "the account changed"
            );
        }
    }

    fn tamper(&mut self, pos: usize, at: usize, xor: u8) {
        if self.in_flight.is_empty() {
            return;
        }
        let pos = pos % self.in_flight.len();
        let m = &self.in_flight[pos];
        let (from, chain, index, kind) = (m.from, m.chain, m.index, m.kind);
        let mut bytes = m.bytes.clone();
        let at = at % bytes.len();
        bytes[at] ^= if xor == 0 { 0x80 } else { xor };
        if from == Who::Alice && self.bob.session.is_none() {
            self.tamper_first_message(&bytes);
            return;
        }
        let r = self.receive(from.peer(), kind, &bytes, true);
        assert!(
            r.is_err(),
            "a tampered message decrypted: {from:?} chain {chain} index {index}, byte {at} of {}",
            bytes.len()
        );
    }

    /// A tampered first message, to a copy of Bob's account (so that the conversation goes on with the
    /// real one): it never creates a session (every byte is authenticated, bound by the triple DH, or
    /// checked by the decoder), and the failure changes nothing.
    fn tamper_first_message(&mut self, bytes: &[u8]) {
        let fp = fingerprint(&self.bob_account);
        let mut copy = fp.clone();
        let mut account: Account = pickle::from_pickle(&PICKLE_KEY, &mut copy).expect("unpickling");
        match create_inbound(&mut account, &self.alice_identity, bytes) {
            Ok(_) => panic!("a tampered first message created a session"),
            Err(e) => assert_eq!(
                fingerprint(&account),
                fp,
                "a failure ({e:?}) changed the account"
            ),
        }
    }

    /// A message in flight delivered with the other transport type: refused, nothing changes (it
    /// stays in flight).
    fn wrong_type(&mut self, pos: usize) {
        if self.in_flight.is_empty() {
            return;
        }
        let m = self.in_flight[pos % self.in_flight.len()].clone();
        let to = m.from.peer();
        if self.party(to).session.is_none() {
            return;
        }
        let kind = match m.kind {
            MessageType::Normal => MessageType::PreKey,
            MessageType::PreKey => MessageType::Normal,
        };
        let r = self.receive(to, kind, &m.bytes, true);
        assert!(r.is_err(), "a message decrypted with the wrong type");
    }

    /// Pickles and unpickles one side's session (or Bob's account before he has one): the copy pickles
    /// to the same bytes, and a pickle with a flipped byte is refused.
    fn pickle_round_trip(&mut self, who: Who, at: usize) {
        fn round_trip<T: Pickled>(value: &T, at: usize) -> T {
            let p = fingerprint(value);
            let mut copy = p.clone();
            let back: T = pickle::from_pickle(&PICKLE_KEY, &mut copy).expect("unpickling");
            assert_eq!(
                fingerprint(&back),
                p,
                "an unpickled copy pickles differently"
            );
            let mut bad = p.clone();
            let at = at % bad.len();
            bad[at] ^= 1;
            assert!(
                pickle::from_pickle::<T>(&PICKLE_KEY, &mut bad).is_err(),
                "a tampered pickle opened (byte {at})"
            );
            back
        }
        let party = match who {
            Who::Alice => &mut self.alice,
            Who::Bob => &mut self.bob,
        };
        match &party.session {
            Some(s) => party.session = Some(round_trip(s, at)),
            None => self.bob_account = round_trip(&self.bob_account, at),
        }
    }

    fn drop_message(&mut self, pos: usize) {
        if !self.in_flight.is_empty() {
            let len = self.in_flight.len();
            self.in_flight.remove(pos % len);
        }
    }
}

/// The header shows the chain's ratchet key and the index: they must match the model (one ratchet key
/// per chain, a fresh one per chain, indices counting from zero), and a pre-key message must name the
/// session.
fn check_header(
    model: &mut SenderModel,
    session: &Session,
    kind: MessageType,
    bytes: &[u8],
    chain: u32,
    index: u32,
) {
    if kind == MessageType::PreKey {
        assert!(
            session.matches_pre_key_message(bytes),
            "our own pre-key message names another session"
        );
    }
    let inner = inner_of(kind, bytes);
    let header = decode_message(&inner).expect("our own message decodes");
    assert_eq!(
        header.index,
        u64::from(index),
        "index differs from the model"
    );
    let chain = chain as usize;
    if model.ratchet_keys.len() <= chain {
        model.ratchet_keys.resize(chain + 1, None);
    }
    match model.ratchet_keys[chain] {
        Some(k) => assert_eq!(k, header.ratchet_key, "ratchet key changed within a chain"),
        None => {
            assert!(
                !model.ratchet_keys.contains(&Some(header.ratchet_key)),
                "a ratchet key was reused for a new chain"
            );
            model.ratchet_keys[chain] = Some(header.ratchet_key);
        }
    }
}

/// A two-party Olm conversation driven by `data`. The first byte chooses Bob's key for Alice's session
/// (bit 0: the fallback key, else the one-time key); then each operation is a byte and an argument:
///
/// | `op % 14` | operation |
/// |---|---|
/// | 0, 1 | Alice sends (`arg % 64` bytes and a counter) |
/// | 2, 3 | Bob sends (once he has a session) |
/// | 4, 6 | deliver the `arg`-th oldest message in flight |
/// | 5 | deliver the `arg`-th newest message in flight |
/// | 7 | drop the `arg`-th message in flight |
/// | 8 | replay the `arg`-th delivered message (a pre-key one also to Bob's account) |
/// | 9 | deliver a copy of the `arg`-th message in flight with one byte flipped: three more bytes, a big-endian position (modulo the length) and the XOR mask (0 means `0x80`) |
/// | 10 | deliver the `arg % 8 + 1` oldest messages in flight |
/// | 11 | a burst: Alice (`arg` even) or Bob sends `arg / 2 % 64 + 1` messages |
/// | 12 | pickle round trip of Alice's (`arg` even) or Bob's session (Bob's account before he has one); `arg` also picks the byte flipped in a copy that must be refused |
/// | 13 | deliver the `arg`-th message in flight with the other transport type (it stays in flight) |
///
/// At most 200 operations run; then every message still in flight is delivered, oldest first. Each
/// first delivery of a genuine message must decrypt to its plaintext exactly when the model of the
/// Olm bounds (as vodozemac keeps them) says its key is held, and otherwise fail with the matching
/// error; replays, tampered messages and wrong types must fail; a failure must change nothing (the
/// session's or account's deterministic pickle); Alice sends pre-key messages exactly until she has
/// decrypted one; Bob's one-time key goes with his inbound session, his fallback key stays.
pub fn check_interaction(data: &[u8]) {
    let mut input = data.iter().copied();
    let mut t = Interaction::new(input.next().unwrap_or(0));
    for _ in 0..MAX_OPS {
        let Some(op) = input.next() else { break };
        let arg = input.next().unwrap_or(0);
        match op % 14 {
            0 | 1 => t.send(Who::Alice, usize::from(arg % 64)),
            2 | 3 => t.send(Who::Bob, usize::from(arg % 64)),
            4 | 6 => t.deliver(usize::from(arg)),
            5 => t.deliver_newest(usize::from(arg)),
            7 => t.drop_message(usize::from(arg)),
            8 => t.replay(usize::from(arg)),
            9 => {
                let hi = input.next().unwrap_or(0);
                let lo = input.next().unwrap_or(0);
                let xor = input.next().unwrap_or(1);
                let at = usize::from(u16::from_be_bytes([hi, lo]));
                t.tamper(usize::from(arg), at, xor);
            }
            10 => {
                for _ in 0..=(arg % 8) {
                    t.deliver(0);
                }
            }
            11 => {
                let from = if arg % 2 == 0 { Who::Alice } else { Who::Bob };
                for _ in 0..=(arg / 2 % 64) {
                    t.send(from, 0);
                }
            }
            12 => {
                let who = if arg % 2 == 0 { Who::Alice } else { Who::Bob };
                t.pickle_round_trip(who, usize::from(arg) * 7);
            }
            _ => t.wrong_type(usize::from(arg)),
        }
    }
    while !t.in_flight.is_empty() {
        t.deliver(0);
    }
}

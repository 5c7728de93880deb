//! Checks over arbitrary bytes for the native profile, shared by the fuzz targets `native_decode`,
//! `native_decrypt` and `native_interaction` (`fuzz/fuzz_targets/`) and by the corpus replay test
//! (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API, and **test-only**. Unlike the rest of the crate this module panics on
//! purpose: a failed `assert!` is how a fuzzer reports a finding. Its randomness comes from
//! `FuzzRng`, a deterministic generator, so that every run of an input builds the same keys and
//! sessions; nothing here is fit for real use.
//!
//! - [`check_decode`]: bundle decoding (round trip), message sizing and the wire parsing inside
//!   [`Session::decrypt_into`], against fixed sessions that must never change.
//! - [`check_decrypt`]: the input as a message to both sides of an established session and to
//!   [`Account::create_inbound_session_into`]; only messages we produced may decrypt, and a failure
//!   must leave everything as it was (checked by decrypting every genuine message afterwards).
//! - [`check_interaction`]: a two-party conversation driven by the input (sends, deliveries in any
//!   order, drops, replays, tampering), checked against a model of the documented bounds.
#![cfg(feature = "alloc")]

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;

use rand_core::{TryCryptoRng, TryRng};

use super::wire::{
    MESSAGE_PREFIX_LEN, PRE_KEY_PREFIX_LEN, Parsed, is_pre_key_message, parse_message,
};
use super::{Account, PreKeyBundle, Session, SessionConfig};
use crate::Error;
use crate::error::{CodecError, RatchetError, SessionError};
use crate::limits::{
    MAX_RECEIVER_CHAINS, NATIVE_MAX_MESSAGE_GAP, NATIVE_MAX_SKIPPED_KEYS,
    NATIVE_MAX_SKIPPED_PER_CHAIN,
};
use crate::primitives::aead::TAG_LEN;
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::hash::{Sha256, sha256};

// ---------------------------------------------------------------------------------------------------
// A deterministic RNG (test-only)
// ---------------------------------------------------------------------------------------------------

/// **Test-only.** A deterministic "random" generator: block `n` is `SHA-256(seed ‖ n)`.
///
/// Its whole output is predictable from its seed. It exists so that a fuzz input replays to exactly
/// the same keys and messages; `rand_chacha` is only a dev-dependency, so the library cannot use it.
/// Shared with the Olm, verification-flow and key-export checks.
pub(crate) struct FuzzRng {
    seed: [u8; 32],
    counter: u64,
}

impl FuzzRng {
    pub(crate) fn new(label: &[u8]) -> Self {
        Self {
            seed: sha256(label),
            counter: 0,
        }
    }

    fn block(&mut self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(&self.seed).update(&self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        h.finalize()
    }
}

impl TryRng for FuzzRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(32) {
            let block = self.block();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

/// Marked cryptographic only so the library's `CryptoRng` bounds accept it. It is not.
impl TryCryptoRng for FuzzRng {}

impl fmt::Debug for FuzzRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FuzzRng")
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------

/// Everything observable about a session without its secrets. Equal before and after a failed
/// decryption, or the failure changed something.
fn session_snapshot(s: &Session) -> String {
    format!(
        "{s:?} id={:?} pre_key={} he={} chains={} skipped={}",
        s.session_id(),
        s.sends_pre_key_messages(),
        s.has_header_encryption(),
        s.ratchet.receiving_chains(),
        s.ratchet.skipped_keys(),
    )
}

/// A digest of an account's whole state, secrets included (read directly, so that no scalar
/// multiplication is needed). Equal before and after a failed inbound session, or the failure changed
/// something.
fn account_snapshot(a: &Account) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(&*a.identity.to_bytes())
        .update(&*a.signing.seed())
        .update(a.binding_signature.as_bytes())
        .update(&a.next_one_time_id.to_be_bytes());
    for spk in [Some(&a.signed_prekey), a.previous_signed_prekey.as_ref()] {
        match spk {
            Some(k) => h
                .update(&[1])
                .update(&k.id.to_be_bytes())
                .update(&*k.secret.to_bytes())
                .update(k.signature.as_bytes()),
            None => h.update(&[0]),
        };
    }
    for otk in &a.one_time {
        match otk {
            Some(k) => h
                .update(&[1, u8::from(k.published)])
                .update(&k.id.to_be_bytes())
                .update(&*k.secret.to_bytes()),
            None => h.update(&[0]),
        };
    }
    h.finalize()
}

fn config(header_encryption: bool) -> SessionConfig {
    if header_encryption {
        SessionConfig::with_header_encryption()
    } else {
        SessionConfig::plain()
    }
}

fn encrypt(session: &mut Session, rng: &mut FuzzRng, plaintext: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; session.encrypt_len(plaintext.len())];
    let n = session
        .encrypt_into(rng, plaintext, &mut out)
        .expect("encrypting a genuine message");
    assert_eq!(n, out.len(), "encrypt_len disagrees with encrypt_into");
    out
}

fn decrypt(session: &mut Session, message: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = vec![0u8; Session::decrypt_len(message).unwrap_or(message.len())];
    let n = session.decrypt_into(message, &mut out)?;
    out.truncate(n);
    Ok(out)
}

fn create_inbound(account: &mut Account, message: &[u8]) -> Result<(Session, Vec<u8>), Error> {
    let mut out = vec![0u8; Session::decrypt_len(message).unwrap_or(message.len())];
    let (session, n) = account.create_inbound_session_into(message, &mut out)?;
    out.truncate(n);
    Ok((session, out))
}

/// A message we produced, with its plaintext.
#[derive(Clone)]
struct Genuine {
    bytes: Vec<u8>,
    plaintext: Vec<u8>,
}

impl Genuine {
    fn new(session: &mut Session, rng: &mut FuzzRng, plaintext: &[u8]) -> Self {
        Self {
            bytes: encrypt(session, rng, plaintext),
            plaintext: plaintext.to_vec(),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// native_decode
// ---------------------------------------------------------------------------------------------------

/// The sessions [`check_decode_with`] runs `decrypt_into` against: both sides of a plain and of a
/// header-encrypted session, each with nothing left to decrypt. Building it costs a few
/// milliseconds, so a fuzz target keeps one across inputs; the checks assert that it never changes.
pub struct DecodeFixture {
    sessions: Vec<Session>,
}

impl DecodeFixture {
    /// Builds the fixture deterministically.
    pub fn new() -> Self {
        let mut sessions = Vec::new();
        for he in [false, true] {
            let mut rng = FuzzRng::new(if he { b"decode he" } else { b"decode plain" });
            let alice = Account::new(&mut rng);
            let mut bob = Account::new(&mut rng);
            bob.generate_one_time_prekeys(&mut rng, 1);
            let (id, _) = bob.unpublished_one_time_prekeys().next().expect("one key");
            let bundle = bob.prekey_bundle(Some(id)).expect("bundle");
            let mut to_bob = alice
                .create_outbound_session(&mut rng, &bundle, config(he))
                .expect("outbound");
            let first = encrypt(&mut to_bob, &mut rng, b"first");
            let (mut to_alice, pt) = create_inbound(&mut bob, &first).expect("inbound");
            assert_eq!(pt, b"first");
            // Bob replies, so that his side has a sending chain too; the reply is never delivered.
            let _ = encrypt(&mut to_alice, &mut rng, b"reply");
            sessions.push(to_bob);
            sessions.push(to_alice);
        }
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

/// Decoding checks: a [`PreKeyBundle`] that decodes must re-encode to exactly the input;
/// [`Session::decrypt_len`] and [`Session::decrypt_into`] must not panic, must agree on sizes, must
/// not decrypt anything (the fixture has no message in flight), and must leave the sessions unchanged.
pub fn check_decode_with(fixture: &mut DecodeFixture, data: &[u8]) {
    check_bundle(data);

    let len = Session::decrypt_len(data);
    if let Ok(n) = len {
        let overhead = if is_pre_key_message(data) {
            PRE_KEY_PREFIX_LEN + MESSAGE_PREFIX_LEN
        } else {
            MESSAGE_PREFIX_LEN
        };
        assert!(
            n + overhead + TAG_LEN <= data.len(),
            "decrypt_len {n} too large for a {}-byte message",
            data.len()
        );
    }

    for session in &mut fixture.sessions {
        let before = session_snapshot(session);
        let _ = session.matches_pre_key_message(data);
        let mut out = vec![0u8; *len.as_ref().unwrap_or(&data.len())];
        let r = session.decrypt_into(data, &mut out);
        assert!(r.is_err(), "an arbitrary input decrypted");
        if len.is_ok() {
            assert!(
                !matches!(r, Err(Error::Session(SessionError::BufferTooSmall { .. }))),
                "a buffer of decrypt_len bytes was too small: {r:?}"
            );
        }
        assert!(session.decrypt_into(data, &mut []).is_err());
        assert_eq!(
            session_snapshot(session),
            before,
            "a failed decryption changed the session"
        );
    }
}

fn check_bundle(data: &[u8]) {
    let Ok(bundle) = PreKeyBundle::decode(data) else {
        return;
    };
    let n = data.len();
    assert_eq!(
        bundle.encoded_len(),
        n,
        "encoded_len differs from the input's length"
    );
    let mut buf = vec![0u8; n];
    assert_eq!(bundle.encode_into(&mut buf), Ok(n));
    assert_eq!(buf, data, "bundle does not re-encode to its input");
    assert_eq!(bundle.to_bytes(), data);
    let mut small = vec![0xa5u8; n - 1];
    assert_eq!(
        bundle.encode_into(&mut small),
        Err(CodecError::BufferTooSmall { needed: n }.into())
    );
    assert!(small.iter().all(|&b| b == 0xa5), "a refused encode wrote");
    assert_eq!(PreKeyBundle::decode(&buf), Ok(bundle));
    let _ = bundle.identity.verify();
}

// ---------------------------------------------------------------------------------------------------
// native_decrypt
// ---------------------------------------------------------------------------------------------------

/// An established session with genuine messages still in flight in both directions, and first
/// messages of two more sessions not yet delivered to Bob's account.
struct DecryptFixture {
    header_encryption: bool,
    rng: FuzzRng,
    bob_account: Account,
    alice: Session,
    bob: Session,
    /// From Alice, not yet read by Bob: a late pre-key message of the first chain and a skipped one.
    to_bob: Vec<Genuine>,
    /// From Bob, not yet read by Alice: a skipped one.
    to_alice: Vec<Genuine>,
    /// First messages of new sessions for Bob's account: one using a one-time prekey (works once)
    /// and one without (works every time).
    first_messages: Vec<(Genuine, bool)>,
    /// `(ratchet key, index)` pairs whose receive plans fingerprint each side's receiving state.
    bob_probes: Vec<(Curve25519PublicKey, u32)>,
    alice_probes: Vec<(Curve25519PublicKey, u32)>,
    /// The fingerprint of everything, taken when the fixture was built.
    fingerprint: [u8; 32],
}

impl DecryptFixture {
    fn new(header_encryption: bool) -> Self {
        let he = header_encryption;
        let mut rng = FuzzRng::new(if he { b"decrypt he" } else { b"decrypt plain" });
        let alice_account = Account::new(&mut rng);
        let mut bob_account = Account::new(&mut rng);
        bob_account.generate_one_time_prekeys(&mut rng, 3);
        let ids: Vec<u32> = bob_account
            .unpublished_one_time_prekeys()
            .map(|(id, _)| id)
            .collect();
        let bundles: Vec<PreKeyBundle> = [Some(ids[0]), Some(ids[1]), None]
            .into_iter()
            .map(|id| bob_account.prekey_bundle(id).expect("bundle"))
            .collect();

        let mut alice = alice_account
            .create_outbound_session(&mut rng, &bundles[0], config(he))
            .expect("outbound");
        let a_chain0 = alice.ratchet.our_ratchet_key().expect("a sending chain");
        let a0 = Genuine::new(&mut alice, &mut rng, b"a0");
        let a1 = Genuine::new(&mut alice, &mut rng, b"a1 late pre-key message");
        let (mut bob, pt) = create_inbound(&mut bob_account, &a0.bytes).expect("inbound");
        assert_eq!(pt, a0.plaintext);

        let b0 = Genuine::new(&mut bob, &mut rng, b"b0");
        let b_chain0 = bob.ratchet.our_ratchet_key().expect("a sending chain");
        let b1 = Genuine::new(&mut bob, &mut rng, b"b1 skipped");
        let b2 = Genuine::new(&mut bob, &mut rng, b"b2");
        assert_eq!(decrypt(&mut alice, &b0.bytes).expect("b0"), b0.plaintext);
        assert_eq!(decrypt(&mut alice, &b2.bytes).expect("b2"), b2.plaintext);

        let a2 = Genuine::new(&mut alice, &mut rng, b"a2 skipped, second chain");
        let a_chain1 = alice.ratchet.our_ratchet_key().expect("a sending chain");
        let a3 = Genuine::new(&mut alice, &mut rng, b"a3");
        assert_eq!(decrypt(&mut bob, &a3.bytes).expect("a3"), a3.plaintext);

        let mut c = alice_account
            .create_outbound_session(&mut rng, &bundles[1], config(he))
            .expect("outbound c");
        let c0 = Genuine::new(&mut c, &mut rng, b"c0 with a one-time prekey");
        let mut d = alice_account
            .create_outbound_session(&mut rng, &bundles[2], config(he))
            .expect("outbound d");
        let d0 = Genuine::new(&mut d, &mut rng, b"d0 without a one-time prekey");

        // A ratchet key neither side knows: its plan runs a DH step with the side's current ratchet
        // secret and root key.
        let stranger =
            crate::primitives::curve25519::Curve25519SecretKey::from_bytes(&[7; 32]).public_key();
        let far = NATIVE_MAX_MESSAGE_GAP + 10;
        let bob_probes = vec![
            (a_chain0, 0), // used
            (a_chain0, 1), // a1, pending
            (a_chain0, 2), // next
            (a_chain1, 0), // a2, skipped
            (a_chain1, 1), // a3, used
            (a_chain1, 5), // ahead
            (a_chain1, far),
            (stranger, 3),
        ];
        let alice_probes = vec![
            (b_chain0, 0), // used
            (b_chain0, 1), // b1, skipped
            (b_chain0, 2), // used
            (b_chain0, 4), // ahead
            (b_chain0, far),
            (stranger, 0),
        ];
        let mut f = Self {
            header_encryption,
            rng,
            bob_account,
            alice,
            bob,
            to_bob: vec![a1, a2],
            to_alice: vec![b1],
            first_messages: vec![(c0, true), (d0, false)],
            bob_probes,
            alice_probes,
            fingerprint: [0; 32],
        };
        f.fingerprint = f.current_fingerprint();
        f
    }

    /// A digest of every observable part of both sessions and Bob's account, and of the receive
    /// plans (message keys or errors) for the probes: it covers each receiving chain's position, the
    /// skipped keys, the header keys, and through a DH step the root key and current ratchet secret.
    /// Computing it changes nothing.
    fn current_fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(&account_snapshot(&self.bob_account));
        for (s, probes) in [
            (&self.bob, &self.bob_probes),
            (&self.alice, &self.alice_probes),
        ] {
            h.update(session_snapshot(s).as_bytes());
            for (source, key) in s.ratchet.header_keys() {
                h.update(format!("{source:?}").as_bytes()).update(key);
            }
            for (key, index) in probes {
                match s.ratchet.plan_receive(key, *index) {
                    Ok(plan) => {
                        h.update(&[1, u8::from(plan.is_new_chain())])
                            .update(plan.message_key().as_bytes());
                    }
                    Err(e) => {
                        h.update(format!("{e:?}").as_bytes());
                    }
                };
            }
        }
        h.finalize()
    }

    /// Hands `data` to `session`: it may decrypt only if it is one of `pending`, and then to its
    /// plaintext. Returns whether it decrypted.
    fn try_session(session: &mut Session, pending: &mut Vec<Genuine>, data: &[u8]) -> bool {
        let before = session_snapshot(session);
        match decrypt(session, data) {
            Ok(pt) => {
                let pos = pending
                    .iter()
                    .position(|g| g.bytes == data)
                    .expect("a message we did not produce decrypted");
                assert_eq!(pt, pending.remove(pos).plaintext, "wrong plaintext");
                true
            }
            Err(e) => {
                assert!(
                    !matches!(e, Error::Session(SessionError::BufferTooSmall { .. })),
                    "buffer sized by decrypt_len too small"
                );
                assert_eq!(
                    session_snapshot(session),
                    before,
                    "a failure changed the session ({e:?})"
                );
                false
            }
        }
    }

    /// Hands `data` to Bob's session, Alice's session and Bob's account. Returns whether anything
    /// decrypted; if nothing did, everything must be exactly as it was.
    fn attempt(&mut self, data: &[u8]) -> bool {
        let mut changed = Self::try_session(&mut self.bob, &mut self.to_bob, data);
        changed |= Self::try_session(&mut self.alice, &mut self.to_alice, data);

        let before = account_snapshot(&self.bob_account);
        match create_inbound(&mut self.bob_account, data) {
            Ok((_, pt)) => {
                let pos = self
                    .first_messages
                    .iter()
                    .position(|(g, _)| g.bytes == data)
                    .expect("a first message we did not produce created a session");
                let (g, one_time) = self.first_messages.remove(pos);
                assert_eq!(pt, g.plaintext);
                if !one_time {
                    // Without a one-time prekey a first message can be replayed (X3DH §4.2).
                    self.first_messages.push((g, one_time));
                }
                changed = true;
            }
            Err(e) => {
                assert_eq!(
                    account_snapshot(&self.bob_account),
                    before,
                    "a failed inbound session changed the account ({e:?})"
                );
            }
        }
        if !changed {
            assert_eq!(
                self.current_fingerprint(),
                self.fingerprint,
                "a failed decryption changed the ratchet state"
            );
        }
        changed
    }

    /// Decrypts every genuine message still in flight, in both directions, then fresh ones (which
    /// need a DH step on each side), and creates a session from each first message left.
    fn verify_live(mut self) {
        for g in &self.to_bob {
            assert_eq!(
                decrypt(&mut self.bob, &g.bytes).expect("genuine to Bob"),
                g.plaintext
            );
        }
        for g in &self.to_alice {
            assert_eq!(
                decrypt(&mut self.alice, &g.bytes).expect("genuine to Alice"),
                g.plaintext
            );
        }
        let a = Genuine::new(&mut self.alice, &mut self.rng, b"fresh from Alice");
        assert_eq!(
            decrypt(&mut self.bob, &a.bytes).expect("fresh to Bob"),
            a.plaintext
        );
        let b = Genuine::new(&mut self.bob, &mut self.rng, b"fresh from Bob");
        assert_eq!(
            decrypt(&mut self.alice, &b.bytes).expect("fresh to Alice"),
            b.plaintext
        );
        for (g, _) in &self.first_messages {
            let (_, pt) = create_inbound(&mut self.bob_account, &g.bytes).expect("genuine first");
            assert_eq!(pt, g.plaintext);
        }
    }
}

/// The plain and header-encrypted fixtures [`check_decrypt_with`] runs inputs against. Building them
/// costs about ten milliseconds, so a fuzz target keeps them across inputs: an input that decrypts
/// nothing must leave them exactly as they were (checked by fingerprint), and an input that does
/// decrypt something has the affected fixture verified in full and rebuilt.
pub struct DecryptFixtures {
    fixtures: [DecryptFixture; 2],
}

impl DecryptFixtures {
    /// Builds both fixtures deterministically.
    pub fn new() -> Self {
        Self {
            fixtures: [DecryptFixture::new(false), DecryptFixture::new(true)],
        }
    }
}

impl Default for DecryptFixtures {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for DecryptFixtures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptFixtures").finish_non_exhaustive()
    }
}

/// Decryption checks on fresh fixtures: [`check_decrypt_with`], then, whatever happened, every
/// genuine message in flight (and fresh ones in both directions) must still decrypt.
pub fn check_decrypt(data: &[u8]) {
    for he in [false, true] {
        let mut f = DecryptFixture::new(he);
        f.attempt(data);
        f.verify_live();
    }
}

/// Decryption checks: `data` as a message to Bob's and to Alice's side of an established plain and
/// header-encrypted session, and as a first message to Bob's account. Nothing but a message we
/// produced may decrypt; a failure must leave the sessions and the account unchanged: their
/// observable state, and the message keys their ratchets would derive for pending, used, skipped,
/// future and unknown-chain messages. A fixture something decrypted in is verified by decrypting
/// every genuine message left, and rebuilt.
pub fn check_decrypt_with(fixtures: &mut DecryptFixtures, data: &[u8]) {
    for f in &mut fixtures.fixtures {
        if f.attempt(data) {
            let fresh = DecryptFixture::new(f.header_encryption);
            core::mem::replace(f, fresh).verify_live();
        }
    }
}

/// The genuine messages [`check_decrypt`]'s fixtures have in flight, labelled, for building a seed
/// corpus: for each of plain and header-encrypted, the pending messages to Bob, to Alice, and the
/// first messages for Bob's account.
pub fn decrypt_seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for he in [false, true] {
        let f = DecryptFixture::new(he);
        let tag = if he { "he" } else { "plain" };
        for (i, g) in f.to_bob.iter().enumerate() {
            out.push((format!("{tag}-to-bob-{i}"), g.bytes.clone()));
        }
        for (i, g) in f.to_alice.iter().enumerate() {
            out.push((format!("{tag}-to-alice-{i}"), g.bytes.clone()));
        }
        for (i, (g, _)) in f.first_messages.iter().enumerate() {
            out.push((format!("{tag}-first-{i}"), g.bytes.clone()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// native_interaction
// ---------------------------------------------------------------------------------------------------

/// The most operations one input drives.
const MAX_OPS: usize = 200;
/// The most messages one input sends (enough to pass [`NATIVE_MAX_MESSAGE_GAP`] with bursts).
const MAX_MESSAGES: usize = 2 * NATIVE_MAX_MESSAGE_GAP as usize + 200;

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
    /// Each chain's ratchet key, seen in plain headers.
    ratchet_keys: Vec<Option<Curve25519PublicKey>>,
}

impl SenderModel {
    fn new(has_chain: bool) -> Self {
        Self {
            chain: has_chain.then_some(0),
            next_chain: u32::from(has_chain),
            next_index: 0,
            ratchet_keys: vec![None],
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
}

/// What the receiver should make of a genuine message on its first delivery.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Its key is held: it must decrypt.
    Held,
    /// Its key was used or dropped from a chain still kept.
    NotFound,
    /// It is too far ahead of its chain.
    TooFarAhead,
    /// Its chain is no longer kept: it looks like a new chain, and fails.
    ChainGone,
}

/// The bounds of a profile's ratchet, as [`ReceiverModel`] enforces them: the suite's limits from
/// [`crate::limits`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Skipped keys kept per chain (only the last this many before a received message are derived).
    pub(crate) per_chain: usize,
    /// Skipped keys kept in all.
    pub(crate) total: usize,
    /// How far ahead of its chain a message may be.
    pub(crate) gap: u32,
    /// Whether an evicted chain's skipped keys go with it.
    pub(crate) drop_with_chain: bool,
}

/// The native profile's bounds.
const NATIVE_BOUNDS: Bounds = Bounds {
    per_chain: NATIVE_MAX_SKIPPED_PER_CHAIN,
    total: NATIVE_MAX_SKIPPED_KEYS,
    gap: NATIVE_MAX_MESSAGE_GAP,
    drop_with_chain: false,
};

/// The receiver's bounded state as the documentation describes it: the last
/// [`MAX_RECEIVER_CHAINS`] chains with their next index, and skipped keys within [`Bounds`], the
/// oldest evicted first (of the chain when it is full, then overall when the store is).
#[derive(Debug)]
pub(crate) struct ReceiverModel {
    bounds: Bounds,
    /// `(chain, next index)`, newest first.
    pub(crate) chains: Vec<(u32, u32)>,
    /// `(chain, index, age)`.
    pub(crate) skipped: Vec<(u32, u32, u64)>,
    next_age: u64,
}

impl ReceiverModel {
    pub(crate) const fn new(bounds: Bounds) -> Self {
        Self {
            bounds,
            chains: Vec::new(),
            skipped: Vec::new(),
            next_age: 0,
        }
    }

    pub(crate) fn knows_chain(&self, chain: u32) -> bool {
        self.chains.iter().any(|&(c, _)| c == chain)
    }

    pub(crate) fn predict(&self, chain: u32, index: u32) -> Expect {
        if self
            .skipped
            .iter()
            .any(|&(c, i, _)| c == chain && i == index)
        {
            return Expect::Held;
        }
        let gap_ok = |from: u32| index - from <= self.bounds.gap;
        if let Some(&(_, next)) = self.chains.iter().find(|&&(c, _)| c == chain) {
            if index < next {
                Expect::NotFound
            } else if gap_ok(next) {
                Expect::Held
            } else {
                Expect::TooFarAhead
            }
        } else if self
            .chains
            .first()
            .is_none_or(|&(newest, _)| chain > newest)
        {
            if gap_ok(0) {
                Expect::Held
            } else {
                Expect::TooFarAhead
            }
        } else {
            Expect::ChainGone
        }
    }

    /// Applies a successful receive; returns whether it started a new chain. As in the ratchet, a new
    /// chain evicts the oldest one before its own skipped keys are stored.
    pub(crate) fn accept(&mut self, chain: u32, index: u32) -> bool {
        if let Some(pos) = self
            .skipped
            .iter()
            .position(|&(c, i, _)| c == chain && i == index)
        {
            self.skipped.remove(pos);
            return false;
        }
        let keep = u32::try_from(self.bounds.per_chain).unwrap_or(u32::MAX);
        let new_chain = if let Some(slot) = self.chains.iter().position(|&(c, _)| c == chain) {
            let next = self.chains[slot].1;
            self.store_skipped(chain, index.saturating_sub(keep).max(next), index);
            self.chains[slot].1 = index + 1;
            false
        } else {
            if let Some(&(newest, _)) = self.chains.first() {
                assert_eq!(chain, newest + 1, "model: chains skipped");
            }
            self.chains.insert(0, (chain, index + 1));
            if self.chains.len() > MAX_RECEIVER_CHAINS {
                let (gone, _) = self.chains.pop().expect("more than one chain");
                if self.bounds.drop_with_chain {
                    self.skipped.retain(|&(c, _, _)| c != gone);
                }
            }
            self.store_skipped(chain, index.saturating_sub(keep), index);
            true
        };
        assert!(self.skipped.len() <= self.bounds.total, "model: store");
        new_chain
    }

    fn store_skipped(&mut self, chain: u32, from: u32, until: u32) {
        for index in from..until {
            let same = self.skipped.iter().filter(|&&(c, _, _)| c == chain).count();
            if same >= self.bounds.per_chain {
                self.evict_oldest(|c| c == chain);
            }
            if self.skipped.len() >= self.bounds.total {
                self.evict_oldest(|_| true);
            }
            self.skipped.push((chain, index, self.next_age));
            self.next_age += 1;
        }
    }

    fn evict_oldest(&mut self, pred: impl Fn(u32) -> bool) {
        if let Some(pos) = self
            .skipped
            .iter()
            .enumerate()
            .filter(|(_, e)| pred(e.0))
            .min_by_key(|(_, e)| e.2)
            .map(|(i, _)| i)
        {
            self.skipped.remove(pos);
        }
    }
}

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
    plaintext: Vec<u8>,
    bytes: Vec<u8>,
}

struct Interaction {
    rng: FuzzRng,
    header_encryption: bool,
    bob_account: Account,
    alice: Party,
    bob: Party,
    in_flight: Vec<Message>,
    delivered: Vec<Message>,
    sent: usize,
}

impl Interaction {
    fn new(config_byte: u8) -> Self {
        let header_encryption = config_byte & 1 == 1;
        let one_time = config_byte & 2 == 0;
        let mut rng = FuzzRng::new(&[b'i', config_byte & 3]);
        let alice_account = Account::new(&mut rng);
        let mut bob_account = Account::new(&mut rng);
        bob_account.generate_one_time_prekeys(&mut rng, 2);
        let id = bob_account
            .unpublished_one_time_prekeys()
            .next()
            .map(|(id, _)| id);
        let bundle = bob_account
            .prekey_bundle(if one_time { id } else { None })
            .expect("bundle");
        let session = alice_account
            .create_outbound_session(&mut rng, &bundle, config(header_encryption))
            .expect("outbound");
        Self {
            rng,
            header_encryption,
            bob_account,
            alice: Party {
                session: Some(session),
                send: SenderModel::new(true),
                receive: ReceiverModel::new(NATIVE_BOUNDS),
            },
            bob: Party {
                session: None,
                send: SenderModel::new(false),
                receive: ReceiverModel::new(NATIVE_BOUNDS),
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
            rng,
            header_encryption,
            alice,
            bob,
            ..
        } = self;
        let party = match from {
            Who::Alice => alice,
            Who::Bob => bob,
        };
        let Some(session) = party.session.as_mut() else {
            return; // Bob cannot speak before he has a session.
        };
        let bytes = encrypt(session, rng, &plaintext);
        let (chain, index) = party.send.next();
        if !*header_encryption {
            check_plain_header(&mut party.send, &bytes, chain, index);
        }
        self.sent += 1;
        self.in_flight.push(Message {
            from,
            chain,
            index,
            plaintext,
            bytes,
        });
    }

    /// Hands `bytes` to `to`: to its session, or (Bob before his first message) to his account. A
    /// failure must change nothing.
    fn receive(&mut self, to: Who, bytes: &[u8]) -> Result<Vec<u8>, Error> {
        let Self {
            bob_account,
            alice,
            bob,
            ..
        } = self;
        let party = match to {
            Who::Alice => alice,
            Who::Bob => bob,
        };
        if let Some(session) = party.session.as_mut() {
            let before = session_snapshot(session);
            let r = decrypt(session, bytes);
            if let Err(e) = &r {
                assert_eq!(
                    session_snapshot(session),
                    before,
                    "a failure ({e:?}) changed the session"
                );
            }
            return r;
        }
        assert_eq!(to, Who::Bob, "Alice always has a session");
        let before = account_snapshot(bob_account);
        match create_inbound(bob_account, bytes) {
            Ok((session, pt)) => {
                party.session = Some(session);
                Ok(pt)
            }
            Err(e) => {
                assert_eq!(
                    account_snapshot(bob_account),
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
        let session = party.session.as_ref().expect("a session after a success");
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
        let r = self.receive(to, &m.bytes);
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
                // Documented on `Session::decrypt_into`: a message from a chain no longer kept looks
                // like one from a new chain. Without a ratchet secret (nothing sent since the last
                // step) that is `UnexpectedRatchetKey`; otherwise the DH step runs and the body fails
                // to authenticate (after the gap check). With encrypted headers no header key may
                // open it at all, which is `Authentication` too.
                let e = r.expect_err("a message of a dropped chain decrypted");
                let as_new_chain: Error = if !has_secret {
                    RatchetError::UnexpectedRatchetKey.into()
                } else if m.index > NATIVE_MAX_MESSAGE_GAP {
                    RatchetError::TooFarAhead.into()
                } else {
                    SessionError::Authentication.into()
                };
                assert!(
                    e == as_new_chain
                        || (self.header_encryption && e == SessionError::Authentication.into()),
                    "unexpected error {e:?} for a dropped chain ({})",
                    ctx()
                );
            }
        }
        self.delivered.push(m);
    }

    fn replay(&mut self, pos: usize) {
        if self.delivered.is_empty() {
            return;
        }
        let m = self.delivered[pos % self.delivered.len()].clone();
        let to = m.from.peer();
        let r = self.receive(to, &m.bytes);
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
    }

    fn tamper(&mut self, pos: usize, at: usize, xor: u8) {
        if self.in_flight.is_empty() {
            return;
        }
        let pos = pos % self.in_flight.len();
        let m = &self.in_flight[pos];
        let (from, chain, index) = (m.from, m.chain, m.index);
        let to = from.peer();
        let mut bytes = m.bytes.clone();
        let at = at % bytes.len();
        bytes[at] ^= if xor == 0 { 0x80 } else { xor };
        let r = self.receive(to, &bytes);
        assert!(
            r.is_err(),
            "a tampered message decrypted: {from:?} chain {chain} index {index}, byte {at} of {}",
            bytes.len()
        );
    }

    fn drop_message(&mut self, pos: usize) {
        if !self.in_flight.is_empty() {
            let len = self.in_flight.len();
            self.in_flight.remove(pos % len);
        }
    }
}

/// In a plain session, the header shows the chain's ratchet key and the index: they must match the
/// model (one ratchet key per chain, a fresh one per chain, indices counting from zero).
fn check_plain_header(model: &mut SenderModel, bytes: &[u8], chain: u32, index: u32) {
    let inner = if is_pre_key_message(bytes) {
        &bytes[PRE_KEY_PREFIX_LEN..]
    } else {
        bytes
    };
    let Ok(Parsed::Message { header, .. }) = parse_message(inner) else {
        panic!("our own message does not parse");
    };
    assert_eq!(header.index, index, "index differs from the model");
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

/// A two-party conversation driven by `data`. The first byte chooses header encryption (bit 0) and
/// a bundle without a one-time prekey (bit 1); then each operation is a byte and an argument:
///
/// | `op % 12` | operation |
/// |---|---|
/// | 0, 1 | Alice sends (`arg % 64` bytes and a counter) |
/// | 2, 3 | Bob sends |
/// | 4, 6 | deliver the `arg`-th oldest message in flight |
/// | 5 | deliver the `arg`-th newest message in flight |
/// | 7 | drop the `arg`-th message in flight |
/// | 8 | replay the `arg`-th delivered message |
/// | 9 | deliver a copy of the `arg`-th message in flight with one byte flipped: three more bytes, a big-endian position (modulo the length) and the XOR mask (0 means `0x80`) |
/// | 10 | deliver the `arg % 8 + 1` oldest messages in flight |
/// | 11 | a burst: Alice (`arg` even) or Bob sends `arg / 2 % 64 + 1` messages |
///
/// At most 200 operations run; then every message still in flight is delivered, oldest
/// first. Each first delivery of a genuine message must decrypt to its plaintext unless the model of
/// the documented bounds says its key is gone, and then it must fail with the matching error;
/// replays and tampered messages must fail; a failure must change nothing.
pub fn check_interaction(data: &[u8]) {
    let mut input = data.iter().copied();
    let mut t = Interaction::new(input.next().unwrap_or(0));
    for _ in 0..MAX_OPS {
        let Some(op) = input.next() else { break };
        let arg = input.next().unwrap_or(0);
        match op % 12 {
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
            _ => {
                let from = if arg % 2 == 0 { Who::Alice } else { Who::Bob };
                for _ in 0..=(arg / 2 % 64) {
                    t.send(from, 0);
                }
            }
        }
    }
    while !t.in_flight.is_empty() {
        t.deliver(0);
    }
}

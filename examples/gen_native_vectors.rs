//! Generates safemeet's own known-answer vectors for the native profile, so that another
//! implementation can check itself against ours:
//!
//! - `native-x3dh.json`: X3DH as Signal specifies it, with the native profile's choices
//!   (`safemeet::x3dh::native`): every private key, public key, signature, the encoded bundle, the DH
//!   outputs in order, the HKDF input, and the outputs (`SK`, the two header keys, the associated data);
//! - `native-ratchet.json`: scripted conversations through the public session API (`Account`,
//!   `PreKeyBundle`, `Session`), plain and with encrypted headers, with the exact bytes of every
//!   message, an out-of-order delivery and messages that arrive late across a DH ratchet step.
//!
//! Run it with `cargo run --example gen_native_vectors -- test-vectors`. The output depends only on the
//! fixed seeds below, so a second run must reproduce the files byte for byte; `tests/native_vectors.rs`
//! reads them.
//!
//! The RNG handed to the library is a [`RecordingRng`]: a seeded `rand_chacha::ChaCha20Rng` that also
//! records every byte it hands out. Each step of the vectors lists the draws it made, in order, so another
//! implementation can replay the exact randomness without ChaCha20 and without matching our call
//! pattern. Only the crate's public API is used.
#![allow(clippy::print_stdout)]

use core::convert::Infallible;
use std::path::{Path, PathBuf};

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng, TryCryptoRng, TryRng};
use safemeet::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use safemeet::primitives::ed25519::Ed25519SecretKey;
use safemeet::primitives::hkdf::hkdf_sha256;
use safemeet::ratchet::{NativeSuite, Suite};
use safemeet::session::wire::is_pre_key_message;
use safemeet::session::{Account, IdentityKeys, PreKeyBundle, Session, SessionConfig};
use safemeet::x3dh::native::{self, InitiatorKeys, PreKeyBundleKeys};
use serde::Serialize;

type BoxError = Box<dyn core::error::Error>;

/// Fails the generator with `what` unless `ok`.
fn ensure(ok: bool, what: &str) -> Result<(), BoxError> {
    if ok { Ok(()) } else { Err(what.into()) }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A 32-byte RNG seed: the ASCII `label`, zero-padded.
fn seed(label: &str) -> Result<[u8; 32], BoxError> {
    let mut seed = [0u8; 32];
    seed.get_mut(..label.len())
        .ok_or("seed label longer than 32 bytes")?
        .copy_from_slice(label.as_bytes());
    Ok(seed)
}

// ---------------------------------------------------------------------------------------------------
// The recording RNG

/// A seeded ChaCha20 RNG that records every byte it hands out, one entry per request.
///
/// `next_u32`/`next_u64` are served as 4 or 8 bytes from the same stream, little-endian, and recorded
/// as such, so a replay of the recorded draws gives the same values. (The library only ever calls
/// `fill_bytes`; the generator checks the length of every draw.)
struct RecordingRng {
    inner: ChaCha20Rng,
    draws: Vec<Vec<u8>>,
}

impl RecordingRng {
    fn new(seed: [u8; 32]) -> Self {
        Self {
            inner: ChaCha20Rng::from_seed(seed),
            draws: Vec::new(),
        }
    }

    /// The draws made since the last call.
    fn take(&mut self) -> Vec<Vec<u8>> {
        core::mem::take(&mut self.draws)
    }

    /// The draws made since the last call, which must have exactly the given lengths.
    fn take_exact(&mut self, lengths: &[usize], what: &str) -> Result<Vec<Vec<u8>>, BoxError> {
        let draws = self.take();
        let got: Vec<usize> = draws.iter().map(Vec::len).collect();
        if got != lengths {
            return Err(format!("{what}: expected draws of {lengths:?} bytes, got {got:?}").into());
        }
        Ok(draws)
    }
}

impl TryRng for RecordingRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.inner.fill_bytes(dst);
        self.draws.push(dst.to_vec());
        Ok(())
    }
}

impl TryCryptoRng for RecordingRng {}

/// One recorded draw: which value it became, and its bytes.
#[derive(Serialize)]
struct Draw {
    #[serde(rename = "use")]
    purpose: String,
    bytes: String,
}

fn draw(purpose: impl Into<String>, bytes: &[u8]) -> Draw {
    Draw {
        purpose: purpose.into(),
        bytes: hex(bytes),
    }
}

fn first(draws: &[Vec<u8>]) -> Result<[u8; 32], BoxError> {
    let bytes = draws.first().ok_or("missing draw")?;
    Ok(<[u8; 32]>::try_from(bytes.as_slice())?)
}

// ---------------------------------------------------------------------------------------------------
// native-x3dh.json

const X3DH_SOURCE: &str = "safemeet's own vectors, not a third party's: generated by \
examples/gen_native_vectors.rs (`cargo run --example gen_native_vectors -- test-vectors`) from seeded \
rand_chacha 0.10 ChaCha20Rng instances, through safemeet's public API (safemeet::x3dh::native, \
safemeet::session::PreKeyBundle)";

const RNG_NOTE: &str = "Each case (conversation) runs from rand_chacha 0.10 \
ChaCha20Rng::from_seed(rng_seed); rng_seed is the case's ASCII label zero-padded to 32 bytes. Every \
byte the library drew is listed, one entry per request, in order; `use` names the value the bytes \
became. Replay the listed bytes rather than running ChaCha20: the concatenated draws are the first \
bytes of that ChaCha20Rng's output, but only the listed bytes are normative here.";

const CONSUMERS_NOTE: &str = "How the library consumes randomness (read from src/primitives and \
x25519-dalek 3.0.0): Curve25519SecretKey::generate (x25519-dalek StaticSecret::random_from_rng) draws \
32 bytes and keeps them unmodified as the X25519 secret scalar; clamping (RFC 7748 decodeScalar25519) \
happens inside every scalar multiplication, so the *_secret fields are the raw, unclamped draws. \
Ed25519SecretKey::generate draws 32 bytes and uses them as the RFC 8032 private key (seed); signing \
is deterministic and draws nothing.";

#[derive(Serialize)]
struct X3dhFile {
    source: &'static str,
    description: Vec<&'static str>,
    constants: X3dhConstants,
    cases: Vec<X3dhCase>,
}

#[derive(Serialize)]
struct X3dhConstants {
    curve: &'static str,
    kdf: &'static str,
    salt: String,
    f: String,
    info: String,
    info_text: String,
    okm_length: usize,
    ikm: &'static str,
    okm_split: &'static str,
    ad: &'static str,
    ad_length: usize,
    signatures: &'static str,
    identity_binding_context: String,
    identity_binding_context_text: String,
    signed_prekey_context: String,
    signed_prekey_context_text: String,
    bundle_format: &'static str,
}

#[derive(Serialize)]
struct X3dhCase {
    name: String,
    rng_seed: String,
    random: Vec<Draw>,
    bob: X3dhBob,
    alice: X3dhAlice,
    bundle: String,
    dh: Vec<DhOutput>,
    ikm: String,
    root: String,
    header_key_a: String,
    next_header_key_b: String,
    ad: String,
}

#[derive(Serialize)]
struct X3dhBob {
    ed25519_seed: String,
    ed25519_public: String,
    identity_secret: String,
    identity_public: String,
    identity_binding_signature: String,
    signed_prekey_id: u32,
    signed_prekey_secret: String,
    signed_prekey_public: String,
    signed_prekey_signature: String,
    one_time_prekey: Option<OneTimePrekey>,
}

#[derive(Serialize)]
struct OneTimePrekey {
    id: u32,
    secret: String,
    public: String,
}

#[derive(Serialize)]
struct X3dhAlice {
    ed25519_seed: String,
    ed25519_public: String,
    identity_secret: String,
    identity_public: String,
    ephemeral_secret: String,
    ephemeral_public: String,
}

#[derive(Serialize)]
struct DhOutput {
    name: &'static str,
    secret: &'static str,
    public: &'static str,
    output: String,
}

fn x3dh_file() -> Result<X3dhFile, BoxError> {
    let mut cases = Vec::new();
    for (n, with_opk) in [(1u8, true), (2, false), (3, true), (4, false)] {
        cases.push(x3dh_case(n, with_opk)?);
    }
    Ok(X3dhFile {
        source: X3DH_SOURCE,
        description: vec![
            "Known-answer vectors for X3DH in safemeet's native profile (specs/signal.md section 1 \
             with the choices documented in src/x3dh/native.rs). They were produced by our own \
             implementation: they pin its behaviour so that another implementation can compare \
             itself with it, and are not evidence of correctness by themselves.",
            RNG_NOTE,
            CONSUMERS_NOTE,
            "Per case, the draws are, in order: bob.ed25519_seed, bob.identity_secret (IK_B), \
             bob.signed_prekey_secret (SPK_B), bob.one_time_prekey.secret (OPK_B, only when the case \
             has one), alice.ed25519_seed, alice.identity_secret (IK_A), and alice.ephemeral_secret \
             (EK_A), which x3dh::native::initiate draws itself (32 bytes, after it has verified both \
             bundle signatures).",
            "Computation: bob.identity_binding_signature = Ed25519-Sign(bob.ed25519_seed, \
             identity_binding_context || bob.identity_public); bob.signed_prekey_signature = \
             Ed25519-Sign(bob.ed25519_seed, signed_prekey_context || bob.signed_prekey_public); \
             `bundle` = PreKeyBundle::encode_into (constants.bundle_format). The initiator verifies \
             both signatures, then dh[i].output = X25519(dh[i].secret, dh[i].public) in the listed \
             order; ikm = F || DH1 || DH2 || DH3 (|| DH4 with a one-time prekey); OKM = \
             HKDF-SHA-256(salt, ikm, info, 96); root = OKM[0..32] (X3DH's SK), header_key_a = \
             OKM[32..64] (the header-encryption variant's shared_hka), next_header_key_b = OKM[64..96] \
             (shared_nhkb); ad = IK_A || Ed25519_A || IK_B || Ed25519_B. The responder computes the \
             same values from its secrets and the initiator's public keys.",
            "Byte strings are lowercase hex; integers in the bundle are big-endian u32.",
        ],
        constants: X3dhConstants {
            curve: "X25519 (RFC 7748); all-zero DH outputs are rejected",
            kdf: "HKDF-SHA-256 (RFC 5869)",
            salt: hex(&[0u8; 32]),
            f: hex(&[0xFFu8; 32]),
            info: hex(native::NATIVE_X3DH_INFO),
            info_text: String::from_utf8(native::NATIVE_X3DH_INFO.to_vec())?,
            okm_length: 96,
            ikm: "F || DH1 || DH2 || DH3 [|| DH4]",
            okm_split: "root = OKM[0..32], header_key_a = OKM[32..64], next_header_key_b = OKM[64..96]",
            ad: "alice.identity_public || alice.ed25519_public || bob.identity_public || bob.ed25519_public",
            ad_length: native::AD_LEN,
            signatures: "Ed25519 (RFC 8032), verified strictly (canonical S, no small-order R or key), \
                         over context || the 32 key bytes",
            identity_binding_context: hex(native::IDENTITY_BINDING_CONTEXT),
            identity_binding_context_text: String::from_utf8(
                native::IDENTITY_BINDING_CONTEXT.to_vec(),
            )?,
            signed_prekey_context: hex(native::SIGNED_PREKEY_CONTEXT),
            signed_prekey_context_text: String::from_utf8(native::SIGNED_PREKEY_CONTEXT.to_vec())?,
            bundle_format: "0x01 identity_public[32] ed25519_public[32] identity_binding_signature[64] \
                            signed_prekey_id[4] signed_prekey_public[32] signed_prekey_signature[64] \
                            has_one_time[1] (one_time_prekey_id[4] one_time_prekey_public[32])?; \
                            has_one_time is 0x00 or 0x01; 230 or 266 bytes",
        },
        cases,
    })
}

fn x3dh_case(n: u8, with_opk: bool) -> Result<X3dhCase, BoxError> {
    let label = format!("safemeet native-x3dh case {n}");
    let seed = seed(&label)?;
    let mut rng = RecordingRng::new(seed);
    let mut random = Vec::new();

    let bob_ed = Ed25519SecretKey::generate(&mut rng);
    let d = rng.take_exact(&[32], "Ed25519SecretKey::generate")?;
    ensure(*bob_ed.seed() == first(&d)?, "Ed25519 seed is the draw")?;
    random.push(draw("bob.ed25519_seed", &first(&d)?));
    let mut curve = |rng: &mut RecordingRng, name: &str| -> Result<Curve25519SecretKey, BoxError> {
        let key = Curve25519SecretKey::generate(rng);
        let d = rng.take_exact(&[32], "Curve25519SecretKey::generate")?;
        ensure(*key.to_bytes() == first(&d)?, "X25519 secret is the draw")?;
        random.push(draw(name, &first(&d)?));
        Ok(key)
    };
    let bob_ik = curve(&mut rng, "bob.identity_secret")?;
    let bob_spk = curve(&mut rng, "bob.signed_prekey_secret")?;
    let bob_opk = if with_opk {
        Some(curve(&mut rng, "bob.one_time_prekey.secret")?)
    } else {
        None
    };
    let alice_ed = Ed25519SecretKey::generate(&mut rng);
    let d = rng.take_exact(&[32], "Ed25519SecretKey::generate")?;
    random.push(draw("alice.ed25519_seed", &first(&d)?));
    let alice_ik = Curve25519SecretKey::generate(&mut rng);
    let d = rng.take_exact(&[32], "Curve25519SecretKey::generate")?;
    random.push(draw("alice.identity_secret", &first(&d)?));

    let signed_prekey_id = u32::from(n);
    let one_time_id = 0x0102_0300 + u32::from(n);
    let binding = native::sign_identity_binding(&bob_ed, &bob_ik.public_key());
    let spk_signature = native::sign_prekey(&bob_ed, &bob_spk.public_key());
    let bundle = PreKeyBundle {
        identity: IdentityKeys {
            curve25519: bob_ik.public_key(),
            ed25519: bob_ed.public_key(),
            binding_signature: binding,
        },
        signed_prekey_id,
        signed_prekey: bob_spk.public_key(),
        signed_prekey_signature: spk_signature,
        one_time_prekey: bob_opk.as_ref().map(|k| (one_time_id, k.public_key())),
    };
    let mut bundle_bytes = vec![0u8; bundle.encoded_len()];
    let len = bundle.encode_into(&mut bundle_bytes)?;
    ensure(len == bundle_bytes.len(), "bundle length")?;
    ensure(
        PreKeyBundle::decode(&bundle_bytes)? == bundle,
        "bundle round trip",
    )?;
    let keys = PreKeyBundleKeys {
        identity: bob_ik.public_key(),
        signing_key: bob_ed.public_key(),
        identity_signature: binding,
        signed_prekey: bob_spk.public_key(),
        signed_prekey_signature: spk_signature,
        one_time_prekey: bob_opk.as_ref().map(Curve25519SecretKey::public_key),
    };

    let (secrets, ek, ad) = native::initiate(&mut rng, &alice_ik, &alice_ed.public_key(), &keys)?;
    let d = rng.take_exact(&[32], "x3dh::native::initiate")?;
    random.push(draw("alice.ephemeral_secret", &first(&d)?));
    let alice_ek = Curve25519SecretKey::from_bytes(&first(&d)?);
    ensure(alice_ek.public_key() == ek, "EK_A is the draw")?;

    // The responder must agree (a self-check; the test repeats it).
    let (theirs, their_ad) = native::respond(
        &bob_ik,
        &bob_ed.public_key(),
        &bob_spk,
        bob_opk.as_ref(),
        &InitiatorKeys {
            identity: alice_ik.public_key(),
            signing_key: alice_ed.public_key(),
            ephemeral: ek,
        },
    )?;
    ensure(theirs.root == secrets.root, "responder root")?;
    ensure(their_ad == ad, "responder ad")?;

    let dh = |s: &Curve25519SecretKey, p: &Curve25519SecretKey| -> Result<[u8; 32], BoxError> {
        Ok(*s.diffie_hellman(&p.public_key())?.as_bytes())
    };
    let mut dhs = vec![
        DhOutput {
            name: "DH1",
            secret: "alice.identity_secret",
            public: "bob.signed_prekey_public",
            output: hex(&dh(&alice_ik, &bob_spk)?),
        },
        DhOutput {
            name: "DH2",
            secret: "alice.ephemeral_secret",
            public: "bob.identity_public",
            output: hex(&dh(&alice_ek, &bob_ik)?),
        },
        DhOutput {
            name: "DH3",
            secret: "alice.ephemeral_secret",
            public: "bob.signed_prekey_public",
            output: hex(&dh(&alice_ek, &bob_spk)?),
        },
    ];
    let mut ikm = vec![0xFFu8; 32];
    ikm.extend_from_slice(&dh(&alice_ik, &bob_spk)?);
    ikm.extend_from_slice(&dh(&alice_ek, &bob_ik)?);
    ikm.extend_from_slice(&dh(&alice_ek, &bob_spk)?);
    if let Some(opk) = &bob_opk {
        dhs.push(DhOutput {
            name: "DH4",
            secret: "alice.ephemeral_secret",
            public: "bob.one_time_prekey.public",
            output: hex(&dh(&alice_ek, opk)?),
        });
        ikm.extend_from_slice(&dh(&alice_ek, opk)?);
    }
    let mut okm = [0u8; 96];
    hkdf_sha256(&[0; 32], &ikm, native::NATIVE_X3DH_INFO, &mut okm)?;
    ensure(okm.get(..32) == Some(secrets.root.as_bytes()), "SK by hand")?;
    ensure(
        okm.get(32..64) == Some(secrets.header_key_a.as_bytes()),
        "HKa by hand",
    )?;
    ensure(
        okm.get(64..) == Some(secrets.next_header_key_b.as_bytes()),
        "NHKb by hand",
    )?;

    Ok(X3dhCase {
        name: format!(
            "{label}: {} one-time prekey",
            if with_opk { "with" } else { "without" }
        ),
        rng_seed: hex(&seed),
        random,
        bob: X3dhBob {
            ed25519_seed: hex(&*bob_ed.seed()),
            ed25519_public: hex(bob_ed.public_key().as_bytes()),
            identity_secret: hex(&*bob_ik.to_bytes()),
            identity_public: hex(bob_ik.public_key().as_bytes()),
            identity_binding_signature: hex(binding.as_bytes()),
            signed_prekey_id,
            signed_prekey_secret: hex(&*bob_spk.to_bytes()),
            signed_prekey_public: hex(bob_spk.public_key().as_bytes()),
            signed_prekey_signature: hex(spk_signature.as_bytes()),
            one_time_prekey: bob_opk.as_ref().map(|k| OneTimePrekey {
                id: one_time_id,
                secret: hex(&*k.to_bytes()),
                public: hex(k.public_key().as_bytes()),
            }),
        },
        alice: X3dhAlice {
            ed25519_seed: hex(&*alice_ed.seed()),
            ed25519_public: hex(alice_ed.public_key().as_bytes()),
            identity_secret: hex(&*alice_ik.to_bytes()),
            identity_public: hex(alice_ik.public_key().as_bytes()),
            ephemeral_secret: hex(&*alice_ek.to_bytes()),
            ephemeral_public: hex(ek.as_bytes()),
        },
        bundle: hex(&bundle_bytes),
        dh: dhs,
        ikm: hex(&ikm),
        root: hex(secrets.root.as_bytes()),
        header_key_a: hex(secrets.header_key_a.as_bytes()),
        next_header_key_b: hex(secrets.next_header_key_b.as_bytes()),
        ad: hex(&ad),
    })
}

// ---------------------------------------------------------------------------------------------------
// native-ratchet.json

#[derive(Serialize)]
struct RatchetFile {
    source: &'static str,
    description: Vec<&'static str>,
    constants: RatchetConstants,
    conversations: Vec<Conversation>,
}

#[derive(Serialize)]
struct RatchetConstants {
    x3dh: &'static str,
    ratchet_init: &'static str,
    root_info: String,
    root_info_text: String,
    kdf_rk: &'static str,
    message_key_seed: String,
    chain_key_seed: String,
    chain: &'static str,
    message_keys_info: String,
    message_keys_info_text: &'static str,
    message_keys: &'static str,
    body: &'static str,
    header: &'static str,
    header_encryption: &'static str,
    header_keys: &'static str,
    wire_message: &'static str,
    wire_message_he: &'static str,
    wire_pre_key: &'static str,
    session_id: &'static str,
}

#[derive(Serialize)]
struct Conversation {
    name: String,
    description: &'static str,
    rng_seed: String,
    header_encryption: bool,
    alice: AccountRecord,
    bob: AccountRecord,
    bob_one_time_prekeys: OneTimeRecord,
    bundle: BundleRecord,
    outbound_session: OutboundRecord,
    session_id: String,
    steps: Vec<Step>,
}

#[derive(Serialize)]
struct AccountRecord {
    random: Vec<Draw>,
    identity_secret: String,
    identity_public: String,
    ed25519_seed: String,
    ed25519_public: String,
    identity_binding_signature: String,
    signed_prekey_id: u32,
    signed_prekey_secret: String,
    signed_prekey_public: String,
    signed_prekey_signature: String,
}

#[derive(Serialize)]
struct OneTimeRecord {
    count: usize,
    random: Vec<Draw>,
    keys: Vec<OneTimePrekey>,
}

#[derive(Serialize)]
struct BundleRecord {
    one_time_prekey_id: Option<u32>,
    bytes: String,
}

#[derive(Serialize)]
struct OutboundRecord {
    random: Vec<Draw>,
    base_key: String,
    ratchet_key: String,
}

#[derive(Serialize)]
struct HeaderRecord {
    ratchet_key: String,
    previous_counter: u32,
    index: u32,
}

#[derive(Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum Step {
    Send {
        step: usize,
        from: &'static str,
        message_id: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        plaintext: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        plaintext_hex: Option<String>,
        random: Vec<Draw>,
        pre_key_message: bool,
        header: HeaderRecord,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'static str>,
    },
    Deliver {
        step: usize,
        to: &'static str,
        message_id: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        plaintext: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        plaintext_hex: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'static str>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Party {
    Alice,
    Bob,
}

impl Party {
    const fn name(self) -> &'static str {
        match self {
            Self::Alice => "alice",
            Self::Bob => "bob",
        }
    }
}

#[derive(Clone, Copy)]
enum Text {
    Utf8(&'static str),
    Bytes(&'static [u8]),
}

impl Text {
    const fn bytes(self) -> &'static [u8] {
        match self {
            Self::Utf8(s) => s.as_bytes(),
            Self::Bytes(b) => b,
        }
    }

    const fn utf8(self) -> Option<&'static str> {
        match self {
            Self::Utf8(s) => Some(s),
            Self::Bytes(_) => None,
        }
    }

    fn hex(self) -> Option<String> {
        match self {
            Self::Utf8(_) => None,
            Self::Bytes(b) => Some(hex(b)),
        }
    }
}

enum Act {
    Send(Party, &'static str, Text, Option<&'static str>),
    Deliver(Party, &'static str, Option<&'static str>),
}

const BINARY: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0xfc, 0xfd, 0xfe, 0xff, 0x80, 0x7f, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
];

/// The long script: out-of-order delivery on both sides, and late messages across DH steps.
fn long_script() -> Vec<Act> {
    use Act::{Deliver, Send};
    use Party::{Alice, Bob};
    vec![
        Send(
            Alice,
            "A1",
            Text::Utf8("Hi Bob! This is the first message of a new session."),
            None,
        ),
        Send(
            Alice,
            "A2",
            Text::Utf8("Second message, still a pre-key message."),
            None,
        ),
        Send(Alice, "A3", Text::Bytes(BINARY), Some("binary plaintext")),
        Deliver(
            Bob,
            "A1",
            Some(
                "creates Bob's session (Account::create_inbound_session_into); consumes the one-time prekey if the bundle had one",
            ),
        ),
        Deliver(
            Bob,
            "A3",
            Some("out of order: A2's message key is stored as skipped"),
        ),
        Send(
            Bob,
            "B1",
            Text::Utf8("Hi Alice."),
            Some("Bob's first message: a new ratchet key (DH ratchet step)"),
        ),
        Send(Bob, "B2", Text::Utf8(""), Some("empty plaintext")),
        Deliver(
            Alice,
            "B2",
            Some(
                "out of order: B1's key is stored as skipped; Alice stops sending pre-key messages",
            ),
        ),
        Send(
            Alice,
            "A4",
            Text::Utf8("Got it. Now with a fresh ratchet key."),
            Some("new ratchet key; previous_counter = 3"),
        ),
        Deliver(Bob, "A4", Some("Bob performs a DH ratchet step")),
        Deliver(
            Bob,
            "A2",
            Some(
                "late across Bob's DH ratchet step: a pre-key message from Alice's first chain, served from the skipped keys",
            ),
        ),
        Deliver(
            Alice,
            "B1",
            Some(
                "late: its key was stored as skipped when B2 arrived, and Alice has since started a new sending chain",
            ),
        ),
        Send(
            Bob,
            "B3",
            Text::Utf8("Third chain for Bob's side."),
            Some("new ratchet key; previous_counter = 2"),
        ),
        Send(
            Bob,
            "B4",
            Text::Utf8("And one more on the same chain."),
            None,
        ),
        Deliver(Alice, "B3", None),
        Deliver(Alice, "B4", None),
        Send(
            Alice,
            "A5",
            Text::Utf8("Bye!"),
            Some("new ratchet key; previous_counter = 1"),
        ),
        Deliver(Bob, "A5", None),
    ]
}

/// The short script: a gap of several messages, the newest delivered first.
fn short_script() -> Vec<Act> {
    use Act::{Deliver, Send};
    use Party::{Alice, Bob};
    vec![
        Send(Alice, "A1", Text::Utf8("one"), None),
        Send(Alice, "A2", Text::Utf8("two"), None),
        Send(Alice, "A3", Text::Utf8("three"), None),
        Send(Alice, "A4", Text::Utf8("four"), None),
        Deliver(
            Bob,
            "A4",
            Some("the newest message creates Bob's session; A1 to A3 become skipped keys"),
        ),
        Send(Bob, "B1", Text::Utf8("reply"), Some("new ratchet key")),
        Deliver(Alice, "B1", Some("Alice performs a DH ratchet step")),
        Send(
            Alice,
            "A5",
            Text::Utf8("five"),
            Some("new ratchet key; previous_counter = 4"),
        ),
        Deliver(Bob, "A2", Some("out of order, from the skipped keys")),
        Deliver(Bob, "A5", Some("Bob performs a DH ratchet step")),
        Deliver(Bob, "A1", Some("late across the DH step")),
        Deliver(Bob, "A3", Some("late across the DH step")),
    ]
}

/// What the generator knows of a party's sending chain, for the `header` field.
#[derive(Default)]
struct SenderTrack {
    ratchet_key: Option<Curve25519PublicKey>,
    previous_counter: u32,
    sent: u32,
}

fn account_record(account: &Account, draws: &[Vec<u8>]) -> Result<AccountRecord, BoxError> {
    let [ik, ed, spk] = <&[Vec<u8>; 3]>::try_from(draws)?;
    let ik = Curve25519SecretKey::from_bytes(&<[u8; 32]>::try_from(ik.as_slice())?);
    let ed = Ed25519SecretKey::from_seed(&<[u8; 32]>::try_from(ed.as_slice())?);
    let spk = Curve25519SecretKey::from_bytes(&<[u8; 32]>::try_from(spk.as_slice())?);
    let keys = account.identity_keys();
    ensure(
        keys.curve25519 == ik.public_key(),
        "Account::new: identity key is draw 1",
    )?;
    ensure(
        keys.ed25519 == ed.public_key(),
        "Account::new: Ed25519 seed is draw 2",
    )?;
    let (spk_id, spk_public) = account.signed_prekey();
    ensure(
        spk_public == spk.public_key(),
        "Account::new: signed prekey is draw 3",
    )?;
    let spk_signature = native::sign_prekey(&ed, &spk_public);
    ensure(
        native::verify_prekey(&keys.ed25519, &spk_public, &spk_signature).is_ok(),
        "signed prekey signature",
    )?;
    ensure(
        keys.binding_signature == native::sign_identity_binding(&ed, &keys.curve25519),
        "binding signature",
    )?;
    let names = ["identity_secret", "ed25519_seed", "signed_prekey_secret"];
    Ok(AccountRecord {
        random: names.iter().zip(draws).map(|(n, d)| draw(*n, d)).collect(),
        identity_secret: hex(&*ik.to_bytes()),
        identity_public: hex(keys.curve25519.as_bytes()),
        ed25519_seed: hex(&*ed.seed()),
        ed25519_public: hex(keys.ed25519.as_bytes()),
        identity_binding_signature: hex(keys.binding_signature.as_bytes()),
        signed_prekey_id: spk_id,
        signed_prekey_secret: hex(&*spk.to_bytes()),
        signed_prekey_public: hex(spk_public.as_bytes()),
        signed_prekey_signature: hex(spk_signature.as_bytes()),
    })
}

fn conversation(
    label: &str,
    description: &'static str,
    header_encryption: bool,
    one_time_prekeys: usize,
    script: &[Act],
) -> Result<Conversation, BoxError> {
    let seed = seed(label)?;
    let mut rng = RecordingRng::new(seed);
    let config = if header_encryption {
        SessionConfig::with_header_encryption()
    } else {
        SessionConfig::plain()
    };

    let alice = Account::new(&mut rng);
    let alice_record = account_record(&alice, &rng.take_exact(&[32; 3], "Account::new")?)?;
    let mut bob = Account::new(&mut rng);
    let bob_record = account_record(&bob, &rng.take_exact(&[32; 3], "Account::new")?)?;

    bob.generate_one_time_prekeys(&mut rng, one_time_prekeys);
    let otk_draws = rng.take_exact(&vec![32; one_time_prekeys], "generate_one_time_prekeys")?;
    let mut otk_keys = Vec::new();
    let mut otk_random = Vec::new();
    for (id, (d, (listed_id, public))) in
        (0u32..).zip(otk_draws.iter().zip(bob.unpublished_one_time_prekeys()))
    {
        let secret = Curve25519SecretKey::from_bytes(&<[u8; 32]>::try_from(d.as_slice())?);
        ensure(
            listed_id == id && public == secret.public_key(),
            "one-time prekey order",
        )?;
        otk_random.push(draw(format!("keys[{id}].secret"), d));
        otk_keys.push(OneTimePrekey {
            id,
            secret: hex(d),
            public: hex(public.as_bytes()),
        });
    }
    // The bundle takes the last one-time prekey, so its id is not 0.
    let one_time_id = one_time_prekeys
        .checked_sub(1)
        .map(u32::try_from)
        .transpose()?;
    let bundle = bob.prekey_bundle(one_time_id)?;
    let mut bundle_bytes = vec![0u8; bundle.encoded_len()];
    bundle.encode_into(&mut bundle_bytes)?;

    let mut alice_session = alice.create_outbound_session(&mut rng, &bundle, config)?;
    let d = rng.take_exact(&[32, 32], "create_outbound_session")?;
    let base_key = Curve25519SecretKey::from_bytes(&first(&d)?).public_key();
    let alice_ratchet =
        Curve25519SecretKey::from_bytes(&first(d.get(1..).unwrap_or_default())?).public_key();
    let outbound = OutboundRecord {
        random: vec![
            draw("base_key secret (X3DH EK_A)", &first(&d)?),
            draw(
                "ratchet key secret (the initiator's first ratchet key)",
                d.get(1).ok_or("draw")?,
            ),
        ],
        base_key: hex(base_key.as_bytes()),
        ratchet_key: hex(alice_ratchet.as_bytes()),
    };

    let mut bob_session: Option<Session> = None;
    let mut alice_track = SenderTrack {
        ratchet_key: Some(alice_ratchet),
        ..SenderTrack::default()
    };
    let mut bob_track = SenderTrack::default();
    let mut sent: Vec<(&'static str, Vec<u8>, Text)> = Vec::new();
    let mut steps = Vec::new();
    for (i, act) in script.iter().enumerate() {
        let step = i + 1;
        match *act {
            Act::Send(from, id, text, note) => {
                let session = match from {
                    Party::Alice => &mut alice_session,
                    Party::Bob => bob_session
                        .as_mut()
                        .ok_or("Bob sends before his session exists")?,
                };
                let mut message = vec![0u8; session.encrypt_len(text.bytes().len())];
                let n = session.encrypt_into(&mut rng, text.bytes(), &mut message)?;
                ensure(n == message.len(), "encrypt_len")?;
                let draws = rng.take();
                let track = match from {
                    Party::Alice => &mut alice_track,
                    Party::Bob => &mut bob_track,
                };
                let mut random = Vec::new();
                let mut rest = draws.as_slice();
                let mut previous_counter = track.previous_counter;
                if let Some((d, tail)) = rest.split_first().filter(|(d, _)| d.len() == 32) {
                    let key = Curve25519SecretKey::from_bytes(&<[u8; 32]>::try_from(d.as_slice())?);
                    random.push(draw("ratchet key secret (new sending chain)", d));
                    track.previous_counter = if track.ratchet_key.is_some() {
                        track.sent
                    } else {
                        0
                    };
                    previous_counter = track.previous_counter;
                    track.ratchet_key = Some(key.public_key());
                    track.sent = 0;
                    rest = tail;
                }
                if header_encryption {
                    let (d, tail) = rest.split_first().ok_or("missing header nonce draw")?;
                    ensure(d.len() == 24, "header nonce is 24 bytes")?;
                    random.push(draw("header nonce (XChaCha20-Poly1305)", d));
                    rest = tail;
                }
                ensure(rest.is_empty(), "unexpected draws in encrypt_into")?;
                let ratchet_key = track.ratchet_key.ok_or("no ratchet key")?;
                let header = HeaderRecord {
                    ratchet_key: hex(ratchet_key.as_bytes()),
                    previous_counter,
                    index: track.sent,
                };
                track.sent += 1;
                let pre_key = is_pre_key_message(&message);
                if !header_encryption {
                    // The plaintext header sits right after the version and type bytes.
                    let start = if pre_key { 171 + 2 } else { 2 };
                    let mut expected = ratchet_key.as_bytes().to_vec();
                    expected.extend_from_slice(&header.previous_counter.to_be_bytes());
                    expected.extend_from_slice(&header.index.to_be_bytes());
                    ensure(
                        message.get(start..start + 40) == Some(expected.as_slice()),
                        "tracked header matches the message",
                    )?;
                }
                steps.push(Step::Send {
                    step,
                    from: from.name(),
                    message_id: id,
                    plaintext: text.utf8(),
                    plaintext_hex: text.hex(),
                    random,
                    pre_key_message: pre_key,
                    header,
                    message: hex(&message),
                    note,
                });
                sent.push((id, message, text));
            }
            Act::Deliver(to, id, note) => {
                let (_, message, text) = sent
                    .iter()
                    .find(|(m, _, _)| *m == id)
                    .ok_or("delivery of an unknown message")?;
                let mut out = vec![0u8; Session::decrypt_len(message)?];
                let n = match (to, bob_session.as_mut()) {
                    (Party::Bob, None) => {
                        let (session, n) = bob.create_inbound_session_into(message, &mut out)?;
                        bob_session = Some(session);
                        n
                    }
                    (Party::Bob, Some(session)) => session.decrypt_into(message, &mut out)?,
                    (Party::Alice, _) => alice_session.decrypt_into(message, &mut out)?,
                };
                ensure(out.get(..n) == Some(text.bytes()), "delivery decrypts")?;
                ensure(rng.take().is_empty(), "decryption draws nothing")?;
                steps.push(Step::Deliver {
                    step,
                    to: to.name(),
                    message_id: id,
                    plaintext: text.utf8(),
                    plaintext_hex: text.hex(),
                    note,
                });
            }
        }
    }
    let bob_session = bob_session.ok_or("Bob never received")?;
    ensure(
        bob_session.session_id() == alice_session.session_id(),
        "session ids agree",
    )?;

    Ok(Conversation {
        name: label.to_owned(),
        description,
        rng_seed: hex(&seed),
        header_encryption,
        alice: alice_record,
        bob: bob_record,
        bob_one_time_prekeys: OneTimeRecord {
            count: one_time_prekeys,
            random: otk_random,
            keys: otk_keys,
        },
        bundle: BundleRecord {
            one_time_prekey_id: one_time_id,
            bytes: hex(&bundle_bytes),
        },
        outbound_session: outbound,
        session_id: hex(&alice_session.session_id()),
        steps,
    })
}

fn ratchet_file() -> Result<RatchetFile, BoxError> {
    let long = long_script();
    let short = short_script();
    let conversations = vec![
        conversation(
            "safemeet native-ratchet plain 1",
            "Plain headers, bundle with a one-time prekey; out-of-order delivery on both sides and \
             late messages across DH ratchet steps.",
            false,
            2,
            &long,
        )?,
        conversation(
            "safemeet native-ratchet he 1",
            "Encrypted headers, the same script as the plain conversation.",
            true,
            2,
            &long,
        )?,
        conversation(
            "safemeet native-ratchet plain 2",
            "Plain headers, bundle without a one-time prekey; a gap of three skipped messages, \
             delivered late across a DH ratchet step.",
            false,
            0,
            &short,
        )?,
        conversation(
            "safemeet native-ratchet he 2",
            "Encrypted headers, bundle without a one-time prekey; the short script.",
            true,
            0,
            &short,
        )?,
    ];
    Ok(RatchetFile {
        source: "safemeet's own vectors, not a third party's: generated by \
                 examples/gen_native_vectors.rs (`cargo run --example gen_native_vectors -- \
                 test-vectors`) from seeded rand_chacha 0.10 ChaCha20Rng instances, through \
                 safemeet's public session API (safemeet::session::{Account, PreKeyBundle, Session})",
        description: vec![
            "Scripted conversations of safemeet's native pairwise profile (X3DH, then a Double \
             Ratchet whose messages are sealed with ChaCha20-Poly1305, optionally with encrypted \
             headers), with the exact bytes of every message. Produced by our own implementation: \
             they pin its behaviour so that another implementation can compare itself with it, and \
             are not evidence of correctness by themselves.",
            RNG_NOTE,
            CONSUMERS_NOTE,
            "One RNG serves both parties of a conversation, in this order: Account::new for Alice \
             then for Bob (each draws 32 bytes for the X25519 identity secret, 32 for the Ed25519 \
             seed, 32 for the X25519 signed prekey secret, id 0); Bob's generate_one_time_prekeys \
             (32 bytes per key, ids from 0); Alice's create_outbound_session (32 bytes for the X3DH \
             ephemeral EK_A, drawn after both bundle signatures verified, then 32 for her first \
             ratchet key); then each send step in order. Session::encrypt_into draws 32 bytes for a \
             new ratchet key when the sender has no sending chain (Bob's first message, and a \
             party's first message after it received the peer's new ratchet key), then, with \
             header encryption, 24 bytes for the header nonce. Decryption, inbound session \
             creation, signing and bundle encoding draw nothing.",
            "Steps run in order. `send`: the sender's session encrypts `plaintext` (UTF-8) or \
             `plaintext_hex` with the listed draws and must produce `message` exactly; `header` is \
             the message's plaintext header (sealed inside header-encrypted messages). `deliver`: \
             the recipient receives the earlier message `message_id` and must decrypt it to the \
             given plaintext. Bob's first delivery creates his session from the pre-key message \
             (Account::create_inbound_session_into, with the keys in `bob`, \
             `bob_one_time_prekeys` and `bundle`); later deliveries, pre-key messages included, go \
             to the session. Both sessions end with `session_id`.",
            "The derivations and the wire format are in `constants`. Byte strings are lowercase \
             hex; integers on the wire are big-endian u32.",
        ],
        constants: RatchetConstants {
            x3dh: "as in native-x3dh.json, with the bundle in `bundle` and the initiator's \
                   ephemeral secret EK_A from outbound_session.random[0]; SK = root, \
                   shared_hka = header_key_a, shared_nhkb = next_header_key_b, AD = ad",
            ratchet_init: "Double Ratchet section 3.3/4: the responder's first ratchet key pair is \
                           its signed prekey; the initiator draws its first ratchet key and runs \
                           KDF_RK(SK, X25519(its ratchet secret, SPK_B)) for its first sending \
                           chain. A DH ratchet step on receipt and the sending half on the next \
                           send use the same KDF_RK.",
            root_info: hex(NativeSuite::ROOT_INFO),
            root_info_text: String::from_utf8(NativeSuite::ROOT_INFO.to_vec())?,
            kdf_rk: "OKM = HKDF-SHA-256(salt = root key, IKM = DH output, info = root_info, L = 64, \
                     or 96 with header encryption); new root key = OKM[0..32], chain key = \
                     OKM[32..64], next header key = OKM[64..96]",
            message_key_seed: hex(&[0x01]),
            chain_key_seed: hex(&[0x02]),
            chain: "message key = HMAC-SHA-256(chain key, message_key_seed); next chain key = \
                    HMAC-SHA-256(chain key, chain_key_seed); the first message of a chain has \
                    index 0",
            message_keys_info: hex(b"safemeet native v1 message keys"),
            message_keys_info_text: "safemeet native v1 message keys",
            message_keys: "OKM = HKDF-SHA-256(salt = empty (HashLen zero bytes), IKM = message key, \
                           info = message_keys_info, L = 44); ChaCha20-Poly1305 key = OKM[0..32], \
                           nonce = OKM[32..44]",
            body: "ciphertext || tag = ChaCha20-Poly1305 (RFC 8439) of the plaintext with AAD = \
                   AD (128 bytes) || every byte of the message before the ciphertext, starting at \
                   its first byte; in a pre-key message that includes the whole pre-key part",
            header: "ratchet_key[32] previous_counter[4] index[4]; previous_counter is the number \
                     of messages in the sender's previous sending chain (0 before it had one)",
            header_encryption: "the 40-byte header is sealed with XChaCha20-Poly1305 under the \
                                sending chain's header key, nonce = the 24 drawn bytes, AAD = 0x01 \
                                0x03; the receiver tries its receiving chains' header keys, then its \
                                next receiving header key (which announces a DH step)",
            header_keys: "as Double Ratchet section 4: the initiator starts with HKs = \
                          header_key_a and NHKr = next_header_key_b, the responder with NHKs = \
                          next_header_key_b and NHKr = header_key_a; the initiator's first KDF_RK \
                          gives its NHKs. A sending step seals the new chain under the current NHKs \
                          and replaces NHKs with KDF_RK's next header key; a receiving step opens \
                          the new chain with NHKr and replaces NHKr the same way",
            wire_message: "0x01 0x01 header[40] ciphertext tag[16]",
            wire_message_he: "0x01 0x03 nonce[24] sealed_header[40] header_tag[16] ciphertext \
                              tag[16]",
            wire_pre_key: "0x01 (0x02 | 0x04 with encrypted headers) identity_public[32] \
                           ed25519_public[32] identity_binding_signature[64] base_key[32] \
                           signed_prekey_id[4] has_one_time[1] one_time_prekey_id[4] (0 when \
                           absent) message (type 0x01, or 0x03 with encrypted headers)",
            session_id: "SHA-256(AD || base_key)",
        },
        conversations,
    })
}

// ---------------------------------------------------------------------------------------------------

fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), BoxError> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: cargo run --example gen_native_vectors -- <out dir>")?;
    let x3dh = x3dh_file()?;
    let ratchet = ratchet_file()?;
    write_json(&dir, "native-x3dh.json", &x3dh)?;
    write_json(&dir, "native-ratchet.json", &ratchet)?;
    let messages: usize = ratchet
        .conversations
        .iter()
        .map(|c| {
            c.steps
                .iter()
                .filter(|s| matches!(s, Step::Send { .. }))
                .count()
        })
        .sum();
    println!(
        "{} X3DH cases, {} conversations, {} messages",
        x3dh.cases.len(),
        ratchet.conversations.len(),
        messages
    );
    Ok(())
}

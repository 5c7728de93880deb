//! safemeet's own native-profile vectors (`test-vectors/native-x3dh.json`, `native-ratchet.json`, written by `examples/gen_native_vectors.rs`), replayed three ways.
//!
//! (a) X3DH: from the recorded private keys, `x3dh::native::initiate` (fed the recorded ephemeral bytes
//! by a replaying RNG) and `respond` give exactly the recorded secrets and associated data.
//! (b) Conversations: the public session API, fed every recorded random draw, reproduces every message
//! byte for byte, and every delivery decrypts to the recorded plaintext.
//! (c) From first principles: X25519, HKDF, HMAC and (X)ChaCha20-Poly1305 from `safemeet::primitives`
//! alone, following the derivations the files' `constants` describe, recompute X3DH's outputs and every
//! message of every conversation. This pins the format for anyone implementing it from the JSON.
//!
//! The vectors are ours, not a third party's: they detect changes in our behaviour, and let other
//! implementations compare themselves with it. Any changed byte in them makes a test here fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

mod common;

use common::{arr, hex};
use std::collections::HashMap;
use std::convert::Infallible;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng, TryCryptoRng, TryRng};
use safemeet::primitives::aead;
use safemeet::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use safemeet::primitives::ed25519::{Ed25519SecretKey, Ed25519Signature};
use safemeet::primitives::hash::Sha256;
use safemeet::primitives::hkdf::hkdf_sha256;
use safemeet::primitives::hmac::hmac_sha256;
use safemeet::ratchet::{NativeSuite, Suite};
use safemeet::session::{Account, IdentityKeys, PreKeyBundle, Session, SessionConfig};
use safemeet::x3dh::native::{self, InitiatorKeys, PreKeyBundleKeys};
use serde::Deserialize;

const X3DH_JSON: &str = include_str!("../test-vectors/native-x3dh.json");
const RATCHET_JSON: &str = include_str!("../test-vectors/native-ratchet.json");

fn curve_secret(s: &str) -> Curve25519SecretKey {
    Curve25519SecretKey::from_bytes(&arr(s))
}

fn curve_public(s: &str) -> Curve25519PublicKey {
    Curve25519PublicKey::from_bytes(arr(s))
}

fn x25519(secret: &str, public: &[u8; 32]) -> [u8; 32] {
    *curve_secret(secret)
        .diffie_hellman(&Curve25519PublicKey::from_bytes(*public))
        .unwrap()
        .as_bytes()
}

fn hkdf<const N: usize>(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; N] {
    let mut okm = [0u8; N];
    hkdf_sha256(salt, ikm, info, &mut okm).unwrap();
    okm
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---------------------------------------------------------------------------------------------------
// The replaying RNG

/// Hands out recorded draws, one per request, in order; a request of another length, a request after
/// the last draw, and (in [`ReplayRng::finish`]) an unused draw all fail the test.
struct ReplayRng {
    draws: Vec<Vec<u8>>,
    next: usize,
    what: String,
}

impl ReplayRng {
    fn new(draws: &[Draw], what: impl Into<String>) -> Self {
        Self {
            draws: draws.iter().map(|d| hex(&d.bytes)).collect(),
            next: 0,
            what: what.into(),
        }
    }

    fn finish(self) {
        assert_eq!(
            self.next,
            self.draws.len(),
            "{}: not every recorded draw was used",
            self.what
        );
    }
}

impl TryRng for ReplayRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let draw = self
            .draws
            .get(self.next)
            .unwrap_or_else(|| panic!("{}: more randomness requested than recorded", self.what));
        assert_eq!(
            draw.len(),
            dst.len(),
            "{}: draw {} has another length",
            self.what,
            self.next
        );
        dst.copy_from_slice(draw);
        self.next += 1;
        Ok(())
    }
}

impl TryCryptoRng for ReplayRng {}

/// The concatenated draws must be the start of ChaCha20Rng's output for the recorded seed.
fn check_seed(seed: &str, draws: &[&Draw], what: &str) {
    let recorded: Vec<u8> = draws.iter().flat_map(|d| hex(&d.bytes)).collect();
    let mut stream = vec![0u8; recorded.len()];
    ChaCha20Rng::from_seed(arr(seed)).fill_bytes(&mut stream);
    assert_eq!(
        stream, recorded,
        "{what}: draws are not the seed's ChaCha20 stream"
    );
}

// ---------------------------------------------------------------------------------------------------
// The files

#[derive(Deserialize)]
struct Draw {
    #[serde(rename = "use")]
    purpose: String,
    bytes: String,
}

#[derive(Deserialize)]
struct X3dhFile {
    source: String,
    description: Vec<String>,
    constants: X3dhConstants,
    cases: Vec<X3dhCase>,
}

#[derive(Deserialize)]
struct X3dhConstants {
    salt: String,
    f: String,
    info: String,
    info_text: String,
    okm_length: usize,
    ad_length: usize,
    identity_binding_context: String,
    signed_prekey_context: String,
}

#[derive(Deserialize)]
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

#[derive(Deserialize)]
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

#[derive(Deserialize)]
struct OneTimePrekey {
    id: u32,
    secret: String,
    public: String,
}

#[derive(Deserialize)]
struct X3dhAlice {
    ed25519_seed: String,
    ed25519_public: String,
    identity_secret: String,
    identity_public: String,
    ephemeral_secret: String,
    ephemeral_public: String,
}

#[derive(Deserialize)]
struct DhOutput {
    name: String,
    secret: String,
    public: String,
    output: String,
}

#[derive(Deserialize)]
struct RatchetFile {
    source: String,
    description: Vec<String>,
    constants: RatchetConstants,
    conversations: Vec<Conversation>,
}

#[derive(Deserialize)]
struct RatchetConstants {
    root_info: String,
    root_info_text: String,
    message_key_seed: String,
    chain_key_seed: String,
    message_keys_info: String,
    message_keys_info_text: String,
}

#[derive(Deserialize)]
struct Conversation {
    name: String,
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

#[derive(Deserialize)]
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

#[derive(Deserialize)]
struct OneTimeRecord {
    count: usize,
    random: Vec<Draw>,
    keys: Vec<OneTimePrekey>,
}

#[derive(Deserialize)]
struct BundleRecord {
    one_time_prekey_id: Option<u32>,
    bytes: String,
}

#[derive(Deserialize)]
struct OutboundRecord {
    random: Vec<Draw>,
    base_key: String,
    ratchet_key: String,
}

#[derive(Deserialize)]
struct HeaderRecord {
    ratchet_key: String,
    previous_counter: u32,
    index: u32,
}

#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
enum Step {
    Send {
        step: usize,
        from: String,
        message_id: String,
        plaintext: Option<String>,
        plaintext_hex: Option<String>,
        random: Vec<Draw>,
        pre_key_message: bool,
        header: HeaderRecord,
        message: String,
    },
    Deliver {
        step: usize,
        to: String,
        message_id: String,
        plaintext: Option<String>,
        plaintext_hex: Option<String>,
    },
}

fn plaintext(utf8: Option<&String>, hex_text: Option<&String>) -> Vec<u8> {
    match (utf8, hex_text) {
        (Some(text), None) => text.as_bytes().to_vec(),
        (None, Some(h)) => hex(h),
        _ => panic!("a step needs exactly one of plaintext and plaintext_hex"),
    }
}

fn load_x3dh() -> X3dhFile {
    serde_json::from_str(X3DH_JSON).expect("native-x3dh.json")
}

fn load_ratchet() -> RatchetFile {
    serde_json::from_str(RATCHET_JSON).expect("native-ratchet.json")
}

// ---------------------------------------------------------------------------------------------------
// (a) X3DH

const X3DH_DRAWS: [&str; 7] = [
    "bob.ed25519_seed",
    "bob.identity_secret",
    "bob.signed_prekey_secret",
    "bob.one_time_prekey.secret",
    "alice.ed25519_seed",
    "alice.identity_secret",
    "alice.ephemeral_secret",
];

/// The recorded constants are the library's.
#[test]
fn constants_are_the_librarys() {
    let x = load_x3dh();
    assert!(x.source.contains("examples/gen_native_vectors.rs") && x.source.contains("own"));
    assert!(!x.description.is_empty());
    let c = &x.constants;
    assert_eq!(hex(&c.salt), [0u8; 32]);
    assert_eq!(hex(&c.f), [0xFFu8; 32]);
    assert_eq!(hex(&c.info), native::NATIVE_X3DH_INFO);
    assert_eq!(c.info_text.as_bytes(), native::NATIVE_X3DH_INFO);
    assert_eq!(c.okm_length, 96);
    assert_eq!(c.ad_length, native::AD_LEN);
    assert_eq!(
        hex(&c.identity_binding_context),
        native::IDENTITY_BINDING_CONTEXT
    );
    assert_eq!(hex(&c.signed_prekey_context), native::SIGNED_PREKEY_CONTEXT);

    let r = load_ratchet();
    assert!(r.source.contains("examples/gen_native_vectors.rs") && r.source.contains("own"));
    assert!(!r.description.is_empty());
    let c = &r.constants;
    assert_eq!(hex(&c.root_info), NativeSuite::ROOT_INFO);
    assert_eq!(c.root_info_text.as_bytes(), NativeSuite::ROOT_INFO);
    assert_eq!(hex(&c.message_key_seed), [0x01]);
    assert_eq!(hex(&c.chain_key_seed), [0x02]);
    assert_eq!(
        hex(&c.message_keys_info),
        c.message_keys_info_text.as_bytes()
    );
}

#[test]
fn x3dh_vectors() {
    let file = load_x3dh();
    let (mut with_opk, mut without_opk) = (0, 0);
    for case in &file.cases {
        let name = &case.name;
        let bob = &case.bob;
        let alice = &case.alice;

        // The draws: named, in order, from the seed; each is the private key it names.
        let expected: Vec<&str> = X3DH_DRAWS
            .iter()
            .copied()
            .filter(|u| bob.one_time_prekey.is_some() || !u.contains("one_time"))
            .collect();
        let uses: Vec<&str> = case.random.iter().map(|d| d.purpose.as_str()).collect();
        assert_eq!(uses, expected, "{name}: draws");
        check_seed(
            &case.rng_seed,
            &case.random.iter().collect::<Vec<_>>(),
            name,
        );
        let drawn: HashMap<&str, &str> = case
            .random
            .iter()
            .map(|d| (d.purpose.as_str(), d.bytes.as_str()))
            .collect();
        assert_eq!(drawn["bob.ed25519_seed"], bob.ed25519_seed);
        assert_eq!(drawn["bob.identity_secret"], bob.identity_secret);
        assert_eq!(drawn["bob.signed_prekey_secret"], bob.signed_prekey_secret);
        if let Some(opk) = &bob.one_time_prekey {
            assert_eq!(drawn["bob.one_time_prekey.secret"], opk.secret);
        }
        assert_eq!(drawn["alice.ed25519_seed"], alice.ed25519_seed);
        assert_eq!(drawn["alice.identity_secret"], alice.identity_secret);
        assert_eq!(drawn["alice.ephemeral_secret"], alice.ephemeral_secret);

        // Keys and signatures from the private keys.
        let bob_ed = Ed25519SecretKey::from_seed(&arr(&bob.ed25519_seed));
        let bob_ik = curve_secret(&bob.identity_secret);
        let bob_spk = curve_secret(&bob.signed_prekey_secret);
        let bob_opk = bob
            .one_time_prekey
            .as_ref()
            .map(|k| curve_secret(&k.secret));
        let alice_ed = Ed25519SecretKey::from_seed(&arr(&alice.ed25519_seed));
        let alice_ik = curve_secret(&alice.identity_secret);
        assert_eq!(
            bob_ed.public_key().as_bytes(),
            &arr(&bob.ed25519_public),
            "{name}"
        );
        assert_eq!(
            bob_ik.public_key(),
            curve_public(&bob.identity_public),
            "{name}"
        );
        assert_eq!(
            bob_spk.public_key(),
            curve_public(&bob.signed_prekey_public),
            "{name}"
        );
        if let (Some(k), Some(rec)) = (&bob_opk, &bob.one_time_prekey) {
            assert_eq!(k.public_key(), curve_public(&rec.public), "{name}");
        }
        assert_eq!(
            alice_ed.public_key().as_bytes(),
            &arr(&alice.ed25519_public),
            "{name}"
        );
        assert_eq!(
            alice_ik.public_key(),
            curve_public(&alice.identity_public),
            "{name}"
        );
        assert_eq!(
            curve_secret(&alice.ephemeral_secret).public_key(),
            curve_public(&alice.ephemeral_public),
            "{name}"
        );
        let binding = Ed25519Signature::from_bytes(arr(&bob.identity_binding_signature));
        let spk_sig = Ed25519Signature::from_bytes(arr(&bob.signed_prekey_signature));
        assert_eq!(
            native::sign_identity_binding(&bob_ed, &bob_ik.public_key()),
            binding,
            "{name}"
        );
        assert_eq!(
            native::sign_prekey(&bob_ed, &bob_spk.public_key()),
            spk_sig,
            "{name}"
        );
        // The signed messages are context || key, under the plain Ed25519 key.
        let binding_message = cat(&[
            native::IDENTITY_BINDING_CONTEXT,
            bob_ik.public_key().as_bytes(),
        ]);
        assert_eq!(bob_ed.sign(&binding_message), binding, "{name}");
        let spk_message = cat(&[
            native::SIGNED_PREKEY_CONTEXT,
            bob_spk.public_key().as_bytes(),
        ]);
        assert_eq!(bob_ed.sign(&spk_message), spk_sig, "{name}");

        // The bundle's bytes.
        let bundle = PreKeyBundle {
            identity: IdentityKeys {
                curve25519: bob_ik.public_key(),
                ed25519: bob_ed.public_key(),
                binding_signature: binding,
            },
            signed_prekey_id: bob.signed_prekey_id,
            signed_prekey: bob_spk.public_key(),
            signed_prekey_signature: spk_sig,
            one_time_prekey: bob
                .one_time_prekey
                .as_ref()
                .map(|k| (k.id, curve_public(&k.public))),
        };
        let mut encoded = vec![0u8; bundle.encoded_len()];
        assert_eq!(bundle.encode_into(&mut encoded).unwrap(), encoded.len());
        assert_eq!(encoded, hex(&case.bundle), "{name}: bundle bytes");
        assert_eq!(PreKeyBundle::decode(&encoded).unwrap(), bundle, "{name}");

        // (a) initiate, fed the recorded ephemeral bytes, and respond.
        let keys = PreKeyBundleKeys {
            identity: bundle.identity.curve25519,
            signing_key: bundle.identity.ed25519,
            identity_signature: binding,
            signed_prekey: bundle.signed_prekey,
            signed_prekey_signature: spk_sig,
            one_time_prekey: bundle.one_time_prekey.map(|(_, k)| k),
        };
        let ek_draw = case
            .random
            .iter()
            .filter(|d| d.purpose == "alice.ephemeral_secret")
            .map(|d| Draw {
                purpose: d.purpose.clone(),
                bytes: d.bytes.clone(),
            })
            .collect::<Vec<_>>();
        let mut rng = ReplayRng::new(&ek_draw, name.clone());
        let (secrets, ek, ad) =
            native::initiate(&mut rng, &alice_ik, &alice_ed.public_key(), &keys).unwrap();
        rng.finish();
        assert_eq!(ek, curve_public(&alice.ephemeral_public), "{name}");
        assert_eq!(secrets.root.as_bytes(), &arr(&case.root), "{name}: root");
        assert_eq!(
            secrets.header_key_a.as_bytes(),
            &arr(&case.header_key_a),
            "{name}"
        );
        assert_eq!(
            secrets.next_header_key_b.as_bytes(),
            &arr(&case.next_header_key_b),
            "{name}"
        );
        assert_eq!(ad, arr(&case.ad), "{name}: ad");
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
        )
        .unwrap();
        assert_eq!(theirs.root.as_bytes(), &arr(&case.root), "{name}: respond");
        assert_eq!(theirs.header_key_a.as_bytes(), &arr(&case.header_key_a));
        assert_eq!(
            theirs.next_header_key_b.as_bytes(),
            &arr(&case.next_header_key_b)
        );
        assert_eq!(their_ad, arr(&case.ad));

        // (c) From first principles: the DH outputs in order, F || DHs, HKDF, the AD.
        let publics: HashMap<&str, &str> = [
            ("bob.identity_public", bob.identity_public.as_str()),
            (
                "bob.signed_prekey_public",
                bob.signed_prekey_public.as_str(),
            ),
        ]
        .into_iter()
        .chain(
            bob.one_time_prekey
                .as_ref()
                .map(|k| ("bob.one_time_prekey.public", k.public.as_str())),
        )
        .collect();
        let secrets_by_name: HashMap<&str, &str> = [
            ("alice.identity_secret", alice.identity_secret.as_str()),
            ("alice.ephemeral_secret", alice.ephemeral_secret.as_str()),
        ]
        .into_iter()
        .collect();
        let order = [
            ("DH1", "alice.identity_secret", "bob.signed_prekey_public"),
            ("DH2", "alice.ephemeral_secret", "bob.identity_public"),
            ("DH3", "alice.ephemeral_secret", "bob.signed_prekey_public"),
            (
                "DH4",
                "alice.ephemeral_secret",
                "bob.one_time_prekey.public",
            ),
        ];
        let expected_len = if bob.one_time_prekey.is_some() { 4 } else { 3 };
        assert_eq!(case.dh.len(), expected_len, "{name}: number of DH outputs");
        let mut ikm = hex(&file.constants.f);
        for (dh, (n, s, p)) in case.dh.iter().zip(order) {
            assert_eq!(
                (dh.name.as_str(), dh.secret.as_str(), dh.public.as_str()),
                (n, s, p)
            );
            let out = x25519(secrets_by_name[s], &arr(publics[p]));
            assert_eq!(out, arr(&dh.output), "{name}: {n}");
            ikm.extend_from_slice(&out);
        }
        assert_eq!(ikm, hex(&case.ikm), "{name}: ikm");
        let okm: [u8; 96] = hkdf(&hex(&file.constants.salt), &ikm, &hex(&file.constants.info));
        assert_eq!(
            okm.to_vec(),
            cat(&[
                &hex(&case.root),
                &hex(&case.header_key_a),
                &hex(&case.next_header_key_b)
            ]),
            "{name}: okm"
        );
        let sk: [u8; 32] = hkdf(&[0; 32], &ikm, &hex(&file.constants.info));
        assert_eq!(sk, arr(&case.root), "{name}: SK as a 32-byte HKDF");
        let ad_parts = cat(&[
            &hex(&alice.identity_public),
            &hex(&alice.ed25519_public),
            &hex(&bob.identity_public),
            &hex(&bob.ed25519_public),
        ]);
        assert_eq!(ad_parts, hex(&case.ad), "{name}: ad layout");

        if bob.one_time_prekey.is_some() {
            with_opk += 1;
        } else {
            without_opk += 1;
        }
    }
    assert!(with_opk >= 1 && without_opk >= 1);
    println!(
        "native-x3dh.json: {} cases ({with_opk} with a one-time prekey, {without_opk} without), \
         each checked through initiate, respond and from first principles",
        file.cases.len()
    );
}

// ---------------------------------------------------------------------------------------------------
// (b) Conversations through the public API

fn check_account(account: &Account, rec: &AccountRecord, what: &str) {
    let uses: Vec<&str> = rec.random.iter().map(|d| d.purpose.as_str()).collect();
    assert_eq!(
        uses,
        ["identity_secret", "ed25519_seed", "signed_prekey_secret"],
        "{what}"
    );
    assert_eq!(rec.random[0].bytes, rec.identity_secret, "{what}");
    assert_eq!(rec.random[1].bytes, rec.ed25519_seed, "{what}");
    assert_eq!(rec.random[2].bytes, rec.signed_prekey_secret, "{what}");
    let keys = account.identity_keys();
    assert_eq!(
        keys.curve25519,
        curve_public(&rec.identity_public),
        "{what}"
    );
    assert_eq!(
        curve_secret(&rec.identity_secret).public_key(),
        keys.curve25519,
        "{what}"
    );
    let ed = Ed25519SecretKey::from_seed(&arr(&rec.ed25519_seed));
    assert_eq!(ed.public_key(), keys.ed25519, "{what}");
    assert_eq!(keys.ed25519.as_bytes(), &arr(&rec.ed25519_public), "{what}");
    assert_eq!(
        keys.binding_signature.to_bytes(),
        arr(&rec.identity_binding_signature),
        "{what}"
    );
    keys.verify().unwrap();
    let (id, spk) = account.signed_prekey();
    assert_eq!(id, rec.signed_prekey_id, "{what}");
    assert_eq!(spk, curve_public(&rec.signed_prekey_public), "{what}");
    assert_eq!(
        curve_secret(&rec.signed_prekey_secret).public_key(),
        spk,
        "{what}"
    );
    assert_eq!(
        native::sign_prekey(&ed, &spk).to_bytes(),
        arr(&rec.signed_prekey_signature),
        "{what}"
    );
}

/// Every draw of a conversation, in the order the generator's one RNG made them.
fn all_draws(c: &Conversation) -> Vec<&Draw> {
    let mut draws: Vec<&Draw> = c
        .alice
        .random
        .iter()
        .chain(&c.bob.random)
        .chain(&c.bob_one_time_prekeys.random)
        .chain(&c.outbound_session.random)
        .collect();
    for step in &c.steps {
        if let Step::Send { random, .. } = step {
            draws.extend(random);
        }
    }
    draws
}

#[test]
fn ratchet_vectors_replay_through_the_api() {
    let file = load_ratchet();
    let (mut messages, mut deliveries, mut draws) = (0, 0, 0);
    let (mut out_of_order, mut late_across_dh) = (0, 0);
    for c in &file.conversations {
        let name = &c.name;
        check_seed(&c.rng_seed, &all_draws(c), name);
        draws += all_draws(c).len();

        let mut rng = ReplayRng::new(&c.alice.random, format!("{name}: Account::new (alice)"));
        let alice = Account::new(&mut rng);
        rng.finish();
        check_account(&alice, &c.alice, name);
        let mut rng = ReplayRng::new(&c.bob.random, format!("{name}: Account::new (bob)"));
        let mut bob = Account::new(&mut rng);
        rng.finish();
        check_account(&bob, &c.bob, name);

        let otk = &c.bob_one_time_prekeys;
        let mut rng = ReplayRng::new(&otk.random, format!("{name}: one-time prekeys"));
        bob.generate_one_time_prekeys(&mut rng, otk.count);
        rng.finish();
        let listed: Vec<(u32, Curve25519PublicKey)> = bob.unpublished_one_time_prekeys().collect();
        assert_eq!(listed.len(), otk.keys.len(), "{name}");
        for ((id, public), (rec, d)) in listed.iter().zip(otk.keys.iter().zip(&otk.random)) {
            assert_eq!(*id, rec.id, "{name}");
            assert_eq!(d.bytes, rec.secret, "{name}");
            assert_eq!(*public, curve_public(&rec.public), "{name}");
            assert_eq!(curve_secret(&rec.secret).public_key(), *public, "{name}");
        }

        let bundle = bob.prekey_bundle(c.bundle.one_time_prekey_id).unwrap();
        let mut encoded = vec![0u8; bundle.encoded_len()];
        bundle.encode_into(&mut encoded).unwrap();
        assert_eq!(encoded, hex(&c.bundle.bytes), "{name}: bundle bytes");
        let decoded = PreKeyBundle::decode(&encoded).unwrap();
        assert_eq!(decoded, bundle);

        let config = if c.header_encryption {
            SessionConfig::with_header_encryption()
        } else {
            SessionConfig::plain()
        };
        let mut rng = ReplayRng::new(&c.outbound_session.random, format!("{name}: outbound"));
        let mut alice_session = alice
            .create_outbound_session(&mut rng, &decoded, config)
            .unwrap();
        rng.finish();
        assert_eq!(
            curve_secret(&c.outbound_session.random[0].bytes).public_key(),
            curve_public(&c.outbound_session.base_key),
            "{name}"
        );
        assert_eq!(
            curve_secret(&c.outbound_session.random[1].bytes).public_key(),
            curve_public(&c.outbound_session.ratchet_key),
            "{name}"
        );

        let mut bob_session: Option<Session> = None;
        let mut wire: HashMap<&str, Vec<u8>> = HashMap::new();
        let mut delivered: Vec<&str> = Vec::new();
        let mut ratchet_keys: HashMap<&str, &String> = HashMap::new();
        let mut newest_from: HashMap<&str, &String> = HashMap::new();
        let mut delivered_keys: Vec<&String> = Vec::new();
        for (i, step) in c.steps.iter().enumerate() {
            let (Step::Send { step: number, .. } | Step::Deliver { step: number, .. }) = step;
            assert_eq!(*number, i + 1, "{name}: steps are numbered from 1");
            match step {
                Step::Send {
                    step,
                    from,
                    message_id,
                    plaintext: text,
                    plaintext_hex,
                    random,
                    pre_key_message,
                    header,
                    message,
                } => {
                    let what = format!("{name}: step {step} ({message_id})");
                    let session = match from.as_str() {
                        "alice" => &mut alice_session,
                        "bob" => bob_session
                            .as_mut()
                            .expect("Bob sends before he has a session"),
                        other => panic!("{what}: unknown party {other}"),
                    };
                    let pt = plaintext(text.as_ref(), plaintext_hex.as_ref());
                    assert_eq!(session.sends_pre_key_messages(), *pre_key_message, "{what}");
                    let mut out = vec![0u8; session.encrypt_len(pt.len())];
                    let mut rng = ReplayRng::new(random, what.clone());
                    let n = session.encrypt_into(&mut rng, &pt, &mut out).unwrap();
                    rng.finish();
                    out.truncate(n);
                    assert_eq!(out, hex(message), "{what}: message bytes");
                    if !c.header_encryption {
                        let start = if *pre_key_message { 171 + 2 } else { 2 };
                        let h = cat(&[
                            &hex(&header.ratchet_key),
                            &header.previous_counter.to_be_bytes(),
                            &header.index.to_be_bytes(),
                        ]);
                        assert_eq!(out[start..start + 40], h[..], "{what}: header");
                    }
                    assert!(
                        wire.insert(message_id, out).is_none(),
                        "{what}: duplicate id"
                    );
                    ratchet_keys.insert(message_id, &header.ratchet_key);
                    messages += 1;
                }
                Step::Deliver {
                    step,
                    to,
                    message_id,
                    plaintext: text,
                    plaintext_hex,
                } => {
                    let what = format!("{name}: step {step} ({message_id} to {to})");
                    let message = &wire[message_id.as_str()];
                    let mut out = vec![0u8; Session::decrypt_len(message).unwrap()];
                    let n = match (to.as_str(), bob_session.as_mut()) {
                        ("bob", None) => {
                            let (s, n) =
                                bob.create_inbound_session_into(message, &mut out).unwrap();
                            bob_session = Some(s);
                            n
                        }
                        ("bob", Some(s)) => s.decrypt_into(message, &mut out).unwrap(),
                        ("alice", _) => alice_session.decrypt_into(message, &mut out).unwrap(),
                        (other, _) => panic!("{what}: unknown party {other}"),
                    };
                    out.truncate(n);
                    assert_eq!(
                        out,
                        plaintext(text.as_ref(), plaintext_hex.as_ref()),
                        "{what}"
                    );
                    // Delivered ahead of an earlier message from the same sender: out of order.
                    let sent_before: Vec<&str> = c
                        .steps
                        .iter()
                        .filter_map(|s| match s {
                            Step::Send {
                                message_id: m,
                                from,
                                ..
                            } if from != to => Some(m.as_str()),
                            _ => None,
                        })
                        .take_while(|m| m != message_id)
                        .collect();
                    if sent_before.iter().any(|m| !delivered.contains(m)) {
                        out_of_order += 1;
                    }
                    // From an older chain than the newest the recipient has seen: late across a DH
                    // ratchet step.
                    let key = &ratchet_keys[message_id.as_str()];
                    let newest = newest_from.entry(to.as_str()).or_insert(key);
                    if newest != key {
                        if delivered_keys.contains(key) {
                            late_across_dh += 1;
                        } else {
                            *newest = key;
                        }
                    }
                    delivered_keys.push(key);
                    delivered.push(message_id);
                    deliveries += 1;
                }
            }
        }
        let bob_session = bob_session.expect("Bob received nothing");
        assert_eq!(alice_session.session_id(), arr(&c.session_id), "{name}");
        assert_eq!(bob_session.session_id(), arr(&c.session_id), "{name}");
        // The one-time prekey in the bundle was consumed by Bob's first delivery.
        let expected_left = otk.count - usize::from(c.bundle.one_time_prekey_id.is_some());
        assert_eq!(bob.one_time_prekey_count(), expected_left, "{name}");
    }
    assert!(out_of_order >= 1 && late_across_dh >= 1);
    println!(
        "native-ratchet.json: {} conversations, {messages} messages reproduced byte for byte, \
         {deliveries} deliveries decrypted ({out_of_order} ahead of an earlier message, \
         {late_across_dh} late across a DH ratchet step), {draws} random draws replayed",
        file.conversations.len()
    );
}

// ---------------------------------------------------------------------------------------------------
// (c) Every message from first principles

/// A sending chain in the first-principles model.
struct Chain {
    owner: String,
    ratchet_public: [u8; 32],
    chain_key: [u8; 32],
    index: u32,
    previous_counter: u32,
    header_key: Option<[u8; 32]>,
}

#[test]
fn ratchet_vectors_from_first_principles() {
    let x3dh = load_x3dh();
    let file = load_ratchet();
    let consts = &file.constants;
    let root_info = hex(&consts.root_info);
    let message_keys_info = hex(&consts.message_keys_info);
    let (mk_seed, ck_seed) = (hex(&consts.message_key_seed), hex(&consts.chain_key_seed));
    let mut checked = 0;
    let mut headers_opened = 0;
    for c in &file.conversations {
        let name = &c.name;
        let he = c.header_encryption;

        // X3DH (the initiator's view): F || DH1 || DH2 || DH3 [|| DH4], HKDF, AD.
        let bundle = hex(&c.bundle.bytes);
        let bob_ik: [u8; 32] = bundle[1..33].try_into().unwrap();
        let bob_ed: [u8; 32] = bundle[33..65].try_into().unwrap();
        let spk_id = u32::from_be_bytes(bundle[129..133].try_into().unwrap());
        let bob_spk: [u8; 32] = bundle[133..165].try_into().unwrap();
        let opk: Option<(u32, [u8; 32])> = match bundle[229] {
            0 => None,
            1 => Some((
                u32::from_be_bytes(bundle[230..234].try_into().unwrap()),
                bundle[234..266].try_into().unwrap(),
            )),
            _ => panic!("{name}: has_one_time"),
        };
        assert_eq!(opk.map(|(id, _)| id), c.bundle.one_time_prekey_id, "{name}");
        let ek = &c.outbound_session.random[0].bytes;
        let mut ikm = hex(&x3dh.constants.f);
        ikm.extend_from_slice(&x25519(&c.alice.identity_secret, &bob_spk));
        ikm.extend_from_slice(&x25519(ek, &bob_ik));
        ikm.extend_from_slice(&x25519(ek, &bob_spk));
        if let Some((_, opk)) = opk {
            ikm.extend_from_slice(&x25519(ek, &opk));
        }
        let okm: [u8; 96] = hkdf(&hex(&x3dh.constants.salt), &ikm, &hex(&x3dh.constants.info));
        let mut root_key: [u8; 32] = okm[..32].try_into().unwrap();
        let hka: [u8; 32] = okm[32..64].try_into().unwrap();
        let nhkb: [u8; 32] = okm[64..].try_into().unwrap();
        let alice_ik_pub = hex(&c.alice.identity_public);
        let alice_ed_pub = hex(&c.alice.ed25519_public);
        let ad = cat(&[&alice_ik_pub, &alice_ed_pub, &bob_ik, &bob_ed]);
        let base_key = hex(&c.outbound_session.base_key);
        let mut sid = Sha256::new();
        sid.update(&ad).update(&base_key);
        assert_eq!(sid.finalize(), arr(&c.session_id), "{name}: session id");

        // The DH ratchet: chain j comes from KDF_RK(RK, X25519(k_j, K_{j-1})), K_0 = SPK_B.
        // Header keys: chain 1 uses HKa, chain 2 NHKb, chain j >= 3 the next header key of step j-2.
        let mut next_header_keys: Vec<[u8; 32]> = Vec::new();
        let mut last_public = bob_spk;
        let mut chains: Vec<Chain> = Vec::new();
        let mut new_chain = |owner: &str,
                             secret: &str,
                             chains: &mut Vec<Chain>,
                             root_key: &mut [u8; 32],
                             last_public: &mut [u8; 32]| {
            if let Some(last) = chains.last() {
                assert_ne!(last.owner, owner, "{name}: ratchet keys alternate");
            }
            let dh = x25519(secret, last_public);
            let mut okm = vec![0u8; if he { 96 } else { 64 }];
            hkdf_sha256(root_key.as_slice(), &dh, &root_info, &mut okm).unwrap();
            root_key.copy_from_slice(&okm[..32]);
            let j = chains.len() + 1;
            let header_key = he.then(|| match j {
                1 => hka,
                2 => nhkb,
                _ => next_header_keys[j - 3],
            });
            if he {
                next_header_keys.push(okm[64..96].try_into().unwrap());
            }
            let previous_counter = chains
                .iter()
                .rev()
                .find(|ch| ch.owner == owner)
                .map_or(0, |ch| ch.index);
            let public = curve_secret(secret).public_key().to_bytes();
            *last_public = public;
            chains.push(Chain {
                owner: owner.to_owned(),
                ratchet_public: public,
                chain_key: okm[32..64].try_into().unwrap(),
                index: 0,
                previous_counter,
                header_key,
            });
        };
        new_chain(
            "alice",
            &c.outbound_session.random[1].bytes,
            &mut chains,
            &mut root_key,
            &mut last_public,
        );

        let mut alice_pre_key = true;
        for step in &c.steps {
            match step {
                Step::Deliver { to, .. } => {
                    if to == "alice" {
                        alice_pre_key = false;
                    }
                }
                Step::Send {
                    step,
                    from,
                    message_id,
                    plaintext: text,
                    plaintext_hex,
                    random,
                    pre_key_message,
                    header,
                    message,
                } => {
                    let what = format!("{name}: step {step} ({message_id})");
                    let mut draws = random.iter();
                    let mut next = draws.next();
                    if let Some(d) = next.filter(|d| d.bytes.len() == 64) {
                        new_chain(from, &d.bytes, &mut chains, &mut root_key, &mut last_public);
                        next = draws.next();
                    }
                    let chain = chains
                        .iter_mut()
                        .rev()
                        .find(|ch| &ch.owner == from)
                        .unwrap_or_else(|| panic!("{what}: no sending chain"));
                    assert_eq!(
                        last_public, chain.ratchet_public,
                        "{what}: the sender's chain is the newest"
                    );

                    // Symmetric ratchet, message keys, header.
                    let message_key = hmac_sha256(&chain.chain_key, &mk_seed);
                    chain.chain_key = hmac_sha256(&chain.chain_key, &ck_seed);
                    let index = chain.index;
                    chain.index += 1;
                    let keys: [u8; 44] = hkdf(&[], &message_key, &message_keys_info);
                    let plain_header = cat(&[
                        &chain.ratchet_public,
                        &chain.previous_counter.to_be_bytes(),
                        &index.to_be_bytes(),
                    ]);
                    assert_eq!(
                        plain_header,
                        cat(&[
                            &hex(&header.ratchet_key),
                            &header.previous_counter.to_be_bytes(),
                            &header.index.to_be_bytes(),
                        ]),
                        "{what}: recorded header"
                    );
                    let prefix = match chain.header_key {
                        None => cat(&[&[0x01, 0x01], &plain_header]),
                        Some(hk) => {
                            let nonce: [u8; 24] = arr(&next.expect("header nonce").bytes);
                            next = draws.next();
                            let mut sealed = plain_header.clone();
                            let tag = aead::xseal_in_place_detached(
                                &hk,
                                &nonce,
                                &[0x01, 0x03],
                                &mut sealed,
                            )
                            .unwrap();
                            cat(&[&[0x01, 0x03], &nonce, &sealed, &tag])
                        }
                    };
                    assert!(next.is_none(), "{what}: unexplained draws");

                    // The pre-key prefix, while Alice has not heard from Bob.
                    let is_pre_key = from == "alice" && alice_pre_key;
                    assert_eq!(is_pre_key, *pre_key_message, "{what}");
                    let pre_key = if is_pre_key {
                        let (has, id) = opk.map_or((0u8, 0u32), |(id, _)| (1, id));
                        cat(&[
                            &[0x01, if he { 0x04 } else { 0x02 }],
                            &alice_ik_pub,
                            &alice_ed_pub,
                            &hex(&c.alice.identity_binding_signature),
                            &base_key,
                            &spk_id.to_be_bytes(),
                            &[has],
                            &id.to_be_bytes(),
                        ])
                    } else {
                        Vec::new()
                    };
                    // The body.
                    let mut body = plaintext(text.as_ref(), plaintext_hex.as_ref());
                    // AAD: the X3DH AD, then every byte before the ciphertext, the pre-key part included.
                    let aad = cat(&[&ad, &pre_key, &prefix]);
                    let tag = aead::seal_in_place_detached(
                        keys[..32].try_into().unwrap(),
                        keys[32..].try_into().unwrap(),
                        &aad,
                        &mut body,
                    )
                    .unwrap();

                    let expected = cat(&[&pre_key, &prefix, &body, &tag]);
                    assert_eq!(
                        expected,
                        hex(message),
                        "{what}: message from first principles"
                    );
                    if let Some(hk) = chain.header_key {
                        // The recorded message's header opens under the chain's header key.
                        let m = hex(message);
                        let at = pre_key.len() + 2;
                        let nonce: [u8; 24] = m[at..at + 24].try_into().unwrap();
                        let mut sealed = m[at + 24..at + 64].to_vec();
                        let tag: [u8; 16] = m[at + 64..at + 80].try_into().unwrap();
                        aead::xopen_in_place_detached(
                            &hk,
                            &nonce,
                            &[0x01, 0x03],
                            &mut sealed,
                            &tag,
                        )
                        .unwrap();
                        assert_eq!(sealed, plain_header, "{what}: opened header");
                        headers_opened += 1;
                    }
                    checked += 1;
                }
            }
        }
    }
    println!(
        "native-ratchet.json from first principles: {checked} messages recomputed from the recorded \
         private keys and draws ({headers_opened} encrypted headers opened)"
    );
}

//! Signed JSON against ruma-signatures 0.22.1 (a dev-dependency of this test-only crate), both ways: objects we sign verify with
//! ruma's `verify_json`, and objects ruma's `sign_json` signs verify with ours, for random keys and
//! objects (device keys, cross-signing keys, nested values, `unsigned` members).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ruma_signatures::{Ed25519KeyPair, PublicKeyMap, sign_json, verify_json};
use safemeet::codec::base64;
use safemeet::codec::json::{self, Object, Value};
use safemeet::identity::{CrossSigningSecrets, DeviceKeys, IdentityError, signed};
use safemeet::olm::Account;
use safemeet::primitives::ed25519::Ed25519SecretKey;

/// A PKCS#8 v1 document for an Ed25519 seed (RFC 8410 §7), as ruma's key pair reads it.
fn pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

fn ruma_key(seed: &[u8; 32], version: &str) -> Ed25519KeyPair {
    Ed25519KeyPair::from_der(&pkcs8(seed), version.into()).unwrap()
}

fn key_map(entity: &str, key_id: &str, public_b64: &str) -> PublicKeyMap {
    serde_json::from_value(serde_json::json!({ entity: { key_id: public_b64 } })).unwrap()
}

/// ruma's `verify_json` over our object.
fn ruma_verifies(object: &Object, map: &PublicKeyMap) -> bool {
    let parsed = serde_json::from_str(&Value::Object(object.clone()).to_canonical()).unwrap();
    verify_json(map, &parsed).is_ok()
}

/// ruma's `sign_json` over our object; the signed object back in our form.
fn ruma_signs(object: &Object, entity: &str, key: &Ed25519KeyPair) -> Object {
    let mut parsed = serde_json::from_str(&Value::Object(object.clone()).to_canonical()).unwrap();
    sign_json(entity, key, &mut parsed).unwrap();
    let text = serde_json::to_string(&parsed).unwrap();
    let Value::Object(o) = json::parse(text.as_bytes()).unwrap() else {
        panic!()
    };
    o
}

fn device_object(seed: u64) -> (Object, Account<4>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let account = Account::<4>::new(&mut rng);
    let device = DeviceKeys::from_account("@alice:example.org", "LAPTOP", &account).unwrap();
    let mut o = device.json().clone();
    let mut unsigned = Object::new();
    unsigned.insert("device_display_name".into(), "Alice's laptop ☕".into());
    o.insert("unsigned".into(), Value::Object(unsigned));
    (o, account)
}

#[test]
fn our_device_keys_verify_with_ruma() {
    for seed in 0..8 {
        let (o, account) = device_object(seed);
        let public = base64::encode(account.ed25519_key().as_bytes());
        assert!(ruma_verifies(
            &o,
            &key_map("@alice:example.org", "ed25519:LAPTOP", &public)
        ));
        // ruma refuses it under another key.
        let other = base64::encode(
            Ed25519SecretKey::from_seed(&[9; 32])
                .public_key()
                .as_bytes(),
        );
        assert!(!ruma_verifies(
            &o,
            &key_map("@alice:example.org", "ed25519:LAPTOP", &other)
        ));
    }
}

#[test]
fn our_cross_signing_keys_verify_with_ruma() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let secrets = CrossSigningSecrets::generate(&mut rng);
    let identity = secrets.public_identity("@alice:example.org").unwrap();
    let master = identity.master_key();
    let map = key_map("@alice:example.org", &master.key_id(), &master.name());
    assert!(ruma_verifies(identity.self_signing_key().json(), &map));
    assert!(ruma_verifies(
        identity.user_signing_key().unwrap().json(),
        &map
    ));
    // A self-signing key signed by another master key does not verify with this one.
    let other = CrossSigningSecrets::generate(&mut rng)
        .public_identity("@alice:example.org")
        .unwrap();
    let mut forged = other.self_signing_key().json().clone();
    if let Some(Value::Object(sigs)) = forged.get_mut("signatures") {
        let entity = sigs.remove("@alice:example.org").unwrap();
        let Value::Object(entity) = entity else {
            panic!()
        };
        let sig = entity.into_iter().next().unwrap().1;
        let mut renamed = Object::new();
        renamed.insert(master.key_id(), sig);
        sigs.insert("@alice:example.org".into(), Value::Object(renamed));
    }
    assert!(!ruma_verifies(&forged, &map));
}

#[test]
fn ruma_signed_objects_verify_with_ours() {
    for seed in 0..8u8 {
        let (mut o, _) = device_object(u64::from(seed));
        o.remove("signatures");
        let seed_bytes = [seed.wrapping_mul(31).wrapping_add(7); 32];
        let ours_key = Ed25519SecretKey::from_seed(&seed_bytes);
        let signed_by_ruma = ruma_signs(&o, "@alice:example.org", &ruma_key(&seed_bytes, "SSK"));
        signed::verify(
            &signed_by_ruma,
            "@alice:example.org",
            "ed25519:SSK",
            &ours_key.public_key(),
        )
        .unwrap();
        // Our own signature over the same object is the same bytes (Ed25519 is deterministic).
        let mut ours_signed = o.clone();
        signed::sign(
            &mut ours_signed,
            "@alice:example.org",
            "ed25519:SSK",
            &ours_key,
        )
        .unwrap();
        assert_eq!(ours_signed, signed_by_ruma);
        // A tampered member fails with ours.
        let mut tampered = signed_by_ruma.clone();
        tampered.insert("device_id".into(), "EVIL".into());
        assert_eq!(
            signed::verify(
                &tampered,
                "@alice:example.org",
                "ed25519:SSK",
                &ours_key.public_key()
            ),
            Err(IdentityError::InvalidSignature)
        );
    }
}

fn arb_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random objects (with `unsigned`, nested `signatures`, any strings): signed by us, ruma
    /// verifies; signed by ruma, we verify; and both produce the same signature.
    #[test]
    fn signing_agrees_with_ruma(
        members in prop::collection::btree_map("[a-z_]{1,8}|[^\\x00]{0,4}", arb_value(), 0..6),
        seed in any::<[u8; 32]>(),
    ) {
        let mut value = serde_json::Value::Object(members.into_iter().collect());
        value.as_object_mut().unwrap().remove("signatures");
        let Value::Object(object) = json::parse(value.to_string().as_bytes()).unwrap() else {
            panic!()
        };
        let key = Ed25519SecretKey::from_seed(&seed);
        let public = base64::encode(key.public_key().as_bytes());
        let mut ours_signed = object.clone();
        signed::sign(&mut ours_signed, "@u:example.org", "ed25519:K", &key).unwrap();
        prop_assert!(ruma_verifies(&ours_signed, &key_map("@u:example.org", "ed25519:K", &public)));
        let theirs = ruma_signs(&object, "@u:example.org", &ruma_key(&seed, "K"));
        prop_assert!(signed::verify(&theirs, "@u:example.org", "ed25519:K", &key.public_key()).is_ok());
        prop_assert_eq!(ours_signed, theirs);
    }
}

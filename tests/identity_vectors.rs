//! Published vectors for the identity layer (`test-vectors/identity.json`): the specification's JSON
//! signing (P1) and canonical JSON (P2) examples, matrix-rust-sdk's device-key signature (P16) and its
//! cross-signing test data (P20), including the trust decisions rust-sdk draws from that data.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use safemeet::codec::json::Value;
use safemeet::codec::{base64, json};
use safemeet::identity::{
    CrossSigningSecrets, DeviceKeys, DeviceTrust, IdentityError, IdentityEvent, IdentityStatus,
    IdentityStore, KeyHealth, MasterKey, SelfSigningKey, UserIdentity, UserSigningKey,
    check_key_storage, signed,
};
use safemeet::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("../test-vectors/identity.json")).unwrap()
}

/// serde_json value → our value, through text.
fn ours(v: &serde_json::Value) -> Value {
    json::parse(serde_json::to_string(v).unwrap().as_bytes()).unwrap()
}

/// Decodes a seed. The specification's P1 seed has non-zero bits after its last byte, which our strict
/// decoder refuses (`NonCanonicalBase64`); those bits carry no data, so they are cleared here first.
fn seed(b64: &str) -> [u8; 32] {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = b64.as_bytes().to_vec();
    let last = text.last_mut().unwrap();
    let index = ALPHABET.iter().position(|c| c == last).unwrap();
    *last = ALPHABET[index & !0b11];
    base64::decode(&text).unwrap().try_into().unwrap()
}

#[test]
fn p1_json_signing() {
    let v = vectors();
    let p1 = &v["json_signing"];
    let key = Ed25519SecretKey::from_seed(&seed(p1["seed_base64"].as_str().unwrap()));
    assert_eq!(
        base64::encode(key.public_key().as_bytes()),
        p1["public_key_base64"].as_str().unwrap()
    );
    let mut n = 0;
    for case in p1["cases"].as_array().unwrap() {
        let Value::Object(mut object) =
            json::parse(case["input"].as_str().unwrap().as_bytes()).unwrap()
        else {
            panic!()
        };
        let entity = p1["entity"].as_str().unwrap();
        let key_id = p1["key_id"].as_str().unwrap();
        let sig = signed::sign(&mut object, entity, key_id, &key).unwrap();
        assert_eq!(
            base64::encode(sig.as_bytes()),
            case["signature"].as_str().unwrap()
        );
        signed::verify(&object, entity, key_id, &key.public_key()).unwrap();
        // A different key id or signer finds no signature; a changed member breaks it.
        assert_eq!(
            signed::verify(&object, entity, "ed25519:2", &key.public_key()),
            Err(IdentityError::MissingSignature)
        );
        object.insert("extra".into(), Value::Null);
        assert_eq!(
            signed::verify(&object, entity, key_id, &key.public_key()),
            Err(IdentityError::InvalidSignature)
        );
        n += 1;
    }
    assert_eq!(n, 2);
}

#[test]
fn p2_canonical_json() {
    let v = vectors();
    let mut n = 0;
    for case in v["canonical_json"]["cases"].as_array().unwrap() {
        let value = json::parse(case["input"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(value.to_canonical(), case["canonical"].as_str().unwrap());
        let Value::Object(o) = &value else { panic!() };
        // The signing input of an object without signatures is its canonical form.
        assert_eq!(
            signed::signing_input(o),
            case["canonical"].as_str().unwrap()
        );
        n += 1;
    }
    assert_eq!(n, 10);
}

#[test]
fn p16_device_keys_signature() {
    let v = vectors();
    let p = &v["device_keys"];
    let object = ours(&p["object"]);
    let Value::Object(o) = &object else { panic!() };
    assert_eq!(
        signed::signing_input(o),
        p["signed_bytes"].as_str().unwrap()
    );
    let user = p["user_id"].as_str().unwrap();
    let device = p["device_id"].as_str().unwrap();
    let keys = DeviceKeys::from_json(&object)
        .unwrap()
        .verify(user, device)
        .unwrap();
    assert_eq!(
        base64::encode(keys.ed25519_key().as_bytes()),
        "n469gw7zm+KW+JsFIJKnFVvCKU14HwQyocggcCIQgZY"
    );
    // The same object under another device id, or with one byte of the signature changed, fails.
    assert_eq!(
        DeviceKeys::from_json(&object)
            .unwrap()
            .verify(user, "OTHER")
            .unwrap_err(),
        IdentityError::KeyIdMismatch
    );
    let mut bad = p["object"].clone();
    bad["signatures"][user]["ed25519:GBEWHQOYGS"] =
        "OlF2REsqjYdAfr04ONx8VS/5cB7KjrWYRlLF4eUm2foAiQL/RAfsjsa2JXZeoOHh6vEualZHbWlod49OewVqBA"
            .into();
    assert_eq!(
        DeviceKeys::from_json(&ours(&bad))
            .unwrap()
            .verify(user, device)
            .unwrap_err(),
        IdentityError::InvalidSignature
    );
    // Unsigned: never verifies.
    let mut unsigned = p["object"].clone();
    unsigned.as_object_mut().unwrap().remove("signatures");
    assert_eq!(
        DeviceKeys::from_json(&ours(&unsigned))
            .unwrap()
            .verify(user, device)
            .unwrap_err(),
        IdentityError::MissingSignature
    );
}

#[test]
fn p20_cross_signing_signatures() {
    let v = vectors();
    let cs = &v["cross_signing"];
    let me = &cs["me_keys_query_response"];
    let user = cs["me_user_id"].as_str().unwrap();
    let identity = UserIdentity::from_json(
        user,
        &ours(&me["master_keys"][user]),
        &ours(&me["self_signing_keys"][user]),
        Some(&ours(&me["user_signing_keys"][user])),
    )
    .unwrap();
    assert_eq!(
        identity.master_key().name(),
        "KOS8zz9SJnMOxpfPOx9LO2+abuEcnZP/lxDo5RsXao4"
    );
    let ssk_json = ours(&me["self_signing_keys"][user]);
    let Value::Object(ssk) = &ssk_json else {
        panic!()
    };
    assert_eq!(
        signed::signing_input(ssk),
        cs["ssk_signed_bytes"].as_str().unwrap()
    );
    // The master key's self-signature verifies too.
    signed::verify(
        identity.master_key().json(),
        user,
        &identity.master_key().key_id(),
        &identity.master_key().public_key(),
    )
    .unwrap();

    // Re-signing with rust-sdk's private keys reproduces its signatures byte for byte (Ed25519 is
    // deterministic, so this checks our signing input against rust-sdk's).
    let secrets = CrossSigningSecrets::from_secret_storage(
        Some(cs["me_private"]["master"].as_str().unwrap()),
        Some(cs["me_private"]["self_signing"].as_str().unwrap()),
        Some(cs["me_private"]["user_signing"].as_str().unwrap()),
    )
    .unwrap();
    let rebuilt = secrets.public_identity(user).unwrap();
    assert_eq!(
        rebuilt.self_signing_key().json()["signatures"],
        ssk_json.get("signatures").cloned().unwrap()
    );
    assert_eq!(
        rebuilt.user_signing_key().unwrap().json()["signatures"],
        ours(&me["user_signing_keys"][user])
            .get("signatures")
            .cloned()
            .unwrap()
    );
    let dan = &cs["dan_keys_query_response"];
    let dan_master = ours(&dan["master_keys"]["@dan:localhost"]);
    let usk =
        Ed25519SecretKey::from_seed(&seed(cs["me_private"]["user_signing"].as_str().unwrap()));
    let Value::Object(mut stripped) = dan_master.clone() else {
        panic!()
    };
    stripped.remove("signatures");
    let key_id = format!("ed25519:{}", base64::encode(usk.public_key().as_bytes()));
    let sig = signed::sign(&mut stripped, user, &key_id, &usk).unwrap();
    assert_eq!(
        Some(&Value::String(base64::encode(sig.as_bytes()))),
        dan_master
            .get("signatures")
            .and_then(|s| s.get(user))
            .and_then(|s| s.get(&key_id))
    );
}

#[test]
fn roles_never_stand_in_for_each_other() {
    let v = vectors();
    let me = &v["cross_signing"]["me_keys_query_response"];
    let user = "@me:localhost";
    let master = ours(&me["master_keys"][user]);
    let ssk = ours(&me["self_signing_keys"][user]);
    let usk = ours(&me["user_signing_keys"][user]);
    assert_eq!(
        SelfSigningKey::from_json(&master).unwrap_err(),
        IdentityError::WrongUsage
    );
    assert_eq!(
        UserSigningKey::from_json(&master).unwrap_err(),
        IdentityError::WrongUsage
    );
    assert_eq!(
        MasterKey::from_json(&ssk).unwrap_err(),
        IdentityError::WrongUsage
    );
    assert_eq!(
        UserSigningKey::from_json(&ssk).unwrap_err(),
        IdentityError::WrongUsage
    );
    assert_eq!(
        MasterKey::from_json(&usk).unwrap_err(),
        IdentityError::WrongUsage
    );
    // The self-signing key in the user-signing slot and vice versa.
    assert!(UserIdentity::from_json(user, &master, &usk, Some(&ssk)).is_err());
    // The master key in the self-signing slot.
    assert!(UserIdentity::from_json(user, &master, &master, None).is_err());
    // Published for another user.
    assert_eq!(
        UserIdentity::from_json("@you:localhost", &master, &ssk, None).unwrap_err(),
        IdentityError::UserIdMismatch
    );
    // A key id that does not name its key.
    let mut bad = me["self_signing_keys"][user].clone();
    bad["keys"] = serde_json::json!({"ed25519:KOS8zz9SJnMOxpfPOx9LO2+abuEcnZP/lxDo5RsXao4":
        "9gXJQzvqZ+KQunfBTd0g9AkrulwEeFfspyWTSQFqqrw"});
    assert_eq!(
        SelfSigningKey::from_json(&ours(&bad)).unwrap_err(),
        IdentityError::KeyIdMismatch
    );
    // Two usages.
    let mut two = me["self_signing_keys"][user].clone();
    two["usage"] = serde_json::json!(["self_signing", "user_signing"]);
    assert_eq!(
        SelfSigningKey::from_json(&ours(&two)).unwrap_err(),
        IdentityError::WrongUsage
    );
}

fn me_store() -> (IdentityStore, CrossSigningSecrets) {
    let v = vectors();
    let cs = &v["cross_signing"];
    let mut store = IdentityStore::new("@me:localhost", "MEDEVICE").unwrap();
    let events = store
        .receive_keys_query(&ours(&cs["me_keys_query_response"]))
        .unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Pinned {
            user_id: "@me:localhost".into()
        }]
    );
    let secrets = CrossSigningSecrets::from_secret_storage(
        Some(cs["me_private"]["master"].as_str().unwrap()),
        Some(cs["me_private"]["self_signing"].as_str().unwrap()),
        Some(cs["me_private"]["user_signing"].as_str().unwrap()),
    )
    .unwrap();
    (store, secrets)
}

#[test]
fn rust_sdk_keys_query_gives_the_same_trust_decisions() {
    let v = vectors();
    let cs = &v["cross_signing"];
    let (mut store, secrets) = me_store();
    let events = store
        .receive_keys_query(&ours(&cs["dan_keys_query_response"]))
        .unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Pinned {
            user_id: "@dan:localhost".into()
        }]
    );
    // Before our own identity is trusted (T0), nothing is verified.
    assert_eq!(store.user_status("@dan:localhost"), IdentityStatus::Pinned);
    assert_eq!(
        store.device_trust("@dan:localhost", "JHPUERYQUW"),
        DeviceTrust::Unverified
    );
    store.trust_own_identity_with_secrets(&secrets).unwrap();
    let expected = &cs["expected"];
    assert_eq!(
        store.is_user_verified("@dan:localhost"),
        expected["dan_verified"].as_bool().unwrap()
    );
    assert_eq!(
        store.user_status("@dan:localhost"),
        IdentityStatus::Verified
    );
    for (device, want) in expected["dan_devices"].as_object().unwrap() {
        let got = store.device_trust("@dan:localhost", device);
        let want = match want.as_str().unwrap() {
            "cross_signed" => DeviceTrust::CrossSigned,
            _ => DeviceTrust::Unverified,
        };
        assert_eq!(got, want, "{device}");
    }
    // The logged-out variant drops FRGNMZVOKA.
    let events = store
        .receive_keys_query(&ours(&cs["dan_keys_query_response_device_loggedout"]))
        .unwrap();
    assert!(events.is_empty());
    assert_eq!(store.devices("@dan:localhost").count(), 1);
    assert_eq!(
        store.device_trust("@dan:localhost", "FRGNMZVOKA"),
        DeviceTrust::Unknown
    );
    assert_eq!(
        store.device_trust("@dan:localhost", "JHPUERYQUW"),
        DeviceTrust::CrossSigned
    );
}

#[test]
fn rust_sdk_private_keys_are_in_sync_with_the_published_identity() {
    let v = vectors();
    let cs = &v["cross_signing"];
    let (store, secrets) = me_store();
    let published = store.own_identity().unwrap();
    let health = check_key_storage(&secrets, Some(published), None, None);
    assert_eq!(health.master, KeyHealth::Present);
    assert_eq!(health.self_signing, KeyHealth::Present);
    assert_eq!(health.user_signing, KeyHealth::Present);
    assert_eq!(health.backup, KeyHealth::Missing);
    assert!(!health.is_in_sync());
    // Dan's keys held against our published identity: every one is out of sync.
    let dan = CrossSigningSecrets::from_secret_storage(
        Some(cs["dan_private"]["master"].as_str().unwrap()),
        Some(cs["dan_private"]["self_signing"].as_str().unwrap()),
        None,
    )
    .unwrap();
    let health = check_key_storage(&dan, Some(published), None, None);
    assert_eq!(health.master, KeyHealth::NotMatching);
    assert_eq!(health.self_signing, KeyHealth::NotMatching);
    assert_eq!(health.user_signing, KeyHealth::Missing);
    // Dan's private master key matches Dan's published one.
    let dan_master = MasterKey::from_json(&ours(
        &cs["dan_keys_query_response"]["master_keys"]["@dan:localhost"],
    ))
    .unwrap()
    .verify("@dan:localhost")
    .unwrap();
    assert_eq!(dan.master_public(), Some(dan_master.public_key()));
    let _: Ed25519PublicKey = dan_master.public_key();
}

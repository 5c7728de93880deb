//! Helpers shared by the identity tests: a real SAS MAC exchange that proves keys, and /keys/query
//! response builders.
#![allow(dead_code)]

use rand_chacha::ChaCha20Rng;
use safemeet::codec::json::{Object, Value};
use safemeet::identity::{DeviceKeys, UserIdentity, Verified};
use safemeet::primitives::ed25519::Ed25519PublicKey;
use safemeet::verification::sas::{ExpectedKeys, MacIds, MacMethod, Party};
use safemeet::verification::{Sas, VerifiedKeys};

/// Runs the MAC step of a SAS verification in which the other device (`their_user`/`their_device`)
/// MACs `device_key` (under its own device id) and, if given, `master_key`; returns what the verifier
/// proved. Nothing is assumed: the verifier checks real MACs against the keys it expects.
pub(crate) fn sas_proof(
    rng: &mut ChaCha20Rng,
    their_user: &str,
    their_device: &str,
    device_key: Option<Ed25519PublicKey>,
    master_key: Option<Ed25519PublicKey>,
) -> VerifiedKeys {
    let ours = Sas::new(rng);
    let theirs = Sas::new(rng);
    let (our_pub, their_pub) = (ours.public_key(), theirs.public_key());
    let ours = ours.diffie_hellman(&their_pub).unwrap();
    let theirs = theirs.diffie_hellman(&our_pub).unwrap();
    let ids = MacIds {
        sender: Party {
            user_id: their_user,
            device_id: their_device,
        },
        receiver: Party {
            user_id: "@verifier:localhost",
            device_id: "VERIFIER",
        },
        transaction_id: "txn",
    };
    let method = MacMethod::HkdfHmacSha256V2;
    let mut key_ids = Vec::new();
    let mut macs = Vec::new();
    if let Some(k) = device_key {
        let id = format!("ed25519:{their_device}");
        macs.push((id.clone(), theirs.mac_key(method, &ids, &id, &k).unwrap()));
        key_ids.push(id);
    }
    if let Some(k) = master_key {
        let id = format!("ed25519:{}", safemeet::codec::base64::encode(k.as_bytes()));
        macs.push((id.clone(), theirs.mac_key(method, &ids, &id, &k).unwrap()));
        key_ids.push(id);
    }
    let id_refs: Vec<&str> = key_ids.iter().map(String::as_str).collect();
    let keys_mac = theirs.mac_key_ids(method, &ids, &id_refs).unwrap();
    let mac_refs: Vec<(&str, &str)> = macs.iter().map(|(i, m)| (i.as_str(), m.as_str())).collect();
    ours.verify_macs(
        method,
        &ids,
        &mac_refs,
        keys_mac.as_str(),
        &ExpectedKeys {
            device: device_key.map(|k| (their_device, k)),
            master_key,
        },
    )
    .unwrap()
}

/// A `/keys/query` response with `identity` (its user-signing key only when `with_usk`) and devices.
pub(crate) fn keys_query(
    identity: Option<&UserIdentity>,
    with_usk: bool,
    devices: &[&Verified<DeviceKeys>],
) -> Value {
    let mut response = Object::new();
    if let Some(identity) = identity {
        let user = identity.user_id().to_owned();
        let mut put = |field: &str, v: Value| {
            let mut by_user = Object::new();
            by_user.insert(user.clone(), v);
            response.insert(field.into(), Value::Object(by_user));
        };
        put("master_keys", identity.master_key().to_json());
        put("self_signing_keys", identity.self_signing_key().to_json());
        if let (true, Some(usk)) = (with_usk, identity.user_signing_key()) {
            put("user_signing_keys", usk.to_json());
        }
    }
    let mut by_user: Object = Object::new();
    for d in devices {
        let entry = by_user
            .entry(d.user_id().to_owned())
            .or_insert_with(|| Value::Object(Object::new()));
        if let Value::Object(m) = entry {
            m.insert(d.device_id().to_owned(), d.to_json());
        }
    }
    if !by_user.is_empty() {
        response.insert("device_keys".into(), Value::Object(by_user));
    }
    Value::Object(response)
}

/// Merges several `/keys/query` responses into one.
pub(crate) fn merge(responses: &[Value]) -> Value {
    let mut out = Object::new();
    for r in responses {
        if let Value::Object(r) = r {
            for (field, users) in r {
                let entry = out
                    .entry(field.clone())
                    .or_insert_with(|| Value::Object(Object::new()));
                if let (Value::Object(dst), Value::Object(src)) = (entry, users) {
                    for (k, v) in src {
                        dst.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    Value::Object(out)
}

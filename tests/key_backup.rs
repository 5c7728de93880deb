//! Server-side key backup beyond the published vectors: every refusal is a distinct typed error and
//! changes nothing; the ciphertext is, as specified, not authenticated (and what that means); the JSON
//! shapes refuse what they should; `auth_data` signing; the trust rule, case by case; the server's
//! replacement rule; secrets never print.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::BackupError;
use safemeet::backup::key_backup::{
    ALGORITHM, BackupDecryptionKey, BackupInfo, BackupPublicKey, BackupTrust, EncryptedHeader,
    KeyBackupMeta, MAC_LEN, UntrustedReason, add_device_signature, add_master_signature,
    decrypt_len, encrypt_len, unsigned_auth_data, version_request,
};
use safemeet::codec::json::{Object, Value};
use safemeet::codec::{base64, json};
use safemeet::identity::{CrossSigningSecrets, DeviceKeys, DeviceTrust, IdentityStore, signed};
use safemeet::limits::KEY_BACKUP_MAX_CIPHERTEXT_LEN;
use safemeet::olm::Account;
use safemeet::primitives::curve25519::Curve25519PublicKey;

const SENTINEL: u8 = 0xA5;

fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

/// A valid encryption of `pt`: (ciphertext, header).
fn encrypt(
    public: &BackupPublicKey,
    rng: &mut ChaCha20Rng,
    pt: &[u8],
) -> (Vec<u8>, EncryptedHeader) {
    let mut ct = vec![0u8; encrypt_len(pt.len())];
    let (n, header) = public.encrypt_into(rng, pt, &mut ct).unwrap();
    assert_eq!(n, ct.len());
    (ct, header)
}

/// Decrypts into a sentinel-filled buffer; on failure asserts that it was not touched.
fn try_decrypt(
    key: &BackupDecryptionKey,
    ephemeral: &Curve25519PublicKey,
    mac: &[u8; MAC_LEN],
    ct: &[u8],
    out_len: usize,
) -> Result<Vec<u8>, BackupError> {
    let mut out = vec![SENTINEL; out_len];
    match key.decrypt_into(ephemeral, mac, ct, &mut out) {
        Ok(n) => Ok(out[..n].to_vec()),
        Err(e) => {
            assert!(
                out.iter().all(|&b| b == SENTINEL),
                "a failed decryption ({e:?}) wrote to the output"
            );
            Err(e)
        }
    }
}

#[test]
fn lengths_and_round_trips() {
    let mut rng = rng(1);
    let key = BackupDecryptionKey::generate(&mut rng);
    let public = key.public_key();
    let mut cases = 0;
    for len in [0usize, 1, 15, 16, 17, 31, 32, 600, 4096] {
        let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let (ct, header) = encrypt(&public, &mut rng, &pt);
        assert_eq!(ct.len(), (len / 16 + 1) * 16);
        assert_eq!(decrypt_len(ct.len()), ct.len());
        let back = try_decrypt(&key, &header.ephemeral, &header.mac, &ct, ct.len()).unwrap();
        assert_eq!(back, pt);
        cases += 1;
    }
    assert_eq!(cases, 9);
}

#[test]
fn every_refusal_is_distinct_and_writes_nothing() {
    let mut rng = rng(2);
    let key = BackupDecryptionKey::generate(&mut rng);
    let other = BackupDecryptionKey::generate(&mut rng);
    let public = key.public_key();
    let pt = b"{\"algorithm\":\"m.megolm.v1.aes-sha2\"}";
    let (ct, h) = encrypt(&public, &mut rng, pt);
    let mut seen = HashSet::new();

    // Too long.
    let long = vec![0u8; KEY_BACKUP_MAX_CIPHERTEXT_LEN + 16];
    let e = try_decrypt(&key, &h.ephemeral, &h.mac, &long, long.len()).unwrap_err();
    assert_eq!(e, BackupError::InvalidParameter);
    seen.insert(e);
    // Not whole blocks, or empty.
    for bad in [&ct[..0], &ct[..15], &ct[..ct.len() - 1]] {
        let e = try_decrypt(&key, &h.ephemeral, &h.mac, bad, ct.len()).unwrap_err();
        assert_eq!(e, BackupError::Malformed);
        seen.insert(e);
    }
    // Buffer one byte short.
    let e = try_decrypt(&key, &h.ephemeral, &h.mac, &ct, ct.len() - 1).unwrap_err();
    assert_eq!(e, BackupError::BufferTooSmall { needed: ct.len() });
    seen.insert(e);
    // An ephemeral key of small order.
    let e = try_decrypt(
        &key,
        &Curve25519PublicKey::from_bytes([0; 32]),
        &h.mac,
        &ct,
        ct.len(),
    )
    .unwrap_err();
    assert_eq!(e, BackupError::InvalidKey);
    seen.insert(e);
    // The wrong key, a changed MAC, a changed ephemeral key: one opaque error.
    let mut auth = 0;
    assert_eq!(
        try_decrypt(&other, &h.ephemeral, &h.mac, &ct, ct.len()).unwrap_err(),
        BackupError::Authentication
    );
    auth += 1;
    for i in 0..MAC_LEN {
        let mut mac = h.mac;
        mac[i] ^= 0x01;
        assert_eq!(
            try_decrypt(&key, &h.ephemeral, &mac, &ct, ct.len()).unwrap_err(),
            BackupError::Authentication
        );
        auth += 1;
    }
    for i in [0usize, 7, 16, 30] {
        let mut eph = *h.ephemeral.as_bytes();
        eph[i] ^= 0x04;
        assert_eq!(
            try_decrypt(
                &key,
                &Curve25519PublicKey::from_bytes(eph),
                &h.mac,
                &ct,
                ct.len()
            )
            .unwrap_err(),
            BackupError::Authentication
        );
        auth += 1;
    }
    seen.insert(BackupError::Authentication);
    assert_eq!(auth, 13);
    // Five kinds of refusal, five distinct errors.
    assert_eq!(seen.len(), 5, "{seen:?}");
    // And after all that, the genuine entry still decrypts.
    assert_eq!(
        try_decrypt(&key, &h.ephemeral, &h.mac, &ct, ct.len()).unwrap(),
        pt
    );
}

/// The specification's MAC covers no data: a changed ciphertext passes the MAC check. What protects
/// the reader is only that changed ciphertext decrypts to garbage or to bad padding; bad padding is
/// the same opaque error as a bad MAC, and writes nothing.
#[test]
fn the_ciphertext_is_not_authenticated() {
    let mut rng = rng(3);
    let key = BackupDecryptionKey::generate(&mut rng);
    let pt = [b'x'; 40];
    let (ct, h) = encrypt(&key.public_key(), &mut rng, &pt);

    // Changing the first block changes the plaintext, and nothing notices.
    let mut changed = ct.clone();
    changed[3] ^= 0xff;
    let garbage = try_decrypt(&key, &h.ephemeral, &h.mac, &changed, ct.len()).unwrap();
    assert_ne!(garbage, pt);
    assert_eq!(garbage.len(), pt.len());

    // Changing the block before the last changes the padding: refused as Authentication, nothing
    // written (the padding is checked on a copy of the last block first).
    let mut refused = 0;
    for bit in 0..8 {
        let mut changed = ct.clone();
        let at = ct.len() - 17;
        changed[at] ^= 1 << bit;
        match try_decrypt(&key, &h.ephemeral, &h.mac, &changed, ct.len()) {
            Err(e) => {
                assert_eq!(e, BackupError::Authentication);
                refused += 1;
            }
            Ok(p) => assert_ne!(p, pt),
        }
    }
    assert!(refused >= 7, "{refused}");

    // Anyone with the public key writes entries that decrypt: an entry proves nothing about its author.
    let mut server = ChaCha20Rng::from_seed([99; 32]);
    let (forged, fh) = encrypt(&key.public_key(), &mut server, b"anything");
    assert_eq!(
        try_decrypt(&key, &fh.ephemeral, &fh.mac, &forged, forged.len()).unwrap(),
        b"anything"
    );
}

#[test]
fn encrypt_refusals_write_nothing() {
    let mut rng = rng(4);
    let public = BackupDecryptionKey::generate(&mut rng).public_key();
    let pt = [7u8; 33];
    let mut out = vec![SENTINEL; encrypt_len(pt.len()) - 1];
    assert_eq!(
        public.encrypt_into(&mut rng, &pt, &mut out).unwrap_err(),
        BackupError::BufferTooSmall { needed: 48 }
    );
    assert!(out.iter().all(|&b| b == SENTINEL));
    let huge = vec![0u8; KEY_BACKUP_MAX_CIPHERTEXT_LEN];
    let mut out = vec![SENTINEL; encrypt_len(huge.len())];
    assert_eq!(
        public.encrypt_into(&mut rng, &huge, &mut out).unwrap_err(),
        BackupError::InvalidParameter
    );
    assert!(out.iter().all(|&b| b == SENTINEL));
    // The largest plaintext that fits is accepted.
    let max = vec![0u8; KEY_BACKUP_MAX_CIPHERTEXT_LEN - 1];
    assert!(public.encrypt_into(&mut rng, &max, &mut out).is_ok());
}

#[test]
fn key_text_forms() {
    let mut rng = rng(5);
    let key = BackupDecryptionKey::generate(&mut rng);
    let text = key.to_base64();
    assert_eq!(text.len(), 43);
    let back = BackupDecryptionKey::from_base64(&text).unwrap();
    assert_eq!(*back.to_bytes(), *key.to_bytes());
    // Padded is accepted.
    let padded = format!("{}=", &*text);
    assert_eq!(
        *BackupDecryptionKey::from_base64(&padded)
            .unwrap()
            .to_bytes(),
        *key.to_bytes()
    );
    let mut buf = [0u8; 43];
    assert_eq!(key.to_base64_into(&mut buf).unwrap(), 43);
    assert_eq!(&buf[..], text.as_bytes());
    let mut short = [SENTINEL; 42];
    assert_eq!(
        key.to_base64_into(&mut short).unwrap_err(),
        BackupError::BufferTooSmall { needed: 43 }
    );
    assert!(short.iter().all(|&b| b == SENTINEL));
    for bad in [
        "i",
        "",
        &base64::encode([1u8; 31]),
        &base64::encode([1u8; 33]),
        "!!!!",
    ] {
        assert_eq!(
            BackupDecryptionKey::from_base64(bad).unwrap_err(),
            BackupError::Malformed,
            "{bad}"
        );
    }

    let public = key.public_key();
    assert_eq!(
        BackupPublicKey::from_base64(&public.to_base64()).unwrap(),
        public
    );
    let mut pbuf = [0u8; 43];
    assert_eq!(public.to_base64_into(&mut pbuf).unwrap(), 43);
    assert_eq!(&pbuf[..], public.to_base64().as_bytes());
    assert_eq!(
        public.to_base64_into(&mut [0u8; 10]).unwrap_err(),
        BackupError::BufferTooSmall { needed: 43 }
    );
    // Small-order points (on the curve: 0, 1, the order-8 point; p - 1) and wrong lengths.
    let mut one = [0u8; 32];
    one[0] = 1;
    let order8 = [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ];
    let mut p_minus_1 = [0xffu8; 32];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    for bytes in [[0u8; 32], one, order8, p_minus_1] {
        assert_eq!(
            BackupPublicKey::from_bytes(&bytes).unwrap_err(),
            BackupError::InvalidKey
        );
        assert_eq!(
            BackupPublicKey::from_base64(&base64::encode(bytes)).unwrap_err(),
            BackupError::InvalidKey
        );
    }
    for bad in [
        "",
        "abc",
        &base64::encode([9u8; 31]),
        &base64::encode([9u8; 33]),
    ] {
        assert_eq!(
            BackupPublicKey::from_base64(bad).unwrap_err(),
            BackupError::InvalidKey
        );
    }
}

fn parse(text: &str) -> Value {
    json::parse(text.as_bytes()).unwrap()
}

fn set(value: &Value, path: &[&str], new: Option<Value>) -> Value {
    let mut value = value.clone();
    let mut at = &mut value;
    for (i, name) in path.iter().enumerate() {
        let Value::Object(o) = at else { panic!() };
        if i + 1 == path.len() {
            match new {
                Some(v) => {
                    o.insert((*name).into(), v);
                }
                None => {
                    o.remove(*name);
                }
            }
            return value;
        }
        at = o.get_mut(*name).unwrap();
    }
    value
}

#[test]
fn json_shapes_round_trip_and_refuse() {
    let mut rng = rng(6);
    let key = BackupDecryptionKey::generate(&mut rng);
    let public = key.public_key();
    let pt = br#"{"algorithm":"m.megolm.v1.aes-sha2","session_key":"AQ"}"#;
    let meta = KeyBackupMeta {
        first_message_index: 7,
        forwarded_count: 2,
        is_verified: true,
    };
    let entry = public.key_backup_data(&mut rng, pt, meta).unwrap();
    // Through text and back, as the server would return it.
    let entry = parse(&entry.to_canonical());
    let sd = entry.get("session_data").unwrap();
    assert_eq!(sd.get("mac").unwrap().as_str().unwrap().len(), 11);
    assert_eq!(sd.get("ephemeral").unwrap().as_str().unwrap().len(), 43);
    let back = key.decrypt_key_backup_data(&entry).unwrap();
    assert_eq!(&back.plaintext[..], pt);
    assert_eq!(back.meta, meta);
    assert_eq!(KeyBackupMeta::from_json(&entry).unwrap(), meta);
    assert_eq!(&key.decrypt_session_data(sd).unwrap()[..], pt);

    let s = |t: &str| Some(Value::String(t.into()));
    let malformed: Vec<(&[&str], Option<Value>)> = vec![
        (&["first_message_index"], None),
        (&["first_message_index"], Some(Value::Integer(-1))),
        (&["first_message_index"], Some(Value::Integer(1 << 32))),
        (&["first_message_index"], s("0")),
        (&["forwarded_count"], None),
        (&["forwarded_count"], Some(Value::Bool(false))),
        (&["is_verified"], None),
        (&["is_verified"], Some(Value::Integer(1))),
        (&["session_data"], None),
        (&["session_data"], s("x")),
        (&["session_data", "ephemeral"], None),
        (&["session_data", "ephemeral"], Some(Value::Integer(3))),
        (
            &["session_data", "ephemeral"],
            s(&base64::encode([9u8; 31])),
        ),
        (
            &["session_data", "ephemeral"],
            s(&base64::encode([9u8; 33])),
        ),
        (&["session_data", "ephemeral"], s("not base64!")),
        (&["session_data", "mac"], None),
        (&["session_data", "mac"], s(&base64::encode([9u8; 7]))),
        (&["session_data", "mac"], s(&base64::encode([9u8; 9]))),
        (&["session_data", "mac"], s(&base64::encode([9u8; 32]))),
        (&["session_data", "ciphertext"], None),
        (&["session_data", "ciphertext"], s("***")),
        (&["session_data", "ciphertext"], s("")),
        (
            &["session_data", "ciphertext"],
            s(&base64::encode([9u8; 17])),
        ),
    ];
    let count = malformed.len();
    for (path, new) in malformed {
        let bad = set(&entry, path, new.clone());
        assert_eq!(
            key.decrypt_key_backup_data(&bad).unwrap_err(),
            BackupError::Malformed,
            "{path:?} = {new:?}"
        );
    }
    assert_eq!(count, 23);
    // Over the limit.
    let long = set(
        &entry,
        &["session_data", "ciphertext"],
        s(&base64::encode(vec![
            0u8;
            KEY_BACKUP_MAX_CIPHERTEXT_LEN + 16
        ])),
    );
    assert_eq!(
        key.decrypt_key_backup_data(&long).unwrap_err(),
        BackupError::InvalidParameter
    );
    // Unknown members are ignored; padded base64 is read.
    let extra = set(
        &entry,
        &["session_data", "unsigned"],
        Some(Value::Object(Object::new())),
    );
    assert!(key.decrypt_key_backup_data(&extra).is_ok());
    let mac = sd.get("mac").unwrap().as_str().unwrap();
    let padded = set(&entry, &["session_data", "mac"], s(&format!("{mac}=")));
    assert!(key.decrypt_key_backup_data(&padded).is_ok());
    // Not an object at all.
    assert_eq!(
        key.decrypt_session_data(&Value::Null).unwrap_err(),
        BackupError::Malformed
    );
}

#[test]
fn the_servers_replacement_rule() {
    let m = |first_message_index, forwarded_count, is_verified| KeyBackupMeta {
        first_message_index,
        forwarded_count,
        is_verified,
    };
    // (candidate, existing, replaces?)
    let table = [
        (m(5, 3, true), m(0, 0, false), true), // verified wins over everything
        (m(0, 0, false), m(5, 3, true), false), // unverified never replaces verified
        (m(0, 9, false), m(1, 0, false), true), // then the lower first index
        (m(2, 0, true), m(1, 9, true), false), //   (both verified)
        (m(3, 1, false), m(3, 2, false), true), // then the lower forwarded count
        (m(3, 2, false), m(3, 1, false), false), //
        (m(3, 2, true), m(3, 2, true), false), // a tie keeps the existing entry
        (m(3, 2, false), m(3, 2, false), false),
    ];
    for (candidate, existing, expected) in table {
        assert_eq!(
            candidate.replaces(&existing),
            expected,
            "{candidate:?} over {existing:?}"
        );
    }
    assert_eq!(table.len(), 8);
}

// ---------------------------------------------------------------------------------------------------
// auth_data and the trust rule
// ---------------------------------------------------------------------------------------------------

const ALICE: &str = "@alice:example.org";

struct Alice {
    store: IdentityStore,
    secrets: CrossSigningSecrets,
    phone: Account<4>,
    laptop: Account<4>,
    tablet: Account<4>,
}

/// Alice on her phone: her identity (trusted), her phone (this device, cross-signed), her laptop
/// (cross-signed) and her tablet (known, not verified).
fn alice() -> Alice {
    let mut rng = rng(7);
    let phone = Account::<4>::new(&mut rng);
    let laptop = Account::<4>::new(&mut rng);
    let tablet = Account::<4>::new(&mut rng);
    let mut store = IdentityStore::new(ALICE, "PHONE").unwrap();
    let (secrets, _) = store.reset_identity(&mut rng, &phone).unwrap();
    let mut laptop_keys = DeviceKeys::from_account(ALICE, "LAPTOP", &laptop).unwrap();
    secrets.sign_device(&mut laptop_keys).unwrap();
    store.add_own_device(laptop_keys).unwrap();
    store
        .add_own_device(DeviceKeys::from_account(ALICE, "TABLET", &tablet).unwrap())
        .unwrap();
    assert_eq!(store.device_trust(ALICE, "PHONE"), DeviceTrust::CrossSigned);
    assert_eq!(
        store.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::CrossSigned
    );
    assert_eq!(store.device_trust(ALICE, "TABLET"), DeviceTrust::Unverified);
    Alice {
        store,
        secrets,
        phone,
        laptop,
        tablet,
    }
}

fn info_from(auth_data: Object) -> BackupInfo {
    info_with(ALGORITHM, auth_data)
}

fn info_with(algorithm: &str, auth_data: Object) -> BackupInfo {
    let mut response = version_request(auth_data).as_object().unwrap().clone();
    response.insert("algorithm".into(), algorithm.into());
    response.insert("version".into(), "3".into());
    response.insert("count".into(), Value::Integer(12));
    response.insert("etag".into(), "abc".into());
    BackupInfo::from_response(&Value::Object(response)).unwrap()
}

#[test]
fn creating_a_backup_signs_auth_data() {
    let a = alice();
    let mut rng = rng(8);
    let key = BackupDecryptionKey::generate(&mut rng);
    let mut auth_data = unsigned_auth_data(&key.public_key());
    add_device_signature(&mut auth_data, ALICE, "PHONE", &a.phone).unwrap();
    add_master_signature(&mut auth_data, ALICE, &a.secrets).unwrap();
    let body = version_request(auth_data.clone());
    assert_eq!(body.get("algorithm").unwrap().as_str(), Some(ALGORITHM));
    let signing_input = signed::signing_input(&auth_data);
    assert_eq!(
        signing_input,
        format!(r#"{{"public_key":"{}"}}"#, key.public_key().to_base64())
    );
    signed::verify(&auth_data, ALICE, "ed25519:PHONE", &a.phone.ed25519_key()).unwrap();
    let master = a.secrets.master_public().unwrap();
    let master_id = signed::ed25519_key_id(&signed::key_name(&master));
    signed::verify(&auth_data, ALICE, &master_id, &master).unwrap();
    let sigs = auth_data.get("signatures").unwrap().get(ALICE).unwrap();
    assert_eq!(sigs.as_object().unwrap().len(), 2);

    // No master key held: refused, and auth_data unchanged.
    let without = CrossSigningSecrets::from_seeds(None, Some(&[1; 32]), None);
    let mut unsigned = unsigned_auth_data(&key.public_key());
    let before = unsigned.clone();
    assert_eq!(
        add_master_signature(&mut unsigned, ALICE, &without).unwrap_err(),
        BackupError::MissingPrivateKey
    );
    assert_eq!(unsigned, before);
    // A `signatures` member of another shape: refused, unchanged.
    let mut odd = unsigned_auth_data(&key.public_key());
    odd.insert("signatures".into(), "no".into());
    let before = odd.clone();
    assert_eq!(
        add_device_signature(&mut odd, ALICE, "PHONE", &a.phone).unwrap_err(),
        BackupError::Malformed
    );
    assert_eq!(
        add_master_signature(&mut odd, ALICE, &a.secrets).unwrap_err(),
        BackupError::Malformed
    );
    assert_eq!(odd, before);
}

fn signed_by(auth_data: &Object, user: &str, device: &str, account: &Account<4>) -> Object {
    let mut a = auth_data.clone();
    add_device_signature(&mut a, user, device, account).unwrap();
    a
}

#[test]
fn trust_rule_table() {
    let a = alice();
    let mut rng = rng(9);
    let key = BackupDecryptionKey::generate(&mut rng);
    let other_key = BackupDecryptionKey::generate(&mut rng);
    let base = unsigned_auth_data(&key.public_key());
    let phone_key = a.phone.ed25519_key();
    let untrusted = |r| BackupTrust::Untrusted(r);
    let none = untrusted(UntrustedReason::NoTrustedSignature);

    let mut master_signed = base.clone();
    add_master_signature(&mut master_signed, ALICE, &a.secrets).unwrap();
    // Alice's identity as seen by a fresh device that has not verified it yet.
    let mut fresh = IdentityStore::new(ALICE, "NEWLAPTOP").unwrap();
    let upload = a.secrets.public_identity(ALICE).unwrap().upload_request();
    let mut response = Object::new();
    for (field, k) in [
        ("master_keys", "master_key"),
        ("self_signing_keys", "self_signing_key"),
        ("user_signing_keys", "user_signing_key"),
    ] {
        let mut by_user = Object::new();
        by_user.insert(ALICE.into(), upload.get(k).unwrap().clone());
        response.insert(field.into(), Value::Object(by_user));
    }
    fresh.receive_keys_query(&Value::Object(response)).unwrap();
    assert!(!fresh.is_own_identity_trusted());

    // A verified user's device, not ours.
    let bob_account = Account::<4>::new(&mut rng);

    // A valid signature by the laptop, moved to the phone's key id (and one forged under the phone's).
    let laptop_sig = signed_by(&base, ALICE, "LAPTOP", &a.laptop);
    let sig = laptop_sig
        .get("signatures")
        .unwrap()
        .get(ALICE)
        .unwrap()
        .get("ed25519:LAPTOP")
        .unwrap()
        .clone();
    let mut moved = base.clone();
    let mut entity = Object::new();
    entity.insert("ed25519:PHONE".into(), sig.clone());
    let mut sigs = Object::new();
    sigs.insert(ALICE.into(), Value::Object(entity));
    moved.insert("signatures".into(), Value::Object(sigs));
    // A valid signature over a different public key, pasted onto this one.
    let other_signed = signed_by(
        &unsigned_auth_data(&other_key.public_key()),
        ALICE,
        "LAPTOP",
        &a.laptop,
    );
    let mut pasted = base.clone();
    pasted.insert(
        "signatures".into(),
        other_signed.get("signatures").unwrap().clone(),
    );

    let cases: Vec<(&str, BackupTrust, BackupTrust)> = vec![
        // Trusted, one reason each.
        (
            "held key",
            info_from(base.clone()).trust(&a.store, None, Some(&key)),
            BackupTrust::MatchesHeldKey,
        ),
        (
            "master key, identity trusted",
            info_from(master_signed.clone()).trust(&a.store, None, None),
            BackupTrust::SignedByOwnMasterKey,
        ),
        (
            "this device",
            info_from(signed_by(&base, ALICE, "PHONE", &a.phone)).trust(
                &a.store,
                Some(&phone_key),
                None,
            ),
            BackupTrust::SignedByThisDevice,
        ),
        (
            "this device, cross-signed in the store",
            info_from(signed_by(&base, ALICE, "PHONE", &a.phone)).trust(&a.store, None, None),
            BackupTrust::SignedByOwnDevice,
        ),
        (
            "cross-signed own device",
            info_from(laptop_sig.clone()).trust(&a.store, Some(&phone_key), None),
            BackupTrust::SignedByOwnDevice,
        ),
        // Untrusted.
        (
            "unsigned",
            info_from(base.clone()).trust(&a.store, Some(&phone_key), None),
            none,
        ),
        (
            "held key does not match",
            info_from(base.clone()).trust(&a.store, Some(&phone_key), Some(&other_key)),
            none,
        ),
        (
            "unverified own device",
            info_from(signed_by(&base, ALICE, "TABLET", &a.tablet)).trust(
                &a.store,
                Some(&phone_key),
                None,
            ),
            none,
        ),
        (
            "unknown own device",
            info_from(signed_by(&base, ALICE, "GHOST", &a.tablet)).trust(&a.store, None, None),
            none,
        ),
        (
            "master key, identity not trusted",
            info_from(master_signed.clone()).trust(&fresh, None, None),
            none,
        ),
        (
            "another user's device",
            info_from(signed_by(&base, "@bob:example.org", "BOB", &bob_account)).trust(
                &a.store,
                Some(&phone_key),
                None,
            ),
            none,
        ),
        (
            "our device id, under another user",
            info_from(signed_by(&base, "@bob:example.org", "PHONE", &a.phone)).trust(
                &a.store,
                Some(&phone_key),
                None,
            ),
            none,
        ),
        (
            "the laptop's signature under the phone's key id",
            info_from(moved).trust(&a.store, Some(&phone_key), None),
            none,
        ),
        (
            "signature over another public key",
            info_from(pasted).trust(&a.store, Some(&phone_key), None),
            none,
        ),
        (
            "this device's id, signed by another key",
            info_from(signed_by(&base, ALICE, "PHONE", &a.tablet)).trust(
                &a.store,
                Some(&phone_key),
                None,
            ),
            none,
        ),
        (
            "another algorithm, even signed and held",
            info_with(
                "m.megolm_backup.v2",
                signed_by(&base, ALICE, "PHONE", &a.phone),
            )
            .trust(&a.store, Some(&phone_key), Some(&key)),
            untrusted(UntrustedReason::UnsupportedAlgorithm),
        ),
    ];
    let mut invalid_keys = Vec::new();
    for bad in [
        Value::String(base64::encode([0u8; 32])),
        Value::String(base64::encode([9u8; 31])),
        Value::String("not base64".into()),
        Value::Integer(5),
    ] {
        let mut auth = base.clone();
        auth.insert("public_key".into(), bad);
        let auth = signed_by(&auth, ALICE, "PHONE", &a.phone);
        invalid_keys.push(info_from(auth).trust(&a.store, Some(&phone_key), Some(&key)));
    }
    let mut missing = signed_by(&base, ALICE, "PHONE", &a.phone);
    missing.remove("public_key");
    invalid_keys.push(info_from(missing).trust(&a.store, Some(&phone_key), Some(&key)));

    let (mut trusted, mut refused) = (0, 0);
    for (name, got, expected) in &cases {
        assert_eq!(got, expected, "{name}");
        if expected.is_trusted() {
            trusted += 1;
        } else {
            refused += 1;
        }
    }
    for got in &invalid_keys {
        assert_eq!(*got, untrusted(UntrustedReason::InvalidPublicKey));
        refused += 1;
    }
    assert_eq!((trusted, refused), (5, 16));
}

#[test]
fn version_responses() {
    let mut rng = rng(10);
    let key = BackupDecryptionKey::generate(&mut rng);
    let info = info_from(unsigned_auth_data(&key.public_key()));
    assert_eq!(info.version(), "3");
    assert_eq!(info.count(), Some(12));
    assert_eq!(info.etag(), Some("abc"));
    assert_eq!(info.public_key().unwrap(), key.public_key());
    // The backup a POST created, with the version the server answered.
    let created =
        BackupInfo::from_created(&version_request(unsigned_auth_data(&key.public_key())), "9")
            .unwrap();
    assert_eq!(created.version(), "9");
    assert_eq!((created.count(), created.etag()), (None, None));
    assert_eq!(created.public_key().unwrap(), key.public_key());
    assert_eq!(
        BackupInfo::from_created(&Value::Null, "9").unwrap_err(),
        BackupError::Malformed
    );
    let other = info_with("m.other", unsigned_auth_data(&key.public_key()));
    assert_eq!(other.public_key().unwrap_err(), BackupError::Unsupported);

    let good = parse(&format!(
        r#"{{"algorithm":"{ALGORITHM}","auth_data":{{"public_key":"{}"}},"version":"1","count":0,"etag":"x"}}"#,
        key.public_key().to_base64()
    ));
    assert!(BackupInfo::from_response(&good).is_ok());
    // count and etag may be absent.
    let lean = set(&set(&good, &["count"], None), &["etag"], None);
    let lean = BackupInfo::from_response(&lean).unwrap();
    assert_eq!((lean.count(), lean.etag()), (None, None));

    let s = |t: &str| Some(Value::String(t.into()));
    let malformed: Vec<(&[&str], Option<Value>)> = vec![
        (&["algorithm"], None),
        (&["algorithm"], Some(Value::Integer(1))),
        (&["version"], None),
        (&["version"], Some(Value::Integer(1))),
        (&["auth_data"], None),
        (&["auth_data"], s("{}")),
        (&["count"], Some(Value::Integer(-1))),
        (&["count"], s("1")),
        (&["etag"], Some(Value::Integer(1))),
        (&["auth_data", "signatures"], s("x")),
        (&["auth_data", "signatures"], Some(parse(r#"{"@a:b":"x"}"#))),
        (
            &["auth_data", "signatures"],
            Some(parse(r#"{"@a:b":{"ed25519:X":1}}"#)),
        ),
    ];
    let n = malformed.len();
    for (path, new) in malformed {
        assert_eq!(
            BackupInfo::from_response(&set(&good, path, new.clone())).unwrap_err(),
            BackupError::Malformed,
            "{path:?} = {new:?}"
        );
    }
    assert_eq!(n, 12);
    assert_eq!(
        BackupInfo::from_response(&Value::Null).unwrap_err(),
        BackupError::Malformed
    );
    // Too many signatures.
    let mut entity = Object::new();
    for i in 0..=safemeet::limits::MAX_SIGNATURES_PER_OBJECT {
        entity.insert(format!("ed25519:D{i}"), "x".into());
    }
    let mut sigs = Object::new();
    sigs.insert(ALICE.into(), Value::Object(entity));
    let many = set(
        &good,
        &["auth_data", "signatures"],
        Some(Value::Object(sigs)),
    );
    assert_eq!(
        BackupInfo::from_response(&many).unwrap_err(),
        BackupError::InvalidParameter
    );
}

#[test]
fn secrets_never_print() {
    let seed: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
    let key = BackupDecryptionKey::from_bytes(&seed);
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let b64 = base64::encode(seed);
    for text in [format!("{key:?}"), format!("{key:#?}")] {
        assert!(!text.contains(&hex[..16]), "{text}");
        assert!(!text.contains(&hex[..16].to_uppercase()), "{text}");
        assert!(!text.contains(&b64[..12]), "{text}");
        assert!(!text.contains(format!("{:?}", &seed[..4]).trim_end_matches(']')));
        assert!(text.starts_with("BackupDecryptionKey {") && text.contains("BackupPublicKey("));
    }
    let mut rng = rng(11);
    let secret_pt = b"the session key SECRET-MATERIAL";
    let entry = key
        .public_key()
        .key_backup_data(
            &mut rng,
            secret_pt,
            KeyBackupMeta {
                first_message_index: 0,
                forwarded_count: 0,
                is_verified: false,
            },
        )
        .unwrap();
    let decrypted = key.decrypt_key_backup_data(&entry).unwrap();
    let text = format!("{decrypted:?}");
    assert!(!text.contains("SECRET"), "{text}");
    assert!(text.contains("first_message_index"));
    // Error text carries no input.
    for e in [
        BackupError::Authentication,
        BackupError::Malformed,
        BackupError::InvalidKey,
        BackupError::InvalidParameter,
        BackupError::MissingPrivateKey,
        BackupError::BufferTooSmall { needed: 48 },
    ] {
        let text = format!("{e} {e:?}");
        assert!(
            !text.contains(&hex[..8]) && !text.contains(&b64[..8]),
            "{text}"
        );
    }
}

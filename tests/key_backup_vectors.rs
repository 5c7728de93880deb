//! Published vectors for server-side key backup (`test-vectors/backup-key-backup.json`):
//! matrix-rust-sdk's backup decryption (P17) and matrix-js-sdk's backup ciphertext and signed
//! `auth_data` (P21), all through the public API.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rand_core::SeedableRng;
use safemeet::BackupError;
use safemeet::backup::key_backup::{
    BackupDecryptionKey, BackupInfo, BackupPublicKey, BackupTrust, KeyBackupMeta, MAC_LEN,
    UntrustedReason, add_master_signature,
};
use safemeet::codec::json::Value;
use safemeet::codec::{base64, json};
use safemeet::identity::{CrossSigningSecrets, IdentityStore, signed};
use safemeet::primitives::curve25519::Curve25519PublicKey;
use safemeet::primitives::ed25519::Ed25519PublicKey;
use safemeet::primitives::hkdf::hkdf_sha256;
use safemeet::primitives::hmac::hmac_sha256;

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("../test-vectors/backup-key-backup.json")).unwrap()
}

/// serde_json value → our value, through text.
fn ours(v: &serde_json::Value) -> Value {
    json::parse(serde_json::to_string(v).unwrap().as_bytes()).unwrap()
}

fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().unwrap()
}

#[test]
fn p17_full_backup_decryption() {
    let v = vectors();
    let p = &v["p17_backup_decryption"];
    let key = BackupDecryptionKey::from_base64(s(p, "private_key_base64")).unwrap();
    assert_eq!(key.public_key().to_base64(), s(p, "public_key_base64"));
    assert_eq!(*key.to_base64(), s(p, "private_key_base64"));

    let entry = ours(&p["key_backup_data"]);
    let decrypted = key.decrypt_key_backup_data(&entry).unwrap();
    assert_eq!(&decrypted.plaintext[..], s(p, "plaintext").as_bytes());
    assert_eq!(
        decrypted.meta,
        KeyBackupMeta {
            first_message_index: 0,
            forwarded_count: 0,
            is_verified: false
        }
    );
    let session_data = entry.get("session_data").unwrap();
    assert_eq!(
        &key.decrypt_session_data(session_data).unwrap()[..],
        s(p, "plaintext").as_bytes()
    );

    // The same through the no-alloc call, from the raw parts.
    let sd = &p["key_backup_data"]["session_data"];
    let ephemeral =
        Curve25519PublicKey::from_slice(&base64::decode(s(sd, "ephemeral")).unwrap()).unwrap();
    let mac: [u8; MAC_LEN] = base64::decode(s(sd, "mac")).unwrap().try_into().unwrap();
    let ciphertext = base64::decode(s(sd, "ciphertext")).unwrap();
    let mut out = vec![0u8; ciphertext.len()];
    let n = key
        .decrypt_into(&ephemeral, &mac, &ciphertext, &mut out)
        .unwrap();
    assert_eq!(&out[..n], s(p, "plaintext").as_bytes());
}

/// P17's recovery-key pair is rust-sdk's backup decryption key test: the backup key reads from its
/// base58 form to the published bytes, writes back the same grouped text, and the published one-
/// character change (`…UE4e`) is a parity error.
#[test]
fn p17_backup_key_in_recovery_key_form() {
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/test-vectors/backup-secret-storage.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let p17 = v["recovery_keys"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["source"].as_str().unwrap().starts_with("P17"))
        .unwrap();
    let key = BackupDecryptionKey::from_base58(p17["text"].as_str().unwrap()).unwrap();
    assert_eq!(*key.to_base58(), p17["encoded"].as_str().unwrap());
    let hex: String = key.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, p17["key"].as_str().unwrap());
    let mut typo = p17["encoded"].as_str().unwrap().to_string();
    typo.pop();
    typo.push('e');
    assert_eq!(
        BackupDecryptionKey::from_base58(&typo).err(),
        Some(BackupError::InvalidParity)
    );
}

/// P17 read as a typed room key: stored under the session id vodozemac computes from its session
/// key, it decrypts to that session (sender key as published); under another session id it is
/// refused; and a room key encrypted with `encrypt_room_key` reads back the same.
#[test]
fn p17_as_a_typed_room_key() {
    let v = vectors();
    let p = &v["p17_backup_decryption"];
    let key = BackupDecryptionKey::from_base64(s(p, "private_key_base64")).unwrap();
    let entry = ours(&p["key_backup_data"]);
    let plaintext: serde_json::Value = serde_json::from_str(s(p, "plaintext")).unwrap();
    let session_key = plaintext["session_key"].as_str().unwrap();
    let vz_key = vodozemac::megolm::ExportedSessionKey::from_base64(session_key).unwrap();
    let session_id = vodozemac::megolm::InboundGroupSession::import(
        &vz_key,
        vodozemac::megolm::SessionConfig::version_1(),
    )
    .session_id();

    let (room_key, meta) = key
        .decrypt_room_key("!room:example.org", &session_id, &entry)
        .unwrap();
    assert_eq!(room_key.room_id.as_deref(), Some("!room:example.org"));
    assert_eq!(room_key.session_id.as_deref(), Some(session_id.as_str()));
    assert_eq!(
        base64::encode(room_key.sender_key.as_bytes()),
        plaintext["sender_key"].as_str().unwrap()
    );
    assert_eq!(*room_key.session_key.to_base64(), session_key);
    assert_eq!(meta.first_message_index, 0);
    assert_eq!(
        room_key.to_inbound().unwrap().session_id().as_str(),
        session_id
    );

    let other = "a".repeat(session_id.len());
    assert_eq!(
        key.decrypt_room_key("!room:example.org", &other, &entry)
            .unwrap_err(),
        BackupError::SessionIdMismatch
    );

    let mut rng = rand_chacha::ChaCha20Rng::from_seed([17; 32]);
    let meta = KeyBackupMeta {
        first_message_index: 3,
        forwarded_count: 1,
        is_verified: true,
    };
    let again = key
        .public_key()
        .encrypt_room_key(&mut rng, &room_key, meta)
        .unwrap();
    let (back, back_meta) = key
        .decrypt_room_key("!room:example.org", &session_id, &again)
        .unwrap();
    assert_eq!(back_meta, meta);
    assert_eq!(back.to_backup_json(), room_key.to_backup_json());
}

/// The MAC quirk, shown on the published entry: the MAC key derived from the shared secret gives the
/// published `mac` over the empty string and the noted value over the ciphertext, so a decoder that
/// MACs the ciphertext (as the specification's prose might suggest) refuses every real backup.
#[test]
fn p17_mac_is_over_the_empty_string() {
    let v = vectors();
    let p = &v["p17_backup_decryption"];
    let sd = &p["key_backup_data"]["session_data"];
    let private: [u8; 32] = base64::decode(s(p, "private_key_base64"))
        .unwrap()
        .try_into()
        .unwrap();
    let secret = safemeet::primitives::curve25519::Curve25519SecretKey::from_bytes(&private);
    let ephemeral =
        Curve25519PublicKey::from_slice(&base64::decode(s(sd, "ephemeral")).unwrap()).unwrap();
    let shared = secret.diffie_hellman(&ephemeral).unwrap();
    let mut okm = [0u8; 80];
    hkdf_sha256(&[], shared.as_bytes(), b"", &mut okm).unwrap();
    let mac_key = &okm[32..64];
    let ciphertext = base64::decode(s(sd, "ciphertext")).unwrap();
    assert_eq!(
        base64::encode(&hmac_sha256(mac_key, b"")[..8]),
        s(sd, "mac")
    );
    assert_eq!(
        base64::encode(&hmac_sha256(mac_key, &ciphertext)[..8]),
        s(p, "mac_over_ciphertext_would_be")
    );

    // An entry carrying the MAC over the ciphertext is refused.
    let key = BackupDecryptionKey::from_bytes(&private);
    let mut entry = p["key_backup_data"].clone();
    entry["session_data"]["mac"] = s(p, "mac_over_ciphertext_would_be").into();
    assert_eq!(
        key.decrypt_key_backup_data(&ours(&entry)).unwrap_err(),
        BackupError::Authentication
    );
}

#[test]
fn p17_msc4048_unsigned_member_is_ignored() {
    let v = vectors();
    let p = &v["p17_backup_decryption"];
    let key = BackupDecryptionKey::from_base64(s(p, "private_key_base64")).unwrap();
    let mut entry = p["key_backup_data"].clone();
    entry["session_data"]["unsigned"] = v["p17_msc4048_entry"]["unsigned"].clone();
    let decrypted = key.decrypt_key_backup_data(&ours(&entry)).unwrap();
    assert_eq!(&decrypted.plaintext[..], s(p, "plaintext").as_bytes());
}

#[test]
fn p21_backup_ciphertext_decrypts_to_the_exported_session() {
    let v = vectors();
    let p = &v["p21"];
    // Padded base64, as the js-sdk test data writes it.
    let key = BackupDecryptionKey::from_base64(s(p, "backup_decryption_key_base64")).unwrap();
    assert_eq!(
        key.public_key().to_base64(),
        s(&p["signed_backup_info"]["auth_data"], "public_key")
    );
    let decrypted = key
        .decrypt_key_backup_data(&ours(&p["key_backup_data"]))
        .unwrap();
    assert_eq!(
        decrypted.meta,
        KeyBackupMeta {
            first_message_index: 1,
            forwarded_count: 0,
            is_verified: false
        }
    );
    let plaintext = json::parse(&decrypted.plaintext).unwrap();
    assert_eq!(plaintext, ours(&p["megolm_session_data"]));

    // The other key of the test data does not decrypt it.
    let alt = BackupDecryptionKey::from_base64(s(p, "backup_decryption_key_base64_alt")).unwrap();
    assert_eq!(
        alt.decrypt_key_backup_data(&ours(&p["key_backup_data"]))
            .unwrap_err(),
        BackupError::Authentication
    );
}

fn seed(b64: &str) -> [u8; 32] {
    base64::decode(b64).unwrap().try_into().unwrap()
}

/// Alice's store as `test_device`, with her published keys and device from the test data.
fn p21_store(p: &serde_json::Value) -> IdentityStore {
    let mut store = IdentityStore::new(s(p, "user_id"), s(p, "device_id")).unwrap();
    let mut response = p["signed_cross_signing_keys_data"].clone();
    response["device_keys"] = serde_json::json!({
        s(p, "user_id"): { s(p, "device_id"): p["signed_test_device_data"].clone() }
    });
    let events = store.receive_keys_query(&ours(&response)).unwrap();
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, safemeet::identity::IdentityEvent::Rejected { .. })),
        "{events:?}"
    );
    store
}

fn p21_secrets(p: &serde_json::Value) -> CrossSigningSecrets {
    CrossSigningSecrets::from_seeds(
        Some(&seed(s(p, "master_private_key_base64"))),
        Some(&seed(s(p, "self_signing_private_key_base64"))),
        Some(&seed(s(p, "user_signing_private_key_base64"))),
    )
}

#[test]
fn p21_signed_auth_data_and_the_trust_rule() {
    let v = vectors();
    let p = &v["p21"];
    let info = BackupInfo::from_response(&ours(&p["signed_backup_info"])).unwrap();
    assert_eq!(info.version(), "1");
    assert_eq!(info.count(), Some(0));
    assert_eq!(info.etag(), Some(""));
    assert_eq!(info.algorithm(), "m.megolm_backup.v1.curve25519-aes-sha2");
    assert_eq!(
        signed::signing_input(info.auth_data()),
        s(p, "auth_data_signing_input")
    );
    let device_key = Ed25519PublicKey::from_slice(
        &base64::decode(s(
            &p["signed_test_device_data"]["keys"],
            "ed25519:test_device",
        ))
        .unwrap(),
    )
    .unwrap();
    // js-sdk's signature verifies with the device key.
    signed::verify(
        info.auth_data(),
        s(p, "user_id"),
        "ed25519:test_device",
        &device_key,
    )
    .unwrap();

    let mut store = p21_store(p);
    // The device is known but neither verified nor this device: nothing trusts the backup.
    assert_eq!(
        info.trust(&store, None, None),
        BackupTrust::Untrusted(UntrustedReason::NoTrustedSignature)
    );
    // This device's own key signed it.
    assert_eq!(
        info.trust(&store, Some(&device_key), None),
        BackupTrust::SignedByThisDevice
    );
    // We hold the private key of its public key; the other key of the test data does not match.
    let held = BackupDecryptionKey::from_base64(s(p, "backup_decryption_key_base64")).unwrap();
    let alt = BackupDecryptionKey::from_base64(s(p, "backup_decryption_key_base64_alt")).unwrap();
    assert_eq!(
        info.trust(&store, None, Some(&held)),
        BackupTrust::MatchesHeldKey
    );
    assert_eq!(
        info.trust(&store, None, Some(&alt)),
        BackupTrust::Untrusted(UntrustedReason::NoTrustedSignature)
    );

    // Restore the cross-signing keys from the test data's private seeds: the identity becomes
    // trusted, the device is cross-signed, and its signature now counts from the store.
    let secrets = p21_secrets(p);
    store.trust_own_identity_with_secrets(&secrets).unwrap();
    store
        .verify_own_device(&secrets, s(p, "device_id"), None)
        .unwrap();
    assert_eq!(
        info.trust(&store, None, None),
        BackupTrust::SignedByOwnDevice
    );

    // Signed by the master key of the test data: trusted through the master key.
    let mut response = p["signed_backup_info"].clone();
    response["auth_data"]["signatures"] = serde_json::json!({});
    let mut auth_data = ours(&response["auth_data"]).as_object().unwrap().clone();
    add_master_signature(&mut auth_data, s(p, "user_id"), &secrets).unwrap();
    let fresh = p21_store(p);
    let mut trusted = p21_store(p);
    trusted.trust_own_identity_with_secrets(&secrets).unwrap();
    let mut body = ours(&response).as_object().unwrap().clone();
    body.insert("auth_data".into(), Value::Object(auth_data));
    let master_signed = BackupInfo::from_response(&Value::Object(body)).unwrap();
    assert_eq!(
        master_signed.trust(&trusted, None, None),
        BackupTrust::SignedByOwnMasterKey
    );
    // The same signature with our identity not (yet) trusted counts for nothing.
    assert_eq!(
        master_signed.trust(&fresh, None, None),
        BackupTrust::Untrusted(UntrustedReason::NoTrustedSignature)
    );
}

#[test]
fn rfc7748_alice_is_the_p21_key() {
    // P21's backup key is RFC 7748 §6.1's Alice key: its public key is the RFC's.
    let v = vectors();
    let key =
        BackupDecryptionKey::from_base64(s(&v["p21"], "backup_decryption_key_base64")).unwrap();
    let rfc_public = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    let hex: String = key
        .public_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(hex, rfc_public);
    assert_eq!(
        BackupPublicKey::from_bytes(key.public_key().as_bytes()).unwrap(),
        key.public_key()
    );
}

//! Published vectors for recovery keys, passphrases and secret storage
//! (`test-vectors/backup-secret-storage.json`): the FAQ recovery key, matrix-rust-sdk's recovery-key
//! and secret-storage tests (P17, P18), matrix-js-sdk's recovery-key test (P22) and secrets, key
//! checks and a recovery key printed by matrix-js-sdk 43. Every case goes through the public API.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

use common::hex;
use safemeet::BackupError;
use safemeet::backup::passphrase::{PassphraseInfo, derive_key};
use safemeet::backup::recovery_key::{ENCODED_LEN, RecoveryKey};
use safemeet::backup::secret_storage::{
    SecretStorageKey, decrypt_secret_into, encrypt_secret_into, verify_key_check,
};
use safemeet::codec::{base64, json};

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-vectors/backup-secret-storage.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A serde value as our JSON value (through its text).
fn ours(v: &serde_json::Value) -> json::Value {
    json::parse(v.to_string().as_bytes()).unwrap()
}

fn error_named(name: &str) -> BackupError {
    match name {
        "InvalidBase58" => BackupError::InvalidBase58,
        "InvalidLength" => BackupError::InvalidLength,
        "InvalidPrefix" => BackupError::InvalidPrefix,
        "InvalidParity" => BackupError::InvalidParity,
        "Malformed" => BackupError::Malformed,
        "Unsupported" => BackupError::Unsupported,
        other => panic!("unknown error {other}"),
    }
}

fn key32(s: &str) -> RecoveryKey {
    RecoveryKey::from_bytes(&hex(s).try_into().unwrap())
}

#[test]
fn recovery_keys_decode_and_encode() {
    let v = vectors();
    let cases = v["recovery_keys"]["cases"].as_array().unwrap();
    for case in cases {
        let text = case["text"].as_str().unwrap();
        let key = RecoveryKey::decode(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(key.as_bytes().to_vec(), hex(case["key"].as_str().unwrap()));
        let mut out = [0u8; ENCODED_LEN];
        key.encode_into(&mut out).unwrap();
        let encoded = core::str::from_utf8(&out).unwrap();
        if let Some(expected) = case["encoded"].as_str() {
            assert_eq!(encoded, expected);
            assert_eq!(key.to_base58().as_str(), expected);
        }
        // Ours decodes to the same key, with or without its spaces.
        assert_eq!(RecoveryKey::decode(encoded).unwrap(), key);
        assert_eq!(RecoveryKey::decode(&encoded.replace(' ', "")).unwrap(), key);
    }
    println!("{} recovery keys decoded and re-encoded", cases.len());
    assert_eq!(cases.len(), 5);
}

#[test]
fn invalid_recovery_keys_fail_with_the_named_error() {
    let v = vectors();
    let cases = v["invalid_recovery_keys"]["cases"].as_array().unwrap();
    for case in cases {
        let text = case["text"].as_str().unwrap();
        assert_eq!(
            RecoveryKey::decode(text).err(),
            Some(error_named(case["error"].as_str().unwrap())),
            "{text}"
        );
    }
    assert_eq!(cases.len(), 5);
}

#[test]
fn key_descriptions_open_with_their_key_or_passphrase() {
    let v = vectors();
    let cases = v["key_descriptions"]["cases"].as_array().unwrap();
    for case in cases {
        let id = case["key_id"].as_str().unwrap();
        let description = ours(&case["description"]);
        let expected = key32(case["key"].as_str().unwrap());
        let storage = if let Some(text) = case["recovery_key"].as_str() {
            SecretStorageKey::from_recovery_key(id, &description, text).unwrap()
        } else {
            let passphrase = case["passphrase"].as_str().unwrap();
            // The low-level derivation gives the published key bytes, too.
            let info = PassphraseInfo::from_json(description.get("passphrase").unwrap()).unwrap();
            assert_eq!(info.derive(passphrase).unwrap(), expected);
            assert_eq!(
                derive_key(passphrase.as_bytes(), info.salt.as_bytes(), info.iterations).unwrap(),
                expected
            );
            SecretStorageKey::from_passphrase(id, &description, passphrase).unwrap()
        };
        assert_eq!(storage.key_id(), id);
        assert_eq!(storage.recovery_key(), &expected);
        assert_eq!(storage.description_content(), description);
        // Any other key fails the check, distinctly from a MAC failure.
        let mut wrong = *expected.as_bytes();
        wrong[31] ^= 1;
        assert_eq!(
            SecretStorageKey::from_key(id, &description, RecoveryKey::from_bytes(&wrong)).err(),
            Some(BackupError::KeyCheckFailed)
        );
        if case["passphrase"].is_string() {
            assert_eq!(
                SecretStorageKey::from_passphrase(id, &description, "It's a secret to nobody")
                    .err(),
                Some(BackupError::KeyCheckFailed)
            );
        }
    }
    assert_eq!(cases.len(), 2);
}

#[test]
fn invalid_key_descriptions_are_refused() {
    let v = vectors();
    let group = &v["invalid_key_descriptions"];
    let text = group["recovery_key"].as_str().unwrap();
    let cases = group["cases"].as_array().unwrap();
    for case in cases {
        assert_eq!(
            SecretStorageKey::from_recovery_key("id", &ours(&case["description"]), text).err(),
            Some(error_named(case["error"].as_str().unwrap())),
            "{}",
            case["description"]
        );
    }
    assert_eq!(cases.len(), 3);
}

#[test]
fn encrypted_data_lengths_are_checked_before_the_mac() {
    let v = vectors();
    let group = &v["encrypted_data_decoding"];
    // Any key will do: the valid entry must get as far as the MAC check, the invalid ones not.
    let description = json::parse(br#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2"}"#).unwrap();
    let storage =
        SecretStorageKey::from_key("k", &description, RecoveryKey::from_bytes(&[1; 32])).unwrap();
    let content = |entry: &serde_json::Value| {
        ours(&serde_json::json!({"encrypted": {"k": {
            "iv": entry["iv"], "ciphertext": entry["ciphertext"], "mac": entry["mac"]
        }}}))
    };
    let valid = &group["valid"];
    assert_eq!(
        base64::decode(valid["iv"].as_str().unwrap()).unwrap(),
        hex(valid["iv_hex"].as_str().unwrap())
    );
    assert_eq!(
        base64::decode(valid["mac"].as_str().unwrap()).unwrap(),
        hex(valid["mac_hex"].as_str().unwrap())
    );
    assert_eq!(
        storage.decrypt_secret("any", &content(valid)).err(),
        Some(BackupError::Authentication)
    );
    let invalid = group["invalid"].as_array().unwrap();
    for entry in invalid {
        assert_eq!(
            storage.decrypt_secret("any", &content(entry)).err(),
            Some(error_named(entry["error"].as_str().unwrap()))
        );
    }
    assert_eq!(invalid.len(), 2);
}

#[test]
fn js_sdk_key_check_verifies() {
    let v = vectors();
    let g = &v["key_check_js_sdk"];
    let key = key32(g["key"].as_str().unwrap());
    let iv: [u8; 16] = base64::decode(g["iv"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let mac: [u8; 32] = base64::decode(g["mac"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    verify_key_check(&key, &iv, &mac).unwrap();
    // js-sdk's ciphertext of the 32 zero bytes is what our encryption of the secret "" gives.
    let mut ct = [0u8; 32];
    let sealed = encrypt_secret_into(&key, "", iv, &[0; 32], &mut ct).unwrap();
    assert_eq!(sealed.mac, mac);
    assert_eq!(
        ct.to_vec(),
        base64::decode(g["ciphertext"].as_str().unwrap()).unwrap()
    );
}

#[test]
fn js_sdk_secrets_decrypt_and_reencrypt() {
    let v = vectors();
    let g = &v["secrets_js_sdk"];
    let key = key32(g["key"].as_str().unwrap());
    let cases = g["cases"].as_array().unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = case["data"].as_str().unwrap();
        let field = |f: &str| base64::decode(case[f].as_str().unwrap()).unwrap();
        let iv: [u8; 16] = field("iv").try_into().unwrap();
        let mac: [u8; 32] = field("mac").try_into().unwrap();
        let ciphertext = field("ciphertext");
        let mut out = vec![0u8; ciphertext.len()];
        let n = decrypt_secret_into(&key, name, &iv, &ciphertext, &mac, &mut out).unwrap();
        assert_eq!(&out[..n], data.as_bytes());
        let mut again = vec![0u8; data.len()];
        let sealed = encrypt_secret_into(&key, name, iv, data.as_bytes(), &mut again).unwrap();
        assert_eq!((sealed.iv, sealed.mac), (iv, mac));
        assert_eq!(again, ciphertext);
        // And through the JSON shape.
        let description =
            json::parse(br#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2"}"#).unwrap();
        let storage =
            SecretStorageKey::from_key("js", &description, RecoveryKey::from_bytes(key.as_bytes()))
                .unwrap();
        let content = ours(&serde_json::json!({"encrypted": {"js": {
            "iv": case["iv"], "ciphertext": case["ciphertext"], "mac": case["mac"]
        }}}));
        assert_eq!(
            storage.decrypt_secret(name, &content).unwrap().as_str(),
            data
        );
    }
    assert_eq!(cases.len(), 4);
}

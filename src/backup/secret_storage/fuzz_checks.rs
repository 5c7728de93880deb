//! The checks the recovery-key and secret-storage fuzz targets run, public (hidden) so that
//! `tests/fuzz_corpus.rs` replays the committed seeds through exactly the same code. They panic on a
//! broken property, never on bad input.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::{
    IV_LEN, MAC_LEN, SecretStorageKey, decrypt_secret_into, encrypt_secret_into, verify_key_check,
};
use crate::backup::recovery_key::{ENCODED_LEN, RecoveryKey};
use crate::codec::{base64, json};
use crate::error::BackupError;

/// The storage key the secret-storage target encrypts under (also the seeds' key).
pub const FUZZ_KEY: [u8; 32] = *b"safemeet fuzz secret-storage key";

/// The key id of [`FUZZ_KEY`] in the seeds' contents.
pub const FUZZ_KEY_ID: &str = "fuzzkeyid";

/// The secret names tried on every payload.
pub const FUZZ_NAMES: [&str; 3] = ["m.megolm_backup.v1", "m.cross_signing.master", ""];

/// One recovery-key text into [`RecoveryKey::decode`]: no panic; a key that decodes re-encodes to a
/// text that decodes to the same key; the result does not depend on whitespace. The input's first
/// 32 bytes are also encoded as a key and must decode back.
pub fn check_recovery_key(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let result = RecoveryKey::decode(&text);
    if let Ok(key) = &result {
        let mut out = [0u8; ENCODED_LEN];
        assert_eq!(key.encode_into(&mut out), Ok(ENCODED_LEN));
        let again = core::str::from_utf8(&out).expect("the encoding is ASCII");
        assert_eq!(RecoveryKey::decode(again).as_ref(), Ok(key));
    }
    // Whitespace is insignificant: removed, or doubled around every character, the answer is the
    // same.
    let stripped: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert_eq!(RecoveryKey::decode(&stripped), result);
    let spread: String = stripped.chars().flat_map(|c| [' ', c, '\n']).collect();
    assert_eq!(RecoveryKey::decode(&spread), result);

    if let Some(bytes) = data.first_chunk::<32>() {
        let key = RecoveryKey::from_bytes(bytes);
        let text = key.to_base58();
        assert_eq!(text.len(), ENCODED_LEN);
        assert!(text.starts_with("EsS") || text.starts_with("EsT") || text.starts_with("EsU"));
        assert_eq!(RecoveryKey::decode(&text), Ok(key));
    }
}

/// One secret-storage payload, read three ways:
///
/// 1. as JSON: a secret's content decrypted under [`FUZZ_KEY`] for each of [`FUZZ_NAMES`], and a key
///    description opened with it;
/// 2. as raw bytes `iv (16) ‖ mac (32) ‖ ciphertext` through [`decrypt_secret_into`];
/// 3. as an XOR mask over a valid encrypted secret's `iv ‖ ciphertext ‖ mac`.
///
/// Whatever decrypts must re-encrypt, under the same IV, to exactly the ciphertext and MAC it came
/// from (so it was encrypted under the key); a changed ciphertext or MAC must fail; a failed decrypt
/// writes nothing.
pub fn check_secret_storage(data: &[u8]) {
    let key = RecoveryKey::from_bytes(&FUZZ_KEY);
    if let Ok(value) = json::parse(data) {
        check_json(&value);
    }

    // 2. Raw iv ‖ mac ‖ ciphertext.
    if let (Some(iv), Some(rest)) = (data.first_chunk::<IV_LEN>(), data.get(IV_LEN..))
        && let (Some(mac), Some(ciphertext)) = (rest.first_chunk::<MAC_LEN>(), rest.get(MAC_LEN..))
    {
        for name in FUZZ_NAMES {
            check_raw(&key, name, iv, ciphertext, mac);
        }
        let _ = verify_key_check(&key, iv, mac);
    }

    // 3. A mask over a genuine secret.
    let secret = b"base64 of a 32-byte key, 43 chars long here";
    let mut ciphertext = [0u8; 43];
    let sealed = encrypt_secret_into(&key, FUZZ_NAMES[0], [0x5A; IV_LEN], secret, &mut ciphertext)
        .expect("a short secret encrypts");
    let mut blob: Vec<u8> = sealed.iv.to_vec();
    blob.extend_from_slice(&ciphertext);
    blob.extend_from_slice(&sealed.mac);
    for (b, m) in blob.iter_mut().zip(data) {
        *b ^= m;
    }
    let (iv, rest) = blob.split_at(IV_LEN);
    let (ct, mac) = rest.split_at(ciphertext.len());
    let iv: [u8; IV_LEN] = iv.try_into().expect("16 bytes");
    let mac: [u8; MAC_LEN] = mac.try_into().expect("32 bytes");
    let touched = ct != ciphertext || mac != sealed.mac;
    let ok = check_raw(&key, FUZZ_NAMES[0], &iv, ct, &mac);
    assert!(!(ok && touched), "an altered ciphertext or MAC decrypted");
    if !touched {
        assert!(ok, "the genuine secret did not decrypt");
    }
}

/// Decrypts raw parts; on success checks that the plaintext re-encrypts to the same ciphertext and
/// MAC, on failure that nothing was written. Returns whether it decrypted.
fn check_raw(
    key: &RecoveryKey,
    name: &str,
    iv: &[u8; IV_LEN],
    ciphertext: &[u8],
    mac: &[u8; MAC_LEN],
) -> bool {
    let mut out = vec![0xA5u8; ciphertext.len()];
    match decrypt_secret_into(key, name, iv, ciphertext, mac, &mut out) {
        Ok(n) => {
            assert_eq!(n, ciphertext.len());
            assert_reencrypts(key, name, iv, &out, ciphertext, mac);
            true
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    BackupError::Authentication | BackupError::InvalidParameter
                ),
                "{e:?}"
            );
            assert!(out.iter().all(|&b| b == 0xA5), "a failed decrypt wrote");
            false
        }
    }
}

/// Encrypting `plaintext` under `iv` gives `ciphertext` and `mac` back, so the bytes were encrypted
/// under the key. Our encryption always clears bit 63 of the IV; for a received IV with it set (the
/// MAC does not cover the IV, so any IV "decrypts" a genuine ciphertext, to other bytes), the
/// plaintext must instead survive a round trip under the cleared IV.
fn assert_reencrypts(
    key: &RecoveryKey,
    name: &str,
    iv: &[u8; IV_LEN],
    plaintext: &[u8],
    ciphertext: &[u8],
    mac: &[u8; MAC_LEN],
) {
    let mut again = vec![0u8; plaintext.len()];
    let sealed =
        encrypt_secret_into(key, name, *iv, plaintext, &mut again).expect("re-encryption works");
    if iv[8] & 0x80 == 0 {
        assert_eq!(
            &sealed.mac, mac,
            "decrypted bytes were not MACed under the key"
        );
        assert_eq!(again, ciphertext, "decrypted bytes do not re-encrypt");
    } else {
        let mut back = vec![0u8; plaintext.len()];
        let n = decrypt_secret_into(key, name, &sealed.iv, &again, &sealed.mac, &mut back)
            .expect("our own encryption decrypts");
        assert_eq!(&back[..n], plaintext);
    }
}

/// A JSON value as a secret's content and as a key description.
fn check_json(value: &json::Value) {
    let key = RecoveryKey::from_bytes(&FUZZ_KEY);
    let open = json::parse(br#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2"}"#)
        .expect("a constant description parses");
    let storage = SecretStorageKey::from_key(FUZZ_KEY_ID, &open, key).expect("no key check");
    for name in FUZZ_NAMES {
        if let Ok(secret) = storage.decrypt_secret(name, value) {
            let entry = value
                .get("encrypted")
                .and_then(|e| e.get(FUZZ_KEY_ID))
                .expect("a decrypted content has our entry");
            let field = |f: &str| base64::decode(entry.get(f).unwrap().as_str().unwrap()).unwrap();
            let iv: [u8; IV_LEN] = field("iv").try_into().unwrap();
            let mac: [u8; MAC_LEN] = field("mac").try_into().unwrap();
            assert_reencrypts(
                storage.recovery_key(),
                name,
                &iv,
                secret.as_bytes(),
                &field("ciphertext"),
                &mac,
            );
        }
    }
    // The value as a key description: opening never panics. A passphrase is derived only when its
    // iteration count is small, so that the target stays fast.
    let _ = SecretStorageKey::from_key("k", value, RecoveryKey::from_bytes(&FUZZ_KEY));
    let cheap = value
        .get("passphrase")
        .and_then(|p| p.get("iterations"))
        .and_then(json::Value::as_integer)
        .is_some_and(|n| n <= 16);
    if cheap {
        let _ = SecretStorageKey::from_passphrase("k", value, "passphrase");
    }
}

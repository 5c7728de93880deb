//! Checks over arbitrary bytes for server-side key backup, shared by the fuzz target
//! `backup_key_backup` (`fuzz/fuzz_targets/`) and the corpus replay test (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API, and **test-only**: a failed `assert!` is how a fuzzer reports a
//! finding. The fixed backup key is built from fixed bytes; the "random" ephemeral keys come from a
//! deterministic generator seeded with the input.
//!
//! [`check_backup`] runs the input through every backup decoder and decrypt path:
//!
//! - as JSON: a `KeyBackupData` entry, a bare `session_data`, and a `GET /room_keys/version`
//!   response (parse and trust decision against an empty identity store). Anything that decrypts
//!   under the fixed key is re-encrypted and must decrypt again to the same bytes;
//! - as raw parts (`ephemeral ‖ mac ‖ ciphertext`) through `decrypt_into`, with a buffer that is too
//!   small (must be refused with the exact size needed, and leave the buffer untouched) and one that
//!   fits (a failure leaves it untouched too);
//! - as a plaintext: encrypting it must round-trip through `decrypt_into` and through the JSON shapes,
//!   and changing the MAC or the ephemeral key must be refused without writing anything.
#![cfg(feature = "alloc")]

use alloc::vec;

use super::{
    BackupDecryptionKey, BackupInfo, EncryptedHeader, KeyBackupMeta, MAC_LEN, encrypt_len,
};
use crate::BackupError;
use crate::codec::json;
use crate::identity::IdentityStore;
use crate::limits::KEY_BACKUP_MAX_CIPHERTEXT_LEN;
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::session::fuzz_checks::FuzzRng;

/// The fixed backup key of the checks: RFC 7748's Alice key, which is also the key of
/// matrix-js-sdk's backup test data, so that its ciphertext is a useful seed.
pub const FIXED_KEY: [u8; 32] = [
    0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
    0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
];

const SENTINEL: u8 = 0xA5;

/// Runs every check on `data`.
///
/// JSON goes through the JSON checks only; anything else through the raw and round-trip checks (each
/// X25519 multiplication costs, and the fuzzer's time is better spent on more inputs).
pub fn check_backup(data: &[u8]) {
    let key = BackupDecryptionKey::from_bytes(&FIXED_KEY);
    if let Ok(value) = json::parse(data) {
        check_json(&key, &value, data);
    } else {
        check_raw(&key, data);
        check_round_trip(&key, data);
    }
}

fn check_json(key: &BackupDecryptionKey, value: &json::Value, data: &[u8]) {
    let mut rng = FuzzRng::new(data);
    if let Ok(decrypted) = key.decrypt_key_backup_data(value) {
        assert_eq!(KeyBackupMeta::from_json(value), Ok(decrypted.meta));
        let again = key
            .public_key()
            .key_backup_data(&mut rng, &decrypted.plaintext, decrypted.meta)
            .unwrap();
        let back = key.decrypt_key_backup_data(&again).unwrap();
        assert_eq!(*back.plaintext, *decrypted.plaintext);
        assert_eq!(back.meta, decrypted.meta);
    }
    if let Ok(plaintext) = key.decrypt_session_data(value) {
        let again = key
            .public_key()
            .encrypt_session_data(&mut rng, &plaintext)
            .unwrap();
        assert_eq!(*key.decrypt_session_data(&again).unwrap(), *plaintext);
    }
    if let Ok(meta) = KeyBackupMeta::from_json(value) {
        assert!(!meta.replaces(&meta), "a tie keeps the existing entry");
    }
    if let Ok(info) = BackupInfo::from_response(value) {
        let store = IdentityStore::new("@fuzz:example.org", "FUZZ").unwrap();
        let trust = info.trust(&store, None, None);
        assert!(
            !trust.is_trusted(),
            "nothing is trusted with an empty store"
        );
        let held = info.trust(&store, None, Some(key));
        assert_eq!(
            held.is_trusted(),
            info.public_key() == Ok(key.public_key()),
            "only the held key's backup is trusted through it"
        );
    }
}

fn check_raw(key: &BackupDecryptionKey, data: &[u8]) {
    let (Some(ephemeral), Some(mac), Some(ciphertext)) = (
        data.get(..32),
        data.get(32..32 + MAC_LEN),
        data.get(32 + MAC_LEN..),
    ) else {
        return;
    };
    let ephemeral = Curve25519PublicKey::from_slice(ephemeral).unwrap();
    let mac: [u8; MAC_LEN] = mac.try_into().unwrap();
    // Too small by one byte: refused with the size, nothing written.
    let needed = super::decrypt_len(ciphertext.len());
    let mut small = vec![SENTINEL; needed.saturating_sub(1)];
    match key.decrypt_into(&ephemeral, &mac, ciphertext, &mut small) {
        Err(BackupError::BufferTooSmall { needed: n }) => assert_eq!(n, needed),
        Err(
            BackupError::Malformed
            | BackupError::InvalidParameter
            | BackupError::InvalidKey
            | BackupError::Authentication,
        ) => {}
        other => panic!("a too-small buffer must be refused, got {other:?}"),
    }
    assert!(small.iter().all(|&b| b == SENTINEL), "nothing written");
    let mut out = vec![SENTINEL; needed];
    match key.decrypt_into(&ephemeral, &mac, ciphertext, &mut out) {
        Ok(n) => {
            assert!(n < ciphertext.len() && ciphertext.len() - n <= 16);
            // What decrypts re-encrypts (under a fresh ephemeral key) and decrypts to the same.
            let mut rng = FuzzRng::new(data);
            let mut ct = vec![0u8; encrypt_len(n)];
            let (len, header) = key
                .public_key()
                .encrypt_into(&mut rng, &out[..n], &mut ct)
                .unwrap();
            let mut back = vec![0u8; len];
            let m = key
                .decrypt_into(&header.ephemeral, &header.mac, &ct[..len], &mut back)
                .unwrap();
            assert_eq!(&back[..m], &out[..n]);
        }
        Err(_) => assert!(
            out.iter().all(|&b| b == SENTINEL),
            "a failure writes nothing"
        ),
    }
}

fn check_round_trip(key: &BackupDecryptionKey, data: &[u8]) {
    if encrypt_len(data.len()) > KEY_BACKUP_MAX_CIPHERTEXT_LEN {
        return;
    }
    let mut rng = FuzzRng::new(b"backup round trip");
    let public = key.public_key();
    let mut ct = vec![0u8; encrypt_len(data.len())];
    // Too small: refused with the size, nothing written.
    let mut small = vec![SENTINEL; ct.len() - 1];
    assert_eq!(
        public.encrypt_into(&mut rng, data, &mut small),
        Err(BackupError::BufferTooSmall { needed: ct.len() })
    );
    assert!(small.iter().all(|&b| b == SENTINEL));
    let (len, header) = public.encrypt_into(&mut rng, data, &mut ct).unwrap();
    assert_eq!(len, ct.len());
    let mut out = vec![0u8; len];
    let n = key
        .decrypt_into(&header.ephemeral, &header.mac, &ct, &mut out)
        .unwrap();
    assert_eq!(&out[..n], data);
    // A changed MAC or ephemeral key is refused, and nothing is written.
    let first = data.first().copied().unwrap_or(0);
    let mut mac = header.mac;
    mac[usize::from(first) % MAC_LEN] ^= 1 << (first % 8);
    let mut eph = *header.ephemeral.as_bytes();
    eph[usize::from(first) % 31] ^= 1 << (first % 8);
    // One of the two per input, so that each costs one multiplication.
    let bad = if first & 1 == 0 {
        EncryptedHeader { mac, ..header }
    } else {
        EncryptedHeader {
            ephemeral: Curve25519PublicKey::from_bytes(eph),
            ..header
        }
    };
    {
        let mut out = vec![SENTINEL; len];
        let r = key.decrypt_into(&bad.ephemeral, &bad.mac, &ct, &mut out);
        assert!(
            matches!(
                r,
                Err(BackupError::Authentication | BackupError::InvalidKey)
            ),
            "{r:?}"
        );
        assert!(out.iter().all(|&b| b == SENTINEL));
    }
    // The JSON shapes round-trip too.
    let meta = KeyBackupMeta {
        first_message_index: u32::from(first),
        forwarded_count: u32::from(data.last().copied().unwrap_or(0)),
        is_verified: first & 1 == 1,
    };
    let entry = public.key_backup_data(&mut rng, data, meta).unwrap();
    let text = entry.to_canonical();
    let parsed = json::parse_response(text.as_bytes()).unwrap();
    let back = key.decrypt_key_backup_data(&parsed).unwrap();
    assert_eq!(&back.plaintext[..], data);
    assert_eq!(back.meta, meta);
}

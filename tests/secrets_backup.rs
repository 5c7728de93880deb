//! Recovery keys, secret-storage keys and passphrase-derived keys never show their bytes in `Debug`
//! output, and backup errors have fixed text that carries no input.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rand_core::SeedableRng;
use safemeet::backup::passphrase::derive_key;
use safemeet::backup::recovery_key::RecoveryKey;
use safemeet::backup::secret_storage::SecretStorageKey;
use safemeet::{BackupError, Error};

/// Forms in which a secret's bytes could leak into text: hex (both cases), the decimal list of a
/// derived `Debug`, and the recovery-key text itself.
fn assert_no_leak(text: &str, key: &RecoveryKey) {
    let bytes = key.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let decimal = format!("{:?}", &bytes[..4]);
    let encoded = key.to_base58();
    for pattern in [
        hex[..16].to_owned(),
        hex[..16].to_uppercase(),
        decimal.trim_end_matches(']').to_owned(),
        encoded[..14].to_owned(),
        encoded.replace(' ', "")[..12].to_owned(),
    ] {
        assert!(
            !text.contains(&pattern),
            "{text:?} leaks the key ({pattern})"
        );
    }
}

#[test]
fn keys_are_redacted() {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([41; 32]);
    let key = RecoveryKey::from_bytes(&core::array::from_fn(|i| (i as u8).wrapping_mul(29) ^ 0x5c));
    assert_eq!(format!("{key:?}"), "RecoveryKey { .. }");
    assert_no_leak(&format!("{key:#?}"), &key);

    let derived = derive_key(b"hunter2", b"salt", 3).unwrap();
    assert_no_leak(&format!("{derived:?}"), &derived);

    let storage = SecretStorageKey::new(&mut rng, None);
    let text = format!("{storage:?}");
    assert!(text.contains(storage.key_id()), "{text}");
    assert_no_leak(&text, storage.recovery_key());
    assert_no_leak(&format!("{storage:#?}"), storage.recovery_key());

    // A decrypted secret's content does not appear in the content's or the key's Debug either.
    let content = storage
        .encrypt_secret(&mut rng, "m.megolm_backup.v1", "the secret text")
        .unwrap();
    assert!(!format!("{content:?}").contains("the secret text"));
}

#[test]
fn backup_error_text_is_fixed() {
    let errors = [
        BackupError::InvalidBase58,
        BackupError::InvalidLength,
        BackupError::InvalidPrefix,
        BackupError::InvalidParity,
        BackupError::Authentication,
        BackupError::Malformed,
        BackupError::Unsupported,
        BackupError::InvalidParameter,
        BackupError::InvalidKey,
        BackupError::BufferTooSmall { needed: 59 },
        BackupError::KeyCheckFailed,
        BackupError::NotEncryptedForKey,
        BackupError::NoPassphrase,
        BackupError::MissingPrivateKey,
        BackupError::SessionIdMismatch,
        BackupError::NoBackup,
        BackupError::NoSecretStorage,
        BackupError::KeyMismatch,
    ];
    let texts: Vec<String> = errors.iter().map(|e| Error::from(*e).to_string()).collect();
    assert_eq!(
        texts,
        [
            "backup: recovery key contains a character outside base58",
            "backup: recovery key has the wrong length",
            "backup: recovery key has the wrong prefix",
            "backup: recovery key parity check failed",
            "backup: authentication failed",
            "backup: malformed backup payload",
            "backup: unsupported algorithm or version",
            "backup: parameter out of range",
            "backup: invalid public key",
            "backup: output buffer too small: 59 bytes needed",
            "backup: secret storage key check failed: wrong key",
            "backup: secret not encrypted for this key",
            "backup: secret storage key has no passphrase",
            "backup: private key not held",
            "backup: room key session id does not match its key",
            "backup: no key backup",
            "backup: no secret storage",
            "backup: backup key does not belong to this backup",
        ]
    );
    // Distinct, and small `Copy` values.
    for (i, a) in errors.iter().enumerate() {
        for b in &errors[i + 1..] {
            assert_ne!(a, b);
        }
    }
    assert!(size_of::<BackupError>() <= 16);
}

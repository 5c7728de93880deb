//! Secret storage, `m.secret_storage.v1.aes-hmac-sha2`: named secrets (the cross-signing private keys,
//! the backup key) encrypted under one 32-byte key and kept on the server as account data.
//!
//! Each secret gets its own keys: `HKDF-SHA-256(salt = 32 zero bytes, IKM = the storage key, info =
//! the secret's name, 64 bytes)`, the first half an AES-256 key, the second an HMAC-SHA-256 key. A
//! secret is encrypted with AES-256-CTR under a random 16-byte IV whose bit 63 is cleared (`iv[8] &=
//! 0x7F`: matrix-js-sdk's WebCrypto counter is 64 bits wide, ours and rust-sdk's 128, and with that
//! bit clear the two agree for any message shorter than 2^63 blocks), and authenticated with
//! `HMAC-SHA-256` over the ciphertext alone (all 32 bytes). Decryption checks the MAC, in constant
//! time, before anything is decrypted. Binding the name into the keys means a secret moved to
//! another name fails its MAC.
//!
//! A key description (account data `m.secret_storage.key.<id>`) can carry a *key check*: an `iv`
//! and the `mac` of 32 zero bytes encrypted as the secret named `""`. It lets a client tell a wrong
//! recovery key or passphrase from a damaged secret ([`BackupError::KeyCheckFailed`] versus
//! [`BackupError::Authentication`]). When a description has no check, the specification says to
//! assume the key is right.
//!
//! This module's functions need no allocator: they take the raw `iv`, ciphertext and `mac` and write
//! into caller buffers. The JSON shapes (the key description, the `{"encrypted": {<id>: {iv,
//! ciphertext, mac}}}` content) are in [`SecretStorageKey`] (`alloc`).
//!
//! ```
//! use safemeet::backup::recovery_key::RecoveryKey;
//! use safemeet::backup::secret_storage::{decrypt_secret_into, encrypt_secret_into};
//!
//! let key = RecoveryKey::from_bytes(&[7; 32]);
//! let mut ciphertext = [0u8; 43];
//! let sealed = encrypt_secret_into(&key, "m.megolm_backup.v1", [0xFF; 16], b"a secret of 43 bytes, base64 of a key......", &mut ciphertext)?;
//! assert_eq!(sealed.iv[8], 0x7F); // bit 63 cleared
//!
//! let mut plaintext = [0u8; 43];
//! let n = decrypt_secret_into(&key, "m.megolm_backup.v1", &sealed.iv, &ciphertext, &sealed.mac, &mut plaintext)?;
//! assert_eq!(&plaintext[..n], b"a secret of 43 bytes, base64 of a key......");
//!
//! // Another name, another key: the MAC fails and nothing is written.
//! let mut out = [0u8; 43];
//! assert!(decrypt_secret_into(&key, "m.cross_signing.master", &sealed.iv, &ciphertext, &sealed.mac, &mut out).is_err());
//! assert_eq!(out, [0u8; 43]);
//! # Ok::<(), safemeet::BackupError>(())
//! ```

#[doc(hidden)]
#[cfg(feature = "alloc")]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;
#[cfg(feature = "alloc")]
mod storage_key;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::recovery_key::RecoveryKey;
use crate::error::BackupError;
pub use crate::limits::SECRET_STORAGE_MAX_SECRET_LEN;
use crate::primitives::aes::aes256_ctr_apply;
use crate::primitives::hkdf::hkdf_sha256;
use crate::primitives::hmac::{HmacSha256, TAG_LEN};
#[cfg(feature = "alloc")]
pub use storage_key::{KEY_ID_LEN, SecretStorageKey, key_description_event_type};

/// The secret-storage algorithm name, in key descriptions.
pub const ALGORITHM: &str = "m.secret_storage.v1.aes-hmac-sha2";

/// The account-data event type naming the default key (`{"key": <id>}`).
pub const DEFAULT_KEY_EVENT_TYPE: &str = "m.secret_storage.default_key";

/// The prefix of a key description's account-data event type (`m.secret_storage.key.<id>`).
pub const KEY_EVENT_TYPE_PREFIX: &str = "m.secret_storage.key.";

/// The secret name of the master cross-signing private key (base64 of its 32-byte seed).
pub const CROSS_SIGNING_MASTER: &str = "m.cross_signing.master";

/// The secret name of the self-signing private key.
pub const CROSS_SIGNING_SELF_SIGNING: &str = "m.cross_signing.self_signing";

/// The secret name of the user-signing private key.
pub const CROSS_SIGNING_USER_SIGNING: &str = "m.cross_signing.user_signing";

/// The secret name of the key-backup private key (base64 of its 32 bytes).
pub const MEGOLM_BACKUP_V1: &str = "m.megolm_backup.v1";

/// The length of an IV, in bytes.
pub const IV_LEN: usize = 16;

/// The length of a MAC, in bytes (HMAC-SHA-256, not truncated).
pub const MAC_LEN: usize = TAG_LEN;

/// The plaintext of the key check: 32 zero bytes, encrypted as the secret named `""`.
const KEY_CHECK_PLAINTEXT: [u8; 32] = [0; 32];

/// What encrypting a secret produced besides the ciphertext: the IV used (the caller's, with bit 63
/// cleared) and the MAC. Neither is secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    /// The IV, as it must be stored.
    pub iv: [u8; IV_LEN],
    /// HMAC-SHA-256 of the ciphertext.
    pub mac: [u8; MAC_LEN],
    /// The ciphertext length (the plaintext's).
    pub len: usize,
}

/// The two keys of one secret, derived from the storage key and the secret's name.
#[derive(Zeroize, ZeroizeOnDrop)]
struct SecretKeys {
    aes: [u8; 32],
    mac: [u8; 32],
}

impl SecretKeys {
    fn derive(key: &RecoveryKey, name: &str) -> Result<Self, BackupError> {
        let mut okm = zeroize::Zeroizing::new([0u8; 64]);
        hkdf_sha256(
            &[0u8; 32],
            key.as_bytes(),
            name.as_bytes(),
            okm.as_mut_slice(),
        )
        .map_err(|_| BackupError::InvalidParameter)?;
        let mut keys = Self {
            aes: [0; 32],
            mac: [0; 32],
        };
        let (aes, mac) = okm.split_at(32);
        keys.aes.copy_from_slice(aes);
        keys.mac.copy_from_slice(mac);
        Ok(keys)
    }

    fn mac(&self, ciphertext: &[u8]) -> [u8; MAC_LEN] {
        let mut h = HmacSha256::new(&self.mac);
        h.update(ciphertext);
        h.finalize()
    }

    fn verify(&self, ciphertext: &[u8], mac: &[u8; MAC_LEN]) -> bool {
        let mut h = HmacSha256::new(&self.mac);
        h.update(ciphertext);
        h.verify(mac).is_ok()
    }
}

/// `iv` with bit 63 (the top bit of byte 8) cleared, as every secret-storage IV must be.
#[must_use]
pub const fn clear_bit_63(mut iv: [u8; IV_LEN]) -> [u8; IV_LEN] {
    iv[8] &= 0x7F;
    iv
}

/// Encrypts `plaintext` as the secret `name` under `key` into the start of `out`, with `iv` (bit 63
/// cleared by this function; pass 16 fresh random bytes). Returns the IV used, the MAC and the
/// ciphertext length (= `plaintext.len()`). No allocation.
///
/// # Errors
/// [`BackupError::InvalidParameter`] if `plaintext` is longer than
/// [`SECRET_STORAGE_MAX_SECRET_LEN`]; [`BackupError::BufferTooSmall`] if `out` is shorter than
/// `plaintext`. Nothing is written on error.
pub fn encrypt_secret_into(
    key: &RecoveryKey,
    name: &str,
    iv: [u8; IV_LEN],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<Sealed, BackupError> {
    if plaintext.len() > SECRET_STORAGE_MAX_SECRET_LEN {
        return Err(BackupError::InvalidParameter);
    }
    let out = out
        .get_mut(..plaintext.len())
        .ok_or(BackupError::BufferTooSmall {
            needed: plaintext.len(),
        })?;
    let keys = SecretKeys::derive(key, name)?;
    let iv = clear_bit_63(iv);
    out.copy_from_slice(plaintext);
    aes256_ctr_apply(&keys.aes, &iv, out);
    Ok(Sealed {
        iv,
        mac: keys.mac(out),
        len: out.len(),
    })
}

/// Checks the MAC of the secret `name` and decrypts it into the start of `out`; returns the plaintext
/// length (= `ciphertext.len()`). The IV is used as given (a 128-bit big-endian counter). No
/// allocation.
///
/// # Errors
/// [`BackupError::InvalidParameter`] if `ciphertext` is longer than
/// [`SECRET_STORAGE_MAX_SECRET_LEN`]; [`BackupError::BufferTooSmall`] if `out` is too short;
/// [`BackupError::Authentication`] if the MAC does not verify (wrong key, wrong name or altered
/// data). Nothing is written on error.
pub fn decrypt_secret_into(
    key: &RecoveryKey,
    name: &str,
    iv: &[u8; IV_LEN],
    ciphertext: &[u8],
    mac: &[u8; MAC_LEN],
    out: &mut [u8],
) -> Result<usize, BackupError> {
    if ciphertext.len() > SECRET_STORAGE_MAX_SECRET_LEN {
        return Err(BackupError::InvalidParameter);
    }
    let out = out
        .get_mut(..ciphertext.len())
        .ok_or(BackupError::BufferTooSmall {
            needed: ciphertext.len(),
        })?;
    let keys = SecretKeys::derive(key, name)?;
    if !keys.verify(ciphertext, mac) {
        return Err(BackupError::Authentication);
    }
    out.copy_from_slice(ciphertext);
    aes256_ctr_apply(&keys.aes, iv, out);
    Ok(out.len())
}

/// Computes the key check of a key description: the IV actually used (`iv` with bit 63 cleared;
/// pass 16 random bytes) and the MAC of 32 zero bytes encrypted as the secret `""`. No allocation.
///
/// # Errors
/// None in practice; the `Result` is kept for symmetry with the derivations.
pub fn compute_key_check(
    key: &RecoveryKey,
    iv: [u8; IV_LEN],
) -> Result<([u8; IV_LEN], [u8; MAC_LEN]), BackupError> {
    let mut block = KEY_CHECK_PLAINTEXT;
    let sealed = encrypt_secret_into(key, "", iv, &KEY_CHECK_PLAINTEXT, &mut block)?;
    Ok((sealed.iv, sealed.mac))
}

/// Runs the key check of a key description: whether `key` is the key the description's `iv` and
/// `mac` were made with. The MAC is compared in constant time. No allocation.
///
/// # Errors
/// [`BackupError::KeyCheckFailed`] if it is not.
pub fn verify_key_check(
    key: &RecoveryKey,
    iv: &[u8; IV_LEN],
    mac: &[u8; MAC_LEN],
) -> Result<(), BackupError> {
    let keys = SecretKeys::derive(key, "")?;
    let mut block = KEY_CHECK_PLAINTEXT;
    aes256_ctr_apply(&keys.aes, iv, &mut block);
    if keys.verify(&block, mac) {
        Ok(())
    } else {
        Err(BackupError::KeyCheckFailed)
    }
}

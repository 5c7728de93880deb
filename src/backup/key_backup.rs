//! Server-side key backup, `m.megolm_backup.v1.curve25519-aes-sha2` (Matrix client-server API,
//! "Server-side key backups"): room keys encrypted to a Curve25519 backup public key, so that any
//! device holding the private key (from secret storage, or typed in as a recovery key) can read them
//! back, while the server stores only ciphertext.
//!
//! One backed-up room key (`session_data`) is encrypted as libolm's "PK encryption", which
//! vodozemac's `PkEncryption` and every Matrix client reproduce:
//!
//! 1. a fresh ephemeral X25519 key pair `e`; `shared = X25519(e, backup public key)`;
//! 2. `HKDF-SHA-256(salt = empty, ikm = shared, info = empty)` gives 80 bytes: the AES-256 key, the
//!    HMAC-SHA-256 key, the CBC IV;
//! 3. `ciphertext = AES-256-CBC-PKCS#7(plaintext)`;
//! 4. `mac` = the first 8 bytes of HMAC-SHA-256 under the MAC key **of the empty string**.
//!
//! # The MAC authenticates nothing
//!
//! Step 4 is libolm's bug, kept by the specification and by every peer: the MAC covers no data. It
//! only shows that whoever wrote the entry knew the shared secret, which the writer chose. So:
//!
//! - **the ciphertext is not authenticated.** Anyone who sees one entry (the server) can replace its
//!   `ciphertext` and keep its `ephemeral` and `mac`; the entry still passes the MAC check. Changed
//!   ciphertext decrypts to garbage that the JSON parser then refuses, or is refused for bad padding;
//!   whether it was refused is visible to anyone who can watch the client react, which is a padding
//!   oracle over CBC. We check the MAC and the padding in constant time and report both as the one
//!   [`BackupError::Authentication`], but no implementation can hide the final outcome;
//! - **anyone who knows the backup public key (it is public) can write a valid entry.** A room key
//!   read from a backup says nothing about who sent it: treat it as unauthenticated, like a forwarded
//!   key (rust-sdk marks such keys as imported, not verified).
//!
//! The MAC is still checked, in constant time, before anything is decrypted, as peers do: an entry
//! that fails it was not written for this key. (MSC4048 proposes a version that authenticates; it is
//! not in the specification, and no peer writes it.)
//!
//! # Layers
//!
//! - Without `alloc`: [`BackupDecryptionKey`] and [`BackupPublicKey`] (keys, base64 forms),
//!   [`BackupPublicKey::encrypt_into`] / [`BackupDecryptionKey::decrypt_into`] on caller buffers with
//!   [`encrypt_len`] / [`decrypt_len`], and the server's replacement rule over
//!   [`KeyBackupMeta`].
//! - With `alloc`: the JSON shapes `session_data` and `KeyBackupData` ([`payload`]), and the backup
//!   version: the `auth_data` signed by this device and the master key, the `GET /room_keys/version`
//!   response, and the rule for trusting a backup ([`info`]).
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::backup::key_backup::{BackupDecryptionKey, decrypt_len, encrypt_len};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
//! let key = BackupDecryptionKey::generate(&mut rng);
//! let public = key.public_key();
//!
//! let room_key = br#"{"algorithm":"m.megolm.v1.aes-sha2","session_key":"..."}"#;
//! let mut ciphertext = [0u8; 128];
//! let (len, header) = public.encrypt_into(&mut rng, room_key, &mut ciphertext)?;
//! assert_eq!(len, encrypt_len(room_key.len()));
//!
//! let mut plaintext = [0u8; 128];
//! assert!(plaintext.len() >= decrypt_len(len));
//! let n = key.decrypt_into(&header.ephemeral, &header.mac, &ciphertext[..len], &mut plaintext)?;
//! assert_eq!(&plaintext[..n], room_key);
//! # Ok::<(), safemeet::BackupError>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, Zeroizing};

use super::recovery_key::RecoveryKey;
use crate::BackupError;
use crate::codec::base64;
use crate::limits::KEY_BACKUP_MAX_CIPHERTEXT_LEN;
use crate::primitives::aes::{
    BLOCK_LEN, CbcHmacKeys, IV_LEN, aes256_cbc_decrypt_into, aes256_cbc_encrypt_into,
    aes256_cbc_padded_len,
};
use crate::primitives::curve25519::{
    Curve25519PublicKey, Curve25519SecretKey, EphemeralSecret, KEY_LEN, SharedSecret,
};
use crate::primitives::hkdf::hkdf_sha256;
use crate::primitives::hmac::{hmac_sha256, verify_hmac_sha256_truncated};

#[doc(hidden)]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;
#[cfg(feature = "alloc")]
pub mod info;
#[cfg(feature = "alloc")]
pub mod payload;

#[cfg(feature = "alloc")]
pub use info::{
    BackupInfo, BackupTrust, UntrustedReason, add_device_signature, add_master_signature,
    unsigned_auth_data, version_request,
};
#[cfg(feature = "alloc")]
pub use payload::DecryptedKeyBackup;

/// The algorithm name, as `POST /room_keys/version` and `GET /room_keys/version` carry it.
pub const ALGORITHM: &str = "m.megolm_backup.v1.curve25519-aes-sha2";

/// The length of the (truncated) MAC, in bytes: libolm's 8, which encodes as 11 base64 characters.
pub const MAC_LEN: usize = 8;

/// The length of a backup private or public key, in bytes.
pub const BACKUP_KEY_LEN: usize = KEY_LEN;

/// The secret-storage name under which the backup private key is kept (as unpadded base64).
pub const SECRET_NAME: &str = "m.megolm_backup.v1";

/// The ciphertext length for `plaintext_len` bytes: PKCS#7 pads to the next whole 16-byte block,
/// always adding at least one byte.
#[must_use]
pub const fn encrypt_len(plaintext_len: usize) -> usize {
    aes256_cbc_padded_len(plaintext_len)
}

/// The output buffer [`BackupDecryptionKey::decrypt_into`] needs for `ciphertext_len` bytes: the
/// whole ciphertext length, since CBC decrypts every block before the padding is removed. The
/// plaintext is 1 to 16 bytes shorter.
#[must_use]
pub const fn decrypt_len(ciphertext_len: usize) -> usize {
    ciphertext_len
}

/// What travels beside a backup ciphertext: the ephemeral public key and the 8-byte MAC (of the empty
/// string; see the module documentation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptedHeader {
    /// The sender's ephemeral Curve25519 public key (`session_data.ephemeral`).
    pub ephemeral: Curve25519PublicKey,
    /// The truncated HMAC (`session_data.mac`).
    pub mac: [u8; MAC_LEN],
}

impl fmt::Debug for EncryptedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedHeader")
            .field("ephemeral", &self.ephemeral)
            .field("mac", &HexBytes(&self.mac))
            .finish()
    }
}

struct HexBytes<'a>(&'a [u8]);

impl fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// The backup public key: what room keys are encrypted to, published in the backup version's
/// `auth_data.public_key`.
///
/// Any 32 bytes are an X25519 public key, but a key of small order would make every shared secret
/// all zeros (a backup anyone could read), so such a key is refused when it is read
/// ([`BackupError::InvalidKey`]); vodozemac accepts it and then fails on every encryption.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BackupPublicKey(Curve25519PublicKey);

impl BackupPublicKey {
    /// A public key from its bytes.
    ///
    /// # Errors
    /// [`BackupError::InvalidKey`] for a point of small order (on the curve or its twist).
    pub fn from_bytes(bytes: &[u8; BACKUP_KEY_LEN]) -> Result<Self, BackupError> {
        let key = Curve25519PublicKey::from_bytes(*bytes);
        // A clamped scalar is a multiple of the cofactor 8, so the product with a point is the
        // identity (all-zero output) exactly when the point has small order.
        let probe = Curve25519SecretKey::from_bytes(&[0x55; KEY_LEN]);
        probe
            .diffie_hellman(&key)
            .map_err(|_| BackupError::InvalidKey)?;
        Ok(Self(key))
    }

    /// A public key from base64 (unpadded, as the specification writes it; padded is accepted).
    ///
    /// # Errors
    /// [`BackupError::InvalidKey`] unless the text is base64 of 32 bytes and not of small order.
    pub fn from_base64(text: &str) -> Result<Self, BackupError> {
        let mut bytes = [0u8; BACKUP_KEY_LEN];
        base64::decode_array_into(text, &mut bytes).map_err(|_| BackupError::InvalidKey)?;
        Self::from_bytes(&bytes)
    }

    /// Writes the unpadded base64 form (43 characters) into `out`, returning its length.
    ///
    /// # Errors
    /// [`BackupError::BufferTooSmall`] when `out` is shorter than 43 bytes.
    pub fn to_base64_into(&self, out: &mut [u8]) -> Result<usize, BackupError> {
        let needed = base64::encoded_len(BACKUP_KEY_LEN);
        if out.len() < needed {
            return Err(BackupError::BufferTooSmall { needed });
        }
        base64::encode_into(self.0.as_bytes(), out)
            .map_err(|_| BackupError::BufferTooSmall { needed })
    }

    /// The unpadded base64 form, as `auth_data.public_key` holds it.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_base64(&self) -> alloc::string::String {
        base64::encode(self.0.as_bytes())
    }

    /// The key's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; BACKUP_KEY_LEN] {
        self.0.as_bytes()
    }

    /// The key as a plain Curve25519 public key.
    #[must_use]
    pub const fn curve25519(&self) -> Curve25519PublicKey {
        self.0
    }

    /// Encrypts one backed-up room key (`plaintext`, the `BackedUpSessionData` JSON bytes) into `out`,
    /// returning the ciphertext length ([`encrypt_len`]) and the header (ephemeral key and MAC).
    ///
    /// Nothing is drawn from `rng` and nothing is written unless `out` is large enough.
    ///
    /// # Errors
    /// [`BackupError::BufferTooSmall`] when `out` is shorter than [`encrypt_len`]`(plaintext.len())`;
    /// [`BackupError::InvalidParameter`] when the ciphertext would exceed
    /// [`KEY_BACKUP_MAX_CIPHERTEXT_LEN`] (a reader would refuse it).
    pub fn encrypt_into<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<(usize, EncryptedHeader), BackupError> {
        let needed = encrypt_len(plaintext.len());
        if needed > KEY_BACKUP_MAX_CIPHERTEXT_LEN {
            return Err(BackupError::InvalidParameter);
        }
        if out.len() < needed {
            return Err(BackupError::BufferTooSmall { needed });
        }
        let ephemeral = EphemeralSecret::generate(rng);
        let ephemeral_public = ephemeral.public_key();
        // Cannot fail: a key of small order is refused when a `BackupPublicKey` is made.
        let shared = ephemeral
            .diffie_hellman(&self.0)
            .map_err(|_| BackupError::InvalidKey)?;
        let keys = derive_keys(&shared)?;
        let len = aes256_cbc_encrypt_into(&keys.aes, &keys.iv, plaintext, out)
            .map_err(|_| BackupError::BufferTooSmall { needed })?;
        Ok((
            len,
            EncryptedHeader {
                ephemeral: ephemeral_public,
                mac: empty_mac(&keys),
            },
        ))
    }
}

impl fmt::Debug for BackupPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BackupPublicKey").field(&self.0).finish()
    }
}

/// The backup private key: 32 bytes of Curve25519 secret. It is what secret storage keeps under
/// [`SECRET_NAME`] and what a recovery key for the backup encodes. Zeroized on drop, never printed
/// (its `Debug` shows the public key only), not `Clone`.
pub struct BackupDecryptionKey {
    secret: Curve25519SecretKey,
    public: BackupPublicKey,
}

impl BackupDecryptionKey {
    /// A fresh random key, for a new backup.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(Curve25519SecretKey::generate(rng))
    }

    /// A key from its 32 bytes (any 32 bytes: X25519 clamps when it multiplies, as libolm,
    /// vodozemac and the JavaScript SDK do).
    #[must_use]
    pub fn from_bytes(bytes: &[u8; BACKUP_KEY_LEN]) -> Self {
        Self::from_secret(Curve25519SecretKey::from_bytes(bytes))
    }

    fn from_secret(secret: Curve25519SecretKey) -> Self {
        // The public key of a private key is never of small order (the base point has prime order
        // and a clamped scalar is not a multiple of it), so no check is needed here.
        let public = BackupPublicKey(secret.public_key());
        Self { secret, public }
    }

    /// The key's 32 bytes, in a buffer that zeroizes itself: what a recovery key encodes.
    ///
    /// (Named `to_bytes` rather than `as_bytes`: the key lives inside x25519-dalek's secret type,
    /// which zeroizes it, and hands out a copy.)
    #[must_use]
    pub fn to_bytes(&self) -> Zeroizing<[u8; BACKUP_KEY_LEN]> {
        self.secret.to_bytes()
    }

    /// A key from the text secret storage keeps under `m.megolm_backup.v1`: base64 of the 32 bytes,
    /// unpadded as clients write it (padded is accepted: the JavaScript SDK's test data pads).
    ///
    /// # Errors
    /// [`BackupError::Malformed`] unless the text is base64 of exactly 32 bytes. The error says
    /// nothing about the text.
    pub fn from_base64(text: &str) -> Result<Self, BackupError> {
        let mut bytes = Zeroizing::new([0u8; BACKUP_KEY_LEN]);
        base64::decode_array_into(text, &mut bytes).map_err(|_| BackupError::Malformed)?;
        Ok(Self::from_bytes(&bytes))
    }

    /// Writes the unpadded base64 form (43 characters) into `out`, returning its length.
    ///
    /// # Errors
    /// [`BackupError::BufferTooSmall`] when `out` is shorter than 43 bytes; nothing is written then.
    pub fn to_base64_into(&self, out: &mut [u8]) -> Result<usize, BackupError> {
        let needed = base64::encoded_len(BACKUP_KEY_LEN);
        if out.len() < needed {
            return Err(BackupError::BufferTooSmall { needed });
        }
        base64::encode_into(self.to_bytes().as_ref(), out)
            .map_err(|_| BackupError::BufferTooSmall { needed })
    }

    /// The unpadded base64 form, for secret storage (`m.megolm_backup.v1`), in a string that zeroizes
    /// itself.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_base64(&self) -> Zeroizing<alloc::string::String> {
        Zeroizing::new(base64::encode(self.to_bytes().as_ref()))
    }

    /// A key from its recovery-key form (base58 with the `0x8B 0x01` prefix and a parity byte, as
    /// clients print a backup key for a person to keep; whitespace is ignored).
    ///
    /// # Errors
    /// As [`RecoveryKey::decode`].
    pub fn from_base58(text: &str) -> Result<Self, BackupError> {
        Ok(Self::from_bytes(RecoveryKey::decode(text)?.as_bytes()))
    }

    /// The recovery-key form, grouped in fours as clients display it.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_base58(&self) -> Zeroizing<alloc::string::String> {
        RecoveryKey::from_bytes(&self.to_bytes()).to_base58()
    }

    /// The matching public key.
    #[must_use]
    pub const fn public_key(&self) -> BackupPublicKey {
        self.public
    }

    /// Decrypts one backup entry into `out`, returning the plaintext length.
    ///
    /// `out` must hold [`decrypt_len`]`(ciphertext.len())` bytes (the whole ciphertext). The MAC is
    /// checked first, in constant time; then the padding of the last block is checked on a copy, also
    /// in constant time; only then is `out` written. So **every failure leaves `out` untouched**.
    ///
    /// # Errors
    /// - [`BackupError::InvalidParameter`]: the ciphertext is longer than
    ///   [`KEY_BACKUP_MAX_CIPHERTEXT_LEN`];
    /// - [`BackupError::Malformed`]: the ciphertext is empty or not whole 16-byte blocks;
    /// - [`BackupError::BufferTooSmall`]: `out` is too short;
    /// - [`BackupError::InvalidKey`]: `ephemeral` is a point of small order;
    /// - [`BackupError::Authentication`]: the MAC does not match (another key, or a changed
    ///   ephemeral key or MAC), or the padding is wrong (a changed ciphertext). One variant for both.
    pub fn decrypt_into(
        &self,
        ephemeral: &Curve25519PublicKey,
        mac: &[u8; MAC_LEN],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, BackupError> {
        if ciphertext.len() > KEY_BACKUP_MAX_CIPHERTEXT_LEN {
            return Err(BackupError::InvalidParameter);
        }
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
            return Err(BackupError::Malformed);
        }
        let needed = decrypt_len(ciphertext.len());
        if out.len() < needed {
            return Err(BackupError::BufferTooSmall { needed });
        }
        let shared = self
            .secret
            .diffie_hellman(ephemeral)
            .map_err(|_| BackupError::InvalidKey)?;
        let keys = derive_keys(&shared)?;
        // The specification's MAC: over the empty string, not over the ciphertext.
        verify_hmac_sha256_truncated(&keys.mac, b"", mac)
            .map_err(|_| BackupError::Authentication)?;
        // Check the padding before touching `out`: the last block decrypts on its own, with the
        // block before it (or the IV) as its IV.
        let last_start = ciphertext.len() - BLOCK_LEN;
        let mut last_iv = keys.iv;
        if let Some(prev) = last_start
            .checked_sub(BLOCK_LEN)
            .and_then(|s| ciphertext.get(s..last_start))
        {
            last_iv.copy_from_slice(prev);
        }
        let last = ciphertext.get(last_start..).ok_or(BackupError::Malformed)?;
        let mut scratch = Zeroizing::new([0u8; BLOCK_LEN]);
        let padding_ok = aes256_cbc_decrypt_into(&keys.aes, &last_iv, last, scratch.as_mut());
        last_iv.zeroize();
        padding_ok.map_err(|_| BackupError::Authentication)?;
        aes256_cbc_decrypt_into(&keys.aes, &keys.iv, ciphertext, out)
            .map_err(|_| BackupError::Authentication)
    }
}

impl fmt::Debug for BackupDecryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupDecryptionKey")
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}

/// The 80 bytes of key material of one entry: `HKDF-SHA-256(salt = empty, shared, info = empty)`.
/// (vodozemac passes a one-zero-byte salt and the specification 32 zero bytes: HMAC pads the salt
/// with zeros, so every all-zero salt up to 64 bytes gives the same keys.)
fn derive_keys(shared: &SharedSecret) -> Result<CbcHmacKeys, BackupError> {
    let mut okm = Zeroizing::new([0u8; CbcHmacKeys::OKM_LEN]);
    // 80 bytes is far below HKDF's limit; the error cannot happen.
    hkdf_sha256(&[], shared.as_bytes(), b"", okm.as_mut())
        .map_err(|_| BackupError::InvalidParameter)?;
    Ok(CbcHmacKeys::from_okm(&okm))
}

/// The specification's MAC: the first 8 bytes of HMAC-SHA-256 of the empty string.
fn empty_mac(keys: &CbcHmacKeys) -> [u8; MAC_LEN] {
    let full = Zeroizing::new(hmac_sha256(&keys.mac, b""));
    let mut mac = [0u8; MAC_LEN];
    if let Some(head) = full.get(..MAC_LEN) {
        mac.copy_from_slice(head);
    }
    mac
}

const _: () = assert!(IV_LEN == BLOCK_LEN);

/// The metadata of one `KeyBackupData` entry, which the server reads (it cannot read the rest) to
/// decide which of two uploads of the same session it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyBackupMeta {
    /// The index of the first message the backed-up session can decrypt.
    pub first_message_index: u32,
    /// How many times the key was forwarded between devices before it reached the uploader.
    pub forwarded_count: u32,
    /// Whether the uploader had verified the device that sent the key.
    pub is_verified: bool,
}

impl KeyBackupMeta {
    /// The server's replacement rule (client-server API, `PUT /room_keys/keys`): whether an upload with
    /// this metadata replaces the `existing` entry. A verified key beats an unverified one; between
    /// equally verified keys the lower `first_message_index` wins (it decrypts more history), then the
    /// lower `forwarded_count` (fewer hands). On a complete tie the existing entry is kept.
    #[must_use]
    pub const fn replaces(&self, existing: &Self) -> bool {
        if self.is_verified != existing.is_verified {
            return self.is_verified;
        }
        if self.first_message_index != existing.first_message_index {
            return self.first_message_index < existing.first_message_index;
        }
        self.forwarded_count < existing.forwarded_count
    }
}

//! `m.pbkdf2`: a security phrase that stands in for the recovery key.
//!
//! The key is `PBKDF2-HMAC-SHA-512(password = the passphrase's UTF-8 bytes, salt = the salt string's
//! UTF-8 bytes, iterations, 32 bytes)`. The salt is used as text: it is not base64-decoded, although
//! clients generate it as 32 random letters and digits. The description of the derivation lives in
//! the secret-storage key description (`"passphrase": {"algorithm": "m.pbkdf2", "salt": …,
//! "iterations": …, "bits"?: 256}`), which is account data the server can rewrite: the iteration count
//! is therefore bounded by [`PASSPHRASE_MAX_ITERATIONS`], and an impossible description is an error,
//! never a long computation.
//!
//! The derivation needs no allocator ([`derive_key`]); [`PassphraseInfo`], the JSON object, needs
//! `alloc`.
//!
//! ```
//! use safemeet::backup::passphrase::derive_key;
//!
//! // matrix-rust-sdk's test vector (10 iterations; real descriptions use 500 000).
//! let key = derive_key(b"It's a secret to everybody", b"IuLnH7S85YtZmkkBJKwNUKxWF42g9O1H", 10)?;
//! assert_eq!(key.as_bytes()[..4], [0x39, 0x7a, 0xff, 0x44]);
//! # Ok::<(), safemeet::BackupError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::string::String;

#[cfg(feature = "alloc")]
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::recovery_key::{KEY_LEN, RecoveryKey};
#[cfg(feature = "alloc")]
use crate::codec::json::{Object, Value};
use crate::error::BackupError;
pub use crate::limits::PASSPHRASE_MAX_ITERATIONS;
use crate::primitives::pbkdf2::pbkdf2_hmac_sha512;

/// The `algorithm` of a passphrase description.
pub const ALGORITHM: &str = "m.pbkdf2";

/// The iteration count matrix-rust-sdk and matrix-js-sdk use for new descriptions, and so do we.
pub const DEFAULT_ITERATIONS: u32 = 500_000;

/// The only key size the secret-storage algorithm uses, in bits (the description's `bits`).
pub const KEY_BITS: u32 = 256;

/// The length of a generated salt, in characters (as rust-sdk and js-sdk generate it).
pub const SALT_LEN: usize = 32;

/// Derives the 32-byte key from a passphrase (`m.pbkdf2`). No allocation.
///
/// # Errors
/// [`BackupError::InvalidParameter`] if `iterations` is 0 or above [`PASSPHRASE_MAX_ITERATIONS`];
/// nothing is computed then.
pub fn derive_key(
    passphrase: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<RecoveryKey, BackupError> {
    if iterations == 0 || iterations > PASSPHRASE_MAX_ITERATIONS {
        return Err(BackupError::InvalidParameter);
    }
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    pbkdf2_hmac_sha512(passphrase, salt, iterations, bytes.as_mut_slice())
        .map_err(|_| BackupError::InvalidParameter)?;
    Ok(RecoveryKey::from_bytes(&bytes))
}

/// An `m.pbkdf2` description: how a passphrase becomes the key.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassphraseInfo {
    /// The salt, used as its UTF-8 bytes (not base64-decoded). Public: it is stored in account data.
    pub salt: String,
    /// The PBKDF2 iteration count, 1 to [`PASSPHRASE_MAX_ITERATIONS`].
    pub iterations: u32,
    /// The derived key's size in bits; only [`KEY_BITS`] (256) is supported.
    pub bits: u32,
}

#[cfg(feature = "alloc")]
impl PassphraseInfo {
    /// A new description as clients make them: [`SALT_LEN`] random letters and digits,
    /// [`DEFAULT_ITERATIONS`] iterations, 256 bits.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::with_iterations(rng, DEFAULT_ITERATIONS)
    }

    /// A new description with a random salt and `iterations` iterations (tests use few; a count the
    /// reader would refuse is the caller's mistake, and [`PassphraseInfo::derive`] reports it).
    pub fn with_iterations<R: CryptoRng + ?Sized>(rng: &mut R, iterations: u32) -> Self {
        Self {
            salt: random_alphanumeric(rng, SALT_LEN),
            iterations,
            bits: KEY_BITS,
        }
    }

    /// Reads the `passphrase` object of a key description.
    ///
    /// # Errors
    /// [`BackupError::Malformed`] if it is not an object, `salt` is not a string or `iterations` /
    /// `bits` are not integers; [`BackupError::Unsupported`] for an `algorithm` other than
    /// `m.pbkdf2` or `bits` other than 256; [`BackupError::InvalidParameter`] for an iteration count
    /// of 0 or above [`PASSPHRASE_MAX_ITERATIONS`].
    pub fn from_json(value: &Value) -> Result<Self, BackupError> {
        let object = value.as_object().ok_or(BackupError::Malformed)?;
        let algorithm = object
            .get("algorithm")
            .and_then(Value::as_str)
            .ok_or(BackupError::Malformed)?;
        if algorithm != ALGORITHM {
            return Err(BackupError::Unsupported);
        }
        let salt = object
            .get("salt")
            .and_then(Value::as_str)
            .ok_or(BackupError::Malformed)?;
        let iterations = object
            .get("iterations")
            .and_then(Value::as_integer)
            .ok_or(BackupError::Malformed)?;
        let iterations = u32::try_from(iterations)
            .ok()
            .filter(|&n| n > 0 && n <= PASSPHRASE_MAX_ITERATIONS)
            .ok_or(BackupError::InvalidParameter)?;
        let bits = match object.get("bits") {
            None => i64::from(KEY_BITS),
            Some(bits) => bits.as_integer().ok_or(BackupError::Malformed)?,
        };
        if bits != i64::from(KEY_BITS) {
            return Err(BackupError::Unsupported);
        }
        Ok(Self {
            salt: salt.into(),
            iterations,
            bits: KEY_BITS,
        })
    }

    /// The `passphrase` object: `algorithm`, `salt`, `iterations` and `bits`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut object = Object::new();
        object.insert("algorithm".into(), ALGORITHM.into());
        object.insert("salt".into(), self.salt.as_str().into());
        object.insert(
            "iterations".into(),
            Value::Integer(i64::from(self.iterations)),
        );
        object.insert("bits".into(), Value::Integer(i64::from(self.bits)));
        Value::Object(object)
    }

    /// Derives the key from `passphrase` under this description.
    ///
    /// # Errors
    /// [`BackupError::Unsupported`] if `bits` is not 256; [`BackupError::InvalidParameter`] as
    /// [`derive_key`].
    pub fn derive(&self, passphrase: &str) -> Result<RecoveryKey, BackupError> {
        if self.bits != KEY_BITS {
            return Err(BackupError::Unsupported);
        }
        derive_key(passphrase.as_bytes(), self.salt.as_bytes(), self.iterations)
    }
}

/// `len` characters drawn uniformly from `A–Z a–z 0–9` (rejection sampling on random bytes).
#[cfg(feature = "alloc")]
pub(crate) fn random_alphanumeric<R: CryptoRng + ?Sized>(rng: &mut R, len: usize) -> String {
    const CHARS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    let mut pool = [0u8; 64];
    while out.len() < len {
        rng.fill_bytes(&mut pool);
        // 248 = 4 · 62: bytes below it map uniformly onto the 62 characters.
        for &b in pool.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            if let Some(&c) = CHARS.get(usize::from(b % 62)) {
                out.push(char::from(c));
            }
        }
    }
    out
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::codec::json;
    use rand_core::SeedableRng;

    #[test]
    fn iteration_bounds() {
        assert_eq!(
            derive_key(b"p", b"s", 0).err(),
            Some(BackupError::InvalidParameter)
        );
        assert_eq!(
            derive_key(b"p", b"s", PASSPHRASE_MAX_ITERATIONS + 1).err(),
            Some(BackupError::InvalidParameter)
        );
        assert!(derive_key(b"p", b"s", 1).is_ok());
    }

    #[test]
    fn json_round_trip_and_rejections() {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
        let info = PassphraseInfo::generate(&mut rng);
        assert_eq!(info.salt.len(), SALT_LEN);
        assert!(info.salt.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(PassphraseInfo::from_json(&info.to_json()), Ok(info));

        let cases = [
            (
                r#"{"algorithm":"m.pbkdf2","salt":"s","iterations":10}"#,
                None,
            ),
            (
                r#"{"algorithm":"m.pbkdf2","salt":"s","iterations":10,"bits":256}"#,
                None,
            ),
            (
                r#"{"algorithm":"m.pbkdf2","salt":"s","iterations":10,"bits":512}"#,
                Some(BackupError::Unsupported),
            ),
            (
                r#"{"algorithm":"m.scrypt","salt":"s","iterations":10}"#,
                Some(BackupError::Unsupported),
            ),
            (
                r#"{"algorithm":"m.pbkdf2","salt":"s","iterations":0}"#,
                Some(BackupError::InvalidParameter),
            ),
            (
                r#"{"algorithm":"m.pbkdf2","salt":"s","iterations":-1}"#,
                Some(BackupError::InvalidParameter),
            ),
            (
                r#"{"algorithm":"m.pbkdf2","salt":"s","iterations":5000001}"#,
                Some(BackupError::InvalidParameter),
            ),
            (
                r#"{"algorithm":"m.pbkdf2","salt":1,"iterations":10}"#,
                Some(BackupError::Malformed),
            ),
            (
                r#"{"algorithm":"m.pbkdf2","salt":"s","iterations":"10"}"#,
                Some(BackupError::Malformed),
            ),
            (
                r#"{"salt":"s","iterations":10}"#,
                Some(BackupError::Malformed),
            ),
            (r#"[]"#, Some(BackupError::Malformed)),
        ];
        for (text, expected) in cases {
            let value = json::parse(text.as_bytes()).unwrap();
            assert_eq!(PassphraseInfo::from_json(&value).err(), expected, "{text}");
        }
    }
}

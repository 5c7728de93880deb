//! Typed keys and secrets over the RustCrypto and dalek crates. No protocol logic lives here.
//!
//! Every secret type zeroizes itself on drop, prints as `[redacted]`-style `Debug` output and compares
//! in constant time. Public keys are small `Copy` values. Randomness is always a parameter: each
//! randomized constructor takes `rng: &mut R` where `R: CryptoRng`.
//!
//! | module | what it wraps |
//! |---|---|
//! | [`curve25519`] | X25519 static and ephemeral secrets, public keys, contributory-only Diffie-Hellman |
//! | [`ed25519`] | Ed25519 signing and strict verification |
//! | [`hash`] | SHA-256 and SHA-512 |
//! | [`hmac`] | HMAC-SHA-256 with constant-time verification of full and truncated tags |
//! | [`hkdf`] | HKDF-SHA-256 expanding into caller arrays |
//! | [`pbkdf2`] | PBKDF2-HMAC-SHA-512 |
//! | [`aes`] | AES-256-CBC with PKCS#7 checked in constant time, AES-256-CTR |
//! | [`aead`] | ChaCha20-Poly1305, detached or combined, in place or into a caller buffer |
//! | [`xeddsa`] | XEdDSA signatures with X25519 keys, in libsignal's form and the paper's |
//! | [`secret`] | [`secret::SecretBytes`], a zeroizing fixed-size secret |
//!
//! ```
//! use safemeet::primitives::{curve25519::Curve25519SecretKey, aead};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
//! let alice = Curve25519SecretKey::generate(&mut rng);
//! let bob = Curve25519SecretKey::generate(&mut rng);
//! let k1 = alice.diffie_hellman(&bob.public_key())?;
//! let k2 = bob.diffie_hellman(&alice.public_key())?;
//! assert_eq!(k1, k2);
//!
//! let mut sealed = [0u8; 5 + aead::TAG_LEN];
//! let n = aead::seal_into(k1.as_bytes(), &[0; 12], b"ad", b"hello", &mut sealed)?;
//! let mut opened = [0u8; 5 + aead::TAG_LEN];
//! let m = aead::open_into(k2.as_bytes(), &[0; 12], b"ad", &sealed[..n], &mut opened)?;
//! assert_eq!(&opened[..m], b"hello");
//! # Ok::<(), safemeet::CryptoError>(())
//! ```

pub mod aead;
pub mod aes;
pub mod curve25519;
pub mod ed25519;
#[cfg(feature = "alloc")]
pub mod ed25519_batch;
pub mod hash;
pub mod hkdf;
pub mod hmac;
pub mod pbkdf2;
#[cfg(feature = "getrandom")]
pub mod rng;
pub mod secret;
pub mod xeddsa;

pub use rand_core::CryptoRng;

use crate::CryptoError;

/// Views a slice as a fixed-size array, or fails with [`CryptoError::InvalidLength`].
///
/// The typed API takes keys, nonces and IVs as `&[u8; N]`; this is how bytes of untrusted length reach it.
pub fn array_ref<const N: usize>(bytes: &[u8]) -> Result<&[u8; N], CryptoError> {
    bytes.try_into().map_err(|_| CryptoError::InvalidLength)
}

/// Returns `Err(BufferTooSmall)` when `out` cannot hold `needed` bytes.
pub(crate) fn check_room(out: &[u8], needed: usize) -> Result<(), CryptoError> {
    if out.len() < needed {
        Err(CryptoError::BufferTooSmall { needed })
    } else {
        Ok(())
    }
}

/// Writes `bytes` as lowercase hex; used by the `Debug` impls of public values.
pub(crate) fn fmt_hex(f: &mut core::fmt::Formatter<'_>, bytes: &[u8]) -> core::fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

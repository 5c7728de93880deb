//! Ed25519 signatures (RFC 8032) over `ed25519-dalek`, verified strictly.
//!
//! Verification uses `verify_strict`: it rejects non-canonical `S`, small-order `R` and small-order
//! public keys, the same rules vodozemac applies. Public keys of small order are already refused when
//! they are decoded, so a weak key can never be stored as someone's identity.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::CryptoError;

/// The length of an Ed25519 public key and of a secret seed, in bytes.
pub const KEY_LEN: usize = 32;
/// The length of an Ed25519 signature, in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// An Ed25519 signing key (the RFC 8032 32-byte seed with its expanded form). Zeroized on drop, never
/// printed, not `Clone`.
pub struct Ed25519SecretKey(ed25519_dalek::SigningKey);

impl Ed25519SecretKey {
    /// A fresh random signing key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// A signing key from its 32-byte seed.
    pub fn from_seed(seed: &[u8; KEY_LEN]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, in a buffer that zeroizes itself (for pickling and secret storage).
    pub fn seed(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.0.verifying_key())
    }

    /// Signs `message` (deterministic, RFC 8032 §5.1.6).
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        use ed25519_dalek::Signer;
        Ed25519Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for Ed25519SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519SecretKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key: a point on the curve, not of small order.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ed25519PublicKey(ed25519_dalek::VerifyingKey);

impl Ed25519PublicKey {
    /// Decodes a public key. Fails with [`CryptoError::InvalidKey`] when the bytes are not a curve
    /// point or the point has small order.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Result<Self, CryptoError> {
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| CryptoError::InvalidKey)?;
        if key.is_weak() {
            return Err(CryptoError::InvalidKey);
        }
        Ok(Self(key))
    }

    /// Decodes a public key from a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        Self::from_bytes(super::array_ref(bytes)?)
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        self.0.as_bytes()
    }

    /// Verifies `signature` over `message` with strict rules. Any failure is
    /// [`CryptoError::InvalidSignature`].
    pub fn verify(&self, message: &[u8], signature: &Ed25519Signature) -> Result<(), CryptoError> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| CryptoError::InvalidSignature)
    }
}

impl fmt::Debug for Ed25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519PublicKey(")?;
        super::fmt_hex(f, self.as_bytes())?;
        f.write_str(")")
    }
}

/// A 64-byte Ed25519 signature (`R || S`). Its validity is decided by [`Ed25519PublicKey::verify`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ed25519Signature([u8; SIGNATURE_LEN]);

impl Ed25519Signature {
    /// A signature from its 64 bytes.
    pub const fn from_bytes(bytes: [u8; SIGNATURE_LEN]) -> Self {
        Self(bytes)
    }

    /// A signature from a slice that must be exactly 64 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        super::array_ref(bytes).map(|b| Self(*b))
    }

    /// The signature's bytes.
    pub const fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }

    /// The signature's bytes, copied.
    pub const fn to_bytes(self) -> [u8; SIGNATURE_LEN] {
        self.0
    }
}

impl fmt::Debug for Ed25519Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Signature(")?;
        super::fmt_hex(f, &self.0)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use std::format;

    #[test]
    fn sign_verify_and_reject_tamper() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let key = Ed25519SecretKey::generate(&mut rng);
        let public = key.public_key();
        let sig = key.sign(b"message");
        assert_eq!(public.verify(b"message", &sig), Ok(()));
        assert_eq!(
            public.verify(b"messagf", &sig),
            Err(CryptoError::InvalidSignature)
        );
        let mut bad = sig.to_bytes();
        bad[63] ^= 0x10;
        assert_eq!(
            public.verify(b"message", &Ed25519Signature::from_bytes(bad)),
            Err(CryptoError::InvalidSignature)
        );
    }

    #[test]
    fn small_order_public_keys_are_rejected() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            Ed25519PublicKey::from_bytes(&identity),
            Err(CryptoError::InvalidKey)
        );
    }

    #[test]
    fn seed_round_trips_and_debug_hides_it() {
        let key = Ed25519SecretKey::from_seed(&[0x77; 32]);
        assert_eq!(*key.seed(), [0x77; 32]);
        let again = Ed25519SecretKey::from_seed(&key.seed());
        assert_eq!(again.public_key(), key.public_key());
        let text = format!("{key:?}");
        assert!(text.starts_with("Ed25519SecretKey { public_key:"));
        assert!(!text.contains("777777"));
    }
}

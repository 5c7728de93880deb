//! X25519 keys and Diffie-Hellman (RFC 7748) over `x25519-dalek`.
//!
//! Three secret types, by lifetime:
//! - [`Curve25519SecretKey`]: a static key (identity keys, signed prekeys, one-time keys); usable for
//!   many exchanges; zeroized on drop.
//! - [`EphemeralSecret`]: used for exactly one exchange; [`EphemeralSecret::diffie_hellman`] consumes it.
//! - [`SharedSecret`]: the exchange's output; zeroized on drop, compared in constant time.
//!
//! Every exchange rejects an all-zero output with [`CryptoError::NonContributory`]: a peer who sends a
//! small-order point would otherwise fix the shared secret regardless of our key.

use core::fmt;

use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::CryptoError;

/// The length of X25519 keys and shared secrets, in bytes.
pub const KEY_LEN: usize = 32;

/// An X25519 public key: the u-coordinate of a Montgomery point, 32 bytes little-endian.
///
/// Any 32 bytes are accepted, as RFC 7748 asks; keys that lead to an all-zero shared secret are caught
/// when they are used.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Curve25519PublicKey([u8; KEY_LEN]);

impl Curve25519PublicKey {
    /// A public key from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A public key from a slice, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        super::array_ref(bytes).map(|b| Self(*b))
    }

    /// The key's bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key's bytes, copied.
    pub const fn to_bytes(self) -> [u8; KEY_LEN] {
        self.0
    }

    fn dalek(self) -> x25519_dalek::PublicKey {
        x25519_dalek::PublicKey::from(self.0)
    }
}

impl From<[u8; KEY_LEN]> for Curve25519PublicKey {
    fn from(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for Curve25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Curve25519PublicKey(")?;
        super::fmt_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// A static X25519 secret key. Zeroized on drop, never printed, not `Clone`.
pub struct Curve25519SecretKey(x25519_dalek::StaticSecret);

impl Curve25519SecretKey {
    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(x25519_dalek::StaticSecret::random_from_rng(rng))
    }

    /// A key from its 32 secret bytes (clamping happens inside the scalar multiplication, so any 32
    /// bytes are a valid key, as in libolm and vodozemac).
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Self(x25519_dalek::StaticSecret::from(*bytes))
    }

    /// The secret bytes, in a buffer that zeroizes itself (for pickling).
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> Curve25519PublicKey {
        Curve25519PublicKey(x25519_dalek::PublicKey::from(&self.0).to_bytes())
    }

    /// X25519 with `their` public key. Fails with [`CryptoError::NonContributory`] when the output is
    /// all zeros.
    pub fn diffie_hellman(&self, their: &Curve25519PublicKey) -> Result<SharedSecret, CryptoError> {
        SharedSecret::checked(self.0.diffie_hellman(&their.dalek()))
    }
}

impl fmt::Debug for Curve25519SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Curve25519SecretKey")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// An X25519 secret for one exchange: [`EphemeralSecret::diffie_hellman`] consumes it.
pub struct EphemeralSecret {
    secret: x25519_dalek::EphemeralSecret,
    public: Curve25519PublicKey,
}

impl EphemeralSecret {
    /// A fresh random ephemeral secret.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let secret = x25519_dalek::EphemeralSecret::random_from_rng(rng);
        let public = Curve25519PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes());
        Self { secret, public }
    }

    /// The matching public key, to send to the peer.
    pub const fn public_key(&self) -> Curve25519PublicKey {
        self.public
    }

    /// X25519 with `their` public key, consuming the secret. Fails with
    /// [`CryptoError::NonContributory`] when the output is all zeros.
    pub fn diffie_hellman(self, their: &Curve25519PublicKey) -> Result<SharedSecret, CryptoError> {
        SharedSecret::checked(self.secret.diffie_hellman(&their.dalek()))
    }
}

impl fmt::Debug for EphemeralSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EphemeralSecret")
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}

/// The 32-byte output of an X25519 exchange. Zeroized on drop; equality is constant-time.
pub struct SharedSecret(x25519_dalek::SharedSecret);

impl SharedSecret {
    fn checked(shared: x25519_dalek::SharedSecret) -> Result<Self, CryptoError> {
        if shared.was_contributory() {
            Ok(Self(shared))
        } else {
            Err(CryptoError::NonContributory)
        }
    }

    /// The shared secret's bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        self.0.as_bytes()
    }
}

impl ConstantTimeEq for SharedSecret {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.as_bytes().ct_eq(other.as_bytes())
    }
}

impl PartialEq for SharedSecret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for SharedSecret {}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use std::format;

    #[test]
    fn static_and_ephemeral_agree() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let a = Curve25519SecretKey::generate(&mut rng);
        let e = EphemeralSecret::generate(&mut rng);
        let e_pub = e.public_key();
        let k1 = e.diffie_hellman(&a.public_key()).unwrap();
        let k2 = a.diffie_hellman(&e_pub).unwrap();
        assert_eq!(k1, k2);
    }

    #[test]
    fn small_order_points_are_rejected() {
        let a = Curve25519SecretKey::from_bytes(&[0x42; 32]);
        // u = 0 and u = 1 are small-order points.
        let mut one = [0u8; 32];
        one[0] = 1;
        for u in [[0u8; 32], one] {
            assert_eq!(
                a.diffie_hellman(&Curve25519PublicKey::from_bytes(u)),
                Err(CryptoError::NonContributory)
            );
        }
    }

    #[test]
    fn secret_round_trips_and_debug_hides_it() {
        let a = Curve25519SecretKey::from_bytes(&[0x5a; 32]);
        assert_eq!(*a.to_bytes(), [0x5a; 32]);
        let text = format!("{a:?}");
        assert!(text.starts_with("Curve25519SecretKey { public_key:"));
        assert!(!text.contains("5a5a5a"));
        let shared = a.diffie_hellman(&a.public_key()).unwrap();
        assert_eq!(format!("{shared:?}"), "SharedSecret([redacted])");
    }

    #[test]
    fn from_slice_checks_length() {
        assert_eq!(
            Curve25519PublicKey::from_slice(&[0; 31]),
            Err(CryptoError::InvalidLength)
        );
        assert!(Curve25519PublicKey::from_slice(&[9; 32]).is_ok());
    }
}

//! A fixed-size secret byte string that zeroizes on drop, hides itself in `Debug` and compares in
//! constant time. Protocol layers hold chain keys, message keys and pickle keys in it.

use core::fmt;

use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// `N` secret bytes. Not `Clone`: a secret is copied only where a protocol step needs it, by
/// [`SecretBytes::from_bytes`] on purpose.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes<const N: usize>([u8; N]);

impl<const N: usize> SecretBytes<N> {
    /// Wraps `bytes`. The caller's copy is the caller's to zeroize.
    pub const fn from_bytes(bytes: [u8; N]) -> Self {
        Self(bytes)
    }

    /// Fills a new secret from `rng`.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; N];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The secret bytes.
    pub const fn as_bytes(&self) -> &[u8; N] {
        &self.0
    }

    /// The secret bytes, mutably (for in-place ratchet steps).
    pub fn as_mut_bytes(&mut self) -> &mut [u8; N] {
        &mut self.0
    }
}

impl<const N: usize> ConstantTimeEq for SecretBytes<N> {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl<const N: usize> PartialEq for SecretBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl<const N: usize> Eq for SecretBytes<N> {}

impl<const N: usize> fmt::Debug for SecretBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes<{N}>([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn debug_is_redacted() {
        let s = SecretBytes::from_bytes([0xAB; 4]);
        let text = format!("{s:?}");
        assert_eq!(text, "SecretBytes<4>([redacted])");
        assert!(!text.contains("ab") && !text.contains("171"));
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(
            SecretBytes::from_bytes([1u8; 8]),
            SecretBytes::from_bytes([1u8; 8])
        );
        assert_ne!(
            SecretBytes::from_bytes([1u8; 8]),
            SecretBytes::from_bytes([2u8; 8])
        );
    }

    #[test]
    fn zeroize_clears() {
        let mut s = SecretBytes::from_bytes([9u8; 16]);
        s.zeroize();
        assert_eq!(s.as_bytes(), &[0u8; 16]);
    }
}

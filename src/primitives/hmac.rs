//! HMAC-SHA-256 (RFC 2104) with constant-time verification of full and truncated tags.
//!
//! Olm authenticates messages with the first 8 bytes of an HMAC-SHA-256 tag; everything else uses the
//! full 32 bytes. Both checks are constant-time in the tag's contents.

use core::fmt;

use hmac::{KeyInit, Mac};
use zeroize::Zeroizing;

use crate::CryptoError;

/// The length of an HMAC-SHA-256 tag, in bytes.
pub const TAG_LEN: usize = 32;
/// SHA-256's block length: HMAC keys are padded or hashed to this size.
const BLOCK_LEN: usize = 64;
/// The shortest truncated tag [`HmacSha256::verify_truncated`] accepts, in bytes (Olm's length).
pub const MIN_TRUNCATED_TAG_LEN: usize = 8;

/// An incremental HMAC-SHA-256 computation. Its key schedule zeroizes on drop.
#[derive(Clone)]
pub struct HmacSha256(hmac::Hmac<sha2::Sha256>);

impl HmacSha256 {
    /// Starts a MAC under `key` (any length; keys longer than SHA-256's 64-byte block are hashed first,
    /// shorter ones zero-padded, as RFC 2104 §2 defines).
    #[inline]
    pub fn new(key: &[u8]) -> Self {
        match <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key) {
            Ok(mac) => Self(mac),
            // HMAC takes keys of any length; the `hmac` crate never refuses one. Kept as a total
            // fallback so that no path can panic: pad (or hash) the key into one block ourselves.
            Err(_) => Self::from_block(key),
        }
    }

    fn from_block(key: &[u8]) -> Self {
        let mut block = Zeroizing::new([0u8; BLOCK_LEN]);
        match block.get_mut(..key.len()) {
            Some(prefix) => prefix.copy_from_slice(key),
            None => {
                if let Some(prefix) = block.get_mut(..32) {
                    prefix.copy_from_slice(&super::hash::sha256(key));
                }
            }
        }
        Self(<hmac::Hmac<sha2::Sha256> as KeyInit>::new(&(*block).into()))
    }

    /// Absorbs `data`.
    #[inline]
    pub fn update(&mut self, data: &[u8]) -> &mut Self {
        self.0.update(data);
        self
    }

    /// The 32-byte tag.
    #[inline]
    pub fn finalize(self) -> [u8; TAG_LEN] {
        self.0.finalize().into_bytes().into()
    }

    /// Checks `tag` against the full 32-byte tag, in constant time. Failure is
    /// [`CryptoError::Authentication`].
    pub fn verify(self, tag: &[u8; TAG_LEN]) -> Result<(), CryptoError> {
        self.0
            .verify_slice(tag)
            .map_err(|_| CryptoError::Authentication)
    }

    /// Checks `tag` against the leftmost `tag.len()` bytes of the tag, in constant time. The tag must be
    /// between [`MIN_TRUNCATED_TAG_LEN`] and [`TAG_LEN`] bytes long, else [`CryptoError::InvalidLength`].
    pub fn verify_truncated(self, tag: &[u8]) -> Result<(), CryptoError> {
        if !(MIN_TRUNCATED_TAG_LEN..=TAG_LEN).contains(&tag.len()) {
            return Err(CryptoError::InvalidLength);
        }
        self.0
            .verify_truncated_left(tag)
            .map_err(|_| CryptoError::Authentication)
    }
}

impl fmt::Debug for HmacSha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacSha256").finish_non_exhaustive()
    }
}

/// HMAC-SHA-256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = HmacSha256::new(key);
    mac.update(message);
    mac.finalize()
}

/// Verifies a full 32-byte HMAC-SHA-256 tag in constant time.
pub fn verify_hmac_sha256(
    key: &[u8],
    message: &[u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CryptoError> {
    let mut mac = HmacSha256::new(key);
    mac.update(message);
    mac.verify(tag)
}

/// Verifies a truncated HMAC-SHA-256 tag (its leftmost 8 to 32 bytes) in constant time.
pub fn verify_hmac_sha256_truncated(
    key: &[u8],
    message: &[u8],
    tag: &[u8],
) -> Result<(), CryptoError> {
    let mut mac = HmacSha256::new(key);
    mac.update(message);
    mac.verify_truncated(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_fallback_keys_like_the_crate() {
        for len in [0usize, 1, 32, 63, 64, 65, 200] {
            let key: std::vec::Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut a = HmacSha256::new(&key);
            let mut b = HmacSha256::from_block(&key);
            a.update(b"data");
            b.update(b"data");
            assert_eq!(a.finalize(), b.finalize(), "key length {len}");
        }
    }

    #[test]
    fn verify_full_and_truncated() {
        let tag = hmac_sha256(b"key", b"msg");
        assert_eq!(verify_hmac_sha256(b"key", b"msg", &tag), Ok(()));
        assert_eq!(
            verify_hmac_sha256_truncated(b"key", b"msg", &tag[..8]),
            Ok(())
        );
        let mut bad = tag;
        bad[0] ^= 1;
        assert_eq!(
            verify_hmac_sha256(b"key", b"msg", &bad),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            verify_hmac_sha256_truncated(b"key", b"msg", &bad[..8]),
            Err(CryptoError::Authentication)
        );
        assert_eq!(
            verify_hmac_sha256_truncated(b"key", b"msg", &tag[..7]),
            Err(CryptoError::InvalidLength)
        );
    }
}

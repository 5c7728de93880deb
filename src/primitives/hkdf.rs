//! HKDF-SHA-256 (RFC 5869), expanding into caller arrays.
//!
//! An absent salt, an empty salt and any all-zero salt of up to 64 bytes give the same pseudorandom key
//! (HMAC pads short keys with zeros), which is why Olm's one-zero-byte salt and the 32-zero-byte salt of
//! secret storage interoperate.

use core::fmt;

use crate::CryptoError;
use crate::limits::HKDF_SHA256_MAX_OUTPUT;

/// HKDF-SHA-256: extract with `salt` over `ikm`, then expand with `info` to fill `okm`.
///
/// Fails with [`CryptoError::InvalidLength`] when `okm` is longer than
/// [`HKDF_SHA256_MAX_OUTPUT`] bytes; `okm` is left untouched then.
pub fn hkdf_sha256(
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    okm: &mut [u8],
) -> Result<(), CryptoError> {
    Hkdf::new(salt, ikm).expand(info, okm)
}

/// The extracted pseudorandom key, for several expansions from one secret (as SAS does). The key
/// schedule zeroizes on drop.
#[derive(Clone)]
pub struct Hkdf(hkdf::Hkdf<sha2::Sha256>);

impl Hkdf {
    /// HKDF-Extract with `salt` over `ikm`.
    pub fn new(salt: &[u8], ikm: &[u8]) -> Self {
        Self(hkdf::Hkdf::new(Some(salt), ikm))
    }

    /// HKDF-Expand with `info`, filling `okm`; at most [`HKDF_SHA256_MAX_OUTPUT`] bytes.
    pub fn expand(&self, info: &[u8], okm: &mut [u8]) -> Result<(), CryptoError> {
        if okm.len() > HKDF_SHA256_MAX_OUTPUT {
            return Err(CryptoError::InvalidLength);
        }
        self.0
            .expand(info, okm)
            .map_err(|_| CryptoError::InvalidLength)
    }

    /// HKDF-Expand with the concatenation of `info` parts as the info string (so that callers can
    /// build a long info string without an allocator), filling `okm`.
    pub fn expand_multi(&self, info: &[&[u8]], okm: &mut [u8]) -> Result<(), CryptoError> {
        if okm.len() > HKDF_SHA256_MAX_OUTPUT {
            return Err(CryptoError::InvalidLength);
        }
        self.0
            .expand_multi_info(info, okm)
            .map_err(|_| CryptoError::InvalidLength)
    }
}

impl fmt::Debug for Hkdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hkdf").finish_non_exhaustive()
    }
}

/// HKDF-Extract with a fixed salt, keyed once and reused: each [`HkdfSalted::extract`] saves the two
/// SHA-256 compressions of keying HMAC with the salt. For per-message key derivations (Olm's
/// `OLM_KEYS` with an empty salt). The salt is treated as public; the keyed state is not secret.
#[derive(Clone)]
pub struct HkdfSalted(hkdf::HkdfExtract<sha2::Sha256>);

impl HkdfSalted {
    /// Keys HKDF-Extract with `salt`.
    pub fn new(salt: &[u8]) -> Self {
        Self(hkdf::HkdfExtract::new(Some(salt)))
    }

    /// HKDF-Extract over `ikm`: the same result as [`Hkdf::new`] with this salt.
    pub fn extract(&self, ikm: &[u8]) -> Hkdf {
        let mut e = self.0.clone();
        e.input_ikm(ikm);
        Hkdf(e.finalize().1)
    }
}

impl fmt::Debug for HkdfSalted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HkdfSalted").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_salts_are_equivalent_and_length_is_capped() {
        let mut a = [0u8; 42];
        let mut b = [0u8; 42];
        hkdf_sha256(&[], b"ikm", b"info", &mut a).unwrap();
        hkdf_sha256(&[0u8; 32], b"ikm", b"info", &mut b).unwrap();
        assert_eq!(a, b);
        let mut too_long = [7u8; HKDF_SHA256_MAX_OUTPUT + 1];
        assert_eq!(
            hkdf_sha256(&[], b"ikm", b"", &mut too_long),
            Err(CryptoError::InvalidLength)
        );
        assert!(too_long.iter().all(|&b| b == 7));
    }

    #[test]
    fn a_salted_extractor_gives_plain_hkdf_results() {
        let salted = HkdfSalted::new(b"salt");
        for ikm in [&b""[..], b"ikm", &[7u8; 100]] {
            let mut a = [0u8; 80];
            let mut b = [0u8; 80];
            salted.extract(ikm).expand(b"info", &mut a).unwrap();
            hkdf_sha256(b"salt", ikm, b"info", &mut b).unwrap();
            assert_eq!(a, b);
        }
    }
}

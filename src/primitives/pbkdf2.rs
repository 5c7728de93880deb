//! PBKDF2-HMAC-SHA-512 (RFC 8018), as Matrix uses it for passphrases (`m.pbkdf2`) and key-export files.

use crate::CryptoError;

/// Derives `out.len()` bytes from `password` and `salt` with `rounds` iterations of HMAC-SHA-512.
///
/// `rounds` must be at least 1 and `out` non-empty, else [`CryptoError::InvalidParameter`] /
/// [`CryptoError::InvalidLength`]. The run time grows linearly with `rounds`: callers that take the count
/// from untrusted input must bound it first.
pub fn pbkdf2_hmac_sha512(
    password: &[u8],
    salt: &[u8],
    rounds: u32,
    out: &mut [u8],
) -> Result<(), CryptoError> {
    if rounds == 0 {
        return Err(CryptoError::InvalidParameter);
    }
    if out.is_empty() {
        return Err(CryptoError::InvalidLength);
    }
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_degenerate_parameters() {
        let mut out = [0u8; 32];
        assert_eq!(
            pbkdf2_hmac_sha512(b"p", b"s", 0, &mut out),
            Err(CryptoError::InvalidParameter)
        );
        assert_eq!(
            pbkdf2_hmac_sha512(b"p", b"s", 1, &mut []),
            Err(CryptoError::InvalidLength)
        );
        pbkdf2_hmac_sha512(b"p", b"s", 2, &mut out).unwrap();
        assert_ne!(out, [0u8; 32]);
    }
}

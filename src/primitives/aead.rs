//! ChaCha20-Poly1305 (RFC 8439) over `chacha20poly1305`: the native profile's message cipher; and
//! XChaCha20-Poly1305 (the 24-byte-nonce variant), for keys that seal many messages under random nonces.
//!
//! The tag is checked before any byte is decrypted, so a forged message leaves the caller's buffer
//! exactly as it was and the error is the one opaque [`CryptoError::Authentication`].

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, XChaCha20Poly1305};

use crate::CryptoError;

/// The key length, in bytes.
pub const KEY_LEN: usize = 32;
/// The nonce length, in bytes.
pub const NONCE_LEN: usize = 12;
/// The authentication tag length, in bytes.
pub const TAG_LEN: usize = 16;
/// The XChaCha20-Poly1305 nonce length, in bytes: long enough to draw at random for every message.
pub const XNONCE_LEN: usize = 24;

/// The sealed length (ciphertext plus tag) of a `plaintext_len`-byte message.
pub const fn sealed_len(plaintext_len: usize) -> usize {
    plaintext_len + TAG_LEN
}

fn cipher(key: &[u8; KEY_LEN]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(key.into())
}

/// Encrypts `buf` in place and returns the detached tag. Fails with [`CryptoError::InvalidLength`]
/// only for messages beyond ChaCha20's 256 GiB limit.
pub fn seal_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], CryptoError> {
    cipher(key)
        .encrypt_inout_detached(nonce.into(), aad, buf.into())
        .map(Into::into)
        .map_err(|_| CryptoError::InvalidLength)
}

/// Checks `tag` and, only if it verifies, decrypts `buf` in place. On failure `buf` is unchanged.
pub fn open_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CryptoError> {
    cipher(key)
        .decrypt_inout_detached(nonce.into(), aad, buf.into(), tag.into())
        .map_err(|_| CryptoError::Authentication)
}

/// Seals `plaintext` into `out` as `ciphertext || tag`, returning [`sealed_len`]`(plaintext.len())`.
/// A too-small `out` is [`CryptoError::BufferTooSmall`] and nothing is written.
pub fn seal_into(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<usize, CryptoError> {
    let needed = sealed_len(plaintext.len());
    super::check_room(out, needed)?;
    let (body, rest) = out.split_at_mut(plaintext.len());
    body.copy_from_slice(plaintext);
    let tag = seal_in_place_detached(key, nonce, aad, body)?;
    if let Some(tag_out) = rest.get_mut(..TAG_LEN) {
        tag_out.copy_from_slice(&tag);
    }
    Ok(needed)
}

/// Opens `sealed` (`ciphertext || tag`) into `out`, returning the plaintext length. `out` must hold
/// `sealed.len() - TAG_LEN` bytes. Input shorter than a tag is [`CryptoError::InvalidLength`]; a
/// forgery is [`CryptoError::Authentication`] and `out` is left untouched.
pub fn open_into(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
    out: &mut [u8],
) -> Result<usize, CryptoError> {
    let body_len = sealed
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(CryptoError::InvalidLength)?;
    let (body, tag) = sealed.split_at(body_len);
    let tag: &[u8; TAG_LEN] = super::array_ref(tag)?;
    super::check_room(out, body_len)?;
    let out = out
        .get_mut(..body_len)
        .ok_or(CryptoError::BufferTooSmall { needed: body_len })?;
    cipher(key)
        .decrypt_inout_detached(
            nonce.into(),
            aad,
            InOutBuf::new(body, out).map_err(|_| CryptoError::InvalidLength)?,
            tag.into(),
        )
        .map_err(|_| CryptoError::Authentication)?;
    Ok(body_len)
}

/// Seals `buf[..msg_len]` in place, appending the tag; returns [`sealed_len`]`(msg_len)`. `buf` must be
/// at least that long, else [`CryptoError::BufferTooSmall`] and nothing changes.
pub fn seal_in_place(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    msg_len: usize,
) -> Result<usize, CryptoError> {
    let needed = sealed_len(msg_len);
    let region = buf
        .get_mut(..needed)
        .ok_or(CryptoError::BufferTooSmall { needed })?;
    let (body, tag_out) = region.split_at_mut(msg_len);
    let tag = seal_in_place_detached(key, nonce, aad, body)?;
    tag_out.copy_from_slice(&tag);
    Ok(needed)
}

/// Opens `buf` (`ciphertext || tag`) in place, returning the plaintext length (the plaintext is
/// `buf[..len]`). On failure `buf` is unchanged.
pub fn open_in_place(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<usize, CryptoError> {
    let body_len = buf
        .len()
        .checked_sub(TAG_LEN)
        .ok_or(CryptoError::InvalidLength)?;
    let (body, tag) = buf.split_at_mut(body_len);
    let tag: [u8; TAG_LEN] = *super::array_ref(tag)?;
    open_in_place_detached(key, nonce, aad, body, &tag)?;
    Ok(body_len)
}

/// XChaCha20-Poly1305: encrypts `buf` in place and returns the detached tag. The 24-byte nonce may be
/// drawn at random for every message under one key.
pub fn xseal_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; XNONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> Result<[u8; TAG_LEN], CryptoError> {
    XChaCha20Poly1305::new(key.into())
        .encrypt_inout_detached(nonce.into(), aad, buf.into())
        .map(Into::into)
        .map_err(|_| CryptoError::InvalidLength)
}

/// XChaCha20-Poly1305: checks `tag` and, only if it verifies, decrypts `buf` in place. On failure `buf`
/// is unchanged.
pub fn xopen_in_place_detached(
    key: &[u8; KEY_LEN],
    nonce: &[u8; XNONCE_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), CryptoError> {
    XChaCha20Poly1305::new(key.into())
        .decrypt_inout_detached(nonce.into(), aad, buf.into(), tag.into())
        .map_err(|_| CryptoError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [0x42; 32];
    const NONCE: [u8; 12] = [0x24; 12];

    #[test]
    fn round_trips_and_forms_agree() {
        let mut sealed = [0u8; 21];
        let n = seal_into(&KEY, &NONCE, b"ad", b"hello", &mut sealed).unwrap();
        assert_eq!(n, 21);
        let mut buf = [0u8; 21];
        buf[..5].copy_from_slice(b"hello");
        seal_in_place(&KEY, &NONCE, b"ad", &mut buf, 5).unwrap();
        assert_eq!(buf, sealed);
        let m = open_in_place(&KEY, &NONCE, b"ad", &mut buf).unwrap();
        assert_eq!(&buf[..m], b"hello");
        let mut out = [0u8; 5];
        assert_eq!(open_into(&KEY, &NONCE, b"ad", &sealed, &mut out), Ok(5));
        assert_eq!(&out, b"hello");
    }

    #[test]
    fn every_single_byte_tamper_fails_and_changes_nothing() {
        let mut sealed = [0u8; 21];
        seal_into(&KEY, &NONCE, b"ad", b"hello", &mut sealed).unwrap();
        for i in 0..sealed.len() {
            let mut forged = sealed;
            forged[i] ^= 0x80;
            let before = forged;
            assert_eq!(
                open_in_place(&KEY, &NONCE, b"ad", &mut forged),
                Err(CryptoError::Authentication)
            );
            assert_eq!(forged, before);
            let mut out = [0xAA; 5];
            assert_eq!(
                open_into(&KEY, &NONCE, b"ad", &before, &mut out),
                Err(CryptoError::Authentication)
            );
            assert_eq!(out, [0xAA; 5]);
        }
        let mut out = [0u8; 5];
        assert_eq!(
            open_into(&KEY, &NONCE, b"ae", &sealed, &mut out),
            Err(CryptoError::Authentication)
        );
    }

    #[test]
    fn xchacha_round_trip_and_tamper() {
        let nonce = [7u8; XNONCE_LEN];
        let mut buf = *b"header";
        let tag = xseal_in_place_detached(&KEY, &nonce, b"ad", &mut buf).unwrap();
        let sealed = buf;
        xopen_in_place_detached(&KEY, &nonce, b"ad", &mut buf, &tag).unwrap();
        assert_eq!(&buf, b"header");
        let mut forged = sealed;
        forged[0] ^= 1;
        assert_eq!(
            xopen_in_place_detached(&KEY, &nonce, b"ad", &mut forged, &tag),
            Err(CryptoError::Authentication)
        );
        let mut other_nonce = sealed;
        assert!(
            xopen_in_place_detached(&KEY, &[8; XNONCE_LEN], b"ad", &mut other_nonce, &tag).is_err()
        );
    }

    #[test]
    fn short_inputs_and_buffers() {
        let mut out = [0u8; 4];
        assert_eq!(
            seal_into(&KEY, &NONCE, b"", b"hello", &mut out),
            Err(CryptoError::BufferTooSmall { needed: 21 })
        );
        assert_eq!(
            open_into(&KEY, &NONCE, b"", &[0u8; 15], &mut out),
            Err(CryptoError::InvalidLength)
        );
        assert_eq!(
            open_into(&KEY, &NONCE, b"", &[0u8; 21], &mut out),
            Err(CryptoError::BufferTooSmall { needed: 5 })
        );
    }
}

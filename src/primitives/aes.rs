//! AES-256 in CBC mode with PKCS#7 padding, and in CTR mode, over `aes`, `cbc` and `ctr`.
//!
//! CBC here is unauthenticated by itself; every protocol that uses it (Olm, Megolm, key backup) checks a
//! MAC over the ciphertext *before* decrypting. The PKCS#7 check is still constant-time: whether the
//! padding was wrong, and where, is not observable from timing, and a failure is the one opaque
//! [`CryptoError::Authentication`]. On failure the output buffer is zeroized, so no unverified
//! plaintext is left behind.

use aes::Aes256;
use aes::cipher::array::Array;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, StreamCipher};
use subtle::{ConditionallySelectable, ConstantTimeEq, ConstantTimeGreater, ConstantTimeLess};
use zeroize::Zeroize;

use crate::CryptoError;

/// The AES block length, in bytes.
pub const BLOCK_LEN: usize = 16;
/// The AES-256 key length, in bytes.
pub const KEY_LEN: usize = 32;
/// The IV length for CBC and the initial counter block length for CTR, in bytes.
pub const IV_LEN: usize = 16;

/// The ciphertext length for `plaintext_len` bytes under CBC with PKCS#7: always at least one byte of
/// padding, so a whole number of blocks strictly longer than the plaintext.
pub const fn aes256_cbc_padded_len(plaintext_len: usize) -> usize {
    (plaintext_len / BLOCK_LEN + 1) * BLOCK_LEN
}

/// Encrypts `buf[..msg_len]` in place with AES-256-CBC and PKCS#7, returning the ciphertext length
/// ([`aes256_cbc_padded_len`]`(msg_len)`). `buf` must be at least that long, else
/// [`CryptoError::BufferTooSmall`] and nothing is changed.
pub fn aes256_cbc_encrypt_in_place(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    buf: &mut [u8],
    msg_len: usize,
) -> Result<usize, CryptoError> {
    let padded = aes256_cbc_padded_len(msg_len);
    let region = buf
        .get_mut(..padded)
        .ok_or(CryptoError::BufferTooSmall { needed: padded })?;
    // `padded - msg_len` is in 1..=16, so it fits a byte.
    let pad = (padded - msg_len) as u8;
    if let Some(tail) = region.get_mut(msg_len..) {
        tail.fill(pad);
    }
    cbc_encrypt_blocks(key, iv, region);
    Ok(padded)
}

/// Encrypts `plaintext` into `out` with AES-256-CBC and PKCS#7, returning the ciphertext length.
/// `out` must hold [`aes256_cbc_padded_len`]`(plaintext.len())` bytes, else
/// [`CryptoError::BufferTooSmall`] and nothing is written.
pub fn aes256_cbc_encrypt_into(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<usize, CryptoError> {
    let padded = aes256_cbc_padded_len(plaintext.len());
    super::check_room(out, padded)?;
    if let Some(head) = out.get_mut(..plaintext.len()) {
        head.copy_from_slice(plaintext);
    }
    aes256_cbc_encrypt_in_place(key, iv, out, plaintext.len())
}

/// Decrypts `buf` in place with AES-256-CBC and checks the PKCS#7 padding in constant time, returning
/// the plaintext length (the plaintext is `buf[..len]`).
///
/// `buf` must be a non-zero whole number of blocks, else [`CryptoError::InvalidLength`]. Bad padding is
/// [`CryptoError::Authentication`], and `buf` is zeroized then.
pub fn aes256_cbc_decrypt_in_place(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    buf: &mut [u8],
) -> Result<usize, CryptoError> {
    if buf.is_empty() || !buf.len().is_multiple_of(BLOCK_LEN) {
        return Err(CryptoError::InvalidLength);
    }
    cbc_decrypt_blocks(key, iv, buf);
    match pkcs7_unpadded_len(buf) {
        Some(len) => Ok(len),
        None => {
            buf.zeroize();
            Err(CryptoError::Authentication)
        }
    }
}

/// Decrypts `ciphertext` into `out` with AES-256-CBC, checking PKCS#7 in constant time; returns the
/// plaintext length. `out` must hold `ciphertext.len()` bytes (the padding is removed after
/// decryption), else [`CryptoError::BufferTooSmall`]. On a padding failure `out` is zeroized.
pub fn aes256_cbc_decrypt_into(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    ciphertext: &[u8],
    out: &mut [u8],
) -> Result<usize, CryptoError> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
        return Err(CryptoError::InvalidLength);
    }
    let region = out
        .get_mut(..ciphertext.len())
        .ok_or(CryptoError::BufferTooSmall {
            needed: ciphertext.len(),
        })?;
    region.copy_from_slice(ciphertext);
    aes256_cbc_decrypt_in_place(key, iv, region)
}

/// Raw AES-256-CBC encryption of whole blocks, without padding. Only for known-answer tests and
/// formats that pad on their own: `buf.len()` must be a multiple of [`BLOCK_LEN`].
#[cfg(feature = "hazmat")]
pub fn aes256_cbc_encrypt_blocks(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    buf: &mut [u8],
) -> Result<(), CryptoError> {
    if !buf.len().is_multiple_of(BLOCK_LEN) {
        return Err(CryptoError::InvalidLength);
    }
    cbc_encrypt_blocks(key, iv, buf);
    Ok(())
}

/// Raw AES-256-CBC decryption of whole blocks, without a padding check. Only for known-answer tests:
/// `buf.len()` must be a multiple of [`BLOCK_LEN`].
#[cfg(feature = "hazmat")]
pub fn aes256_cbc_decrypt_blocks(
    key: &[u8; KEY_LEN],
    iv: &[u8; IV_LEN],
    buf: &mut [u8],
) -> Result<(), CryptoError> {
    if !buf.len().is_multiple_of(BLOCK_LEN) {
        return Err(CryptoError::InvalidLength);
    }
    cbc_decrypt_blocks(key, iv, buf);
    Ok(())
}

/// Applies the AES-256-CTR keystream to `buf` in place (encryption and decryption are the same). The
/// 16-byte `iv` is the initial counter block, incremented as a 128-bit big-endian integer, as Matrix
/// secret storage and key-export files use it. At most 2^128 blocks can be addressed; Matrix payloads
/// are far below that.
pub fn aes256_ctr_apply(key: &[u8; KEY_LEN], iv: &[u8; IV_LEN], buf: &mut [u8]) {
    let mut cipher = ctr::Ctr128BE::<Aes256>::new(key.into(), iv.into());
    cipher.apply_keystream(buf);
}

/// The keys of one AES-256-CBC + HMAC-SHA-256 message, as Olm, Megolm and classic Signal all lay out 80
/// bytes of HKDF output: the AES key, the HMAC key, then the IV (only the HKDF inputs differ).
/// Zeroized on drop.
#[derive(Zeroize, zeroize::ZeroizeOnDrop)]
pub(crate) struct CbcHmacKeys {
    pub(crate) aes: [u8; KEY_LEN],
    pub(crate) mac: [u8; 32],
    pub(crate) iv: [u8; IV_LEN],
}

impl CbcHmacKeys {
    /// The length of the key material: 32 + 32 + 16 bytes.
    pub(crate) const OKM_LEN: usize = KEY_LEN + 32 + IV_LEN;

    /// Splits 80 bytes of key material.
    pub(crate) fn from_okm(okm: &[u8; Self::OKM_LEN]) -> Self {
        let mut keys = Self {
            aes: [0; KEY_LEN],
            mac: [0; 32],
            iv: [0; IV_LEN],
        };
        let (aes, rest) = okm.split_at(KEY_LEN);
        let (mac, iv) = rest.split_at(32);
        keys.aes.copy_from_slice(aes);
        keys.mac.copy_from_slice(mac);
        keys.iv.copy_from_slice(iv);
        keys
    }
}

/// Encrypts whole blocks of `buf`; a trailing partial block (never passed here) would be left alone.
fn cbc_encrypt_blocks(key: &[u8; KEY_LEN], iv: &[u8; IV_LEN], buf: &mut [u8]) {
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    cbc::Encryptor::<Aes256>::new(key.into(), iv.into()).encrypt_blocks(blocks);
}

/// Decrypts whole blocks of `buf`; a trailing partial block (never passed here) would be left alone.
fn cbc_decrypt_blocks(key: &[u8; KEY_LEN], iv: &[u8; IV_LEN], buf: &mut [u8]) {
    let (blocks, _) = Array::slice_as_chunks_mut(buf);
    cbc::Decryptor::<Aes256>::new(key.into(), iv.into()).decrypt_blocks(blocks);
}

/// The unpadded length of `buf` (a non-empty whole number of blocks) if its PKCS#7 padding is valid.
///
/// The last block is inspected in full, with no branch or index depending on secret bytes: the pad
/// length `n` is accepted when `1 <= n <= 16` and the last `n` bytes all equal `n`.
fn pkcs7_unpadded_len(buf: &[u8]) -> Option<usize> {
    let start = buf.len().checked_sub(BLOCK_LEN)?;
    let last: &[u8; BLOCK_LEN] = buf.get(start..)?.try_into().ok()?;
    let n = last[BLOCK_LEN - 1];
    // Branch-free over the whole block: `in_pad` is 0xFF for the last `n` positions and 0 before them
    // (the borrow of `i - n` lands in the high byte), and any padding byte that differs from `n`
    // leaves bits in `bad`. A single `subtle` comparison turns the result into a `Choice`.
    let mut bad = 0u8;
    for (i, &b) in last.iter().rev().enumerate() {
        let in_pad = ((i as u16).wrapping_sub(u16::from(n)) >> 8) as u8;
        bad |= in_pad & (b ^ n);
    }
    let ok = bad.ct_eq(&0) & n.ct_gt(&0) & n.ct_lt(&(BLOCK_LEN as u8 + 1));
    let pad = u8::conditional_select(&0, &n, ok);
    bool::from(ok).then(|| buf.len() - usize::from(pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [0x11; 32];
    const IV: [u8; 16] = [0x22; 16];

    /// The branch-free padding check agrees with the obvious one: every final byte value, with the
    /// padding intact and with each padding position corrupted.
    #[test]
    fn padding_check_matches_a_plain_reference() {
        fn reference(block: &[u8; BLOCK_LEN]) -> Option<usize> {
            let n = usize::from(block[BLOCK_LEN - 1]);
            if n == 0
                || n > BLOCK_LEN
                || block[BLOCK_LEN - n..].iter().any(|&b| usize::from(b) != n)
            {
                return None;
            }
            Some(BLOCK_LEN - n)
        }
        let mut cases = 0;
        for n in 0..=255u8 {
            let mut block = [0xA7u8; BLOCK_LEN];
            for b in block.iter_mut().rev().take(usize::from(n).min(BLOCK_LEN)) {
                *b = n;
            }
            block[BLOCK_LEN - 1] = n;
            assert_eq!(pkcs7_unpadded_len(&block), reference(&block), "n = {n}");
            for pos in 0..BLOCK_LEN - 1 {
                let mut bad = block;
                bad[pos] ^= 0x01;
                assert_eq!(
                    pkcs7_unpadded_len(&bad),
                    reference(&bad),
                    "n = {n}, pos = {pos}"
                );
                cases += 1;
            }
        }
        assert_eq!(cases, 256 * 15);
        // A block with a longer prefix: the length counts from the whole buffer.
        let mut two = [0u8; 32];
        two[16..].fill(16);
        assert_eq!(pkcs7_unpadded_len(&two), Some(16));
        assert_eq!(pkcs7_unpadded_len(&two[..15]), None);
    }

    #[test]
    fn round_trip_all_lengths() {
        for len in 0..=48 {
            let source: [u8; 48] = core::array::from_fn(|i| i as u8);
            let msg = &source[..len];
            let mut ct = [0u8; 64];
            let n = aes256_cbc_encrypt_into(&KEY, &IV, msg, &mut ct).unwrap();
            assert_eq!(n, aes256_cbc_padded_len(len));
            let mut pt = [0u8; 64];
            let m = aes256_cbc_decrypt_into(&KEY, &IV, &ct[..n], &mut pt).unwrap();
            assert_eq!(&pt[..m], msg);
        }
    }

    #[test]
    fn small_buffer_changes_nothing() {
        let mut out = [0xEE; 15];
        assert_eq!(
            aes256_cbc_encrypt_into(&KEY, &IV, b"hello", &mut out),
            Err(CryptoError::BufferTooSmall { needed: 16 })
        );
        assert_eq!(out, [0xEE; 15]);
    }

    #[test]
    fn every_bad_padding_is_rejected_the_same_way() {
        // Last blocks whose plaintext padding is wrong in each possible way: n = 0, n > 16, and for
        // every n in 2..=16 each padding byte but the last one altered in turn.
        let mut cases = [[0u8; 16]; 2 + 120];
        cases[1][15] = 17;
        let mut next = 2;
        for n in 2..=16u8 {
            for wrong in 0..(n - 1) as usize {
                let block = &mut cases[next];
                block[16 - n as usize..].fill(n);
                block[15 - 1 - wrong] ^= 0x01;
                next += 1;
            }
        }
        assert_eq!(next, cases.len());
        for block in cases {
            let mut buf = block;
            cbc_encrypt_blocks(&KEY, &IV, &mut buf);
            assert_eq!(
                aes256_cbc_decrypt_in_place(&KEY, &IV, &mut buf),
                Err(CryptoError::Authentication)
            );
            assert_eq!(buf, [0u8; 16], "failed decryption must not leave plaintext");
        }
    }

    #[test]
    fn lengths_are_checked() {
        let mut buf = [0u8; 17];
        assert_eq!(
            aes256_cbc_decrypt_in_place(&KEY, &IV, &mut buf),
            Err(CryptoError::InvalidLength)
        );
        assert_eq!(
            aes256_cbc_decrypt_in_place(&KEY, &IV, &mut []),
            Err(CryptoError::InvalidLength)
        );
    }

    #[test]
    fn ctr_is_its_own_inverse() {
        let mut buf = *b"counter mode over several blocks of data!";
        aes256_ctr_apply(&KEY, &IV, &mut buf);
        assert_ne!(&buf, b"counter mode over several blocks of data!");
        aes256_ctr_apply(&KEY, &IV, &mut buf);
        assert_eq!(&buf, b"counter mode over several blocks of data!");
    }
}

//! Base58 with the Bitcoin alphabet, as used by Matrix recovery keys.
//!
//! The input is a big-endian number written in base 58 with the alphabet
//! `123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz`; each leading zero byte becomes a leading
//! `1`. There is no checksum (this is not Base58Check) and no whitespace is accepted: the recovery-key layer
//! groups and ungroups characters itself. Every byte string has exactly one encoding and every string over
//! the alphabet decodes, so there is nothing non-canonical to reject.
//!
//! Base58 conversion is quadratic in the length, so both directions work in a fixed stack buffer and refuse
//! inputs above [`MAX_BASE58_LEN`] characters or [`MAX_BASE58_BYTES`] bytes with [`CodecError::TooLarge`].
//! The scratch space is zeroized after use because the main user, a recovery key, is a secret. The
//! conversion is not constant-time (its work depends on the number of leading zeros and the table lookups
//! on the digits), as in every base58 implementation Matrix clients use.
//!
//! ```
//! use safemeet::codec::base58;
//!
//! let mut text = [0u8; base58::encoded_len_max(12)];
//! let n = base58::encode_into(b"Hello World!", &mut text)?;
//! assert_eq!(&text[..n], b"2NEpo7TZRRrLZSi2U");
//!
//! let mut bytes = [0u8; 17];
//! let n = base58::decode_into("2NEpo7TZRRrLZSi2U", &mut bytes)?;
//! assert_eq!(&bytes[..n], b"Hello World!");
//! # Ok::<(), safemeet::CodecError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::{string::String, vec::Vec};

use zeroize::Zeroizing;

use crate::error::CodecError;
use crate::limits::{MAX_BASE58_BYTES, MAX_BASE58_LEN};

/// The Bitcoin alphabet: the character for each digit.
const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Marks a byte that is not in the alphabet.
const INVALID: u8 = 0xff;

/// The digit of each alphabet character, [`INVALID`] for every other byte.
// Evaluated at compile time: an out-of-range index would fail the build, not panic at run time.
#[allow(clippy::indexing_slicing)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Five base-58 digits per limb when encoding: 58^5 < 2^30, so a limb times 2^32 fits in a `u64`.
const BASE58_5: u64 = 58 * 58 * 58 * 58 * 58;

/// Limbs (base 58^5) needed for [`MAX_BASE58_LEN`] digits.
const ENCODE_LIMBS: usize = MAX_BASE58_LEN.div_ceil(5);

/// Limbs (base 2^32) needed for [`MAX_BASE58_LEN`] bytes, which bounds any decoded value.
const DECODE_LIMBS: usize = MAX_BASE58_LEN.div_ceil(4);

// Every input of `MAX_BASE58_BYTES` bytes must have an encoding that fits the scratch buffer.
const _: () = assert!(encoded_len_max(MAX_BASE58_BYTES) <= MAX_BASE58_LEN);

/// The longest encoding of any `n` bytes: `ceil(n · log(256) / log(58))`, rounded up slightly.
#[must_use]
pub const fn encoded_len_max(n: usize) -> usize {
    // log(256) / log(58) = 1.365658237…; the ratio below is a hair above it.
    n.saturating_mul(1_365_659).div_ceil(1_000_000)
}

/// The longest decoding of any `n` characters (each character carries less than one byte).
#[must_use]
pub const fn decoded_len_max(n: usize) -> usize {
    n
}

/// The exact length of the encoding of `input`.
///
/// # Errors
/// [`CodecError::TooLarge`] if `input` is longer than [`MAX_BASE58_BYTES`].
pub fn encoded_len(input: &[u8]) -> Result<usize, CodecError> {
    let mut scratch = Zeroizing::new([0u8; MAX_BASE58_LEN]);
    encode_scratch(input, &mut scratch)
}

/// The exact length of the decoding of `input`.
///
/// # Errors
/// [`CodecError::TooLarge`] if `input` is longer than [`MAX_BASE58_LEN`], [`CodecError::InvalidBase58`] if
/// it has a character outside the alphabet.
pub fn decoded_len(input: impl AsRef<[u8]>) -> Result<usize, CodecError> {
    let mut scratch = Zeroizing::new([0u8; MAX_BASE58_LEN]);
    decode_scratch(input.as_ref(), &mut scratch)
}

/// Encodes `input` into the start of `out` and returns the number of characters written (at most
/// [`encoded_len_max`]`(input.len())`).
///
/// # Errors
/// [`CodecError::TooLarge`] if `input` is longer than [`MAX_BASE58_BYTES`];
/// [`CodecError::BufferTooSmall`] with the exact length if `out` is too short, and nothing is written.
pub fn encode_into(input: &[u8], out: &mut [u8]) -> Result<usize, CodecError> {
    let mut scratch = Zeroizing::new([0u8; MAX_BASE58_LEN]);
    let len = encode_scratch(input, &mut scratch)?;
    copy_tail(scratch.as_slice(), len, out)
}

/// Decodes `input` into the start of `out` and returns the number of bytes written (at most
/// `input.len()`).
///
/// # Errors
/// [`CodecError::TooLarge`] if `input` is longer than [`MAX_BASE58_LEN`]; [`CodecError::InvalidBase58`]
/// for a character outside the alphabet; [`CodecError::BufferTooSmall`] with the exact length if `out` is
/// too short. `out` is not written on any error.
pub fn decode_into(input: impl AsRef<[u8]>, out: &mut [u8]) -> Result<usize, CodecError> {
    let mut scratch = Zeroizing::new([0u8; MAX_BASE58_LEN]);
    let len = decode_scratch(input.as_ref(), &mut scratch)?;
    copy_tail(scratch.as_slice(), len, out)
}

/// Copies the last `len` bytes of `scratch` to the start of `out`.
fn copy_tail(scratch: &[u8], len: usize, out: &mut [u8]) -> Result<usize, CodecError> {
    let src = scratch
        .get(scratch.len().saturating_sub(len)..)
        .ok_or(CodecError::TooLarge)?;
    out.get_mut(..len)
        .ok_or(CodecError::BufferTooSmall { needed: len })?
        .copy_from_slice(src);
    Ok(len)
}

/// Writes the encoding of `input` right-aligned into `out` and returns its length.
fn encode_scratch(input: &[u8], out: &mut [u8; MAX_BASE58_LEN]) -> Result<usize, CodecError> {
    if input.len() > MAX_BASE58_BYTES {
        return Err(CodecError::TooLarge);
    }
    let zeros = input.iter().take_while(|&&b| b == 0).count();
    let rest = input.get(zeros..).unwrap_or_default();

    // The value as little-endian limbs in base 58^5, fed four bytes at a time.
    let mut limbs = Zeroizing::new([0u32; ENCODE_LIMBS]);
    let mut used = 0;
    for chunk in rest.chunks(4) {
        let mut carry = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let factor = 1u64 << (8 * chunk.len());
        for limb in limbs.iter_mut().take(used) {
            // limb < 2^30 and factor <= 2^32, carry < 2^33: no overflow.
            carry += u64::from(*limb) * factor;
            *limb = low_u32(carry % BASE58_5);
            carry /= BASE58_5;
        }
        while carry > 0 {
            *limbs.get_mut(used).ok_or(CodecError::TooLarge)? = low_u32(carry % BASE58_5);
            carry /= BASE58_5;
            used += 1;
        }
    }

    // Digits, least significant first, written from the end of `out`.
    let mut pos = out.len();
    let mut put = |c: u8| -> Result<(), CodecError> {
        pos = pos.checked_sub(1).ok_or(CodecError::TooLarge)?;
        *out.get_mut(pos).ok_or(CodecError::TooLarge)? = c;
        Ok(())
    };
    for (i, &limb) in limbs.iter().take(used).enumerate() {
        let mut limb = limb;
        let top = i + 1 == used;
        // Every limb but the top one has exactly five digits, leading zeros included.
        for _ in 0..5 {
            if top && limb == 0 {
                break;
            }
            put(digit(limb % 58))?;
            limb /= 58;
        }
    }
    for _ in 0..zeros {
        put(b'1')?;
    }
    Ok(out.len() - pos)
}

/// Writes the decoding of `input` right-aligned into `out` and returns its length.
fn decode_scratch(input: &[u8], out: &mut [u8; MAX_BASE58_LEN]) -> Result<usize, CodecError> {
    if input.len() > MAX_BASE58_LEN {
        return Err(CodecError::TooLarge);
    }
    let zeros = input.iter().take_while(|&&c| c == b'1').count();
    let rest = input.get(zeros..).unwrap_or_default();

    // The value as little-endian limbs in base 2^32, fed five digits at a time.
    let mut limbs = Zeroizing::new([0u32; DECODE_LIMBS]);
    let mut used = 0;
    for chunk in rest.chunks(5) {
        let mut carry = 0u64;
        let mut factor = 1u64;
        for &c in chunk {
            let d = DECODE.get(usize::from(c)).copied().unwrap_or(INVALID);
            if d == INVALID {
                return Err(CodecError::InvalidBase58);
            }
            carry = carry * 58 + u64::from(d);
            factor *= 58;
        }
        for limb in limbs.iter_mut().take(used) {
            // limb < 2^32 and factor <= 58^5 < 2^30, carry < 2^30: no overflow.
            carry += u64::from(*limb) * factor;
            *limb = low_u32(carry);
            carry >>= 32;
        }
        while carry > 0 {
            *limbs.get_mut(used).ok_or(CodecError::TooLarge)? = low_u32(carry);
            carry >>= 32;
            used += 1;
        }
    }

    // Bytes, least significant first, written from the end of `out`.
    let mut pos = out.len();
    let mut put = |b: u8| -> Result<(), CodecError> {
        pos = pos.checked_sub(1).ok_or(CodecError::TooLarge)?;
        *out.get_mut(pos).ok_or(CodecError::TooLarge)? = b;
        Ok(())
    };
    for (i, &limb) in limbs.iter().take(used).enumerate() {
        let top = i + 1 == used;
        for (j, b) in limb.to_le_bytes().into_iter().enumerate() {
            // The top limb's leading zero bytes are not part of the number.
            if top && limb >> (8 * j) == 0 {
                break;
            }
            put(b)?;
        }
    }
    for _ in 0..zeros {
        put(0)?;
    }
    Ok(out.len() - pos)
}

/// The low 32 bits of `v`.
#[inline(always)]
const fn low_u32(v: u64) -> u32 {
    // Truncation is the point.
    #[allow(clippy::cast_possible_truncation)]
    let low = v as u32;
    low
}

/// The character for digit `d` (`d < 58`).
#[inline(always)]
fn digit(d: u32) -> u8 {
    ALPHABET.get(d as usize).copied().unwrap_or(b'1')
}

/// Encodes `input` as base58.
///
/// # Errors
/// [`CodecError::TooLarge`] if `input` is longer than [`MAX_BASE58_BYTES`].
#[cfg(feature = "alloc")]
pub fn encode(input: impl AsRef<[u8]>) -> Result<String, CodecError> {
    let mut scratch = Zeroizing::new([0u8; MAX_BASE58_LEN]);
    let len = encode_scratch(input.as_ref(), &mut scratch)?;
    let tail = scratch
        .get(MAX_BASE58_LEN - len..)
        .ok_or(CodecError::TooLarge)?;
    // The alphabet is ASCII, so this never fails.
    core::str::from_utf8(tail)
        .map(String::from)
        .map_err(|_| CodecError::InvalidBase58)
}

/// Decodes base58.
///
/// # Errors
/// As [`decode_into`], except that the buffer is always large enough.
#[cfg(feature = "alloc")]
pub fn decode(input: impl AsRef<[u8]>) -> Result<Vec<u8>, CodecError> {
    let mut scratch = Zeroizing::new([0u8; MAX_BASE58_LEN]);
    let len = decode_scratch(input.as_ref(), &mut scratch)?;
    scratch
        .get(MAX_BASE58_LEN - len..)
        .map(<[u8]>::to_vec)
        .ok_or(CodecError::TooLarge)
}

// Tests link `std` even without the `alloc` feature.
#[cfg(test)]
#[allow(clippy::std_instead_of_alloc)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn enc_vec(input: &[u8]) -> Result<Vec<u8>, CodecError> {
        let mut out = std::vec![0u8; encoded_len_max(input.len())];
        let n = encode_into(input, &mut out)?;
        assert_eq!(Ok(n), encoded_len(input));
        out.truncate(n);
        Ok(out)
    }

    fn dec_vec(input: &[u8]) -> Result<Vec<u8>, CodecError> {
        let mut out = std::vec![0u8; decoded_len_max(input.len())];
        let n = decode_into(input, &mut out)?;
        assert_eq!(Ok(n), decoded_len(input));
        out.truncate(n);
        Ok(out)
    }

    const KNOWN: &[(&[u8], &[u8])] = &[
        (b"", b""),
        (b"\x00", b"1"),
        (b"\x00\x00\x00", b"111"),
        (b"\x01", b"2"),
        (b"\x39", b"z"),
        (b"\x3a", b"21"),
        (b"\x61", b"2g"),
        (b"\x62\x62\x62", b"a3gV"),
        (b"\x63\x63\x63", b"aPEr"),
        (b"Hello World!", b"2NEpo7TZRRrLZSi2U"),
        (b"\x00\x00\x00\x28\x7f\xb4\xcd", b"111233QC4"),
        (b"\xff\xff\xff\xff", b"7YXq9G"),
        (b"\x00\x00\x00\x01", b"1112"),
    ];

    #[test]
    fn known_answers() {
        for &(raw, text) in KNOWN {
            assert_eq!(enc_vec(raw).unwrap(), text, "{}", text.escape_ascii());
            assert_eq!(dec_vec(text).unwrap(), raw, "{}", text.escape_ascii());
        }
    }

    /// The recovery key checked in the Matrix notes (§6.6), with its spaces removed.
    #[test]
    fn recovery_key() {
        let text = b"EsTZ4us6nh2989jkU1uHZbae4PuSQQC186ptem8oR8nbbdwQ";
        let raw = dec_vec(text).unwrap();
        assert_eq!(raw.len(), 35);
        assert_eq!(&raw[..2], &[0x8b, 0x01]);
        assert_eq!(raw[34], 0xb3);
        assert_eq!(raw.iter().fold(0, |a, b| a ^ b), 0);
        assert_eq!(enc_vec(&raw).unwrap(), text);
        assert_eq!(encoded_len_max(35), 48);
    }

    #[test]
    fn recovery_key_range() {
        let mut key = [0u8; 35];
        key[0] = 0x8b;
        key[1] = 0x01;
        assert!(enc_vec(&key).unwrap().starts_with(b"EsSzy"));
        key[2..34].fill(0xff);
        assert!(enc_vec(&key).unwrap().starts_with(b"EsUK2"));
    }

    #[test]
    fn rejects_invalid_characters() {
        for input in [
            &b"0"[..],
            b"O",
            b"I",
            b"l",
            b"2NEpo7TZRRrLZSi2U ",
            b" 1",
            b"+",
            b"\xff",
            b"1\x00",
        ] {
            assert_eq!(
                dec_vec(input),
                Err(CodecError::InvalidBase58),
                "{}",
                input.escape_ascii()
            );
        }
    }

    #[test]
    fn limits() {
        // The largest inputs work, one more is refused.
        let bytes = [0xffu8; MAX_BASE58_BYTES];
        let text = enc_vec(&bytes).unwrap();
        assert!(text.len() <= MAX_BASE58_LEN);
        assert_eq!(dec_vec(&text).unwrap(), bytes);
        assert_eq!(
            enc_vec(&[0xff; MAX_BASE58_BYTES + 1]),
            Err(CodecError::TooLarge)
        );
        assert_eq!(
            enc_vec(&[0; MAX_BASE58_BYTES + 1]),
            Err(CodecError::TooLarge)
        );

        let text = [b'z'; MAX_BASE58_LEN];
        let bytes = dec_vec(&text).unwrap();
        assert_eq!(bytes.len(), 94);
        let ones = [b'1'; MAX_BASE58_LEN];
        assert_eq!(dec_vec(&ones).unwrap(), [0; MAX_BASE58_LEN]);
        assert_eq!(
            dec_vec(&[b'z'; MAX_BASE58_LEN + 1]),
            Err(CodecError::TooLarge)
        );
        assert_eq!(
            decoded_len([b'1'; MAX_BASE58_LEN + 1]),
            Err(CodecError::TooLarge)
        );
    }

    #[test]
    fn buffer_one_byte_too_small_is_untouched() {
        let mut out = [0xaau8; 16];
        assert_eq!(
            encode_into(b"Hello World!", &mut out),
            Err(CodecError::BufferTooSmall { needed: 17 })
        );
        assert_eq!(out, [0xaa; 16]);
        let mut out = [0xaau8; 11];
        assert_eq!(
            decode_into("2NEpo7TZRRrLZSi2U", &mut out),
            Err(CodecError::BufferTooSmall { needed: 12 })
        );
        assert_eq!(out, [0xaa; 11]);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn alloc_wrappers() {
        assert_eq!(encode(b"Hello World!").unwrap(), "2NEpo7TZRRrLZSi2U");
        assert_eq!(
            decode("111233QC4").unwrap(),
            b"\x00\x00\x00\x28\x7f\xb4\xcd"
        );
        assert_eq!(decode("0"), Err(CodecError::InvalidBase58));
        assert_eq!(encode([1u8; 200]), Err(CodecError::TooLarge));
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..=MAX_BASE58_BYTES)) {
            let text = enc_vec(&bytes).unwrap();
            prop_assert!(text.len() <= encoded_len_max(bytes.len()));
            prop_assert_eq!(dec_vec(&text).unwrap(), bytes);
        }

        #[test]
        fn round_trip_leading_zeros(
            zeros in 0usize..8,
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut input = std::vec![0u8; zeros];
            input.extend_from_slice(&bytes);
            let text = enc_vec(&input).unwrap();
            let ones = text.iter().take_while(|&&c| c == b'1').count();
            let lead = input.iter().take_while(|&&b| b == 0).count();
            prop_assert_eq!(ones, lead);
            prop_assert_eq!(dec_vec(&text).unwrap(), input);
        }

        #[test]
        fn decode_is_canonical(text in "[1-9A-HJ-NP-Za-km-z]{0,60}") {
            let bytes = dec_vec(text.as_bytes()).unwrap();
            prop_assert_eq!(enc_vec(&bytes).unwrap(), text.as_bytes());
        }
    }
}

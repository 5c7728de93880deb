//! Base64 with the standard alphabet (RFC 4648 §4), as Matrix uses it.
//!
//! Encoding is always **unpadded** (the Matrix "unpadded base64" of the spec's appendix; vodozemac's strict
//! decoders reject padding). Decoding accepts unpadded and correctly padded input, and rejects
//!
//! - characters outside the alphabet, whitespace included, and padding anywhere but at the end, more than
//!   two padding characters or padding that does not complete a four-character group:
//!   [`CodecError::InvalidBase64`];
//! - lengths no encoder can produce (one character past a whole group): [`CodecError::InvalidBase64`];
//! - set bits after the last encoded byte, so that every byte string has exactly one accepted unpadded
//!   encoding: [`CodecError::NonCanonicalBase64`].
//!
//! Both directions are table-driven (a 4096-entry pair table to encode, four 256-entry tables to decode),
//! which makes them faster than the `base64` crate vodozemac uses, and, like it, not constant-time: which
//! table entries are read depends on the data. That is the usual trade-off for public keys, signatures and
//! ciphertext; a caller encoding long-lived secrets on a machine shared with an attacker who can probe the
//! cache should know it.
//!
//! ```
//! use safemeet::codec::base64;
//!
//! let mut text = [0u8; 8];
//! let n = base64::encode_into(b"fooba", &mut text)?;
//! assert_eq!(&text[..n], b"Zm9vYmE");
//! assert_eq!(n, base64::encoded_len(5));
//!
//! let mut bytes = [0u8; 5];
//! assert_eq!(base64::decode_into("Zm9vYmE=", &mut bytes)?, 5);
//! assert_eq!(&bytes, b"fooba");
//! # Ok::<(), safemeet::CodecError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::{string::String, vec, vec::Vec};

use crate::error::CodecError;

/// The standard alphabet: the character for each 6-bit value.
const ENCODE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The two characters for each 12-bit value, first character in the high byte: encoding six bytes is
/// then four lookups.
// Evaluated at compile time: an out-of-range index would fail the build, not panic at run time.
#[allow(clippy::indexing_slicing)]
const ENCODE_PAIRS: [u16; 4096] = {
    let mut table = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        table[i] = ((ENCODE[i >> 6] as u16) << 8) | ENCODE[i & 63] as u16;
        i += 1;
    }
    table
};

/// The two characters for the low twelve bits of `v`, first character in the high byte.
#[inline(always)]
fn enc2(v: u64) -> u16 {
    // `v & 0xfff` is always in range, so the fallback is never used and the check compiles away.
    ENCODE_PAIRS.get((v & 0xfff) as usize).copied().unwrap_or(0)
}

/// Marks a byte that is not in the alphabet; any value with the high bit set would do.
const INVALID: u8 = 0xff;

/// The 6-bit value of each alphabet character, [`INVALID`] for every other byte (including `=`).
// Evaluated at compile time: an out-of-range index would fail the build, not panic at run time.
#[allow(clippy::indexing_slicing)]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < ENCODE.len() {
        table[ENCODE[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The character for the low six bits of `v`.
#[inline(always)]
fn enc(v: u64) -> u8 {
    // `v & 63` is always in range, so the fallback is never used and the check compiles away.
    ENCODE.get((v & 63) as usize).copied().unwrap_or(b'A')
}

/// Marks an invalid character in the [`DECODE_SHIFTED`] tables: any bit above the low 24.
const INVALID_SHIFTED: u32 = 0xff00_0000;

/// For each position `i` in a 4-character group, the value of each character shifted to its place in
/// the group's 24 bits (`value << (18 - 6 * i)`), or [`INVALID_SHIFTED`]. Decoding a group is then four
/// lookups and three ORs, and the OR also collects the invalid marks.
// Evaluated at compile time: an out-of-range index would fail the build, not panic at run time.
#[allow(clippy::indexing_slicing)]
const DECODE_SHIFTED: [[u32; 256]; 4] = {
    let mut tables = [[INVALID_SHIFTED; 256]; 4];
    let mut c = 0;
    while c < 256 {
        let v = DECODE[c];
        if v != INVALID {
            let v = v as u32;
            tables[0][c] = v << 18;
            tables[1][c] = v << 12;
            tables[2][c] = v << 6;
            tables[3][c] = v;
        }
        c += 1;
    }
    tables
};

/// Decodes four characters into 24 bits; any bit above them is set if a character was invalid.
#[inline(always)]
fn decode4(src: &[u8; 4]) -> u32 {
    let [t0, t1, t2, t3] = &DECODE_SHIFTED;
    let [a, b, c, d] = *src;
    // A `u8` always indexes a 256-entry table, so the fallbacks are never used.
    t0.get(usize::from(a)).copied().unwrap_or(INVALID_SHIFTED)
        | t1.get(usize::from(b)).copied().unwrap_or(INVALID_SHIFTED)
        | t2.get(usize::from(c)).copied().unwrap_or(INVALID_SHIFTED)
        | t3.get(usize::from(d)).copied().unwrap_or(INVALID_SHIFTED)
}

/// Stores the top six bytes of `n`, big-endian, as one 4-byte and one 2-byte write.
#[inline(always)]
fn store6(dst: &mut [u8; 6], n: u64) {
    // The truncating casts select bytes 0..4 and 4..6.
    if let Some(head) = dst.first_chunk_mut::<4>() {
        *head = ((n >> 32) as u32).to_be_bytes();
    }
    if let Some(tail) = dst.last_chunk_mut::<2>() {
        *tail = ((n >> 16) as u16).to_be_bytes();
    }
}

/// The length of the unpadded encoding of `n` bytes. Saturates at `usize::MAX` for absurd `n`.
#[must_use]
pub const fn encoded_len(n: usize) -> usize {
    let tail = match n % 3 {
        0 => 0,
        1 => 2,
        _ => 3,
    };
    (n / 3).saturating_mul(4).saturating_add(tail)
}

/// An upper bound on the decoded length of any `n`-character input (exact for valid unpadded input).
#[must_use]
pub const fn decoded_len_estimate(n: usize) -> usize {
    let tail = match n % 4 {
        0 | 1 => 0,
        2 => 1,
        _ => 2,
    };
    (n / 4) * 3 + tail
}

/// The exact decoded length of `input`, padded or not, checking its length and padding but not its
/// characters.
///
/// # Errors
/// [`CodecError::InvalidBase64`] if the length or the padding is impossible.
pub fn decoded_len(input: impl AsRef<[u8]>) -> Result<usize, CodecError> {
    unpadded_decoded_len(strip_padding(input.as_ref())?.len())
}

/// Encodes `input` without padding into the start of `out` and returns the number of characters written
/// ([`encoded_len`]`(input.len())`).
///
/// # Errors
/// [`CodecError::BufferTooSmall`] if `out` is shorter than that; nothing is written.
pub fn encode_into(input: &[u8], out: &mut [u8]) -> Result<usize, CodecError> {
    let needed = encoded_len(input.len());
    let out = out
        .get_mut(..needed)
        .ok_or(CodecError::BufferTooSmall { needed })?;

    // Bulk: six bytes become eight characters. `out` has exactly as many 8-character chunks as `input`
    // has 6-byte chunks, because the encoding of the 0..=5 leftover bytes is at most seven characters.
    let (in6, in_rest) = input.as_chunks::<6>();
    let (out8, out_rest) = out.as_chunks_mut::<8>();
    for (src, dst) in in6.iter().zip(out8.iter_mut()) {
        let [a, b, c, d, e, f] = *src;
        let n = u64::from_be_bytes([a, b, c, d, e, f, 0, 0]);
        let chars = u64::from(enc2(n >> 52)) << 48
            | u64::from(enc2(n >> 40)) << 32
            | u64::from(enc2(n >> 28)) << 16
            | u64::from(enc2(n >> 16));
        *dst = chars.to_be_bytes();
    }

    // Tail: up to five bytes, left-aligned in a `u64`; the bits after them are zero, as the encoding of
    // the final partial group requires.
    let mut last = [0u8; 8];
    for (l, s) in last.iter_mut().zip(in_rest) {
        *l = *s;
    }
    let n = u64::from_be_bytes(last);
    for (d, shift) in out_rest.iter_mut().zip([58u32, 52, 46, 40, 34, 28, 22]) {
        *d = enc(n >> shift);
    }
    Ok(needed)
}

/// Decodes `input` (unpadded or padded) into the start of `out` and returns the number of bytes written
/// ([`decoded_len`]`(input)`).
///
/// # Errors
/// [`CodecError::InvalidBase64`], [`CodecError::NonCanonicalBase64`], or [`CodecError::BufferTooSmall`]
/// if `out` is too short for the decoded bytes, in which case nothing is written. After the other errors
/// the first [`decoded_len_estimate`]`(input.len())` bytes of `out` may have been overwritten.
pub fn decode_into(input: impl AsRef<[u8]>, out: &mut [u8]) -> Result<usize, CodecError> {
    decode_slice(input.as_ref(), out)
}

/// Decodes `input` (unpadded or padded), which must be base64 of exactly `N` bytes, into `out`: the
/// shape of every key, MAC and IV in the JSON formats. The buffer is the caller's, so a secret can be
/// decoded straight into a zeroizing one.
///
/// # Errors
/// [`CodecError::ValueOutOfRange`] if `input` decodes to another length (nothing is written); otherwise
/// as [`decode_into`].
pub fn decode_array_into<const N: usize>(
    input: impl AsRef<[u8]>,
    out: &mut [u8; N],
) -> Result<(), CodecError> {
    let input = input.as_ref();
    if decoded_len(input)? != N {
        return Err(CodecError::ValueOutOfRange);
    }
    decode_slice(input, out).map(|_| ())
}

/// [`decode_into`], monomorphic.
fn decode_slice(input: &[u8], out: &mut [u8]) -> Result<usize, CodecError> {
    let data = strip_padding(input)?;
    let needed = unpadded_decoded_len(data.len())?;
    let out = out
        .get_mut(..needed)
        .ok_or(CodecError::BufferTooSmall { needed })?;

    // Whole four-character groups, then a tail of 0, 2 or 3 characters.
    let body_len = data.len() / 4 * 4;
    let (body, tail) = data
        .split_at_checked(body_len)
        .ok_or(CodecError::InvalidBase64)?;
    let (out_body, out_tail) = out
        .split_at_mut_checked(body_len / 4 * 3)
        .ok_or(CodecError::InvalidBase64)?;

    // Bulk: eight characters become six bytes.
    let (in8, in_rest) = body.as_chunks::<8>();
    let (out6, out_rest) = out_body.as_chunks_mut::<6>();
    for (src, dst) in in8.iter().zip(out6.iter_mut()) {
        let (hi, lo) = match src.as_chunks::<4>() {
            ([first, second], _) => (decode4(first), decode4(second)),
            // `[u8; 8]` is exactly two groups of four.
            _ => return Err(CodecError::InvalidBase64),
        };
        if (hi | lo) & INVALID_SHIFTED != 0 {
            return Err(CodecError::InvalidBase64);
        }
        store6(dst, (u64::from(hi) << 40) | (u64::from(lo) << 16));
    }
    // At most one more whole group.
    if let (Some(src), Some(dst)) = (in_rest.first_chunk::<4>(), out_rest.first_chunk_mut::<3>()) {
        let n = decode4(src);
        if n & INVALID_SHIFTED != 0 {
            return Err(CodecError::InvalidBase64);
        }
        let [_, b0, b1, b2] = n.to_be_bytes();
        *dst = [b0, b1, b2];
    }

    // A final partial group: two characters for one byte, three for two. The bits below the last byte
    // must be zero, or two encodings would decode alike.
    let (n, zero_bits) = match *tail {
        [] => return Ok(needed),
        [a, b] => (decode4(&[a, b, b'A', b'A']), 0x00_00_ff_ff),
        [a, b, c] => (decode4(&[a, b, c, b'A']), 0x00_00_00_ff),
        // `unpadded_decoded_len` rejected every other length.
        _ => return Err(CodecError::InvalidBase64),
    };
    if n & INVALID_SHIFTED != 0 {
        return Err(CodecError::InvalidBase64);
    }
    if n & zero_bits != 0 {
        return Err(CodecError::NonCanonicalBase64);
    }
    let [_, b0, b1, _] = n.to_be_bytes();
    for (o, b) in out_tail.iter_mut().zip([b0, b1]) {
        *o = b;
    }
    Ok(needed)
}

/// The decoded length of `len` characters without padding.
const fn unpadded_decoded_len(len: usize) -> Result<usize, CodecError> {
    if len % 4 == 1 {
        Err(CodecError::InvalidBase64)
    } else {
        Ok(decoded_len_estimate(len))
    }
}

/// Removes the padding from a padded input, checking that the padding completes a four-character group.
/// Stray `=` characters are left in place for the alphabet check to reject.
fn strip_padding(input: &[u8]) -> Result<&[u8], CodecError> {
    let data = match input {
        [data @ .., b'=', b'='] | [data @ .., b'='] => data,
        _ => return Ok(input),
    };
    if !input.len().is_multiple_of(4) {
        return Err(CodecError::InvalidBase64);
    }
    Ok(data)
}

/// Encodes `input` as unpadded base64.
#[cfg(feature = "alloc")]
#[must_use]
pub fn encode(input: impl AsRef<[u8]>) -> String {
    let input = input.as_ref();
    let mut out = vec![0u8; encoded_len(input.len())];
    // The buffer has exactly the needed length, and the alphabet is ASCII, so neither fallback is taken.
    let n = encode_into(input, &mut out).unwrap_or(0);
    out.truncate(n);
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes unpadded or padded base64.
///
/// # Errors
/// As [`decode_into`], except that the buffer is always large enough.
#[cfg(feature = "alloc")]
pub fn decode(input: impl AsRef<[u8]>) -> Result<Vec<u8>, CodecError> {
    let input = input.as_ref();
    let mut out = vec![0u8; decoded_len(input)?];
    let n = decode_slice(input, &mut out)?;
    out.truncate(n);
    Ok(out)
}

// Tests link `std` even without the `alloc` feature.
#[cfg(test)]
#[allow(clippy::std_instead_of_alloc)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::String;
    use std::vec::Vec;

    fn enc_vec(input: &[u8]) -> Vec<u8> {
        let mut out = std::vec![0u8; encoded_len(input.len())];
        let n = encode_into(input, &mut out).unwrap();
        assert_eq!(n, out.len());
        out
    }

    fn dec_vec(input: &[u8]) -> Result<Vec<u8>, CodecError> {
        let mut out = std::vec![0u8; decoded_len_estimate(input.len())];
        let n = decode_into(input, &mut out)?;
        assert_eq!(Ok(n), decoded_len(input));
        out.truncate(n);
        Ok(out)
    }

    #[test]
    fn fixed_length_decoding() {
        let mut four = [0u8; 4];
        // `AQIDBA` is 1, 2, 3, 4; padded and unpadded both read.
        assert_eq!(decode_array_into("AQIDBA", &mut four), Ok(()));
        assert_eq!(four, [1, 2, 3, 4]);
        assert_eq!(decode_array_into("AQIDBA==", &mut four), Ok(()));
        // One byte short or long is refused before anything is written.
        let mut untouched = [9u8; 4];
        for other in ["AQID", "AQIDBAU"] {
            assert_eq!(
                decode_array_into(other, &mut untouched),
                Err(CodecError::ValueOutOfRange)
            );
            assert_eq!(untouched, [9; 4]);
        }
        // A bad character is decode_into's error.
        assert_eq!(
            decode_array_into("AQID*A", &mut four),
            Err(CodecError::InvalidBase64)
        );
    }

    #[test]
    fn rfc4648_vectors() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"", b"", b""),
            (b"f", b"Zg", b"Zg=="),
            (b"fo", b"Zm8", b"Zm8="),
            (b"foo", b"Zm9v", b"Zm9v"),
            (b"foob", b"Zm9vYg", b"Zm9vYg=="),
            (b"fooba", b"Zm9vYmE", b"Zm9vYmE="),
            (b"foobar", b"Zm9vYmFy", b"Zm9vYmFy"),
        ];
        for &(raw, unpadded, padded) in cases {
            assert_eq!(enc_vec(raw), unpadded);
            assert_eq!(dec_vec(unpadded).unwrap(), raw);
            assert_eq!(dec_vec(padded).unwrap(), raw);
        }
    }

    #[test]
    fn whole_alphabet() {
        // The 64 characters in order are the values 0..=63, a whole number of groups.
        let decoded = dec_vec(ENCODE).unwrap();
        assert_eq!(decoded.len(), 48);
        assert_eq!(&decoded[..3], &[0x00, 0x10, 0x83]);
        assert_eq!(enc_vec(&decoded), ENCODE);
    }

    #[test]
    fn encoded_lengths_from_the_matrix_notes() {
        assert_eq!(encoded_len(32), 43);
        assert_eq!(encoded_len(64), 86);
        assert_eq!(encoded_len(165), 220);
        assert_eq!(encoded_len(229), 306);
        assert_eq!(encoded_len(usize::MAX), usize::MAX);
        assert_eq!(decoded_len_estimate(43), 32);
        assert_eq!(decoded_len("Zg=="), Ok(1));
        assert_eq!(decoded_len("Zm8="), Ok(2));
        assert_eq!(decoded_len("Z"), Err(CodecError::InvalidBase64));
    }

    #[test]
    fn rejects_invalid() {
        let invalid: &[&[u8]] = &[
            b"Z",
            b"Zm9vY",
            b"Zg=",
            b"Zg===",
            b"Z===",
            b"====",
            b"=",
            b"==",
            b"Zm8==",
            b"Zg==Zg==",
            b"Z=g=",
            b"Zm9v\n",
            b" Zm9v",
            b"Zm9v Zm9v",
            b"Zm-v",
            b"Zm_v",
            b"Zm9v\x00",
            b"Zm9v\xff",
            b"Zm9vYmFyZm9vYmF\xc3\xa9",
            b"Zm9vYmFy=Zm9vYmF",
            b"Zm9vYmFyZm9vYmFyZ.9vYmFy",
        ];
        for &input in invalid {
            assert_eq!(
                dec_vec(input),
                Err(CodecError::InvalidBase64),
                "{}",
                input.escape_ascii()
            );
        }
        // Bad characters are found in every position of the bulk loop.
        for i in 0..24 {
            let mut text = *b"Zm9vYmFyZm9vYmFyZm9vYmFy";
            text[i] = b'*';
            assert_eq!(dec_vec(&text), Err(CodecError::InvalidBase64), "{i}");
        }
    }

    #[test]
    fn rejects_non_canonical() {
        for input in [
            &b"Zh"[..],
            b"Zh==",
            b"Zm9",
            b"Zm9=",
            b"Zm9vYh",
            b"Zm9vYmF",
            b"AB",
            b"AAB",
        ] {
            assert_eq!(
                dec_vec(input),
                Err(CodecError::NonCanonicalBase64),
                "{}",
                input.escape_ascii()
            );
        }
        // The canonical neighbours decode.
        assert_eq!(dec_vec(b"Zg").unwrap(), b"f");
        assert_eq!(dec_vec(b"Zm8").unwrap(), b"fo");
    }

    #[test]
    fn buffer_one_byte_too_small_is_untouched() {
        let mut out = [0xaau8; 42];
        assert_eq!(
            encode_into(&[0u8; 32], &mut out),
            Err(CodecError::BufferTooSmall { needed: 43 })
        );
        assert_eq!(out, [0xaa; 42]);

        let text = enc_vec(&[7u8; 32]);
        let mut out = [0xaau8; 31];
        assert_eq!(
            decode_into(&text, &mut out),
            Err(CodecError::BufferTooSmall { needed: 32 })
        );
        assert_eq!(out, [0xaa; 31]);
        // Extra room is fine and untouched past the output.
        let mut out = [0xaau8; 40];
        assert_eq!(decode_into(&text, &mut out), Ok(32));
        assert_eq!(out[32..], [0xaa; 8]);
    }

    #[test]
    fn accepts_str_and_bytes() {
        let mut out = [0u8; 3];
        assert_eq!(decode_into("Zm9v", &mut out), Ok(3));
        assert_eq!(decode_into(b"Zm9v", &mut out), Ok(3));
        assert_eq!(decode_into(String::from("Zm9v"), &mut out), Ok(3));
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn alloc_wrappers() {
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode([]), "");
        assert_eq!(decode("Zm9vYmE").unwrap(), b"fooba");
        assert_eq!(decode("Zm9vYmE=").unwrap(), b"fooba");
        assert_eq!(decode("Zm9vYmE==").unwrap_err(), CodecError::InvalidBase64);
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let text = enc_vec(&bytes);
            prop_assert_eq!(text.len(), encoded_len(bytes.len()));
            prop_assert!(!text.contains(&b'='));
            prop_assert_eq!(dec_vec(&text).unwrap(), bytes.clone());
            // The padded form decodes the same.
            let mut padded = text.clone();
            while !padded.len().is_multiple_of(4) {
                padded.push(b'=');
            }
            prop_assert_eq!(dec_vec(&padded).unwrap(), bytes);
        }

        #[test]
        fn decode_is_canonical(text in proptest::collection::vec(any::<u8>(), 0..64)) {
            // Anything accepted re-encodes to the input without its padding.
            if let Ok(bytes) = dec_vec(&text) {
                let unpadded = text.strip_suffix(b"==").or_else(|| text.strip_suffix(b"=")).unwrap_or(&text);
                prop_assert_eq!(enc_vec(&bytes), unpadded);
            }
        }

        #[test]
        fn decode_is_canonical_alphabet(text in "[A-Za-z0-9+/]{0,40}={0,2}") {
            if let Ok(bytes) = dec_vec(text.as_bytes()) {
                prop_assert_eq!(enc_vec(&bytes), text.trim_end_matches('=').as_bytes());
            }
        }
    }
}

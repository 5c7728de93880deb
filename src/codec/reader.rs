//! A zero-copy reader over a byte slice.
//!
//! [`Reader`] hands out sub-slices of its input instead of copying, so a parsed message borrows from the
//! bytes it was parsed from. Every read either succeeds completely or fails and leaves the reader where it
//! was, so a caller can try an alternative or report the error at the right offset.

use core::fmt;

use crate::error::CodecError;
use crate::limits::MAX_VARINT_LEN;

/// A cursor over `&'a [u8]` that reads big-endian integers, LEB128 varints and borrowed byte runs.
///
/// Reads never panic: running out of input is [`CodecError::UnexpectedEnd`], and a failed read does not
/// move the cursor.
///
/// ```
/// use safemeet::codec::Reader;
///
/// let mut r = Reader::new(&[0x03, 0xac, 0x02, b'h', b'i']);
/// assert_eq!(r.read_u8()?, 3);
/// assert_eq!(r.read_varint()?, 300);
/// assert_eq!(r.read_bytes(2)?, b"hi");
/// r.finish()?;
/// # Ok::<(), safemeet::CodecError>(())
/// ```
#[derive(Clone)]
pub struct Reader<'a> {
    /// The whole input, kept so that [`Reader::position`] and [`Reader::consumed`] can be answered.
    input: &'a [u8],
    /// The bytes not yet read; always a suffix of `input`.
    rest: &'a [u8],
}

impl fmt::Debug for Reader<'_> {
    /// Shows the cursor, never the bytes: the input may be ciphertext or key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("position", &self.position())
            .field("remaining", &self.remaining())
            .finish()
    }
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `input`.
    #[must_use]
    pub const fn new(input: &'a [u8]) -> Self {
        Self { input, rest: input }
    }

    /// The number of bytes not yet read.
    #[must_use]
    pub const fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Whether every byte has been read.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The number of bytes read so far (the offset of the next byte in the original input).
    #[must_use]
    pub const fn position(&self) -> usize {
        self.input.len() - self.rest.len()
    }

    /// The bytes read so far, borrowed from the original input (for example the part of a message a MAC
    /// covers).
    #[must_use]
    pub fn consumed(&self) -> &'a [u8] {
        self.input.get(..self.position()).unwrap_or_default()
    }

    /// The bytes not yet read, without consuming them.
    #[must_use]
    pub const fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// The next byte, without consuming it.
    ///
    /// # Errors
    /// [`CodecError::UnexpectedEnd`] if the input is exhausted.
    pub fn peek_u8(&self) -> Result<u8, CodecError> {
        self.rest.first().copied().ok_or(CodecError::UnexpectedEnd)
    }

    /// Reads one byte.
    ///
    /// # Errors
    /// [`CodecError::UnexpectedEnd`] if the input is exhausted.
    pub fn read_u8(&mut self) -> Result<u8, CodecError> {
        let (&byte, rest) = self.rest.split_first().ok_or(CodecError::UnexpectedEnd)?;
        self.rest = rest;
        Ok(byte)
    }

    /// Reads `n` bytes and returns them borrowed from the input.
    ///
    /// # Errors
    /// [`CodecError::UnexpectedEnd`] if fewer than `n` bytes remain.
    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let (bytes, rest) = self
            .rest
            .split_at_checked(n)
            .ok_or(CodecError::UnexpectedEnd)?;
        self.rest = rest;
        Ok(bytes)
    }

    /// Reads exactly `N` bytes into an array.
    ///
    /// # Errors
    /// [`CodecError::UnexpectedEnd`] if fewer than `N` bytes remain.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let (bytes, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(CodecError::UnexpectedEnd)?;
        self.rest = rest;
        Ok(*bytes)
    }

    /// Reads a big-endian `u32`.
    ///
    /// # Errors
    /// [`CodecError::UnexpectedEnd`] if fewer than four bytes remain.
    pub fn read_u32_be(&mut self) -> Result<u32, CodecError> {
        self.read_array().map(u32::from_be_bytes)
    }

    /// Reads an unsigned LEB128 varint (7 bits per byte, least significant group first).
    ///
    /// Only the canonical (shortest) encoding of each value is accepted.
    ///
    /// # Errors
    /// - [`CodecError::UnexpectedEnd`] if the input ends inside the varint;
    /// - [`CodecError::VarintOverflow`] if it is longer than [`MAX_VARINT_LEN`] bytes or its value does
    ///   not fit in 64 bits;
    /// - [`CodecError::NonCanonicalVarint`] if it ends in a redundant zero group (such as `80 00`).
    pub fn read_varint(&mut self) -> Result<u64, CodecError> {
        // Fast path: a single byte below 0x80 (field keys, small lengths and indices).
        if let Some((&byte, rest)) = self.rest.split_first()
            && byte < 0x80
        {
            self.rest = rest;
            return Ok(u64::from(byte));
        }
        let (value, len) = decode_varint(self.rest)?;
        self.rest = self.rest.get(len..).unwrap_or_default();
        Ok(value)
    }

    /// Reads a varint that must fit in a `u32`.
    ///
    /// # Errors
    /// As [`Reader::read_varint`], plus [`CodecError::ValueOutOfRange`] if the value exceeds
    /// `u32::MAX` (the reader does not move in that case either).
    pub fn read_varint_u32(&mut self) -> Result<u32, CodecError> {
        let mut ahead = self.clone();
        let value = u32::try_from(ahead.read_varint()?).map_err(|_| CodecError::ValueOutOfRange)?;
        *self = ahead;
        Ok(value)
    }

    /// Reads a varint that must fit in a `usize` (a length or a count).
    ///
    /// # Errors
    /// As [`Reader::read_varint`], plus [`CodecError::ValueOutOfRange`] if the value exceeds
    /// `usize::MAX` on this target (the reader does not move in that case either).
    pub fn read_varint_usize(&mut self) -> Result<usize, CodecError> {
        let mut ahead = self.clone();
        let value =
            usize::try_from(ahead.read_varint()?).map_err(|_| CodecError::ValueOutOfRange)?;
        *self = ahead;
        Ok(value)
    }

    /// Reads a varint length followed by that many bytes, returned borrowed from the input.
    ///
    /// # Errors
    /// As [`Reader::read_varint_usize`], plus [`CodecError::UnexpectedEnd`] if fewer bytes remain than the
    /// length says. Nothing is consumed on error.
    pub fn read_length_prefixed(&mut self) -> Result<&'a [u8], CodecError> {
        let mut ahead = self.clone();
        let len = ahead.read_varint_usize()?;
        let bytes = ahead.read_bytes(len)?;
        *self = ahead;
        Ok(bytes)
    }

    /// Consumes the reader, checking that every byte was read.
    ///
    /// # Errors
    /// [`CodecError::TrailingData`] if any bytes remain.
    pub const fn finish(self) -> Result<(), CodecError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(CodecError::TrailingData)
        }
    }
}

/// Decodes a canonical LEB128 varint from the start of `input`, returning the value and its length.
fn decode_varint(input: &[u8]) -> Result<(u64, usize), CodecError> {
    let mut value: u64 = 0;
    for (i, &byte) in input.iter().take(MAX_VARINT_LEN).enumerate() {
        let group = u64::from(byte & 0x7f);
        if i == MAX_VARINT_LEN - 1 {
            // The tenth byte carries bit 63 only: anything more, or a continuation, overflows.
            if byte > 0x01 {
                return Err(CodecError::VarintOverflow);
            }
        }
        // `i < 10`, so the shift is at most 63.
        value |= group << (7 * i);
        if byte & 0x80 == 0 {
            if byte == 0 && i > 0 {
                return Err(CodecError::NonCanonicalVarint);
            }
            return Ok((value, i + 1));
        }
    }
    if input.len() >= MAX_VARINT_LEN {
        // Ten bytes all with the continuation bit set: an eleventh would be needed.
        Err(CodecError::VarintOverflow)
    } else {
        Err(CodecError::UnexpectedEnd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fixed_width_values() {
        let mut r = Reader::new(&[1, 0xde, 0xad, 0xbe, 0xef, 9, 8, 7]);
        assert_eq!(r.read_u8(), Ok(1));
        assert_eq!(r.read_u32_be(), Ok(0xdead_beef));
        assert_eq!(r.position(), 5);
        assert_eq!(r.consumed(), &[1, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(r.peek_u8(), Ok(9));
        assert_eq!(r.read_array::<2>(), Ok([9, 8]));
        assert_eq!(r.rest(), &[7]);
        assert_eq!(r.read_bytes(1), Ok(&[7][..]));
        assert!(r.is_empty());
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn empty_input() {
        let mut r = Reader::new(&[]);
        assert!(r.is_empty());
        assert_eq!(r.remaining(), 0);
        assert_eq!(r.read_u8(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.peek_u8(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.read_varint(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.read_u32_be(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.read_array::<1>(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.read_bytes(0), Ok(&[][..]));
        assert_eq!(r.read_array::<0>(), Ok([]));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn truncation_leaves_position_unchanged() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.read_u8(), Ok(1));
        assert_eq!(r.read_u32_be(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.read_bytes(3), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.read_bytes(usize::MAX), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.read_array::<3>(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.position(), 1);
        assert_eq!(r.clone().finish(), Err(CodecError::TrailingData));
        assert_eq!(r.read_bytes(2), Ok(&[2, 3][..]));
    }

    #[test]
    fn varint_known_values() {
        let cases: &[(&[u8], u64)] = &[
            (&[0x00], 0),
            (&[0x01], 1),
            (&[0x7f], 127),
            (&[0x80, 0x01], 128),
            (&[0xac, 0x02], 300),
            (&[0xff, 0xff, 0xff, 0xff, 0x0f], u64::from(u32::MAX)),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                u64::MAX,
            ),
            (
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
                1 << 63,
            ),
        ];
        for &(bytes, value) in cases {
            let mut r = Reader::new(bytes);
            assert_eq!(r.read_varint(), Ok(value), "{bytes:02x?}");
            assert_eq!(r.finish(), Ok(()));
        }
    }

    #[test]
    fn varint_rejections() {
        let cases: &[(&[u8], CodecError)] = &[
            (&[0x80], CodecError::UnexpectedEnd),
            (&[0xff, 0xff], CodecError::UnexpectedEnd),
            (&[0x80, 0x00], CodecError::NonCanonicalVarint),
            (&[0xff, 0x80, 0x00], CodecError::NonCanonicalVarint),
            (
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
                CodecError::NonCanonicalVarint,
            ),
            // Ten bytes whose last carries more than bit 63.
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
                CodecError::VarintOverflow,
            ),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                CodecError::VarintOverflow,
            ),
            // Eleven bytes.
            (
                &[
                    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00,
                ],
                CodecError::VarintOverflow,
            ),
            (
                &[
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                ],
                CodecError::VarintOverflow,
            ),
            // Ten continuation bytes and then nothing: still too long, not merely truncated.
            (&[0x80; 10], CodecError::VarintOverflow),
            (&[0x80; 9], CodecError::UnexpectedEnd),
        ];
        for &(bytes, err) in cases {
            let mut r = Reader::new(bytes);
            assert_eq!(r.read_varint(), Err(err), "{bytes:02x?}");
            assert_eq!(r.position(), 0, "{bytes:02x?}");
        }
    }

    #[test]
    fn narrow_varints() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0x80, 0x80, 0x80, 0x80, 0x10]);
        assert_eq!(r.read_varint_u32(), Ok(u32::MAX));
        assert_eq!(r.read_varint_u32(), Err(CodecError::ValueOutOfRange));
        assert_eq!(r.position(), 5);
        assert_eq!(r.read_varint_usize(), Ok(1 << 32));

        let mut r = Reader::new(&[0x80]);
        assert_eq!(r.read_varint_u32(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.read_varint_usize(), Err(CodecError::UnexpectedEnd));
    }

    #[test]
    fn length_prefixed() {
        let mut r = Reader::new(&[0x02, b'o', b'k', 0x05, b'x']);
        assert_eq!(r.read_length_prefixed(), Ok(&b"ok"[..]));
        assert_eq!(r.read_length_prefixed(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.position(), 3);
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert!(r.read_length_prefixed().is_err());
        assert_eq!(r.position(), 0);
    }

    #[test]
    fn debug_hides_bytes() {
        let r = Reader::new(&[0x41, 0x42]);
        let s = std::format!("{r:?}");
        assert_eq!(s, "Reader { position: 0, remaining: 2 }");
    }
}

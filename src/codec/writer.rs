//! A writer into a caller-provided buffer.
//!
//! [`Writer`] never allocates and never writes part of a value: if a write does not fit, it returns
//! [`CodecError::BufferTooSmall`] naming the total buffer size the encoding needs so far, and the buffer is
//! left exactly as it was.

use core::fmt;

use crate::error::CodecError;
use crate::limits::MAX_VARINT_LEN;

/// A cursor that appends big-endian integers, LEB128 varints and byte runs to `&'a mut [u8]`.
///
/// ```
/// use safemeet::codec::{varint_len, Writer};
///
/// let mut buf = [0u8; 8];
/// let mut w = Writer::new(&mut buf);
/// w.write_u8(0x03)?;
/// w.write_varint(300)?;
/// assert_eq!(w.position(), 1 + varint_len(300));
/// let n = w.finish();
/// assert_eq!(&buf[..n], &[0x03, 0xac, 0x02]);
/// # Ok::<(), safemeet::CodecError>(())
/// ```
pub struct Writer<'a> {
    /// The caller's buffer; bytes before `pos` have been written.
    buf: &'a mut [u8],
    /// The number of bytes written so far.
    pos: usize,
}

impl fmt::Debug for Writer<'_> {
    /// Shows the cursor, never the bytes: the output may be plaintext about to be encrypted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("position", &self.pos)
            .field("capacity", &self.buf.len())
            .finish()
    }
}

impl<'a> Writer<'a> {
    /// A writer positioned at the start of `buf`.
    #[must_use]
    pub const fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The number of bytes written so far.
    #[must_use]
    pub const fn position(&self) -> usize {
        self.pos
    }

    /// The number of bytes written so far (the same as [`Writer::position`]).
    #[must_use]
    pub const fn len(&self) -> usize {
        self.pos
    }

    /// Whether nothing has been written yet.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The size of the underlying buffer.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The number of bytes that can still be written.
    #[must_use]
    pub const fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The bytes written so far (for example to compute a MAC over them before appending it).
    #[must_use]
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }

    /// Reserves the next `n` bytes of the buffer and returns them for the caller to fill, or fails with
    /// the size needed without moving.
    fn reserve(&mut self, n: usize) -> Result<&mut [u8], CodecError> {
        let end = self.pos.saturating_add(n);
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(CodecError::BufferTooSmall { needed: end })?;
        self.pos = end;
        Ok(dst)
    }

    /// Appends one byte.
    ///
    /// # Errors
    /// [`CodecError::BufferTooSmall`] if the buffer is full; nothing is written.
    pub fn write_u8(&mut self, byte: u8) -> Result<(), CodecError> {
        self.write_bytes(&[byte])
    }

    /// Appends `bytes`.
    ///
    /// # Errors
    /// [`CodecError::BufferTooSmall`] if they do not all fit; nothing is written.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), CodecError> {
        self.reserve(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// Appends a big-endian `u32`.
    ///
    /// # Errors
    /// [`CodecError::BufferTooSmall`] if four bytes do not fit; nothing is written.
    pub fn write_u32_be(&mut self, value: u32) -> Result<(), CodecError> {
        self.write_bytes(&value.to_be_bytes())
    }

    /// Appends the canonical LEB128 encoding of `value` ([`varint_len`] bytes).
    ///
    /// # Errors
    /// [`CodecError::BufferTooSmall`] if it does not fit; nothing is written.
    pub fn write_varint(&mut self, value: u64) -> Result<(), CodecError> {
        let mut scratch = [0u8; MAX_VARINT_LEN];
        let len = encode_varint(value, &mut scratch);
        self.write_bytes(scratch.get(..len).unwrap_or_default())
    }

    /// Consumes the writer and returns the number of bytes written.
    #[must_use]
    pub const fn finish(self) -> usize {
        self.pos
    }
}

/// The number of bytes in the canonical LEB128 encoding of `value` (1 to 10).
#[must_use]
pub const fn varint_len(value: u64) -> usize {
    // Significant bits (at least one, so that zero takes one byte), rounded up to 7-bit groups.
    let bits = u64::BITS - (value | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// Writes the canonical LEB128 encoding of `value` into `out` and returns its length.
pub(crate) fn encode_varint(mut value: u64, out: &mut [u8; MAX_VARINT_LEN]) -> usize {
    let mut len = 0;
    for slot in out.iter_mut() {
        len += 1;
        // Truncation to the low seven bits is the point.
        #[allow(clippy::cast_possible_truncation)]
        let group = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            *slot = group;
            break;
        }
        *slot = group | 0x80;
    }
    len
}

// Tests link `std` even without the `alloc` feature.
#[cfg(test)]
#[allow(clippy::std_instead_of_alloc)]
mod tests {
    use super::*;
    use crate::codec::Reader;
    use proptest::prelude::*;

    #[test]
    fn varint_lengths() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(16_383), 2);
        assert_eq!(varint_len(16_384), 3);
        assert_eq!(varint_len(u64::from(u32::MAX)), 5);
        assert_eq!(varint_len((1 << 63) - 1), 9);
        assert_eq!(varint_len(1 << 63), 10);
        assert_eq!(varint_len(u64::MAX), 10);
    }

    #[test]
    fn writes_known_encodings() {
        let mut buf = [0u8; 32];
        let mut w = Writer::new(&mut buf);
        assert!(w.is_empty());
        w.write_varint(0).unwrap();
        w.write_varint(300).unwrap();
        w.write_varint(u64::MAX).unwrap();
        w.write_u32_be(0x0102_0304).unwrap();
        w.write_u8(0xaa).unwrap();
        w.write_bytes(b"xy").unwrap();
        assert_eq!(w.len(), 1 + 2 + 10 + 4 + 1 + 2);
        assert_eq!(w.remaining(), 32 - 20);
        assert_eq!(w.capacity(), 32);
        assert_eq!(&w.written()[..3], &[0x00, 0xac, 0x02]);
        let n = w.finish();
        assert_eq!(
            &buf[..n],
            &[
                0x00, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 2,
                3, 4, 0xaa, b'x', b'y'
            ]
        );
    }

    #[test]
    fn one_byte_too_small_leaves_buffer_untouched() {
        let mut buf = [0x55u8; 10];
        let mut w = Writer::new(&mut buf);
        w.write_u8(1).unwrap();
        assert_eq!(
            w.write_varint(u64::MAX),
            Err(CodecError::BufferTooSmall { needed: 11 })
        );
        assert_eq!(
            w.write_bytes(&[0; 10]),
            Err(CodecError::BufferTooSmall { needed: 11 })
        );
        assert_eq!(w.position(), 1);
        w.write_u32_be(7).unwrap();
        assert_eq!(
            w.write_bytes(&[9; 6]),
            Err(CodecError::BufferTooSmall { needed: 11 })
        );
        assert_eq!(w.written(), &[1, 0, 0, 0, 7]);
        // 10 - 5 = 5 bytes left: fits exactly.
        w.write_bytes(&[9; 5]).unwrap();
        assert_eq!(
            w.write_u8(0),
            Err(CodecError::BufferTooSmall { needed: 11 })
        );
        assert_eq!(w.finish(), 10);
        assert_eq!(buf, [1, 0, 0, 0, 7, 9, 9, 9, 9, 9]);

        let mut buf = [0x55u8; 9];
        let mut w = Writer::new(&mut buf);
        assert_eq!(
            w.write_varint(u64::MAX),
            Err(CodecError::BufferTooSmall { needed: 10 })
        );
        assert_eq!(w.finish(), 0);
        assert_eq!(buf, [0x55; 9]);
    }

    #[test]
    fn zero_sized_buffer() {
        let mut w = Writer::new(&mut []);
        assert_eq!(w.write_bytes(&[]), Ok(()));
        assert_eq!(w.write_u8(1), Err(CodecError::BufferTooSmall { needed: 1 }));
        assert_eq!(w.finish(), 0);
    }

    #[test]
    fn debug_hides_bytes() {
        let mut buf = [0x41u8; 4];
        let mut w = Writer::new(&mut buf);
        w.write_u8(0x42).unwrap();
        assert_eq!(std::format!("{w:?}"), "Writer { position: 1, capacity: 4 }");
    }

    proptest! {
        #[test]
        fn varint_round_trip(value: u64) {
            let mut buf = [0u8; MAX_VARINT_LEN];
            let mut w = Writer::new(&mut buf);
            w.write_varint(value).unwrap();
            let n = w.finish();
            prop_assert_eq!(n, varint_len(value));
            let mut r = Reader::new(&buf[..n]);
            prop_assert_eq!(r.read_varint(), Ok(value));
            prop_assert_eq!(r.finish(), Ok(()));
        }

        #[test]
        fn varint_round_trip_small(value in 0u64..100_000) {
            let mut buf = [0u8; MAX_VARINT_LEN];
            let mut w = Writer::new(&mut buf);
            w.write_varint(value).unwrap();
            let n = w.finish();
            let mut r = Reader::new(&buf[..n]);
            prop_assert_eq!(r.read_varint_u32(), Ok(u32::try_from(value).unwrap()));
            prop_assert!(r.is_empty());
        }

        #[test]
        fn varint_too_small_buffer(value: u64) {
            let needed = varint_len(value);
            let mut buf = [0xeeu8; MAX_VARINT_LEN];
            let mut w = Writer::new(&mut buf[..needed - 1]);
            prop_assert_eq!(w.write_varint(value), Err(CodecError::BufferTooSmall { needed }));
            prop_assert_eq!(w.finish(), 0);
            prop_assert_eq!(buf, [0xee; MAX_VARINT_LEN]);
        }

        #[test]
        fn reader_never_panics(bytes: std::vec::Vec<u8>) {
            let mut r = Reader::new(&bytes);
            while !r.is_empty() {
                let before = r.position();
                if r.read_varint().is_err() {
                    prop_assert_eq!(r.position(), before);
                    r.read_u8().unwrap();
                }
            }
        }
    }
}

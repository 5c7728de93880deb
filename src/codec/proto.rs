//! Protobuf-style tagged fields, the framing of Olm and Megolm wire messages.
//!
//! A field is a varint *key* `field_number << 3 | wire_type` followed by its value: a varint for
//! [`WireType::Varint`], or a varint length and that many bytes for [`WireType::LengthDelimited`]. The
//! other protobuf wire types (fixed 32/64-bit, groups) never occur in the messages safemeet reads and are
//! rejected as [`CodecError::UnsupportedWireType`].
//!
//! This module only frames fields. Which fields a message has, in which order, and which are required is
//! the business of the message parsers built on it.
//!
//! ```
//! use safemeet::codec::proto::{bytes_field_len, varint_field_len, Field, FieldValue};
//! use safemeet::codec::{Reader, Writer};
//!
//! let mut buf = [0u8; 16];
//! let mut w = Writer::new(&mut buf);
//! w.write_bytes_field(1, b"key")?;
//! w.write_varint_field(2, 0)?;
//! let n = w.finish();
//! assert_eq!(n, bytes_field_len(1, 3) + varint_field_len(2, 0));
//! assert_eq!(&buf[..n], b"\x0a\x03key\x10\x00");
//!
//! let mut r = Reader::new(&buf[..n]);
//! assert_eq!(r.read_field()?, Some(Field { number: 1, value: FieldValue::Bytes(b"key") }));
//! assert_eq!(r.read_field()?.map(|f| f.value.as_varint()), Some(Ok(0)));
//! assert_eq!(r.read_field()?, None);
//! # Ok::<(), safemeet::CodecError>(())
//! ```

use core::fmt;

use super::{Reader, Writer, varint_len};
use crate::error::CodecError;
use crate::limits::MAX_FIELD_NUMBER;

/// How a field's value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum WireType {
    /// A LEB128 varint.
    Varint = 0,
    /// A varint length followed by that many bytes.
    LengthDelimited = 2,
}

impl WireType {
    /// The wire type for the low three bits of a field key.
    ///
    /// # Errors
    /// [`CodecError::UnsupportedWireType`] for any value other than 0 and 2.
    pub const fn from_bits(bits: u8) -> Result<Self, CodecError> {
        match bits {
            0 => Ok(Self::Varint),
            2 => Ok(Self::LengthDelimited),
            _ => Err(CodecError::UnsupportedWireType),
        }
    }

    /// The value of this wire type in the low three bits of a field key.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self as u8
    }
}

/// The key of a field, `field_number << 3 | wire_type`.
///
/// # Errors
/// [`CodecError::InvalidFieldNumber`] if `number` is 0 or above [`MAX_FIELD_NUMBER`].
pub const fn encode_field_key(number: u32, wire_type: WireType) -> Result<u64, CodecError> {
    if number == 0 || number > MAX_FIELD_NUMBER {
        return Err(CodecError::InvalidFieldNumber);
    }
    Ok(((number as u64) << 3) | wire_type.bits() as u64)
}

/// Splits a field key into its field number and wire type.
///
/// # Errors
/// [`CodecError::UnsupportedWireType`] if the wire type is not 0 or 2, then
/// [`CodecError::InvalidFieldNumber`] if the field number is 0 or above [`MAX_FIELD_NUMBER`].
pub const fn decode_field_key(key: u64) -> Result<(u32, WireType), CodecError> {
    let wire_type = match WireType::from_bits((key & 0x7) as u8) {
        Ok(wire_type) => wire_type,
        Err(e) => return Err(e),
    };
    let number = key >> 3;
    if number == 0 || number > MAX_FIELD_NUMBER as u64 {
        return Err(CodecError::InvalidFieldNumber);
    }
    // In range of `u32` by the check above.
    Ok((number as u32, wire_type))
}

/// A field's value, borrowed from the input it was read from.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldValue<'a> {
    /// The value of a [`WireType::Varint`] field.
    Varint(u64),
    /// The contents of a [`WireType::LengthDelimited`] field (without its length prefix).
    Bytes(&'a [u8]),
}

impl fmt::Debug for FieldValue<'_> {
    /// Shows varints and the length of byte fields, never their contents: a field may hold key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Varint(v) => f.debug_tuple("Varint").field(v).finish(),
            Self::Bytes(b) => f.debug_struct("Bytes").field("len", &b.len()).finish(),
        }
    }
}

impl<'a> FieldValue<'a> {
    /// The wire type this value is encoded with.
    #[must_use]
    pub const fn wire_type(&self) -> WireType {
        match self {
            Self::Varint(_) => WireType::Varint,
            Self::Bytes(_) => WireType::LengthDelimited,
        }
    }

    /// The value of a varint field.
    ///
    /// # Errors
    /// [`CodecError::UnexpectedField`] if this is a length-delimited field.
    pub const fn as_varint(&self) -> Result<u64, CodecError> {
        match *self {
            Self::Varint(v) => Ok(v),
            Self::Bytes(_) => Err(CodecError::UnexpectedField),
        }
    }

    /// The contents of a length-delimited field.
    ///
    /// # Errors
    /// [`CodecError::UnexpectedField`] if this is a varint field.
    pub const fn as_bytes(&self) -> Result<&'a [u8], CodecError> {
        match *self {
            Self::Bytes(b) => Ok(b),
            Self::Varint(_) => Err(CodecError::UnexpectedField),
        }
    }
}

/// One field read from a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Field<'a> {
    /// The field number, in `1..=MAX_FIELD_NUMBER`.
    pub number: u32,
    /// The field's value.
    pub value: FieldValue<'a>,
}

impl Field<'_> {
    /// The number of bytes this field occupies when written canonically.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        match self.value {
            FieldValue::Varint(v) => varint_field_len(self.number, v),
            FieldValue::Bytes(b) => bytes_field_len(self.number, b.len()),
        }
    }
}

/// The encoded length of a field key for `number` (with either wire type).
#[must_use]
pub const fn field_key_len(number: u32) -> usize {
    varint_len((number as u64) << 3)
}

/// The encoded length of a varint field: its key and the varint.
#[must_use]
pub const fn varint_field_len(number: u32, value: u64) -> usize {
    field_key_len(number) + varint_len(value)
}

/// The encoded length of a length-delimited field with `len` bytes of content: its key, the varint length
/// and the content. Saturates at `usize::MAX` rather than overflow.
#[must_use]
pub const fn bytes_field_len(number: u32, len: usize) -> usize {
    (field_key_len(number) + varint_len(len as u64)).saturating_add(len)
}

impl<'a> Reader<'a> {
    /// Reads a field key, returning the field number and wire type. Nothing is consumed on error.
    ///
    /// # Errors
    /// As [`Reader::read_varint`] and [`decode_field_key`].
    pub fn read_field_key(&mut self) -> Result<(u32, WireType), CodecError> {
        let mut ahead = self.clone();
        let key = decode_field_key(ahead.read_varint()?)?;
        *self = ahead;
        Ok(key)
    }

    /// Reads the next field, or returns `None` at the end of the input. Nothing is consumed on error.
    ///
    /// # Errors
    /// As [`Reader::read_field_key`], then as [`Reader::read_varint`] or
    /// [`Reader::read_length_prefixed`] for the value (a truncated field is
    /// [`CodecError::UnexpectedEnd`]).
    pub fn read_field(&mut self) -> Result<Option<Field<'a>>, CodecError> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut ahead = self.clone();
        let (number, wire_type) = ahead.read_field_key()?;
        let value = match wire_type {
            WireType::Varint => FieldValue::Varint(ahead.read_varint()?),
            WireType::LengthDelimited => FieldValue::Bytes(ahead.read_length_prefixed()?),
        };
        *self = ahead;
        Ok(Some(Field { number, value }))
    }

    /// An iterator over the remaining fields.
    #[must_use]
    pub const fn fields(self) -> FieldReader<'a> {
        FieldReader {
            reader: self,
            failed: false,
        }
    }
}

/// An iterator over the fields of a message, yielding each field or the first error.
///
/// After an error the iterator is exhausted; [`FieldReader::into_reader`] gives back the reader, positioned
/// at the start of the field that failed.
///
/// ```
/// use safemeet::codec::proto::FieldReader;
///
/// let mut numbers = [0u32; 2];
/// for (slot, field) in numbers.iter_mut().zip(FieldReader::new(b"\x08\x01\x12\x00")) {
///     *slot = field?.number;
/// }
/// assert_eq!(numbers, [1, 2]);
/// # Ok::<(), safemeet::CodecError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FieldReader<'a> {
    /// The reader, positioned at the next field.
    reader: Reader<'a>,
    /// Whether an error has been yielded (the iterator is then finished).
    failed: bool,
}

impl<'a> FieldReader<'a> {
    /// An iterator over the fields of `input`.
    #[must_use]
    pub const fn new(input: &'a [u8]) -> Self {
        Reader::new(input).fields()
    }

    /// The underlying reader, positioned after the last field yielded.
    #[must_use]
    pub const fn into_reader(self) -> Reader<'a> {
        self.reader
    }
}

impl<'a> Iterator for FieldReader<'a> {
    type Item = Result<Field<'a>, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.reader.read_field().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

impl core::iter::FusedIterator for FieldReader<'_> {}

impl Writer<'_> {
    /// Writes a field key. Nothing is written on error.
    ///
    /// # Errors
    /// [`CodecError::InvalidFieldNumber`] or [`CodecError::BufferTooSmall`].
    pub fn write_field_key(&mut self, number: u32, wire_type: WireType) -> Result<(), CodecError> {
        self.write_varint(encode_field_key(number, wire_type)?)
    }

    /// Writes a varint field ([`varint_field_len`] bytes). Nothing is written on error.
    ///
    /// # Errors
    /// [`CodecError::InvalidFieldNumber`], or [`CodecError::BufferTooSmall`] naming the buffer size needed
    /// for everything written so far plus this field.
    pub fn write_varint_field(&mut self, number: u32, value: u64) -> Result<(), CodecError> {
        let key = encode_field_key(number, WireType::Varint)?;
        self.ensure(varint_field_len(number, value))?;
        self.write_varint(key)?;
        self.write_varint(value)
    }

    /// Writes a length-delimited field ([`bytes_field_len`] bytes). Nothing is written on error.
    ///
    /// # Errors
    /// [`CodecError::InvalidFieldNumber`], or [`CodecError::BufferTooSmall`] naming the buffer size needed
    /// for everything written so far plus this field.
    pub fn write_bytes_field(&mut self, number: u32, bytes: &[u8]) -> Result<(), CodecError> {
        let key = encode_field_key(number, WireType::LengthDelimited)?;
        self.ensure(bytes_field_len(number, bytes.len()))?;
        self.write_varint(key)?;
        self.write_varint(bytes.len() as u64)?;
        self.write_bytes(bytes)
    }

    /// Writes a field (either wire type). Nothing is written on error.
    ///
    /// # Errors
    /// As [`Writer::write_varint_field`] and [`Writer::write_bytes_field`].
    pub fn write_field(&mut self, field: &Field<'_>) -> Result<(), CodecError> {
        match field.value {
            FieldValue::Varint(v) => self.write_varint_field(field.number, v),
            FieldValue::Bytes(b) => self.write_bytes_field(field.number, b),
        }
    }

    /// Checks that `n` more bytes fit, so that a multi-part value is written whole or not at all.
    fn ensure(&self, n: usize) -> Result<(), CodecError> {
        if n <= self.remaining() {
            Ok(())
        } else {
            Err(CodecError::BufferTooSmall {
                needed: self.position().saturating_add(n),
            })
        }
    }
}

// Tests link `std` even without the `alloc` feature.
#[cfg(test)]
#[allow(clippy::std_instead_of_alloc)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn keys() {
        assert_eq!(encode_field_key(1, WireType::LengthDelimited), Ok(0x0a));
        assert_eq!(encode_field_key(2, WireType::Varint), Ok(0x10));
        assert_eq!(encode_field_key(4, WireType::LengthDelimited), Ok(0x22));
        assert_eq!(
            encode_field_key(0, WireType::Varint),
            Err(CodecError::InvalidFieldNumber)
        );
        assert_eq!(
            encode_field_key(MAX_FIELD_NUMBER + 1, WireType::Varint),
            Err(CodecError::InvalidFieldNumber)
        );
        assert_eq!(
            encode_field_key(MAX_FIELD_NUMBER, WireType::LengthDelimited),
            Ok((u64::from(MAX_FIELD_NUMBER) << 3) | 2)
        );
        assert_eq!(decode_field_key(0x22), Ok((4, WireType::LengthDelimited)));
        assert_eq!(decode_field_key(0x00), Err(CodecError::InvalidFieldNumber));
        assert_eq!(decode_field_key(0x02), Err(CodecError::InvalidFieldNumber));
        for wt in [1, 3, 4, 5, 6, 7] {
            assert_eq!(
                decode_field_key(0x08 | wt),
                Err(CodecError::UnsupportedWireType)
            );
        }
        assert_eq!(
            decode_field_key((u64::from(MAX_FIELD_NUMBER) + 1) << 3),
            Err(CodecError::InvalidFieldNumber)
        );
        assert_eq!(decode_field_key(!7), Err(CodecError::InvalidFieldNumber));
        assert_eq!(field_key_len(1), 1);
        assert_eq!(field_key_len(15), 1);
        assert_eq!(field_key_len(16), 2);
        assert_eq!(field_key_len(MAX_FIELD_NUMBER), 5);
    }

    /// The annotated Olm normal message from the Matrix notes (§1.6), framed field by field.
    #[test]
    fn olm_message_framing() {
        let mut msg = Vec::new();
        msg.extend_from_slice(&[0x0a, 0x20]);
        msg.extend_from_slice(&[0xbb; 32]);
        msg.extend_from_slice(&[0x10, 0x00, 0x22, 0x10]);
        msg.extend_from_slice(&[0xdf; 16]);
        let mut r = Reader::new(&msg);
        let f1 = r.read_field().unwrap().unwrap();
        assert_eq!(f1.number, 1);
        assert_eq!(f1.value.as_bytes(), Ok(&[0xbb; 32][..]));
        assert_eq!(f1.value.as_varint(), Err(CodecError::UnexpectedField));
        let f2 = r.read_field().unwrap().unwrap();
        assert_eq!((f2.number, f2.value), (2, FieldValue::Varint(0)));
        assert_eq!(f2.value.as_bytes(), Err(CodecError::UnexpectedField));
        let f4 = r.read_field().unwrap().unwrap();
        assert_eq!(f4.number, 4);
        assert_eq!(f4.value.wire_type(), WireType::LengthDelimited);
        assert_eq!(r.read_field(), Ok(None));

        // Writing the same fields reproduces the bytes.
        let mut out = [0u8; 64];
        let mut w = Writer::new(&mut out);
        for f in [f1, f2, f4] {
            w.write_field(&f).unwrap();
        }
        let n = w.finish();
        assert_eq!(&out[..n], &msg[..]);
        assert_eq!(n, f1.encoded_len() + f2.encoded_len() + f4.encoded_len());
    }

    #[test]
    fn truncated_field() {
        // Length says 3, only 2 bytes follow.
        let mut r = Reader::new(&[0x08, 0x01, 0x12, 0x03, b'a', b'b']);
        assert!(r.read_field().unwrap().is_some());
        assert_eq!(r.read_field(), Err(CodecError::UnexpectedEnd));
        assert_eq!(r.position(), 2);
        // Key with no value.
        assert_eq!(
            Reader::new(&[0x08]).read_field(),
            Err(CodecError::UnexpectedEnd)
        );
        assert_eq!(
            Reader::new(&[0x0a]).read_field(),
            Err(CodecError::UnexpectedEnd)
        );
        // Truncated key.
        assert_eq!(
            Reader::new(&[0x88]).read_field(),
            Err(CodecError::UnexpectedEnd)
        );
        // Truncated varint value.
        assert_eq!(
            Reader::new(&[0x08, 0xff]).read_field(),
            Err(CodecError::UnexpectedEnd)
        );
    }

    #[test]
    fn wrong_wire_type_and_number() {
        for input in [
            &[0x09, 0, 0, 0, 0, 0, 0, 0, 0][..],
            &[0x0d, 0, 0, 0, 0],
            &[0x0b],
            &[0x0c],
        ] {
            let mut r = Reader::new(input);
            assert_eq!(r.read_field(), Err(CodecError::UnsupportedWireType));
            assert_eq!(r.position(), 0);
        }
        assert_eq!(
            Reader::new(&[0x00, 0x00]).read_field(),
            Err(CodecError::InvalidFieldNumber)
        );
        // A non-canonical key varint.
        assert_eq!(
            Reader::new(&[0x88, 0x00, 0x01]).read_field(),
            Err(CodecError::NonCanonicalVarint)
        );
        // A length that does not fit in usize on 32-bit targets and not in the input anywhere.
        assert_eq!(
            Reader::new(&[
                0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ])
            .read_field()
            .map(|_| ()),
            Err(if usize::BITS < 64 {
                CodecError::ValueOutOfRange
            } else {
                CodecError::UnexpectedEnd
            })
        );
    }

    #[test]
    fn field_reader_stops_after_error() {
        let input = [0x08, 0x05, 0x0f, 0x08, 0x06];
        let mut it = FieldReader::new(&input);
        assert_eq!(
            it.next(),
            Some(Ok(Field {
                number: 1,
                value: FieldValue::Varint(5)
            }))
        );
        assert_eq!(it.next(), Some(Err(CodecError::UnsupportedWireType)));
        assert_eq!(it.next(), None);
        assert_eq!(it.into_reader().position(), 2);
        assert_eq!(FieldReader::new(&[]).count(), 0);
    }

    #[test]
    fn field_writer_too_small() {
        let mut buf = [0x77u8; 6];
        let mut w = Writer::new(&mut buf);
        w.write_varint_field(1, 1).unwrap();
        assert_eq!(
            w.write_bytes_field(2, b"abc"),
            Err(CodecError::BufferTooSmall { needed: 7 })
        );
        assert_eq!(w.write_varint_field(3, 300), Ok(()));
        assert_eq!(w.position(), 5);
        assert_eq!(
            w.write_varint_field(4, 300),
            Err(CodecError::BufferTooSmall { needed: 8 })
        );
        assert_eq!(
            w.write_varint_field(0, 1),
            Err(CodecError::InvalidFieldNumber)
        );
        assert_eq!(w.finish(), 5);
        assert_eq!(buf, [0x08, 0x01, 0x18, 0xac, 0x02, 0x77]);
    }

    #[test]
    fn debug_hides_field_bytes() {
        let f = Field {
            number: 1,
            value: FieldValue::Bytes(b"secret"),
        };
        assert_eq!(
            std::format!("{f:?}"),
            "Field { number: 1, value: Bytes { len: 6 } }"
        );
    }

    fn field_strategy() -> impl Strategy<Value = (u32, Option<u64>, Vec<u8>)> {
        (
            1..=MAX_FIELD_NUMBER,
            proptest::option::of(any::<u64>()),
            proptest::collection::vec(any::<u8>(), 0..300),
        )
    }

    proptest! {
        #[test]
        fn fields_round_trip(fields in proptest::collection::vec(field_strategy(), 0..8)) {
            let fields: Vec<Field<'_>> = fields
                .iter()
                .map(|(number, varint, bytes)| Field {
                    number: *number,
                    value: varint.map_or(FieldValue::Bytes(bytes), FieldValue::Varint),
                })
                .collect();
            let total: usize = fields.iter().map(Field::encoded_len).sum();
            let mut buf = std::vec![0u8; total];
            let mut w = Writer::new(&mut buf);
            for f in &fields {
                w.write_field(f).unwrap();
            }
            prop_assert_eq!(w.finish(), total);
            let read: Result<Vec<_>, _> = FieldReader::new(&buf).collect();
            prop_assert_eq!(read.unwrap(), fields);
        }

        #[test]
        fn field_too_small_buffer_untouched((number, varint, bytes) in field_strategy()) {
            let field = Field {
                number,
                value: varint.map_or(FieldValue::Bytes(&bytes), FieldValue::Varint),
            };
            let needed = field.encoded_len();
            let mut buf = std::vec![0x5au8; needed - 1];
            let mut w = Writer::new(&mut buf);
            prop_assert_eq!(w.write_field(&field), Err(CodecError::BufferTooSmall { needed }));
            prop_assert_eq!(w.finish(), 0);
            prop_assert!(buf.iter().all(|&b| b == 0x5a));
        }

        #[test]
        fn field_reader_never_panics(bytes: Vec<u8>) {
            for f in FieldReader::new(&bytes).flatten() {
                prop_assert!(f.number >= 1 && f.number <= MAX_FIELD_NUMBER);
            }
        }
    }
}

//! Byte-level encodings: a zero-copy [`Reader`], a [`Writer`] into caller buffers, LEB128 varints and
//! protobuf-style fields ([`proto`]), and the text encodings [`base64`] and [`base58`]; with `alloc`, strict JSON and the Matrix canonical
//! JSON serialiser (`json`).
//!
//! Everything here works without an allocator: decoders borrow from their input or write into a buffer
//! the caller provides, and each encoder has a `*_len` function to size that buffer. The `alloc` feature
//! adds `String`/`Vec` wrappers to the text encodings.
//!
//! The decoders are strict. Each accepts exactly one encoding of a value where the format allows a choice
//! (minimal varints, zero trailing bits in base64), rejects truncated input and, through
//! [`Reader::finish`], trailing bytes. Errors are [`CodecError`] values that describe the shape of the
//! problem, never the input. No input panics; a failed read leaves the [`Reader`] where it was, and an
//! output buffer that is too small is reported as [`CodecError::BufferTooSmall`] with nothing written.
//!
//! ```
//! use safemeet::codec::{base64, proto, Reader, Writer};
//!
//! // Frame a small Olm-style message: a version byte, then fields 1 (bytes) and 2 (varint).
//! let key = [0x42u8; 32];
//! let len = 1 + proto::bytes_field_len(1, key.len()) + proto::varint_field_len(2, 7);
//! let mut buf = [0u8; 64];
//! let mut w = Writer::new(&mut buf[..len]);
//! w.write_u8(0x03)?;
//! w.write_bytes_field(1, &key)?;
//! w.write_varint_field(2, 7)?;
//! assert_eq!(w.finish(), len);
//!
//! // Parse it back without copying.
//! let mut r = Reader::new(&buf[..len]);
//! assert_eq!(r.read_u8()?, 0x03);
//! let mut ratchet_key = None;
//! let mut index = None;
//! while let Some(field) = r.read_field()? {
//!     match field.number {
//!         1 => ratchet_key = Some(field.value.as_bytes()?),
//!         2 => index = Some(field.value.as_varint()?),
//!         _ => {} // unknown fields are skipped, as libolm and vodozemac do
//!     }
//! }
//! r.finish()?;
//! assert_eq!((ratchet_key, index), (Some(&key[..]), Some(7)));
//!
//! // Text form for JSON: unpadded base64.
//! let mut text = [0u8; base64::encoded_len(64)];
//! let n = base64::encode_into(&buf[..len], &mut text)?;
//! assert_eq!(n, base64::encoded_len(len));
//! # Ok::<(), safemeet::CodecError>(())
//! ```

pub mod base58;
pub mod base64;
#[cfg(feature = "alloc")]
pub mod json;
pub mod proto;
mod reader;
mod writer;

#[doc(hidden)]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;

pub use crate::error::CodecError;
pub use reader::Reader;
pub use writer::{Writer, varint_len};

//! Every bound the library enforces, in one place, each with its reason.
//!
//! An attacker controls the bytes we decode, so every length, count and loop that input can influence is
//! capped here. Later layers add their limits (skipped message keys, receiver chains, one-time keys) to
//! this module, each with the value the relevant peer (vodozemac, libsignal) uses.

/// The most bytes a single varint may occupy: ten 7-bit groups cover 64 bits. A longer varint is
/// rejected as [`crate::CodecError::VarintOverflow`] rather than read on, so a run of `0x80` bytes cannot
/// make the decoder loop for long.
pub const MAX_VARINT_LEN: usize = 10;

/// The highest protobuf field number (2^29 - 1, from the protobuf encoding specification). Larger
/// numbers cannot come from a conforming encoder.
pub const MAX_FIELD_NUMBER: u32 = (1 << 29) - 1;

/// The longest base58 input the decoder accepts, in characters. Base58 decoding is quadratic in the
/// input length; the longest base58 string safemeet reads is a recovery key (35 bytes, at most 48
/// characters), so 128 leaves room for other uses while keeping the work small.
pub const MAX_BASE58_LEN: usize = 128;

/// The longest byte string the base58 encoder accepts. 93 bytes is the most whose encoding is
/// guaranteed to fit in [`MAX_BASE58_LEN`] characters (`ceil(93 · log(256) / log(58)) = 128`), so the
/// encoder can work in the same fixed stack buffer as the decoder; a recovery key is 35 bytes.
pub const MAX_BASE58_BYTES: usize = 93;

/// The most output bytes one HKDF-SHA-256 expansion can produce (255 blocks of 32 bytes, RFC 5869 §2.3).
pub const HKDF_SHA256_MAX_OUTPUT: usize = 255 * 32;

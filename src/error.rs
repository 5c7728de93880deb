//! Errors: one small `Copy` enum per layer, gathered into the root [`Error`].
//!
//! Parse errors say what was wrong with the input's *shape*; they never carry the input itself, key
//! material or user data. Every authentication failure (a MAC, an AEAD tag, a CBC padding check, a
//! signature) is reported through a single opaque variant per layer, so that an attacker who can observe
//! errors learns nothing about *why* a forgery was rejected.

use core::fmt;

/// Errors from the `primitives` layer.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoError {
    /// A MAC, an AEAD tag or a CBC padding check did not verify. Deliberately says nothing more.
    Authentication,
    /// An Ed25519 signature did not verify (including non-canonical encodings and small-order keys).
    InvalidSignature,
    /// A public key's bytes do not encode a key we accept (wrong length, not a curve point, small order).
    InvalidKey,
    /// A Diffie-Hellman exchange produced the all-zero output: the peer's public key has small order,
    /// so the result would not depend on our secret.
    NonContributory,
    /// An input has a length the operation does not accept (a key, nonce or tag of the wrong size, a
    /// CBC ciphertext that is not a whole number of blocks, an HKDF output that is too long).
    InvalidLength,
    /// A parameter is outside its allowed range (for example a PBKDF2 iteration count of zero).
    InvalidParameter,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing was written.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Authentication => f.write_str("authentication failed"),
            Self::InvalidSignature => f.write_str("invalid signature"),
            Self::InvalidKey => f.write_str("invalid public key"),
            Self::NonContributory => f.write_str("non-contributory Diffie-Hellman output"),
            Self::InvalidLength => f.write_str("input has an invalid length"),
            Self::InvalidParameter => f.write_str("parameter out of range"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for CryptoError {}

/// Errors from the `codec` layer: malformed or non-canonical encodings.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecError {
    /// The input ended before the value was complete.
    UnexpectedEnd,
    /// Bytes remain after a value that must span the whole input.
    TrailingData,
    /// A varint has more than ten bytes or does not fit in 64 bits.
    VarintOverflow,
    /// A varint carries redundant trailing zero groups (an overlong encoding).
    NonCanonicalVarint,
    /// A decoded value does not fit the integer type it was read into.
    ValueOutOfRange,
    /// A protobuf field key uses a wire type that is not supported.
    UnsupportedWireType,
    /// A protobuf field key has field number zero or above the protobuf maximum.
    InvalidFieldNumber,
    /// A field appeared that the message did not expect, or with the wrong wire type.
    UnexpectedField,
    /// A required field is missing.
    MissingField,
    /// A length or value exceeds a limit from [`crate::limits`].
    TooLarge,
    /// Base64 input contains a character outside the alphabet, misplaced padding or an impossible length.
    InvalidBase64,
    /// Base64 input has non-zero bits after the last encoded byte (a non-canonical encoding).
    NonCanonicalBase64,
    /// Base58 input contains a character outside the Bitcoin alphabet.
    InvalidBase58,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing was written.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd => f.write_str("input ended unexpectedly"),
            Self::TrailingData => f.write_str("trailing data after value"),
            Self::VarintOverflow => f.write_str("varint overflows 64 bits"),
            Self::NonCanonicalVarint => f.write_str("overlong varint encoding"),
            Self::ValueOutOfRange => f.write_str("value out of range"),
            Self::UnsupportedWireType => f.write_str("unsupported protobuf wire type"),
            Self::InvalidFieldNumber => f.write_str("invalid protobuf field number"),
            Self::UnexpectedField => f.write_str("unexpected field"),
            Self::MissingField => f.write_str("missing required field"),
            Self::TooLarge => f.write_str("value exceeds a limit"),
            Self::InvalidBase64 => f.write_str("invalid base64"),
            Self::NonCanonicalBase64 => f.write_str("non-canonical base64"),
            Self::InvalidBase58 => f.write_str("invalid base58"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for CodecError {}

/// The root error: every layer's error, gathered.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// An error from the `primitives` layer.
    Crypto(CryptoError),
    /// An error from the `codec` layer.
    Codec(CodecError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Crypto(e) => write!(f, "crypto: {e}"),
            Self::Codec(e) => write!(f, "codec: {e}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Crypto(e) => Some(e),
            Self::Codec(e) => Some(e),
        }
    }
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        Self::Codec(e)
    }
}

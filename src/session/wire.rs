//! The native profile's compact wire format (version 1).
//!
//! Every message starts with a version byte and a type byte. All fields have fixed sizes, integers are
//! big-endian `u32`, and decoders reject any other version, an unknown type, truncation, and (for the
//! fixed-size parts) trailing bytes.
//!
//! ```text
//! message        = 0x01 0x01 ratchet_key[32] previous_counter[4] index[4] ciphertext‖tag[16]
//! message (HE)   = 0x01 0x03 nonce[24] sealed_header[40] header_tag[16] ciphertext‖tag[16]
//! pre-key message= 0x01 (0x02 | 0x04) identity[32] signing_key[32] binding_signature[64]
//!                  base_key[32] signed_prekey_id[4] has_one_time[1] one_time_prekey_id[4]
//!                  message (type 0x01 for 0x02, type 0x03 for 0x04)
//! ```
//! A header-encrypted header is `ratchet_key[32] previous_counter[4] index[4]` sealed with
//! XChaCha20-Poly1305 under the chain's header key, a random nonce, and the two leading bytes as
//! associated data. The message body is sealed with ChaCha20-Poly1305; its associated data is the
//! session's 128-byte X3DH associated data followed by every message byte before the ciphertext (for a
//! pre-key message, the whole pre-key part too, so none of its fields can be altered in transit).

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::{CodecError, SessionError};
use crate::primitives::aead::{TAG_LEN, XNONCE_LEN};
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519Signature};

/// The wire format version this crate writes and reads.
pub const VERSION: u8 = 0x01;

/// Message types (the second byte).
pub(crate) mod kind {
    pub(crate) const MESSAGE: u8 = 0x01;
    pub(crate) const PRE_KEY: u8 = 0x02;
    pub(crate) const MESSAGE_HE: u8 = 0x03;
    pub(crate) const PRE_KEY_HE: u8 = 0x04;
}

/// The length of a plaintext header: ratchet key, previous counter, index.
pub(crate) const HEADER_LEN: usize = 32 + 4 + 4;
/// Bytes before the ciphertext in a normal message.
pub(crate) const MESSAGE_PREFIX_LEN: usize = 2 + HEADER_LEN;
/// Bytes before the ciphertext in a header-encrypted message.
pub(crate) const MESSAGE_HE_PREFIX_LEN: usize = 2 + XNONCE_LEN + HEADER_LEN + TAG_LEN;
/// The length of the pre-key part in front of the embedded message.
pub(crate) const PRE_KEY_PREFIX_LEN: usize = 2 + 32 + 32 + 64 + 32 + 4 + 1 + 4;

/// A plaintext header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) ratchet_key: Curve25519PublicKey,
    pub(crate) previous_counter: u32,
    pub(crate) index: u32,
}

impl Header {
    pub(crate) fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let mut w = Writer::new(&mut out);
        // The buffer has exactly the header's size, so these writes cannot fail.
        let _ = w.write_bytes(self.ratchet_key.as_bytes());
        let _ = w.write_u32_be(self.previous_counter);
        let _ = w.write_u32_be(self.index);
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(bytes);
        let header = Self {
            ratchet_key: Curve25519PublicKey::from_bytes(r.read_array()?),
            previous_counter: r.read_u32_be()?,
            index: r.read_u32_be()?,
        };
        r.finish()?;
        Ok(header)
    }
}

/// The X3DH part of a pre-key message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PreKeyHeader {
    pub(crate) identity: Curve25519PublicKey,
    pub(crate) signing_key: Ed25519PublicKey,
    pub(crate) binding_signature: Ed25519Signature,
    pub(crate) base_key: Curve25519PublicKey,
    pub(crate) signed_prekey_id: u32,
    pub(crate) one_time_prekey_id: Option<u32>,
}

impl PreKeyHeader {
    /// Writes the pre-key prefix (with the type byte for `header_encrypted`).
    pub(crate) fn encode_into(
        &self,
        header_encrypted: bool,
        w: &mut Writer<'_>,
    ) -> Result<(), CodecError> {
        w.write_u8(VERSION)?;
        w.write_u8(if header_encrypted {
            kind::PRE_KEY_HE
        } else {
            kind::PRE_KEY
        })?;
        w.write_bytes(self.identity.as_bytes())?;
        w.write_bytes(self.signing_key.as_bytes())?;
        w.write_bytes(self.binding_signature.as_bytes())?;
        w.write_bytes(self.base_key.as_bytes())?;
        w.write_u32_be(self.signed_prekey_id)?;
        w.write_u8(u8::from(self.one_time_prekey_id.is_some()))?;
        w.write_u32_be(self.one_time_prekey_id.unwrap_or(0))
    }
}

/// A parsed message, borrowing from the input.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Parsed<'a> {
    /// A normal message: the header and everything the body's associated data covers.
    Message {
        /// The bytes before the ciphertext (version, type, header).
        prefix: &'a [u8],
        header: Header,
        body: &'a [u8],
    },
    /// A header-encrypted message.
    MessageHe {
        prefix: &'a [u8],
        nonce: &'a [u8; XNONCE_LEN],
        sealed_header: &'a [u8; HEADER_LEN],
        header_tag: &'a [u8; TAG_LEN],
        body: &'a [u8],
    },
}

impl Parsed<'_> {
    pub(crate) const fn is_header_encrypted(&self) -> bool {
        matches!(self, Self::MessageHe { .. })
    }
}

/// Parses a normal message (type `0x01` or `0x03`).
pub(crate) fn parse_message(bytes: &[u8]) -> Result<Parsed<'_>, Error> {
    let mut r = Reader::new(bytes);
    if r.read_u8()? != VERSION {
        return Err(SessionError::UnsupportedVersion.into());
    }
    match r.read_u8()? {
        kind::MESSAGE => {
            let header = Header::decode(r.read_bytes(HEADER_LEN)?)?;
            let prefix = r.consumed();
            let body = r.rest();
            if body.len() < TAG_LEN {
                return Err(CodecError::UnexpectedEnd.into());
            }
            Ok(Parsed::Message {
                prefix,
                header,
                body,
            })
        }
        kind::MESSAGE_HE => {
            let nonce = as_array(r.read_bytes(XNONCE_LEN)?)?;
            let sealed_header = as_array(r.read_bytes(HEADER_LEN)?)?;
            let header_tag = as_array(r.read_bytes(TAG_LEN)?)?;
            let prefix = r.consumed();
            let body = r.rest();
            if body.len() < TAG_LEN {
                return Err(CodecError::UnexpectedEnd.into());
            }
            Ok(Parsed::MessageHe {
                prefix,
                nonce,
                sealed_header,
                header_tag,
                body,
            })
        }
        _ => Err(SessionError::UnknownMessageType.into()),
    }
}

/// Parses a pre-key message: its X3DH header, and the embedded message's bytes. The embedded message's
/// type must match the outer type.
pub(crate) fn parse_pre_key(bytes: &[u8]) -> Result<(PreKeyHeader, bool, &[u8]), Error> {
    let mut r = Reader::new(bytes);
    if r.read_u8()? != VERSION {
        return Err(SessionError::UnsupportedVersion.into());
    }
    let header_encrypted = match r.read_u8()? {
        kind::PRE_KEY => false,
        kind::PRE_KEY_HE => true,
        _ => return Err(SessionError::UnknownMessageType.into()),
    };
    let identity = Curve25519PublicKey::from_bytes(r.read_array()?);
    let signing_key = Ed25519PublicKey::from_bytes(&r.read_array()?)?;
    let binding_signature = Ed25519Signature::from_bytes(r.read_array()?);
    let base_key = Curve25519PublicKey::from_bytes(r.read_array()?);
    let signed_prekey_id = r.read_u32_be()?;
    let has_one_time = r.read_u8()?;
    let one_time_id = r.read_u32_be()?;
    let one_time_prekey_id = match (has_one_time, one_time_id) {
        (0, 0) => None,
        (1, id) => Some(id),
        _ => return Err(CodecError::ValueOutOfRange.into()),
    };
    let inner = r.rest();
    let inner_type = inner.get(1).copied();
    let expected = if header_encrypted {
        kind::MESSAGE_HE
    } else {
        kind::MESSAGE
    };
    if inner_type != Some(expected) {
        return Err(SessionError::UnknownMessageType.into());
    }
    Ok((
        PreKeyHeader {
            identity,
            signing_key,
            binding_signature,
            base_key,
            signed_prekey_id,
            one_time_prekey_id,
        },
        header_encrypted,
        inner,
    ))
}

/// Whether `bytes` is a pre-key message (by its type byte; the rest is not checked).
pub fn is_pre_key_message(bytes: &[u8]) -> bool {
    matches!(bytes.get(1), Some(&kind::PRE_KEY | &kind::PRE_KEY_HE))
}

fn as_array<const N: usize>(bytes: &[u8]) -> Result<&[u8; N], CodecError> {
    bytes.try_into().map_err(|_| CodecError::UnexpectedEnd)
}

//! Olm's two wire messages (`specs/matrix.md` §1.6): the normal message and the pre-key message.
//!
//! ```text
//! message = 0x03 ‖ 0x0A len ratchet_key[32] ‖ 0x10 varint(index) ‖ 0x22 len ciphertext ‖ mac[8]
//! pre_key = 0x03 ‖ 0x0A len one_time_key[32] ‖ 0x12 len base_key[32] ‖ 0x1A len identity_key[32]
//!                ‖ 0x22 len message
//! ```
//!
//! Encoders write exactly this, with minimal varints. Decoders accept what both libolm and vodozemac
//! accept: the fields in any order, unknown varint and length-delimited fields skipped, a repeated field
//! overriding the earlier one. They reject, with a typed error, a wrong version byte, a missing field, a
//! key that is not 32 bytes, another wire type, and two encodings that libolm and vodozemac tolerate
//! but no Olm implementation writes: an overlong varint, and a key with the top bit set (which X25519
//! ignores, so in a pre-key message's unauthenticated fields it would be a free bit to flip). The MAC covers the bytes received, as in libolm; for
//! a canonical message that is also what vodozemac, which re-encodes before checking, computes.

use crate::Error;
use crate::codec::proto::{Field, FieldValue, bytes_field_len, varint_field_len};
use crate::codec::{Reader, Writer};
use crate::error::{CodecError, OlmError};
use crate::primitives::curve25519::Curve25519PublicKey;

/// The version byte of Olm v1 messages (with the 8-byte truncated MAC).
pub const VERSION: u8 = 0x03;
/// The length of a normal message's MAC.
pub const MAC_LEN: usize = 8;

const RATCHET_KEY: u32 = 1;
const INDEX: u32 = 2;
const CIPHERTEXT: u32 = 4;

const ONE_TIME_KEY: u32 = 1;
const BASE_KEY: u32 = 2;
const IDENTITY_KEY: u32 = 3;
const MESSAGE: u32 = 4;

/// The encoded length of a normal message with chain index `index` and `ciphertext_len` ciphertext bytes.
pub const fn message_len(index: u32, ciphertext_len: usize) -> usize {
    1 + bytes_field_len(RATCHET_KEY, 32)
        + varint_field_len(INDEX, index as u64)
        + bytes_field_len(CIPHERTEXT, ciphertext_len)
        + MAC_LEN
}

/// The encoded length of a pre-key message that embeds a `message_len`-byte normal message.
pub const fn pre_key_message_len(message_len: usize) -> usize {
    1 + 3 * bytes_field_len(ONE_TIME_KEY, 32) + bytes_field_len(MESSAGE, message_len)
}

/// A decoded normal message, borrowing from the bytes it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageView<'a> {
    /// The sender's ratchet key.
    pub ratchet_key: Curve25519PublicKey,
    /// The message's index in its chain (vodozemac reads 64 bits; indices past `u32::MAX` are rejected
    /// later, as too far ahead).
    pub index: u64,
    /// The AES-256-CBC ciphertext.
    pub ciphertext: &'a [u8],
    /// The truncated HMAC.
    pub mac: &'a [u8; MAC_LEN],
    /// Every byte before the MAC: what the MAC covers.
    pub authenticated: &'a [u8],
}

/// A decoded pre-key message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreKeyView<'a> {
    /// The responder's one-time (or fallback) key the session was created with.
    pub one_time_key: Curve25519PublicKey,
    /// The initiator's base key.
    pub base_key: Curve25519PublicKey,
    /// The initiator's identity key.
    pub identity_key: Curve25519PublicKey,
    /// The embedded normal message, still encoded.
    pub message: &'a [u8],
}

/// A 32-byte key field. The top bit of the last byte must be clear: X25519 ignores it (RFC 7748 §5),
/// so a key with it set names the same point as the honest encoding, which never sets it. In a
/// pre-key message the keys are outside the MAC, and accepting the bit would let anyone on the path
/// turn a first message into another that creates a session under another id (using up the one-time
/// key). vodozemac and libolm accept it; no implementation writes it.
fn key(value: &FieldValue<'_>) -> Result<Curve25519PublicKey, CodecError> {
    let bytes = value.as_bytes()?;
    let array: [u8; 32] = bytes.try_into().map_err(|_| CodecError::ValueOutOfRange)?;
    if array[31] & 0x80 != 0 {
        return Err(CodecError::ValueOutOfRange);
    }
    Ok(Curve25519PublicKey::from_bytes(array))
}

/// Splits off and checks the version byte.
fn version(bytes: &[u8]) -> Result<&[u8], Error> {
    match bytes.split_first() {
        Some((&VERSION, rest)) => Ok(rest),
        Some(_) => Err(OlmError::UnsupportedVersion.into()),
        None => Err(CodecError::UnexpectedEnd.into()),
    }
}

/// Decodes a normal message.
///
/// # Errors
/// [`OlmError::UnsupportedVersion`] for another version byte; [`CodecError`] for anything malformed.
pub fn decode_message(bytes: &[u8]) -> Result<MessageView<'_>, Error> {
    let body = version(bytes)?;
    let split = body
        .len()
        .checked_sub(MAC_LEN)
        .ok_or(CodecError::UnexpectedEnd)?;
    let (fields, mac) = body.split_at(split);
    let mac: &[u8; MAC_LEN] = mac.try_into().map_err(|_| CodecError::UnexpectedEnd)?;
    let (mut ratchet_key, mut index, mut ciphertext) = (None, None, None);
    for field in Reader::new(fields).fields() {
        let Field { number, value } = field?;
        match number {
            RATCHET_KEY => ratchet_key = Some(key(&value)?),
            INDEX => index = Some(value.as_varint()?),
            CIPHERTEXT => ciphertext = Some(value.as_bytes()?),
            _ => {}
        }
    }
    let authenticated = bytes
        .get(..bytes.len() - MAC_LEN)
        .ok_or(CodecError::UnexpectedEnd)?;
    Ok(MessageView {
        ratchet_key: ratchet_key.ok_or(CodecError::MissingField)?,
        index: index.ok_or(CodecError::MissingField)?,
        ciphertext: ciphertext.ok_or(CodecError::MissingField)?,
        mac,
        authenticated,
    })
}

/// Decodes a pre-key message (the embedded message is not decoded).
///
/// # Errors
/// [`OlmError::UnsupportedVersion`] for another version byte; [`CodecError`] for anything malformed.
pub fn decode_pre_key_message(bytes: &[u8]) -> Result<PreKeyView<'_>, Error> {
    let body = version(bytes)?;
    let (mut one_time_key, mut base_key, mut identity_key, mut message) = (None, None, None, None);
    for field in Reader::new(body).fields() {
        let Field { number, value } = field?;
        match number {
            ONE_TIME_KEY => one_time_key = Some(key(&value)?),
            BASE_KEY => base_key = Some(key(&value)?),
            IDENTITY_KEY => identity_key = Some(key(&value)?),
            MESSAGE => message = Some(value.as_bytes()?),
            _ => {}
        }
    }
    Ok(PreKeyView {
        one_time_key: one_time_key.ok_or(CodecError::MissingField)?,
        base_key: base_key.ok_or(CodecError::MissingField)?,
        identity_key: identity_key.ok_or(CodecError::MissingField)?,
        message: message.ok_or(CodecError::MissingField)?,
    })
}

/// Writes a normal message's header fields (everything before the ciphertext's bytes): the version,
/// the ratchet key, the index and the ciphertext field's key and length.
pub fn encode_message_head(
    w: &mut Writer<'_>,
    ratchet_key: &Curve25519PublicKey,
    index: u32,
    ciphertext_len: usize,
) -> Result<(), CodecError> {
    w.write_u8(VERSION)?;
    w.write_bytes_field(RATCHET_KEY, ratchet_key.as_bytes())?;
    w.write_varint_field(INDEX, u64::from(index))?;
    w.write_field_key(CIPHERTEXT, crate::codec::proto::WireType::LengthDelimited)?;
    w.write_varint(ciphertext_len as u64)
}

/// Writes a pre-key message's fields up to the embedded message's bytes (its field key and length).
pub fn encode_pre_key_head(
    w: &mut Writer<'_>,
    one_time_key: &Curve25519PublicKey,
    base_key: &Curve25519PublicKey,
    identity_key: &Curve25519PublicKey,
    message_len: usize,
) -> Result<(), CodecError> {
    w.write_u8(VERSION)?;
    w.write_bytes_field(ONE_TIME_KEY, one_time_key.as_bytes())?;
    w.write_bytes_field(BASE_KEY, base_key.as_bytes())?;
    w.write_bytes_field(IDENTITY_KEY, identity_key.as_bytes())?;
    w.write_field_key(MESSAGE, crate::codec::proto::WireType::LengthDelimited)?;
    w.write_varint(message_len as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn encode_message(ratchet_key: [u8; 32], index: u32, ciphertext: &[u8], mac: &[u8]) -> Vec<u8> {
        let mut buf = std::vec![0u8; message_len(index, ciphertext.len())];
        let mut w = Writer::new(&mut buf);
        encode_message_head(
            &mut w,
            &Curve25519PublicKey::from_bytes(ratchet_key),
            index,
            ciphertext.len(),
        )
        .unwrap();
        w.write_bytes(ciphertext).unwrap();
        w.write_bytes(mac).unwrap();
        assert_eq!(w.finish(), buf.len());
        buf
    }

    /// vodozemac's encoding unit test (`olm/messages/message.rs`), `specs/matrix.md` §8.1 P11.
    #[test]
    fn vodozemac_encoding_vector() {
        let bytes = encode_message(
            *b"ratchetkeyhereprettyplease123456",
            2,
            b"ciphertext",
            b"MACHEREE",
        );
        assert_eq!(
            bytes,
            b"\x03\n\x20ratchetkeyhereprettyplease123456\x10\x02\"\nciphertextMACHEREE"
        );
        let view = decode_message(&bytes).unwrap();
        assert_eq!(view.index, 2);
        assert_eq!(view.ciphertext, b"ciphertext");
        assert_eq!(view.mac, b"MACHEREE");
        assert_eq!(view.authenticated, &bytes[..bytes.len() - 8]);
    }

    #[test]
    fn fields_in_any_order_and_unknown_fields_are_accepted() {
        // index, unknown varint field 5, ciphertext, ratchet key.
        let mut bytes = std::vec![
            VERSION, 0x10, 0x07, 0x28, 0x01, 0x22, 0x02, 0xAA, 0xBB, 0x0A, 0x20
        ];
        bytes.extend_from_slice(&[9; 32]);
        bytes.extend_from_slice(&[0; 8]);
        let view = decode_message(&bytes).unwrap();
        assert_eq!(view.index, 7);
        assert_eq!(view.ciphertext, &[0xAA, 0xBB]);
        assert_eq!(view.ratchet_key.as_bytes(), &[9; 32]);
    }

    #[test]
    fn keys_with_the_top_bit_set_are_refused() {
        let mut bytes = std::vec![VERSION];
        for (tag, key) in [(0x0A, [1u8; 32]), (0x12, [2; 32]), (0x1A, [3; 32])] {
            bytes.extend_from_slice(&[tag, 0x20]);
            bytes.extend_from_slice(&key);
        }
        bytes.extend_from_slice(&[0x22, 0x01, 0x00]);
        assert!(decode_pre_key_message(&bytes).is_ok());
        // The last byte of each key: one-time key, base key, identity key.
        for at in [34, 68, 102] {
            let mut flipped = bytes.clone();
            flipped[at] |= 0x80;
            assert_eq!(
                decode_pre_key_message(&flipped),
                Err(CodecError::ValueOutOfRange.into()),
                "byte {at}"
            );
        }
        let mut message = encode_message([0x7f; 32], 0, &[0; 16], &[0; 8]);
        assert!(decode_message(&message).is_ok());
        message[34] = 0xff;
        assert_eq!(
            decode_message(&message),
            Err(CodecError::ValueOutOfRange.into())
        );
    }

    #[test]
    fn malformed_messages_are_typed_errors() {
        let good = encode_message([1; 32], 0, &[2; 16], &[3; 8]);
        assert_eq!(decode_message(&[]), Err(CodecError::UnexpectedEnd.into()));
        let mut v4 = good.clone();
        v4[0] = 4;
        assert_eq!(
            decode_message(&v4),
            Err(OlmError::UnsupportedVersion.into())
        );
        assert!(decode_message(&good[..8]).is_err());
        // Missing ciphertext: version, ratchet key, index, MAC.
        let mut missing = good[..1 + 34 + 2].to_vec();
        missing.extend_from_slice(&[0; 8]);
        assert_eq!(
            decode_message(&missing),
            Err(CodecError::MissingField.into())
        );
        // A 31-byte ratchet key.
        let mut short = std::vec![VERSION, 0x0A, 31];
        short.extend_from_slice(&[1; 31]);
        short.extend_from_slice(&[0x10, 0, 0x22, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            decode_message(&short),
            Err(CodecError::ValueOutOfRange.into())
        );
        // A fixed64 field (wire type 1).
        let mut fixed = good.clone();
        fixed.splice(1..1, [0x29, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            decode_message(&fixed),
            Err(CodecError::UnsupportedWireType.into())
        );
    }
}

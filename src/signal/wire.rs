//! The two pairwise messages of classic Signal v3 (`specs/signal.md` §4.1–4.2), as libsignal-protocol-java,
//! libsignal-protocol-javascript and npm `libsignal` write them.
//!
//! ```text
//! SignalMessage       = 0x33 ‖ 0x0A 0x21 ratchetKey[33] ‖ 0x10 varint(counter)
//!                            ‖ 0x18 varint(previousCounter) ‖ 0x22 len ciphertext ‖ mac[8]
//! PreKeySignalMessage = 0x33 ‖ [0x08 varint(preKeyId)] ‖ 0x12 0x21 baseKey[33] ‖ 0x1A 0x21 identityKey[33]
//!                            ‖ 0x22 len SignalMessage ‖ 0x28 varint(registrationId)
//!                            ‖ 0x30 varint(signedPreKeyId)
//! ```
//!
//! Keys are the 33-byte `0x05 ‖ u` encoding of [`super::keys`]. Encoders write the fields in
//! field-number order with minimal varints, as every classic encoder does (the published wire vectors
//! depend on it).
//!
//! Decoders are strict, and stricter than libsignal's protobuf parsing in one respect, on purpose:
//!
//! - the version byte must be `0x33`; a message version below 3 is
//!   [`SignalError::LegacyMessageVersion`], above 3 (such as the `0x44` of PQXDH sessions)
//!   [`SignalError::UnknownMessageVersion`], and a `0x3_` byte whose low nibble is not 3
//!   [`SignalError::InvalidVersionByte`];
//! - every key is 33 bytes with type `0x05` and the top bit of `u` clear ([`SignalError::InvalidKey`]);
//! - every field is required except `preKeyId`, the ciphertext is a non-empty whole number of AES
//!   blocks, and nothing may follow the last field ([`CodecError`]);
//! - **unknown fields, repeated fields and fields out of number order are rejected** (libsignal's
//!   protobuf parsers skip unknown fields and let a repeated field win). No classic v3 encoder writes
//!   any of them; the fields a v4 message adds (5–8) belong to post-quantum sessions, which this profile
//!   does not speak. Rejecting them keeps the decoding canonical: a message that decodes re-encodes to
//!   exactly its bytes. (The values of a pre-key message's outer fields are another matter: its
//!   registration id is covered by no MAC, as in every libsignal.)

use crate::Error;
use crate::codec::proto::{Field, WireType, bytes_field_len, varint_field_len};
use crate::codec::{Reader, Writer};
use crate::error::{CodecError, SignalError};
use crate::primitives::curve25519::Curve25519PublicKey;

use super::keys::{PUBLIC_KEY_LEN, decode_public_key, encode_public_key};

/// The version byte of classic v3 messages: message version 3 in the high nibble, current version 3 in
/// the low one.
pub const VERSION: u8 = 0x33;
/// The length of a `SignalMessage`'s truncated MAC.
pub const MAC_LEN: usize = 8;
/// The AES block size: ciphertexts are a non-empty multiple of it.
const BLOCK_LEN: usize = 16;

const RATCHET_KEY: u32 = 1;
const COUNTER: u32 = 2;
const PREVIOUS_COUNTER: u32 = 3;
const CIPHERTEXT: u32 = 4;

const PRE_KEY_ID: u32 = 1;
const BASE_KEY: u32 = 2;
const IDENTITY_KEY: u32 = 3;
const MESSAGE: u32 = 4;
const REGISTRATION_ID: u32 = 5;
const SIGNED_PRE_KEY_ID: u32 = 6;

/// The encoded length of a `SignalMessage` with these header values and `ciphertext_len` ciphertext
/// bytes.
pub const fn signal_message_len(
    counter: u32,
    previous_counter: u32,
    ciphertext_len: usize,
) -> usize {
    1 + bytes_field_len(RATCHET_KEY, PUBLIC_KEY_LEN)
        + varint_field_len(COUNTER, counter as u64)
        + varint_field_len(PREVIOUS_COUNTER, previous_counter as u64)
        + bytes_field_len(CIPHERTEXT, ciphertext_len)
        + MAC_LEN
}

/// The encoded length of a `PreKeySignalMessage` with these ids that embeds a `message_len`-byte
/// `SignalMessage`.
pub const fn pre_key_message_len(ids: &PreKeyIds, message_len: usize) -> usize {
    let pre_key = match ids.pre_key_id {
        Some(id) => varint_field_len(PRE_KEY_ID, id as u64),
        None => 0,
    };
    1 + pre_key
        + 2 * bytes_field_len(BASE_KEY, PUBLIC_KEY_LEN)
        + bytes_field_len(MESSAGE, message_len)
        + varint_field_len(REGISTRATION_ID, ids.registration_id as u64)
        + varint_field_len(SIGNED_PRE_KEY_ID, ids.signed_pre_key_id as u64)
}

/// The ids a `PreKeySignalMessage` carries besides its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PreKeyIds {
    /// The id of the one-time prekey used, if the bundle had one.
    pub pre_key_id: Option<u32>,
    /// The id of the signed prekey used.
    pub signed_pre_key_id: u32,
    /// The sender's registration id.
    pub registration_id: u32,
}

/// A decoded `SignalMessage`, borrowing from the bytes it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalMessageView<'a> {
    /// The sender's ratchet key.
    pub ratchet_key: Curve25519PublicKey,
    /// The message's index in its chain.
    pub counter: u32,
    /// The sender's `previousCounter` (advisory: libsignal's is the last index of the previous chain,
    /// npm `libsignal`'s the same; safemeet does not use it on receipt).
    pub previous_counter: u32,
    /// The AES-256-CBC ciphertext.
    pub ciphertext: &'a [u8],
    /// The truncated HMAC.
    pub mac: &'a [u8; MAC_LEN],
    /// The version byte and the protobuf: what the MAC covers after the two identity keys.
    pub authenticated: &'a [u8],
}

impl SignalMessageView<'_> {
    /// The length of this message re-encoded (equal to the decoded input's length).
    pub const fn encoded_len(&self) -> usize {
        signal_message_len(self.counter, self.previous_counter, self.ciphertext.len())
    }

    /// Writes this message with [`encode_signal_message_head`], the ciphertext and the MAC. Decoding is
    /// canonical, so the output equals the decoded bytes.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, CodecError> {
        let mut w = Writer::new(out);
        encode_signal_message_head(
            &mut w,
            &self.ratchet_key,
            self.counter,
            self.previous_counter,
            self.ciphertext.len(),
        )?;
        w.write_bytes(self.ciphertext)?;
        w.write_bytes(self.mac)?;
        Ok(w.finish())
    }
}

/// A decoded `PreKeySignalMessage`. Its embedded `SignalMessage` has been decoded (strictly) too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreKeySignalMessageView<'a> {
    /// The one-time and signed prekey ids and the sender's registration id.
    pub ids: PreKeyIds,
    /// The initiator's base key (`EK_A`).
    pub base_key: Curve25519PublicKey,
    /// The initiator's identity key (`IK_A`).
    pub identity_key: Curve25519PublicKey,
    /// The embedded message, still encoded.
    pub message_bytes: &'a [u8],
    /// The embedded message, decoded.
    pub message: SignalMessageView<'a>,
}

impl PreKeySignalMessageView<'_> {
    /// The length of this message re-encoded (equal to the decoded input's length).
    pub const fn encoded_len(&self) -> usize {
        pre_key_message_len(&self.ids, self.message_bytes.len())
    }

    /// Writes this message; decoding is canonical, so the output equals the decoded bytes.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, CodecError> {
        let mut w = Writer::new(out);
        encode_pre_key_head(
            &mut w,
            &self.ids,
            &self.base_key,
            &self.identity_key,
            self.message_bytes.len(),
        )?;
        w.write_bytes(self.message_bytes)?;
        encode_pre_key_tail(&mut w, &self.ids)?;
        Ok(w.finish())
    }
}

/// Splits off and checks the version byte.
fn version(bytes: &[u8]) -> Result<&[u8], Error> {
    let (&v, rest) = bytes.split_first().ok_or(CodecError::UnexpectedEnd)?;
    match (v >> 4, v & 0x0F) {
        (3, 3) => Ok(rest),
        (high, _) if high < 3 => Err(SignalError::LegacyMessageVersion.into()),
        (high, _) if high > 3 => Err(SignalError::UnknownMessageVersion.into()),
        _ => Err(SignalError::InvalidVersionByte.into()),
    }
}

/// The fields of `body`, each with a number above the previous one's (no repeats, number order).
fn ordered_fields<'a>(body: &'a [u8]) -> impl Iterator<Item = Result<Field<'a>, CodecError>> + 'a {
    let mut last = 0u32;
    Reader::new(body).fields().map(move |f| {
        let f = f?;
        if f.number <= last {
            return Err(CodecError::UnexpectedField);
        }
        last = f.number;
        Ok(f)
    })
}

fn key(field: &Field<'_>) -> Result<Curve25519PublicKey, Error> {
    Ok(decode_public_key(field.value.as_bytes()?)?)
}

fn uint32(field: &Field<'_>) -> Result<u32, CodecError> {
    u32::try_from(field.value.as_varint()?).map_err(|_| CodecError::ValueOutOfRange)
}

/// Decodes a `SignalMessage`.
///
/// # Errors
/// The version errors of [`SignalError`], [`SignalError::InvalidKey`] for a bad ratchet key, and
/// [`CodecError`] for anything else malformed (see the module documentation).
pub fn decode_signal_message(bytes: &[u8]) -> Result<SignalMessageView<'_>, Error> {
    let body = version(bytes)?;
    let split = body
        .len()
        .checked_sub(MAC_LEN)
        .ok_or(CodecError::UnexpectedEnd)?;
    let (fields, mac) = body
        .split_at_checked(split)
        .ok_or(CodecError::UnexpectedEnd)?;
    let mac: &[u8; MAC_LEN] = mac.try_into().map_err(|_| CodecError::UnexpectedEnd)?;
    let (mut ratchet_key, mut counter, mut previous_counter, mut ciphertext) =
        (None, None, None, None);
    for field in ordered_fields(fields) {
        let field = field?;
        match field.number {
            RATCHET_KEY => ratchet_key = Some(key(&field)?),
            COUNTER => counter = Some(uint32(&field)?),
            PREVIOUS_COUNTER => previous_counter = Some(uint32(&field)?),
            CIPHERTEXT => ciphertext = Some(field.value.as_bytes()?),
            _ => return Err(CodecError::UnexpectedField.into()),
        }
    }
    let ciphertext = ciphertext.ok_or(CodecError::MissingField)?;
    if ciphertext.is_empty() || ciphertext.len() % BLOCK_LEN != 0 {
        return Err(CodecError::ValueOutOfRange.into());
    }
    let authenticated = bytes.get(..1 + split).ok_or(CodecError::UnexpectedEnd)?;
    Ok(SignalMessageView {
        ratchet_key: ratchet_key.ok_or(CodecError::MissingField)?,
        counter: counter.ok_or(CodecError::MissingField)?,
        previous_counter: previous_counter.ok_or(CodecError::MissingField)?,
        ciphertext,
        mac,
        authenticated,
    })
}

/// Decodes a `PreKeySignalMessage` and the `SignalMessage` it embeds.
///
/// # Errors
/// As [`decode_signal_message`], for the outer and the embedded message.
pub fn decode_pre_key_message(bytes: &[u8]) -> Result<PreKeySignalMessageView<'_>, Error> {
    let body = version(bytes)?;
    let mut pre_key_id = None;
    let (mut base_key, mut identity_key, mut message) = (None, None, None);
    let (mut registration_id, mut signed_pre_key_id) = (None, None);
    for field in ordered_fields(body) {
        let field = field?;
        match field.number {
            PRE_KEY_ID => pre_key_id = Some(uint32(&field)?),
            BASE_KEY => base_key = Some(key(&field)?),
            IDENTITY_KEY => identity_key = Some(key(&field)?),
            MESSAGE => message = Some(field.value.as_bytes()?),
            REGISTRATION_ID => registration_id = Some(uint32(&field)?),
            SIGNED_PRE_KEY_ID => signed_pre_key_id = Some(uint32(&field)?),
            _ => return Err(CodecError::UnexpectedField.into()),
        }
    }
    let message_bytes = message.ok_or(CodecError::MissingField)?;
    Ok(PreKeySignalMessageView {
        ids: PreKeyIds {
            pre_key_id,
            signed_pre_key_id: signed_pre_key_id.ok_or(CodecError::MissingField)?,
            registration_id: registration_id.ok_or(CodecError::MissingField)?,
        },
        base_key: base_key.ok_or(CodecError::MissingField)?,
        identity_key: identity_key.ok_or(CodecError::MissingField)?,
        message_bytes,
        message: decode_signal_message(message_bytes)?,
    })
}

/// Writes a `SignalMessage`'s bytes up to its ciphertext's bytes: the version, the ratchet key, the
/// counters and the ciphertext field's key and length.
pub fn encode_signal_message_head(
    w: &mut Writer<'_>,
    ratchet_key: &Curve25519PublicKey,
    counter: u32,
    previous_counter: u32,
    ciphertext_len: usize,
) -> Result<(), CodecError> {
    w.write_u8(VERSION)?;
    w.write_bytes_field(RATCHET_KEY, &encode_public_key(ratchet_key))?;
    w.write_varint_field(COUNTER, u64::from(counter))?;
    w.write_varint_field(PREVIOUS_COUNTER, u64::from(previous_counter))?;
    w.write_field_key(CIPHERTEXT, WireType::LengthDelimited)?;
    w.write_varint(ciphertext_len as u64)
}

/// Writes a `PreKeySignalMessage`'s bytes up to the embedded message's bytes (its field key and length).
pub fn encode_pre_key_head(
    w: &mut Writer<'_>,
    ids: &PreKeyIds,
    base_key: &Curve25519PublicKey,
    identity_key: &Curve25519PublicKey,
    message_len: usize,
) -> Result<(), CodecError> {
    w.write_u8(VERSION)?;
    if let Some(id) = ids.pre_key_id {
        w.write_varint_field(PRE_KEY_ID, u64::from(id))?;
    }
    w.write_bytes_field(BASE_KEY, &encode_public_key(base_key))?;
    w.write_bytes_field(IDENTITY_KEY, &encode_public_key(identity_key))?;
    w.write_field_key(MESSAGE, WireType::LengthDelimited)?;
    w.write_varint(message_len as u64)
}

/// Writes a `PreKeySignalMessage`'s fields after the embedded message: the registration id and the
/// signed prekey id.
pub fn encode_pre_key_tail(w: &mut Writer<'_>, ids: &PreKeyIds) -> Result<(), CodecError> {
    w.write_varint_field(REGISTRATION_ID, u64::from(ids.registration_id))?;
    w.write_varint_field(SIGNED_PRE_KEY_ID, u64::from(ids.signed_pre_key_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn key(byte: u8) -> Curve25519PublicKey {
        Curve25519PublicKey::from_bytes([byte & 0x7f; 32])
    }

    fn message(counter: u32, previous: u32, ciphertext: &[u8]) -> Vec<u8> {
        let mut out = std::vec![0u8; signal_message_len(counter, previous, ciphertext.len())];
        let mut w = Writer::new(&mut out);
        encode_signal_message_head(&mut w, &key(7), counter, previous, ciphertext.len()).unwrap();
        w.write_bytes(ciphertext).unwrap();
        w.write_bytes(&[0xAB; MAC_LEN]).unwrap();
        assert_eq!(w.finish(), out.len());
        out
    }

    fn pre_key(ids: &PreKeyIds, inner: &[u8]) -> Vec<u8> {
        let mut out = std::vec![0u8; pre_key_message_len(ids, inner.len())];
        let mut w = Writer::new(&mut out);
        encode_pre_key_head(&mut w, ids, &key(1), &key(2), inner.len()).unwrap();
        w.write_bytes(inner).unwrap();
        encode_pre_key_tail(&mut w, ids).unwrap();
        assert_eq!(w.finish(), out.len());
        out
    }

    const IDS: PreKeyIds = PreKeyIds {
        pre_key_id: Some(4_611_143),
        signed_pre_key_id: 14_983_230,
        registration_id: 10290,
    };

    #[test]
    fn round_trip_and_layout() {
        let m = message(1, 0, &[9; 32]);
        assert_eq!(&m[..3], &[0x33, 0x0A, 0x21]);
        assert_eq!(m[3], 0x05);
        assert_eq!(&m[36..42], &[0x10, 0x01, 0x18, 0x00, 0x22, 0x20]);
        let v = decode_signal_message(&m).unwrap();
        assert_eq!((v.counter, v.previous_counter), (1, 0));
        assert_eq!(v.ciphertext, &[9; 32]);
        assert_eq!(v.authenticated, &m[..m.len() - 8]);
        let mut again = std::vec![0u8; v.encoded_len()];
        assert_eq!(v.encode_into(&mut again).unwrap(), m.len());
        assert_eq!(again, m);

        for ids in [
            IDS,
            PreKeyIds {
                pre_key_id: None,
                ..IDS
            },
        ] {
            let p = pre_key(&ids, &m);
            let v = decode_pre_key_message(&p).unwrap();
            assert_eq!(v.ids, ids);
            assert_eq!(v.message_bytes, &m[..]);
            let mut again = std::vec![0u8; v.encoded_len()];
            v.encode_into(&mut again).unwrap();
            assert_eq!(again, p);
        }
    }

    #[test]
    fn version_nibbles_have_distinct_errors() {
        let m = message(0, 0, &[0; 16]);
        for (byte, err) in [
            (0x23, Error::from(SignalError::LegacyMessageVersion)),
            (0x22, SignalError::LegacyMessageVersion.into()),
            (0x44, SignalError::UnknownMessageVersion.into()),
            (0x43, SignalError::UnknownMessageVersion.into()),
            (0x34, SignalError::InvalidVersionByte.into()),
            (0x32, SignalError::InvalidVersionByte.into()),
        ] {
            let mut bad = m.clone();
            bad[0] = byte;
            assert_eq!(decode_signal_message(&bad), Err(err), "{byte:#x}");
            let mut p = pre_key(&IDS, &m);
            p[0] = byte;
            assert_eq!(decode_pre_key_message(&p), Err(err), "{byte:#x}");
        }
        assert_eq!(
            decode_signal_message(&[]),
            Err(CodecError::UnexpectedEnd.into())
        );
    }

    #[test]
    fn keys_must_be_type_5_and_33_bytes() {
        let m = message(0, 0, &[0; 16]);
        let mut wrong_type = m.clone();
        wrong_type[3] = 0x08;
        assert_eq!(
            decode_signal_message(&wrong_type),
            Err(SignalError::InvalidKey.into())
        );
        let mut top_bit = m.clone();
        top_bit[35] |= 0x80;
        assert_eq!(
            decode_signal_message(&top_bit),
            Err(SignalError::InvalidKey.into())
        );
        // A 32-byte key (no type byte).
        let mut short = std::vec![VERSION, 0x0A, 0x20];
        short.extend_from_slice(&[1; 32]);
        short.extend_from_slice(&[0x10, 0, 0x18, 0, 0x22, 16]);
        short.extend_from_slice(&[0; 16 + 8]);
        assert_eq!(
            decode_signal_message(&short),
            Err(SignalError::InvalidKey.into())
        );
    }

    #[test]
    fn strict_fields() {
        let m = message(3, 2, &[0; 16]);
        // Missing previousCounter: drop bytes 38..40 (0x18 0x02).
        let mut missing = m.clone();
        missing.drain(38..40);
        assert_eq!(
            decode_signal_message(&missing),
            Err(CodecError::MissingField.into())
        );
        // An unknown field 5 before the MAC.
        let mut unknown = m.clone();
        let at = unknown.len() - 8;
        unknown.splice(at..at, [0x28, 0x01]);
        assert_eq!(
            decode_signal_message(&unknown),
            Err(CodecError::UnexpectedField.into())
        );
        // Counter repeated after previousCounter (out of order).
        let mut repeated = m.clone();
        repeated.splice(40..40, [0x10, 0x03]);
        assert_eq!(
            decode_signal_message(&repeated),
            Err(CodecError::UnexpectedField.into())
        );
        // A ciphertext that is not whole blocks, and an empty one.
        for ct in [&[0u8; 15][..], &[]] {
            assert_eq!(
                decode_signal_message(&message(0, 0, ct)),
                Err(CodecError::ValueOutOfRange.into())
            );
        }
        // Too short for a MAC.
        assert!(decode_signal_message(&m[..5]).is_err());
        // A counter past u32.
        let mut big = std::vec![VERSION, 0x0A, 0x21];
        big.extend_from_slice(&encode_public_key(&key(1)));
        big.extend_from_slice(&[0x10, 0x80, 0x80, 0x80, 0x80, 0x10, 0x18, 0, 0x22, 16]);
        big.extend_from_slice(&[0; 16 + 8]);
        assert_eq!(
            decode_signal_message(&big),
            Err(CodecError::ValueOutOfRange.into())
        );
        // Pre-key message: trailing garbage after the last field, and a missing registration id.
        let p = pre_key(&IDS, &m);
        let mut trailing = p.clone();
        trailing.push(0x00);
        assert!(decode_pre_key_message(&trailing).is_err());
        let mut no_reg = p.clone();
        let tail = varint_field_len(REGISTRATION_ID, 10290)
            + varint_field_len(SIGNED_PRE_KEY_ID, 14_983_230);
        let reg_at = p.len() - tail;
        no_reg.drain(reg_at..reg_at + varint_field_len(REGISTRATION_ID, 10290));
        assert_eq!(
            decode_pre_key_message(&no_reg),
            Err(CodecError::MissingField.into())
        );
        // The embedded message is decoded strictly too.
        let bad_inner = pre_key(&IDS, &missing);
        assert_eq!(
            decode_pre_key_message(&bad_inner),
            Err(CodecError::MissingField.into())
        );
    }
}

//! The Megolm message format (`m.megolm.v1.aes-sha2`), as vodozemac and libolm write it:
//!
//! ```text
//! message = 0x03                       version (truncated-MAC Megolm)
//!           0x08 varint(index)         message index, always present, even when 0
//!           0x12 varint(len) ciphertext   AES-256-CBC, PKCS#7
//!           mac[8]                     HMAC-SHA-256 over everything before it, truncated
//!           signature[64]              Ed25519 over everything before it
//! ```
//!
//! Parsing is strict: exactly these two fields in this order, canonical varints, nothing else. A
//! message any other way cannot authenticate with vodozemac either, because it computes the MAC and
//! the signature over its own re-encoding of the fields.

use crate::Error;
use crate::codec::{Reader, Writer, varint_len};
use crate::error::{CodecError, GroupError};
use crate::primitives::aes::aes256_cbc_padded_len;
use crate::primitives::ed25519::{Ed25519Signature, SIGNATURE_LEN};

/// The version byte of a Megolm message with a truncated (8-byte) MAC, the only one Matrix uses.
pub const VERSION: u8 = 0x03;
/// The protobuf key of the message index (field 1, varint).
const INDEX_TAG: u8 = 0x08;
/// The protobuf key of the ciphertext (field 2, length-delimited).
const CIPHERTEXT_TAG: u8 = 0x12;
/// The MAC length: HMAC-SHA-256 truncated to 8 bytes.
pub const MAC_LEN: usize = 8;
/// The bytes after the payload: MAC and signature.
pub const SUFFIX_LEN: usize = MAC_LEN + SIGNATURE_LEN;

/// A parsed Megolm message, borrowing from its bytes. Nothing in it is authenticated yet.
#[derive(Debug, Clone, Copy)]
pub struct MegolmMessage<'a> {
    index: u32,
    ciphertext: &'a [u8],
    mac: &'a [u8; MAC_LEN],
    signature: Ed25519Signature,
    /// Version and payload: the MAC's input.
    mac_input: &'a [u8],
    /// Version, payload and MAC: the signature's input.
    signed: &'a [u8],
}

impl<'a> MegolmMessage<'a> {
    /// Parses `message` (raw bytes, not base64).
    ///
    /// # Errors
    /// [`GroupError::UnsupportedVersion`] for another version byte (including vodozemac's experimental
    /// full-MAC version 4), and a [`CodecError`] for anything malformed.
    pub fn parse(message: &'a [u8]) -> Result<Self, Error> {
        let (&version, _) = message.split_first().ok_or(CodecError::UnexpectedEnd)?;
        if version != VERSION {
            return Err(GroupError::UnsupportedVersion.into());
        }
        let sig_at = message
            .len()
            .checked_sub(SIGNATURE_LEN)
            .ok_or(CodecError::UnexpectedEnd)?;
        let mac_at = sig_at
            .checked_sub(MAC_LEN)
            .filter(|&at| at >= 1)
            .ok_or(CodecError::UnexpectedEnd)?;
        let (signed, signature) = message.split_at(sig_at);
        let (mac_input, mac) = signed.split_at(mac_at);
        let payload = mac_input.get(1..).unwrap_or_default();

        let mut r = Reader::new(payload);
        if r.read_u8()? != INDEX_TAG {
            return Err(CodecError::UnexpectedField.into());
        }
        let index = r.read_varint_u32()?;
        if r.read_u8()? != CIPHERTEXT_TAG {
            return Err(CodecError::UnexpectedField.into());
        }
        let ciphertext = r.read_length_prefixed()?;
        r.finish()?;
        Ok(Self {
            index,
            ciphertext,
            mac: mac.try_into().map_err(|_| CodecError::UnexpectedEnd)?,
            signature: Ed25519Signature::from_slice(signature)
                .map_err(|_| CodecError::UnexpectedEnd)?,
            mac_input,
            signed,
        })
    }

    /// The message index.
    pub const fn index(&self) -> u32 {
        self.index
    }

    /// The AES-256-CBC ciphertext.
    pub const fn ciphertext(&self) -> &'a [u8] {
        self.ciphertext
    }

    /// The truncated MAC.
    pub const fn mac(&self) -> &'a [u8; MAC_LEN] {
        self.mac
    }

    /// The Ed25519 signature.
    pub const fn signature(&self) -> &Ed25519Signature {
        &self.signature
    }

    /// The bytes the MAC covers (version and payload).
    pub const fn mac_input(&self) -> &'a [u8] {
        self.mac_input
    }

    /// The bytes the signature covers (version, payload and MAC).
    pub const fn signed_bytes(&self) -> &'a [u8] {
        self.signed
    }
}

/// The length of the payload fields for a message at `index` with `ciphertext_len` bytes of ciphertext.
const fn payload_len(index: u32, ciphertext_len: usize) -> usize {
    1 + varint_len(index as u64) + 1 + varint_len(ciphertext_len as u64) + ciphertext_len
}

/// The length of a message at `index` carrying `plaintext_len` bytes.
pub const fn message_len(index: u32, plaintext_len: usize) -> usize {
    let ct = aes256_cbc_padded_len(plaintext_len);
    1 + payload_len(index, ct) + SUFFIX_LEN
}

/// Writes the version and payload header for a message at `index` whose ciphertext is
/// `ciphertext_len` bytes; returns the offset of the ciphertext.
pub(crate) fn write_header(
    w: &mut Writer<'_>,
    index: u32,
    ciphertext_len: usize,
) -> Result<usize, CodecError> {
    w.write_u8(VERSION)?;
    w.write_u8(INDEX_TAG)?;
    w.write_varint(u64::from(index))?;
    w.write_u8(CIPHERTEXT_TAG)?;
    w.write_varint(ciphertext_len as u64)?;
    Ok(w.position())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_strictness() {
        // The published libolm message (spec notes P7): index 0, 32 bytes of ciphertext.
        let mut buf = [0u8; 128];
        let n = crate::codec::base64::decode_into(
            "AwgAEhAcbh6UpbByoyZxufQ+h2B+8XHMjhR69G8F4+qjMaFlnIXusJZX3r8LnRORG9T3DXFdbVuvIWrLyRfm4i8QRbe8VPwGRFG57B1CtmxanuP8bHtnnYqlwPsD",
            &mut buf,
        )
        .unwrap();
        let msg = buf[..n].to_vec();
        let m = MegolmMessage::parse(&msg).unwrap();
        assert_eq!(m.index(), 0);
        assert_eq!(m.ciphertext().len(), 16);
        assert_eq!(msg.len(), message_len(0, 7));
        let mut bad = msg.clone();
        bad[0] = 4;
        assert_eq!(
            MegolmMessage::parse(&bad).unwrap_err(),
            GroupError::UnsupportedVersion.into()
        );
        let mut bad = msg.clone();
        bad[1] = 0x10;
        assert!(MegolmMessage::parse(&bad).is_err());
        assert!(MegolmMessage::parse(&msg[..msg.len() - 1]).is_err());
        assert!(MegolmMessage::parse(&[3]).is_err());
        assert!(MegolmMessage::parse(&[]).is_err());
    }
}

//! How a Megolm session is shared: the signed session key (version 2, `m.room_key`) and the unsigned
//! export (version 1, forwarded keys, backups and key-export files).
//!
//! ```text
//! session key (229 bytes) = 0x02 index[4, big-endian] ratchet[128] signing_key[32] signature[64]
//! export      (165 bytes) = 0x01 index[4, big-endian] ratchet[128] signing_key[32]
//! ```
//!
//! The signature is by the session's own signing key over the 165 bytes before it, so it proves only
//! that the sender of the key holds the session; who that is must come from the (Olm-encrypted,
//! device-authenticated) channel the key arrived on. Both are sent as unpadded base64. Decoding is
//! strict: an exact length (vodozemac ignores bytes after an export), a valid Ed25519 public key, and
//! for a session key a valid signature.

use core::fmt;

use zeroize::{Zeroize, Zeroizing};

use super::SessionId;
use crate::Error;
use crate::codec::{Reader, Writer, base64};
use crate::error::{CodecError, GroupError};
use crate::group::{RATCHET_LEN, Ratchet};
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};

/// The version byte of a signed session key.
const SESSION_KEY_VERSION: u8 = 0x02;
/// The version byte of an unsigned export.
const EXPORT_VERSION: u8 = 0x01;

/// The length of a session key, in bytes.
pub const SESSION_KEY_LEN: usize = 1 + 4 + RATCHET_LEN + 32 + 64;
/// The length of an exported session key, in bytes.
pub const EXPORT_LEN: usize = 1 + 4 + RATCHET_LEN + 32;
/// The length of a session key in unpadded base64.
pub const SESSION_KEY_BASE64_LEN: usize = base64::encoded_len(SESSION_KEY_LEN);
/// The length of an exported session key in unpadded base64.
pub const EXPORT_BASE64_LEN: usize = base64::encoded_len(EXPORT_LEN);

/// Writes `version index ratchet signing_key`.
fn write_body(
    w: &mut Writer<'_>,
    version: u8,
    ratchet: &Ratchet,
    key: &Ed25519PublicKey,
) -> Result<(), CodecError> {
    w.write_u8(version)?;
    w.write_u32_be(ratchet.index())?;
    w.write_bytes(ratchet.secret_bytes())?;
    w.write_bytes(key.as_bytes())
}

/// Reads `index ratchet signing_key` after the version byte.
fn read_body(r: &mut Reader<'_>) -> Result<(Ratchet, Ed25519PublicKey), Error> {
    let index = r.read_u32_be()?;
    let bytes = Zeroizing::new(r.read_array::<RATCHET_LEN>()?);
    let key = Ed25519PublicKey::from_bytes(&r.read_array()?)?;
    Ok((Ratchet::from_parts(&bytes, index), key))
}

fn check_version(r: &mut Reader<'_>, expected: u8) -> Result<(), Error> {
    if r.read_u8()? == expected {
        Ok(())
    } else {
        Err(GroupError::UnsupportedVersion.into())
    }
}

/// Decodes base64 `text` of exactly `N` bytes into a zeroizing stack buffer.
fn decode_base64<const N: usize>(text: &[u8]) -> Result<Zeroizing<[u8; N]>, Error> {
    let mut bytes = Zeroizing::new([0u8; N]);
    if base64::decoded_len(text)? != N {
        return Err(CodecError::UnexpectedEnd.into());
    }
    base64::decode_into(text, &mut *bytes)?;
    Ok(bytes)
}

/// Encodes `bytes` as unpadded base64 into `out`.
fn encode_base64(bytes: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let needed = base64::encoded_len(bytes.len());
    let out = out
        .get_mut(..needed)
        .ok_or(GroupError::BufferTooSmall { needed })?;
    Ok(base64::encode_into(bytes, out)?)
}

/// A signed Megolm session key (version 2): what `m.room_key` carries. Holds the ratchet, so it is
/// secret: zeroized on drop, never printed.
pub struct SessionKey {
    pub(crate) ratchet: Ratchet,
    pub(crate) signing_key: Ed25519PublicKey,
    signature: Ed25519Signature,
}

impl SessionKey {
    /// Signs the session key for `ratchet` with the session's signing key.
    pub(crate) fn sign(ratchet: &Ratchet, signing: &Ed25519SecretKey) -> Self {
        let signing_key = signing.public_key();
        let mut body = Zeroizing::new([0u8; EXPORT_LEN]);
        let mut w = Writer::new(&mut *body);
        // The buffer has exactly the needed size, so this cannot fail.
        let _ = write_body(&mut w, SESSION_KEY_VERSION, ratchet, &signing_key);
        Self {
            ratchet: ratchet.duplicate(),
            signing_key,
            signature: signing.sign(&*body),
        }
    }

    /// Decodes and verifies a session key from its 229 bytes.
    ///
    /// # Errors
    /// [`GroupError::UnsupportedVersion`], a [`CodecError`] for a wrong length,
    /// [`crate::CryptoError::InvalidKey`] for a bad signing key and [`GroupError::InvalidSignature`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        check_version(&mut r, SESSION_KEY_VERSION)?;
        let (ratchet, signing_key) = read_body(&mut r)?;
        let signed = r.consumed();
        let signature = Ed25519Signature::from_bytes(r.read_array()?);
        r.finish()?;
        signing_key
            .verify(signed, &signature)
            .map_err(|_| GroupError::InvalidSignature)?;
        Ok(Self {
            ratchet,
            signing_key,
            signature,
        })
    }

    /// Decodes and verifies a session key from unpadded base64.
    pub fn from_base64(text: impl AsRef<[u8]>) -> Result<Self, Error> {
        Self::from_bytes(&*decode_base64::<SESSION_KEY_LEN>(text.as_ref())?)
    }

    /// The 229 bytes, in a buffer that zeroizes itself.
    pub fn to_bytes(&self) -> Zeroizing<[u8; SESSION_KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; SESSION_KEY_LEN]);
        let mut w = Writer::new(&mut *out);
        // Exactly sized: cannot fail.
        let _ = write_body(
            &mut w,
            SESSION_KEY_VERSION,
            &self.ratchet,
            &self.signing_key,
        );
        let _ = w.write_bytes(self.signature.as_bytes());
        out
    }

    /// Writes the unpadded base64 form ([`SESSION_KEY_BASE64_LEN`] bytes) into `out`.
    pub fn to_base64_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        encode_base64(&*self.to_bytes(), out)
    }

    /// The unpadded base64 form, in a string that zeroizes itself.
    #[cfg(feature = "alloc")]
    pub fn to_base64(&self) -> Zeroizing<alloc::string::String> {
        Zeroizing::new(base64::encode(self.to_bytes().as_slice()))
    }

    /// The message index the key starts at.
    pub const fn index(&self) -> u32 {
        self.ratchet.index()
    }

    /// The session's signing key.
    pub const fn signing_key(&self) -> &Ed25519PublicKey {
        &self.signing_key
    }

    /// The session id: the signing key in unpadded base64.
    pub fn session_id(&self) -> SessionId {
        SessionId::new(&self.signing_key)
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKey")
            .field("index", &self.index())
            .field("session_id", &self.session_id())
            .finish_non_exhaustive()
    }
}

/// An unsigned Megolm session export (version 1): what forwarded keys, backups and key-export files
/// carry. A session imported from it is not verified ([`super::InboundGroupSession::is_verified`]).
/// Zeroized on drop, never printed.
pub struct ExportedSessionKey {
    pub(crate) ratchet: Ratchet,
    pub(crate) signing_key: Ed25519PublicKey,
}

impl ExportedSessionKey {
    pub(crate) const fn new(ratchet: Ratchet, signing_key: Ed25519PublicKey) -> Self {
        Self {
            ratchet,
            signing_key,
        }
    }

    /// Decodes an export from its 165 bytes.
    ///
    /// # Errors
    /// [`GroupError::UnsupportedVersion`], a [`CodecError`] for a wrong length and
    /// [`crate::CryptoError::InvalidKey`] for a bad signing key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        check_version(&mut r, EXPORT_VERSION)?;
        let (ratchet, signing_key) = read_body(&mut r)?;
        r.finish()?;
        Ok(Self {
            ratchet,
            signing_key,
        })
    }

    /// Decodes an export from unpadded base64.
    pub fn from_base64(text: impl AsRef<[u8]>) -> Result<Self, Error> {
        Self::from_bytes(&*decode_base64::<EXPORT_LEN>(text.as_ref())?)
    }

    /// The 165 bytes, in a buffer that zeroizes itself.
    pub fn to_bytes(&self) -> Zeroizing<[u8; EXPORT_LEN]> {
        let mut out = Zeroizing::new([0u8; EXPORT_LEN]);
        let mut w = Writer::new(&mut *out);
        // Exactly sized: cannot fail.
        let _ = write_body(&mut w, EXPORT_VERSION, &self.ratchet, &self.signing_key);
        out
    }

    /// Writes the unpadded base64 form ([`EXPORT_BASE64_LEN`] bytes) into `out`.
    pub fn to_base64_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        encode_base64(&*self.to_bytes(), out)
    }

    /// The unpadded base64 form, in a string that zeroizes itself.
    #[cfg(feature = "alloc")]
    pub fn to_base64(&self) -> Zeroizing<alloc::string::String> {
        Zeroizing::new(base64::encode(self.to_bytes().as_slice()))
    }

    /// The message index the export starts at.
    pub const fn index(&self) -> u32 {
        self.ratchet.index()
    }

    /// The session's signing key.
    pub const fn signing_key(&self) -> &Ed25519PublicKey {
        &self.signing_key
    }

    /// The session id: the signing key in unpadded base64.
    pub fn session_id(&self) -> SessionId {
        SessionId::new(&self.signing_key)
    }
}

impl fmt::Debug for ExportedSessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportedSessionKey")
            .field("index", &self.index())
            .field("session_id", &self.session_id())
            .finish_non_exhaustive()
    }
}

impl Zeroize for ExportedSessionKey {
    fn zeroize(&mut self) {
        self.ratchet.zeroize();
    }
}

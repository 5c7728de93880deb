//! Identity keys and prekey bundles: what a device publishes so others can start sessions with it.

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::{CodecError, SessionError};
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519Signature};
use crate::x3dh::native::{PreKeyBundleKeys, verify_identity_binding};

use super::wire::VERSION;

/// A device's public identity in the native profile: a Curve25519 key for key agreement, an Ed25519
/// key for signatures, and the Ed25519 key's signature binding the two together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityKeys {
    /// The Curve25519 identity key (`IK` in X3DH).
    pub curve25519: Curve25519PublicKey,
    /// The Ed25519 identity key; it signs prekeys.
    pub ed25519: Ed25519PublicKey,
    /// `ed25519`'s signature binding `curve25519` to it.
    pub binding_signature: Ed25519Signature,
}

impl IdentityKeys {
    /// Checks the binding signature.
    pub fn verify(&self) -> Result<(), Error> {
        verify_identity_binding(&self.ed25519, &self.curve25519, &self.binding_signature)?;
        Ok(())
    }
}

/// What a server hands out for a device: its identity, its current signed prekey, and one of its
/// one-time prekeys while any are left. Each prekey carries the id its owner knows it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreKeyBundle {
    /// The device's identity keys.
    pub identity: IdentityKeys,
    /// The signed prekey's id.
    pub signed_prekey_id: u32,
    /// The signed prekey (`SPK`).
    pub signed_prekey: Curve25519PublicKey,
    /// The identity's Ed25519 signature over the signed prekey.
    pub signed_prekey_signature: Ed25519Signature,
    /// A one-time prekey (`OPK`) with its id, if the server had one left.
    pub one_time_prekey: Option<(u32, Curve25519PublicKey)>,
}

/// The encoded length of a bundle without and with a one-time prekey.
const BASE_LEN: usize = 1 + 32 + 32 + 64 + 4 + 32 + 64 + 1;
const ONE_TIME_LEN: usize = 4 + 32;

impl PreKeyBundle {
    /// The encoded length: 230 bytes, or 266 with a one-time prekey.
    pub const fn encoded_len(&self) -> usize {
        if self.one_time_prekey.is_some() {
            BASE_LEN + ONE_TIME_LEN
        } else {
            BASE_LEN
        }
    }

    /// Writes the bundle into `out`, returning its length:
    /// `0x01 curve25519[32] ed25519[32] binding_signature[64] signed_prekey_id[4] signed_prekey[32]
    /// signed_prekey_signature[64] has_one_time[1] (one_time_id[4] one_time_prekey[32])?`.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let needed = self.encoded_len();
        let out = out
            .get_mut(..needed)
            .ok_or(CodecError::BufferTooSmall { needed })?;
        let mut w = Writer::new(out);
        w.write_u8(VERSION)?;
        w.write_bytes(self.identity.curve25519.as_bytes())?;
        w.write_bytes(self.identity.ed25519.as_bytes())?;
        w.write_bytes(self.identity.binding_signature.as_bytes())?;
        w.write_u32_be(self.signed_prekey_id)?;
        w.write_bytes(self.signed_prekey.as_bytes())?;
        w.write_bytes(self.signed_prekey_signature.as_bytes())?;
        match &self.one_time_prekey {
            Some((id, key)) => {
                w.write_u8(1)?;
                w.write_u32_be(*id)?;
                w.write_bytes(key.as_bytes())?;
            }
            None => w.write_u8(0)?,
        }
        Ok(w.finish())
    }

    /// The encoded bundle as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
        let mut out = alloc::vec![0u8; self.encoded_len()];
        let n = self.encode_into(&mut out).unwrap_or(0);
        out.truncate(n);
        out
    }

    /// Decodes a bundle. Rejects other versions, invalid Ed25519 keys, an unknown one-time flag,
    /// truncation and trailing bytes. Signatures are checked when a session is created from it.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        if r.read_u8()? != VERSION {
            return Err(SessionError::UnsupportedVersion.into());
        }
        let identity = IdentityKeys {
            curve25519: Curve25519PublicKey::from_bytes(r.read_array()?),
            ed25519: Ed25519PublicKey::from_bytes(&r.read_array()?)?,
            binding_signature: Ed25519Signature::from_bytes(r.read_array()?),
        };
        let signed_prekey_id = r.read_u32_be()?;
        let signed_prekey = Curve25519PublicKey::from_bytes(r.read_array()?);
        let signed_prekey_signature = Ed25519Signature::from_bytes(r.read_array()?);
        let one_time_prekey = match r.read_u8()? {
            0 => None,
            1 => Some((
                r.read_u32_be()?,
                Curve25519PublicKey::from_bytes(r.read_array()?),
            )),
            _ => return Err(CodecError::ValueOutOfRange.into()),
        };
        r.finish()?;
        Ok(Self {
            identity,
            signed_prekey_id,
            signed_prekey,
            signed_prekey_signature,
            one_time_prekey,
        })
    }

    pub(crate) fn x3dh_keys(&self) -> PreKeyBundleKeys {
        PreKeyBundleKeys {
            identity: self.identity.curve25519,
            signing_key: self.identity.ed25519,
            identity_signature: self.identity.binding_signature,
            signed_prekey: self.signed_prekey,
            signed_prekey_signature: self.signed_prekey_signature,
            one_time_prekey: self.one_time_prekey.map(|(_, k)| k),
        }
    }
}

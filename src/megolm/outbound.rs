//! The sending side of a Megolm session.

use core::fmt;

use rand_core::CryptoRng;

use super::message::{MAC_LEN, message_len, write_header};
use super::{SessionId, SessionKey, message_keys};
use crate::Error;
use crate::codec::Writer;
use crate::error::GroupError;
use crate::group::Ratchet;
use crate::primitives::aes::{aes256_cbc_encrypt_in_place, aes256_cbc_padded_len};
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};
use crate::primitives::hmac::HmacSha256;

/// An outbound Megolm session: encrypts room messages for everyone who holds its [`SessionKey`].
///
/// Encryption needs no randomness (each message uses the ratchet at its index, then the ratchet moves
/// on). Not `Clone`: two copies would encrypt two messages under one index.
pub struct GroupSession {
    pub(crate) ratchet: Ratchet,
    pub(crate) signing: Ed25519SecretKey,
}

impl GroupSession {
    /// A new session: 128 random ratchet bytes, then a random Ed25519 signing key (libolm's order).
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let ratchet = Ratchet::new(rng);
        let signing = Ed25519SecretKey::generate(rng);
        Self { ratchet, signing }
    }

    /// A session from explicit state: the ratchet bytes at `index` and the signing key's seed. For
    /// known-answer tests and migrations; reusing a state that has already sent messages reuses keys.
    #[cfg(feature = "hazmat")]
    pub fn from_parts(
        ratchet: &[u8; crate::group::RATCHET_LEN],
        index: u32,
        signing_seed: &[u8; 32],
    ) -> Self {
        Self {
            ratchet: Ratchet::from_parts(ratchet, index),
            signing: Ed25519SecretKey::from_seed(signing_seed),
        }
    }

    /// The session id: the signing key in unpadded base64.
    pub fn session_id(&self) -> SessionId {
        SessionId::new(&self.signing_key())
    }

    /// The session's public signing key.
    pub fn signing_key(&self) -> Ed25519PublicKey {
        self.signing.public_key()
    }

    /// The index the next message will have.
    pub const fn message_index(&self) -> u32 {
        self.ratchet.index()
    }

    /// The signed session key at the current index, to share with members (who can then read this and
    /// every later message, but none before).
    pub fn session_key(&self) -> SessionKey {
        SessionKey::sign(&self.ratchet, &self.signing)
    }

    /// The length of the message [`GroupSession::encrypt_into`] writes for `plaintext_len` bytes.
    pub const fn encrypt_len(&self, plaintext_len: usize) -> usize {
        message_len(self.ratchet.index(), plaintext_len)
    }

    /// Encrypts `plaintext` into `out` and returns the message length (raw bytes; Matrix sends them as
    /// unpadded base64). A too-small `out` is [`GroupError::BufferTooSmall`] and changes nothing.
    /// Performs no heap allocation.
    ///
    /// After `u32::MAX` messages the session is [`GroupError::Exhausted`]; vodozemac would wrap the
    /// index to 0, which receivers cannot tell from the start of the session.
    pub fn encrypt_into(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        let index = self.ratchet.index();
        if index == u32::MAX {
            return Err(GroupError::Exhausted.into());
        }
        let needed = self.encrypt_len(plaintext.len());
        let out = out
            .get_mut(..needed)
            .ok_or(GroupError::BufferTooSmall { needed })?;
        let ct_len = aes256_cbc_padded_len(plaintext.len());
        let keys = message_keys(&self.ratchet)?;

        let mut w = Writer::new(out);
        let ct_at = write_header(&mut w, index, ct_len)?;
        let mac_at = ct_at + ct_len;
        let sig_at = mac_at + MAC_LEN;
        let (head, rest) = out.split_at_mut(ct_at);
        let (ct, suffix) = rest.split_at_mut(ct_len);
        ct.get_mut(..plaintext.len())
            .ok_or(GroupError::BufferTooSmall { needed })?
            .copy_from_slice(plaintext);
        aes256_cbc_encrypt_in_place(&keys.aes, &keys.iv, ct, plaintext.len())?;
        let mut mac = HmacSha256::new(&keys.mac);
        mac.update(head).update(ct);
        let tag = mac.finalize();
        if let Some(mac_out) = suffix.get_mut(..MAC_LEN) {
            mac_out.copy_from_slice(tag.get(..MAC_LEN).unwrap_or_default());
        }
        let (signed, sig_out) = out.split_at_mut(sig_at);
        sig_out.copy_from_slice(self.signing.sign(signed).as_bytes());
        self.ratchet.advance();
        Ok(needed)
    }

    /// [`GroupSession::encrypt_into`], returning the message as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out = alloc::vec![0u8; self.encrypt_len(plaintext.len())];
        let n = self.encrypt_into(plaintext, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

impl fmt::Debug for GroupSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSession")
            .field("session_id", &self.session_id())
            .field("message_index", &self.message_index())
            .finish_non_exhaustive()
    }
}

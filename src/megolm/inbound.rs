//! The receiving side of a Megolm session.

use core::cmp::Ordering;
use core::fmt;

use super::message::MegolmMessage;
use super::{ExportedSessionKey, SessionId, SessionKey, message_keys};
use crate::Error;
use crate::error::GroupError;
use crate::group::{Ratchet, Receiver};
use crate::primitives::aes::aes256_cbc_decrypt_in_place;
use crate::primitives::ed25519::Ed25519PublicKey;
use crate::primitives::hmac::HmacSha256;

/// How two copies of one session compare ([`InboundGroupSession::compare`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionOrdering {
    /// Both start at the same index with the same ratchet.
    Equal,
    /// This copy starts at a lower index (it can decrypt more) and the other is derived from it.
    Better,
    /// The other copy starts at a lower index and this one is derived from it.
    Worse,
    /// Different sessions, or copies whose ratchets disagree (one of them is not genuine).
    Unconnected,
}

/// What [`InboundGroupSession::decrypt_into`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decrypted {
    /// The plaintext length written to the output buffer.
    pub plaintext_len: usize,
    /// The message's index. Feed it, with the session id and an id of the event, to a
    /// [`crate::group::ReplayGuard`].
    pub message_index: u32,
}

/// A decrypted message with its plaintext, from [`InboundGroupSession::decrypt`].
#[cfg(feature = "alloc")]
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptedMessage {
    /// The plaintext.
    pub plaintext: alloc::vec::Vec<u8>,
    /// The message's index.
    pub message_index: u32,
}

#[cfg(feature = "alloc")]
impl fmt::Debug for DecryptedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedMessage")
            .field("message_index", &self.message_index)
            .finish_non_exhaustive()
    }
}

/// An inbound Megolm session: decrypts the messages of one sender's session from the first index its
/// key was shared at, in any order.
///
/// It keeps two ratchet states: the first known one (which never moves except by
/// [`InboundGroupSession::advance_to`]) and the latest one used, so that reading a room in order costs
/// one hash per message and any other message at most 1020.
pub struct InboundGroupSession {
    pub(crate) state: Receiver,
    pub(crate) signing_key: Ed25519PublicKey,
    pub(crate) verified: bool,
}

impl InboundGroupSession {
    /// A session from a signed session key (`m.room_key`): verified, since the key's signature was
    /// checked when it was decoded.
    pub fn new(key: &SessionKey) -> Self {
        Self::from_ratchet(&key.ratchet, key.signing_key, true)
    }

    /// A session from an unsigned export (forwarded keys, backups): not verified.
    pub fn import(key: &ExportedSessionKey) -> Self {
        Self::from_ratchet(&key.ratchet, key.signing_key, false)
    }

    pub(crate) const fn from_ratchet(
        ratchet: &Ratchet,
        signing_key: Ed25519PublicKey,
        verified: bool,
    ) -> Self {
        Self {
            state: Receiver::new(ratchet),
            signing_key,
            verified,
        }
    }

    /// A session from explicit state, for known-answer tests and migrations.
    #[cfg(feature = "hazmat")]
    pub fn from_parts(
        ratchet: &[u8; crate::group::RATCHET_LEN],
        index: u32,
        signing_key: Ed25519PublicKey,
        verified: bool,
    ) -> Self {
        Self::from_ratchet(&Ratchet::from_parts(ratchet, index), signing_key, verified)
    }

    /// The session id: the signing key in unpadded base64.
    pub fn session_id(&self) -> SessionId {
        SessionId::new(&self.signing_key)
    }

    /// The session's signing key.
    pub const fn signing_key(&self) -> &Ed25519PublicKey {
        &self.signing_key
    }

    /// The lowest message index this session can decrypt.
    pub const fn first_known_index(&self) -> u32 {
        self.state.first_known_index()
    }

    /// Whether the session came from a signed session key (or was merged with a copy that did). A
    /// session imported from an export has only the exporter's word for its signing key.
    pub const fn is_verified(&self) -> bool {
        self.verified
    }

    /// The largest plaintext `message` can hold (its ciphertext length), for sizing
    /// [`InboundGroupSession::decrypt_into`]'s buffer.
    pub fn decrypt_len(message: &[u8]) -> Result<usize, Error> {
        Ok(MegolmMessage::parse(message)?.ciphertext().len())
    }

    /// Decrypts `message` (raw bytes, not base64) into `out`; returns the plaintext length and the
    /// message index. `out` must hold [`InboundGroupSession::decrypt_len`] bytes. Performs no heap
    /// allocation.
    ///
    /// The signature is checked first ([`GroupError::InvalidSignature`]), then the index
    /// ([`GroupError::UnknownMessageIndex`] below the first known one), then the MAC and the padding
    /// ([`GroupError::Authentication`]). On any error the session and `out` hold nothing new. The
    /// same message decrypts again if repeated: use a [`crate::group::ReplayGuard`].
    pub fn decrypt_into(&mut self, message: &[u8], out: &mut [u8]) -> Result<Decrypted, Error> {
        let parsed = MegolmMessage::parse(message)?;
        self.signing_key
            .verify(parsed.signed_bytes(), parsed.signature())
            .map_err(|_| GroupError::InvalidSignature)?;
        self.decrypt_verified(&parsed, out)
    }

    /// Decrypts a parsed message whose signature has been verified.
    pub(crate) fn decrypt_verified(
        &mut self,
        parsed: &MegolmMessage<'_>,
        out: &mut [u8],
    ) -> Result<Decrypted, Error> {
        let ciphertext = parsed.ciphertext();
        let needed = ciphertext.len();
        let out = out
            .get_mut(..needed)
            .ok_or(GroupError::BufferTooSmall { needed })?;
        let ratchet =
            self.state
                .ratchet_at(parsed.index())
                .ok_or(GroupError::UnknownMessageIndex {
                    first_known_index: self.first_known_index(),
                })?;
        let keys = message_keys(&ratchet)?;
        let mut mac = HmacSha256::new(&keys.mac);
        mac.update(parsed.mac_input());
        mac.verify_truncated(parsed.mac())
            .map_err(|_| GroupError::Authentication)?;
        out.copy_from_slice(ciphertext);
        let len = aes256_cbc_decrypt_in_place(&keys.aes, &keys.iv, out)
            .map_err(|_| GroupError::Authentication)?;
        self.state.commit(ratchet);
        Ok(Decrypted {
            plaintext_len: len,
            message_index: parsed.index(),
        })
    }

    /// [`InboundGroupSession::decrypt_into`], returning the plaintext as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn decrypt(&mut self, message: &[u8]) -> Result<DecryptedMessage, Error> {
        let mut out = alloc::vec![0u8; Self::decrypt_len(message)?];
        let got = self.decrypt_into(message, &mut out)?;
        out.truncate(got.plaintext_len);
        Ok(DecryptedMessage {
            plaintext: out,
            message_index: got.message_index,
        })
    }

    /// An unsigned export of this session starting at `index`, for forwarding or backup; `None` below
    /// the first known index. The receiver will be able to read messages from `index` on.
    pub fn export_at(&self, index: u32) -> Option<ExportedSessionKey> {
        self.state
            .ratchet_at(index)
            .map(|r| ExportedSessionKey::new(r, self.signing_key))
    }

    /// An export at the first known index.
    pub fn export_at_first_known_index(&self) -> ExportedSessionKey {
        ExportedSessionKey::new(self.state.initial.duplicate(), self.signing_key)
    }

    /// Forgets every key below `index`, so that messages before it can no longer be read here. Returns
    /// whether anything changed.
    pub fn advance_to(&mut self, index: u32) -> bool {
        self.state.advance_to(index)
    }

    /// Whether `other` is a copy of the same session: the same signing key, and the ratchet of the copy
    /// starting later equals this one's advanced to its index (compared in constant time).
    pub fn connected(&self, other: &Self) -> bool {
        self.signing_key == other.signing_key && self.state.connected(&other.state)
    }

    /// How this copy compares with `other`: the better one can decrypt more.
    pub fn compare(&self, other: &Self) -> SessionOrdering {
        if !self.connected(other) {
            return SessionOrdering::Unconnected;
        }
        match self.first_known_index().cmp(&other.first_known_index()) {
            Ordering::Less => SessionOrdering::Better,
            Ordering::Equal => SessionOrdering::Equal,
            Ordering::Greater => SessionOrdering::Worse,
        }
    }

    /// Merges two copies of one session: the ratchet of the better copy, verified if either copy was.
    /// `None` if they are not copies of the same session.
    pub fn merge(&self, other: &Self) -> Option<Self> {
        let best = match self.compare(other) {
            SessionOrdering::Equal | SessionOrdering::Better => self,
            SessionOrdering::Worse => other,
            SessionOrdering::Unconnected => return None,
        };
        Some(Self::from_ratchet(
            &best.state.initial,
            self.signing_key,
            self.verified || other.verified,
        ))
    }
}

impl fmt::Debug for InboundGroupSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundGroupSession")
            .field("session_id", &self.session_id())
            .field("first_known_index", &self.first_known_index())
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

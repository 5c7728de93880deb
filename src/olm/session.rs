//! An Olm session: the shared Double Ratchet with Olm's suite, AES-256-CBC + HMAC-SHA-256/8 per
//! message, and the pre-key framing the initiator repeats until it hears back.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::Error;
use crate::codec::Writer;
use crate::error::{CodecError, OlmError, RatchetError};
use crate::limits::{MAX_RECEIVER_CHAINS, OLM_MAX_SKIPPED_KEYS};
use crate::primitives::aes::CbcHmacKeys;
use crate::primitives::aes::{self, aes256_cbc_padded_len};
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::hash::Sha256;
use crate::primitives::hkdf::HkdfSalted;
use crate::primitives::hmac::HmacSha256;
use crate::ratchet::{ChainKey, DoubleRatchet, MessageKey, OlmSuite};
use crate::x3dh::olm::OlmSharedSecrets;

use super::wire::{
    MAC_LEN, MessageView, decode_message, decode_pre_key_message, encode_message_head,
    encode_pre_key_head, message_len, pre_key_message_len,
};
use super::{MessageType, SessionId};

/// The HKDF `info` that expands a message key into AES key, HMAC key and IV.
const OLM_KEYS_INFO: &[u8] = b"OLM_KEYS";

/// The ratchet an Olm session runs: Olm's suite, vodozemac's five receiving chains and 40 skipped keys
/// per chain.
pub(crate) type OlmRatchet = DoubleRatchet<OlmSuite, MAX_RECEIVER_CHAINS, OLM_MAX_SKIPPED_KEYS>;

/// The three public keys that name an Olm session: the initiator's identity key, the initiator's base key
/// and the responder's one-time (or fallback) key. Both sides know them; the session id hashes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKeys {
    /// The initiator's Curve25519 identity key (`I_A`).
    pub identity_key: Curve25519PublicKey,
    /// The initiator's base key (`E_A`).
    pub base_key: Curve25519PublicKey,
    /// The responder's one-time or fallback key (`E_B`).
    pub one_time_key: Curve25519PublicKey,
}

impl SessionKeys {
    /// The session id: SHA-256 over `I_A ‖ E_A ‖ E_B`, the same on both sides and in vodozemac.
    pub fn session_id(&self) -> SessionId {
        let mut h = Sha256::new();
        h.update(self.identity_key.as_bytes())
            .update(self.base_key.as_bytes())
            .update(self.one_time_key.as_bytes());
        SessionId(h.finalize())
    }
}

/// An Olm session between two devices.
///
/// The initiator (who created it with [`crate::olm::Account::create_outbound_session`]) sends pre-key
/// messages until it has decrypted a message from the responder. Decryption is transactional: a message
/// that fails, for whatever reason, leaves the session exactly as it was.
pub struct Session {
    pub(crate) ratchet: OlmRatchet,
    pub(crate) keys: SessionKeys,
    /// Whether a message from the peer has decrypted (the responder's is its first message).
    pub(crate) received: bool,
    /// HKDF-Extract keyed with Olm's empty salt, kept so each message skips re-keying it.
    pub(crate) kdf: HkdfSalted,
}

/// AES key, HMAC key and IV for one message: `HKDF(no salt, message key, "OLM_KEYS", 80)`.
/// `kdf` is HKDF-Extract keyed with the empty salt ([`Session::kdf`]).
fn cipher_keys(kdf: &HkdfSalted, key: &MessageKey) -> Result<CbcHmacKeys, Error> {
    let mut okm = Zeroizing::new([0u8; CbcHmacKeys::OKM_LEN]);
    kdf.extract(key.as_bytes())
        .expand(OLM_KEYS_INFO, &mut *okm)?;
    Ok(CbcHmacKeys::from_okm(&okm))
}

/// Checks the truncated HMAC of `bytes`.
fn verify_mac(keys: &CbcHmacKeys, bytes: &[u8], mac: &[u8; MAC_LEN]) -> Result<(), OlmError> {
    let mut h = HmacSha256::new(&keys.mac);
    h.update(bytes);
    h.verify_truncated(mac)
        .map_err(|_| OlmError::Authentication)
}

impl Session {
    /// The initiator's session after the triple DH: a sending chain with `ratchet_key`.
    pub(crate) fn outbound(
        secrets: OlmSharedSecrets,
        ratchet_key: Curve25519SecretKey,
        keys: SessionKeys,
    ) -> Self {
        let OlmSharedSecrets { root, chain } = secrets;
        let ratchet =
            OlmRatchet::from_sending_chain(root, ratchet_key, ChainKey::new(*chain.as_bytes(), 0));
        Self::from_parts(ratchet, keys, false)
    }

    /// The responder's session after the triple DH: a receiving chain for the initiator's first ratchet
    /// key, before its first message has been decrypted.
    pub(crate) fn inbound(
        secrets: OlmSharedSecrets,
        their_ratchet_key: Curve25519PublicKey,
        keys: SessionKeys,
    ) -> Self {
        let OlmSharedSecrets { root, chain } = secrets;
        let ratchet = OlmRatchet::from_receiving_chain(
            root,
            their_ratchet_key,
            ChainKey::new(*chain.as_bytes(), 0),
        );
        Self::from_parts(ratchet, keys, false)
    }

    pub(crate) fn from_parts(ratchet: OlmRatchet, keys: SessionKeys, received: bool) -> Self {
        Self {
            ratchet,
            keys,
            received,
            kdf: HkdfSalted::new(&[]),
        }
    }

    /// The session's id (the same on both sides).
    pub fn session_id(&self) -> SessionId {
        self.keys.session_id()
    }

    /// The keys that name this session.
    pub const fn session_keys(&self) -> SessionKeys {
        self.keys
    }

    /// Whether a message from the peer has been decrypted. Until then the initiator sends pre-key
    /// messages.
    pub const fn has_received_message(&self) -> bool {
        self.received
    }

    /// Whether the pre-key message `message` (its bytes, not base64) was sent on this session: the same
    /// identity key, base key and one-time key. Use it to route a repeated pre-key message to the
    /// session it created instead of creating another. Malformed input is simply not a match.
    pub fn matches_pre_key_message(&self, message: &[u8]) -> bool {
        decode_pre_key_message(message).is_ok_and(|p| {
            p.identity_key == self.keys.identity_key
                && p.base_key == self.keys.base_key
                && p.one_time_key == self.keys.one_time_key
        })
    }

    /// The type of the next message [`Session::encrypt_into`] writes.
    pub const fn next_message_type(&self) -> MessageType {
        if self.received {
            MessageType::Normal
        } else {
            MessageType::PreKey
        }
    }

    /// The length of the next message for a `plaintext_len`-byte plaintext.
    pub fn encrypt_len(&self, plaintext_len: usize) -> usize {
        let inner = message_len(
            self.ratchet.next_send_index(),
            aes256_cbc_padded_len(plaintext_len),
        );
        match self.next_message_type() {
            MessageType::Normal => inner,
            MessageType::PreKey => pre_key_message_len(inner),
        }
    }

    /// Encrypts `plaintext` into `out`; returns the message type (the transport's `type`) and length.
    /// A too-small `out` is [`OlmError::BufferTooSmall`] and changes nothing. No heap allocation.
    pub fn encrypt_into<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<(MessageType, usize), Error> {
        let needed = self.encrypt_len(plaintext.len());
        let out = out
            .get_mut(..needed)
            .ok_or(OlmError::BufferTooSmall { needed })?;
        let send = self.ratchet.next_send_key(rng)?;
        let keys = cipher_keys(&self.kdf, &send.message_key)?;
        let ciphertext_len = aes256_cbc_padded_len(plaintext.len());
        let inner_len = message_len(send.index, ciphertext_len);
        let message_type = self.next_message_type();

        let mut w = Writer::new(out);
        if message_type == MessageType::PreKey {
            encode_pre_key_head(
                &mut w,
                &self.keys.one_time_key,
                &self.keys.base_key,
                &self.keys.identity_key,
                inner_len,
            )?;
        }
        let inner_start = w.position();
        encode_message_head(&mut w, &send.ratchet_key, send.index, ciphertext_len)?;
        let body_start = w.position();
        let inner = out
            .get_mut(inner_start..)
            .ok_or(CodecError::UnexpectedEnd)?;
        let (head, body) = inner.split_at_mut(body_start - inner_start);
        let (ciphertext, mac_out) = body.split_at_mut(ciphertext_len);
        aes::aes256_cbc_encrypt_into(&keys.aes, &keys.iv, plaintext, ciphertext)?;
        let mut h = HmacSha256::new(&keys.mac);
        h.update(head).update(ciphertext);
        let tag = h.finalize();
        mac_out.copy_from_slice(tag.get(..MAC_LEN).ok_or(CodecError::UnexpectedEnd)?);
        Ok((message_type, needed))
    }

    /// The embedded or plain normal message of `message`, after checking a pre-key message belongs here.
    fn inner<'a>(&self, message_type: MessageType, message: &'a [u8]) -> Result<&'a [u8], Error> {
        match message_type {
            MessageType::Normal => Ok(message),
            MessageType::PreKey => {
                let p = decode_pre_key_message(message)?;
                if p.identity_key != self.keys.identity_key
                    || p.base_key != self.keys.base_key
                    || p.one_time_key != self.keys.one_time_key
                {
                    return Err(OlmError::SessionMismatch.into());
                }
                Ok(p.message)
            }
        }
    }

    /// The buffer length [`Session::decrypt_into`] needs for `message`: its ciphertext's length (the
    /// plaintext, shorter by its padding, is decrypted in place).
    pub fn decrypt_len(message_type: MessageType, message: &[u8]) -> Result<usize, Error> {
        let inner = match message_type {
            MessageType::Normal => message,
            MessageType::PreKey => decode_pre_key_message(message)?.message,
        };
        Ok(decode_message(inner)?.ciphertext.len())
    }

    /// Decrypts `message` (of the transport's `message_type`) into `out`; returns the plaintext length.
    /// No heap allocation.
    ///
    /// On any error the session is unchanged. A forged or corrupted message is
    /// [`OlmError::Authentication`]; a replayed one, or one whose key was dropped,
    /// [`RatchetError::MessageKeyNotFound`]; an index more than [`crate::limits::OLM_MAX_MESSAGE_GAP`]
    /// ahead, [`RatchetError::TooFarAhead`]; a pre-key message of another session,
    /// [`OlmError::SessionMismatch`].
    pub fn decrypt_into(
        &mut self,
        message_type: MessageType,
        message: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let inner = self.inner(message_type, message)?;
        let view = decode_message(inner)?;
        let len = self.decrypt_view(&view, out)?;
        Ok(len)
    }

    /// Decrypts a decoded normal message and commits the ratchet step only once it authenticated.
    pub(crate) fn decrypt_view(
        &mut self,
        view: &MessageView<'_>,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let index = u32::try_from(view.index).map_err(|_| RatchetError::TooFarAhead)?;
        let plan = self.ratchet.plan_receive(&view.ratchet_key, index)?;
        let keys = cipher_keys(&self.kdf, plan.message_key())?;
        verify_mac(&keys, view.authenticated, view.mac)?;
        let n = view.ciphertext.len();
        let region = out
            .get_mut(..n)
            .ok_or(OlmError::BufferTooSmall { needed: n })?;
        let len = aes::aes256_cbc_decrypt_into(&keys.aes, &keys.iv, view.ciphertext, region)
            .map_err(|_| OlmError::Authentication)?;
        self.ratchet.commit(plan);
        self.received = true;
        Ok(len)
    }

    /// [`Session::encrypt_into`], returning an [`super::OlmMessage`].
    #[cfg(feature = "alloc")]
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<super::OlmMessage, Error> {
        let mut out = alloc::vec![0u8; self.encrypt_len(plaintext.len())];
        let (message_type, n) = self.encrypt_into(rng, plaintext, &mut out)?;
        out.truncate(n);
        Ok(super::OlmMessage::new(message_type, out))
    }

    /// [`Session::decrypt_into`], returning the plaintext as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn decrypt(&mut self, message: &super::OlmMessage) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out =
            alloc::vec![0u8; Self::decrypt_len(message.message_type(), message.as_bytes())?];
        let n = self.decrypt_into(message.message_type(), message.as_bytes(), &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.session_id())
            .field("ratchet", &self.ratchet)
            .field("has_received_message", &self.received)
            .finish_non_exhaustive()
    }
}

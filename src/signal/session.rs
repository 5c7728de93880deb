//! A classic Signal session: the shared Double Ratchet with [`SignalSuite`], AES-256-CBC and an 8-byte
//! HMAC-SHA-256 over both identity keys and the message (`specs/signal.md` §4.3), and the pre-key framing
//! the initiator repeats until it hears back.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::Error;
use crate::codec::Writer;
use crate::error::{CodecError, SignalError};
use crate::limits::{MAX_RECEIVER_CHAINS, SIGNAL_MAX_SKIPPED_KEYS};
use crate::primitives::aes::CbcHmacKeys;
use crate::primitives::aes::{self, aes256_cbc_padded_len};
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::hkdf::HkdfSalted;
use crate::primitives::hmac::HmacSha256;
use crate::ratchet::{ChainKey, DoubleRatchet, MessageKey, SignalSuite};
use crate::x3dh::signal::SignalSharedSecrets;

use super::keys::encode_public_key;
use super::wire::{
    MAC_LEN, PreKeyIds, SignalMessageView, decode_pre_key_message, decode_signal_message,
    encode_pre_key_head, encode_pre_key_tail, encode_signal_message_head, pre_key_message_len,
    signal_message_len,
};

/// The HKDF `info` that expands a message key into cipher key, MAC key and IV.
const MESSAGE_KEYS_INFO: &[u8] = b"WhisperMessageKeys";

/// The ratchet a classic Signal session runs: libsignal's five receiving chains and `K` skipped keys.
pub(crate) type SignalRatchet<const K: usize> = DoubleRatchet<SignalSuite, MAX_RECEIVER_CHAINS, K>;

/// The two kinds of pairwise message, with the envelope type codes the peers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// A `PreKeySignalMessage`: type 3 in every libsignal.
    PreKey,
    /// A `SignalMessage` ("WhisperMessage"): type 2 in libsignal-protocol-java and Rust libsignal,
    /// type 1 in npm `libsignal`'s `encrypt` result.
    Whisper,
}

/// The pre-key fields the initiator repeats until a reply decrypts: the ids of the prekeys used and its
/// own registration id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingPreKey {
    pub(crate) ids: PreKeyIds,
}

/// A classic Signal session with one peer device. `K` bounds the skipped message keys kept
/// ([`SIGNAL_MAX_SKIPPED_KEYS`] by default, about 30 KiB inline: fewer than libsignal keeps, see the
/// limit's documentation).
///
/// Made by [`super::Account::create_outbound_session`] (the initiator, who sends pre-key messages until
/// it has decrypted a reply) or [`super::Account::create_inbound_session`]. Decryption is
/// transactional: a message that fails, for whatever reason, leaves the session exactly as it was.
pub struct Session<const K: usize = SIGNAL_MAX_SKIPPED_KEYS> {
    pub(crate) ratchet: SignalRatchet<K>,
    pub(crate) our_identity: Curve25519PublicKey,
    pub(crate) their_identity: Curve25519PublicKey,
    /// The initiator's base key: names the session on both sides.
    pub(crate) base_key: Curve25519PublicKey,
    /// The peer's registration id (from the bundle, or from the pre-key message).
    pub(crate) their_registration_id: u32,
    /// Set on the initiator until a message from the peer has decrypted.
    pub(crate) pending: Option<PendingPreKey>,
    /// HKDF-Extract keyed with the 32 zero bytes of salt, kept so each message skips re-keying it.
    pub(crate) kdf: HkdfSalted,
}

/// Cipher key, MAC key and IV for one message: `HKDF(0×32, message key, "WhisperMessageKeys", 80)`.
fn message_keys(kdf: &HkdfSalted, key: &MessageKey) -> Result<CbcHmacKeys, Error> {
    let mut okm = Zeroizing::new([0u8; CbcHmacKeys::OKM_LEN]);
    kdf.extract(key.as_bytes())
        .expand(MESSAGE_KEYS_INFO, &mut *okm)?;
    Ok(CbcHmacKeys::from_okm(&okm))
}

/// `HMAC-SHA-256(mac key, sender ‖ receiver ‖ version ‖ protobuf)`, with the message bytes still to be
/// added by the caller where they are not all in `authenticated`.
fn message_mac(
    keys: &CbcHmacKeys,
    sender: &Curve25519PublicKey,
    receiver: &Curve25519PublicKey,
    authenticated: &[u8],
) -> HmacSha256 {
    let mut h = HmacSha256::new(&keys.mac);
    h.update(&encode_public_key(sender))
        .update(&encode_public_key(receiver))
        .update(authenticated);
    h
}

impl<const K: usize> Session<K> {
    /// The initiator's session after X3DH: `(SPK_B, CK)` as a receiving chain; the first send derives
    /// the sending chain with a fresh ratchet key (`lsp-java` `RatchetingSession.initializeSession` as
    /// Alice, with the DH step run when the first message is sent).
    pub(crate) fn outbound(
        secrets: SignalSharedSecrets,
        their_signed_prekey: Curve25519PublicKey,
        our_identity: Curve25519PublicKey,
        their_identity: Curve25519PublicKey,
        base_key: Curve25519PublicKey,
        their_registration_id: u32,
        pending: PreKeyIds,
    ) -> Self {
        let SignalSharedSecrets { root, chain } = secrets;
        let ratchet = SignalRatchet::from_receiving_chain(
            root,
            their_signed_prekey,
            ChainKey::new(*chain.as_bytes(), 0),
        );
        Self::from_ratchet(
            ratchet,
            our_identity,
            their_identity,
            base_key,
            their_registration_id,
            Some(PendingPreKey { ids: pending }),
        )
    }

    /// The responder's session after X3DH: a sending chain `(SPK_B, CK)`, replaced by the DH step the
    /// initiator's first message triggers.
    pub(crate) fn inbound(
        secrets: SignalSharedSecrets,
        our_signed_prekey: Curve25519SecretKey,
        our_identity: Curve25519PublicKey,
        their_identity: Curve25519PublicKey,
        base_key: Curve25519PublicKey,
        their_registration_id: u32,
    ) -> Self {
        let SignalSharedSecrets { root, chain } = secrets;
        let ratchet = SignalRatchet::from_sending_chain(
            root,
            our_signed_prekey,
            ChainKey::new(*chain.as_bytes(), 0),
        );
        Self::from_ratchet(
            ratchet,
            our_identity,
            their_identity,
            base_key,
            their_registration_id,
            None,
        )
    }

    /// A session around its ratchet (new from either side, or from a pickle).
    pub(crate) fn from_ratchet(
        ratchet: SignalRatchet<K>,
        our_identity: Curve25519PublicKey,
        their_identity: Curve25519PublicKey,
        base_key: Curve25519PublicKey,
        their_registration_id: u32,
        pending: Option<PendingPreKey>,
    ) -> Self {
        Self {
            ratchet,
            our_identity,
            their_identity,
            base_key,
            their_registration_id,
            pending,
            kdf: HkdfSalted::new(&[0u8; 32]),
        }
    }

    /// The peer's identity key. Check it against the one you trust for this contact (libsignal's
    /// `isTrustedIdentity`) before trusting what the session says.
    pub const fn their_identity_key(&self) -> Curve25519PublicKey {
        self.their_identity
    }

    /// Our identity key.
    pub const fn our_identity_key(&self) -> Curve25519PublicKey {
        self.our_identity
    }

    /// The initiator's base key, which names this session on both sides.
    pub const fn base_key(&self) -> Curve25519PublicKey {
        self.base_key
    }

    /// The peer's registration id: from its bundle (initiator) or its pre-key message (responder).
    pub const fn their_registration_id(&self) -> u32 {
        self.their_registration_id
    }

    /// Whether a message from the peer has been decrypted. Until then the initiator sends pre-key
    /// messages.
    pub const fn has_received_message(&self) -> bool {
        self.pending.is_none()
    }

    /// The type of the next message [`Session::encrypt_into`] writes.
    pub const fn next_message_type(&self) -> MessageType {
        if self.pending.is_some() {
            MessageType::PreKey
        } else {
            MessageType::Whisper
        }
    }

    /// The `previousCounter` the next message carries: libsignal's index of the last message of our
    /// previous sending chain (`max(count − 1, 0)`), not the Double Ratchet specification's count.
    fn wire_previous_counter(&self) -> u32 {
        self.ratchet.previous_counter().saturating_sub(1)
    }

    /// The length of the next message for a `plaintext_len`-byte plaintext.
    pub fn encrypt_len(&self, plaintext_len: usize) -> usize {
        let inner = signal_message_len(
            self.ratchet.next_send_index(),
            self.wire_previous_counter(),
            aes256_cbc_padded_len(plaintext_len),
        );
        match &self.pending {
            None => inner,
            Some(p) => pre_key_message_len(&p.ids, inner),
        }
    }

    /// Encrypts `plaintext` into `out`; returns the message type and length. A too-small `out` is
    /// [`SignalError::BufferTooSmall`] and changes nothing. No heap allocation.
    pub fn encrypt_into<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<(MessageType, usize), Error> {
        let needed = self.encrypt_len(plaintext.len());
        let out = out
            .get_mut(..needed)
            .ok_or(SignalError::BufferTooSmall { needed })?;
        let previous_counter = self.wire_previous_counter();
        let send = self.ratchet.next_send_key(rng)?;
        let keys = message_keys(&self.kdf, &send.message_key)?;
        let ciphertext_len = aes256_cbc_padded_len(plaintext.len());
        let inner_len = signal_message_len(send.index, previous_counter, ciphertext_len);

        let mut w = Writer::new(out);
        if let Some(p) = &self.pending {
            encode_pre_key_head(
                &mut w,
                &p.ids,
                &self.base_key,
                &self.our_identity,
                inner_len,
            )?;
        }
        let inner_start = w.position();
        encode_signal_message_head(
            &mut w,
            &send.ratchet_key,
            send.index,
            previous_counter,
            ciphertext_len,
        )?;
        let body_start = w.position();
        let inner = out
            .get_mut(inner_start..)
            .ok_or(CodecError::UnexpectedEnd)?;
        let (head, body) = inner
            .split_at_mut_checked(body_start - inner_start)
            .ok_or(CodecError::UnexpectedEnd)?;
        let (ciphertext, rest) = body
            .split_at_mut_checked(ciphertext_len)
            .ok_or(CodecError::UnexpectedEnd)?;
        aes::aes256_cbc_encrypt_into(&keys.aes, &keys.iv, plaintext, ciphertext)?;
        let mut h = message_mac(&keys, &self.our_identity, &self.their_identity, head);
        h.update(ciphertext);
        let tag = h.finalize();
        let (mac_out, tail) = rest
            .split_at_mut_checked(MAC_LEN)
            .ok_or(CodecError::UnexpectedEnd)?;
        mac_out.copy_from_slice(tag.get(..MAC_LEN).ok_or(CodecError::UnexpectedEnd)?);
        let message_type = self.next_message_type();
        if let Some(p) = &self.pending {
            encode_pre_key_tail(&mut Writer::new(tail), &p.ids)?;
        }
        Ok((message_type, needed))
    }

    /// Whether the pre-key message `message` was sent on this session (the same identity and base
    /// key): route a repeated pre-key message here instead of creating another session. Malformed
    /// input is simply not a match.
    pub fn matches_pre_key_message(&self, message: &[u8]) -> bool {
        decode_pre_key_message(message)
            .is_ok_and(|p| p.identity_key == self.their_identity && p.base_key == self.base_key)
    }

    /// The buffer length [`Session::decrypt_into`] needs for `message`: its ciphertext's length (the
    /// plaintext is shorter by its padding).
    pub fn decrypt_len(message_type: MessageType, message: &[u8]) -> Result<usize, Error> {
        Ok(match message_type {
            MessageType::Whisper => decode_signal_message(message)?.ciphertext.len(),
            MessageType::PreKey => decode_pre_key_message(message)?.message.ciphertext.len(),
        })
    }

    /// Decrypts `message` (of the transport's `message_type`) into `out`; returns the plaintext length.
    /// No heap allocation.
    ///
    /// On any error the session is unchanged. A forged or corrupted message is
    /// [`SignalError::Authentication`]; a replayed one, or one whose key was dropped,
    /// [`crate::RatchetError::MessageKeyNotFound`]; a counter more than
    /// [`crate::limits::SIGNAL_MAX_MESSAGE_GAP`] ahead, [`crate::RatchetError::TooFarAhead`]; a pre-key message
    /// of another session, [`SignalError::SessionMismatch`].
    pub fn decrypt_into(
        &mut self,
        message_type: MessageType,
        message: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let view = match message_type {
            MessageType::Whisper => decode_signal_message(message)?,
            MessageType::PreKey => {
                let p = decode_pre_key_message(message)?;
                if p.identity_key != self.their_identity || p.base_key != self.base_key {
                    return Err(SignalError::SessionMismatch.into());
                }
                p.message
            }
        };
        self.decrypt_view(&view, out)
    }

    /// Decrypts a decoded message and commits the ratchet step only once it authenticated.
    pub(crate) fn decrypt_view(
        &mut self,
        view: &SignalMessageView<'_>,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let plan = self.ratchet.plan_receive(&view.ratchet_key, view.counter)?;
        let keys = message_keys(&self.kdf, plan.message_key())?;
        message_mac(
            &keys,
            &self.their_identity,
            &self.our_identity,
            view.authenticated,
        )
        .verify_truncated(view.mac)
        .map_err(|_| SignalError::Authentication)?;
        let n = view.ciphertext.len();
        let region = out
            .get_mut(..n)
            .ok_or(SignalError::BufferTooSmall { needed: n })?;
        let len = aes::aes256_cbc_decrypt_into(&keys.aes, &keys.iv, view.ciphertext, region)
            .map_err(|_| SignalError::Authentication)?;
        self.ratchet.commit(plan);
        self.pending = None;
        Ok(len)
    }

    /// The number of receiving chains kept.
    pub fn receiving_chains(&self) -> usize {
        self.ratchet.receiving_chains()
    }

    /// The number of skipped message keys stored.
    pub fn skipped_keys(&self) -> usize {
        self.ratchet.skipped_keys()
    }

    /// [`Session::encrypt_into`], returning the message type and bytes.
    #[cfg(feature = "alloc")]
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<(MessageType, alloc::vec::Vec<u8>), Error> {
        let mut out = alloc::vec![0u8; self.encrypt_len(plaintext.len())];
        let (message_type, n) = self.encrypt_into(rng, plaintext, &mut out)?;
        out.truncate(n);
        Ok((message_type, out))
    }

    /// [`Session::decrypt_into`], returning the plaintext as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn decrypt(
        &mut self,
        message_type: MessageType,
        message: &[u8],
    ) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out = alloc::vec![0u8; Self::decrypt_len(message_type, message)?];
        let n = self.decrypt_into(message_type, message, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

impl<const K: usize> fmt::Debug for Session<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("their_identity", &self.their_identity)
            .field("base_key", &self.base_key)
            .field("their_registration_id", &self.their_registration_id)
            .field("ratchet", &self.ratchet)
            .field("has_received_message", &self.has_received_message())
            .finish_non_exhaustive()
    }
}

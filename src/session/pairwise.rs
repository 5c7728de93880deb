//! A native-profile session between two devices.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::Error;
use crate::codec::Writer;
use crate::error::{CodecError, SessionError};
use crate::primitives::aead::{self, TAG_LEN, XNONCE_LEN};
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::hash::Sha256;
use crate::primitives::hkdf::hkdf_sha256;
use crate::ratchet::{DoubleRatchet, MessageKey, NativeSuite};
use crate::x3dh::native::AD_LEN;

use super::wire::{
    HEADER_LEN, Header, MESSAGE_HE_PREFIX_LEN, MESSAGE_PREFIX_LEN, PRE_KEY_PREFIX_LEN, Parsed,
    PreKeyHeader, VERSION, is_pre_key_message, kind, parse_message, parse_pre_key,
};

/// The HKDF `info` that expands a message key into a ChaCha20-Poly1305 key and nonce.
const MESSAGE_KEYS_INFO: &[u8] = b"safemeet native v1 message keys";

/// Options chosen when a session is created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionConfig {
    /// Encrypt message headers (Double Ratchet spec §4), so an observer cannot link messages to a
    /// ratchet key or see message numbers. Costs 80 bytes per message and a few AEAD trials on receipt.
    pub header_encryption: bool,
}

impl SessionConfig {
    /// Headers in the clear (the default).
    pub const fn plain() -> Self {
        Self {
            header_encryption: false,
        }
    }

    /// Encrypted headers.
    pub const fn with_header_encryption() -> Self {
        Self {
            header_encryption: true,
        }
    }
}

/// A Double Ratchet session in the native profile.
///
/// The initiator keeps sending pre-key messages (which carry the X3DH header) until it has decrypted a
/// message from the responder. Decryption is transactional: a message that fails leaves the session
/// exactly as it was.
pub struct Session {
    pub(crate) ratchet: DoubleRatchet<NativeSuite>,
    pub(crate) associated_data: [u8; AD_LEN],
    /// The X3DH header to repeat until the first reply (initiator only).
    pub(crate) pre_key: Option<PreKeyHeader>,
    /// The initiator's identity key and base key: they name the session.
    pub(crate) initiator_identity: Curve25519PublicKey,
    pub(crate) base_key: Curve25519PublicKey,
}

impl Session {
    pub(crate) fn new(
        ratchet: DoubleRatchet<NativeSuite>,
        associated_data: [u8; AD_LEN],
        pre_key: Option<PreKeyHeader>,
    ) -> Self {
        let (initiator_identity, base_key) = pre_key.as_ref().map_or(
            (
                Curve25519PublicKey::from_bytes([0; 32]),
                Curve25519PublicKey::from_bytes([0; 32]),
            ),
            |p| (p.identity, p.base_key),
        );
        Self {
            ratchet,
            associated_data,
            pre_key,
            initiator_identity,
            base_key,
        }
    }

    pub(crate) fn set_initiator(
        &mut self,
        identity: Curve25519PublicKey,
        base_key: Curve25519PublicKey,
    ) {
        self.initiator_identity = identity;
        self.base_key = base_key;
    }

    /// The session's id: SHA-256 over the X3DH associated data (both identities) and the initiator's
    /// base key. Both sides compute the same id.
    pub fn session_id(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(&self.associated_data)
            .update(self.base_key.as_bytes());
        h.finalize()
    }

    /// Whether this session encrypts its headers.
    pub const fn has_header_encryption(&self) -> bool {
        self.ratchet.has_header_encryption()
    }

    /// Whether the next message will still be a pre-key message (we started the session and have not
    /// yet decrypted a reply).
    pub const fn sends_pre_key_messages(&self) -> bool {
        self.pre_key.is_some()
    }

    /// Whether `message` is a pre-key message that belongs to this session (same initiator identity and
    /// base key), for routing repeated first messages to an existing session.
    pub fn matches_pre_key_message(&self, message: &[u8]) -> bool {
        parse_pre_key(message).is_ok_and(|(p, _, _)| {
            p.identity == self.initiator_identity && p.base_key == self.base_key
        })
    }

    /// The length of the message [`Session::encrypt_into`] writes for a `plaintext_len`-byte plaintext.
    pub const fn encrypt_len(&self, plaintext_len: usize) -> usize {
        let prefix = if self.pre_key.is_some() {
            PRE_KEY_PREFIX_LEN
        } else {
            0
        };
        let header = if self.ratchet.has_header_encryption() {
            MESSAGE_HE_PREFIX_LEN
        } else {
            MESSAGE_PREFIX_LEN
        };
        prefix + header + plaintext_len + TAG_LEN
    }

    /// Encrypts `plaintext` into `out` and returns the message length. A too-small `out` is
    /// [`SessionError::BufferTooSmall`] and changes nothing. Performs no heap allocation.
    pub fn encrypt_into<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let needed = self.encrypt_len(plaintext.len());
        let out = out
            .get_mut(..needed)
            .ok_or(SessionError::BufferTooSmall { needed })?;
        let send = self.ratchet.next_send_key(rng)?;
        let header = Header {
            ratchet_key: send.ratchet_key,
            previous_counter: send.previous_counter,
            index: send.index,
        }
        .encode();

        let mut w = Writer::new(out);
        if let Some(pre_key) = &self.pre_key {
            pre_key.encode_into(send.header_key.is_some(), &mut w)?;
        }
        w.write_u8(VERSION)?;
        match &send.header_key {
            None => {
                w.write_u8(kind::MESSAGE)?;
                w.write_bytes(&header)?;
            }
            Some(header_key) => {
                let mut nonce = [0u8; XNONCE_LEN];
                rng.fill_bytes(&mut nonce);
                let mut sealed = header;
                let tag = aead::xseal_in_place_detached(
                    header_key.as_bytes(),
                    &nonce,
                    &[VERSION, kind::MESSAGE_HE],
                    &mut sealed,
                )?;
                w.write_u8(kind::MESSAGE_HE)?;
                w.write_bytes(&nonce)?;
                w.write_bytes(&sealed)?;
                w.write_bytes(&tag)?;
            }
        }
        let body_start = w.position();

        // Everything before the ciphertext, the pre-key part included, is associated data.
        let (head, body) = out.split_at_mut(body_start);
        let (ciphertext, tag_out) = body.split_at_mut(plaintext.len());
        ciphertext.copy_from_slice(plaintext);
        let tag = self.seal(&send.message_key, head, ciphertext)?;
        tag_out.copy_from_slice(&tag);
        Ok(needed)
    }

    /// The plaintext length of `message` (pre-key or not), for sizing [`Session::decrypt_into`]'s
    /// buffer.
    pub fn decrypt_len(message: &[u8]) -> Result<usize, Error> {
        let inner = if is_pre_key_message(message) {
            parse_pre_key(message)?.2
        } else {
            message
        };
        let body = match parse_message(inner)? {
            Parsed::Message { body, .. } | Parsed::MessageHe { body, .. } => body,
        };
        Ok(body.len() - TAG_LEN)
    }

    /// Decrypts `message` into `out` and returns the plaintext length. Performs no heap allocation.
    ///
    /// On any error the session is unchanged. A forged or corrupted message is
    /// [`SessionError::Authentication`]; a message whose key was already used (a replay) or dropped is
    /// [`crate::RatchetError::MessageKeyNotFound`]. A message from a receiving chain that is no longer
    /// kept (older than [`crate::limits::MAX_RECEIVER_CHAINS`] ratchet steps) cannot be told from a new
    /// chain: it fails with [`SessionError::Authentication`], or with
    /// [`crate::RatchetError::UnexpectedRatchetKey`] when we have not sent since our last ratchet step.
    pub fn decrypt_into(&mut self, message: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        let pre_key_len = if is_pre_key_message(message) {
            let (pre_key, _, inner) = parse_pre_key(message)?;
            if pre_key.identity != self.initiator_identity || pre_key.base_key != self.base_key {
                return Err(SessionError::SessionMismatch.into());
            }
            message.len() - inner.len()
        } else {
            0
        };
        self.decrypt_message_into(message, pre_key_len, out)
    }

    /// Decrypts the message embedded at `pre_key_len` in `message` (0 for a normal message). Every byte
    /// before the ciphertext, the pre-key part included, is authenticated as associated data.
    pub(crate) fn decrypt_message_into(
        &mut self,
        message: &[u8],
        pre_key_len: usize,
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let (pre_key_part, inner) = message
            .split_at_checked(pre_key_len)
            .ok_or(CodecError::UnexpectedEnd)?;
        let parsed = parse_message(inner)?;
        if parsed.is_header_encrypted() != self.ratchet.has_header_encryption() {
            return Err(SessionError::UnknownMessageType.into());
        }
        let (prefix, header, body) = match parsed {
            Parsed::Message {
                prefix,
                header,
                body,
            } => (prefix, header, body),
            Parsed::MessageHe {
                prefix,
                nonce,
                sealed_header,
                header_tag,
                body,
            } => (
                prefix,
                self.open_header(nonce, sealed_header, header_tag)?,
                body,
            ),
        };
        let body_len = body.len() - TAG_LEN;
        let (ciphertext, tag) = body.split_at(body_len);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| SessionError::Authentication)?;
        let out = out
            .get_mut(..body_len)
            .ok_or(SessionError::BufferTooSmall { needed: body_len })?;

        let plan = self
            .ratchet
            .plan_receive(&header.ratchet_key, header.index)?;
        out.copy_from_slice(ciphertext);
        if self
            .open(plan.message_key(), pre_key_part, prefix, out, tag)
            .is_err()
        {
            out.fill(0);
            return Err(SessionError::Authentication.into());
        }
        self.ratchet.commit(plan);
        // The peer has the session now: stop repeating the X3DH header.
        self.pre_key = None;
        Ok(body_len)
    }

    /// Opens an encrypted header with the first header key that fits.
    fn open_header(
        &self,
        nonce: &[u8; XNONCE_LEN],
        sealed: &[u8; HEADER_LEN],
        tag: &[u8; TAG_LEN],
    ) -> Result<Header, Error> {
        for (source, key) in self.ratchet.header_keys() {
            let mut buf = Zeroizing::new(*sealed);
            if aead::xopen_in_place_detached(
                key,
                nonce,
                &[VERSION, kind::MESSAGE_HE],
                &mut *buf,
                tag,
            )
            .is_ok()
            {
                let header = Header::decode(&*buf)?;
                if !self
                    .ratchet
                    .header_source_matches(source, &header.ratchet_key)
                {
                    return Err(SessionError::Authentication.into());
                }
                return Ok(header);
            }
        }
        Err(SessionError::Authentication.into())
    }

    /// The ChaCha20-Poly1305 key and nonce for a message key: 44 bytes of HKDF output.
    fn message_cipher_keys(key: &MessageKey) -> Result<CipherKeys, Error> {
        let mut okm = Zeroizing::new([0u8; 44]);
        hkdf_sha256(&[], key.as_bytes(), MESSAGE_KEYS_INFO, &mut *okm)?;
        let mut keys = CipherKeys {
            key: [0; 32],
            nonce: [0; 12],
        };
        let (k, n) = okm.split_at(32);
        keys.key.copy_from_slice(k);
        keys.nonce.copy_from_slice(n);
        Ok(keys)
    }

    /// The associated data of a message body: the X3DH associated data, then every message byte before
    /// the ciphertext (`pre_key_part`, empty for a normal message, then the embedded message's prefix).
    fn body_aad(&self, pre_key_part: &[u8], prefix: &[u8]) -> Result<BodyAad, Error> {
        let mut aad = BodyAad {
            bytes: [0u8; BODY_AAD_MAX],
            len: AD_LEN + pre_key_part.len() + prefix.len(),
        };
        let region = aad
            .bytes
            .get_mut(..aad.len)
            .ok_or(SessionError::UnknownMessageType)?;
        let (ad, rest) = region.split_at_mut(AD_LEN);
        let (p, m) = rest.split_at_mut(pre_key_part.len());
        ad.copy_from_slice(&self.associated_data);
        p.copy_from_slice(pre_key_part);
        m.copy_from_slice(prefix);
        Ok(aad)
    }

    fn seal(&self, key: &MessageKey, head: &[u8], buf: &mut [u8]) -> Result<[u8; TAG_LEN], Error> {
        let keys = Self::message_cipher_keys(key)?;
        let aad = self.body_aad(&[], head)?;
        Ok(aead::seal_in_place_detached(
            &keys.key,
            &keys.nonce,
            aad.as_slice(),
            buf,
        )?)
    }

    fn open(
        &self,
        key: &MessageKey,
        pre_key_part: &[u8],
        prefix: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Error> {
        let keys = Self::message_cipher_keys(key)?;
        let aad = self.body_aad(pre_key_part, prefix)?;
        aead::open_in_place_detached(&keys.key, &keys.nonce, aad.as_slice(), buf, tag)?;
        Ok(())
    }

    /// [`Session::encrypt_into`], returning the message as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out = alloc::vec![0u8; self.encrypt_len(plaintext.len())];
        let n = self.encrypt_into(rng, plaintext, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// [`Session::decrypt_into`], returning the plaintext as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn decrypt(&mut self, message: &[u8]) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out = alloc::vec![0u8; Self::decrypt_len(message)?];
        let n = self.decrypt_into(message, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

/// The longest body associated data: the X3DH associated data, a pre-key part and a header-encrypted
/// message prefix.
const BODY_AAD_MAX: usize = AD_LEN + PRE_KEY_PREFIX_LEN + MESSAGE_HE_PREFIX_LEN;

/// A message body's associated data, on the stack.
struct BodyAad {
    bytes: [u8; BODY_AAD_MAX],
    len: usize,
}

impl BodyAad {
    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// A message's ChaCha20-Poly1305 key and nonce. Zeroized on drop.
#[derive(zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
struct CipherKeys {
    key: [u8; 32],
    nonce: [u8; 12],
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("ratchet", &self.ratchet)
            .field("sends_pre_key_messages", &self.sends_pre_key_messages())
            .finish_non_exhaustive()
    }
}

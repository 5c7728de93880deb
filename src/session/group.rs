//! Native-profile sender keys: group messages over the Megolm ratchet ([`crate::group::Ratchet`]),
//! sealed with ChaCha20-Poly1305 and signed with Ed25519.
//!
//! A sender creates a [`GroupSession`], sends its signed [`SenderKey`] to each member over a pairwise
//! [`crate::session::Session`], and encrypts each group message once. Members build an
//! [`InboundGroupSession`] from the key (or from an unsigned [`ExportedSenderKey`]) and decrypt any
//! message at or after its index, in any order. The session id is the signing key's 32 bytes.
//!
//! # Wire format (version 1)
//!
//! ```text
//! message     = 0x01 0x10 index[4] ciphertext‖tag[16] signature[64]
//! sender key  = 0x01 0x11 index[4] ratchet[128] signing_key[32] signature[64]
//! export      = 0x01 0x12 index[4] ratchet[128] signing_key[32]
//! ```
//!
//! Integers are big-endian. The message key and nonce are the 44 bytes of
//! `HKDF-SHA-256(salt = none, ikm = ratchet bytes at the index, info = "safemeet native group v1
//! message keys")`; the AEAD's associated data is the signing key followed by the six header bytes.
//! The signature (by the session's signing key) covers every byte before it; a sender key's signature
//! covers its first 165 bytes. The type bytes keep signatures over the two kinds apart, and apart
//! from the pairwise types (0x01–0x04).
//!
//! A receiver checks the signature first (with the public key only), then derives the ratchet for the
//! index, then opens the AEAD; failure changes nothing.
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::session::group::{GroupSession, InboundGroupSession, SenderKey};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([8; 32]);
//! let mut sender = GroupSession::new(&mut rng);
//! let mut key = [0u8; safemeet::session::group::SENDER_KEY_LEN];
//! sender.sender_key().encode_into(&mut key)?;
//! let mut member = InboundGroupSession::new(&SenderKey::decode(&key)?);
//!
//! let mut message = [0u8; 128];
//! let n = sender.encrypt_into(b"hello group", &mut message)?;
//! let mut plaintext = [0u8; 32];
//! let got = member.decrypt_into(&message[..n], &mut plaintext)?;
//! assert_eq!(&plaintext[..got.plaintext_len], b"hello group");
//! assert_eq!(got.message_index, 0);
//! # Ok::<(), safemeet::Error>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::{CodecError, GroupError};
use crate::group::{RATCHET_LEN, Ratchet, Receiver};
use crate::primitives::aead::{self, TAG_LEN};
use crate::primitives::ed25519::{
    Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature, SIGNATURE_LEN,
};
use crate::primitives::hkdf::hkdf_sha256;

pub use crate::megolm::Decrypted;

/// The format version.
pub const VERSION: u8 = 0x01;
/// Type bytes.
mod kind {
    pub(super) const MESSAGE: u8 = 0x10;
    pub(super) const SENDER_KEY: u8 = 0x11;
    pub(super) const EXPORT: u8 = 0x12;
}
/// The HKDF `info` for message keys.
const MESSAGE_KEYS_INFO: &[u8] = b"safemeet native group v1 message keys";
/// Version, type and index.
const HEADER_LEN: usize = 2 + 4;
/// Bytes a message adds to its plaintext.
pub const MESSAGE_OVERHEAD: usize = HEADER_LEN + TAG_LEN + SIGNATURE_LEN;
/// The length of an unsigned export.
pub const EXPORT_LEN: usize = HEADER_LEN + RATCHET_LEN + 32;
/// The length of a signed sender key.
pub const SENDER_KEY_LEN: usize = EXPORT_LEN + SIGNATURE_LEN;

/// A message's ChaCha20-Poly1305 key and nonce.
#[derive(Zeroize, ZeroizeOnDrop)]
struct MessageKeys {
    key: [u8; 32],
    nonce: [u8; 12],
}

impl MessageKeys {
    fn derive(ratchet: &Ratchet) -> Result<Self, Error> {
        let mut okm = Zeroizing::new([0u8; 44]);
        hkdf_sha256(&[], ratchet.secret_bytes(), MESSAGE_KEYS_INFO, &mut *okm)?;
        let mut keys = Self {
            key: [0; 32],
            nonce: [0; 12],
        };
        let (k, n) = okm.split_at(32);
        keys.key.copy_from_slice(k);
        keys.nonce.copy_from_slice(n);
        Ok(keys)
    }
}

/// The AEAD's associated data: signing key, then header.
fn aad(signing_key: &Ed25519PublicKey, header: &[u8]) -> [u8; 32 + HEADER_LEN] {
    let mut out = [0u8; 32 + HEADER_LEN];
    let (k, h) = out.split_at_mut(32);
    k.copy_from_slice(signing_key.as_bytes());
    if let Some(h) = h.get_mut(..header.len()) {
        h.copy_from_slice(header);
    }
    out
}

/// A parsed group message, borrowing from its bytes. Nothing in it is authenticated yet.
#[derive(Debug, Clone, Copy)]
pub struct GroupMessage<'a> {
    index: u32,
    header: &'a [u8],
    ciphertext: &'a [u8],
    tag: [u8; TAG_LEN],
    signed: &'a [u8],
    signature: Ed25519Signature,
}

impl<'a> GroupMessage<'a> {
    /// Parses a group message.
    ///
    /// # Errors
    /// [`GroupError::UnsupportedVersion`] for another version or type byte, a [`CodecError`] if too
    /// short.
    pub fn parse(message: &'a [u8]) -> Result<Self, Error> {
        let mut r = Reader::new(message);
        if r.read_u8()? != VERSION || r.read_u8()? != kind::MESSAGE {
            return Err(GroupError::UnsupportedVersion.into());
        }
        let index = r.read_u32_be()?;
        let header = r.consumed();
        let body_len = r
            .remaining()
            .checked_sub(TAG_LEN + SIGNATURE_LEN)
            .ok_or(CodecError::UnexpectedEnd)?;
        let ciphertext = r.read_bytes(body_len)?;
        let tag = r.read_array::<TAG_LEN>()?;
        let signed = r.consumed();
        let signature = Ed25519Signature::from_bytes(r.read_array()?);
        r.finish()?;
        Ok(Self {
            index,
            header,
            ciphertext,
            tag,
            signed,
            signature,
        })
    }

    /// The message index.
    pub const fn index(&self) -> u32 {
        self.index
    }

    /// The ciphertext (without the tag).
    pub const fn ciphertext(&self) -> &'a [u8] {
        self.ciphertext
    }
}

/// Writes `version kind index ratchet signing_key`.
fn write_key_body(
    w: &mut Writer<'_>,
    kind: u8,
    ratchet: &Ratchet,
    key: &Ed25519PublicKey,
) -> Result<(), CodecError> {
    w.write_u8(VERSION)?;
    w.write_u8(kind)?;
    w.write_u32_be(ratchet.index())?;
    w.write_bytes(ratchet.secret_bytes())?;
    w.write_bytes(key.as_bytes())
}

fn read_key_body(r: &mut Reader<'_>, kind: u8) -> Result<(Ratchet, Ed25519PublicKey), Error> {
    if r.read_u8()? != VERSION || r.read_u8()? != kind {
        return Err(GroupError::UnsupportedVersion.into());
    }
    let index = r.read_u32_be()?;
    let bytes = Zeroizing::new(r.read_array::<RATCHET_LEN>()?);
    let key = Ed25519PublicKey::from_bytes(&r.read_array()?)?;
    Ok((Ratchet::from_parts(&bytes, index), key))
}

fn write_exact<const N: usize>(
    out: &mut [u8],
    f: impl FnOnce(&mut Writer<'_>) -> Result<(), CodecError>,
) -> Result<usize, Error> {
    let out = out
        .get_mut(..N)
        .ok_or(GroupError::BufferTooSmall { needed: N })?;
    let mut w = Writer::new(out);
    f(&mut w)?;
    Ok(N)
}

/// A signed sender key: what a member needs to read a sender's group messages from its index on.
/// Secret: zeroized on drop, never printed.
pub struct SenderKey {
    ratchet: Ratchet,
    signing_key: Ed25519PublicKey,
    signature: Ed25519Signature,
}

impl SenderKey {
    /// Decodes a sender key and verifies its signature.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let (ratchet, signing_key) = read_key_body(&mut r, kind::SENDER_KEY)?;
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

    /// Writes the [`SENDER_KEY_LEN`] bytes into `out`.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        write_exact::<SENDER_KEY_LEN>(out, |w| {
            write_key_body(w, kind::SENDER_KEY, &self.ratchet, &self.signing_key)?;
            w.write_bytes(self.signature.as_bytes())
        })
    }

    /// The index the key starts at.
    pub const fn index(&self) -> u32 {
        self.ratchet.index()
    }

    /// The session id: the signing key.
    pub const fn session_id(&self) -> &Ed25519PublicKey {
        &self.signing_key
    }
}

impl fmt::Debug for SenderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderKey")
            .field("index", &self.index())
            .field("session_id", &self.signing_key)
            .finish_non_exhaustive()
    }
}

/// An unsigned sender-key export (for backups and forwarding); a session from it is unverified.
pub struct ExportedSenderKey {
    ratchet: Ratchet,
    signing_key: Ed25519PublicKey,
}

impl ExportedSenderKey {
    /// Decodes an export.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let (ratchet, signing_key) = read_key_body(&mut r, kind::EXPORT)?;
        r.finish()?;
        Ok(Self {
            ratchet,
            signing_key,
        })
    }

    /// Writes the [`EXPORT_LEN`] bytes into `out`.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        write_exact::<EXPORT_LEN>(out, |w| {
            write_key_body(w, kind::EXPORT, &self.ratchet, &self.signing_key)
        })
    }

    /// The index the export starts at.
    pub const fn index(&self) -> u32 {
        self.ratchet.index()
    }
}

impl fmt::Debug for ExportedSenderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportedSenderKey")
            .field("index", &self.index())
            .field("session_id", &self.signing_key)
            .finish_non_exhaustive()
    }
}

/// The sending side of a native group session. Not `Clone`.
pub struct GroupSession {
    pub(crate) ratchet: Ratchet,
    pub(crate) signing: Ed25519SecretKey,
}

impl GroupSession {
    /// A new session: 128 random ratchet bytes, then a random signing key.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let ratchet = Ratchet::new(rng);
        let signing = Ed25519SecretKey::generate(rng);
        Self { ratchet, signing }
    }

    /// A session from explicit state (known-answer tests, migrations).
    #[cfg(feature = "hazmat")]
    pub fn from_parts(ratchet: &[u8; RATCHET_LEN], index: u32, signing_seed: &[u8; 32]) -> Self {
        Self {
            ratchet: Ratchet::from_parts(ratchet, index),
            signing: Ed25519SecretKey::from_seed(signing_seed),
        }
    }

    /// The session id: the public signing key.
    pub fn session_id(&self) -> Ed25519PublicKey {
        self.signing.public_key()
    }

    /// The index of the next message.
    pub const fn message_index(&self) -> u32 {
        self.ratchet.index()
    }

    /// The signed sender key at the current index.
    pub fn sender_key(&self) -> SenderKey {
        let signing_key = self.signing.public_key();
        let mut body = Zeroizing::new([0u8; EXPORT_LEN]);
        let mut w = Writer::new(&mut *body);
        // Exactly sized: cannot fail.
        let _ = write_key_body(&mut w, kind::SENDER_KEY, &self.ratchet, &signing_key);
        SenderKey {
            ratchet: self.ratchet.duplicate(),
            signing_key,
            signature: self.signing.sign(&*body),
        }
    }

    /// The message length for `plaintext_len` bytes.
    pub const fn encrypt_len(plaintext_len: usize) -> usize {
        plaintext_len + MESSAGE_OVERHEAD
    }

    /// Encrypts `plaintext` into `out`; returns the message length. A too-small `out` is
    /// [`GroupError::BufferTooSmall`] and changes nothing; no heap allocation.
    pub fn encrypt_into(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        let index = self.ratchet.index();
        if index == u32::MAX {
            return Err(GroupError::Exhausted.into());
        }
        let needed = Self::encrypt_len(plaintext.len());
        let out = out
            .get_mut(..needed)
            .ok_or(GroupError::BufferTooSmall { needed })?;
        let keys = MessageKeys::derive(&self.ratchet)?;
        let signing_key = self.signing.public_key();
        let (header, rest) = out.split_at_mut(HEADER_LEN);
        let mut w = Writer::new(header);
        w.write_u8(VERSION)?;
        w.write_u8(kind::MESSAGE)?;
        w.write_u32_be(index)?;
        let (ct, rest) = rest.split_at_mut(plaintext.len());
        ct.copy_from_slice(plaintext);
        let tag =
            aead::seal_in_place_detached(&keys.key, &keys.nonce, &aad(&signing_key, header), ct)?;
        if let Some(t) = rest.get_mut(..TAG_LEN) {
            t.copy_from_slice(&tag);
        }
        let (signed, sig) = out.split_at_mut(needed - SIGNATURE_LEN);
        sig.copy_from_slice(self.signing.sign(signed).as_bytes());
        self.ratchet.advance();
        Ok(needed)
    }

    /// [`GroupSession::encrypt_into`] into a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out = alloc::vec![0u8; Self::encrypt_len(plaintext.len())];
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

/// The receiving side of a native group session.
pub struct InboundGroupSession {
    pub(crate) state: Receiver,
    pub(crate) signing_key: Ed25519PublicKey,
    pub(crate) verified: bool,
}

impl InboundGroupSession {
    /// From a signed sender key (verified).
    pub fn new(key: &SenderKey) -> Self {
        Self::from_ratchet(&key.ratchet, key.signing_key, true)
    }

    /// From an unsigned export (not verified).
    pub fn import(key: &ExportedSenderKey) -> Self {
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

    /// A session from explicit state (known-answer tests, migrations).
    #[cfg(feature = "hazmat")]
    pub fn from_parts(
        ratchet: &[u8; RATCHET_LEN],
        index: u32,
        signing_key: Ed25519PublicKey,
        verified: bool,
    ) -> Self {
        Self::from_ratchet(&Ratchet::from_parts(ratchet, index), signing_key, verified)
    }

    /// The session id: the sender's signing key.
    pub const fn session_id(&self) -> &Ed25519PublicKey {
        &self.signing_key
    }

    /// The lowest index this session can decrypt.
    pub const fn first_known_index(&self) -> u32 {
        self.state.first_known_index()
    }

    /// Whether the session came from a signed sender key.
    pub const fn is_verified(&self) -> bool {
        self.verified
    }

    /// The plaintext length of `message`.
    pub fn decrypt_len(message: &[u8]) -> Result<usize, Error> {
        Ok(GroupMessage::parse(message)?.ciphertext().len())
    }

    /// Decrypts `message` into `out`: signature, then index, then AEAD. On error nothing changes and
    /// `out` holds nothing new; no heap allocation.
    pub fn decrypt_into(&mut self, message: &[u8], out: &mut [u8]) -> Result<Decrypted, Error> {
        let m = GroupMessage::parse(message)?;
        self.signing_key
            .verify(m.signed, &m.signature)
            .map_err(|_| GroupError::InvalidSignature)?;
        let needed = m.ciphertext.len();
        let out = out
            .get_mut(..needed)
            .ok_or(GroupError::BufferTooSmall { needed })?;
        let ratchet = self
            .state
            .ratchet_at(m.index)
            .ok_or(GroupError::UnknownMessageIndex {
                first_known_index: self.first_known_index(),
            })?;
        let keys = MessageKeys::derive(&ratchet)?;
        out.copy_from_slice(m.ciphertext);
        if aead::open_in_place_detached(
            &keys.key,
            &keys.nonce,
            &aad(&self.signing_key, m.header),
            out,
            &m.tag,
        )
        .is_err()
        {
            out.fill(0);
            return Err(GroupError::Authentication.into());
        }
        self.state.commit(ratchet);
        Ok(Decrypted {
            plaintext_len: needed,
            message_index: m.index,
        })
    }

    /// [`InboundGroupSession::decrypt_into`] into a `Vec`; returns the plaintext and the index.
    #[cfg(feature = "alloc")]
    pub fn decrypt(&mut self, message: &[u8]) -> Result<(alloc::vec::Vec<u8>, u32), Error> {
        let mut out = alloc::vec![0u8; Self::decrypt_len(message)?];
        let got = self.decrypt_into(message, &mut out)?;
        Ok((out, got.message_index))
    }

    /// An unsigned export from `index` on; `None` below the first known index.
    pub fn export_at(&self, index: u32) -> Option<ExportedSenderKey> {
        self.state
            .ratchet_at(index)
            .map(|ratchet| ExportedSenderKey {
                ratchet,
                signing_key: self.signing_key,
            })
    }

    /// Forgets every key below `index`; whether anything changed.
    pub fn advance_to(&mut self, index: u32) -> bool {
        self.state.advance_to(index)
    }
}

impl fmt::Debug for InboundGroupSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundGroupSession")
            .field("session_id", &self.signing_key)
            .field("first_known_index", &self.first_known_index())
            .field("verified", &self.verified)
            .finish_non_exhaustive()
    }
}

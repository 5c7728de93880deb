//! Matrix Olm (`m.olm.v1.curve25519-aes-sha2`), byte-compatible with libolm and vodozemac.
//!
//! Olm is the pairwise channel every Matrix client speaks: a triple Diffie-Hellman
//! ([`crate::x3dh::olm`]) and the shared Double Ratchet ([`crate::ratchet`]) with Olm's suite, each
//! message sealed with AES-256-CBC and an HMAC-SHA-256 truncated to 8 bytes (`specs/matrix.md` §1).
//! An [`Account`] holds a device's keys; a [`Session`] is one channel to another device.
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::olm::{Account, MessageType, Session};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
//! let alice = Account::<100>::new(&mut rng);
//! let mut bob = Account::<100>::new(&mut rng);
//! bob.generate_one_time_keys_with(&mut rng, 1, |_, _| {});
//! let (_, otk) = bob.one_time_keys().next().unwrap();
//! bob.mark_keys_as_published();
//!
//! // Alice claims Bob's one-time key and writes into a buffer of her choosing.
//! let mut session = alice.create_outbound_session(&mut rng, &bob.curve25519_key(), &otk)?;
//! let mut message = [0u8; 256];
//! let (kind, n) = session.encrypt_into(&mut rng, b"Hello, Bob", &mut message)?;
//! assert_eq!(kind, MessageType::PreKey);
//!
//! // Bob creates his side from the pre-key message; its one-time key is gone afterwards.
//! let mut plaintext = [0u8; 256];
//! let inbound = bob.create_inbound_session_into(&alice.curve25519_key(), &message[..n], &mut plaintext)?;
//! assert_eq!(&plaintext[..inbound.plaintext_len], b"Hello, Bob");
//! assert_eq!(inbound.session.session_id(), session.session_id());
//! assert_eq!(bob.stored_one_time_key_count(), 0);
//! # Ok::<(), safemeet::Error>(())
//! ```
//!
//! Every operation writes into caller buffers without allocating; with the `alloc` feature,
//! [`Session::encrypt`] returns an [`OlmMessage`] whose [`OlmMessage::to_base64`] is the `body` a Matrix
//! client puts in `m.room.encrypted`, beside the `type` from [`OlmMessage::message_type`].

pub(crate) mod account;
#[doc(hidden)]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;
mod session;
pub mod wire;

pub use account::{Account, IdentityKeys, InboundSession};
#[cfg(feature = "alloc")]
pub use account::{InboundCreationResult, OneTimeKeyGenerationResult};
pub use session::{Session, SessionKeys};

use core::fmt;

use crate::codec::base64;
use crate::error::OlmError;

/// The transport `type` of an Olm message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// `type: 0`, a pre-key message: carries what the responder needs to create the session.
    PreKey = 0,
    /// `type: 1`, a normal message.
    Normal = 1,
}

impl MessageType {
    /// The `type` number of the transport.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

impl TryFrom<u64> for MessageType {
    type Error = OlmError;

    /// `0` or `1`; anything else is [`OlmError::UnknownMessageType`].
    fn try_from(value: u64) -> Result<Self, OlmError> {
        match value {
            0 => Ok(Self::PreKey),
            1 => Ok(Self::Normal),
            _ => Err(OlmError::UnknownMessageType),
        }
    }
}

/// The id of a one-time or fallback key: a counter, published as the unpadded base64 of its eight
/// big-endian bytes (vodozemac's scheme: 0 is `AAAAAAAAAAA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u64);

impl KeyId {
    /// The id as published: unpadded base64 of the counter's eight big-endian bytes (11 characters).
    pub fn to_base64(self) -> [u8; 11] {
        let mut out = [0u8; 11];
        // 8 bytes always encode to 11 characters.
        let _ = base64::encode_into(&self.0.to_be_bytes(), &mut out);
        out
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars = self.to_base64();
        f.write_str(core::str::from_utf8(&chars).map_err(|_| fmt::Error)?)
    }
}

/// An Olm session id: SHA-256 over the initiator's identity key, base key and the one-time key.
/// `Display` writes it as Matrix does, in unpadded base64.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(pub [u8; 32]);

impl SessionId {
    /// The id's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The id in unpadded base64 (43 characters).
    pub fn to_base64(&self) -> [u8; 43] {
        let mut out = [0u8; 43];
        let _ = base64::encode_into(&self.0, &mut out);
        out
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars = self.to_base64();
        f.write_str(core::str::from_utf8(&chars).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// An encoded Olm message with its transport type.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OlmMessage {
    message_type: MessageType,
    bytes: alloc::vec::Vec<u8>,
}

#[cfg(feature = "alloc")]
impl OlmMessage {
    /// A message from its type and bytes.
    pub const fn new(message_type: MessageType, bytes: alloc::vec::Vec<u8>) -> Self {
        Self {
            message_type,
            bytes,
        }
    }

    /// A message from the `type` and `body` of an `m.room.encrypted` event's ciphertext entry. The
    /// body is base64 (unpadded, as Matrix sends it; padded is accepted).
    pub fn from_parts(message_type: u64, body: &str) -> Result<Self, crate::Error> {
        Ok(Self {
            message_type: MessageType::try_from(message_type)?,
            bytes: base64::decode(body)?,
        })
    }

    /// The transport type.
    pub const fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// The encoded message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The `body` for the transport: unpadded base64 of the bytes.
    pub fn to_base64(&self) -> alloc::string::String {
        base64::encode(&self.bytes)
    }
}

#[cfg(test)]
mod tests;

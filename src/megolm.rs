//! Megolm (`m.megolm.v1.aes-sha2`), the matrix profile's group sessions, byte-compatible with
//! vodozemac and libolm.
//!
//! The sender holds a [`GroupSession`]: a [`crate::group::Ratchet`] and an Ed25519 signing key whose
//! public half is the session id. It shares the session as a signed [`SessionKey`] (over Olm, to each
//! member device), then encrypts every room message once. A receiver builds an
//! [`InboundGroupSession`] from that key, or from an unsigned [`ExportedSessionKey`] (forwarded keys,
//! backups), and can decrypt any message at or after the key's index, in any order.
//!
//! A message is checked in the order vodozemac uses: the Ed25519 signature first (with the session's
//! public key, before any secret is touched), then the ratchet is derived for the message's index, then
//! the MAC, then AES-256-CBC decryption. Failure changes nothing.
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::megolm::{GroupSession, InboundGroupSession, SessionKey};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([6; 32]);
//! let mut outbound = GroupSession::new(&mut rng);
//!
//! // The session key travels to each member over Olm, as unpadded base64.
//! let mut key = [0u8; safemeet::megolm::SESSION_KEY_BASE64_LEN];
//! outbound.session_key().to_base64_into(&mut key)?;
//! let mut inbound = InboundGroupSession::new(&SessionKey::from_base64(&key)?);
//! assert_eq!(inbound.session_id(), outbound.session_id());
//!
//! let mut message = [0u8; 256];
//! let n = outbound.encrypt_into(b"Hello, room!", &mut message)?;
//! let mut plaintext = [0u8; 256];
//! let got = inbound.decrypt_into(&message[..n], &mut plaintext)?;
//! assert_eq!(&plaintext[..got.plaintext_len], b"Hello, room!");
//! assert_eq!(got.message_index, 0);
//! assert!(inbound.is_verified());
//! # Ok::<(), safemeet::Error>(())
//! ```

use core::fmt;

use crate::Error;
use crate::codec::base64;
use crate::group::Ratchet;
use crate::primitives::aes::CbcHmacKeys;
use crate::primitives::ed25519::Ed25519PublicKey;
use crate::primitives::hkdf::hkdf_sha256;

#[cfg(feature = "alloc")]
mod batch;
#[doc(hidden)]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;
mod inbound;
mod keys;
pub mod message;
mod outbound;

#[cfg(feature = "alloc")]
pub use inbound::DecryptedMessage;
pub use inbound::{Decrypted, InboundGroupSession, SessionOrdering};
pub use keys::{
    EXPORT_BASE64_LEN, EXPORT_LEN, ExportedSessionKey, SESSION_KEY_BASE64_LEN, SESSION_KEY_LEN,
    SessionKey,
};
pub use message::{MegolmMessage, message_len};
pub use outbound::GroupSession;

/// The HKDF `info` that expands a ratchet state into message keys.
const MEGOLM_KEYS_INFO: &[u8] = b"MEGOLM_KEYS";

/// A Megolm session id: the session's Ed25519 public key in unpadded base64 (43 characters).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; SessionId::LEN]);

impl SessionId {
    /// The length of a session id, in characters.
    pub const LEN: usize = base64::encoded_len(32);

    pub(crate) fn new(key: &Ed25519PublicKey) -> Self {
        let mut out = [0u8; Self::LEN];
        // 32 bytes always encode to exactly 43 characters.
        let _ = base64::encode_into(key.as_bytes(), &mut out);
        Self(out)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Base64 output is ASCII.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.as_str())
    }
}

impl PartialEq<str> for SessionId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SessionId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The AES key, HMAC key and IV of one message: `HKDF(ratchet, "MEGOLM_KEYS", 80)`, split.
pub(crate) fn message_keys(ratchet: &Ratchet) -> Result<CbcHmacKeys, Error> {
    let mut okm = zeroize::Zeroizing::new([0u8; CbcHmacKeys::OKM_LEN]);
    hkdf_sha256(&[0], ratchet.secret_bytes(), MEGOLM_KEYS_INFO, &mut *okm)?;
    Ok(CbcHmacKeys::from_okm(&okm))
}

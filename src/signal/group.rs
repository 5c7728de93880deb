//! Signal sender keys (group messages) in the layout of current libsignal (`rust/protocol`, since
//! v0.4.0), as `@signalapp/libsignal-client` sends and reads them.
//!
//! A sender keeps an [`OutboundSenderKey`] per group (named by a [`DistributionId`]): a random 31-bit
//! chain id, a 32-byte chain key at an iteration, and an X25519 signing key. It hands every member a
//! [`SenderKeyDistributionMessage`] over a pairwise session, then encrypts each group message once. A
//! member keeps a [`SenderKeyRecord`] per (sender, distribution id), built from those distribution
//! messages, and decrypts with it.
//!
//! ```text
//! chain step     seed = HMAC-SHA-256(ck, 0x01)        ck' = HMAC-SHA-256(ck, 0x02)
//! message key    HKDF-SHA-256(ikm = seed, salt = 0×32, info = "WhisperGroup", L = 48)
//!                → IV = bytes 0..16, cipher key = bytes 16..48      AES-256-CBC, PKCS#7
//! SKDM           0x33 ‖ protobuf{1: distribution uuid (16), 2: chain id, 3: iteration,
//!                                 4: chain key (32), 5: signing key (33, 0x05 ‖ u)}
//! message        0x33 ‖ protobuf{1: distribution uuid (16), 2: chain id, 3: iteration, 4: ciphertext}
//!                     ‖ XEdDSA signature (64) by the signing key over everything before it
//! ```
//!
//! A message is checked in libsignal's order, and more strictly: the strict decoder first, then the
//! distribution id and the chain id, then the XEdDSA signature (before anything secret is touched),
//! then the iteration (a duplicate is [`SignalError::DuplicatedMessage`], a jump beyond
//! [`SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP`] is [`SignalError::TooFarAhead`]); the keys are derived
//! without changing the record, and the record moves on only after the CBC padding checked out. A
//! failed decrypt changes nothing.
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use rand_core::SeedableRng;
//! use safemeet::signal::group::{
//!     DistributionId, OutboundSenderKey, SenderKeyDistributionMessage, SenderKeyRecord,
//! };
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
//! let group = DistributionId::random(&mut rng);
//! let mut alice = OutboundSenderKey::new(&mut rng, group);
//!
//! // The distribution message travels to Bob over a pairwise session.
//! let skdm = alice.distribution_message().to_bytes();
//! // A record that keeps up to 64 keys of skipped messages (the default is libsignal's 2000).
//! let mut bob = SenderKeyRecord::<64>::from_distribution_message(
//!     &SenderKeyDistributionMessage::decode(&skdm)?,
//! );
//!
//! let message = alice.encrypt(&mut rng, b"Hello, group!")?;
//! assert_eq!(bob.decrypt(&message)?, b"Hello, group!");
//! // The same message again is a duplicate.
//! assert!(bob.decrypt(&message).is_err());
//! # }
//! # Ok::<(), safemeet::Error>(())
//! ```

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Error;
use crate::error::SignalError;
use crate::primitives::hkdf::hkdf_sha256;
use crate::primitives::hmac::HmacSha256;

#[doc(hidden)]
#[cfg(feature = "alloc")]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;
mod outbound;
mod record;
mod wire;

#[cfg(all(test, feature = "alloc"))]
mod tests;

pub use crate::limits::{
    SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN, SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP,
    SIGNAL_SENDER_KEY_MAX_MESSAGE_KEYS, SIGNAL_SENDER_KEY_MAX_STATES,
};
pub use outbound::OutboundSenderKey;
pub(crate) use record::ReceiverState;
pub use record::{Decrypted, SenderKeyRecord};
pub use wire::{
    CHAIN_KEY_LEN, DISTRIBUTION_ID_LEN, DistributionId, SIGNATURE_LEN,
    SenderKeyDistributionMessage, SenderKeyMessage, VERSION,
};

/// The HKDF `info` that expands a message-key seed into an IV and a cipher key.
pub const MESSAGE_KEY_INFO: &[u8] = b"WhisperGroup";
/// The HMAC input that derives a message-key seed from a chain key.
const MESSAGE_KEY_SEED: u8 = 0x01;
/// The HMAC input that derives the next chain key.
const CHAIN_KEY_SEED: u8 = 0x02;

/// A sender chain key at an iteration. Zeroized on drop; advanced in place; copied only where a
/// decrypt needs a tentative state.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct ChainKey {
    pub(crate) key: [u8; CHAIN_KEY_LEN],
    pub(crate) iteration: u32,
}

impl ChainKey {
    pub(crate) const fn new(key: &[u8; CHAIN_KEY_LEN], iteration: u32) -> Self {
        Self {
            key: *key,
            iteration,
        }
    }

    pub(crate) const fn duplicate(&self) -> Self {
        Self::new(&self.key, self.iteration)
    }

    fn derive(&self, label: u8) -> [u8; 32] {
        let mut mac = HmacSha256::new(&self.key);
        mac.update(&[label]);
        mac.finalize()
    }

    /// The message-key seed of this iteration: `HMAC-SHA-256(ck, 0x01)`.
    pub(crate) fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.derive(MESSAGE_KEY_SEED))
    }

    /// Moves to the next iteration: `ck ← HMAC-SHA-256(ck, 0x02)`. The caller checks that the
    /// iteration is below `u32::MAX`; at `u32::MAX` the chain is left unchanged and `false` returned.
    pub(crate) fn advance(&mut self) -> bool {
        let Some(next) = self.iteration.checked_add(1) else {
            return false;
        };
        let mut key = self.derive(CHAIN_KEY_SEED);
        self.key = key;
        key.zeroize();
        self.iteration = next;
        true
    }
}

/// A message's AES-256-CBC key and IV.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct MessageKey {
    pub(crate) iv: [u8; 16],
    pub(crate) cipher_key: [u8; 32],
}

impl MessageKey {
    /// `HKDF-SHA-256(ikm = seed, salt = 32 zero bytes, info = "WhisperGroup", L = 48)`: IV first.
    pub(crate) fn derive(seed: &[u8; 32]) -> Result<Self, Error> {
        let mut okm = Zeroizing::new([0u8; 48]);
        hkdf_sha256(&[0u8; 32], seed, MESSAGE_KEY_INFO, &mut *okm)
            .map_err(|_| SignalError::Internal)?;
        let mut key = Self {
            iv: [0; 16],
            cipher_key: [0; 32],
        };
        let (iv, cipher_key) = okm.split_at(16);
        key.iv.copy_from_slice(iv);
        key.cipher_key.copy_from_slice(cipher_key);
        Ok(key)
    }
}

#[cfg(test)]
mod kdf_tests {
    use super::*;
    use crate::primitives::hmac::hmac_sha256;

    #[test]
    fn chain_steps_are_hmac_with_one_and_two() {
        let mut ck = ChainKey::new(&[7; 32], 41);
        assert_eq!(*ck.seed(), hmac_sha256(&[7; 32], &[1]));
        assert!(ck.advance());
        assert_eq!(ck.key, hmac_sha256(&[7; 32], &[2]));
        assert_eq!(ck.iteration, 42);
        let mut last = ChainKey::new(&[1; 32], u32::MAX);
        assert!(!last.advance());
        assert_eq!((last.key, last.iteration), ([1; 32], u32::MAX));
    }

    #[test]
    fn message_key_is_iv_then_cipher_key() {
        let seed = [9u8; 32];
        let mut okm = [0u8; 48];
        hkdf_sha256(&[], &seed, b"WhisperGroup", &mut okm).unwrap();
        let key = MessageKey::derive(&seed).unwrap();
        assert_eq!(key.iv, okm[..16]);
        assert_eq!(key.cipher_key, okm[16..]);
    }
}

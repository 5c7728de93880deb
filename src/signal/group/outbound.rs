//! The sending side of Signal sender keys.

use core::fmt;

use rand_core::CryptoRng;

use super::wire::{DistributionId, SIGNATURE_LEN, write_message_head};
use super::{CHAIN_KEY_LEN, ChainKey, MessageKey, SenderKeyDistributionMessage, SenderKeyMessage};
use crate::Error;
use crate::codec::Writer;
use crate::error::{CodecError, SignalError};
use crate::limits::SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN;
use crate::primitives::aes::{aes256_cbc_encrypt_in_place, aes256_cbc_padded_len};
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::xeddsa::XEdDsaSigningKey;

/// A sender's sender-key state for one group: what libsignal keeps in its own `SenderKeyRecord` for
/// (itself, distribution id).
///
/// Encrypting advances the chain key in place, so the key of a sent message is gone. Not `Clone`: two
/// copies would encrypt two messages under one iteration. Secrets are zeroized on drop and never
/// printed.
pub struct OutboundSenderKey {
    pub(crate) distribution_id: DistributionId,
    pub(crate) chain_id: u32,
    pub(crate) chain: ChainKey,
    pub(crate) signing: Curve25519SecretKey,
    /// The public half of `signing`, computed once.
    pub(crate) signing_public: Curve25519PublicKey,
    /// `signing` prepared for XEdDSA (its Edwards point computed once), for every message.
    signer: XEdDsaSigningKey,
}

impl OutboundSenderKey {
    /// A new sender key for `distribution_id`, drawing from `rng` in libsignal's order: a 31-bit chain
    /// id (a random `u32` shifted right by one, as libsignal-protocol-java's ids are 31-bit), the
    /// 32-byte chain key at iteration 0, then the signing key pair.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R, distribution_id: DistributionId) -> Self {
        let chain_id = rng.next_u32() >> 1;
        let mut key = zeroize::Zeroizing::new([0u8; CHAIN_KEY_LEN]);
        rng.fill_bytes(&mut *key);
        let signing = Curve25519SecretKey::generate(rng);
        Self {
            distribution_id,
            chain_id,
            chain: ChainKey::new(&key, 0),
            signing_public: signing.public_key(),
            signer: XEdDsaSigningKey::new(&signing),
            signing,
        }
    }

    /// A sender key from explicit state (known-answer tests, migrations). Reusing a state that has
    /// already sent messages reuses keys.
    #[cfg(feature = "hazmat")]
    pub fn from_parts(
        distribution_id: DistributionId,
        chain_id: u32,
        iteration: u32,
        chain_key: &[u8; CHAIN_KEY_LEN],
        signing_secret: &[u8; 32],
    ) -> Self {
        Self::from_state(
            distribution_id,
            chain_id,
            iteration,
            chain_key,
            signing_secret,
        )
    }

    pub(crate) fn from_state(
        distribution_id: DistributionId,
        chain_id: u32,
        iteration: u32,
        chain_key: &[u8; CHAIN_KEY_LEN],
        signing_secret: &[u8; 32],
    ) -> Self {
        let signing = Curve25519SecretKey::from_bytes(signing_secret);
        Self {
            distribution_id,
            chain_id,
            chain: ChainKey::new(chain_key, iteration),
            signing_public: signing.public_key(),
            signer: XEdDsaSigningKey::new(&signing),
            signing,
        }
    }

    /// The group's distribution id.
    pub const fn distribution_id(&self) -> DistributionId {
        self.distribution_id
    }

    /// The chain id (31 bits).
    pub const fn chain_id(&self) -> u32 {
        self.chain_id
    }

    /// The iteration of the next message.
    pub const fn iteration(&self) -> u32 {
        self.chain.iteration
    }

    /// The public signing key.
    pub const fn signing_key(&self) -> Curve25519PublicKey {
        self.signing_public
    }

    /// The distribution message at the current iteration, for members who join now: they can read
    /// this and every later message, none before.
    pub fn distribution_message(&self) -> SenderKeyDistributionMessage {
        SenderKeyDistributionMessage {
            distribution_id: self.distribution_id,
            chain_id: self.chain_id,
            iteration: self.chain.iteration,
            chain_key: self.chain.key,
            signing_key: self.signing_public,
        }
    }

    /// The length of the message [`OutboundSenderKey::encrypt_into`] writes for `plaintext_len` bytes
    /// at the current iteration.
    pub const fn encrypt_len(&self, plaintext_len: usize) -> usize {
        SenderKeyMessage::encoded_len(
            self.chain_id,
            self.chain.iteration,
            aes256_cbc_padded_len(plaintext_len),
        )
    }

    /// Encrypts `plaintext` into `out` and returns the message length; `rng` supplies the XEdDSA
    /// signature's 64 random bytes. A too-small `out` is [`SignalError::BufferTooSmall`] and changes
    /// nothing. Performs no heap allocation.
    ///
    /// # Errors
    /// [`CodecError::TooLarge`] when the ciphertext would exceed
    /// [`SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN`] (receivers would refuse it);
    /// [`SignalError::ChainExhausted`] at iteration `u32::MAX` (start a new sender key).
    pub fn encrypt_into<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let ct_len = aes256_cbc_padded_len(plaintext.len());
        if ct_len > SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN {
            return Err(CodecError::TooLarge.into());
        }
        if self.chain.iteration == u32::MAX {
            return Err(SignalError::ChainExhausted.into());
        }
        let needed = self.encrypt_len(plaintext.len());
        let out = out
            .get_mut(..needed)
            .ok_or(SignalError::BufferTooSmall { needed })?;
        let key = MessageKey::derive(&self.chain.seed())?;
        let mut w = Writer::new(out);
        let ct_at = write_message_head(
            &mut w,
            &self.distribution_id,
            self.chain_id,
            self.chain.iteration,
            ct_len,
        )?;
        let sig_at = needed - SIGNATURE_LEN;
        let (signed, signature) = out.split_at_mut(sig_at);
        let ct = signed.get_mut(ct_at..).ok_or(SignalError::Internal)?;
        ct.get_mut(..plaintext.len())
            .ok_or(SignalError::Internal)?
            .copy_from_slice(plaintext);
        aes256_cbc_encrypt_in_place(&key.cipher_key, &key.iv, ct, plaintext.len())
            .map_err(|_| SignalError::Internal)?;
        signature.copy_from_slice(self.signer.sign(signed, rng).as_bytes());
        self.chain.advance();
        Ok(needed)
    }

    /// [`OutboundSenderKey::encrypt_into`], returning the message as a `Vec`.
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
}

impl fmt::Debug for OutboundSenderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundSenderKey")
            .field("distribution_id", &self.distribution_id)
            .field("chain_id", &self.chain_id)
            .field("iteration", &self.chain.iteration)
            .field("signing_key", &self.signing_public)
            .finish_non_exhaustive()
    }
}

//! The Double Ratchet core, written once and shared by every profile.
//!
//! This module holds the state of the Double Ratchet algorithm (Signal's specification, revision 1,
//! §3–4): a root key, one sending chain, a few receiving chains, and a bounded store of skipped message
//! keys. It knows no wire format and no cipher: a profile (the native profile in [`crate::session`],
//! Matrix Olm later) supplies a [`Suite`] with its KDF label and limits, encodes headers, and seals each
//! message with the [`MessageKey`] the ratchet hands it.
//!
//! Two design points matter to every profile:
//!
//! - **The sending step is lazy**, as in libolm and vodozemac: receiving a new ratchet key creates the
//!   receiving chain and drops our sending chain; the next [`DoubleRatchet::next_send_key`] generates a
//!   fresh ratchet key and performs the sending half of the DH step. The derived keys are the
//!   specification's; only the moment the second half runs differs (which §6.5 allows).
//! - **Decryption is transactional.** [`DoubleRatchet::plan_receive`] borrows the state immutably and
//!   returns a [`ReceivePlan`] holding the message key and every derived value; the profile
//!   authenticates and decrypts with it, and only then calls [`DoubleRatchet::commit`]. A forged,
//!   replayed or out-of-bounds message therefore leaves the state exactly as it was.
//!
//! Late messages are served from old receiving chains (kept up to `C`) and from skipped keys (kept up to
//! `K`, and at most [`Suite::MAX_SKIPPED_PER_CHAIN`] per chain); all bounds live in [`crate::limits`].
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::primitives::curve25519::Curve25519SecretKey;
//! use safemeet::primitives::secret::SecretBytes;
//! use safemeet::ratchet::{DoubleRatchet, NativeSuite};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//! // After a key agreement both sides share a root key; Bob's ratchet key is known to Alice.
//! let bob_ratchet = Curve25519SecretKey::generate(&mut rng);
//! let mut alice: DoubleRatchet<NativeSuite> = DoubleRatchet::new_initiator(
//!     &mut rng, SecretBytes::from_bytes([9; 32]), &bob_ratchet.public_key(), None)?;
//!
//! let send = alice.next_send_key(&mut rng)?;
//! let mut bob: DoubleRatchet<NativeSuite> = DoubleRatchet::new_responder(
//!     SecretBytes::from_bytes([9; 32]), bob_ratchet, None);
//! let plan = bob.plan_receive(&send.ratchet_key, send.index)?;
//! assert_eq!(plan.message_key().as_bytes(), send.message_key.as_bytes());
//! bob.commit(plan); // only after the message authenticated
//! // The same message again: its key is gone.
//! assert!(bob.plan_receive(&send.ratchet_key, send.index).is_err());
//! # Ok::<(), safemeet::Error>(())
//! ```

mod chain;
mod persist;
mod skipped;

use core::fmt;
use core::marker::PhantomData;

use rand_core::CryptoRng;

pub use chain::{ChainKey, MessageKey, RootStep, kdf_rk};

use crate::error::RatchetError;
use crate::limits;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::secret::SecretBytes;
use skipped::SkippedKeys;

/// What distinguishes one profile's Double Ratchet from another's: the root-step label and the bounds.
///
/// The symmetric chain (`HMAC(ck, 0x01)` for message keys, `HMAC(ck, 0x02)` for the next chain key) and
/// the root step (HKDF with the root key as salt) are the same in every profile we speak; message-key
/// expansion and the message cipher belong to the profile, which receives the raw [`MessageKey`].
pub trait Suite {
    /// The HKDF `info` of the root (DH) ratchet step (`"OLM_RATCHET"` for Olm).
    const ROOT_INFO: &'static [u8];
    /// The most skipped message keys kept for one receiving chain.
    const MAX_SKIPPED_PER_CHAIN: usize;
    /// How far ahead of a chain's position a message index may be.
    const MAX_MESSAGE_GAP: u32;
    /// Whether the skipped keys of a receiving chain are dropped when that chain is evicted (as
    /// vodozemac does for Olm) rather than kept until the skipped-key store evicts them.
    const DROP_SKIPPED_WITH_CHAIN: bool = false;
}

/// The native profile's suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeSuite {}

impl Suite for NativeSuite {
    const ROOT_INFO: &'static [u8] = b"safemeet native v1 root ratchet";
    const MAX_SKIPPED_PER_CHAIN: usize = limits::NATIVE_MAX_SKIPPED_PER_CHAIN;
    const MAX_MESSAGE_GAP: u32 = limits::NATIVE_MAX_MESSAGE_GAP;
}

/// Matrix Olm's suite (`specs/matrix.md` §1.3–1.8), with vodozemac's limits: a late message is readable
/// exactly when vodozemac could read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OlmSuite {}

impl Suite for OlmSuite {
    const ROOT_INFO: &'static [u8] = b"OLM_RATCHET";
    const MAX_SKIPPED_PER_CHAIN: usize = limits::OLM_MAX_SKIPPED_PER_CHAIN;
    const MAX_MESSAGE_GAP: u32 = limits::OLM_MAX_MESSAGE_GAP;
    const DROP_SKIPPED_WITH_CHAIN: bool = true;
}

/// Classic Signal v3's suite (`specs/signal.md` §4.3), with libsignal's limits: a jump of up to 2000
/// messages and 2000 stored keys per chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalSuite {}

impl Suite for SignalSuite {
    const ROOT_INFO: &'static [u8] = b"WhisperRatchet";
    const MAX_SKIPPED_PER_CHAIN: usize = limits::SIGNAL_MAX_SKIPPED_PER_CHAIN;
    const MAX_MESSAGE_GAP: u32 = limits::SIGNAL_MAX_MESSAGE_GAP;
}

/// Our current sending chain: its ratchet key pair and chain key (and header key, when headers are
/// encrypted).
struct SenderChain {
    ratchet: Curve25519SecretKey,
    ratchet_public: Curve25519PublicKey,
    chain: ChainKey,
    header_key: Option<SecretBytes<32>>,
}

/// A receiving chain, named by the peer's ratchet key.
struct ReceiverChain {
    ratchet_key: Curve25519PublicKey,
    chain: ChainKey,
    header_key: Option<SecretBytes<32>>,
}

/// The next header keys of a header-encrypted session (`NHKs`, `NHKr` in the specification).
struct NextHeaderKeys {
    send: SecretBytes<32>,
    receive: SecretBytes<32>,
}

/// The state of one Double Ratchet: `C` receiving chains and `K` skipped message keys at most.
pub struct DoubleRatchet<
    S: Suite,
    const C: usize = { limits::MAX_RECEIVER_CHAINS },
    const K: usize = { limits::NATIVE_MAX_SKIPPED_KEYS },
> {
    root_key: SecretBytes<32>,
    /// `None` when a DH step must run before the next message is sent.
    sender: Option<SenderChain>,
    /// Our ratchet secret while no sending chain exists yet (a responder's initial ratchet key).
    pending_ratchet: Option<Curve25519SecretKey>,
    /// Newest first.
    receivers: [Option<ReceiverChain>; C],
    skipped: SkippedKeys<K>,
    /// The number of messages in our previous sending chain (the specification's `PN`).
    previous_counter: u32,
    header_keys: Option<NextHeaderKeys>,
    suite: PhantomData<S>,
}

/// The keys and header fields for one outgoing message.
#[derive(Debug)]
pub struct SendKey {
    /// Our current ratchet public key, for the header.
    pub ratchet_key: Curve25519PublicKey,
    /// The message's index in the sending chain.
    pub index: u32,
    /// The length of our previous sending chain.
    pub previous_counter: u32,
    /// The header key to encrypt the header with (header-encrypted sessions only).
    pub header_key: Option<SecretBytes<32>>,
    /// The key that seals this message.
    pub message_key: MessageKey,
}

/// Header keys a receiver may try, in order, to open an encrypted header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKeySource {
    /// The header key of the `n`-th receiving chain (0 is the newest).
    Chain(usize),
    /// The header key of a stored skipped key (for a chain no longer kept).
    Skipped(usize),
    /// The next receiving header key: a header opened with it announces a DH step.
    Next,
}

enum PlanSource {
    /// A stored skipped key at this position.
    Skipped(usize),
    /// Receiving chain `slot`, starting from `skip_from` (the chain at the first index whose key is
    /// kept) and ending with `after` (the chain just past the message).
    Chain {
        slot: usize,
        skip_from: ChainKey,
        after: ChainKey,
    },
    /// A new receiving chain from a DH step.
    NewChain {
        root_key: SecretBytes<32>,
        next_header_key: Option<SecretBytes<32>>,
        skip_from: ChainKey,
        after: ChainKey,
    },
}

/// Everything a receive would change, computed without changing anything. Hand it to
/// [`DoubleRatchet::commit`] once the message has authenticated, or drop it to forget it.
pub struct ReceivePlan {
    ratchet_key: Curve25519PublicKey,
    message_key: MessageKey,
    source: PlanSource,
}

impl ReceivePlan {
    /// The key for the message being received.
    pub const fn message_key(&self) -> &MessageKey {
        &self.message_key
    }

    /// Whether committing performs a DH step (the sender has a new ratchet key).
    pub const fn is_new_chain(&self) -> bool {
        matches!(self.source, PlanSource::NewChain { .. })
    }
}

impl fmt::Debug for ReceivePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivePlan")
            .field("ratchet_key", &self.ratchet_key)
            .field("index", &self.message_key.index())
            .field("new_chain", &self.is_new_chain())
            .finish_non_exhaustive()
    }
}

/// The two header keys a header-encrypted session starts with, from the key agreement (§4).
///
/// For the initiator, `send` is the first sending header key (`HKs`, the agreement's `shared_hka`) and
/// `receive` the next receiving header key (`NHKr`, `shared_nhkb`); for the responder, `send` is the
/// next sending header key (`NHKs`, `shared_nhkb`) and `receive` the next receiving header key
/// (`NHKr`, `shared_hka`).
#[derive(Debug)]
pub struct InitialHeaderKeys {
    /// See the type's documentation.
    pub send: SecretBytes<32>,
    /// See the type's documentation.
    pub receive: SecretBytes<32>,
}

impl<S: Suite, const C: usize, const K: usize> DoubleRatchet<S, C, K> {
    fn empty(root_key: SecretBytes<32>, header_keys: Option<NextHeaderKeys>) -> Self {
        Self {
            root_key,
            sender: None,
            pending_ratchet: None,
            receivers: core::array::from_fn(|_| None),
            skipped: SkippedKeys::new(),
            previous_counter: 0,
            header_keys,
            suite: PhantomData,
        }
    }

    /// The initiator's state as the Double Ratchet specification sets it up (§3.3, `RatchetInitAlice`):
    /// a fresh ratchet key, and a DH step against the responder's ratchet key (the signed prekey in
    /// X3DH). With `header_keys`, the session encrypts its headers (§4).
    pub fn new_initiator<R: CryptoRng + ?Sized>(
        rng: &mut R,
        shared_secret: SecretBytes<32>,
        their_ratchet_key: &Curve25519PublicKey,
        header_keys: Option<InitialHeaderKeys>,
    ) -> Result<Self, RatchetError> {
        let ratchet = Curve25519SecretKey::generate(rng);
        let step = dh_step::<S>(
            shared_secret.as_bytes(),
            &ratchet,
            their_ratchet_key,
            header_keys.is_some(),
        )?;
        let (send_hk, next) = match (header_keys, step.next_header_key) {
            (Some(h), Some(next_send)) => (
                Some(h.send),
                Some(NextHeaderKeys {
                    send: next_send,
                    receive: h.receive,
                }),
            ),
            _ => (None, None),
        };
        let mut state = Self::empty(step.root_key, next);
        state.sender = Some(SenderChain {
            ratchet_public: ratchet.public_key(),
            ratchet,
            chain: step.chain_key,
            header_key: send_hk,
        });
        Ok(state)
    }

    /// The responder's state (§3.3, `RatchetInitBob`): the shared secret as root key and our ratchet
    /// key pair (the signed prekey in X3DH) waiting for the initiator's first ratchet key.
    pub fn new_responder(
        shared_secret: SecretBytes<32>,
        our_ratchet: Curve25519SecretKey,
        header_keys: Option<InitialHeaderKeys>,
    ) -> Self {
        let next = header_keys.map(|h| NextHeaderKeys {
            send: h.send,
            receive: h.receive,
        });
        let mut state = Self::empty(shared_secret, next);
        state.pending_ratchet = Some(our_ratchet);
        state
    }

    /// A state with a ready sending chain and no receiving chain (Olm's initiator after the triple DH).
    pub fn from_sending_chain(
        root_key: SecretBytes<32>,
        ratchet: Curve25519SecretKey,
        chain_key: ChainKey,
    ) -> Self {
        let mut state = Self::empty(root_key, None);
        state.sender = Some(SenderChain {
            ratchet_public: ratchet.public_key(),
            ratchet,
            chain: chain_key,
            header_key: None,
        });
        state
    }

    /// A state with one receiving chain and no sending chain (Olm's responder after the triple DH).
    pub fn from_receiving_chain(
        root_key: SecretBytes<32>,
        their_ratchet_key: Curve25519PublicKey,
        chain_key: ChainKey,
    ) -> Self {
        let mut state = Self::empty(root_key, None);
        state.push_receiver(ReceiverChain {
            ratchet_key: their_ratchet_key,
            chain: chain_key,
            header_key: None,
        });
        state
    }

    /// Whether this session encrypts its headers.
    pub const fn has_header_encryption(&self) -> bool {
        self.header_keys.is_some()
    }

    /// Whether a sending chain exists (otherwise the next send performs a DH step).
    pub const fn has_sending_chain(&self) -> bool {
        self.sender.is_some()
    }

    /// Our current ratchet public key, if we have a sending chain.
    pub fn our_ratchet_key(&self) -> Option<Curve25519PublicKey> {
        self.sender.as_ref().map(|s| s.ratchet_public)
    }

    /// The index the next sent message will carry: the sending chain's position, or 0 when the next
    /// send starts a new chain.
    pub fn next_send_index(&self) -> u32 {
        self.sender.as_ref().map_or(0, |s| s.chain.index())
    }

    /// The length of our previous sending chain (the specification's `PN`), as the next
    /// [`SendKey::previous_counter`] will carry it.
    pub const fn previous_counter(&self) -> u32 {
        self.previous_counter
    }

    /// The number of receiving chains kept.
    pub fn receiving_chains(&self) -> usize {
        self.receivers.iter().flatten().count()
    }

    /// The number of skipped message keys stored.
    pub fn skipped_keys(&self) -> usize {
        self.skipped.len()
    }

    /// The key for the next outgoing message, advancing the sending chain. When no sending chain exists,
    /// a fresh ratchet key is generated from `rng` and the sending half of the DH step runs first.
    ///
    /// On error nothing changes.
    pub fn next_send_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<SendKey, RatchetError> {
        if self.sender.is_none() {
            self.ratchet_sending(rng)?;
        }
        let sender = self.sender.as_mut().ok_or(RatchetError::NoSendingChain)?;
        let message_key = sender
            .chain
            .next_message_key()
            .ok_or(RatchetError::ChainExhausted)?;
        Ok(SendKey {
            ratchet_key: sender.ratchet_public,
            index: message_key.index(),
            previous_counter: self.previous_counter,
            header_key: sender
                .header_key
                .as_ref()
                .map(|k| SecretBytes::from_bytes(*k.as_bytes())),
            message_key,
        })
    }

    /// The sending half of a DH step: a new ratchet key against the newest receiving chain's key.
    fn ratchet_sending<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<(), RatchetError> {
        let their = self
            .newest_receiver()
            .map(|r| r.ratchet_key)
            .ok_or(RatchetError::NoSendingChain)?;
        let ratchet = Curve25519SecretKey::generate(rng);
        let step = dh_step::<S>(
            self.root_key.as_bytes(),
            &ratchet,
            &their,
            self.header_keys.is_some(),
        )?;
        self.root_key = step.root_key;
        let header_key = match (&mut self.header_keys, step.next_header_key) {
            (Some(h), Some(next)) => Some(core::mem::replace(&mut h.send, next)),
            _ => None,
        };
        self.sender = Some(SenderChain {
            ratchet_public: ratchet.public_key(),
            ratchet,
            chain: step.chain_key,
            header_key,
        });
        self.pending_ratchet = None;
        Ok(())
    }

    fn newest_receiver(&self) -> Option<&ReceiverChain> {
        self.receivers.first().and_then(Option::as_ref)
    }

    fn push_receiver(&mut self, chain: ReceiverChain) {
        if C == 0 {
            return;
        }
        // The oldest chain (last slot) falls off. Its skipped keys stay in the skipped store unless
        // the suite drops them with it.
        self.receivers.rotate_right(1);
        if let Some(first) = self.receivers.first_mut()
            && let Some(evicted) = first.replace(chain)
            && S::DROP_SKIPPED_WITH_CHAIN
        {
            self.skipped.remove_chain(&evicted.ratchet_key);
        }
    }

    /// The header keys a receiver may try, each with where it came from: the receiving chains' keys
    /// (newest first), the keys of skipped entries whose chain is no longer kept, then the next
    /// receiving header key. Empty for sessions without header encryption.
    pub fn header_keys(&self) -> impl Iterator<Item = (HeaderKeySource, &[u8; 32])> {
        let chains = self.receivers.iter().enumerate().filter_map(|(i, r)| {
            r.as_ref()
                .and_then(|r| r.header_key.as_ref())
                .map(|k| (HeaderKeySource::Chain(i), k.as_bytes()))
        });
        let skipped = self
            .skipped
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                !self
                    .receivers
                    .iter()
                    .flatten()
                    .any(|r| r.ratchet_key == e.ratchet_key)
            })
            .filter_map(|(i, e)| {
                e.header_key
                    .as_ref()
                    .map(|k| (HeaderKeySource::Skipped(i), k.as_bytes()))
            });
        let next = self
            .header_keys
            .as_ref()
            .map(|h| (HeaderKeySource::Next, h.receive.as_bytes()));
        chains.chain(skipped).chain(next)
    }

    /// Whether a header opened with the key from `source` may name `ratchet_key`: a chain's header key
    /// only covers that chain, a skipped entry's only its own chain, and the next receiving key only a
    /// chain we do not know yet.
    pub fn header_source_matches(
        &self,
        source: HeaderKeySource,
        ratchet_key: &Curve25519PublicKey,
    ) -> bool {
        let known =
            |k: &Curve25519PublicKey| self.receivers.iter().flatten().any(|r| &r.ratchet_key == k);
        match source {
            HeaderKeySource::Chain(i) => self
                .receivers
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|r| &r.ratchet_key == ratchet_key),
            HeaderKeySource::Skipped(i) => self
                .skipped
                .iter()
                .nth(i)
                .is_some_and(|e| &e.ratchet_key == ratchet_key),
            HeaderKeySource::Next => !known(ratchet_key),
        }
    }

    /// Computes, without changing anything, how to receive message `index` of the chain named by
    /// `ratchet_key`. The plan holds the message key; commit it with [`DoubleRatchet::commit`] once the
    /// message authenticated.
    ///
    /// Errors: [`RatchetError::MessageKeyNotFound`] for a message whose key was used or dropped (a
    /// replay, or too old), [`RatchetError::TooFarAhead`] past the suite's maximum gap,
    /// [`RatchetError::UnexpectedRatchetKey`] for a new ratchet key we cannot answer,
    /// [`RatchetError::InvalidRatchetKey`] for a small-order ratchet key.
    pub fn plan_receive(
        &self,
        ratchet_key: &Curve25519PublicKey,
        index: u32,
    ) -> Result<ReceivePlan, RatchetError> {
        if let Some(pos) = self.skipped.find(ratchet_key, index) {
            let entry = self
                .skipped
                .get(pos)
                .ok_or(RatchetError::MessageKeyNotFound)?;
            return Ok(ReceivePlan {
                ratchet_key: *ratchet_key,
                message_key: MessageKey::new(SecretBytes::from_bytes(*entry.key.as_bytes()), index),
                source: PlanSource::Skipped(pos),
            });
        }
        if let Some(slot) = self
            .receivers
            .iter()
            .position(|r| r.as_ref().is_some_and(|r| &r.ratchet_key == ratchet_key))
        {
            let chain = self
                .receivers
                .get(slot)
                .and_then(Option::as_ref)
                .ok_or(RatchetError::MessageKeyNotFound)?;
            if index < chain.chain.index() {
                return Err(RatchetError::MessageKeyNotFound);
            }
            let (message_key, skip_from, after) = Self::walk(chain.chain.duplicate(), index)?;
            return Ok(ReceivePlan {
                ratchet_key: *ratchet_key,
                message_key,
                source: PlanSource::Chain {
                    slot,
                    skip_from,
                    after,
                },
            });
        }
        // A new chain: the DH step with our current ratchet secret.
        let ours = match (&self.sender, &self.pending_ratchet) {
            (Some(s), _) => &s.ratchet,
            (None, Some(p)) => p,
            (None, None) => return Err(RatchetError::UnexpectedRatchetKey),
        };
        let step = dh_step::<S>(
            self.root_key.as_bytes(),
            ours,
            ratchet_key,
            self.header_keys.is_some(),
        )?;
        let (message_key, skip_from, after) = Self::walk(step.chain_key, index)?;
        Ok(ReceivePlan {
            ratchet_key: *ratchet_key,
            message_key,
            source: PlanSource::NewChain {
                root_key: step.root_key,
                next_header_key: step.next_header_key,
                skip_from,
                after,
            },
        })
    }

    /// Walks `chain` to `index`: returns the message key at `index`, the chain at the first index whose
    /// skipped key will be kept, and the chain just past `index`.
    fn walk(
        mut chain: ChainKey,
        index: u32,
    ) -> Result<(MessageKey, ChainKey, ChainKey), RatchetError> {
        let gap = index
            .checked_sub(chain.index())
            .ok_or(RatchetError::MessageKeyNotFound)?;
        if gap > S::MAX_MESSAGE_GAP {
            return Err(RatchetError::TooFarAhead);
        }
        let keep = u32::try_from(S::MAX_SKIPPED_PER_CHAIN).unwrap_or(u32::MAX);
        let keep_from = index.saturating_sub(keep).max(chain.index());
        while chain.index() < keep_from {
            if !chain.advance() {
                return Err(RatchetError::ChainExhausted);
            }
        }
        let skip_from = chain.duplicate();
        while chain.index() < index {
            if !chain.advance() {
                return Err(RatchetError::ChainExhausted);
            }
        }
        let message_key = chain
            .next_message_key()
            .ok_or(RatchetError::ChainExhausted)?;
        Ok((message_key, skip_from, chain))
    }

    /// Applies a plan from [`DoubleRatchet::plan_receive`] on this same, unchanged state.
    pub fn commit(&mut self, plan: ReceivePlan) {
        let ReceivePlan {
            ratchet_key,
            message_key,
            source,
        } = plan;
        match source {
            PlanSource::Skipped(pos) => self.skipped.remove(pos),
            PlanSource::Chain {
                slot,
                skip_from,
                after,
            } => {
                let header_key = self
                    .receivers
                    .get(slot)
                    .and_then(Option::as_ref)
                    .and_then(|r| r.header_key.as_ref())
                    .map(|k| *k.as_bytes());
                self.store_skipped(ratchet_key, header_key, skip_from, message_key.index());
                if let Some(Some(r)) = self.receivers.get_mut(slot) {
                    r.chain = after;
                }
            }
            PlanSource::NewChain {
                root_key,
                next_header_key,
                skip_from,
                after,
            } => {
                // The chain's header key is the old next receiving key; the step yields the new one.
                let header_key = match (&mut self.header_keys, next_header_key) {
                    (Some(h), Some(next)) => Some(core::mem::replace(&mut h.receive, next)),
                    _ => None,
                };
                let hk_bytes = header_key.as_ref().map(|k| *k.as_bytes());
                self.root_key = root_key;
                // Our ratchet secret has done its last DH: the next send makes a fresh one. Dropping
                // the sending chain zeroizes it.
                if let Some(old) = self.sender.take() {
                    self.previous_counter = old.chain.index();
                }
                self.pending_ratchet = None;
                // The oldest chain falls off (with its skipped keys, when the suite drops them) before
                // the new chain's skipped keys are stored: with every kept chain holding its maximum,
                // storing first would evict the oldest key overall, possibly of a chain still kept,
                // where vodozemac keeps every kept chain's keys.
                self.push_receiver(ReceiverChain {
                    ratchet_key,
                    chain: after,
                    header_key,
                });
                self.store_skipped(ratchet_key, hk_bytes, skip_from, message_key.index());
            }
        }
    }

    /// Stores the keys of the messages from `from`'s index up to (not including) `until`.
    fn store_skipped(
        &mut self,
        ratchet_key: Curve25519PublicKey,
        header_key: Option<[u8; 32]>,
        mut from: ChainKey,
        until: u32,
    ) {
        while from.index() < until {
            self.skipped.insert(
                ratchet_key,
                header_key.map(SecretBytes::from_bytes),
                from.message_key(),
                S::MAX_SKIPPED_PER_CHAIN,
            );
            if !from.advance() {
                break;
            }
        }
    }
}

/// One root-key step: `KDF_RK(root_key, DH(ours, their))` with the suite's label. A small-order `their`
/// is [`RatchetError::InvalidRatchetKey`].
fn dh_step<S: Suite>(
    root_key: &[u8; 32],
    ours: &Curve25519SecretKey,
    their: &Curve25519PublicKey,
    header_keys: bool,
) -> Result<RootStep, RatchetError> {
    let dh = ours
        .diffie_hellman(their)
        .map_err(|_| RatchetError::InvalidRatchetKey)?;
    Ok(kdf_rk(root_key, dh.as_bytes(), S::ROOT_INFO, header_keys))
}

impl<S: Suite, const C: usize, const K: usize> fmt::Debug for DoubleRatchet<S, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoubleRatchet")
            .field("our_ratchet_key", &self.our_ratchet_key())
            .field("receiving_chains", &self.receiving_chains())
            .field("skipped_keys", &self.skipped.len())
            .field("header_encryption", &self.has_header_encryption())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;

//! The receiving side of Signal sender keys: one record per (sender, distribution id).

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::wire::DistributionId;
use super::{ChainKey, MessageKey, SenderKeyDistributionMessage, SenderKeyMessage};
use crate::Error;
use crate::error::SignalError;
use crate::limits::{
    SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP, SIGNAL_SENDER_KEY_MAX_MESSAGE_KEYS,
    SIGNAL_SENDER_KEY_MAX_STATES,
};
use crate::primitives::aes::aes256_cbc_decrypt_in_place;
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::xeddsa::XEdDsaVerifyingKey;

/// What [`SenderKeyRecord::decrypt_into`] produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decrypted {
    /// The plaintext length written to the output buffer.
    pub plaintext_len: usize,
    /// The chain the message belongs to.
    pub chain_id: u32,
    /// The message's iteration in that chain.
    pub iteration: u32,
}

/// One chain a sender distributed: its id, the chain key at the next iteration expected, and the
/// sender's public signing key.
pub(crate) struct ReceiverState {
    pub(crate) chain_id: u32,
    pub(crate) chain: ChainKey,
    pub(crate) signing_key: Curve25519PublicKey,
    /// `signing_key` prepared for XEdDSA once; `None` when it is no usable key, so that every message
    /// on the chain fails its signature check, as it would with the key converted per message.
    verifier: Option<XEdDsaVerifyingKey>,
}

impl ReceiverState {
    pub(crate) fn new(chain_id: u32, chain: ChainKey, signing_key: Curve25519PublicKey) -> Self {
        Self {
            chain_id,
            chain,
            signing_key,
            verifier: XEdDsaVerifyingKey::new(&signing_key).ok(),
        }
    }
}

/// The message-key seed of a skipped iteration of chain `chain_id`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct StoredKey {
    pub(crate) chain_id: u32,
    pub(crate) iteration: u32,
    pub(crate) seed: [u8; 32],
}

impl StoredKey {
    const EMPTY: Self = Self {
        chain_id: 0,
        iteration: 0,
        seed: [0; 32],
    };
}

/// A ring of at most `N` stored keys, oldest first; pushing onto a full ring evicts the oldest.
pub(crate) struct KeyStore<const N: usize> {
    entries: [StoredKey; N],
    /// The physical slot of the oldest entry.
    start: usize,
    len: usize,
}

impl<const N: usize> KeyStore<N> {
    fn new() -> Self {
        Self {
            entries: core::array::from_fn(|_| StoredKey::EMPTY),
            start: 0,
            len: 0,
        }
    }

    pub(crate) const fn len(&self) -> usize {
        self.len
    }

    const fn slot(&self, i: usize) -> usize {
        // N > 0 whenever there is an entry to address.
        (self.start + i) % if N == 0 { 1 } else { N }
    }

    /// The entries, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &StoredKey> + '_ {
        (0..self.len).filter_map(|i| self.entries.get(self.slot(i)))
    }

    fn find(&self, chain_id: u32, iteration: u32) -> Option<usize> {
        self.iter()
            .position(|e| e.chain_id == chain_id && e.iteration == iteration)
    }

    fn seed(&self, i: usize) -> Option<&[u8; 32]> {
        self.entries.get(self.slot(i)).map(|e| &e.seed)
    }

    /// Appends a key, evicting the oldest when full (with `N == 0`, keeps nothing).
    pub(crate) fn push(&mut self, chain_id: u32, iteration: u32, seed: &[u8; 32]) {
        if N == 0 {
            return;
        }
        let at = if self.len == N {
            let oldest = self.start;
            self.start = self.slot(1);
            oldest
        } else {
            self.len += 1;
            self.slot(self.len - 1)
        };
        if let Some(e) = self.entries.get_mut(at) {
            e.chain_id = chain_id;
            e.iteration = iteration;
            e.seed = *seed;
        }
    }

    /// Keeps only the entries `keep` selects, in order.
    fn retain(&mut self, mut keep: impl FnMut(&StoredKey) -> bool) {
        let mut kept = 0;
        for i in 0..self.len {
            let from = self.slot(i);
            let Some(e) = self.entries.get(from) else {
                continue;
            };
            if !keep(e) {
                continue;
            }
            if kept != i {
                let moved = e.clone();
                let to = self.slot(kept);
                if let Some(to) = self.entries.get_mut(to) {
                    *to = moved;
                }
            }
            kept += 1;
        }
        for i in kept..self.len {
            let at = self.slot(i);
            if let Some(e) = self.entries.get_mut(at) {
                e.zeroize();
            }
        }
        self.len = kept;
    }

    /// Removes the entry at logical position `at`.
    fn remove(&mut self, at: usize) {
        let mut i = 0;
        self.retain(|_| {
            i += 1;
            i - 1 != at
        });
    }
}

/// Where the key of a message comes from, found without changing the record.
enum Source {
    /// A stored key, at this logical position of the store.
    Stored(usize),
    /// The chain, walked ahead to the message's iteration. `from` is the chain at the first skipped
    /// iteration worth storing (absent when nothing is skipped or nothing can be stored); `next` is the
    /// chain after the message.
    Ahead {
        from: Option<ChainKey>,
        next: ChainKey,
    },
}

/// A member's sender-key record for one (sender, distribution id), like libsignal's `SenderKeyRecord`:
/// up to [`SIGNAL_SENDER_KEY_MAX_STATES`] chains the sender has distributed (newest first; the oldest
/// is dropped), and up to `KEYS` message keys of skipped iterations, shared by those chains (oldest
/// evicted first; default [`SIGNAL_SENDER_KEY_MAX_MESSAGE_KEYS`], libsignal's 2000, about 80 KB
/// inline; pick fewer on a small device).
///
/// Which sender a record belongs to is the application's business (libsignal keys its store by the
/// sender's protocol address); the record checks that messages carry its distribution id.
///
/// Secrets are zeroized on drop and never printed; not `Clone`.
pub struct SenderKeyRecord<const KEYS: usize = SIGNAL_SENDER_KEY_MAX_MESSAGE_KEYS> {
    pub(crate) distribution_id: DistributionId,
    /// Newest first; the `Some`s come before the `None`s.
    pub(crate) states: [Option<ReceiverState>; SIGNAL_SENDER_KEY_MAX_STATES],
    pub(crate) keys: KeyStore<KEYS>,
}

impl<const KEYS: usize> SenderKeyRecord<KEYS> {
    /// An empty record for `distribution_id`: it decrypts nothing until a distribution message is
    /// processed.
    pub fn new(distribution_id: DistributionId) -> Self {
        Self {
            distribution_id,
            states: [const { None }; SIGNAL_SENDER_KEY_MAX_STATES],
            keys: KeyStore::new(),
        }
    }

    /// A record holding the one chain `skdm` distributes.
    pub fn from_distribution_message(skdm: &SenderKeyDistributionMessage) -> Self {
        let mut record = Self::new(skdm.distribution_id);
        record.insert(skdm);
        record
    }

    /// Adds the chain `skdm` distributes, as libsignal's `process_sender_key_distribution_message`
    /// does: a chain already known (same chain id and signing key) keeps its position and stored keys
    /// and moves to the front; a known chain id with another signing key is replaced (and its stored
    /// keys dropped); the oldest chain is dropped when [`SIGNAL_SENDER_KEY_MAX_STATES`] are held.
    ///
    /// # Errors
    /// [`SignalError::DistributionMismatch`] when `skdm` is for another distribution id; nothing
    /// changes then.
    pub fn process_distribution_message(
        &mut self,
        skdm: &SenderKeyDistributionMessage,
    ) -> Result<(), Error> {
        if skdm.distribution_id != self.distribution_id {
            return Err(SignalError::DistributionMismatch.into());
        }
        self.insert(skdm);
        Ok(())
    }

    fn insert(&mut self, skdm: &SenderKeyDistributionMessage) {
        let existing = self.states.iter_mut().find_map(|slot| {
            if slot
                .as_ref()
                .is_some_and(|s| s.chain_id == skdm.chain_id && s.signing_key == skdm.signing_key)
            {
                slot.take()
            } else {
                None
            }
        });
        if existing.is_none() {
            self.drop_chain(skdm.chain_id);
        }
        self.compact();
        let state = existing.unwrap_or_else(|| {
            ReceiverState::new(
                skdm.chain_id,
                ChainKey::new(&skdm.chain_key, skdm.iteration),
                skdm.signing_key,
            )
        });
        if let Some(oldest) = self.states.last_mut().and_then(Option::take) {
            let id = oldest.chain_id;
            self.keys.retain(|e| e.chain_id != id);
        }
        self.states.rotate_right(1);
        if let Some(first) = self.states.first_mut() {
            *first = Some(state);
        }
    }

    /// Drops the state of `chain_id` and its stored keys.
    fn drop_chain(&mut self, chain_id: u32) {
        for slot in &mut self.states {
            if slot.as_ref().is_some_and(|s| s.chain_id == chain_id) {
                *slot = None;
            }
        }
        self.keys.retain(|e| e.chain_id != chain_id);
    }

    /// Moves the `Some`s to the front, keeping their order.
    fn compact(&mut self) {
        let mut kept = 0;
        for i in 0..self.states.len() {
            if self.states.get(i).is_some_and(Option::is_some) {
                self.states.swap(kept, i);
                kept += 1;
            }
        }
    }

    /// The record's distribution id.
    pub const fn distribution_id(&self) -> DistributionId {
        self.distribution_id
    }

    /// The chain ids held, newest first.
    pub fn chain_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.states.iter().flatten().map(|s| s.chain_id)
    }

    /// The next iteration expected on chain `chain_id`, if it is held.
    pub fn iteration(&self, chain_id: u32) -> Option<u32> {
        self.state(chain_id).map(|s| s.chain.iteration)
    }

    /// How many message keys of skipped iterations are stored.
    pub const fn stored_keys(&self) -> usize {
        self.keys.len()
    }

    /// The most message keys this record stores.
    pub const fn capacity(&self) -> usize {
        KEYS
    }

    fn state(&self, chain_id: u32) -> Option<&ReceiverState> {
        self.states
            .iter()
            .flatten()
            .find(|s| s.chain_id == chain_id)
    }

    /// The largest plaintext `message` can hold (its ciphertext length), for sizing
    /// [`SenderKeyRecord::decrypt_into`]'s buffer.
    pub fn decrypt_len(message: &[u8]) -> Result<usize, Error> {
        Ok(SenderKeyMessage::parse(message)?.ciphertext().len())
    }

    /// Decrypts `message` into `out`; returns the plaintext length, chain id and iteration. `out` must
    /// hold [`SenderKeyRecord::decrypt_len`] bytes. Performs no heap allocation.
    ///
    /// In order: the strict parse; [`SignalError::DistributionMismatch`];
    /// [`SignalError::NoSenderKeyState`] for an unknown chain id; [`SignalError::InvalidSignature`];
    /// [`SignalError::BufferTooSmall`]; [`SignalError::DuplicatedMessage`] for an iteration already
    /// read or whose key is no longer stored; [`SignalError::TooFarAhead`]; then
    /// [`SignalError::Authentication`] if the CBC padding is wrong. On any error the record and `out`
    /// hold nothing new.
    pub fn decrypt_into(&mut self, message: &[u8], out: &mut [u8]) -> Result<Decrypted, Error> {
        let m = SenderKeyMessage::parse(message)?;
        if m.distribution_id() != self.distribution_id {
            return Err(SignalError::DistributionMismatch.into());
        }
        let state = self
            .state(m.chain_id())
            .ok_or(SignalError::NoSenderKeyState)?;
        state
            .verifier
            .as_ref()
            .ok_or(SignalError::InvalidSignature)?
            .verify(m.signed_bytes(), m.signature())
            .map_err(|_| SignalError::InvalidSignature)?;
        let ciphertext = m.ciphertext();
        let needed = ciphertext.len();
        let out = out
            .get_mut(..needed)
            .ok_or(SignalError::BufferTooSmall { needed })?;

        let (source, seed) = self.find_key(state, m.iteration())?;
        let key = MessageKey::derive(&seed)?;
        out.copy_from_slice(ciphertext);
        let len = aes256_cbc_decrypt_in_place(&key.cipher_key, &key.iv, out)
            .map_err(|_| SignalError::Authentication)?;

        // Authenticated (signature) and well-formed (padding): commit.
        self.commit(m.chain_id(), m.iteration(), source);
        Ok(Decrypted {
            plaintext_len: len,
            chain_id: m.chain_id(),
            iteration: m.iteration(),
        })
    }

    /// The key of `iteration` of `state`'s chain, and where it came from, without changing anything.
    fn find_key(
        &self,
        state: &ReceiverState,
        iteration: u32,
    ) -> Result<(Source, zeroize::Zeroizing<[u8; 32]>), SignalError> {
        let current = state.chain.iteration;
        if iteration < current {
            let at = self
                .keys
                .find(state.chain_id, iteration)
                .ok_or(SignalError::DuplicatedMessage)?;
            let seed = self.keys.seed(at).ok_or(SignalError::Internal)?;
            return Ok((Source::Stored(at), zeroize::Zeroizing::new(*seed)));
        }
        if iteration - current > SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP {
            return Err(SignalError::TooFarAhead);
        }
        if iteration == u32::MAX {
            return Err(SignalError::ChainExhausted);
        }
        // Only the last `KEYS` skipped keys could stay stored; walk to the first of them, keep that
        // position, then on to the message.
        let capacity = u32::try_from(KEYS).unwrap_or(u32::MAX);
        let store_from = iteration.saturating_sub(capacity).max(current);
        let mut chain = state.chain.duplicate();
        let mut from = None;
        while chain.iteration < iteration {
            if chain.iteration == store_from {
                from = Some(chain.duplicate());
            }
            chain.advance();
        }
        let seed = chain.seed();
        chain.advance();
        Ok((Source::Ahead { from, next: chain }, seed))
    }

    fn commit(&mut self, chain_id: u32, iteration: u32, source: Source) {
        match source {
            Source::Stored(at) => self.keys.remove(at),
            Source::Ahead { from, next } => {
                if let Some(mut chain) = from {
                    while chain.iteration < iteration {
                        self.keys.push(chain_id, chain.iteration, &chain.seed());
                        chain.advance();
                    }
                }
                if let Some(state) = self
                    .states
                    .iter_mut()
                    .flatten()
                    .find(|s| s.chain_id == chain_id)
                {
                    state.chain = next;
                }
            }
        }
    }

    /// [`SenderKeyRecord::decrypt_into`], returning the plaintext as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn decrypt(&mut self, message: &[u8]) -> Result<alloc::vec::Vec<u8>, Error> {
        let mut out = alloc::vec![0u8; Self::decrypt_len(message)?];
        let got = self.decrypt_into(message, &mut out)?;
        out.truncate(got.plaintext_len);
        Ok(out)
    }

    /// A digest of the whole state (for the fuzz checks' "failure changes nothing").
    #[cfg(feature = "alloc")]
    pub(crate) fn digest(&self) -> [u8; 32] {
        let mut h = crate::primitives::hash::Sha256::new();
        h.update(self.distribution_id.as_bytes());
        for s in self.states.iter() {
            match s {
                None => {
                    h.update(&[0]);
                }
                Some(s) => {
                    h.update(&[1])
                        .update(&s.chain_id.to_be_bytes())
                        .update(&s.chain.iteration.to_be_bytes())
                        .update(&s.chain.key)
                        .update(s.signing_key.as_bytes());
                }
            }
        }
        for k in self.keys.iter() {
            h.update(&k.chain_id.to_be_bytes())
                .update(&k.iteration.to_be_bytes())
                .update(&k.seed);
        }
        h.finalize()
    }
}

impl<const KEYS: usize> fmt::Debug for SenderKeyRecord<KEYS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Chains<'a>(&'a [Option<ReceiverState>]);
        impl fmt::Debug for Chains<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(
                        self.0
                            .iter()
                            .flatten()
                            .map(|s| (s.chain_id, s.chain.iteration)),
                    )
                    .finish()
            }
        }
        f.debug_struct("SenderKeyRecord")
            .field("distribution_id", &self.distribution_id)
            .field("chains", &Chains(&self.states))
            .field("stored_keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

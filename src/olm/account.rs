//! An Olm account: a device's long-term keys, its one-time keys and fallback keys.

use core::fmt;

use rand_core::CryptoRng;

use crate::Error;
use crate::error::OlmError;
use crate::limits::OLM_MAX_ONE_TIME_KEYS;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};
use crate::x3dh::olm as tdh;

use super::KeyId;
use super::session::{Session, SessionKeys};
use super::wire::{decode_message, decode_pre_key_message};

/// A device's public identity: the Curve25519 key sessions are made with and the Ed25519 key that
/// signs (published as `curve25519:<DEVICE>` and `ed25519:<DEVICE>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityKeys {
    /// The Curve25519 identity key.
    pub curve25519: Curve25519PublicKey,
    /// The Ed25519 signing key.
    pub ed25519: Ed25519PublicKey,
}

/// A one-time or fallback key: its id, both halves, and whether it was published.
pub(crate) struct OneTimeKey {
    pub(crate) id: KeyId,
    pub(crate) secret: Curve25519SecretKey,
    pub(crate) public: Curve25519PublicKey,
    pub(crate) published: bool,
}

impl OneTimeKey {
    fn new(id: KeyId, secret: Curve25519SecretKey) -> Self {
        Self {
            public: secret.public_key(),
            id,
            secret,
            published: false,
        }
    }
}

/// An inbound session and the length of the first plaintext, from
/// [`Account::create_inbound_session_into`].
#[derive(Debug)]
pub struct InboundSession {
    /// The new session.
    pub session: Session,
    /// The length of the pre-key message's plaintext, written to the caller's buffer.
    pub plaintext_len: usize,
}

/// An inbound session and the first plaintext, from [`Account::create_inbound_session`].
#[cfg(feature = "alloc")]
#[derive(Debug)]
pub struct InboundCreationResult {
    /// The new session.
    pub session: Session,
    /// The decrypted first message.
    pub plaintext: alloc::vec::Vec<u8>,
}

/// What [`Account::generate_one_time_keys`] did.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeKeyGenerationResult {
    /// The public halves of the keys created, oldest first.
    pub created: alloc::vec::Vec<Curve25519PublicKey>,
    /// The public halves of the keys evicted to make room, oldest first. Tell the server to stop
    /// handing them out; a pre-key message made with one of them can no longer be read.
    pub removed: alloc::vec::Vec<Curve25519PublicKey>,
}

/// An Olm account, holding up to `N` one-time keys (by default
/// [`OLM_MAX_ONE_TIME_KEYS`](crate::limits::OLM_MAX_ONE_TIME_KEYS)).
///
/// Creating an outbound session borrows the account immutably, so many can be created at once;
/// creating an inbound session removes the one-time key used, and only once the pre-key message
/// decrypted.
pub struct Account<const N: usize = OLM_MAX_ONE_TIME_KEYS> {
    pub(crate) identity: Curve25519SecretKey,
    pub(crate) identity_public: Curve25519PublicKey,
    pub(crate) signing: Ed25519SecretKey,
    pub(crate) signing_public: Ed25519PublicKey,
    /// Oldest (lowest id) first, contiguous in `one_time[..one_time_len]`.
    pub(crate) one_time: [Option<OneTimeKey>; N],
    pub(crate) one_time_len: usize,
    pub(crate) next_one_time_id: u64,
    pub(crate) fallback: Option<OneTimeKey>,
    pub(crate) previous_fallback: Option<OneTimeKey>,
    pub(crate) next_fallback_id: u64,
}

impl<const N: usize> Account<N> {
    /// A new account with fresh identity and signing keys, and no one-time keys.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let identity = Curve25519SecretKey::generate(rng);
        let signing = Ed25519SecretKey::generate(rng);
        Self::from_parts(identity, signing)
    }

    pub(crate) fn from_parts(identity: Curve25519SecretKey, signing: Ed25519SecretKey) -> Self {
        {
            let public = identity.public_key();
            Self::from_stored_parts(identity, public, signing)
        }
    }

    /// An account from its keys, the identity key's public half already known (from a pickle).
    pub(crate) fn from_stored_parts(
        identity: Curve25519SecretKey,
        identity_public: Curve25519PublicKey,
        signing: Ed25519SecretKey,
    ) -> Self {
        Self {
            identity_public,
            identity,
            signing_public: signing.public_key(),
            signing,
            one_time: core::array::from_fn(|_| None),
            one_time_len: 0,
            next_one_time_id: 0,
            fallback: None,
            previous_fallback: None,
            next_fallback_id: 0,
        }
    }

    /// An account from explicit identity and signing keys, for known-answer tests and migrations.
    #[cfg(feature = "hazmat")]
    pub fn from_keys(identity: Curve25519SecretKey, signing: Ed25519SecretKey) -> Self {
        Self::from_parts(identity, signing)
    }

    /// Both public identity keys.
    pub fn identity_keys(&self) -> IdentityKeys {
        IdentityKeys {
            curve25519: self.identity_public,
            ed25519: self.signing_public,
        }
    }

    /// The Curve25519 identity key.
    pub const fn curve25519_key(&self) -> Curve25519PublicKey {
        self.identity_public
    }

    /// The Ed25519 signing key.
    pub fn ed25519_key(&self) -> Ed25519PublicKey {
        self.signing_public
    }

    /// Signs `message` with the Ed25519 key (for device keys, one-time key uploads, anything else).
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        self.signing.sign(message)
    }

    /// How many one-time keys to publish at most: half the store, so that keys already claimed are not
    /// evicted by the next batch.
    pub const fn max_number_of_one_time_keys(&self) -> usize {
        N / 2
    }

    /// The number of one-time keys held (published or not).
    pub const fn stored_one_time_key_count(&self) -> usize {
        self.one_time_len
    }

    fn stored(&self) -> impl Iterator<Item = &OneTimeKey> {
        self.one_time.iter().take(self.one_time_len).flatten()
    }

    /// Generates `count` one-time keys. When the store is full, the oldest key is evicted for each new
    /// one and passed to `on_evicted`. Returns the number of keys evicted. No heap allocation.
    pub fn generate_one_time_keys_with<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        count: usize,
        on_evicted: impl FnMut(KeyId, Curve25519PublicKey),
    ) -> usize {
        self.generate(rng, count, |_, _| {}, on_evicted)
    }

    fn generate<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        count: usize,
        mut on_created: impl FnMut(KeyId, Curve25519PublicKey),
        mut on_evicted: impl FnMut(KeyId, Curve25519PublicKey),
    ) -> usize {
        let mut evicted = 0;
        for _ in 0..count {
            let id = KeyId(self.next_one_time_id);
            self.next_one_time_id = self.next_one_time_id.wrapping_add(1);
            let key = OneTimeKey::new(id, Curve25519SecretKey::generate(rng));
            on_created(key.id, key.public);
            if let Some(old) = self.insert_one_time_key(key) {
                evicted += 1;
                on_evicted(old.id, old.public);
            }
        }
        evicted
    }

    /// Adds `key` as the newest one-time key, evicting (and returning) the oldest when full.
    fn insert_one_time_key(&mut self, key: OneTimeKey) -> Option<OneTimeKey> {
        if N == 0 {
            return Some(key);
        }
        let evicted = if self.one_time_len == N {
            self.remove_one_time_at(0)
        } else {
            None
        };
        if let Some(slot) = self.one_time.get_mut(self.one_time_len) {
            *slot = Some(key);
            self.one_time_len += 1;
        }
        evicted
    }

    /// Adds `secret` as a one-time key with the next id; returns the id and, if the store was full, the
    /// evicted key's id and public half. For known-answer tests.
    #[cfg(feature = "hazmat")]
    pub fn add_one_time_key(
        &mut self,
        secret: Curve25519SecretKey,
    ) -> (KeyId, Option<(KeyId, Curve25519PublicKey)>) {
        let id = KeyId(self.next_one_time_id);
        self.next_one_time_id = self.next_one_time_id.wrapping_add(1);
        let evicted = self
            .insert_one_time_key(OneTimeKey::new(id, secret))
            .map(|k| (k.id, k.public));
        (id, evicted)
    }

    fn remove_one_time_at(&mut self, pos: usize) -> Option<OneTimeKey> {
        if pos >= self.one_time_len {
            return None;
        }
        let removed = self.one_time.get_mut(pos).and_then(Option::take);
        if let Some(tail) = self.one_time.get_mut(pos..self.one_time_len) {
            tail.rotate_left(1);
        }
        self.one_time_len -= 1;
        removed
    }

    /// The one-time keys not yet published, oldest first.
    pub fn one_time_keys(&self) -> impl Iterator<Item = (KeyId, Curve25519PublicKey)> + '_ {
        self.stored()
            .filter(|k| !k.published)
            .map(|k| (k.id, k.public))
    }

    /// Marks every one-time key and the fallback key as published (call after uploading them).
    pub fn mark_keys_as_published(&mut self) {
        for k in self.one_time.iter_mut().flatten() {
            k.published = true;
        }
        if let Some(f) = &mut self.fallback {
            f.published = true;
        }
    }

    /// Generates a new fallback key. The current one becomes the previous one (still usable for
    /// sessions already on their way); the previous one, if any, is dropped and its public half
    /// returned.
    pub fn generate_fallback_key<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Option<Curve25519PublicKey> {
        let id = KeyId(self.next_fallback_id);
        self.next_fallback_id = self.next_fallback_id.wrapping_add(1);
        let new = OneTimeKey::new(id, Curve25519SecretKey::generate(rng));
        let previous = self.fallback.replace(new);
        core::mem::replace(&mut self.previous_fallback, previous).map(|k| k.public)
    }

    /// The current fallback key, if it is not published yet.
    pub fn fallback_key(&self) -> Option<(KeyId, Curve25519PublicKey)> {
        self.fallback
            .as_ref()
            .filter(|k| !k.published)
            .map(|k| (k.id, k.public))
    }

    /// Forgets the previous fallback key (once sessions made with it have had time to arrive). Returns
    /// whether there was one.
    pub fn forget_fallback_key(&mut self) -> bool {
        self.previous_fallback.take().is_some()
    }

    /// Creates an outbound session to the device with `identity_key`, using one of its one-time (or
    /// fallback) keys. Draws the base key, then the first ratchet key, from `rng` (libolm's order).
    ///
    /// Fails with [`crate::X3dhError::NonContributory`] if either key has small order.
    pub fn create_outbound_session<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        identity_key: &Curve25519PublicKey,
        one_time_key: &Curve25519PublicKey,
    ) -> Result<Session, Error> {
        let (secrets, base_key) = tdh::initiate(rng, &self.identity, identity_key, one_time_key)?;
        let ratchet_key = Curve25519SecretKey::generate(rng);
        Ok(Session::outbound(
            secrets,
            ratchet_key,
            SessionKeys {
                identity_key: self.identity_public,
                base_key,
                one_time_key: *one_time_key,
            },
        ))
    }

    /// [`Account::create_outbound_session`] with the base key and first ratchet key given, so a
    /// known-answer test can pin every byte. Never reuse either key.
    #[cfg(feature = "hazmat")]
    pub fn create_outbound_session_with_keys(
        &self,
        identity_key: &Curve25519PublicKey,
        one_time_key: &Curve25519PublicKey,
        base_key: &Curve25519SecretKey,
        ratchet_key: Curve25519SecretKey,
    ) -> Result<Session, Error> {
        let secrets =
            tdh::initiate_with_base_key(base_key, &self.identity, identity_key, one_time_key)?;
        Ok(Session::outbound(
            secrets,
            ratchet_key,
            SessionKeys {
                identity_key: self.identity_public,
                base_key: base_key.public_key(),
                one_time_key: *one_time_key,
            },
        ))
    }

    /// The secret of the one-time or fallback key with public half `public`, and whether it is a
    /// one-time key (at that position).
    fn find_key(
        &self,
        public: &Curve25519PublicKey,
    ) -> Option<(&Curve25519SecretKey, Option<usize>)> {
        if let Some(pos) = self.stored().position(|k| &k.public == public) {
            return self
                .one_time
                .get(pos)
                .and_then(Option::as_ref)
                .map(|k| (&k.secret, Some(pos)));
        }
        [&self.fallback, &self.previous_fallback]
            .into_iter()
            .flatten()
            .find(|k| &k.public == public)
            .map(|k| (&k.secret, None))
    }

    /// Creates an inbound session from a pre-key message sent by the device with `their_identity_key`,
    /// decrypting its message into `out` (which needs [`Session::decrypt_len`] bytes). No heap
    /// allocation.
    ///
    /// The one-time key is removed only after the message authenticated, so a forged pre-key message
    /// cannot burn one; fallback keys are never removed. On any error the account is unchanged.
    /// Errors: [`OlmError::IdentityKeyMismatch`] when the message names another identity key,
    /// [`OlmError::UnknownOneTimeKey`] when the key it was made for is not (or no longer) ours,
    /// [`OlmError::Authentication`] when it does not decrypt.
    pub fn create_inbound_session_into(
        &mut self,
        their_identity_key: &Curve25519PublicKey,
        pre_key_message: &[u8],
        out: &mut [u8],
    ) -> Result<InboundSession, Error> {
        let p = decode_pre_key_message(pre_key_message)?;
        if &p.identity_key != their_identity_key {
            return Err(OlmError::IdentityKeyMismatch.into());
        }
        let view = decode_message(p.message)?;
        let (secret, position) = self
            .find_key(&p.one_time_key)
            .ok_or(OlmError::UnknownOneTimeKey)?;
        let secrets = tdh::respond(&self.identity, secret, &p.identity_key, &p.base_key)?;
        let mut session = Session::inbound(
            secrets,
            view.ratchet_key,
            SessionKeys {
                identity_key: p.identity_key,
                base_key: p.base_key,
                one_time_key: p.one_time_key,
            },
        );
        let plaintext_len = session.decrypt_view(&view, out)?;
        if let Some(pos) = position {
            // Dropping the key zeroizes it.
            drop(self.remove_one_time_at(pos));
        }
        Ok(InboundSession {
            session,
            plaintext_len,
        })
    }

    /// [`Account::generate_one_time_keys_with`], reporting the keys created and evicted.
    #[cfg(feature = "alloc")]
    pub fn generate_one_time_keys<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        count: usize,
    ) -> OneTimeKeyGenerationResult {
        let mut created = alloc::vec::Vec::with_capacity(count.min(N));
        let mut removed = alloc::vec::Vec::new();
        self.generate(
            rng,
            count,
            |_, public| created.push(public),
            |_, public| removed.push(public),
        );
        OneTimeKeyGenerationResult { created, removed }
    }

    /// [`Account::create_inbound_session_into`], returning the plaintext as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn create_inbound_session(
        &mut self,
        their_identity_key: &Curve25519PublicKey,
        pre_key_message: &[u8],
    ) -> Result<InboundCreationResult, Error> {
        let mut out =
            alloc::vec![0u8; Session::decrypt_len(super::MessageType::PreKey, pre_key_message)?];
        let InboundSession {
            session,
            plaintext_len,
        } = self.create_inbound_session_into(their_identity_key, pre_key_message, &mut out)?;
        out.truncate(plaintext_len);
        Ok(InboundCreationResult {
            session,
            plaintext: out,
        })
    }
}

impl<const N: usize> fmt::Debug for Account<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("identity_keys", &self.identity_keys())
            .field("one_time_keys", &self.one_time_len)
            .field("has_fallback_key", &self.fallback.is_some())
            .finish_non_exhaustive()
    }
}

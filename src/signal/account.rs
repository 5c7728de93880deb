//! A classic Signal account: the identity key pair, the registration id, the signed prekey (XEdDSA
//! over its 33-byte encoding) and a bounded store of one-time prekeys; it publishes bundles and opens
//! sessions both ways.
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::signal::{Account, MessageType, Session};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]); // use an OS RNG in real code
//! let alice: Account = Account::new(&mut rng);
//! let mut bob: Account = Account::new(&mut rng);
//! bob.generate_one_time_pre_keys(&mut rng, 5);
//! let (id, _) = bob.one_time_pre_keys().next().unwrap();
//!
//! // Alice fetches Bob's bundle (the XEdDSA signature is checked) and sends a pre-key message.
//! let mut to_bob: Session = alice.create_outbound_session(&mut rng, &bob.bundle(Some(id))?)?;
//! let mut message = [0u8; 256];
//! let (kind, n) = to_bob.encrypt_into(&mut rng, b"hello", &mut message)?;
//! assert_eq!((kind, message[0]), (MessageType::PreKey, 0x33));
//!
//! // Bob opens the session from it, with no heap allocation; the one-time prekey is used up.
//! let mut plaintext = [0u8; 256];
//! let (mut to_alice, len): (Session, _) =
//!     bob.create_inbound_session_into(&message[..n], &mut plaintext)?;
//! assert_eq!(&plaintext[..len], b"hello");
//! assert_eq!(to_alice.their_registration_id(), alice.registration_id());
//! assert_eq!(bob.one_time_pre_keys().count(), 4);
//!
//! // Bob's reply is a plain SignalMessage; once Alice reads it, so are hers.
//! let (kind, n) = to_alice.encrypt_into(&mut rng, b"hi", &mut message)?;
//! let len = to_bob.decrypt_into(kind, &message[..n], &mut plaintext)?;
//! assert_eq!(&plaintext[..len], b"hi");
//! assert_eq!(to_bob.next_message_type(), MessageType::Whisper);
//! # Ok::<(), safemeet::Error>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;

use crate::Error;
use crate::limits::{SIGNAL_MAX_ONE_TIME_PREKEYS, SIGNAL_MAX_REGISTRATION_ID};
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::xeddsa::XEdDsaSignature;
use crate::x3dh::signal::{self as x3dh, BundleKeys};

use super::session::Session;
use super::wire::{PreKeyIds, decode_pre_key_message};
use crate::error::SignalError;

/// The largest prekey id: libsignal's ids are 24-bit (`Medium.MAX_VALUE`), and ids wrap to 1 after it.
pub const MAX_PRE_KEY_ID: u32 = 0x00FF_FFFF;

/// What a server hands out for an account: everything [`Account::create_outbound_session`] needs. The
/// same fields as libsignal's `PreKeyBundle` (npm `libsignal`'s `device` object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreKeyBundle {
    /// The account's registration id.
    pub registration_id: u32,
    /// The identity key.
    pub identity_key: Curve25519PublicKey,
    /// The signed prekey's id.
    pub signed_pre_key_id: u32,
    /// The signed prekey.
    pub signed_pre_key: Curve25519PublicKey,
    /// XEdDSA by the identity key over the signed prekey's 33-byte encoding.
    pub signed_pre_key_signature: XEdDsaSignature,
    /// A one-time prekey and its id, if the server had one left.
    pub pre_key: Option<(u32, Curve25519PublicKey)>,
}

/// A signed prekey with its secret.
pub(crate) struct SignedPreKey {
    pub(crate) id: u32,
    pub(crate) secret: Curve25519SecretKey,
    pub(crate) public: Curve25519PublicKey,
    pub(crate) signature: XEdDsaSignature,
}

/// A one-time prekey with its secret.
pub(crate) struct OneTimePreKey {
    pub(crate) id: u32,
    pub(crate) secret: Curve25519SecretKey,
    pub(crate) public: Curve25519PublicKey,
}

/// A classic Signal account holding at most `N` one-time prekeys.
pub struct Account<const N: usize = SIGNAL_MAX_ONE_TIME_PREKEYS> {
    pub(crate) identity: Curve25519SecretKey,
    pub(crate) identity_public: Curve25519PublicKey,
    pub(crate) registration_id: u32,
    pub(crate) signed: SignedPreKey,
    /// The signed prekey before the last rotation, kept for messages still in flight.
    pub(crate) previous_signed: Option<SignedPreKey>,
    /// Oldest first, contiguous in `one_time[..one_time_len]`.
    pub(crate) one_time: [Option<OneTimePreKey>; N],
    pub(crate) one_time_len: usize,
    pub(crate) next_pre_key_id: u32,
}

/// The id after `id`, wrapping from [`MAX_PRE_KEY_ID`] to 1.
const fn next_id(id: u32) -> u32 {
    if id >= MAX_PRE_KEY_ID { 1 } else { id + 1 }
}

/// A registration id in `1..=SIGNAL_MAX_REGISTRATION_ID`, uniformly (rejection sampling on 14 bits).
fn registration_id<R: CryptoRng + ?Sized>(rng: &mut R) -> u32 {
    loop {
        let mut b = [0u8; 2];
        rng.fill_bytes(&mut b);
        let v = u32::from(u16::from_le_bytes(b) & 0x3FFF);
        if (1..=SIGNAL_MAX_REGISTRATION_ID).contains(&v) {
            return v;
        }
    }
}

impl SignedPreKey {
    fn generate<R: CryptoRng + ?Sized>(
        rng: &mut R,
        identity: &Curve25519SecretKey,
        id: u32,
    ) -> Self {
        let secret = Curve25519SecretKey::generate(rng);
        let public = secret.public_key();
        let signature = x3dh::sign_prekey(rng, identity, &public);
        Self {
            id,
            secret,
            public,
            signature,
        }
    }
}

impl<const N: usize> Account<N> {
    /// A new account: a fresh identity key, a registration id in `1..=16380` as libsignal's
    /// `KeyHelper`, and a signed prekey with id 1. No one-time prekeys yet.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let identity = Curve25519SecretKey::generate(rng);
        let registration_id = registration_id(rng);
        let signed = SignedPreKey::generate(rng, &identity, 1);
        Self::from_parts(identity, registration_id, signed)
    }

    /// A new account around an existing X25519 identity key (for example a device's identity key in
    /// another profile): a fresh registration id and signed prekey, signed by that key with XEdDSA.
    pub fn from_identity_key<R: CryptoRng + ?Sized>(
        rng: &mut R,
        identity: Curve25519SecretKey,
    ) -> Self {
        let registration_id = registration_id(rng);
        let signed = SignedPreKey::generate(rng, &identity, 1);
        Self::from_parts(identity, registration_id, signed)
    }

    fn from_parts(
        identity: Curve25519SecretKey,
        registration_id: u32,
        signed: SignedPreKey,
    ) -> Self {
        Self {
            identity_public: identity.public_key(),
            identity,
            registration_id,
            signed,
            previous_signed: None,
            one_time: core::array::from_fn(|_| None),
            one_time_len: 0,
            next_pre_key_id: 1,
        }
    }

    /// An account from explicit key material, for known-answer tests and migrations: the identity
    /// secret, the registration id, and the signed prekey's id, secret and signature (not checked).
    #[cfg(feature = "hazmat")]
    pub fn from_keys(
        identity: &[u8; 32],
        registration_id: u32,
        signed_pre_key_id: u32,
        signed_pre_key: &[u8; 32],
        signature: XEdDsaSignature,
    ) -> Self {
        let secret = Curve25519SecretKey::from_bytes(signed_pre_key);
        let signed = SignedPreKey {
            id: signed_pre_key_id,
            public: secret.public_key(),
            secret,
            signature,
        };
        Self::from_parts(
            Curve25519SecretKey::from_bytes(identity),
            registration_id,
            signed,
        )
    }

    /// Adds a one-time prekey from explicit key material (for known-answer tests and migrations),
    /// evicting the oldest when full. Returns the evicted key's id.
    #[cfg(feature = "hazmat")]
    pub fn add_one_time_pre_key(&mut self, id: u32, secret: &[u8; 32]) -> Option<u32> {
        let secret = Curve25519SecretKey::from_bytes(secret);
        self.insert(OneTimePreKey {
            id,
            public: secret.public_key(),
            secret,
        })
    }

    /// The identity key.
    pub const fn identity_key(&self) -> Curve25519PublicKey {
        self.identity_public
    }

    /// The registration id, carried in our pre-key messages.
    pub const fn registration_id(&self) -> u32 {
        self.registration_id
    }

    /// The current signed prekey: its id, key and signature.
    pub const fn signed_pre_key(&self) -> (u32, Curve25519PublicKey, XEdDsaSignature) {
        (self.signed.id, self.signed.public, self.signed.signature)
    }

    /// Replaces the signed prekey with a fresh one (the next id). The old one is kept, for first
    /// messages still in flight, until the next rotation or [`Account::forget_previous_signed_pre_key`].
    pub fn rotate_signed_pre_key<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) {
        let id = next_id(self.signed.id);
        let fresh = SignedPreKey::generate(rng, &self.identity, id);
        self.previous_signed = Some(core::mem::replace(&mut self.signed, fresh));
    }

    /// Deletes the previous signed prekey (X3DH §3.2: after a grace period, for forward secrecy).
    pub fn forget_previous_signed_pre_key(&mut self) {
        self.previous_signed = None;
    }

    /// Generates `count` one-time prekeys with consecutive ids. When the store is full the oldest are
    /// evicted; returns how many were.
    pub fn generate_one_time_pre_keys<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        count: usize,
    ) -> usize {
        let mut evicted = 0;
        for _ in 0..count {
            let id = self.next_pre_key_id;
            self.next_pre_key_id = next_id(id);
            let secret = Curve25519SecretKey::generate(rng);
            let key = OneTimePreKey {
                id,
                public: secret.public_key(),
                secret,
            };
            if self.insert(key).is_some() {
                evicted += 1;
            }
        }
        evicted
    }

    fn insert(&mut self, key: OneTimePreKey) -> Option<u32> {
        if N == 0 {
            return Some(key.id);
        }
        let evicted = if self.one_time_len == N {
            self.remove_at(0).map(|k| k.id)
        } else {
            None
        };
        if let Some(slot) = self.one_time.get_mut(self.one_time_len) {
            *slot = Some(key);
            self.one_time_len += 1;
        }
        evicted
    }

    fn remove_at(&mut self, pos: usize) -> Option<OneTimePreKey> {
        let taken = self.one_time.get_mut(pos)?.take();
        if let Some(rest) = self.one_time.get_mut(pos..self.one_time_len) {
            rest.rotate_left(1);
        }
        self.one_time_len = self.one_time_len.saturating_sub(1);
        taken
    }

    fn position(&self, id: u32) -> Option<usize> {
        self.one_time
            .iter()
            .position(|k| k.as_ref().is_some_and(|k| k.id == id))
    }

    /// The one-time prekeys held, oldest first: id and public key.
    pub fn one_time_pre_keys(&self) -> impl Iterator<Item = (u32, Curve25519PublicKey)> + '_ {
        self.one_time.iter().flatten().map(|k| (k.id, k.public))
    }

    /// The bundle a server would hand out, with the one-time prekey `pre_key_id` (or none).
    ///
    /// # Errors
    /// [`SignalError::UnknownPreKey`] if this account holds no one-time prekey with that id.
    pub fn bundle(&self, pre_key_id: Option<u32>) -> Result<PreKeyBundle, SignalError> {
        let pre_key = match pre_key_id {
            None => None,
            Some(id) => {
                let key = self
                    .position(id)
                    .and_then(|p| self.one_time.get(p))
                    .and_then(Option::as_ref)
                    .ok_or(SignalError::UnknownPreKey)?;
                Some((key.id, key.public))
            }
        };
        Ok(PreKeyBundle {
            registration_id: self.registration_id,
            identity_key: self.identity_public,
            signed_pre_key_id: self.signed.id,
            signed_pre_key: self.signed.public,
            signed_pre_key_signature: self.signed.signature,
            pre_key,
        })
    }

    /// Opens a session to the owner of `bundle`: checks the signed prekey's XEdDSA signature, runs
    /// X3DH and returns a session whose messages are pre-key messages until a reply decrypts. Whether
    /// `bundle.identity_key` is the contact's is the application's to check.
    ///
    /// # Errors
    /// [`crate::X3dhError::InvalidSignature`] for a bad signature, [`crate::X3dhError::NonContributory`]
    /// for a small-order key.
    pub fn create_outbound_session<R: CryptoRng + ?Sized, const K: usize>(
        &self,
        rng: &mut R,
        bundle: &PreKeyBundle,
    ) -> Result<Session<K>, Error> {
        let (secrets, base_key) = x3dh::initiate(rng, &self.identity, &bundle_keys(bundle))?;
        Ok(self.outbound(secrets, base_key, bundle))
    }

    /// [`Account::create_outbound_session`] with the base key given, for known-answer tests. Never
    /// reuse a base key.
    #[cfg(feature = "hazmat")]
    pub fn create_outbound_session_with_base_key<const K: usize>(
        &self,
        base_key: &[u8; 32],
        bundle: &PreKeyBundle,
    ) -> Result<Session<K>, Error> {
        let base = Curve25519SecretKey::from_bytes(base_key);
        let secrets = x3dh::initiate_with_base_key(&base, &self.identity, &bundle_keys(bundle))?;
        Ok(self.outbound(secrets, base.public_key(), bundle))
    }

    fn outbound<const K: usize>(
        &self,
        secrets: x3dh::SignalSharedSecrets,
        base_key: Curve25519PublicKey,
        bundle: &PreKeyBundle,
    ) -> Session<K> {
        Session::outbound(
            secrets,
            bundle.signed_pre_key,
            self.identity_public,
            bundle.identity_key,
            base_key,
            bundle.registration_id,
            PreKeyIds {
                pre_key_id: bundle.pre_key.map(|(id, _)| id),
                signed_pre_key_id: bundle.signed_pre_key_id,
                registration_id: self.registration_id,
            },
        )
    }

    /// Opens the session a pre-key message starts and decrypts that message into `out`; returns the
    /// session and the plaintext's length. The one-time prekey it used is deleted, but only once the
    /// message has decrypted: a failure of any kind changes nothing. No heap allocation.
    ///
    /// A pre-key message for a session that already exists (the initiator repeats them until it hears
    /// back) goes to that session's [`Session::decrypt_into`]; see
    /// [`Session::matches_pre_key_message`]. Here it would fail, its one-time prekey being gone.
    ///
    /// # Errors
    /// [`SignalError::UnknownPreKey`] for a prekey id this account does not hold (never ours, already
    /// used, or evicted); the errors of [`Session::decrypt_into`] otherwise.
    pub fn create_inbound_session_into<const K: usize>(
        &mut self,
        message: &[u8],
        out: &mut [u8],
    ) -> Result<(Session<K>, usize), Error> {
        let p = decode_pre_key_message(message)?;
        let signed = if p.ids.signed_pre_key_id == self.signed.id {
            &self.signed
        } else {
            self.previous_signed
                .as_ref()
                .filter(|s| s.id == p.ids.signed_pre_key_id)
                .ok_or(SignalError::UnknownPreKey)?
        };
        let one_time_pos = match p.ids.pre_key_id {
            None => None,
            Some(id) => Some(self.position(id).ok_or(SignalError::UnknownPreKey)?),
        };
        let one_time = one_time_pos
            .and_then(|pos| self.one_time.get(pos))
            .and_then(Option::as_ref)
            .map(|k| &k.secret);
        let secrets = x3dh::respond(
            &self.identity,
            &signed.secret,
            one_time,
            &p.identity_key,
            &p.base_key,
        )?;
        let mut session = Session::inbound(
            secrets,
            Curve25519SecretKey::from_bytes(&signed.secret.to_bytes()),
            self.identity_public,
            p.identity_key,
            p.base_key,
            p.ids.registration_id,
        );
        let n = session.decrypt_view(&p.message, out)?;
        if let Some(pos) = one_time_pos {
            self.remove_at(pos);
        }
        Ok((session, n))
    }

    /// [`Account::create_inbound_session_into`], returning the plaintext as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn create_inbound_session<const K: usize>(
        &mut self,
        message: &[u8],
    ) -> Result<(Session<K>, alloc::vec::Vec<u8>), Error> {
        let mut out =
            alloc::vec![0u8; Session::<K>::decrypt_len(super::MessageType::PreKey, message)?];
        let (session, n) = self.create_inbound_session_into(message, &mut out)?;
        out.truncate(n);
        Ok((session, out))
    }
}

fn bundle_keys(bundle: &PreKeyBundle) -> BundleKeys {
    BundleKeys {
        identity: bundle.identity_key,
        signed_prekey: bundle.signed_pre_key,
        signed_prekey_signature: bundle.signed_pre_key_signature,
        one_time_prekey: bundle.pre_key.map(|(_, k)| k),
    }
}

impl<const N: usize> fmt::Debug for Account<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("identity_key", &self.identity_public)
            .field("registration_id", &self.registration_id)
            .field("signed_pre_key_id", &self.signed.id)
            .field("one_time_pre_keys", &self.one_time_len)
            .finish_non_exhaustive()
    }
}

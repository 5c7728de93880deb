//! The native profile's account: a device's long-term identity, its signed prekeys and its one-time
//! prekeys, and the place sessions are created from.

use core::fmt;

use rand_core::CryptoRng;

use crate::Error;
use crate::error::SessionError;
use crate::limits::NATIVE_MAX_ONE_TIME_PREKEYS;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::ed25519::{Ed25519SecretKey, Ed25519Signature};
use crate::ratchet::{DoubleRatchet, InitialHeaderKeys};
use crate::x3dh::native::{self as x3dh, InitiatorKeys};

use super::bundle::{IdentityKeys, PreKeyBundle};
use super::pairwise::{Session, SessionConfig};
use super::wire::{PreKeyHeader, parse_pre_key};

/// A signed prekey with its id and signature.
pub(crate) struct SignedPrekey {
    pub(crate) id: u32,
    pub(crate) secret: Curve25519SecretKey,
    pub(crate) signature: Ed25519Signature,
}

/// A one-time prekey with its id, and whether it has been handed to the server.
pub(crate) struct OneTimePrekey {
    pub(crate) id: u32,
    pub(crate) secret: Curve25519SecretKey,
    pub(crate) published: bool,
}

/// A device's native-profile account.
///
/// It owns the identity keys (a Curve25519 key and an Ed25519 key that signs it), a signed prekey
/// (rotated by [`Account::rotate_signed_prekey`], keeping the previous one for late first messages),
/// and a bounded store of one-time prekeys.
pub struct Account {
    pub(crate) identity: Curve25519SecretKey,
    pub(crate) signing: Ed25519SecretKey,
    pub(crate) binding_signature: Ed25519Signature,
    pub(crate) signed_prekey: SignedPrekey,
    pub(crate) previous_signed_prekey: Option<SignedPrekey>,
    pub(crate) one_time: [Option<OneTimePrekey>; NATIVE_MAX_ONE_TIME_PREKEYS],
    pub(crate) next_one_time_id: u32,
}

impl Account {
    /// A new account with fresh identity keys and a first signed prekey (id 0).
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let identity = Curve25519SecretKey::generate(rng);
        let signing = Ed25519SecretKey::generate(rng);
        let binding_signature = x3dh::sign_identity_binding(&signing, &identity.public_key());
        let signed_prekey = Self::make_signed_prekey(rng, &signing, 0);
        Self {
            identity,
            signing,
            binding_signature,
            signed_prekey,
            previous_signed_prekey: None,
            one_time: core::array::from_fn(|_| None),
            next_one_time_id: 0,
        }
    }

    fn make_signed_prekey<R: CryptoRng + ?Sized>(
        rng: &mut R,
        signing: &Ed25519SecretKey,
        id: u32,
    ) -> SignedPrekey {
        let secret = Curve25519SecretKey::generate(rng);
        let signature = x3dh::sign_prekey(signing, &secret.public_key());
        SignedPrekey {
            id,
            secret,
            signature,
        }
    }

    /// The public identity keys.
    pub fn identity_keys(&self) -> IdentityKeys {
        IdentityKeys {
            curve25519: self.identity.public_key(),
            ed25519: self.signing.public_key(),
            binding_signature: self.binding_signature,
        }
    }

    /// Signs `message` with the account's Ed25519 identity key.
    pub fn sign(&self, message: &[u8]) -> Ed25519Signature {
        self.signing.sign(message)
    }

    /// The current signed prekey: its id and public key.
    pub fn signed_prekey(&self) -> (u32, Curve25519PublicKey) {
        (
            self.signed_prekey.id,
            self.signed_prekey.secret.public_key(),
        )
    }

    /// Replaces the signed prekey with a fresh one. The previous one is kept, so first messages still in
    /// flight can be read, until the next rotation or [`Account::forget_previous_signed_prekey`].
    pub fn rotate_signed_prekey<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) {
        let id = self.signed_prekey.id.wrapping_add(1);
        let fresh = Self::make_signed_prekey(rng, &self.signing, id);
        self.previous_signed_prekey = Some(core::mem::replace(&mut self.signed_prekey, fresh));
    }

    /// Deletes the previous signed prekey (for forward secrecy, once late first messages are unlikely).
    pub fn forget_previous_signed_prekey(&mut self) {
        self.previous_signed_prekey = None;
    }

    /// Generates `count` one-time prekeys. When the store is full, the oldest keys are evicted first;
    /// returns how many were evicted.
    pub fn generate_one_time_prekeys<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        count: usize,
    ) -> usize {
        let mut evicted = 0;
        for _ in 0..count {
            let slot = match self.one_time.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    evicted += 1;
                    self.oldest_one_time_slot().unwrap_or(0)
                }
            };
            let id = self.next_one_time_id;
            self.next_one_time_id = self.next_one_time_id.wrapping_add(1);
            if let Some(s) = self.one_time.get_mut(slot) {
                *s = Some(OneTimePrekey {
                    id,
                    secret: Curve25519SecretKey::generate(rng),
                    published: false,
                });
            }
        }
        evicted
    }

    fn oldest_one_time_slot(&self) -> Option<usize> {
        let newest = self.next_one_time_id;
        // Ids grow by one per key, so the oldest is the one furthest behind the next id.
        self.one_time
            .iter()
            .enumerate()
            .filter_map(|(i, k)| k.as_ref().map(|k| (i, newest.wrapping_sub(k.id))))
            .max_by_key(|&(_, age)| age)
            .map(|(i, _)| i)
    }

    /// One-time prekeys not yet marked as published, with their ids.
    pub fn unpublished_one_time_prekeys(
        &self,
    ) -> impl Iterator<Item = (u32, Curve25519PublicKey)> + '_ {
        self.one_time
            .iter()
            .flatten()
            .filter(|k| !k.published)
            .map(|k| (k.id, k.secret.public_key()))
    }

    /// The number of one-time prekeys held (published or not).
    pub fn one_time_prekey_count(&self) -> usize {
        self.one_time.iter().flatten().count()
    }

    /// Marks every one-time prekey as published.
    pub fn mark_one_time_prekeys_published(&mut self) {
        for k in self.one_time.iter_mut().flatten() {
            k.published = true;
        }
    }

    /// A prekey bundle for this account, with the one-time prekey `one_time_id` if it is held (this is
    /// what a server assembles from what the device uploaded).
    pub fn prekey_bundle(&self, one_time_id: Option<u32>) -> Result<PreKeyBundle, Error> {
        let one_time_prekey = match one_time_id {
            Some(id) => Some((
                id,
                self.find_one_time(id)
                    .and_then(|slot| self.one_time.get(slot))
                    .and_then(Option::as_ref)
                    .map(|k| k.secret.public_key())
                    .ok_or(SessionError::UnknownOneTimePrekey)?,
            )),
            None => None,
        };
        Ok(PreKeyBundle {
            identity: self.identity_keys(),
            signed_prekey_id: self.signed_prekey.id,
            signed_prekey: self.signed_prekey.secret.public_key(),
            signed_prekey_signature: self.signed_prekey.signature,
            one_time_prekey,
        })
    }

    fn find_one_time(&self, id: u32) -> Option<usize> {
        self.one_time
            .iter()
            .position(|k| k.as_ref().is_some_and(|k| k.id == id))
    }

    /// Starts a session with the owner of `bundle`. Verifies the bundle's signatures before anything
    /// else. Needs only `&self`, so many sessions can be created at once.
    pub fn create_outbound_session<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        bundle: &PreKeyBundle,
        config: SessionConfig,
    ) -> Result<Session, Error> {
        let (secrets, base_key, ad) = x3dh::initiate(
            rng,
            &self.identity,
            &self.signing.public_key(),
            &bundle.x3dh_keys(),
        )?;
        let header_keys = config.header_encryption.then(|| InitialHeaderKeys {
            send: secrets.header_key_a,
            receive: secrets.next_header_key_b,
        });
        let ratchet =
            DoubleRatchet::new_initiator(rng, secrets.root, &bundle.signed_prekey, header_keys)?;
        let pre_key = PreKeyHeader {
            identity: self.identity.public_key(),
            signing_key: self.signing.public_key(),
            binding_signature: self.binding_signature,
            base_key,
            signed_prekey_id: bundle.signed_prekey_id,
            one_time_prekey_id: bundle.one_time_prekey.map(|(id, _)| id),
        };
        Ok(Session::new(ratchet, ad, Some(pre_key)))
    }

    /// Creates the session a pre-key message starts, decrypting the message into `out`; returns the
    /// session and the plaintext's length.
    ///
    /// The one-time prekey the message names is removed only after the message authenticated; on any
    /// error the account is unchanged. A first message replayed after its one-time prekey was used fails
    /// with [`SessionError::UnknownOneTimePrekey`].
    pub fn create_inbound_session_into(
        &mut self,
        message: &[u8],
        out: &mut [u8],
    ) -> Result<(Session, usize), Error> {
        let (pre_key, header_encrypted, inner) = parse_pre_key(message)?;
        x3dh::verify_identity_binding(
            &pre_key.signing_key,
            &pre_key.identity,
            &pre_key.binding_signature,
        )?;
        let signed = [
            Some(&self.signed_prekey),
            self.previous_signed_prekey.as_ref(),
        ]
        .into_iter()
        .flatten()
        .find(|s| s.id == pre_key.signed_prekey_id)
        .ok_or(SessionError::UnknownSignedPrekey)?;
        let one_time_slot = match pre_key.one_time_prekey_id {
            Some(id) => Some(
                self.find_one_time(id)
                    .ok_or(SessionError::UnknownOneTimePrekey)?,
            ),
            None => None,
        };
        let one_time = one_time_slot
            .and_then(|slot| self.one_time.get(slot))
            .and_then(Option::as_ref)
            .map(|k| &k.secret);
        let initiator = InitiatorKeys {
            identity: pre_key.identity,
            signing_key: pre_key.signing_key,
            ephemeral: pre_key.base_key,
        };
        let (secrets, ad) = x3dh::respond(
            &self.identity,
            &self.signing.public_key(),
            &signed.secret,
            one_time,
            &initiator,
        )?;
        let header_keys = header_encrypted.then(|| InitialHeaderKeys {
            send: secrets.next_header_key_b,
            receive: secrets.header_key_a,
        });
        // The signed prekey is the responder's first ratchet key (Double Ratchet spec §3.3).
        let ratchet_key = Curve25519SecretKey::from_bytes(&signed.secret.to_bytes());
        let ratchet = DoubleRatchet::new_responder(secrets.root, ratchet_key, header_keys);
        let mut session = Session::new(ratchet, ad, None);
        session.set_initiator(pre_key.identity, pre_key.base_key);
        let len = session.decrypt_message_into(message, message.len() - inner.len(), out)?;
        if let Some(slot) = one_time_slot.and_then(|slot| self.one_time.get_mut(slot)) {
            *slot = None;
        }
        Ok((session, len))
    }

    /// [`Account::create_inbound_session_into`], returning the plaintext as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn create_inbound_session(
        &mut self,
        message: &[u8],
    ) -> Result<(Session, alloc::vec::Vec<u8>), Error> {
        let mut out = alloc::vec![0u8; Session::decrypt_len(message)?];
        let (session, n) = self.create_inbound_session_into(message, &mut out)?;
        out.truncate(n);
        Ok((session, out))
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("identity_keys", &self.identity_keys())
            .field("signed_prekey_id", &self.signed_prekey.id)
            .field("one_time_prekeys", &self.one_time_prekey_count())
            .finish_non_exhaustive()
    }
}

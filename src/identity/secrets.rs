//! A user's identity (the verified public tree) and the cross-signing private keys.

use alloc::string::String;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::keys::{
    CrossSigningKey, DeviceKeys, MasterKey, Role, SelfSigningKey, UserSigningKey, Verified,
};
use super::signed::{self, ed25519_key_id};
use crate::codec::base64;
use crate::codec::json::{Object, Value};
use crate::error::IdentityError;
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};

/// A user's public cross-signing identity: a master key and the self-signing key it signed, with the
/// user-signing key when it is visible (only to its owner).
///
/// Only [`UserIdentity::from_json`] (and our own key generation) makes one, so every identity held is
/// one whose master key signed the other two (check K3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserIdentity {
    master: Verified<MasterKey>,
    self_signing: Verified<SelfSigningKey>,
    user_signing: Option<Verified<UserSigningKey>>,
}

impl UserIdentity {
    /// Decodes and checks the cross-signing keys published for `user_id` (checks K1 to K3, K6).
    ///
    /// # Errors
    /// The first failed check's [`IdentityError`].
    pub fn from_json(
        user_id: &str,
        master: &Value,
        self_signing: &Value,
        user_signing: Option<&Value>,
    ) -> Result<Verified<Self>, IdentityError> {
        let master = MasterKey::from_json(master)?.verify(user_id)?;
        let self_signing = SelfSigningKey::from_json(self_signing)?.verify_with(&master)?;
        let user_signing = match user_signing {
            Some(v) => Some(UserSigningKey::from_json(v)?.verify_with(&master)?),
            None => None,
        };
        Ok(Verified(Self {
            master,
            self_signing,
            user_signing,
        }))
    }

    /// The user id.
    #[must_use]
    pub fn user_id(&self) -> &str {
        self.master.user_id()
    }

    /// The master key.
    #[must_use]
    pub const fn master_key(&self) -> &Verified<MasterKey> {
        &self.master
    }

    /// The self-signing key.
    #[must_use]
    pub const fn self_signing_key(&self) -> &Verified<SelfSigningKey> {
        &self.self_signing
    }

    /// The user-signing key, if it was published to us.
    #[must_use]
    pub const fn user_signing_key(&self) -> Option<&Verified<UserSigningKey>> {
        self.user_signing.as_ref()
    }

    pub(crate) fn master_mut(&mut self) -> &mut MasterKey {
        &mut self.master.0
    }

    /// Check K5: whether `device_id` is the name of one of this identity's cross-signing keys.
    #[must_use]
    pub fn device_id_conflicts(&self, device_id: &str) -> bool {
        let names = [
            Some(self.master.name()),
            Some(self.self_signing.name()),
            self.user_signing.as_ref().map(|k| k.name()),
        ];
        names.iter().flatten().any(|n| n == device_id)
    }

    /// Whether this identity's self-signing key signed `device` (a device of this user whose id does
    /// not collide with a cross-signing key, check K5).
    #[must_use]
    pub fn has_signed_device(&self, device: &Verified<DeviceKeys>) -> bool {
        device.user_id() == self.user_id()
            && !self.device_id_conflicts(device.device_id())
            && device.is_signed_by(self.user_id(), &self.self_signing.public_key())
    }

    /// Whether this identity's user-signing key signed `their` master key.
    #[must_use]
    pub fn has_signed_user(&self, their: &MasterKey) -> bool {
        self.user_signing
            .as_ref()
            .is_some_and(|usk| their.is_signed_by(self.user_id(), &usk.public_key()))
    }

    /// The `/keys/device_signing/upload` body: `master_key`, `self_signing_key` and, when known,
    /// `user_signing_key`.
    #[must_use]
    pub fn upload_request(&self) -> Value {
        let mut body = Object::new();
        body.insert("master_key".into(), self.master.to_json());
        body.insert("self_signing_key".into(), self.self_signing.to_json());
        if let Some(usk) = &self.user_signing {
            body.insert("user_signing_key".into(), usk.to_json());
        }
        Value::Object(body)
    }
}

/// The cross-signing private keys a device holds: any of master, self-signing and user-signing (a
/// device restored from secret storage usually has all three). Zeroized on drop, never printed.
pub struct CrossSigningSecrets {
    master: Option<Ed25519SecretKey>,
    self_signing: Option<Ed25519SecretKey>,
    user_signing: Option<Ed25519SecretKey>,
}

impl fmt::Debug for CrossSigningSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrossSigningSecrets")
            .field(
                "master",
                &self.master.as_ref().map(Ed25519SecretKey::public_key),
            )
            .field(
                "self_signing",
                &self.self_signing.as_ref().map(Ed25519SecretKey::public_key),
            )
            .field(
                "user_signing",
                &self.user_signing.as_ref().map(Ed25519SecretKey::public_key),
            )
            .finish_non_exhaustive()
    }
}

fn seed_from_base64(text: &str) -> Result<Ed25519SecretKey, IdentityError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    base64::decode_array_into(text, &mut seed).map_err(|_| IdentityError::InvalidKey)?;
    Ok(Ed25519SecretKey::from_seed(&seed))
}

impl CrossSigningSecrets {
    /// Three fresh keys: a new identity (see [`super::IdentityStore::reset_identity`]).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self {
            master: Some(Ed25519SecretKey::generate(rng)),
            self_signing: Some(Ed25519SecretKey::generate(rng)),
            user_signing: Some(Ed25519SecretKey::generate(rng)),
        }
    }

    /// The keys as secret storage holds them (`m.cross_signing.master`, `m.cross_signing.self_signing`,
    /// `m.cross_signing.user_signing`: unpadded base64 of the 32-byte seed). Any may be absent.
    ///
    /// # Errors
    /// [`IdentityError::InvalidKey`] when a value is not base64 of 32 bytes.
    pub fn from_secret_storage(
        master: Option<&str>,
        self_signing: Option<&str>,
        user_signing: Option<&str>,
    ) -> Result<Self, IdentityError> {
        Ok(Self {
            master: master.map(seed_from_base64).transpose()?,
            self_signing: self_signing.map(seed_from_base64).transpose()?,
            user_signing: user_signing.map(seed_from_base64).transpose()?,
        })
    }

    pub(crate) const fn from_keys(
        master: Option<Ed25519SecretKey>,
        self_signing: Option<Ed25519SecretKey>,
        user_signing: Option<Ed25519SecretKey>,
    ) -> Self {
        Self {
            master,
            self_signing,
            user_signing,
        }
    }

    /// The keys from their seeds.
    pub fn from_seeds(
        master: Option<&[u8; 32]>,
        self_signing: Option<&[u8; 32]>,
        user_signing: Option<&[u8; 32]>,
    ) -> Self {
        Self {
            master: master.map(Ed25519SecretKey::from_seed),
            self_signing: self_signing.map(Ed25519SecretKey::from_seed),
            user_signing: user_signing.map(Ed25519SecretKey::from_seed),
        }
    }

    /// The seeds, unpadded base64, for secret storage (`None` for a key not held).
    #[must_use]
    pub fn to_secret_storage(&self) -> [Option<Zeroizing<String>>; 3] {
        let enc = |k: &Option<Ed25519SecretKey>| {
            k.as_ref()
                .map(|k| Zeroizing::new(base64::encode(k.seed().as_ref())))
        };
        [
            enc(&self.master),
            enc(&self.self_signing),
            enc(&self.user_signing),
        ]
    }

    pub(crate) const fn parts(
        &self,
    ) -> (
        Option<&Ed25519SecretKey>,
        Option<&Ed25519SecretKey>,
        Option<&Ed25519SecretKey>,
    ) {
        (
            self.master.as_ref(),
            self.self_signing.as_ref(),
            self.user_signing.as_ref(),
        )
    }

    /// The public master key, if the master private key is held.
    #[must_use]
    pub fn master_public(&self) -> Option<Ed25519PublicKey> {
        self.master.as_ref().map(Ed25519SecretKey::public_key)
    }

    /// The public self-signing key, if held.
    #[must_use]
    pub fn self_signing_public(&self) -> Option<Ed25519PublicKey> {
        self.self_signing.as_ref().map(Ed25519SecretKey::public_key)
    }

    /// The public user-signing key, if held.
    #[must_use]
    pub fn user_signing_public(&self) -> Option<Ed25519PublicKey> {
        self.user_signing.as_ref().map(Ed25519SecretKey::public_key)
    }

    /// The public identity these keys make for `user_id`: the three key objects, the self-signing and
    /// user-signing keys signed by the master key.
    ///
    /// # Errors
    /// [`IdentityError::MissingPrivateKey`] unless all three keys are held;
    /// [`IdentityError::InvalidIdentifier`] for a bad user id.
    pub fn public_identity(&self, user_id: &str) -> Result<Verified<UserIdentity>, IdentityError> {
        super::keys::check_id(user_id)?;
        let (Some(m), Some(s), Some(u)) = (&self.master, &self.self_signing, &self.user_signing)
        else {
            return Err(IdentityError::MissingPrivateKey);
        };
        let master = CrossSigningKey::build(user_id, m.public_key());
        let master_id = master.key_id();
        let mut ssk: SelfSigningKey = CrossSigningKey::build(user_id, s.public_key());
        ssk.sign_with(user_id, &master_id, m)?;
        let mut usk: UserSigningKey = CrossSigningKey::build(user_id, u.public_key());
        usk.sign_with(user_id, &master_id, m)?;
        Ok(Verified(UserIdentity {
            master: Verified(master),
            self_signing: Verified(ssk),
            user_signing: Some(Verified(usk)),
        }))
    }

    /// Signs `device` (one of our own devices) with the self-signing key, and returns the
    /// `/keys/signatures/upload` body `{user: {device_id: <device keys with only the new signature>}}`.
    /// The signature is also added to `device`.
    ///
    /// # Errors
    /// [`IdentityError::MissingPrivateKey`] without the self-signing key.
    pub fn sign_device(&self, device: &mut Verified<DeviceKeys>) -> Result<Value, IdentityError> {
        let key = self
            .self_signing
            .as_ref()
            .ok_or(IdentityError::MissingPrivateKey)?;
        let user = String::from(device.user_id());
        let key_id = ed25519_key_id(&signed::key_name(&key.public_key()));
        let mut only = without_signatures(device.json());
        signed::sign(&mut only, &user, &key_id, key)?;
        device.0.sign_with(&user, &key_id, key)?;
        Ok(signatures_upload(&user, device.device_id(), only))
    }

    /// Signs another user's master key with the user-signing key (we verified them), and returns the
    /// `/keys/signatures/upload` body `{their_user: {their_master_name: <their key with only our
    /// signature>}}`. The signature is also added to `their`.
    ///
    /// # Errors
    /// [`IdentityError::MissingPrivateKey`] without the user-signing key.
    pub fn sign_user(
        &self,
        own_user_id: &str,
        their: &mut MasterKey,
    ) -> Result<Value, IdentityError> {
        let key = self
            .user_signing
            .as_ref()
            .ok_or(IdentityError::MissingPrivateKey)?;
        let key_id = ed25519_key_id(&signed::key_name(&key.public_key()));
        let mut only = without_signatures(their.json());
        signed::sign(&mut only, own_user_id, &key_id, key)?;
        their.sign_with(own_user_id, &key_id, key)?;
        Ok(signatures_upload(their.user_id(), &their.name(), only))
    }

    /// Signs our own master key with `key` (the device key of the device that created the identity),
    /// as matrix-rust-sdk does, so that other devices can find the identity through a device they
    /// already verified.
    pub(crate) fn sign_master_with_device<R: Role>(
        master: &mut CrossSigningKey<R>,
        user_id: &str,
        device_id: &str,
        sign: impl FnOnce(&[u8]) -> crate::primitives::ed25519::Ed25519Signature,
    ) {
        let signature = sign(signed::signing_input(master.json()).as_bytes());
        master.merge_signature(
            user_id,
            &ed25519_key_id(device_id),
            &base64::encode(signature.as_bytes()),
        );
    }
}

fn without_signatures(json: &Object) -> Object {
    json.iter()
        .filter(|(k, _)| k.as_str() != "signatures")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn signatures_upload(user_id: &str, name: &str, object: Object) -> Value {
    let mut inner = Object::new();
    inner.insert(name.into(), Value::Object(object));
    let mut body = Object::new();
    body.insert(user_id.into(), Value::Object(inner));
    Value::Object(body)
}

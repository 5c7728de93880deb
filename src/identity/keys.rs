//! Public cross-signing keys and device keys: decoded from Matrix JSON as [`Unverified`] values, turned
//! into [`Verified`] ones only by the `verify` that checks them.
//!
//! The checks, numbered and referenced from the code and the tests:
//!
//! * **K1** A cross-signing key object has a string `user_id`, a `usage` array holding exactly the one
//!   usage of its role (`master`, `self_signing`, `user_signing`), and exactly one entry in `keys`,
//!   whose id is `ed25519:` followed by its own value, an unpadded-base64 Ed25519 key that is a valid,
//!   not-small-order point. A key of one role therefore never decodes as another.
//! * **K2** A master key is bound to the user it was published for: its `user_id` must be that user.
//!   If it carries a self-signature it must verify.
//! * **K3** A self-signing or user-signing key must belong to the same user as the master key and carry
//!   a valid signature by that master key (`signatures[user]["ed25519:<master>"]`).
//! * **K4** Device keys have string `user_id` and `device_id`, an `algorithms` array of strings, and
//!   `keys` holding `ed25519:<device_id>` and `curve25519:<device_id>`; they must be signed by their own
//!   Ed25519 key (`signatures[user]["ed25519:<device_id>"]`). An unsigned device never verifies.
//! * **K5** A device whose id equals the name of one of its user's cross-signing keys is refused
//!   ([`IdentityError::AmbiguousKeyId`]): cross-signing key ids and device key ids share one namespace
//!   (`ed25519:<name>`), so such a device could pass its own signature off as the user's (Albrecht et
//!   al., IEEE S&P 2023).
//! * **K6** Identifiers are non-empty and at most [`MAX_IDENTITY_ID_LEN`] bytes; an object carries at
//!   most [`crate::limits::MAX_SIGNATURES_PER_OBJECT`] signatures.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;

use super::signed::{self, ed25519_key_id, key_name};
use crate::codec::base64;
use crate::codec::json::{Object, Value};
use crate::error::IdentityError;
use crate::limits::MAX_IDENTITY_ID_LEN;
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};

/// A decoded value whose signatures have not been checked. Its fields may be read for routing, but
/// trust decisions take only [`Verified`] values, which `verify` makes by consuming this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified<T>(pub(crate) T);

impl<T> Unverified<T> {
    /// The claimed contents, not yet checked.
    #[must_use]
    pub const fn claimed(&self) -> &T {
        &self.0
    }
}

/// A value whose signatures were checked. Only this crate's `verify` functions make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<T>(pub(crate) T);

impl<T> Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The three cross-signing roles, by their `usage` string.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    /// `master`: the root of a user's identity; signs the other two.
    Master,
    /// `self_signing`: signs the user's own devices.
    SelfSigning,
    /// `user_signing`: signs other users' master keys.
    UserSigning,
}

impl KeyUsage {
    /// The `usage` string.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Master => "master",
            Self::SelfSigning => "self_signing",
            Self::UserSigning => "user_signing",
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A cross-signing role, as a type: [`Master`], [`SelfSigning`] or [`UserSigning`].
pub trait Role: sealed::Sealed {
    /// The role's usage.
    const USAGE: KeyUsage;
}

/// The master-key role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Master {}
/// The self-signing-key role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelfSigning {}
/// The user-signing-key role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSigning {}

impl sealed::Sealed for Master {}
impl sealed::Sealed for SelfSigning {}
impl sealed::Sealed for UserSigning {}
impl Role for Master {
    const USAGE: KeyUsage = KeyUsage::Master;
}
impl Role for SelfSigning {
    const USAGE: KeyUsage = KeyUsage::SelfSigning;
}
impl Role for UserSigning {
    const USAGE: KeyUsage = KeyUsage::UserSigning;
}

/// A public cross-signing key of role `R`, with the JSON object it came in (kept whole, so that
/// signatures over fields we do not model still verify).
pub struct CrossSigningKey<R: Role> {
    user_id: String,
    key: Ed25519PublicKey,
    json: Object,
    role: PhantomData<R>,
}

/// A user's master key.
pub type MasterKey = CrossSigningKey<Master>;
/// A user's self-signing key.
pub type SelfSigningKey = CrossSigningKey<SelfSigning>;
/// A user's user-signing key.
pub type UserSigningKey = CrossSigningKey<UserSigning>;

impl<R: Role> Clone for CrossSigningKey<R> {
    fn clone(&self) -> Self {
        Self {
            user_id: self.user_id.clone(),
            key: self.key,
            json: self.json.clone(),
            role: PhantomData,
        }
    }
}

impl<R: Role> PartialEq for CrossSigningKey<R> {
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json
    }
}

impl<R: Role> Eq for CrossSigningKey<R> {}

impl<R: Role> fmt::Debug for CrossSigningKey<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrossSigningKey")
            .field("usage", &R::USAGE)
            .field("user_id", &self.user_id)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

pub(crate) fn check_id(id: &str) -> Result<(), IdentityError> {
    if id.is_empty() || id.len() > MAX_IDENTITY_ID_LEN {
        return Err(IdentityError::InvalidIdentifier);
    }
    Ok(())
}

fn decode_ed25519(text: &str) -> Result<Ed25519PublicKey, IdentityError> {
    let mut bytes = [0u8; 32];
    base64::decode_array_into(text, &mut bytes).map_err(|_| IdentityError::InvalidKey)?;
    Ed25519PublicKey::from_bytes(&bytes).map_err(|_| IdentityError::InvalidKey)
}

fn decode_curve25519(text: &str) -> Result<Curve25519PublicKey, IdentityError> {
    let mut bytes = [0u8; 32];
    base64::decode_array_into(text, &mut bytes).map_err(|_| IdentityError::InvalidKey)?;
    Ok(Curve25519PublicKey::from_bytes(bytes))
}

fn str_field<'a>(object: &'a Object, name: &str) -> Result<&'a str, IdentityError> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or(IdentityError::Malformed)
}

impl<R: Role> CrossSigningKey<R> {
    /// Decodes a cross-signing key object of role `R` (check K1, K6).
    ///
    /// # Errors
    /// [`IdentityError::Malformed`], [`IdentityError::WrongUsage`], [`IdentityError::KeyIdMismatch`],
    /// [`IdentityError::InvalidKey`], [`IdentityError::InvalidIdentifier`] or
    /// [`IdentityError::TooLarge`].
    pub fn from_json(value: &Value) -> Result<Unverified<Self>, IdentityError> {
        let object = value.as_object().ok_or(IdentityError::Malformed)?;
        let user_id = str_field(object, "user_id")?;
        check_id(user_id)?;
        // K1: exactly one usage, the one of this role.
        let usage = object
            .get("usage")
            .and_then(Value::as_array)
            .ok_or(IdentityError::Malformed)?;
        match usage {
            [Value::String(u)] if u == R::USAGE.as_str() => {}
            _ => return Err(IdentityError::WrongUsage),
        }
        // K1: exactly one key, named after itself.
        let keys = object
            .get("keys")
            .and_then(Value::as_object)
            .ok_or(IdentityError::Malformed)?;
        let mut entries = keys.iter();
        let (Some((id, Value::String(text))), None) = (entries.next(), entries.next()) else {
            return Err(IdentityError::Malformed);
        };
        let key = decode_ed25519(text)?;
        if *id != ed25519_key_id(&key_name(&key)) {
            return Err(IdentityError::KeyIdMismatch);
        }
        signed::check_signatures_shape(object)?;
        Ok(Unverified(Self {
            user_id: user_id.into(),
            key,
            json: object.clone(),
            role: PhantomData,
        }))
    }

    /// The owner's user id.
    #[must_use]
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The Ed25519 public key.
    #[must_use]
    pub const fn public_key(&self) -> Ed25519PublicKey {
        self.key
    }

    /// The key's name: its unpadded-base64 public key.
    #[must_use]
    pub fn name(&self) -> String {
        key_name(&self.key)
    }

    /// The key's id, `ed25519:<name>`.
    #[must_use]
    pub fn key_id(&self) -> String {
        ed25519_key_id(&self.name())
    }

    /// The JSON object, as published (with any signatures added locally).
    #[must_use]
    pub const fn json(&self) -> &Object {
        &self.json
    }

    /// The JSON object as a value.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Value::Object(self.json.clone())
    }

    /// A new, unsigned key object for `user_id` and `key`.
    pub(crate) fn build(user_id: &str, key: Ed25519PublicKey) -> Self {
        let name = key_name(&key);
        let mut keys = Object::new();
        keys.insert(ed25519_key_id(&name), Value::String(name));
        let mut json = Object::new();
        json.insert("user_id".into(), user_id.into());
        json.insert(
            "usage".into(),
            Value::Array(Vec::from([Value::from(R::USAGE.as_str())])),
        );
        json.insert("keys".into(), Value::Object(keys));
        Self {
            user_id: user_id.into(),
            key,
            json,
            role: PhantomData,
        }
    }

    /// Signs this object (the signature is kept in its JSON).
    pub(crate) fn sign_with(
        &mut self,
        signer: &str,
        key_id: &str,
        key: &Ed25519SecretKey,
    ) -> Result<(), IdentityError> {
        signed::sign(&mut self.json, signer, key_id, key).map(|_| ())
    }

    /// Whether `signer`'s key `key` has a valid signature on this object.
    pub(crate) fn is_signed_by(&self, signer: &str, key: &Ed25519PublicKey) -> bool {
        signed::verify(&self.json, signer, &ed25519_key_id(&key_name(key)), key).is_ok()
    }

    /// Adds a signature copied from another object over the same signing input.
    pub(crate) fn merge_signature(&mut self, signer: &str, key_id: &str, signature: &str) {
        if let Some(Value::Object(sigs)) = self.json.get_mut("signatures") {
            if let Some(Value::Object(entity)) = sigs.get_mut(signer) {
                entity.insert(key_id.into(), signature.into());
                return;
            }
            let mut entity = Object::new();
            entity.insert(key_id.into(), signature.into());
            sigs.insert(signer.into(), Value::Object(entity));
            return;
        }
        let mut entity = Object::new();
        entity.insert(key_id.into(), signature.into());
        let mut sigs = Object::new();
        sigs.insert(signer.into(), Value::Object(entity));
        self.json.insert("signatures".into(), Value::Object(sigs));
    }
}

impl Unverified<MasterKey> {
    /// Checks a master key published for `user_id` (check K2).
    ///
    /// A verified master key is well formed and bound to its user; whether it is *the* user's key is
    /// decided by pinning and by user-signing signatures in [`super::IdentityStore`].
    ///
    /// # Errors
    /// [`IdentityError::UserIdMismatch`] or [`IdentityError::InvalidSignature`].
    pub fn verify(self, user_id: &str) -> Result<Verified<MasterKey>, IdentityError> {
        let key = self.0;
        if key.user_id != user_id {
            return Err(IdentityError::UserIdMismatch);
        }
        match signed::verify(&key.json, user_id, &key.key_id(), &key.key) {
            Ok(()) | Err(IdentityError::MissingSignature) => Ok(Verified(key)),
            Err(e) => Err(e),
        }
    }
}

impl<R: Role> Unverified<CrossSigningKey<R>> {
    /// Checks a self-signing or user-signing key against its user's master key (check K3).
    ///
    /// # Errors
    /// [`IdentityError::WrongUsage`] for a master key, [`IdentityError::UserIdMismatch`],
    /// [`IdentityError::MissingSignature`] or [`IdentityError::InvalidSignature`].
    pub fn verify_with(
        self,
        master: &Verified<MasterKey>,
    ) -> Result<Verified<CrossSigningKey<R>>, IdentityError> {
        let key = self.0;
        if R::USAGE == KeyUsage::Master {
            return Err(IdentityError::WrongUsage);
        }
        if key.user_id != master.user_id {
            return Err(IdentityError::UserIdMismatch);
        }
        signed::verify(&key.json, &master.user_id, &master.key_id(), &master.key)?;
        Ok(Verified(key))
    }
}

/// A device's published keys (`/keys/upload` `device_keys`, `/keys/query` `device_keys[user][device]`).
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceKeys {
    user_id: String,
    device_id: String,
    ed25519: Ed25519PublicKey,
    curve25519: Curve25519PublicKey,
    json: Object,
}

impl fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("ed25519", &self.ed25519)
            .finish_non_exhaustive()
    }
}

/// The algorithms a Matrix device advertises.
pub const DEVICE_ALGORITHMS: [&str; 2] = ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"];

impl DeviceKeys {
    /// Decodes a device-keys object (check K4's shape, K6).
    ///
    /// # Errors
    /// [`IdentityError::Malformed`], [`IdentityError::KeyIdMismatch`] (a key not named after the
    /// device), [`IdentityError::InvalidKey`], [`IdentityError::InvalidIdentifier`] or
    /// [`IdentityError::TooLarge`].
    pub fn from_json(value: &Value) -> Result<Unverified<Self>, IdentityError> {
        let object = value.as_object().ok_or(IdentityError::Malformed)?;
        let user_id = str_field(object, "user_id")?;
        let device_id = str_field(object, "device_id")?;
        check_id(user_id)?;
        check_id(device_id)?;
        let algorithms = object
            .get("algorithms")
            .and_then(Value::as_array)
            .ok_or(IdentityError::Malformed)?;
        if algorithms.iter().any(|a| a.as_str().is_none()) {
            return Err(IdentityError::Malformed);
        }
        let keys = object
            .get("keys")
            .and_then(Value::as_object)
            .ok_or(IdentityError::Malformed)?;
        let mut ed = None;
        let mut curve = None;
        for (id, key) in keys {
            let text = key.as_str().ok_or(IdentityError::Malformed)?;
            let (alg, name) = id.split_once(':').ok_or(IdentityError::Malformed)?;
            match alg {
                "ed25519" | "curve25519" if name != device_id => {
                    return Err(IdentityError::KeyIdMismatch);
                }
                "ed25519" => ed = Some(decode_ed25519(text)?),
                "curve25519" => curve = Some(decode_curve25519(text)?),
                // Other algorithms are carried along (and covered by the signature), not used.
                _ => {}
            }
        }
        let (Some(ed25519), Some(curve25519)) = (ed, curve) else {
            return Err(IdentityError::Malformed);
        };
        signed::check_signatures_shape(object)?;
        Ok(Unverified(Self {
            user_id: user_id.into(),
            device_id: device_id.into(),
            ed25519,
            curve25519,
            json: object.clone(),
        }))
    }

    /// The device keys of an Olm account, self-signed with its Ed25519 key: the `device_keys` of a
    /// `/keys/upload` request.
    ///
    /// # Errors
    /// [`IdentityError::InvalidIdentifier`] for an empty or overlong id.
    pub fn from_account<const N: usize>(
        user_id: &str,
        device_id: &str,
        account: &crate::olm::Account<N>,
    ) -> Result<Verified<Self>, IdentityError> {
        check_id(user_id)?;
        check_id(device_id)?;
        let identity = account.identity_keys();
        let mut keys = Object::new();
        let mut curve_id = String::from("curve25519:");
        curve_id.push_str(device_id);
        keys.insert(
            curve_id,
            Value::String(base64::encode(identity.curve25519.as_bytes())),
        );
        keys.insert(
            ed25519_key_id(device_id),
            Value::String(key_name(&identity.ed25519)),
        );
        let mut json = Object::new();
        json.insert("user_id".into(), user_id.into());
        json.insert("device_id".into(), device_id.into());
        json.insert(
            "algorithms".into(),
            Value::Array(DEVICE_ALGORITHMS.iter().map(|a| Value::from(*a)).collect()),
        );
        json.insert("keys".into(), Value::Object(keys));
        let signature = account.sign(signed::signing_input(&json).as_bytes());
        let mut entity = Object::new();
        entity.insert(
            ed25519_key_id(device_id),
            Value::String(base64::encode(signature.as_bytes())),
        );
        let mut sigs = Object::new();
        sigs.insert(user_id.into(), Value::Object(entity));
        json.insert("signatures".into(), Value::Object(sigs));
        Ok(Verified(Self {
            user_id: user_id.into(),
            device_id: device_id.into(),
            ed25519: identity.ed25519,
            curve25519: identity.curve25519,
            json,
        }))
    }

    /// The owner's user id.
    #[must_use]
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The device id.
    #[must_use]
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// The device's Ed25519 (fingerprint) key.
    #[must_use]
    pub const fn ed25519_key(&self) -> Ed25519PublicKey {
        self.ed25519
    }

    /// The device's Curve25519 identity key.
    #[must_use]
    pub const fn curve25519_key(&self) -> Curve25519PublicKey {
        self.curve25519
    }

    /// The JSON object (with any signatures added locally).
    #[must_use]
    pub const fn json(&self) -> &Object {
        &self.json
    }

    /// The JSON object as a value.
    #[must_use]
    pub fn to_json(&self) -> Value {
        Value::Object(self.json.clone())
    }

    /// The `/keys/upload` body carrying these device keys: `{"device_keys": {...}}`.
    #[must_use]
    pub fn upload_request(&self) -> Value {
        let mut body = Object::new();
        body.insert("device_keys".into(), self.to_json());
        Value::Object(body)
    }

    /// Whether `signer`'s key `key` has a valid signature on these device keys.
    pub(crate) fn is_signed_by(&self, signer: &str, key: &Ed25519PublicKey) -> bool {
        signed::verify(&self.json, signer, &ed25519_key_id(&key_name(key)), key).is_ok()
    }

    pub(crate) fn sign_with(
        &mut self,
        signer: &str,
        key_id: &str,
        key: &Ed25519SecretKey,
    ) -> Result<(), IdentityError> {
        signed::sign(&mut self.json, signer, key_id, key).map(|_| ())
    }
}

impl Unverified<DeviceKeys> {
    /// Checks the device's self-signature (check K4) and that it is published under `user_id` and
    /// `device_id` (the keys of the `/keys/query` maps it came in).
    ///
    /// # Errors
    /// [`IdentityError::UserIdMismatch`], [`IdentityError::KeyIdMismatch`],
    /// [`IdentityError::MissingSignature`] or [`IdentityError::InvalidSignature`].
    pub fn verify(
        self,
        user_id: &str,
        device_id: &str,
    ) -> Result<Verified<DeviceKeys>, IdentityError> {
        let d = self.0;
        if d.user_id != user_id {
            return Err(IdentityError::UserIdMismatch);
        }
        if d.device_id != device_id {
            return Err(IdentityError::KeyIdMismatch);
        }
        signed::verify(
            &d.json,
            &d.user_id,
            &ed25519_key_id(&d.device_id),
            &d.ed25519,
        )?;
        Ok(Verified(d))
    }
}

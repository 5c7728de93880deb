//! The backup version (`alloc`): the signed `auth_data` a device uploads with
//! `POST /room_keys/version`, the `GET /room_keys/version` response, and the rule for trusting a
//! backup before sending it room keys or reading keys from it.
//!
//! # Creating a backup
//!
//! `auth_data` is `{"public_key": <unpadded base64>, "signatures": {...}}`, signed JSON (signing input:
//! canonical JSON without `signatures` and `unsigned`). The creating device signs it with its Ed25519
//! device key (key id `ed25519:<DEVICE_ID>`, [`add_device_signature`]) and, when it holds it, the
//! master key (key id `ed25519:<master key, base64>`, [`add_master_signature`]), as matrix-rust-sdk's
//! `BackupMachine::sign_backup` does; [`version_request`] wraps it in the request body.
//!
//! # Trusting a backup ([`BackupInfo::trust`])
//!
//! The server chooses which backup version a client sees, so a server that wants the room keys could
//! offer a backup to its own public key. A client sends keys to, and reads keys from, a backup only
//! when one of these holds (the specification's rule, which rust-sdk implements):
//!
//! 1. its public key is the one of a backup private key we hold, obtained from a trusted source
//!    (secret storage, a verified device, the person typing a recovery key):
//!    [`BackupTrust::MatchesHeldKey`];
//! 2. `auth_data` carries a valid signature by our master key, and our identity is trusted (rule T0 of
//!    [`crate::identity::store`]): [`BackupTrust::SignedByOwnMasterKey`];
//! 3. a valid signature by this device, checked with the Ed25519 key of its Olm account that the
//!    caller passes: [`BackupTrust::SignedByThisDevice`];
//! 4. a valid signature by one of our devices that the identity store holds as verified, locally or
//!    by cross-signing ([`crate::identity::IdentityStore::device_trust`]), checked with the key the
//!    store holds for it: [`BackupTrust::SignedByOwnDevice`]. This device counts here too when the
//!    store has it cross-signed.
//!
//! Never trusted, whatever the signatures say: another algorithm, a `public_key` that is not base64 of
//! a usable Curve25519 key. Signatures by other users, by unknown or unverified devices, by an
//! untrusted master key, and invalid signatures count for nothing.
//!
//! Where we differ from rust-sdk's `verify_backup`: rust-sdk checks "our own device" against the
//! account's key, which it holds locally; [`BackupInfo::trust`] takes that key as a parameter for the
//! same reason, rather than reading our device from the identity store, whose copy of our own device
//! came from the server. rust-sdk keeps rule 1 apart (`BackupDecryptionKey::backup_key_matches`);
//! here it is part of the one decision. rust-sdk also reports every signature's state for debugging;
//! we report the first reason found, in the order above.

use alloc::string::String;

use super::{ALGORITHM, BackupDecryptionKey, BackupPublicKey};
use crate::BackupError;
use crate::codec::base64;
use crate::codec::json::{Object, Value};
use crate::error::IdentityError;
use crate::identity::signed::{self, check_signatures_shape, ed25519_key_id, key_name};
use crate::identity::{CrossSigningSecrets, IdentityStore};
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519Signature};

/// The unsigned `auth_data` for a new backup: `{"public_key": <unpadded base64>}`.
#[must_use]
pub fn unsigned_auth_data(public_key: &BackupPublicKey) -> Object {
    let mut auth_data = Object::new();
    auth_data.insert("public_key".into(), Value::String(public_key.to_base64()));
    auth_data
}

fn shape_error(e: IdentityError) -> BackupError {
    match e {
        IdentityError::TooLarge => BackupError::InvalidParameter,
        _ => BackupError::Malformed,
    }
}

/// Adds `signature` under `signatures[user_id][key_id]`, keeping the others.
fn insert_signature(
    auth_data: &mut Object,
    user_id: &str,
    key_id: &str,
    signature: &Ed25519Signature,
) -> Result<(), BackupError> {
    let sigs = auth_data
        .entry("signatures".into())
        .or_insert_with(|| Value::Object(Object::new()));
    let Value::Object(sigs) = sigs else {
        return Err(BackupError::Malformed);
    };
    let entity = sigs
        .entry(user_id.into())
        .or_insert_with(|| Value::Object(Object::new()));
    let Value::Object(entity) = entity else {
        return Err(BackupError::Malformed);
    };
    entity.insert(
        key_id.into(),
        Value::String(base64::encode(signature.as_bytes())),
    );
    Ok(())
}

/// Signs `auth_data` with this device's Ed25519 key (`account`), under
/// `signatures[user_id]["ed25519:<device_id>"]`.
///
/// # Errors
/// [`BackupError::Malformed`] when `auth_data` already has a `signatures` member of another shape;
/// `auth_data` is unchanged then.
pub fn add_device_signature<const N: usize>(
    auth_data: &mut Object,
    user_id: &str,
    device_id: &str,
    account: &crate::olm::Account<N>,
) -> Result<(), BackupError> {
    check_signatures_shape(auth_data).map_err(shape_error)?;
    let signature = account.sign(signed::signing_input(auth_data).as_bytes());
    insert_signature(auth_data, user_id, &ed25519_key_id(device_id), &signature)
}

/// Signs `auth_data` with our master key, under `signatures[user_id]["ed25519:<master key>"]`.
///
/// # Errors
/// [`BackupError::MissingPrivateKey`] when `secrets` has no master key; [`BackupError::Malformed`]
/// for a `signatures` member of another shape. `auth_data` is unchanged on failure.
pub fn add_master_signature(
    auth_data: &mut Object,
    user_id: &str,
    secrets: &CrossSigningSecrets,
) -> Result<(), BackupError> {
    let (master, _, _) = secrets.parts();
    let master = master.ok_or(BackupError::MissingPrivateKey)?;
    check_signatures_shape(auth_data).map_err(shape_error)?;
    let key_id = ed25519_key_id(&key_name(&master.public_key()));
    let signature = master.sign(signed::signing_input(auth_data).as_bytes());
    insert_signature(auth_data, user_id, &key_id, &signature)
}

/// The `POST /room_keys/version` body: `{"algorithm": "m.megolm_backup.v1.curve25519-aes-sha2",
/// "auth_data": auth_data}`.
#[must_use]
pub fn version_request(auth_data: Object) -> Value {
    let mut body = Object::new();
    body.insert("algorithm".into(), Value::from(ALGORITHM));
    body.insert("auth_data".into(), Value::Object(auth_data));
    Value::Object(body)
}

/// A backup version as `GET /room_keys/version` returns it: `algorithm`, `auth_data`, `version`, and
/// the optional `count` and `etag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    algorithm: String,
    auth_data: Object,
    version: String,
    count: Option<u64>,
    etag: Option<String>,
}

/// Why [`BackupInfo::trust`] trusts, or does not trust, a backup.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackupTrust {
    /// Its public key is the one of the backup private key we hold.
    MatchesHeldKey,
    /// `auth_data` is validly signed by our master key, which we trust (rule T0).
    SignedByOwnMasterKey,
    /// `auth_data` is validly signed by this device.
    SignedByThisDevice,
    /// `auth_data` is validly signed by another of our devices, verified locally or cross-signed.
    SignedByOwnDevice,
    /// Not trusted: do not send room keys to it, do not read keys from it.
    Untrusted(UntrustedReason),
}

impl BackupTrust {
    /// Whether the backup may be used.
    #[must_use]
    pub const fn is_trusted(self) -> bool {
        !matches!(self, Self::Untrusted(_))
    }
}

/// Why a backup is not trusted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UntrustedReason {
    /// The algorithm is not `m.megolm_backup.v1.curve25519-aes-sha2`.
    UnsupportedAlgorithm,
    /// `auth_data.public_key` is missing, not base64 of 32 bytes, or a point of small order.
    InvalidPublicKey,
    /// No valid signature by a trusted key, and the public key is not the one of a key we hold.
    NoTrustedSignature,
}

impl BackupInfo {
    /// Reads a `GET /room_keys/version` response. Any algorithm is read (so that the application can
    /// see that the backup is of another kind); [`BackupInfo::trust`] refuses what it does not know.
    ///
    /// # Errors
    /// [`BackupError::Malformed`] unless `algorithm` and `version` are strings, `auth_data` an object
    /// whose `signatures` (if any) is an object of objects of strings, `count` (if present) a
    /// non-negative integer and `etag` (if present) a string; [`BackupError::InvalidParameter`] for
    /// more than [`crate::limits::MAX_SIGNATURES_PER_OBJECT`] signatures.
    pub fn from_response(response: &Value) -> Result<Self, BackupError> {
        let text = |name: &str| {
            response
                .get(name)
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or(BackupError::Malformed)
        };
        let auth_data = response
            .get("auth_data")
            .and_then(Value::as_object)
            .ok_or(BackupError::Malformed)?;
        check_signatures_shape(auth_data).map_err(shape_error)?;
        let count = match response.get("count") {
            None => None,
            Some(v) => Some(
                v.as_integer()
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or(BackupError::Malformed)?,
            ),
        };
        let etag = match response.get("etag") {
            None => None,
            Some(v) => Some(String::from(v.as_str().ok_or(BackupError::Malformed)?)),
        };
        Ok(Self {
            algorithm: text("algorithm")?,
            auth_data: auth_data.clone(),
            version: text("version")?,
            count,
            etag,
        })
    }

    /// The backup a `POST /room_keys/version` created: the request body (as [`version_request`]
    /// builds it) and the `version` the server answered with. No `count` or `etag`.
    ///
    /// # Errors
    /// As [`BackupInfo::from_response`].
    pub fn from_created(request: &Value, version: &str) -> Result<Self, BackupError> {
        let mut response = request.as_object().ok_or(BackupError::Malformed)?.clone();
        response.insert("version".into(), Value::from(version));
        Self::from_response(&Value::Object(response))
    }

    /// The algorithm name.
    #[must_use]
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The `auth_data` object, signatures included.
    #[must_use]
    pub const fn auth_data(&self) -> &Object {
        &self.auth_data
    }

    /// The version id the server gave the backup (sent back as `?version=` when uploading keys).
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// How many keys the backup holds, if the server said.
    #[must_use]
    pub const fn count(&self) -> Option<u64> {
        self.count
    }

    /// The backup's etag (it changes when keys are added), if the server said.
    #[must_use]
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The backup's public key.
    ///
    /// # Errors
    /// [`BackupError::Unsupported`] for another algorithm; [`BackupError::InvalidKey`] when
    /// `auth_data.public_key` is missing, not base64 of 32 bytes, or of small order.
    pub fn public_key(&self) -> Result<BackupPublicKey, BackupError> {
        if self.algorithm != ALGORITHM {
            return Err(BackupError::Unsupported);
        }
        let text = self
            .auth_data
            .get("public_key")
            .and_then(Value::as_str)
            .ok_or(BackupError::InvalidKey)?;
        BackupPublicKey::from_base64(text)
    }

    /// Whether to trust this backup (see the module documentation for the rule and how it compares
    /// with rust-sdk's).
    ///
    /// - `store`: our identity store, for our master key and the trust of our other devices;
    /// - `this_device_key`: this device's own Ed25519 key (from its Olm account), or `None`; a
    ///   signature under `ed25519:<our device id>` counts only when it verifies with this key;
    /// - `held`: the backup private key we hold, if any.
    #[must_use]
    pub fn trust(
        &self,
        store: &IdentityStore,
        this_device_key: Option<&Ed25519PublicKey>,
        held: Option<&BackupDecryptionKey>,
    ) -> BackupTrust {
        let public_key = match self.public_key() {
            Ok(key) => key,
            Err(BackupError::Unsupported) => {
                return BackupTrust::Untrusted(UntrustedReason::UnsupportedAlgorithm);
            }
            Err(_) => return BackupTrust::Untrusted(UntrustedReason::InvalidPublicKey),
        };
        if held.is_some_and(|k| k.public_key() == public_key) {
            return BackupTrust::MatchesHeldKey;
        }
        let own_user = store.own_user_id();
        let Some(ours) = self
            .auth_data
            .get("signatures")
            .and_then(|s| s.get(own_user))
            .and_then(Value::as_object)
        else {
            return BackupTrust::Untrusted(UntrustedReason::NoTrustedSignature);
        };
        let input = signed::signing_input(&self.auth_data);
        let valid = |key_id: &str, key: &Ed25519PublicKey| {
            signed::find_signature(&self.auth_data, own_user, key_id)
                .ok()
                .flatten()
                .is_some_and(|sig| key.verify(input.as_bytes(), &sig).is_ok())
        };
        // The master key first, then this device, then our other devices.
        if store.is_own_identity_trusted()
            && let Some(master) = store.own_identity().map(|i| i.master_key().public_key())
        {
            let key_id = ed25519_key_id(&key_name(&master));
            if ours.contains_key(&key_id) && valid(&key_id, &master) {
                return BackupTrust::SignedByOwnMasterKey;
            }
        }
        let this_device_id = ed25519_key_id(store.own_device_id());
        if let Some(key) = this_device_key
            && ours.contains_key(&this_device_id)
            && valid(&this_device_id, key)
        {
            return BackupTrust::SignedByThisDevice;
        }
        for key_id in ours.keys() {
            let Some(device_id) = key_id.strip_prefix("ed25519:") else {
                continue;
            };
            // Our own device id too: if the store holds it as verified (cross-signed by our
            // trusted self-signing key), its key there is as good as any verified device's.
            if !store.device_trust(own_user, device_id).is_verified() {
                continue;
            }
            if let Some(device) = store.device(own_user, device_id)
                && valid(key_id, &device.ed25519_key())
            {
                return BackupTrust::SignedByOwnDevice;
            }
        }
        BackupTrust::Untrusted(UntrustedReason::NoTrustedSignature)
    }
}

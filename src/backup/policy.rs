//! Key-storage policy: the three modes a person chooses between, and the one place where key material
//! leaves the device.
//!
//! Matrix clients offer "key storage" as one switch with a recovery option beside it. Behind it are two
//! server-side stores, each holding only ciphertext:
//!
//! * **key backup** (`m.megolm_backup.v1.curve25519-aes-sha2`): every room key, encrypted to the backup
//!   public key. Whoever holds the backup *private* key reads history on a new device.
//! * **secret storage** (`m.secret_storage.v1.aes-hmac-sha2`): the cross-signing private keys and the
//!   backup private key, encrypted under the recovery key. Whoever holds the recovery key gets back
//!   their identity and, through the backup key, their history.
//!
//! [`KeyStorageMode`] names the three combinations. [`KeyStorage`] applies them: an application that
//! sends the server only the [`Upload`]s it produces (the lower-level `key_backup` and
//! `secret_storage` functions are for applications that build their own policy) knows exactly what
//! left the device. Its rules:
//!
//! * **S1** [`KeyStorageMode::WithRecovery`]: room keys go to key backup; the three cross-signing keys
//!   and the backup key go to secret storage. Losing every device loses nothing: the recovery key
//!   restores identity and history ([`KeyStorage::recover`]).
//! * **S2** [`KeyStorageMode::WithoutRecovery`]: room keys go to key backup; nothing goes to secret
//!   storage. The backup key stays on the person's devices and reaches a new device only from an
//!   existing one, after verification ([`KeyStorage::share_backup_key`], [`KeyStorage::join`]).
//!   Losing every device loses the identity and the history.
//! * **S3** [`KeyStorageMode::Off`]: nothing leaves the device. [`KeyStorage::back_up`] returns no
//!   request and [`KeyStorage::share_backup_key`] no key; [`KeyStorage::turn_off`] deletes what an
//!   earlier mode stored.
//! * **S4** Room keys are written only to a backup whose private key this device holds: one it created
//!   ([`KeyStorage::turn_on`]), or one whose public key is the half of a key it received
//!   ([`KeyStorage::join`], [`KeyStorage::recover`] check this; it is the first reason
//!   [`BackupInfo::trust`] accepts). A backup someone else put on the server is never written to.
//! * **S5** Restoring checks every room key: an entry that fails to decrypt or parse, or whose key is
//!   not the session it is stored under, is counted as rejected and skipped; the others are kept.
//!   Restored sessions are unverified ([`RoomKey::to_inbound`]): the v1 backup format authenticates
//!   nothing, so whoever knows the backup's public key could have written an entry.
//!
//! The recovery key is shown once, when storage is turned on, and is not kept: a device that needs it
//! again (to store a new secret) asks the person for it, as Element does.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::key_backup::{self, BackupDecryptionKey, BackupInfo, BackupTrust, KeyBackupMeta};
use super::room_key::RoomKey;
use super::secret_storage::{self, SecretStorageKey, key_description_event_type};
use crate::codec::json::{Object, Value};
use crate::error::BackupError;
use crate::identity::{CrossSigningSecrets, IdentityStore};
use crate::limits::MAX_BACKUP_VERSION_LEN;
use crate::primitives::ed25519::Ed25519PublicKey;

/// The account-data events secret storage holds for end-to-end encryption.
const E2EE_SECRETS: [&str; 4] = [
    secret_storage::CROSS_SIGNING_MASTER,
    secret_storage::CROSS_SIGNING_SELF_SIGNING,
    secret_storage::CROSS_SIGNING_USER_SIGNING,
    secret_storage::MEGOLM_BACKUP_V1,
];

/// Refuses a backup version or secret-storage key id the server made empty or overlong (both are
/// kept, and pickled).
fn check_version(version: &str) -> Result<(), BackupError> {
    if version.is_empty() || version.len() > MAX_BACKUP_VERSION_LEN {
        return Err(BackupError::InvalidParameter);
    }
    Ok(())
}

/// The three key-storage modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyStorageMode {
    /// Key storage on, with recovery (S1): room keys, the identity and the backup key leave the
    /// device, encrypted.
    WithRecovery,
    /// Key storage on, without recovery (S2): only room keys leave the device, encrypted.
    WithoutRecovery,
    /// Key storage off (S3): nothing leaves the device.
    Off,
}

impl KeyStorageMode {
    /// Whether room keys are uploaded to key backup.
    #[must_use]
    pub const fn backs_up_room_keys(self) -> bool {
        !matches!(self, Self::Off)
    }

    /// Whether the cross-signing keys and the backup key are uploaded to secret storage.
    #[must_use]
    pub const fn stores_secrets(self) -> bool {
        matches!(self, Self::WithRecovery)
    }

    /// Whether a new device can read the history of this person's rooms: with recovery from the
    /// recovery key alone, without recovery once one of their devices shares the backup key.
    #[must_use]
    pub const fn new_device_reads_history(self) -> bool {
        self.backs_up_room_keys()
    }

    /// Whether a person who loses every device gets their identity and their history back.
    #[must_use]
    pub const fn survives_losing_every_device(self) -> bool {
        self.stores_secrets()
    }
}

/// A request to the server that carries key material (always encrypted), as [`KeyStorage`] produces
/// it: an application that sends only these knows exactly what left the device.
#[derive(Debug, Clone, PartialEq)]
pub enum Upload {
    /// `PUT /_matrix/client/v3/user/{userId}/account_data/{type}`: a secret-storage key description, the
    /// default-key pointer, or an encrypted secret. An empty object deletes (turning storage off).
    AccountData {
        /// The account-data event type.
        event_type: String,
        /// The content.
        content: Value,
    },
    /// `POST /_matrix/client/v3/room_keys/version`: a new backup, with its signed `auth_data`.
    CreateBackupVersion {
        /// The request body.
        body: Value,
    },
    /// `DELETE /_matrix/client/v3/room_keys/version/{version}`.
    DeleteBackupVersion {
        /// The backup version to delete.
        version: String,
    },
    /// `PUT /_matrix/client/v3/room_keys/keys/{roomId}/{sessionId}?version={version}`: one room key,
    /// encrypted to the backup key.
    RoomKey {
        /// The room.
        room_id: String,
        /// The Megolm session.
        session_id: String,
        /// The backup version.
        version: String,
        /// The `KeyBackupData` body.
        data: Value,
    },
}

/// What turning storage on produced: the requests, and with recovery the recovery key to show once.
pub struct TurnedOn {
    /// The requests to send, in order (the backup version first).
    pub uploads: Vec<Upload>,
    /// The recovery key, grouped as clients display it. Present only with recovery.
    pub recovery_key: Option<Zeroizing<String>>,
}

impl fmt::Debug for TurnedOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnedOn")
            .field("uploads", &self.uploads.len())
            .field(
                "recovery_key",
                &self.recovery_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What [`KeyStorage::recover`] gives back.
#[derive(Debug)]
pub struct Recovered {
    /// Key storage on this device, with recovery, writing to the recovered backup.
    pub storage: KeyStorage,
    /// The cross-signing private keys from secret storage: with them the device trusts its identity
    /// and signs itself ([`crate::identity::IdentityStore::trust_own_identity_with_secrets`],
    /// [`crate::identity::IdentityStore::verify_own_device`]).
    pub cross_signing: CrossSigningSecrets,
}

/// A room key read back from key backup.
#[derive(Debug)]
pub struct RestoredRoomKey {
    /// The room it belongs to.
    pub room_id: String,
    /// The session id it was stored under (checked against the key).
    pub session_id: String,
    /// The key.
    pub key: RoomKey,
}

/// The result of reading a whole backup (S5).
#[derive(Debug)]
pub struct Restored {
    /// The room keys that decrypted and matched their session ids.
    pub keys: Vec<RestoredRoomKey>,
    /// How many entries were skipped: undecryptable, malformed, or stored under another session id.
    pub rejected: usize,
}

/// Key storage on one device: its mode, and in the modes that back up, the backup key and version.
pub struct KeyStorage {
    mode: KeyStorageMode,
    backup_key: Option<BackupDecryptionKey>,
    version: Option<String>,
    /// The secret-storage key id, with recovery (not secret: it names the key description).
    secret_storage_key_id: Option<String>,
}

impl fmt::Debug for KeyStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStorage")
            .field("mode", &self.mode)
            .field(
                "backup_public_key",
                &self.backup_key.as_ref().map(|k| k.public_key()),
            )
            .field("version", &self.version)
            .field("secret_storage_key_id", &self.secret_storage_key_id)
            .finish()
    }
}

impl KeyStorage {
    /// Key storage off (S3): the state of a device until the person turns it on.
    #[must_use]
    pub const fn off() -> Self {
        Self {
            mode: KeyStorageMode::Off,
            backup_key: None,
            version: None,
            secret_storage_key_id: None,
        }
    }

    /// The mode.
    #[must_use]
    pub const fn mode(&self) -> KeyStorageMode {
        self.mode
    }

    /// The backup version room keys are written to, once the server has assigned it.
    #[must_use]
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The backup private key, in the modes that back up.
    #[must_use]
    pub const fn backup_key(&self) -> Option<&BackupDecryptionKey> {
        self.backup_key.as_ref()
    }

    /// The id of the secret-storage key, with recovery (it names the key description; it is not
    /// secret).
    #[must_use]
    pub fn secret_storage_key_id(&self) -> Option<&str> {
        self.secret_storage_key_id.as_deref()
    }

    pub(crate) const fn from_parts(
        mode: KeyStorageMode,
        backup_key: Option<BackupDecryptionKey>,
        version: Option<String>,
        secret_storage_key_id: Option<String>,
    ) -> Self {
        Self {
            mode,
            backup_key,
            version,
            secret_storage_key_id,
        }
    }

    /// Turns key storage on. A fresh backup key is made, and the new backup's `auth_data` is signed by
    /// this device (`signer`) and, when `cross_signing` holds it, by the master key.
    ///
    /// With [`KeyStorageMode::WithRecovery`], a fresh recovery key (derived from `passphrase` if one is
    /// given, which is then described with `m.pbkdf2` so the phrase can stand in for the key) encrypts
    /// the cross-signing keys held and the backup key in secret storage, and becomes the default key.
    ///
    /// # Errors
    /// [`BackupError::InvalidParameter`] for [`KeyStorageMode::Off`] (use [`KeyStorage::off`]);
    /// errors from signing the backup.
    pub fn turn_on<R: CryptoRng + ?Sized, const N: usize>(
        rng: &mut R,
        mode: KeyStorageMode,
        signer: &crate::olm::Account<N>,
        user_id: &str,
        device_id: &str,
        cross_signing: &CrossSigningSecrets,
        passphrase: Option<&str>,
    ) -> Result<(Self, TurnedOn), BackupError> {
        if mode == KeyStorageMode::Off {
            return Err(BackupError::InvalidParameter);
        }
        let backup_key = BackupDecryptionKey::generate(rng);
        let mut auth_data = key_backup::unsigned_auth_data(&backup_key.public_key());
        key_backup::add_device_signature(&mut auth_data, user_id, device_id, signer)?;
        if cross_signing.master_public().is_some() {
            key_backup::add_master_signature(&mut auth_data, user_id, cross_signing)?;
        }
        let mut uploads = Vec::new();
        uploads.push(Upload::CreateBackupVersion {
            body: key_backup::version_request(auth_data),
        });
        let mut recovery_key = None;
        let mut secret_storage_key_id = None;
        if mode == KeyStorageMode::WithRecovery {
            let storage_key = SecretStorageKey::new(rng, passphrase);
            uploads.extend(Self::store_secrets(
                rng,
                &storage_key,
                cross_signing,
                &backup_key,
            )?);
            recovery_key = Some(storage_key.recovery_key().to_base58());
            secret_storage_key_id = Some(storage_key.key_id().into());
        }
        let storage = Self {
            mode,
            backup_key: Some(backup_key),
            version: None,
            secret_storage_key_id,
        };
        Ok((
            storage,
            TurnedOn {
                uploads,
                recovery_key,
            },
        ))
    }

    /// The account-data requests that put the key description, the default-key pointer and the
    /// secrets into secret storage.
    fn store_secrets<R: CryptoRng + ?Sized>(
        rng: &mut R,
        storage_key: &SecretStorageKey,
        cross_signing: &CrossSigningSecrets,
        backup_key: &BackupDecryptionKey,
    ) -> Result<Vec<Upload>, BackupError> {
        let mut uploads = Vec::new();
        uploads.push(Upload::AccountData {
            event_type: storage_key.description_event_type(),
            content: storage_key.description_content(),
        });
        uploads.push(Upload::AccountData {
            event_type: secret_storage::DEFAULT_KEY_EVENT_TYPE.into(),
            content: storage_key.default_key_content(),
        });
        for (name, content) in storage_key.store_cross_signing(rng, cross_signing)? {
            uploads.push(Upload::AccountData {
                event_type: name.into(),
                content,
            });
        }
        uploads.push(Upload::AccountData {
            event_type: secret_storage::MEGOLM_BACKUP_V1.into(),
            content: storage_key.encrypt_secret(
                rng,
                secret_storage::MEGOLM_BACKUP_V1,
                &backup_key.to_base64(),
            )?,
        });
        Ok(uploads)
    }

    /// Records the version the server assigned to the backup created by [`KeyStorage::turn_on`].
    /// Nothing is recorded when storage is off.
    ///
    /// # Errors
    /// [`BackupError::InvalidParameter`] for an empty version or one longer than
    /// [`MAX_BACKUP_VERSION_LEN`].
    pub fn backup_created(&mut self, version: &str) -> Result<(), BackupError> {
        check_version(version)?;
        if self.mode.backs_up_room_keys() {
            self.version = Some(version.into());
        }
        Ok(())
    }

    /// The request that backs up one room key, or `None` when storage is off (S3).
    ///
    /// # Errors
    /// [`BackupError::NoBackup`] when storage is on but the backup version is not known yet.
    pub fn back_up<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        room_id: &str,
        key: &RoomKey,
        first_message_index: u32,
        forwarded_count: u32,
        is_verified: bool,
    ) -> Result<Option<Upload>, BackupError> {
        let Some(backup_key) = self
            .backup_key
            .as_ref()
            .filter(|_| self.mode.backs_up_room_keys())
        else {
            return Ok(None);
        };
        let version = self.version.clone().ok_or(BackupError::NoBackup)?;
        let data = backup_key.public_key().encrypt_room_key(
            rng,
            key,
            KeyBackupMeta {
                first_message_index,
                forwarded_count,
                is_verified,
            },
        )?;
        Ok(Some(Upload::RoomKey {
            room_id: room_id.into(),
            session_id: key.session_key.session_id().as_str().into(),
            version,
            data,
        }))
    }

    /// The backup key as secret storage holds it (`m.megolm_backup.v1`), for one of this person's
    /// devices that asked for it after being verified (an `m.secret.send` over Olm). `None` when
    /// storage is off.
    #[must_use]
    pub fn share_backup_key(&self) -> Option<Zeroizing<String>> {
        self.backup_key.as_ref().map(BackupDecryptionKey::to_base64)
    }

    /// Key storage on a new device that received the backup key from another of this person's devices
    /// ([`KeyStorage::share_backup_key`]). `backup_version` is the server's answer to
    /// `GET /room_keys/version`; the key must be the private half of its public key (S4).
    ///
    /// # Errors
    /// [`BackupError::InvalidParameter`] for [`KeyStorageMode::Off`], [`BackupError::InvalidKey`] for
    /// a secret that is not a key, [`BackupError::KeyMismatch`] when it does not belong to the backup.
    pub fn join(
        mode: KeyStorageMode,
        backup_key: &str,
        backup_version: &Value,
    ) -> Result<Self, BackupError> {
        if mode == KeyStorageMode::Off {
            return Err(BackupError::InvalidParameter);
        }
        let key = BackupDecryptionKey::from_base64(backup_key)?;
        let info = BackupInfo::from_response(backup_version)?;
        Self::adopt(mode, key, &info)
    }

    fn adopt(
        mode: KeyStorageMode,
        key: BackupDecryptionKey,
        info: &BackupInfo,
    ) -> Result<Self, BackupError> {
        if info.public_key()? != key.public_key() {
            return Err(BackupError::KeyMismatch);
        }
        check_version(info.version())?;
        Ok(Self {
            mode,
            backup_key: Some(key),
            version: Some(info.version().into()),
            secret_storage_key_id: None,
        })
    }

    /// Recovers on a new device after losing every other one (S1): `recovery_key` is what the person
    /// typed (or their security phrase, when the key description has `m.pbkdf2` parameters), `get`
    /// reads the account data, `backup_version` is the server's answer to `GET /room_keys/version`.
    ///
    /// A mistyped recovery key fails its parity check, and a wrong one the key check of the key
    /// description, before any secret is decrypted (text that is not a recovery key is tried as the
    /// phrase, when the description has one: a mistyped key is then `KeyCheckFailed`, after the
    /// PBKDF2 run). The cross-signing keys and the backup key come back; the backup key must belong to
    /// the current backup.
    ///
    /// # Errors
    /// The recovery-key parsing errors ([`BackupError::InvalidParity`], …), the key check's, secret
    /// storage's ([`BackupError::Authentication`], [`BackupError::NoSecretStorage`] when there is none:
    /// storage without recovery, or off), and [`BackupError::KeyMismatch`] for a backup key that does
    /// not belong to the backup.
    pub fn recover<'a>(
        recovery_key: &str,
        get: impl Fn(&str) -> Option<&'a Value>,
        backup_version: &Value,
    ) -> Result<Recovered, BackupError> {
        let default =
            get(secret_storage::DEFAULT_KEY_EVENT_TYPE).ok_or(BackupError::NoSecretStorage)?;
        let key_id = default
            .get("key")
            .and_then(Value::as_str)
            .ok_or(BackupError::NoSecretStorage)?;
        check_version(key_id)?;
        let description =
            get(&key_description_event_type(key_id)).ok_or(BackupError::NoSecretStorage)?;
        let storage_key = SecretStorageKey::from_user_input(key_id, description, recovery_key)?;
        let cross_signing = storage_key.load_cross_signing(&get)?;
        let backup_secret = storage_key.decrypt_secret(
            secret_storage::MEGOLM_BACKUP_V1,
            get(secret_storage::MEGOLM_BACKUP_V1).ok_or(BackupError::NoSecretStorage)?,
        )?;
        let key = BackupDecryptionKey::from_base64(&backup_secret)?;
        let info = BackupInfo::from_response(backup_version)?;
        let mut storage = Self::adopt(KeyStorageMode::WithRecovery, key, &info)?;
        storage.secret_storage_key_id = Some(key_id.into());
        Ok(Recovered {
            storage,
            cross_signing,
        })
    }

    /// Reads a whole backup (`GET /room_keys/keys?version=…`): `{"rooms": {room: {"sessions": {id:
    /// KeyBackupData}}}}`. Entries that fail are counted and skipped (S5).
    ///
    /// # Errors
    /// [`BackupError::NoBackup`] without a backup key, [`BackupError::Malformed`] when the response
    /// is not of that shape.
    pub fn restore(&self, response: &Value) -> Result<Restored, BackupError> {
        let key = self.backup_key.as_ref().ok_or(BackupError::NoBackup)?;
        let rooms = response
            .get("rooms")
            .and_then(Value::as_object)
            .ok_or(BackupError::Malformed)?;
        let mut restored = Restored {
            keys: Vec::new(),
            rejected: 0,
        };
        for (room_id, room) in rooms {
            let sessions = room
                .get("sessions")
                .and_then(Value::as_object)
                .ok_or(BackupError::Malformed)?;
            for (session_id, data) in sessions {
                match Self::restore_one(key, room_id, session_id, data) {
                    Ok(k) => restored.keys.push(k),
                    Err(_) => restored.rejected += 1,
                }
            }
        }
        Ok(restored)
    }

    fn restore_one(
        key: &BackupDecryptionKey,
        room_id: &str,
        session_id: &str,
        data: &Value,
    ) -> Result<RestoredRoomKey, BackupError> {
        let (room_key, _) = key.decrypt_room_key(room_id, session_id, data)?;
        Ok(RestoredRoomKey {
            room_id: room_id.into(),
            session_id: session_id.into(),
            key: room_key,
        })
    }

    /// Turns key storage off: the backup is deleted, secret storage is emptied, and nothing leaves the
    /// device from now on (S3).
    #[must_use]
    pub fn turn_off(&mut self) -> Vec<Upload> {
        let mut uploads = Vec::new();
        if let Some(version) = self.version.take() {
            uploads.push(Upload::DeleteBackupVersion { version });
        }
        if self.mode.stores_secrets() {
            let empty = || Value::Object(Object::new());
            for name in E2EE_SECRETS {
                uploads.push(Upload::AccountData {
                    event_type: name.into(),
                    content: empty(),
                });
            }
            if let Some(id) = &self.secret_storage_key_id {
                uploads.push(Upload::AccountData {
                    event_type: key_description_event_type(id),
                    content: empty(),
                });
            }
            uploads.push(Upload::AccountData {
                event_type: secret_storage::DEFAULT_KEY_EVENT_TYPE.into(),
                content: empty(),
            });
        }
        *self = Self::off();
        uploads
    }

    /// Whether to trust the backup `backup_version` (S4), by [`BackupInfo::trust`] with the backup
    /// key this device holds. `this_device_key` is this device's Ed25519 key.
    ///
    /// # Errors
    /// [`BackupError::Malformed`] for a response that is not a backup version.
    pub fn trusts(
        &self,
        backup_version: &Value,
        store: &IdentityStore,
        this_device_key: Option<&Ed25519PublicKey>,
    ) -> Result<BackupTrust, BackupError> {
        let info = BackupInfo::from_response(backup_version)?;
        Ok(info.trust(store, this_device_key, self.backup_key.as_ref()))
    }
}

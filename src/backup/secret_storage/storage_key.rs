//! The JSON side of secret storage (`alloc`): a storage key with its id and description, and the
//! `{"encrypted": {<key id>: {iv, ciphertext, mac}}}` content of a secret.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{
    ALGORITHM, CROSS_SIGNING_MASTER, CROSS_SIGNING_SELF_SIGNING, CROSS_SIGNING_USER_SIGNING,
    IV_LEN, KEY_EVENT_TYPE_PREFIX, MAC_LEN, SECRET_STORAGE_MAX_SECRET_LEN, compute_key_check,
    decrypt_secret_into, encrypt_secret_into, verify_key_check,
};
use crate::backup::passphrase::{PassphraseInfo, random_alphanumeric};
use crate::backup::recovery_key::RecoveryKey;
use crate::codec::base64;
use crate::codec::json::{Object, Value};
use crate::error::BackupError;
use crate::identity::CrossSigningSecrets;

/// The length of a generated key id, in characters (32 random letters and digits, as rust-sdk and
/// js-sdk make them).
pub const KEY_ID_LEN: usize = 32;

/// The account-data event type of the description of key `key_id`: `m.secret_storage.key.<id>`.
#[must_use]
pub fn key_description_event_type(key_id: &str) -> String {
    format!("{KEY_EVENT_TYPE_PREFIX}{key_id}")
}

/// A secret-storage key, opened: the 32-byte key (the recovery key a person holds), its id, and its
/// description (the content of account data `m.secret_storage.key.<id>`).
///
/// Made by [`SecretStorageKey::new`] (a new key), or by opening a description with the recovery key,
/// the passphrase or the raw key; opening runs the description's key check. `Debug` shows the id
/// and the description, never the key.
///
/// ```
/// use rand_core::SeedableRng;
/// use safemeet::BackupError;
/// use safemeet::backup::secret_storage::{MEGOLM_BACKUP_V1, SecretStorageKey};
///
/// let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
///
/// // Setting up: a new key; its description, the default-key pointer and the secret go to the
/// // server as account data, the recovery key to the person.
/// let key = SecretStorageKey::new(&mut rng, None);
/// let description = key.description_content();
/// let backup_secret = key.encrypt_secret(&mut rng, MEGOLM_BACKUP_V1, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo")?;
/// let written_down = key.recovery_key().to_base58();
///
/// // A new device: the person types the recovery key; the key check says whether it is right.
/// let opened = SecretStorageKey::from_recovery_key(key.key_id(), &description, &written_down)?;
/// assert_eq!(opened.decrypt_secret(MEGOLM_BACKUP_V1, &backup_secret)?.as_str(), "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo");
///
/// let other = SecretStorageKey::new(&mut rng, None).recovery_key().to_base58();
/// assert_eq!(
///     SecretStorageKey::from_recovery_key(key.key_id(), &description, &other).err(),
///     Some(BackupError::KeyCheckFailed)
/// );
/// # Ok::<(), BackupError>(())
/// ```
pub struct SecretStorageKey {
    key: RecoveryKey,
    key_id: String,
    description: Object,
}

impl fmt::Debug for SecretStorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStorageKey")
            .field("key_id", &self.key_id)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl SecretStorageKey {
    /// A new key with a random id of [`KEY_ID_LEN`] letters and digits and a description with a key
    /// check. With a passphrase, the key is derived from it under a new [`PassphraseInfo`]
    /// (500 000 iterations, which takes a moment) and the description says how; without one the key
    /// is random and only its recovery key opens it.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R, passphrase: Option<&str>) -> Self {
        if let Some(passphrase) = passphrase {
            let info = PassphraseInfo::generate(rng);
            // A generated description always derives (500 000 iterations, 256 bits), so the
            // fallback below, a random key without a passphrase, is never taken.
            if let Ok(key) = info.derive(passphrase) {
                return Self::from_new_key(rng, key, Some(&info));
            }
        }
        let key = RecoveryKey::generate(rng);
        Self::from_new_key(rng, key, None)
    }

    /// A new key derived from `passphrase` under `info` (for example
    /// [`PassphraseInfo::with_iterations`]), with a random id and a key check.
    ///
    /// # Errors
    /// As [`PassphraseInfo::derive`].
    pub fn with_passphrase<R: CryptoRng + ?Sized>(
        rng: &mut R,
        passphrase: &str,
        info: PassphraseInfo,
    ) -> Result<Self, BackupError> {
        let key = info.derive(passphrase)?;
        Ok(Self::from_new_key(rng, key, Some(&info)))
    }

    /// A new description (random id, key check, optional passphrase info) for an existing key: for
    /// example a key a person already holds, under a new id.
    pub fn from_new_key<R: CryptoRng + ?Sized>(
        rng: &mut R,
        key: RecoveryKey,
        passphrase: Option<&PassphraseInfo>,
    ) -> Self {
        let key_id = random_alphanumeric(rng, KEY_ID_LEN);
        let mut iv = [0u8; IV_LEN];
        rng.fill_bytes(&mut iv);
        let mut description = Object::new();
        description.insert("algorithm".into(), ALGORITHM.into());
        if let Ok((iv, mac)) = compute_key_check(&key, iv) {
            description.insert("iv".into(), base64::encode(iv).into());
            description.insert("mac".into(), base64::encode(mac).into());
        }
        if let Some(info) = passphrase {
            description.insert("passphrase".into(), info.to_json());
        }
        Self {
            key,
            key_id,
            description,
        }
    }

    /// Opens the key `key_id` described by `description` with a recovery key as a person typed it.
    ///
    /// # Errors
    /// The [`RecoveryKey::decode`] errors, then those of [`SecretStorageKey::from_key`].
    pub fn from_recovery_key(
        key_id: &str,
        description: &Value,
        recovery_key: &str,
    ) -> Result<Self, BackupError> {
        Self::from_key(key_id, description, RecoveryKey::decode(recovery_key)?)
    }

    /// Opens the key `key_id` described by `description` with a passphrase, deriving the key as the
    /// description's `passphrase` object says.
    ///
    /// # Errors
    /// [`BackupError::NoPassphrase`] if the description has no `passphrase` object; the
    /// [`PassphraseInfo::from_json`] errors; then those of [`SecretStorageKey::from_key`] (a wrong
    /// passphrase is [`BackupError::KeyCheckFailed`]).
    pub fn from_passphrase(
        key_id: &str,
        description: &Value,
        passphrase: &str,
    ) -> Result<Self, BackupError> {
        check_algorithm(description)?;
        let info = description
            .get("passphrase")
            .ok_or(BackupError::NoPassphrase)?;
        let key = PassphraseInfo::from_json(info)?.derive(passphrase)?;
        Self::from_key(key_id, description, key)
    }

    /// Opens the key `key_id` described by `description` with whatever a person typed: a recovery
    /// key, or the passphrase if the description has one (what a "Verify with Security Key or
    /// Phrase" prompt accepts). Text that decodes as a recovery key is tried as one (a passphrase
    /// that happens to be a valid recovery key, prefix and parity included, is not a real case);
    /// anything else is tried as the passphrase. rust-sdk tries the passphrase first, which costs a
    /// full PBKDF2 run whenever a recovery key is typed; the outcomes are the same.
    ///
    /// # Errors
    /// For a recovery key, as [`SecretStorageKey::from_recovery_key`]; otherwise, if the
    /// description has a passphrase, as [`SecretStorageKey::from_passphrase`], and if it has none,
    /// the [`RecoveryKey::decode`] error.
    pub fn from_user_input(
        key_id: &str,
        description: &Value,
        input: &str,
    ) -> Result<Self, BackupError> {
        match RecoveryKey::decode(input) {
            Ok(key) => Self::from_key(key_id, description, key),
            Err(decode_error) => {
                let has_passphrase = description.get("passphrase").is_some();
                if has_passphrase {
                    Self::from_passphrase(key_id, description, input)
                } else {
                    Err(decode_error)
                }
            }
        }
    }

    /// Opens the key `key_id` described by `description` with the raw key.
    ///
    /// # Errors
    /// [`BackupError::Malformed`] if the description is not an object or its `iv`/`mac` are not
    /// base64 of 16 and 32 bytes; [`BackupError::Unsupported`] if its `algorithm` is not
    /// `m.secret_storage.v1.aes-hmac-sha2`; [`BackupError::KeyCheckFailed`] if the key fails the key
    /// check. A description without `iv` or without `mac` has no check, and any key opens it (the
    /// specification's rule, as rust-sdk applies it).
    pub fn from_key(
        key_id: &str,
        description: &Value,
        key: RecoveryKey,
    ) -> Result<Self, BackupError> {
        check_algorithm(description)?;
        let object = description.as_object().ok_or(BackupError::Malformed)?;
        if let (Some(iv), Some(mac)) = (object.get("iv"), object.get("mac")) {
            let iv: [u8; IV_LEN] = decode_fixed(iv)?;
            let mac: [u8; MAC_LEN] = decode_fixed(mac)?;
            verify_key_check(&key, &iv, &mac)?;
        }
        Ok(Self {
            key,
            key_id: key_id.to_owned(),
            description: object.clone(),
        })
    }

    /// The key id.
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The account-data event type of the description: `m.secret_storage.key.<id>`.
    #[must_use]
    pub fn description_event_type(&self) -> String {
        key_description_event_type(&self.key_id)
    }

    /// The description, the content of account data `m.secret_storage.key.<id>`.
    #[must_use]
    pub fn description_content(&self) -> Value {
        Value::Object(self.description.clone())
    }

    /// The content of account data `m.secret_storage.default_key` naming this key: `{"key": <id>}`.
    #[must_use]
    pub fn default_key_content(&self) -> Value {
        let mut object = Object::new();
        object.insert("key".into(), self.key_id.as_str().into());
        Value::Object(object)
    }

    /// The key itself, for showing as a recovery key ([`RecoveryKey::to_base58`]).
    #[must_use]
    pub const fn recovery_key(&self) -> &RecoveryKey {
        &self.key
    }

    /// Encrypts `secret` as the secret `name`: the account-data content
    /// `{"encrypted": {<key id>: {"iv", "ciphertext", "mac"}}}`, unpadded base64.
    ///
    /// # Errors
    /// [`BackupError::InvalidParameter`] if `secret` is longer than
    /// [`SECRET_STORAGE_MAX_SECRET_LEN`] bytes.
    pub fn encrypt_secret<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        name: &str,
        secret: &str,
    ) -> Result<Value, BackupError> {
        let mut iv = [0u8; IV_LEN];
        rng.fill_bytes(&mut iv);
        let mut ciphertext = vec![0u8; secret.len()];
        let sealed = encrypt_secret_into(&self.key, name, iv, secret.as_bytes(), &mut ciphertext)?;
        let mut entry = Object::new();
        entry.insert("iv".into(), base64::encode(sealed.iv).into());
        entry.insert("ciphertext".into(), base64::encode(&ciphertext).into());
        entry.insert("mac".into(), base64::encode(sealed.mac).into());
        let mut by_key = Object::new();
        by_key.insert(self.key_id.clone(), Value::Object(entry));
        let mut content = Object::new();
        content.insert("encrypted".into(), Value::Object(by_key));
        Ok(Value::Object(content))
    }

    /// Decrypts the secret `name` from its account-data `content`. Base64 may be padded or not.
    ///
    /// # Errors
    /// [`BackupError::Malformed`] if `content` has no `encrypted` object, or this key's entry lacks
    /// `iv`, `ciphertext` or `mac` strings, or they are not base64, or `iv` is not 16 bytes or `mac`
    /// not 32; [`BackupError::NotEncryptedForKey`] if there is no entry for this key id;
    /// [`BackupError::InvalidParameter`] for a ciphertext longer than
    /// [`SECRET_STORAGE_MAX_SECRET_LEN`]; [`BackupError::Authentication`] if the MAC fails;
    /// [`BackupError::Malformed`] if the authenticated plaintext is not UTF-8.
    pub fn decrypt_secret(
        &self,
        name: &str,
        content: &Value,
    ) -> Result<Zeroizing<String>, BackupError> {
        let encrypted = content
            .get("encrypted")
            .and_then(Value::as_object)
            .ok_or(BackupError::Malformed)?;
        let entry = encrypted
            .get(&self.key_id)
            .ok_or(BackupError::NotEncryptedForKey)?;
        let field = |name: &str| entry.get(name).ok_or(BackupError::Malformed);
        let iv: [u8; IV_LEN] = decode_fixed(field("iv")?)?;
        let mac: [u8; MAC_LEN] = decode_fixed(field("mac")?)?;
        let ciphertext = field("ciphertext")?
            .as_str()
            .ok_or(BackupError::Malformed)?;
        let ciphertext = base64::decode(ciphertext).map_err(|_| BackupError::Malformed)?;
        if ciphertext.len() > SECRET_STORAGE_MAX_SECRET_LEN {
            return Err(BackupError::InvalidParameter);
        }
        let mut plaintext = Zeroizing::new(vec![0u8; ciphertext.len()]);
        let n = decrypt_secret_into(&self.key, name, &iv, &ciphertext, &mac, &mut plaintext)?;
        let text = plaintext
            .get(..n)
            .and_then(|p| core::str::from_utf8(p).ok())
            .ok_or(BackupError::Malformed)?;
        Ok(Zeroizing::new(text.to_owned()))
    }

    /// The cross-signing private keys held in `secrets`, each encrypted as its secret: one
    /// `(event type, content)` pair per key held, to upload as account data.
    ///
    /// # Errors
    /// As [`SecretStorageKey::encrypt_secret`] (not reachable with 32-byte seeds).
    pub fn store_cross_signing<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        secrets: &CrossSigningSecrets,
    ) -> Result<Vec<(&'static str, Value)>, BackupError> {
        let names = [
            CROSS_SIGNING_MASTER,
            CROSS_SIGNING_SELF_SIGNING,
            CROSS_SIGNING_USER_SIGNING,
        ];
        let mut events = Vec::new();
        for (name, seed) in names.into_iter().zip(secrets.to_secret_storage()) {
            if let Some(seed) = seed {
                events.push((name, self.encrypt_secret(rng, name, &seed)?));
            }
        }
        Ok(events)
    }

    /// Reads the cross-signing private keys back: `get` returns the account-data content of a
    /// secret name, or `None` if the account has no such event. A key whose event is absent is
    /// absent from the result.
    ///
    /// # Errors
    /// The [`SecretStorageKey::decrypt_secret`] errors of any event present (an event stored under
    /// another key is [`BackupError::NotEncryptedForKey`]); [`BackupError::Malformed`] if a secret
    /// is not base64 of a 32-byte seed.
    pub fn load_cross_signing<'a>(
        &self,
        get: impl Fn(&str) -> Option<&'a Value>,
    ) -> Result<CrossSigningSecrets, BackupError> {
        let read = |name: &str| -> Result<Option<Zeroizing<String>>, BackupError> {
            get(name)
                .map(|content| self.decrypt_secret(name, content))
                .transpose()
        };
        let master = read(CROSS_SIGNING_MASTER)?;
        let self_signing = read(CROSS_SIGNING_SELF_SIGNING)?;
        let user_signing = read(CROSS_SIGNING_USER_SIGNING)?;
        CrossSigningSecrets::from_secret_storage(
            master.as_ref().map(|s| s.as_str()),
            self_signing.as_ref().map(|s| s.as_str()),
            user_signing.as_ref().map(|s| s.as_str()),
        )
        .map_err(|_| BackupError::Malformed)
    }
}

/// Fails unless the description is an object whose `algorithm` is ours.
fn check_algorithm(description: &Value) -> Result<(), BackupError> {
    let algorithm = description
        .as_object()
        .ok_or(BackupError::Malformed)?
        .get("algorithm")
        .and_then(Value::as_str)
        .ok_or(BackupError::Malformed)?;
    if algorithm == ALGORITHM {
        Ok(())
    } else {
        Err(BackupError::Unsupported)
    }
}

/// A base64 string (padded or not) of exactly `N` bytes.
fn decode_fixed<const N: usize>(value: &Value) -> Result<[u8; N], BackupError> {
    let text = value.as_str().ok_or(BackupError::Malformed)?;
    let mut out = [0u8; N];
    base64::decode_array_into(text, &mut out).map_err(|_| BackupError::Malformed)?;
    Ok(out)
}

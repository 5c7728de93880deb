//! The JSON shapes of one backed-up room key (`alloc`): `session_data`
//! (`{"ephemeral", "ciphertext", "mac"}`, each unpadded base64) and `KeyBackupData`
//! (`{"first_message_index", "forwarded_count", "is_verified", "session_data"}`), as
//! `PUT /room_keys/keys/{roomId}/{sessionId}` uploads them and `GET /room_keys/keys` returns them.
//!
//! The plaintext is handled as bytes (the `BackedUpSessionData` JSON), or as a typed
//! [`RoomKey`] by [`BackupPublicKey::encrypt_room_key`] and [`BackupDecryptionKey::decrypt_room_key`]. Members this module does not know are ignored, as peers ignore
//! them; base64 is read padded or unpadded and written unpadded.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{
    BackupDecryptionKey, BackupPublicKey, EncryptedHeader, KeyBackupMeta, MAC_LEN, encrypt_len,
};
use crate::BackupError;
use crate::backup::room_key::RoomKey;
use crate::codec::base64;
use crate::codec::json::{self, Object, Value};
use crate::limits::KEY_BACKUP_MAX_CIPHERTEXT_LEN;
use crate::primitives::curve25519::Curve25519PublicKey;

/// One decrypted `KeyBackupData` entry: the plaintext (the `BackedUpSessionData` JSON bytes, in a
/// buffer that zeroizes itself) and the entry's metadata. `Debug` shows the metadata only.
pub struct DecryptedKeyBackup {
    /// The decrypted `BackedUpSessionData` JSON. **Unauthenticated**: anyone who knows the backup's
    /// public key could have written it (see the module documentation of
    /// [`super`](crate::backup::key_backup)).
    pub plaintext: Zeroizing<Vec<u8>>,
    /// `first_message_index`, `forwarded_count` and `is_verified`, as the entry claims them.
    pub meta: KeyBackupMeta,
}

impl fmt::Debug for DecryptedKeyBackup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedKeyBackup")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl KeyBackupMeta {
    /// Reads the metadata of a `KeyBackupData` entry, without decrypting it (what the server's
    /// replacement rule, [`KeyBackupMeta::replaces`], looks at).
    ///
    /// # Errors
    /// [`BackupError::Malformed`] unless `first_message_index` and `forwarded_count` are integers in
    /// `0..=u32::MAX` and `is_verified` a boolean.
    pub fn from_json(key_backup_data: &Value) -> Result<Self, BackupError> {
        let u32_field = |name: &str| {
            key_backup_data
                .get(name)
                .and_then(Value::as_integer)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or(BackupError::Malformed)
        };
        Ok(Self {
            first_message_index: u32_field("first_message_index")?,
            forwarded_count: u32_field("forwarded_count")?,
            is_verified: key_backup_data
                .get("is_verified")
                .and_then(Value::as_bool)
                .ok_or(BackupError::Malformed)?,
        })
    }
}

impl BackupPublicKey {
    /// Encrypts one backed-up room key (`plaintext`, the `BackedUpSessionData` JSON bytes) as a
    /// `session_data` object `{"ciphertext", "ephemeral", "mac"}`.
    ///
    /// # Errors
    /// [`BackupError::InvalidParameter`] past [`KEY_BACKUP_MAX_CIPHERTEXT_LEN`].
    pub fn encrypt_session_data<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        plaintext: &[u8],
    ) -> Result<Value, BackupError> {
        let mut ciphertext = vec![0u8; encrypt_len(plaintext.len())];
        let (len, header) = self.encrypt_into(rng, plaintext, &mut ciphertext)?;
        ciphertext.truncate(len);
        let mut object = Object::new();
        object.insert(
            "ciphertext".into(),
            Value::String(base64::encode(&ciphertext)),
        );
        object.insert(
            "ephemeral".into(),
            Value::String(base64::encode(header.ephemeral.as_bytes())),
        );
        object.insert("mac".into(), Value::String(base64::encode(header.mac)));
        Ok(Value::Object(object))
    }

    /// Encrypts one backed-up room key as a whole `KeyBackupData` entry: `meta` beside the
    /// `session_data` of [`BackupPublicKey::encrypt_session_data`].
    ///
    /// # Errors
    /// As [`BackupPublicKey::encrypt_session_data`].
    pub fn key_backup_data<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        plaintext: &[u8],
        meta: KeyBackupMeta,
    ) -> Result<Value, BackupError> {
        let session_data = self.encrypt_session_data(rng, plaintext)?;
        let mut object = Object::new();
        object.insert(
            "first_message_index".into(),
            Value::Integer(i64::from(meta.first_message_index)),
        );
        object.insert(
            "forwarded_count".into(),
            Value::Integer(i64::from(meta.forwarded_count)),
        );
        object.insert("is_verified".into(), Value::Bool(meta.is_verified));
        object.insert("session_data".into(), session_data);
        Ok(Value::Object(object))
    }
}

/// The decoded parts of a `session_data` object.
struct SessionData {
    header: EncryptedHeader,
    ciphertext: Vec<u8>,
}

fn string_field<'a>(object: &'a Value, name: &str) -> Result<&'a str, BackupError> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or(BackupError::Malformed)
}

/// Decodes base64 of exactly `N` bytes.
fn fixed<const N: usize>(text: &str, error: BackupError) -> Result<[u8; N], BackupError> {
    let mut out = [0u8; N];
    base64::decode_array_into(text, &mut out).map_err(|_| error)?;
    Ok(out)
}

impl SessionData {
    fn from_json(session_data: &Value) -> Result<Self, BackupError> {
        session_data.as_object().ok_or(BackupError::Malformed)?;
        let ephemeral = fixed::<32>(
            string_field(session_data, "ephemeral")?,
            BackupError::Malformed,
        )?;
        let mac = fixed::<MAC_LEN>(string_field(session_data, "mac")?, BackupError::Malformed)?;
        let text = string_field(session_data, "ciphertext")?;
        let len = base64::decoded_len(text).map_err(|_| BackupError::Malformed)?;
        if len > KEY_BACKUP_MAX_CIPHERTEXT_LEN {
            return Err(BackupError::InvalidParameter);
        }
        let ciphertext = base64::decode(text).map_err(|_| BackupError::Malformed)?;
        Ok(Self {
            header: EncryptedHeader {
                ephemeral: Curve25519PublicKey::from_bytes(ephemeral),
                mac,
            },
            ciphertext,
        })
    }
}

impl BackupDecryptionKey {
    /// Decrypts a `session_data` object, returning the plaintext (the `BackedUpSessionData` JSON
    /// bytes) in a buffer that zeroizes itself.
    ///
    /// # Errors
    /// [`BackupError::Malformed`] when a member is missing, not a string, not base64, or of the wrong
    /// length (`ephemeral` must be 32 bytes, `mac` 8); otherwise as
    /// [`BackupDecryptionKey::decrypt_into`].
    pub fn decrypt_session_data(
        &self,
        session_data: &Value,
    ) -> Result<Zeroizing<Vec<u8>>, BackupError> {
        let parts = SessionData::from_json(session_data)?;
        let mut out = Zeroizing::new(vec![0u8; super::decrypt_len(parts.ciphertext.len())]);
        let n = self.decrypt_into(
            &parts.header.ephemeral,
            &parts.header.mac,
            &parts.ciphertext,
            &mut out,
        )?;
        out.truncate(n);
        Ok(out)
    }

    /// Decrypts a whole `KeyBackupData` entry: its metadata and its `session_data`.
    ///
    /// # Errors
    /// [`BackupError::Malformed`] for a bad shape (see [`KeyBackupMeta::from_json`] and
    /// [`BackupDecryptionKey::decrypt_session_data`]); otherwise as
    /// [`BackupDecryptionKey::decrypt_into`].
    pub fn decrypt_key_backup_data(
        &self,
        key_backup_data: &Value,
    ) -> Result<DecryptedKeyBackup, BackupError> {
        let meta = KeyBackupMeta::from_json(key_backup_data)?;
        let session_data = key_backup_data
            .get("session_data")
            .ok_or(BackupError::Malformed)?;
        Ok(DecryptedKeyBackup {
            plaintext: self.decrypt_session_data(session_data)?,
            meta,
        })
    }
}

impl BackupPublicKey {
    /// Encrypts a room key for upload: the `KeyBackupData` entry of
    /// `PUT /room_keys/keys/{roomId}/{sessionId}` (the room and session ids go in the path, not in
    /// the plaintext, which is [`RoomKey::to_backup_json`] in canonical form).
    ///
    /// # Errors
    /// As [`BackupPublicKey::key_backup_data`].
    pub fn encrypt_room_key<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        room_key: &RoomKey,
        meta: KeyBackupMeta,
    ) -> Result<Value, BackupError> {
        let plaintext = Zeroizing::new(room_key.to_backup_json().to_canonical());
        self.key_backup_data(rng, plaintext.as_bytes(), meta)
    }
}

impl BackupDecryptionKey {
    /// Decrypts the `KeyBackupData` entry stored under `room_id` and `session_id` (the path it came
    /// from) into a room key carrying those ids, and the entry's metadata. The key is checked to be
    /// the session `session_id` names. Like every backed-up key it is unauthenticated: sessions made
    /// from it are unverified.
    ///
    /// # Errors
    /// As [`BackupDecryptionKey::decrypt_key_backup_data`]; [`BackupError::Malformed`] when the
    /// plaintext is not JSON, or as [`RoomKey::from_json`]; [`BackupError::SessionIdMismatch`] when the
    /// key is another session's.
    pub fn decrypt_room_key(
        &self,
        room_id: &str,
        session_id: &str,
        key_backup_data: &Value,
    ) -> Result<(RoomKey, KeyBackupMeta), BackupError> {
        let decrypted = self.decrypt_key_backup_data(key_backup_data)?;
        let value = json::parse(&decrypted.plaintext).map_err(|_| BackupError::Malformed)?;
        let mut room_key = RoomKey::from_json(&value)?;
        room_key.room_id = Some(room_id.into());
        room_key.session_id = Some(session_id.into());
        room_key.check_session_id()?;
        Ok((room_key, decrypted.meta))
    }
}

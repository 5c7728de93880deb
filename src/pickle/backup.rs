//! The pickle of the backup layer: [`KeyStorage`] (its mode, the backup private key, the backup
//! version and the secret-storage key id).

use alloc::string::String;

use zeroize::Zeroizing;

use crate::Error;
use crate::backup::key_backup::BackupDecryptionKey;
use crate::backup::policy::{KeyStorage, KeyStorageMode};
use crate::codec::{Reader, Writer};
use crate::error::CodecError;

use super::{Kind, Pickled, read_flag};

/// The longest backup version or secret-storage key id a pickle holds: the backup version's bound
/// (servers assign short numeric versions; clients make 32-character key ids).
const MAX_NAME_LEN: usize = crate::limits::MAX_BACKUP_VERSION_LEN;

fn name_len(name: Option<&str>) -> usize {
    1 + name.map_or(0, |n| 1 + n.len())
}

fn write_name(w: &mut Writer<'_>, name: Option<&str>) -> Result<(), CodecError> {
    w.write_u8(u8::from(name.is_some()))?;
    if let Some(n) = name {
        let len = u8::try_from(n.len()).map_err(|_| CodecError::TooLarge)?;
        w.write_u8(len)?;
        w.write_bytes(n.as_bytes())?;
    }
    Ok(())
}

fn read_name(r: &mut Reader<'_>) -> Result<Option<String>, CodecError> {
    if !read_flag(r)? {
        return Ok(None);
    }
    let len = usize::from(r.read_u8()?);
    if len == 0 || len > MAX_NAME_LEN {
        return Err(CodecError::ValueOutOfRange);
    }
    let bytes = r.read_bytes(len)?;
    core::str::from_utf8(bytes)
        .map(|s| Some(String::from(s)))
        .map_err(|_| CodecError::ValueOutOfRange)
}

const fn mode_byte(mode: KeyStorageMode) -> u8 {
    match mode {
        KeyStorageMode::Off => 0,
        KeyStorageMode::WithRecovery => 1,
        KeyStorageMode::WithoutRecovery => 2,
    }
}

impl Pickled for KeyStorage {
    const KIND: Kind = Kind::KeyStorage;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        1 + 1
            + self.backup_key().map_or(0, |_| 32)
            + name_len(self.version())
            + name_len(self.secret_storage_key_id())
    }

    /// `mode[1] has_key[1] key[32]? version? key_id?`, where each name is `present[1] (len[1]
    /// utf8[len])?`. Mode 0 is off, 1 with recovery, 2 without.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_u8(mode_byte(self.mode()))?;
        w.write_u8(u8::from(self.backup_key().is_some()))?;
        if let Some(key) = self.backup_key() {
            w.write_bytes(key.to_bytes().as_ref())?;
        }
        write_name(w, self.version())?;
        write_name(w, self.secret_storage_key_id())
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let mode = match r.read_u8()? {
            0 => KeyStorageMode::Off,
            1 => KeyStorageMode::WithRecovery,
            2 => KeyStorageMode::WithoutRecovery,
            _ => return Err(CodecError::ValueOutOfRange.into()),
        };
        let backup_key = if read_flag(r)? {
            let bytes = Zeroizing::new(r.read_array::<32>()?);
            Some(BackupDecryptionKey::from_bytes(&bytes))
        } else {
            None
        };
        let backup_version = read_name(r)?;
        let key_id = read_name(r)?;
        // Off holds nothing; the modes that back up hold a key.
        if (mode == KeyStorageMode::Off) != backup_key.is_none()
            || (mode == KeyStorageMode::Off && (backup_version.is_some() || key_id.is_some()))
        {
            return Err(CodecError::ValueOutOfRange.into());
        }
        Ok(Self::from_parts(mode, backup_key, backup_version, key_id))
    }
}

pickle_api!(KeyStorage);

//! Pickles of the identity layer: the [`IdentityStore`]'s pins and local verifications, and the
//! [`CrossSigningSecrets`].

use alloc::string::String;

use zeroize::Zeroizing;

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::CodecError;
use crate::identity::store::UserEntry;
use crate::identity::{CrossSigningSecrets, IdentityStore};
use crate::limits::{MAX_IDENTITY_ID_LEN, MAX_LOCALLY_VERIFIED_DEVICES, MAX_TRACKED_USERS};
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};

use super::{Kind, Pickled, read_flag};

fn id_len(s: &str) -> usize {
    2 + s.len()
}

fn write_id(w: &mut Writer<'_>, s: &str) -> Result<(), CodecError> {
    let n = u16::try_from(s.len()).map_err(|_| CodecError::TooLarge)?;
    w.write_bytes(&n.to_be_bytes())?;
    w.write_bytes(s.as_bytes())
}

fn read_id(r: &mut Reader<'_>) -> Result<String, CodecError> {
    let n = usize::from(u16::from_be_bytes(r.read_array()?));
    if n == 0 || n > MAX_IDENTITY_ID_LEN {
        return Err(CodecError::TooLarge);
    }
    let bytes = r.read_bytes(n)?;
    core::str::from_utf8(bytes)
        .map(String::from)
        .map_err(|_| CodecError::ValueOutOfRange)
}

fn read_key(r: &mut Reader<'_>) -> Result<Ed25519PublicKey, CodecError> {
    Ed25519PublicKey::from_bytes(&r.read_array()?).map_err(|_| CodecError::ValueOutOfRange)
}

fn persisted(entry: &UserEntry) -> bool {
    entry.pinned.is_some() || entry.was_verified || !entry.local.is_empty()
}

fn entry_len(user: &str, entry: &UserEntry) -> usize {
    id_len(user)
        + 1
        + entry.pinned.map_or(0, |_| 32)
        + 1
        + 2
        + entry.local.keys().map(|d| id_len(d) + 32).sum::<usize>()
}

impl Pickled for IdentityStore {
    const KIND: Kind = Kind::IdentityStore;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        id_len(&self.own_user)
            + id_len(&self.own_device)
            + 1
            + self.own_trusted_master.map_or(0, |_| 32)
            + 4
            + self
                .users
                .iter()
                .filter(|(_, e)| persisted(e))
                .map(|(u, e)| entry_len(u, e))
                .sum::<usize>()
    }

    /// `own_user own_device has_trusted[1] trusted_master[32]? n_users[4] user*`, each user
    /// `user_id has_pin[1] pin[32]? was_verified[1] n_local[2] (device_id key[32])*`, ids as
    /// `len[2] utf8`. Only users with a pin, a verified flag or a local verification are stored.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        write_id(w, &self.own_user)?;
        write_id(w, &self.own_device)?;
        w.write_u8(u8::from(self.own_trusted_master.is_some()))?;
        if let Some(k) = &self.own_trusted_master {
            w.write_bytes(k.as_bytes())?;
        }
        let count = self.users.values().filter(|e| persisted(e)).count();
        let count = u32::try_from(count).map_err(|_| CodecError::TooLarge)?;
        w.write_bytes(&count.to_be_bytes())?;
        for (user, entry) in self.users.iter().filter(|(_, e)| persisted(e)) {
            write_id(w, user)?;
            w.write_u8(u8::from(entry.pinned.is_some()))?;
            if let Some(k) = &entry.pinned {
                w.write_bytes(k.as_bytes())?;
            }
            w.write_u8(u8::from(entry.was_verified))?;
            let n = u16::try_from(entry.local.len()).map_err(|_| CodecError::TooLarge)?;
            w.write_bytes(&n.to_be_bytes())?;
            for (device, key) in &entry.local {
                write_id(w, device)?;
                w.write_bytes(key.as_bytes())?;
            }
        }
        Ok(())
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let own_user = read_id(r)?;
        let own_device = read_id(r)?;
        let mut store = Self::new(&own_user, &own_device)?;
        if read_flag(r)? {
            store.own_trusted_master = Some(read_key(r)?);
        }
        let n = usize::try_from(u32::from_be_bytes(r.read_array()?))
            .map_err(|_| CodecError::TooLarge)?;
        if n > MAX_TRACKED_USERS {
            return Err(CodecError::TooLarge.into());
        }
        let mut local_total = 0usize;
        for _ in 0..n {
            let user = read_id(r)?;
            let mut entry = UserEntry::default();
            if read_flag(r)? {
                entry.pinned = Some(read_key(r)?);
            }
            entry.was_verified = read_flag(r)?;
            let locals = usize::from(u16::from_be_bytes(r.read_array()?));
            local_total += locals;
            if local_total > MAX_LOCALLY_VERIFIED_DEVICES {
                return Err(CodecError::TooLarge.into());
            }
            for _ in 0..locals {
                let device = read_id(r)?;
                let key = read_key(r)?;
                if entry.local.insert(device, key).is_some() {
                    return Err(CodecError::UnexpectedField.into());
                }
            }
            if store.users.insert(user, entry).is_some() {
                return Err(CodecError::UnexpectedField.into());
            }
        }
        Ok(store)
    }
}

pickle_api!(IdentityStore);

impl Pickled for CrossSigningSecrets {
    const KIND: Kind = Kind::CrossSigningSecrets;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        let (m, s, u) = self.parts();
        3 + [m, s, u].iter().flatten().count() * 32
    }

    /// `(has_key[1] seed[32]?)` for the master, self-signing and user-signing keys in that order.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        let (m, s, u) = self.parts();
        for key in [m, s, u] {
            w.write_u8(u8::from(key.is_some()))?;
            if let Some(k) = key {
                w.write_bytes(k.seed().as_ref())?;
            }
        }
        Ok(())
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let mut read = || -> Result<Option<Ed25519SecretKey>, CodecError> {
            if read_flag(r)? {
                let seed = Zeroizing::new(r.read_array::<32>()?);
                Ok(Some(Ed25519SecretKey::from_seed(&seed)))
            } else {
                Ok(None)
            }
        };
        let master = read()?;
        let self_signing = read()?;
        let user_signing = read()?;
        Ok(Self::from_keys(master, self_signing, user_signing))
    }
}

pickle_api!(CrossSigningSecrets);

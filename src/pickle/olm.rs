//! Pickles of the Olm profile's [`Account`] and [`Session`].

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::CodecError;
use crate::olm::account::OneTimeKey;
use crate::olm::{Account, KeyId, Session, SessionKeys};
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::ed25519::Ed25519SecretKey;
use crate::ratchet::DoubleRatchet;

use super::{Kind, Pickled, read_flag};

/// `id[8] secret[32] public[32] published[1]`.
const KEY_LEN: usize = 8 + 32 + 32 + 1;

fn write_key(w: &mut Writer<'_>, k: &OneTimeKey) -> Result<(), CodecError> {
    w.write_bytes(&k.id.0.to_be_bytes())?;
    w.write_bytes(&*k.secret.to_bytes())?;
    w.write_bytes(k.public.as_bytes())?;
    w.write_u8(u8::from(k.published))
}

fn read_key(r: &mut Reader<'_>) -> Result<OneTimeKey, CodecError> {
    let id = KeyId(u64::from_be_bytes(r.read_array()?));
    let secret = zeroize::Zeroizing::new(r.read_array::<32>()?);
    Ok(OneTimeKey {
        id,
        secret: Curve25519SecretKey::from_bytes(&secret),
        public: Curve25519PublicKey::from_bytes(r.read_array()?),
        published: read_flag(r)?,
    })
}

fn write_opt_key(w: &mut Writer<'_>, k: Option<&OneTimeKey>) -> Result<(), CodecError> {
    w.write_u8(u8::from(k.is_some()))?;
    k.map_or(Ok(()), |k| write_key(w, k))
}

fn read_opt_key(r: &mut Reader<'_>) -> Result<Option<OneTimeKey>, CodecError> {
    if read_flag(r)? {
        read_key(r).map(Some)
    } else {
        Ok(None)
    }
}

impl<const N: usize> Pickled for Account<N> {
    const KIND: Kind = Kind::OlmAccount;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        32 + 32
            + 32
            + 2
            + self.one_time_len * KEY_LEN
            + 8
            + 1
            + self.fallback.as_ref().map_or(0, |_| KEY_LEN)
            + 1
            + self.previous_fallback.as_ref().map_or(0, |_| KEY_LEN)
            + 8
    }

    /// `identity_secret[32] identity_public[32] signing_seed[32] n_one_time[2] key* next_id[8]
    /// has_fallback[1] key? has_previous[1] key? next_fallback_id[8]`, each key
    /// `id[8] secret[32] public[32] published[1]`. Public halves are stored so that loading an account
    /// costs no scalar multiplication per key.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_bytes(&*self.identity.to_bytes())?;
        w.write_bytes(self.identity_public.as_bytes())?;
        w.write_bytes(&*self.signing.seed())?;
        let count = u16::try_from(self.one_time_len).map_err(|_| CodecError::TooLarge)?;
        w.write_bytes(&count.to_be_bytes())?;
        for k in self.one_time.iter().take(self.one_time_len).flatten() {
            write_key(w, k)?;
        }
        w.write_bytes(&self.next_one_time_id.to_be_bytes())?;
        write_opt_key(w, self.fallback.as_ref())?;
        write_opt_key(w, self.previous_fallback.as_ref())?;
        w.write_bytes(&self.next_fallback_id.to_be_bytes())
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let identity = zeroize::Zeroizing::new(r.read_array::<32>()?);
        let identity_public = Curve25519PublicKey::from_bytes(r.read_array()?);
        let seed = zeroize::Zeroizing::new(r.read_array::<32>()?);
        let mut account = Self::from_stored_parts(
            Curve25519SecretKey::from_bytes(&identity),
            identity_public,
            Ed25519SecretKey::from_seed(&seed),
        );
        let count = usize::from(u16::from_be_bytes(r.read_array()?));
        if count > N {
            return Err(CodecError::TooLarge.into());
        }
        for slot in account.one_time.iter_mut().take(count) {
            *slot = Some(read_key(r)?);
        }
        account.one_time_len = count;
        account.next_one_time_id = u64::from_be_bytes(r.read_array()?);
        account.fallback = read_opt_key(r)?;
        account.previous_fallback = read_opt_key(r)?;
        account.next_fallback_id = u64::from_be_bytes(r.read_array()?);
        Ok(account)
    }
}

impl Pickled for Session {
    const KIND: Kind = Kind::OlmSession;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        3 * 32 + 1 + self.ratchet.state_len()
    }

    /// `identity_key[32] base_key[32] one_time_key[32] received[1] ratchet`.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_bytes(self.keys.identity_key.as_bytes())?;
        w.write_bytes(self.keys.base_key.as_bytes())?;
        w.write_bytes(self.keys.one_time_key.as_bytes())?;
        w.write_u8(u8::from(self.received))?;
        self.ratchet.encode_state(w)
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let keys = SessionKeys {
            identity_key: Curve25519PublicKey::from_bytes(r.read_array()?),
            base_key: Curve25519PublicKey::from_bytes(r.read_array()?),
            one_time_key: Curve25519PublicKey::from_bytes(r.read_array()?),
        };
        let received = read_flag(r)?;
        let ratchet = DoubleRatchet::decode_state(r)?;
        Ok(Self::from_parts(ratchet, keys, received))
    }
}

pickle_api!([const N: usize] Account<N>);
pickle_api!(Session);

//! Pickles of the native profile's [`Account`] and [`Session`].

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::CodecError;
use crate::limits::NATIVE_MAX_ONE_TIME_PREKEYS;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};
use crate::ratchet::DoubleRatchet;
use crate::session::wire::PreKeyHeader;
use crate::session::{Account, Session};
use crate::session::{OneTimePrekey, SignedPrekey};
use crate::x3dh::native::AD_LEN;

use super::{Kind, Pickled, read_flag};

const SIGNED_PREKEY_LEN: usize = 4 + 32 + 64;
const ONE_TIME_LEN: usize = 4 + 32 + 1;
const PRE_KEY_LEN: usize = 32 + 32 + 64 + 32 + 4 + 1 + 4;

fn write_signed(w: &mut Writer<'_>, s: &SignedPrekey) -> Result<(), CodecError> {
    w.write_u32_be(s.id)?;
    w.write_bytes(&*s.secret.to_bytes())?;
    w.write_bytes(s.signature.as_bytes())
}

fn read_signed(r: &mut Reader<'_>) -> Result<SignedPrekey, CodecError> {
    let id = r.read_u32_be()?;
    let secret = zeroize::Zeroizing::new(r.read_array::<32>()?);
    Ok(SignedPrekey {
        id,
        secret: Curve25519SecretKey::from_bytes(&secret),
        signature: Ed25519Signature::from_bytes(r.read_array()?),
    })
}

impl Pickled for Account {
    const KIND: Kind = Kind::NativeAccount;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        32 + 32
            + 64
            + SIGNED_PREKEY_LEN
            + 1
            + self
                .previous_signed_prekey
                .as_ref()
                .map_or(0, |_| SIGNED_PREKEY_LEN)
            + 2
            + self.one_time_prekey_count() * ONE_TIME_LEN
            + 4
    }

    /// `identity[32] signing_seed[32] binding_signature[64] signed_prekey has_previous[1]
    /// previous? n_one_time[2] (id[4] secret[32] published[1])* next_one_time_id[4]`.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_bytes(&*self.identity.to_bytes())?;
        w.write_bytes(&*self.signing.seed())?;
        w.write_bytes(self.binding_signature.as_bytes())?;
        write_signed(w, &self.signed_prekey)?;
        w.write_u8(u8::from(self.previous_signed_prekey.is_some()))?;
        if let Some(p) = &self.previous_signed_prekey {
            write_signed(w, p)?;
        }
        let count =
            u16::try_from(self.one_time_prekey_count()).map_err(|_| CodecError::TooLarge)?;
        w.write_bytes(&count.to_be_bytes())?;
        for k in self.one_time.iter().flatten() {
            w.write_u32_be(k.id)?;
            w.write_bytes(&*k.secret.to_bytes())?;
            w.write_u8(u8::from(k.published))?;
        }
        w.write_u32_be(self.next_one_time_id)
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let identity = Curve25519SecretKey::from_bytes(&zeroize::Zeroizing::new(r.read_array()?));
        let signing = Ed25519SecretKey::from_seed(&zeroize::Zeroizing::new(r.read_array()?));
        let binding_signature = Ed25519Signature::from_bytes(r.read_array()?);
        let signed_prekey = read_signed(r)?;
        let previous_signed_prekey = if read_flag(r)? {
            Some(read_signed(r)?)
        } else {
            None
        };
        let count = usize::from(u16::from_be_bytes(r.read_array()?));
        if count > NATIVE_MAX_ONE_TIME_PREKEYS {
            return Err(CodecError::TooLarge.into());
        }
        let mut one_time: [Option<OneTimePrekey>; NATIVE_MAX_ONE_TIME_PREKEYS] =
            core::array::from_fn(|_| None);
        for slot in one_time.iter_mut().take(count) {
            let id = r.read_u32_be()?;
            let secret = zeroize::Zeroizing::new(r.read_array::<32>()?);
            *slot = Some(OneTimePrekey {
                id,
                secret: Curve25519SecretKey::from_bytes(&secret),
                published: read_flag(r)?,
            });
        }
        let next_one_time_id = r.read_u32_be()?;
        Ok(Self {
            identity,
            signing,
            binding_signature,
            signed_prekey,
            previous_signed_prekey,
            one_time,
            next_one_time_id,
        })
    }
}

impl Pickled for Session {
    const KIND: Kind = Kind::NativeSession;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        self.ratchet.state_len() + AD_LEN + 1 + self.pre_key.map_or(0, |_| PRE_KEY_LEN) + 32 + 32
    }

    /// `ratchet associated_data[128] has_pre_key[1] pre_key? initiator_identity[32] base_key[32]`.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        self.ratchet.encode_state(w)?;
        w.write_bytes(&self.associated_data)?;
        w.write_u8(u8::from(self.pre_key.is_some()))?;
        if let Some(p) = &self.pre_key {
            w.write_bytes(p.identity.as_bytes())?;
            w.write_bytes(p.signing_key.as_bytes())?;
            w.write_bytes(p.binding_signature.as_bytes())?;
            w.write_bytes(p.base_key.as_bytes())?;
            w.write_u32_be(p.signed_prekey_id)?;
            w.write_u8(u8::from(p.one_time_prekey_id.is_some()))?;
            w.write_u32_be(p.one_time_prekey_id.unwrap_or(0))?;
        }
        w.write_bytes(self.initiator_identity.as_bytes())?;
        w.write_bytes(self.base_key.as_bytes())
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let ratchet = DoubleRatchet::decode_state(r)?;
        let associated_data: [u8; AD_LEN] = r.read_array()?;
        let pre_key = if read_flag(r)? {
            let identity = Curve25519PublicKey::from_bytes(r.read_array()?);
            let signing_key = Ed25519PublicKey::from_bytes(&r.read_array()?)?;
            let binding_signature = Ed25519Signature::from_bytes(r.read_array()?);
            let base_key = Curve25519PublicKey::from_bytes(r.read_array()?);
            let signed_prekey_id = r.read_u32_be()?;
            let has_one_time = read_flag(r)?;
            let one_time_id = r.read_u32_be()?;
            Some(PreKeyHeader {
                identity,
                signing_key,
                binding_signature,
                base_key,
                signed_prekey_id,
                one_time_prekey_id: has_one_time.then_some(one_time_id),
            })
        } else {
            None
        };
        let mut session = Self::new(ratchet, associated_data, pre_key);
        session.set_initiator(
            Curve25519PublicKey::from_bytes(r.read_array()?),
            Curve25519PublicKey::from_bytes(r.read_array()?),
        );
        Ok(session)
    }
}

pickle_api!(Account);
pickle_api!(Session);

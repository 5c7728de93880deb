//! Pickles of the classic Signal profile's [`Account`] (kind `0x0A`) and [`Session`] (kind `0x09`).

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::CodecError;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::xeddsa::XEdDsaSignature;
use crate::ratchet::DoubleRatchet;
use crate::signal::account::{OneTimePreKey, SignedPreKey};
use crate::signal::session::PendingPreKey;
use crate::signal::wire::PreKeyIds;
use crate::signal::{Account, Session};

use super::{Kind, Pickled, read_flag};

/// `id[4] secret[32] public[32] signature[64]`.
const SIGNED_LEN: usize = 4 + 32 + 32 + 64;
/// `id[4] secret[32] public[32]`.
const ONE_TIME_LEN: usize = 4 + 32 + 32;

fn u32_be(r: &mut Reader<'_>) -> Result<u32, CodecError> {
    Ok(u32::from_be_bytes(r.read_array()?))
}

fn secret(r: &mut Reader<'_>) -> Result<Curve25519SecretKey, CodecError> {
    let bytes = zeroize::Zeroizing::new(r.read_array::<32>()?);
    Ok(Curve25519SecretKey::from_bytes(&bytes))
}

fn write_signed(w: &mut Writer<'_>, k: &SignedPreKey) -> Result<(), CodecError> {
    w.write_bytes(&k.id.to_be_bytes())?;
    w.write_bytes(&*k.secret.to_bytes())?;
    w.write_bytes(k.public.as_bytes())?;
    w.write_bytes(k.signature.as_bytes())
}

fn read_signed(r: &mut Reader<'_>) -> Result<SignedPreKey, CodecError> {
    Ok(SignedPreKey {
        id: u32_be(r)?,
        secret: secret(r)?,
        public: Curve25519PublicKey::from_bytes(r.read_array()?),
        signature: XEdDsaSignature::from_bytes(r.read_array()?),
    })
}

impl<const N: usize> Pickled for Account<N> {
    const KIND: Kind = Kind::SignalAccount;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        32 + 32
            + 4
            + SIGNED_LEN
            + 1
            + self.previous_signed.as_ref().map_or(0, |_| SIGNED_LEN)
            + 2
            + self.one_time_len * ONE_TIME_LEN
            + 4
    }

    /// `identity_secret[32] identity_public[32] registration_id[4] signed has_previous[1] signed?
    /// n_one_time[2] (id[4] secret[32] public[32])* next_pre_key_id[4]`, a signed prekey being
    /// `id[4] secret[32] public[32] signature[64]`; integers big-endian.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_bytes(&*self.identity.to_bytes())?;
        w.write_bytes(self.identity_public.as_bytes())?;
        w.write_bytes(&self.registration_id.to_be_bytes())?;
        write_signed(w, &self.signed)?;
        w.write_u8(u8::from(self.previous_signed.is_some()))?;
        if let Some(p) = &self.previous_signed {
            write_signed(w, p)?;
        }
        let count = u16::try_from(self.one_time_len).map_err(|_| CodecError::TooLarge)?;
        w.write_bytes(&count.to_be_bytes())?;
        for k in self.one_time.iter().take(self.one_time_len).flatten() {
            w.write_bytes(&k.id.to_be_bytes())?;
            w.write_bytes(&*k.secret.to_bytes())?;
            w.write_bytes(k.public.as_bytes())?;
        }
        w.write_bytes(&self.next_pre_key_id.to_be_bytes())
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let identity = secret(r)?;
        let identity_public = Curve25519PublicKey::from_bytes(r.read_array()?);
        let registration_id = u32_be(r)?;
        let signed = read_signed(r)?;
        let previous_signed = if read_flag(r)? {
            Some(read_signed(r)?)
        } else {
            None
        };
        let count = usize::from(u16::from_be_bytes(r.read_array()?));
        if count > N {
            return Err(CodecError::TooLarge.into());
        }
        let mut one_time: [Option<OneTimePreKey>; N] = core::array::from_fn(|_| None);
        for slot in one_time.iter_mut().take(count) {
            *slot = Some(OneTimePreKey {
                id: u32_be(r)?,
                secret: secret(r)?,
                public: Curve25519PublicKey::from_bytes(r.read_array()?),
            });
        }
        Ok(Self {
            identity,
            identity_public,
            registration_id,
            signed,
            previous_signed,
            one_time,
            one_time_len: count,
            next_pre_key_id: u32_be(r)?,
        })
    }
}

impl<const K: usize> Pickled for Session<K> {
    const KIND: Kind = Kind::SignalSession;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        3 * 32 + 4 + 1 + self.pending.map_or(0, |_| 1 + 4 + 4 + 4) + self.ratchet.state_len()
    }

    /// `our_identity[32] their_identity[32] base_key[32] their_registration_id[4] pending[1]
    /// (has_pre_key_id[1] pre_key_id[4] signed_pre_key_id[4] our_registration_id[4])? ratchet`.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_bytes(self.our_identity.as_bytes())?;
        w.write_bytes(self.their_identity.as_bytes())?;
        w.write_bytes(self.base_key.as_bytes())?;
        w.write_bytes(&self.their_registration_id.to_be_bytes())?;
        w.write_u8(u8::from(self.pending.is_some()))?;
        if let Some(p) = &self.pending {
            w.write_u8(u8::from(p.ids.pre_key_id.is_some()))?;
            w.write_bytes(&p.ids.pre_key_id.unwrap_or(0).to_be_bytes())?;
            w.write_bytes(&p.ids.signed_pre_key_id.to_be_bytes())?;
            w.write_bytes(&p.ids.registration_id.to_be_bytes())?;
        }
        self.ratchet.encode_state(w)
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let our_identity = Curve25519PublicKey::from_bytes(r.read_array()?);
        let their_identity = Curve25519PublicKey::from_bytes(r.read_array()?);
        let base_key = Curve25519PublicKey::from_bytes(r.read_array()?);
        let their_registration_id = u32_be(r)?;
        let pending = if read_flag(r)? {
            let has_pre_key = read_flag(r)?;
            let pre_key_id = u32_be(r)?;
            if !has_pre_key && pre_key_id != 0 {
                return Err(CodecError::ValueOutOfRange.into());
            }
            Some(PendingPreKey {
                ids: PreKeyIds {
                    pre_key_id: has_pre_key.then_some(pre_key_id),
                    signed_pre_key_id: u32_be(r)?,
                    registration_id: u32_be(r)?,
                },
            })
        } else {
            None
        };
        let ratchet = DoubleRatchet::decode_state(r)?;
        Ok(Self::from_ratchet(
            ratchet,
            our_identity,
            their_identity,
            base_key,
            their_registration_id,
            pending,
        ))
    }
}

pickle_api!([const N: usize] Account<N>);
pickle_api!([const K: usize] Session<K>);

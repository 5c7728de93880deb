//! Pickles of the group sessions: Megolm ([`crate::megolm`]) and native sender keys
//! ([`crate::session::group`]).
//!
//! ```text
//! outbound (v1) = index[4] ratchet[128] signing_seed[32]
//! inbound  (v1) = initial_index[4] initial[128] latest_index[4] latest[128] signing_key[32] verified[1]
//! ```

use zeroize::Zeroizing;

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::CodecError;
use crate::group::{RATCHET_LEN, Ratchet, Receiver};
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};
use crate::{megolm, session};

use super::{Kind, Pickled, read_flag};

const RATCHET_STATE_LEN: usize = 4 + RATCHET_LEN;
const OUTBOUND_LEN: usize = RATCHET_STATE_LEN + 32;
const INBOUND_LEN: usize = 2 * RATCHET_STATE_LEN + 32 + 1;

fn write_ratchet(w: &mut Writer<'_>, r: &Ratchet) -> Result<(), CodecError> {
    w.write_u32_be(r.index())?;
    w.write_bytes(r.secret_bytes())
}

fn read_ratchet(r: &mut Reader<'_>) -> Result<Ratchet, CodecError> {
    let index = r.read_u32_be()?;
    let bytes = Zeroizing::new(r.read_array::<RATCHET_LEN>()?);
    Ok(Ratchet::from_parts(&bytes, index))
}

fn write_outbound(
    w: &mut Writer<'_>,
    ratchet: &Ratchet,
    signing: &Ed25519SecretKey,
) -> Result<(), CodecError> {
    write_ratchet(w, ratchet)?;
    w.write_bytes(&*signing.seed())
}

fn read_outbound(r: &mut Reader<'_>, version: u8) -> Result<(Ratchet, Ed25519SecretKey), Error> {
    if version != 1 {
        return Err(CodecError::ValueOutOfRange.into());
    }
    let ratchet = read_ratchet(r)?;
    let seed = Zeroizing::new(r.read_array::<32>()?);
    Ok((ratchet, Ed25519SecretKey::from_seed(&seed)))
}

fn write_inbound(
    w: &mut Writer<'_>,
    state: &Receiver,
    key: &Ed25519PublicKey,
    verified: bool,
) -> Result<(), CodecError> {
    write_ratchet(w, &state.initial)?;
    write_ratchet(w, &state.latest)?;
    w.write_bytes(key.as_bytes())?;
    w.write_u8(u8::from(verified))
}

fn read_inbound(
    r: &mut Reader<'_>,
    version: u8,
) -> Result<(Receiver, Ed25519PublicKey, bool), Error> {
    if version != 1 {
        return Err(CodecError::ValueOutOfRange.into());
    }
    let initial = read_ratchet(r)?;
    let latest = read_ratchet(r)?;
    // The latest state must be the initial one or ahead of it.
    if latest.index() < initial.index() {
        return Err(CodecError::ValueOutOfRange.into());
    }
    let key = Ed25519PublicKey::from_bytes(&r.read_array()?)?;
    let verified = read_flag(r)?;
    Ok((Receiver { initial, latest }, key, verified))
}

impl Pickled for megolm::GroupSession {
    const KIND: Kind = Kind::MegolmOutbound;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        OUTBOUND_LEN
    }

    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        write_outbound(w, &self.ratchet, &self.signing)
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        let (ratchet, signing) = read_outbound(r, version)?;
        Ok(Self { ratchet, signing })
    }
}

impl Pickled for session::group::GroupSession {
    const KIND: Kind = Kind::NativeGroupOutbound;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        OUTBOUND_LEN
    }

    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        write_outbound(w, &self.ratchet, &self.signing)
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        let (ratchet, signing) = read_outbound(r, version)?;
        Ok(Self { ratchet, signing })
    }
}

impl Pickled for megolm::InboundGroupSession {
    const KIND: Kind = Kind::MegolmInbound;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        INBOUND_LEN
    }

    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        write_inbound(w, &self.state, &self.signing_key, self.verified)
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        let (state, signing_key, verified) = read_inbound(r, version)?;
        Ok(Self {
            state,
            signing_key,
            verified,
        })
    }
}

impl Pickled for session::group::InboundGroupSession {
    const KIND: Kind = Kind::NativeGroupInbound;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        INBOUND_LEN
    }

    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        write_inbound(w, &self.state, &self.signing_key, self.verified)
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        let (state, signing_key, verified) = read_inbound(r, version)?;
        Ok(Self {
            state,
            signing_key,
            verified,
        })
    }
}

pickle_api!(megolm::GroupSession);
pickle_api!(megolm::InboundGroupSession);
pickle_api!(session::group::GroupSession);
pickle_api!(session::group::InboundGroupSession);

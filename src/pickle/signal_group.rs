//! Pickles of Signal sender keys ([`crate::signal::group`]).
//!
//! ```text
//! outbound (v1) = distribution_id[16] chain_id[4] iteration[4] chain_key[32] signing_secret[32]
//! record   (v1) = distribution_id[16] state_count[1] state*  key_count[4] key*
//!   state       = chain_id[4] iteration[4] chain_key[32] signing_key[32]      (newest first)
//!   key         = chain_id[4] iteration[4] seed[32]                           (oldest first)
//! ```
//!
//! A record pickle is read into any capacity: when it holds more stored keys than the capacity, the
//! oldest are dropped, as the record itself would have done. Every stored key must belong to a held
//! chain, and no chain id may repeat.

use zeroize::Zeroizing;

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::CodecError;
use crate::limits::SIGNAL_SENDER_KEY_MAX_STATES;
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::signal::group::{
    CHAIN_KEY_LEN, ChainKey, DistributionId, OutboundSenderKey, ReceiverState, SenderKeyRecord,
};

use super::{Kind, Pickled};

const OUTBOUND_LEN: usize = 16 + 4 + 4 + CHAIN_KEY_LEN + 32;
const STATE_LEN: usize = 4 + 4 + CHAIN_KEY_LEN + 32;
const KEY_LEN: usize = 4 + 4 + 32;

fn read_chain(r: &mut Reader<'_>) -> Result<(u32, ChainKey), CodecError> {
    let chain_id = r.read_u32_be()?;
    let iteration = r.read_u32_be()?;
    let key = Zeroizing::new(r.read_array::<CHAIN_KEY_LEN>()?);
    Ok((chain_id, ChainKey::new(&key, iteration)))
}

fn write_chain(w: &mut Writer<'_>, chain_id: u32, chain: &ChainKey) -> Result<(), CodecError> {
    w.write_u32_be(chain_id)?;
    w.write_u32_be(chain.iteration)?;
    w.write_bytes(&chain.key)
}

impl Pickled for OutboundSenderKey {
    const KIND: Kind = Kind::SignalSenderKeyOutbound;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        OUTBOUND_LEN
    }

    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_bytes(self.distribution_id.as_bytes())?;
        write_chain(w, self.chain_id, &self.chain)?;
        w.write_bytes(&*self.signing.to_bytes())
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let distribution_id = DistributionId::from_bytes(r.read_array()?);
        let (chain_id, chain) = read_chain(r)?;
        let secret = Zeroizing::new(r.read_array::<32>()?);
        Ok(Self::from_state(
            distribution_id,
            chain_id,
            chain.iteration,
            &chain.key,
            &secret,
        ))
    }
}

impl<const KEYS: usize> Pickled for SenderKeyRecord<KEYS> {
    const KIND: Kind = Kind::SignalSenderKeyRecord;
    const VERSION: u8 = 1;

    fn state_len(&self) -> usize {
        16 + 1 + self.chain_ids().count() * STATE_LEN + 4 + self.keys.len() * KEY_LEN
    }

    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_bytes(self.distribution_id.as_bytes())?;
        let states = self.states.iter().flatten();
        // At most SIGNAL_SENDER_KEY_MAX_STATES (5).
        w.write_u8(states.clone().count() as u8)?;
        for s in states {
            write_chain(w, s.chain_id, &s.chain)?;
            w.write_bytes(s.signing_key.as_bytes())?;
        }
        w.write_u32_be(u32::try_from(self.keys.len()).map_err(|_| CodecError::TooLarge)?)?;
        for k in self.keys.iter() {
            w.write_u32_be(k.chain_id)?;
            w.write_u32_be(k.iteration)?;
            w.write_bytes(&k.seed)?;
        }
        Ok(())
    }

    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error> {
        if version != 1 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let mut record = Self::new(DistributionId::from_bytes(r.read_array()?));
        let count = usize::from(r.read_u8()?);
        if count > SIGNAL_SENDER_KEY_MAX_STATES {
            return Err(CodecError::TooLarge.into());
        }
        for i in 0..count {
            let (chain_id, chain) = read_chain(r)?;
            let signing_key = Curve25519PublicKey::from_bytes(r.read_array()?);
            if record.chain_ids().any(|id| id == chain_id) {
                return Err(CodecError::ValueOutOfRange.into());
            }
            if let Some(slot) = record.states.get_mut(i) {
                *slot = Some(ReceiverState::new(chain_id, chain, signing_key));
            }
        }
        let keys = r.read_u32_be()?;
        // Each key takes 40 bytes of input, so a false count fails on the input's length.
        for _ in 0..keys {
            let chain_id = r.read_u32_be()?;
            let iteration = r.read_u32_be()?;
            let seed = Zeroizing::new(r.read_array::<32>()?);
            match record.iteration(chain_id) {
                Some(next) if iteration < next => record.keys.push(chain_id, iteration, &seed),
                _ => return Err(CodecError::ValueOutOfRange.into()),
            }
        }
        Ok(record)
    }
}

pickle_api!(OutboundSenderKey);
pickle_api!([const KEYS: usize] SenderKeyRecord<KEYS>);

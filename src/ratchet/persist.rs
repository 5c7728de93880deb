//! The ratchet state's plaintext encoding, for the `pickle` layer (which seals it).

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::CodecError;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::secret::SecretBytes;

use super::skipped::SkippedKey;
use super::{
    ChainKey, DoubleRatchet, MessageKey, NextHeaderKeys, ReceiverChain, SenderChain, Suite,
};

const KEY: usize = 32;
const OPT_KEY: usize = 1 + KEY;
const SENDER_LEN: usize = KEY + KEY + 4 + OPT_KEY;
const RECEIVER_LEN: usize = KEY + KEY + 4 + OPT_KEY;
const SKIPPED_LEN: usize = KEY + 4 + KEY + 8 + OPT_KEY;

fn write_opt_key(w: &mut Writer<'_>, key: Option<&SecretBytes<32>>) -> Result<(), CodecError> {
    match key {
        Some(k) => {
            w.write_u8(1)?;
            w.write_bytes(k.as_bytes())
        }
        None => {
            w.write_u8(0)?;
            w.write_bytes(&[0; KEY])
        }
    }
}

fn read_opt_key(r: &mut Reader<'_>) -> Result<Option<SecretBytes<32>>, CodecError> {
    let present = crate::pickle::read_flag(r)?;
    let bytes: [u8; KEY] = r.read_array()?;
    Ok(present.then(|| SecretBytes::from_bytes(bytes)))
}

fn read_secret(r: &mut Reader<'_>) -> Result<SecretBytes<32>, CodecError> {
    r.read_array().map(SecretBytes::from_bytes)
}

impl<S: Suite, const C: usize, const K: usize> DoubleRatchet<S, C, K> {
    /// The length of the encoded state.
    pub(crate) fn state_len(&self) -> usize {
        KEY + 1
            + self.sender.as_ref().map_or(0, |_| SENDER_LEN)
            + self.pending_ratchet.as_ref().map_or(0, |_| KEY)
            + 1
            + self.receiving_chains() * RECEIVER_LEN
            + 2
            + self.skipped.len() * SKIPPED_LEN
            + 4
            + self.header_keys.as_ref().map_or(0, |_| 2 * KEY)
    }

    /// Writes the state:
    /// `root[32] flags[1] sender? pending? n_receivers[1] receivers n_skipped[2] skipped
    /// previous_counter[4] header_keys?`.
    pub(crate) fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError> {
        w.write_bytes(self.root_key.as_bytes())?;
        let flags = u8::from(self.sender.is_some())
            | u8::from(self.pending_ratchet.is_some()) << 1
            | u8::from(self.header_keys.is_some()) << 2;
        w.write_u8(flags)?;
        if let Some(s) = &self.sender {
            w.write_bytes(&*s.ratchet.to_bytes())?;
            w.write_bytes(s.chain.as_bytes())?;
            w.write_u32_be(s.chain.index())?;
            write_opt_key(w, s.header_key.as_ref())?;
        }
        if let Some(p) = &self.pending_ratchet {
            w.write_bytes(&*p.to_bytes())?;
        }
        let receivers = self.receivers.iter().flatten();
        w.write_u8(u8::try_from(self.receiving_chains()).map_err(|_| CodecError::TooLarge)?)?;
        for r in receivers {
            w.write_bytes(r.ratchet_key.as_bytes())?;
            w.write_bytes(r.chain.as_bytes())?;
            w.write_u32_be(r.chain.index())?;
            write_opt_key(w, r.header_key.as_ref())?;
        }
        let count = u16::try_from(self.skipped.len()).map_err(|_| CodecError::TooLarge)?;
        w.write_bytes(&count.to_be_bytes())?;
        for e in self.skipped.iter() {
            w.write_bytes(e.ratchet_key.as_bytes())?;
            w.write_u32_be(e.key.index())?;
            w.write_bytes(e.key.as_bytes())?;
            w.write_bytes(&e.age.to_be_bytes())?;
            write_opt_key(w, e.header_key.as_ref())?;
        }
        w.write_u32_be(self.previous_counter)?;
        if let Some(h) = &self.header_keys {
            w.write_bytes(h.send.as_bytes())?;
            w.write_bytes(h.receive.as_bytes())?;
        }
        Ok(())
    }

    /// Reads a state written by [`DoubleRatchet::encode_state`]. More chains or skipped keys than this
    /// type's capacities, or unknown flags, are errors.
    pub(crate) fn decode_state(r: &mut Reader<'_>) -> Result<Self, Error> {
        let root = read_secret(r)?;
        let flags = r.read_u8()?;
        if flags & !0b111 != 0 {
            return Err(CodecError::ValueOutOfRange.into());
        }
        let mut state = Self::empty(root, None);
        if flags & 1 != 0 {
            let ratchet = Curve25519SecretKey::from_bytes(read_secret(r)?.as_bytes());
            let chain_key: [u8; KEY] = r.read_array()?;
            let index = r.read_u32_be()?;
            let header_key = read_opt_key(r)?;
            state.sender = Some(SenderChain {
                ratchet_public: ratchet.public_key(),
                ratchet,
                chain: ChainKey::new(chain_key, index),
                header_key,
            });
        }
        if flags & 2 != 0 {
            let secret = read_secret(r)?;
            state.pending_ratchet = Some(Curve25519SecretKey::from_bytes(secret.as_bytes()));
        }
        let receivers = usize::from(r.read_u8()?);
        if receivers > C {
            return Err(CodecError::TooLarge.into());
        }
        for slot in state.receivers.iter_mut().take(receivers) {
            let ratchet_key = Curve25519PublicKey::from_bytes(r.read_array()?);
            let chain_key: [u8; KEY] = r.read_array()?;
            let index = r.read_u32_be()?;
            let header_key = read_opt_key(r)?;
            *slot = Some(ReceiverChain {
                ratchet_key,
                chain: ChainKey::new(chain_key, index),
                header_key,
            });
        }
        let skipped = usize::from(u16::from_be_bytes(r.read_array()?));
        if skipped > K {
            return Err(CodecError::TooLarge.into());
        }
        for _ in 0..skipped {
            let ratchet_key = Curve25519PublicKey::from_bytes(r.read_array()?);
            let index = r.read_u32_be()?;
            let key = read_secret(r)?;
            let age = u64::from_be_bytes(r.read_array()?);
            let header_key = read_opt_key(r)?;
            state.skipped.restore(SkippedKey {
                ratchet_key,
                header_key,
                key: MessageKey::new(key, index),
                age,
            });
        }
        state.previous_counter = r.read_u32_be()?;
        if flags & 4 != 0 {
            state.header_keys = Some(NextHeaderKeys {
                send: read_secret(r)?,
                receive: read_secret(r)?,
            });
        }
        Ok(state)
    }
}

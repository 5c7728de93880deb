//! Versioned, encrypted persistence of stateful types.
//!
//! Live types are never serialized directly. `pickle_into` writes a snapshot sealed with
//! XChaCha20-Poly1305 under a 32-byte key the application supplies (with a fresh random nonce, so one
//! key can seal many pickles), and `from_pickle` opens one, checking its magic, type and version before
//! decoding. A damaged, truncated, foreign or wrongly keyed pickle is an error, never a panic; the
//! plaintext state is zeroized as soon as it has been read or sealed.
//!
//! ```text
//! pickle = "SMPK" envelope_version[1] kind[1] state_version[1] nonce[24] sealed_state tag[16]
//! ```
//! The seven bytes before the nonce are the associated data. Old state versions stay readable: each
//! type's decoder dispatches on `state_version`.

use rand_core::CryptoRng;
use zeroize::Zeroize;

use crate::Error;
use crate::codec::{Reader, Writer};
use crate::error::{CodecError, PickleError};
use crate::primitives::aead::{self, TAG_LEN, XNONCE_LEN};

/// The first four bytes of every pickle.
pub const MAGIC: [u8; 4] = *b"SMPK";
/// The envelope format version.
pub const ENVELOPE_VERSION: u8 = 1;
/// The length of a pickle key.
pub const PICKLE_KEY_LEN: usize = 32;

const HEADER_LEN: usize = MAGIC.len() + 3;
/// Bytes a pickle adds around its state.
pub(crate) const OVERHEAD: usize = HEADER_LEN + XNONCE_LEN + TAG_LEN;

/// What a pickle holds, by its kind byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    NativeAccount = 0x01,
    NativeSession = 0x02,
    OlmAccount = 0x03,
    OlmSession = 0x04,
    MegolmOutbound = 0x05,
    MegolmInbound = 0x06,
    NativeGroupOutbound = 0x07,
    NativeGroupInbound = 0x08,
    SignalSession = 0x09,
    SignalAccount = 0x0A,
    SignalSenderKeyOutbound = 0x0B,
    SignalSenderKeyRecord = 0x0E,
    #[cfg(feature = "alloc")]
    IdentityStore = 0x0C,
    #[cfg(feature = "alloc")]
    CrossSigningSecrets = 0x0D,
    #[cfg(feature = "alloc")]
    KeyStorage = 0x0F,
}

/// A type with a pickled form.
pub(crate) trait Pickled: Sized {
    const KIND: Kind;
    /// The state version written now.
    const VERSION: u8;
    /// The length of the encoded state.
    fn state_len(&self) -> usize;
    /// Writes the state.
    fn encode_state(&self, w: &mut Writer<'_>) -> Result<(), CodecError>;
    /// Reads a state of `version`.
    fn decode_state(r: &mut Reader<'_>, version: u8) -> Result<Self, Error>;
}

/// The pickle length of `value`.
pub(crate) fn pickle_len<T: Pickled>(value: &T) -> usize {
    OVERHEAD + value.state_len()
}

/// Seals `value` into `out`; returns the pickle's length.
pub(crate) fn pickle_into<T: Pickled, R: CryptoRng + ?Sized>(
    value: &T,
    rng: &mut R,
    key: &[u8; PICKLE_KEY_LEN],
    out: &mut [u8],
) -> Result<usize, Error> {
    let needed = pickle_len(value);
    let out = out
        .get_mut(..needed)
        .ok_or(PickleError::BufferTooSmall { needed })?;
    let mut nonce = [0u8; XNONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let (head, rest) = out.split_at_mut(HEADER_LEN + XNONCE_LEN);
    let header = header(T::KIND, T::VERSION);
    let (h, n) = head.split_at_mut(HEADER_LEN);
    h.copy_from_slice(&header);
    n.copy_from_slice(&nonce);
    let (state, tag_out) = rest.split_at_mut(value.state_len());
    let mut w = Writer::new(state);
    if let Err(e) = value.encode_state(&mut w) {
        state.zeroize();
        return Err(e.into());
    }
    let tag = aead::xseal_in_place_detached(key, &nonce, &header, state)?;
    tag_out.copy_from_slice(&tag);
    Ok(needed)
}

/// Opens a pickle in place and decodes it. `pickle` is zeroized afterwards, whatever the outcome.
pub(crate) fn from_pickle<T: Pickled>(
    key: &[u8; PICKLE_KEY_LEN],
    pickle: &mut [u8],
) -> Result<T, Error> {
    let result = open::<T>(key, pickle);
    pickle.zeroize();
    result
}

fn open<T: Pickled>(key: &[u8; PICKLE_KEY_LEN], pickle: &mut [u8]) -> Result<T, Error> {
    let invalid = || Error::from(PickleError::Invalid);
    if pickle.len() < OVERHEAD {
        return Err(invalid());
    }
    let (head, rest) = pickle.split_at_mut(HEADER_LEN + XNONCE_LEN);
    let (h, nonce) = head.split_at(HEADER_LEN);
    let (magic, kvv) = h.split_at(MAGIC.len());
    let [envelope_version, kind, version] = <[u8; 3]>::try_from(kvv).map_err(|_| invalid())?;
    if magic != MAGIC || envelope_version != ENVELOPE_VERSION || kind != T::KIND as u8 {
        return Err(invalid());
    }
    let nonce: &[u8; XNONCE_LEN] = nonce.try_into().map_err(|_| invalid())?;
    let state_len = rest.len() - TAG_LEN;
    let (state, tag) = rest.split_at_mut(state_len);
    let tag: &[u8; TAG_LEN] = (&*tag).try_into().map_err(|_| invalid())?;
    aead::xopen_in_place_detached(key, nonce, h, state, tag).map_err(|_| invalid())?;
    let mut r = Reader::new(state);
    let value = T::decode_state(&mut r, version).map_err(|_| invalid())?;
    r.finish().map_err(|_| invalid())?;
    Ok(value)
}

fn header(kind: Kind, version: u8) -> [u8; HEADER_LEN] {
    let [a, b, c, d] = MAGIC;
    [a, b, c, d, ENVELOPE_VERSION, kind as u8, version]
}

/// Reads a presence flag: 0 or 1, anything else is an error.
pub(crate) fn read_flag(r: &mut Reader<'_>) -> Result<bool, CodecError> {
    match r.read_u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(CodecError::ValueOutOfRange),
    }
}

/// The public pickle methods, the same for every pickled type.
macro_rules! pickle_api {
    ([$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> $ty {
            /// The length of this value's pickle.
            pub fn pickle_len(&self) -> usize {
                $crate::pickle::pickle_len(self)
            }

            /// Seals a snapshot of this value into `out` under `key` (with a random nonce from `rng`)
            /// and returns its length. A too-small `out` is [`crate::PickleError::BufferTooSmall`].
            pub fn pickle_into<R: rand_core::CryptoRng + ?Sized>(
                &self,
                rng: &mut R,
                key: &[u8; $crate::pickle::PICKLE_KEY_LEN],
                out: &mut [u8],
            ) -> Result<usize, $crate::Error> {
                $crate::pickle::pickle_into(self, rng, key, out)
            }

            /// Opens a pickle made by `pickle_into` under `key`, decrypting in place; `pickle` is
            /// zeroized afterwards whatever the outcome. Anything but a genuine pickle of this type
            /// under this key is [`crate::PickleError::Invalid`].
            pub fn from_pickle(
                key: &[u8; $crate::pickle::PICKLE_KEY_LEN],
                pickle: &mut [u8],
            ) -> Result<Self, $crate::Error> {
                $crate::pickle::from_pickle(key, pickle)
            }

            /// The pickle as a `Vec`.
            #[cfg(feature = "alloc")]
            pub fn pickle<R: rand_core::CryptoRng + ?Sized>(
                &self,
                rng: &mut R,
                key: &[u8; $crate::pickle::PICKLE_KEY_LEN],
            ) -> alloc::vec::Vec<u8> {
                let mut out = alloc::vec![0u8; self.pickle_len()];
                let n = self.pickle_into(rng, key, &mut out).unwrap_or(0);
                out.truncate(n);
                out
            }

            /// Opens a pickle from a borrowed slice (copied, then zeroized).
            #[cfg(feature = "alloc")]
            pub fn from_pickle_bytes(
                key: &[u8; $crate::pickle::PICKLE_KEY_LEN],
                pickle: &[u8],
            ) -> Result<Self, $crate::Error> {
                // `from_pickle` zeroizes the copy.
                let mut copy = pickle.to_vec();
                Self::from_pickle(key, &mut copy)
            }
        }
    };
    ($ty:ty) => {
        pickle_api!([] $ty);
    };
}

#[cfg(feature = "alloc")]
mod backup;
mod group;
#[cfg(feature = "alloc")]
mod identity;
mod native;
mod olm;
mod signal;
mod signal_group;

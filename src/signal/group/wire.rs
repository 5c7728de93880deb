//! The sender-key wire formats of current libsignal (`rust/protocol/src/proto/wire.proto`,
//! `protocol.rs`): [`SenderKeyDistributionMessage`] and [`SenderKeyMessage`].
//!
//! Both start with the version byte `0x33` (message version 3 in the high nibble, the current
//! sender-key version 3 in the low one). A high nibble below 3 is
//! [`SignalError::LegacyMessageVersion`], above 3 [`SignalError::UnknownMessageVersion`], and `0x3X`
//! with another low nibble [`SignalError::InvalidVersionByte`] (libsignal ignores the low nibble; it
//! never writes anything but 3 there).
//!
//! The decoders are strict where libsignal's protobuf decoder is lenient: every field present, exactly
//! once, in field-number order (the order libsignal's encoder writes), canonical varints, nothing
//! else. So anything that decodes re-encodes to exactly its input.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;
use crate::codec::proto::{FieldValue, bytes_field_len, varint_field_len};
use crate::codec::{Reader, Writer};
use crate::error::{CodecError, SignalError};
use crate::limits::SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN;
use crate::primitives::aes::BLOCK_LEN;
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::xeddsa::XEdDsaSignature;
use crate::signal::keys::{self, PUBLIC_KEY_LEN};

/// The version byte of both sender-key messages: `(3 << 4) | 3`.
pub const VERSION: u8 = 0x33;
/// The message version in the version byte's high nibble.
const MESSAGE_VERSION: u8 = 3;
/// The length of an XEdDSA signature, in bytes.
pub const SIGNATURE_LEN: usize = 64;
/// The length of a distribution id (a UUID), in bytes.
pub const DISTRIBUTION_ID_LEN: usize = 16;
/// The length of a chain key, in bytes.
pub const CHAIN_KEY_LEN: usize = 32;

/// Field numbers shared by both messages.
const F_DISTRIBUTION: u32 = 1;
const F_CHAIN_ID: u32 = 2;
const F_ITERATION: u32 = 3;
/// The ciphertext of a message; the chain key of a distribution message.
const F_CIPHERTEXT_OR_CHAIN_KEY: u32 = 4;
const F_SIGNING_KEY: u32 = 5;

/// Checks the version byte.
pub(crate) const fn check_version(byte: u8) -> Result<(), SignalError> {
    if byte >> 4 < MESSAGE_VERSION {
        Err(SignalError::LegacyMessageVersion)
    } else if byte >> 4 > MESSAGE_VERSION {
        Err(SignalError::UnknownMessageVersion)
    } else if byte != VERSION {
        Err(SignalError::InvalidVersionByte)
    } else {
        Ok(())
    }
}

/// A distribution id: the UUID naming one sender's sender-key session for one group (libsignal's
/// `distribution_id`). Not secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DistributionId([u8; DISTRIBUTION_ID_LEN]);

impl DistributionId {
    /// A distribution id from its 16 bytes.
    pub const fn from_bytes(bytes: [u8; DISTRIBUTION_ID_LEN]) -> Self {
        Self(bytes)
    }

    /// A random version-4 UUID, as Signal clients make them.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut b = [0u8; DISTRIBUTION_ID_LEN];
        rng.fill_bytes(&mut b);
        if let Some(v) = b.get_mut(6) {
            *v = (*v & 0x0f) | 0x40;
        }
        if let Some(v) = b.get_mut(8) {
            *v = (*v & 0x3f) | 0x80;
        }
        Self(b)
    }

    /// Parses the hyphenated text form (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, either case).
    ///
    /// # Errors
    /// [`SignalError::InvalidDistributionId`] for anything else.
    pub fn parse(text: &str) -> Result<Self, SignalError> {
        let t = text.as_bytes();
        if t.len() != 36 {
            return Err(SignalError::InvalidDistributionId);
        }
        let mut out = [0u8; DISTRIBUTION_ID_LEN];
        let mut digits = t
            .iter()
            .enumerate()
            .filter(|&(i, _)| !matches!(i, 8 | 13 | 18 | 23))
            .map(|(_, &c)| c);
        for byte in &mut out {
            let (Some(hi), Some(lo)) = (digits.next(), digits.next()) else {
                return Err(SignalError::InvalidDistributionId);
            };
            *byte = (nibble(hi)? << 4) | nibble(lo)?;
        }
        if [8, 13, 18, 23].iter().any(|&i| t.get(i) != Some(&b'-')) {
            return Err(SignalError::InvalidDistributionId);
        }
        Ok(Self(out))
    }

    /// The 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; DISTRIBUTION_ID_LEN] {
        &self.0
    }
}

const fn nibble(c: u8) -> Result<u8, SignalError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(SignalError::InvalidDistributionId),
    }
}

impl fmt::Display for DistributionId {
    /// The hyphenated lowercase UUID form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DistributionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DistributionId({self})")
    }
}

/// Reads field `number`, which must come next.
fn expect_field<'a>(r: &mut Reader<'a>, number: u32) -> Result<FieldValue<'a>, Error> {
    match r.read_field()? {
        None => Err(CodecError::MissingField.into()),
        Some(f) if f.number == number => Ok(f.value),
        // A later field first means this one is missing; an earlier or unknown one is out of place.
        Some(f) if f.number > number && f.number <= F_SIGNING_KEY => {
            Err(CodecError::MissingField.into())
        }
        Some(_) => Err(CodecError::UnexpectedField.into()),
    }
}

fn expect_u32(r: &mut Reader<'_>, number: u32) -> Result<u32, Error> {
    let v = expect_field(r, number)?.as_varint()?;
    u32::try_from(v).map_err(|_| CodecError::ValueOutOfRange.into())
}

fn expect_bytes<'a>(r: &mut Reader<'a>, number: u32) -> Result<&'a [u8], Error> {
    Ok(expect_field(r, number)?.as_bytes()?)
}

fn read_distribution_id(r: &mut Reader<'_>) -> Result<DistributionId, Error> {
    let bytes = expect_bytes(r, F_DISTRIBUTION)?;
    let id = <[u8; DISTRIBUTION_ID_LEN]>::try_from(bytes)
        .map_err(|_| SignalError::InvalidDistributionId)?;
    Ok(DistributionId(id))
}

/// Splits off and checks the version byte.
fn split_version(bytes: &[u8]) -> Result<&[u8], Error> {
    let (&version, rest) = bytes.split_first().ok_or(CodecError::UnexpectedEnd)?;
    check_version(version)?;
    Ok(rest)
}

/// The length of the fields every message and distribution message begins with.
const fn head_len(chain_id: u32, iteration: u32) -> usize {
    bytes_field_len(F_DISTRIBUTION, DISTRIBUTION_ID_LEN)
        + varint_field_len(F_CHAIN_ID, chain_id as u64)
        + varint_field_len(F_ITERATION, iteration as u64)
}

fn write_head(
    w: &mut Writer<'_>,
    id: &DistributionId,
    chain_id: u32,
    iteration: u32,
) -> Result<(), CodecError> {
    w.write_u8(VERSION)?;
    w.write_bytes_field(F_DISTRIBUTION, id.as_bytes())?;
    w.write_varint_field(F_CHAIN_ID, u64::from(chain_id))?;
    w.write_varint_field(F_ITERATION, u64::from(iteration))
}

/// What a sender hands each member so that they can read its group messages from `iteration` on:
/// the chain key at that iteration and the public signing key. It is not signed; the pairwise session
/// that carries it authenticates it. Holds a secret: zeroized on drop, never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SenderKeyDistributionMessage {
    #[zeroize(skip)]
    pub(crate) distribution_id: DistributionId,
    pub(crate) chain_id: u32,
    pub(crate) iteration: u32,
    pub(crate) chain_key: [u8; CHAIN_KEY_LEN],
    #[zeroize(skip)]
    pub(crate) signing_key: Curve25519PublicKey,
}

impl SenderKeyDistributionMessage {
    /// Decodes a distribution message (`0x33 ‖ protobuf`).
    ///
    /// # Errors
    /// [`SignalError::LegacyMessageVersion`], [`SignalError::UnknownMessageVersion`] or
    /// [`SignalError::InvalidVersionByte`] for another version byte; a
    /// [`CodecError`] for a missing, repeated, misplaced or unknown field or a value too large for
    /// 32 bits; [`SignalError::InvalidDistributionId`] unless the id has 16 bytes,
    /// [`SignalError::InvalidChainKey`] unless the chain key has 32, and [`SignalError::InvalidKey`]
    /// unless the signing key is a 33-byte `0x05`-typed key.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(split_version(bytes)?);
        let distribution_id = read_distribution_id(&mut r)?;
        let chain_id = expect_u32(&mut r, F_CHAIN_ID)?;
        let iteration = expect_u32(&mut r, F_ITERATION)?;
        let chain_key =
            <[u8; CHAIN_KEY_LEN]>::try_from(expect_bytes(&mut r, F_CIPHERTEXT_OR_CHAIN_KEY)?)
                .map_err(|_| SignalError::InvalidChainKey)?;
        let signing_key = keys::decode_public_key(expect_bytes(&mut r, F_SIGNING_KEY)?)?;
        if !r.is_empty() {
            return Err(CodecError::UnexpectedField.into());
        }
        Ok(Self {
            distribution_id,
            chain_id,
            iteration,
            chain_key,
            signing_key,
        })
    }

    /// The encoded length.
    pub const fn encoded_len(&self) -> usize {
        1 + head_len(self.chain_id, self.iteration)
            + bytes_field_len(F_CIPHERTEXT_OR_CHAIN_KEY, CHAIN_KEY_LEN)
            + bytes_field_len(F_SIGNING_KEY, PUBLIC_KEY_LEN)
    }

    /// Writes the message into `out`; returns its length. A too-small `out` is
    /// [`SignalError::BufferTooSmall`] and nothing is written.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, Error> {
        let needed = self.encoded_len();
        let out = out
            .get_mut(..needed)
            .ok_or(SignalError::BufferTooSmall { needed })?;
        let mut w = Writer::new(out);
        write_head(&mut w, &self.distribution_id, self.chain_id, self.iteration)?;
        w.write_bytes_field(F_CIPHERTEXT_OR_CHAIN_KEY, &self.chain_key)?;
        w.write_bytes_field(F_SIGNING_KEY, &keys::encode_public_key(&self.signing_key))?;
        Ok(w.finish())
    }

    /// The encoded message as a `Vec`.
    #[cfg(feature = "alloc")]
    pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
        let mut out = alloc::vec![0u8; self.encoded_len()];
        let n = self.encode_into(&mut out).unwrap_or(0);
        out.truncate(n);
        out
    }

    /// The group's distribution id.
    pub const fn distribution_id(&self) -> DistributionId {
        self.distribution_id
    }

    /// The sender's chain id.
    pub const fn chain_id(&self) -> u32 {
        self.chain_id
    }

    /// The iteration the chain key belongs to: the first message it can decrypt.
    pub const fn iteration(&self) -> u32 {
        self.iteration
    }

    /// The sender's public signing key.
    pub const fn signing_key(&self) -> &Curve25519PublicKey {
        &self.signing_key
    }

    /// The chain key (for known-answer tests).
    #[cfg(feature = "hazmat")]
    pub const fn chain_key(&self) -> &[u8; CHAIN_KEY_LEN] {
        &self.chain_key
    }
}

impl fmt::Debug for SenderKeyDistributionMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderKeyDistributionMessage")
            .field("distribution_id", &self.distribution_id)
            .field("chain_id", &self.chain_id)
            .field("iteration", &self.iteration)
            .field("signing_key", &self.signing_key)
            .finish_non_exhaustive()
    }
}

/// A parsed sender-key message, borrowing from its bytes. Nothing in it is authenticated yet.
#[derive(Debug, Clone, Copy)]
pub struct SenderKeyMessage<'a> {
    distribution_id: DistributionId,
    chain_id: u32,
    iteration: u32,
    ciphertext: &'a [u8],
    signed: &'a [u8],
    signature: XEdDsaSignature,
}

impl<'a> SenderKeyMessage<'a> {
    /// Parses a sender-key message (`0x33 ‖ protobuf ‖ signature`).
    ///
    /// # Errors
    /// [`SignalError::LegacyMessageVersion`], [`SignalError::UnknownMessageVersion`] or
    /// [`SignalError::InvalidVersionByte`] for another version byte; a
    /// [`CodecError`] if shorter than a signature, for a missing, repeated, misplaced or unknown field,
    /// or for a value too large for 32 bits; [`SignalError::InvalidDistributionId`] unless the id has
    /// 16 bytes; [`SignalError::InvalidCiphertextLength`] unless the ciphertext is a non-zero whole
    /// number of AES blocks, and [`CodecError::TooLarge`] beyond
    /// [`SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN`].
    pub fn parse(message: &'a [u8]) -> Result<Self, Error> {
        split_version(message)?;
        let sig_at = message
            .len()
            .checked_sub(SIGNATURE_LEN)
            .filter(|&at| at >= 1)
            .ok_or(CodecError::UnexpectedEnd)?;
        let (signed, signature) = message.split_at(sig_at);
        let signature =
            XEdDsaSignature::from_slice(signature).map_err(|_| CodecError::UnexpectedEnd)?;
        let mut r = Reader::new(signed.get(1..).unwrap_or_default());
        let distribution_id = read_distribution_id(&mut r)?;
        let chain_id = expect_u32(&mut r, F_CHAIN_ID)?;
        let iteration = expect_u32(&mut r, F_ITERATION)?;
        let ciphertext = expect_bytes(&mut r, F_CIPHERTEXT_OR_CHAIN_KEY)?;
        if !r.is_empty() {
            return Err(CodecError::UnexpectedField.into());
        }
        if ciphertext.len() > SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN {
            return Err(CodecError::TooLarge.into());
        }
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK_LEN) {
            return Err(SignalError::InvalidCiphertextLength.into());
        }
        Ok(Self {
            distribution_id,
            chain_id,
            iteration,
            ciphertext,
            signed,
            signature,
        })
    }

    /// The group's distribution id.
    pub const fn distribution_id(&self) -> DistributionId {
        self.distribution_id
    }

    /// The sender's chain id.
    pub const fn chain_id(&self) -> u32 {
        self.chain_id
    }

    /// The message's iteration in its chain.
    pub const fn iteration(&self) -> u32 {
        self.iteration
    }

    /// The AES-256-CBC ciphertext.
    pub const fn ciphertext(&self) -> &'a [u8] {
        self.ciphertext
    }

    /// The bytes the signature covers: the version byte and the protobuf.
    pub const fn signed_bytes(&self) -> &'a [u8] {
        self.signed
    }

    /// The XEdDSA signature.
    pub const fn signature(&self) -> &XEdDsaSignature {
        &self.signature
    }

    /// The length of a message with these header fields and `ciphertext_len` bytes of ciphertext.
    pub const fn encoded_len(chain_id: u32, iteration: u32, ciphertext_len: usize) -> usize {
        1 + head_len(chain_id, iteration)
            + bytes_field_len(F_CIPHERTEXT_OR_CHAIN_KEY, ciphertext_len)
            + SIGNATURE_LEN
    }
}

/// Writes the version and every field but the ciphertext's contents (up to its length prefix); returns
/// the ciphertext's offset.
pub(crate) fn write_message_head(
    w: &mut Writer<'_>,
    id: &DistributionId,
    chain_id: u32,
    iteration: u32,
    ciphertext_len: usize,
) -> Result<usize, CodecError> {
    write_head(w, id, chain_id, iteration)?;
    w.write_field_key(
        F_CIPHERTEXT_OR_CHAIN_KEY,
        crate::codec::proto::WireType::LengthDelimited,
    )?;
    w.write_varint(ciphertext_len as u64)?;
    Ok(w.position())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_byte() {
        assert_eq!(check_version(0x33), Ok(()));
        for b in [0x00, 0x22, 0x23, 0x2f] {
            assert_eq!(check_version(b), Err(SignalError::LegacyMessageVersion));
        }
        for b in [0x43, 0x44, 0xff] {
            assert_eq!(check_version(b), Err(SignalError::UnknownMessageVersion));
        }
        for b in [0x34, 0x30, 0x3f] {
            assert_eq!(check_version(b), Err(SignalError::InvalidVersionByte));
        }
    }

    #[test]
    fn distribution_id_text() {
        let text = "d1f0a0e2-1234-4abc-8def-0123456789ab";
        let id = DistributionId::parse(text).unwrap();
        assert_eq!(std::format!("{id}"), text);
        assert_eq!(
            DistributionId::parse("D1F0A0E2-1234-4ABC-8DEF-0123456789AB"),
            Ok(id)
        );
        for bad in [
            "",
            "d1f0a0e2-1234-4abc-8def-0123456789a",
            "d1f0a0e2-1234-4abc-8def-0123456789abc",
            "d1f0a0e2a1234-4abc-8def-0123456789ab",
            "d1f0a0e2-1234-4abc-8def-0123456789ag",
        ] {
            assert_eq!(
                DistributionId::parse(bad),
                Err(SignalError::InvalidDistributionId)
            );
        }
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
        use rand_core::SeedableRng;
        let r = DistributionId::random(&mut rng);
        assert_eq!(r.as_bytes()[6] >> 4, 4);
        assert_eq!(r.as_bytes()[8] >> 6, 2);
    }
}

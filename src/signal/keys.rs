//! libsignal's public-key encoding: a type byte (`0x05`, "DJB", for Curve25519) then the 32-byte key.
//!
//! Every key in a classic Signal message, bundle or sender-key distribution message is encoded this way,
//! and signatures over keys (a signed prekey's) cover these 33 bytes. Decoding is strict: the length must
//! be exactly 33, the type `0x05`, and the key a canonical encoding (top bit clear). X25519 ignores the
//! top bit, so two encodings would otherwise name the same key and an unauthenticated key field could be
//! altered without changing the session it opens; no libsignal implementation writes the bit.
//!
//! ```
//! use safemeet::primitives::curve25519::Curve25519SecretKey;
//! use safemeet::signal::keys;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
//! let key = Curve25519SecretKey::generate(&mut rng).public_key();
//! let wire = keys::encode_public_key(&key);
//! assert_eq!(wire[0], keys::DJB_TYPE);
//! assert_eq!(keys::decode_public_key(&wire)?, key);
//! # Ok::<(), safemeet::SignalError>(())
//! ```

use crate::SignalError;
use crate::primitives::curve25519::{Curve25519PublicKey, KEY_LEN};

/// The type byte of a Curve25519 key ("DJB" in libsignal).
pub const DJB_TYPE: u8 = 0x05;

/// The length of an encoded public key: the type byte and 32 key bytes.
pub const PUBLIC_KEY_LEN: usize = 1 + KEY_LEN;

/// Encodes a public key as libsignal does: `0x05 ‖ u`.
pub fn encode_public_key(key: &Curve25519PublicKey) -> [u8; PUBLIC_KEY_LEN] {
    let mut out = [0u8; PUBLIC_KEY_LEN];
    out[0] = DJB_TYPE;
    out[1..].copy_from_slice(key.as_bytes());
    out
}

/// Decodes a 33-byte `0x05 ‖ u` public key. Anything else (another length or type byte, or a key with
/// its top bit set) is [`SignalError::InvalidKey`].
pub fn decode_public_key(bytes: &[u8]) -> Result<Curve25519PublicKey, SignalError> {
    match bytes.split_first() {
        Some((&DJB_TYPE, key)) if key.len() == KEY_LEN => {
            let key = Curve25519PublicKey::from_slice(key).map_err(|_| SignalError::InvalidKey)?;
            if key.as_bytes()[KEY_LEN - 1] & 0x80 != 0 {
                return Err(SignalError::InvalidKey);
            }
            Ok(key)
        }
        _ => Err(SignalError::InvalidKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let key = Curve25519PublicKey::from_bytes([0x42; 32]);
        let wire = encode_public_key(&key);
        assert_eq!(decode_public_key(&wire), Ok(key));

        let mut other_type = wire;
        other_type[0] = 0x08;
        let mut top_bit = wire;
        top_bit[32] |= 0x80;
        let bad: [&[u8]; 5] = [
            &wire[..32],
            &[wire.as_slice(), &[0]].concat(),
            &other_type,
            &top_bit,
            &[],
        ];
        for bytes in bad {
            assert_eq!(decode_public_key(bytes), Err(SignalError::InvalidKey));
        }
        // A bare 32-byte key (no type byte) is refused too.
        assert_eq!(
            decode_public_key(key.as_bytes()),
            Err(SignalError::InvalidKey)
        );
    }
}

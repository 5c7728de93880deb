//! XEdDSA: Ed25519-style signatures made and checked with X25519 keys (Signal's XEdDSA, Rev. 1).
//!
//! The signer's X25519 private scalar `k` doubles as an Edwards scalar, so one identity key serves both
//! Diffie-Hellman and signing. The verifier only has the Montgomery `u` coordinate, which fixes the
//! Edwards point up to its sign, and the two published forms differ in how they settle that sign:
//!
//! - [`Form::Spec`] (the XEdDSA paper): when `kB` is "negative", sign with `-k` instead, so the public
//!   point always has sign bit 0.
//! - [`Form::Libsignal`] (libsignal, libsignal-protocol-java/-c, curve25519-js): sign with `k` as is and
//!   carry the real sign bit in bit 7 of the signature's last byte, which a reduced `s` never uses.
//!
//! [`verify`] reads that bit, so it accepts both forms: a spec-form signature always carries bit 0,
//! which rebuilds the same (positive) point. About half of all keys have a negative point, so a
//! verifier that only knew the paper's form would refuse half of the signatures real Signal-ecosystem
//! peers make.
//!
//! Both forms derive the nonce as `SHA-512(0xFE ‖ 0xFF×31 ‖ scalar ‖ message ‖ Z)` with 64 random bytes
//! `Z` ([`sign`] draws them from the caller's RNG; [`sign_with_random`] takes them, for known-answer
//! tests). The nonce does not affect verification.
//!
//! Verification is stricter than libsignal's in three ways that no honest signer can notice: the key's
//! `u` must be a canonical field element (below 2^255 − 19), the Edwards point must not have small
//! order, and `s` must be fully reduced (below the group order), so a signature cannot be re-encoded into
//! a second valid one.
//!
//! ```
//! use safemeet::primitives::{curve25519::Curve25519SecretKey, xeddsa};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
//! let identity = Curve25519SecretKey::generate(&mut rng);
//! let signature = xeddsa::sign(&identity, b"signed prekey", &mut rng);
//! xeddsa::verify(&identity.public_key(), b"signed prekey", &signature)?;
//! assert!(xeddsa::verify(&identity.public_key(), b"another prekey", &signature).is_err());
//! # Ok::<(), safemeet::CryptoError>(())
//! ```

use core::fmt;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use rand_core::CryptoRng;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::CryptoError;

/// The length of an XEdDSA signature, in bytes (`R ‖ s`).
pub const SIGNATURE_LEN: usize = 64;

/// The length of the random input `Z` that goes into the nonce, in bytes.
pub const RANDOM_LEN: usize = 64;

/// `hash_1`'s domain-separation prefix: the 32-byte little-endian encoding of 2^256 − 2.
const HASH1_PREFIX: [u8; 32] = {
    let mut prefix = [0xFF; 32];
    prefix[0] = 0xFE;
    prefix
};

/// Which of the two published encodings [`sign_with_random`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// libsignal's form: sign with the key's own scalar and carry the Edwards sign bit in the top bit
    /// of the last byte. Byte-identical to libsignal and libsignal-protocol-c for the same `Z`.
    Libsignal,
    /// The XEdDSA paper's form: negate the scalar when its point is negative, leave the top bit zero.
    Spec,
}

/// A 64-byte XEdDSA signature. Its validity is decided by [`verify`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct XEdDsaSignature([u8; SIGNATURE_LEN]);

impl XEdDsaSignature {
    /// A signature from its 64 bytes.
    pub const fn from_bytes(bytes: [u8; SIGNATURE_LEN]) -> Self {
        Self(bytes)
    }

    /// A signature from a slice that must be exactly 64 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        super::array_ref(bytes).map(|b| Self(*b))
    }

    /// The signature's bytes.
    pub const fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }

    /// The signature's bytes, copied.
    pub const fn to_bytes(self) -> [u8; SIGNATURE_LEN] {
        self.0
    }
}

impl fmt::Debug for XEdDsaSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("XEdDsaSignature(")?;
        super::fmt_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// Signs `message` with an X25519 key in libsignal's form, with 64 fresh random bytes from `rng`.
///
/// Each call derives the key's Edwards point; to sign many messages with one key, prepare it once with
/// [`XEdDsaSigningKey::new`].
pub fn sign<R: CryptoRng + ?Sized>(
    key: &Curve25519SecretKey,
    message: &[u8],
    rng: &mut R,
) -> XEdDsaSignature {
    XEdDsaSigningKey::new(key).sign(message, rng)
}

/// Signs `message` with an X25519 key in the chosen form, with the caller's random bytes `Z`.
///
/// Deterministic: the same key, message, `Z` and form give the same signature, which is what
/// known-answer tests need. Reusing a `Z` for two different messages is safe (the nonce also hashes the
/// message), but `Z` should be fresh randomness in production, as [`sign`] arranges.
pub fn sign_with_random(
    key: &Curve25519SecretKey,
    message: &[u8],
    random: &[u8; RANDOM_LEN],
    form: Form,
) -> XEdDsaSignature {
    XEdDsaSigningKey::new(key).sign_with_random(message, random, form)
}

/// Verifies an XEdDSA signature over `message` made by the holder of `key`'s private half, in either
/// [`Form`]. Any failure (a malformed key or signature, or one that does not verify) is
/// [`CryptoError::InvalidSignature`].
///
/// Each call converts the key to its Edwards points; to check many signatures by one key, prepare it
/// once with [`XEdDsaVerifyingKey::new`].
pub fn verify(
    key: &Curve25519PublicKey,
    message: &[u8],
    signature: &XEdDsaSignature,
) -> Result<(), CryptoError> {
    XEdDsaVerifyingKey::new(key)
        .map_err(|_| CryptoError::InvalidSignature)?
        .verify(message, signature)
}

/// An X25519 secret key prepared for signing: its scalar and Edwards public point are computed once,
/// which halves the cost of each signature. Zeroized on drop; `Debug` shows only the public point.
pub struct XEdDsaSigningKey {
    /// The clamped key bytes, as the nonce hashes them in libsignal's form.
    clamped: Zeroizing<[u8; 32]>,
    scalar: Zeroizing<Scalar>,
    /// `kB`, compressed, with its real sign bit.
    public: CompressedEdwardsY,
}

impl XEdDsaSigningKey {
    /// Prepares `key` for signing.
    pub fn new(key: &Curve25519SecretKey) -> Self {
        // The X25519 scalar: the key bytes as X25519 uses them, clamped.
        let clamped = Zeroizing::new(clamp_integer(*key.to_bytes()));
        let scalar = Zeroizing::new(Scalar::from_bytes_mod_order(*clamped));
        let public = EdwardsPoint::mul_base(&scalar).compress();
        Self {
            clamped,
            scalar,
            public,
        }
    }

    /// Signs `message` in libsignal's form, with 64 fresh random bytes from `rng`.
    pub fn sign<R: CryptoRng + ?Sized>(&self, message: &[u8], rng: &mut R) -> XEdDsaSignature {
        let mut random = Zeroizing::new([0u8; RANDOM_LEN]);
        rng.fill_bytes(random.as_mut_slice());
        self.sign_with_random(message, &random, Form::Libsignal)
    }

    /// Signs `message` in the chosen form with the caller's random bytes `Z` (see [`sign_with_random`]).
    pub fn sign_with_random(
        &self,
        message: &[u8],
        random: &[u8; RANDOM_LEN],
        form: Form,
    ) -> XEdDsaSignature {
        let sign_bit = self.public.as_bytes()[31] >> 7;
        let mut positive = self.public.to_bytes();
        positive[31] &= 0x7F;
        // The scalar that signs, the bytes its nonce hashes, the public point the challenge names, and
        // the bit the signature carries.
        let negated;
        let negated_bytes;
        let (a, nonce_key, public, carried_bit): (&Scalar, &[u8; 32], [u8; 32], u8) = match form {
            Form::Libsignal => (
                &self.scalar,
                &self.clamped,
                self.public.to_bytes(),
                sign_bit,
            ),
            Form::Spec if sign_bit == 1 => {
                negated = Zeroizing::new(-*self.scalar);
                negated_bytes = Zeroizing::new(negated.to_bytes());
                (&negated, &negated_bytes, positive, 0)
            }
            Form::Spec => (&self.scalar, &self.clamped, positive, 0),
        };

        let mut nonce_hash = Sha512::new();
        nonce_hash.update(HASH1_PREFIX);
        nonce_hash.update(nonce_key);
        nonce_hash.update(message);
        nonce_hash.update(random);
        let r = Zeroizing::new(Scalar::from_bytes_mod_order_wide(
            &nonce_hash.finalize().into(),
        ));
        let big_r = EdwardsPoint::mul_base(&r).compress();

        let h = challenge(big_r.as_bytes(), &public, message);
        let s = h * a + *r;

        let mut signature = [0u8; SIGNATURE_LEN];
        let (r_half, s_half) = signature.split_at_mut(32);
        r_half.copy_from_slice(big_r.as_bytes());
        s_half.copy_from_slice(s.as_bytes());
        // A reduced `s` is below 2^253, so the top bit is free to carry the sign.
        signature[SIGNATURE_LEN - 1] |= carried_bit << 7;
        XEdDsaSignature(signature)
    }
}

impl fmt::Debug for XEdDsaSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("XEdDsaSigningKey(public: ")?;
        super::fmt_hex(f, self.public.as_bytes())?;
        f.write_str(")")
    }
}

/// An X25519 public key prepared for verification: the two Edwards points its `u` coordinate can name
/// (one per sign bit) are computed once, which saves a field inversion and a square root per signature.
#[derive(Clone, Copy)]
pub struct XEdDsaVerifyingKey {
    /// For sign bit 0 and 1: `-A` (what the check equation multiplies) and `A` compressed.
    points: [(EdwardsPoint, CompressedEdwardsY); 2],
}

impl XEdDsaVerifyingKey {
    /// Prepares `key` for verification. Fails with [`CryptoError::InvalidKey`] when `u` is not a
    /// canonical field element, names no curve point (`u = -1`, or a point on the twist), or names a
    /// point of small order, with which anyone could forge.
    pub fn new(key: &Curve25519PublicKey) -> Result<Self, CryptoError> {
        let u = key.as_bytes();
        if !is_canonical_field_element(u) {
            return Err(CryptoError::InvalidKey);
        }
        let positive = MontgomeryPoint(*u)
            .to_edwards(0)
            .filter(|point| !point.is_small_order())
            .ok_or(CryptoError::InvalidKey)?;
        let compressed = positive.compress();
        // The negative point has the same y and the opposite sign of x: the same encoding with the top
        // bit set (x is never zero here, since only small-order points have x = 0).
        let mut negative_bytes = compressed.to_bytes();
        negative_bytes[31] |= 0x80;
        Ok(Self {
            points: [
                (-positive, compressed),
                (positive, CompressedEdwardsY(negative_bytes)),
            ],
        })
    }

    /// Verifies `signature` over `message`, in either [`Form`]. Any failure is
    /// [`CryptoError::InvalidSignature`].
    pub fn verify(&self, message: &[u8], signature: &XEdDsaSignature) -> Result<(), CryptoError> {
        let (r_bytes, s_half) = signature.0.split_at(32);
        let mut s_bytes = [0u8; 32];
        s_bytes.copy_from_slice(s_half);
        let sign_bit = usize::from(s_bytes[31] >> 7);
        s_bytes[31] &= 0x7F;
        let (minus_public, public) = self
            .points
            .get(sign_bit)
            .ok_or(CryptoError::InvalidSignature)?;
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
            .ok_or(CryptoError::InvalidSignature)?;

        let h = challenge(r_bytes, public.as_bytes(), message);
        let expected_r =
            EdwardsPoint::vartime_double_scalar_mul_basepoint(&h, minus_public, &s).compress();
        if bool::from(expected_r.as_bytes().as_slice().ct_eq(r_bytes)) {
            Ok(())
        } else {
            Err(CryptoError::InvalidSignature)
        }
    }
}

impl fmt::Debug for XEdDsaVerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [(_, positive), _] = &self.points;
        f.write_str("XEdDsaVerifyingKey(")?;
        super::fmt_hex(f, positive.as_bytes())?;
        f.write_str(")")
    }
}

/// `h = SHA-512(R ‖ A ‖ M) mod q`.
fn challenge(r: &[u8], public: &[u8; 32], message: &[u8]) -> Scalar {
    let mut hash = Sha512::new();
    hash.update(r);
    hash.update(public);
    hash.update(message);
    Scalar::from_bytes_mod_order_wide(&hash.finalize().into())
}

/// Whether 32 little-endian bytes encode an integer below p = 2^255 − 19.
fn is_canonical_field_element(bytes: &[u8; 32]) -> bool {
    let top = bytes[31];
    if top & 0x80 != 0 {
        return false;
    }
    // Values in [p, 2^255) are 0x7F, thirty 0xFF and a low byte of at least 0xED.
    let all_ones_middle = bytes[1..31].iter().all(|&b| b == 0xFF);
    !(top == 0x7F && all_ones_middle && bytes[0] >= 0xED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn key_with_sign_bit(rng: &mut ChaCha20Rng, bit: u8) -> Curve25519SecretKey {
        loop {
            let key = Curve25519SecretKey::generate(rng);
            let k = Scalar::from_bytes_mod_order(clamp_integer(*key.to_bytes()));
            if EdwardsPoint::mul_base(&k).compress().as_bytes()[31] >> 7 == bit {
                return key;
            }
        }
    }

    #[test]
    fn both_forms_verify_for_both_signs() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        for bit in [0, 1] {
            let key = key_with_sign_bit(&mut rng, bit);
            let public = key.public_key();
            let libsignal = sign_with_random(&key, b"m", &[9; 64], Form::Libsignal);
            let spec = sign_with_random(&key, b"m", &[9; 64], Form::Spec);
            assert_eq!(libsignal.as_bytes()[63] >> 7, bit);
            assert_eq!(spec.as_bytes()[63] >> 7, 0);
            assert_eq!(
                libsignal == spec,
                bit == 0,
                "the forms coincide exactly for positive keys"
            );
            verify(&public, b"m", &libsignal).unwrap();
            verify(&public, b"m", &spec).unwrap();
            assert!(verify(&public, b"n", &spec).is_err());
        }
    }

    #[test]
    fn every_bit_flip_is_refused() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        for bit in [0, 1] {
            let key = key_with_sign_bit(&mut rng, bit);
            let signature = sign(&key, b"prekey", &mut rng);
            for i in 0..SIGNATURE_LEN * 8 {
                let mut bytes = signature.to_bytes();
                bytes[i / 8] ^= 1 << (i % 8);
                let flipped = XEdDsaSignature::from_bytes(bytes);
                assert_eq!(
                    verify(&key.public_key(), b"prekey", &flipped),
                    Err(CryptoError::InvalidSignature),
                    "bit {i}"
                );
            }
        }
    }

    #[test]
    fn non_canonical_scalar_is_refused() {
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let key = key_with_sign_bit(&mut rng, 0);
        let signature = sign(&key, b"x", &mut rng).to_bytes();
        // s + q still satisfies the check equation and fits below 2^253: a second encoding.
        let s = Scalar::from_canonical_bytes(signature[32..].try_into().unwrap()).unwrap();
        let q_bytes = {
            let mut q = (-Scalar::ONE).to_bytes();
            q[0] += 1;
            q
        };
        let mut sum = [0u8; 32];
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(s.as_bytes()[i]) + u16::from(q_bytes[i]) + carry;
            sum[i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0);
        if sum[31] & 0xE0 == 0 {
            let mut malleated = signature;
            malleated[32..].copy_from_slice(&sum);
            assert!(verify(&key.public_key(), b"x", &XEdDsaSignature(malleated)).is_err());
        }
    }

    #[test]
    fn bad_keys_are_refused() {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let key = key_with_sign_bit(&mut rng, 0);
        let signature = sign(&key, b"x", &mut rng);
        let mut top_bit = key.public_key().to_bytes();
        top_bit[31] |= 0x80;
        let minus_one = {
            let mut b = [0xFF; 32];
            b[0] = 0xEC;
            b[31] = 0x7F;
            b
        };
        let mut p = minus_one;
        p[0] = 0xED;
        for bad in [top_bit, minus_one, p, [0; 32], [0xFF; 32]] {
            assert!(verify(&Curve25519PublicKey::from_bytes(bad), b"x", &signature).is_err());
        }
        assert!(is_canonical_field_element(&minus_one));
        assert!(!is_canonical_field_element(&p));
    }

    #[test]
    fn prepared_keys_agree_with_the_one_shot_functions() {
        let mut rng = ChaCha20Rng::from_seed([6; 32]);
        for bit in [0, 1] {
            let key = key_with_sign_bit(&mut rng, bit);
            let signing = XEdDsaSigningKey::new(&key);
            let verifying = XEdDsaVerifyingKey::new(&key.public_key()).unwrap();
            // The cached negative encoding is exactly what `to_edwards(1)` gives.
            let negative = MontgomeryPoint(key.public_key().to_bytes())
                .to_edwards(1)
                .unwrap();
            assert_eq!(verifying.points[1].1, negative.compress());
            assert_eq!(verifying.points[1].0, -negative);
            for form in [Form::Libsignal, Form::Spec] {
                let one_shot = sign_with_random(&key, b"m", &[bit; 64], form);
                assert_eq!(signing.sign_with_random(b"m", &[bit; 64], form), one_shot);
                verifying.verify(b"m", &one_shot).unwrap();
                assert!(verifying.verify(b"n", &one_shot).is_err());
            }
        }
        assert_eq!(
            XEdDsaVerifyingKey::new(&Curve25519PublicKey::from_bytes([0; 32])).unwrap_err(),
            CryptoError::InvalidKey
        );
        let text = std::format!(
            "{:?}",
            XEdDsaSigningKey::new(&key_with_sign_bit(&mut rng, 0))
        );
        assert!(text.starts_with("XEdDsaSigningKey(public: "));
    }

    #[test]
    fn debug_prints_hex() {
        let text = std::format!("{:?}", XEdDsaSignature([0xAB; 64]));
        assert!(text.starts_with("XEdDsaSignature(abab"));
    }
}

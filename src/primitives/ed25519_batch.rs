//! Ed25519 batch verification of many signatures by **one** key, over `curve25519-dalek`.
//!
//! Checking `n` signatures one by one costs `n` double-scalar multiplications. With random 128-bit
//! weights `z_i`, the single equation
//!
//! ```text
//! [8]( Σ z_i·R_i + (Σ z_i·h_i)·A − (Σ z_i·s_i)·B ) = 0,   h_i = SHA-512(R_i ‖ A ‖ M_i) mod ℓ
//! ```
//!
//! holds for genuine signatures and fails, except with probability about 2⁻¹²⁸, if any is forged; one
//! multi-scalar multiplication checks them all. Because every signature is by the same key `A`, its
//! terms collapse into one.
//!
//! Each signature must meet the encoding rules of strict verification ([`super::ed25519`]): `s`
//! canonical, `R` a valid point not of small order. The equation is cofactored (ZIP 215 style), so it
//! also accepts a signature whose `R` differs from the strict verifier's by a small-order component.
//! Only the holder of the signing key can make such a signature, so it proves authorship just as well;
//! a caller that must reject exactly what strict verification rejects should verify one by one.
//!
//! Needs the `alloc` feature (`curve25519-dalek`'s multi-scalar multiplication allocates).

use alloc::vec::Vec;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use rand_core::CryptoRng;
use sha2::Digest;

use super::ed25519::{Ed25519PublicKey, Ed25519Signature};
use crate::CryptoError;

/// Verifies every `(message, signature)` in `items` against `key` together. `Ok` means all are
/// valid; [`CryptoError::InvalidSignature`] means at least one is not (verify one by one to find it).
/// An empty batch is valid. `rng` supplies the weights; it must be unpredictable to whoever made the
/// signatures.
pub fn verify_batch<'a, R, I>(
    rng: &mut R,
    key: &Ed25519PublicKey,
    items: I,
) -> Result<(), CryptoError>
where
    R: CryptoRng + ?Sized,
    I: IntoIterator<Item = (&'a [u8], &'a Ed25519Signature)>,
{
    let a = CompressedEdwardsY(*key.as_bytes())
        .decompress()
        .ok_or(CryptoError::InvalidKey)?;
    let items = items.into_iter();
    let mut scalars: Vec<Scalar> = Vec::with_capacity(items.size_hint().0 + 2);
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(items.size_hint().0 + 2);
    let mut sum_zs = Scalar::ZERO;
    let mut sum_zh = Scalar::ZERO;
    for (message, signature) in items {
        let bytes = signature.as_bytes();
        let (r_bytes, s_bytes) = bytes.split_at(32);
        let r_bytes: [u8; 32] = r_bytes
            .try_into()
            .map_err(|_| CryptoError::InvalidSignature)?;
        let s_bytes: [u8; 32] = s_bytes
            .try_into()
            .map_err(|_| CryptoError::InvalidSignature)?;
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
            .ok_or(CryptoError::InvalidSignature)?;
        let r = CompressedEdwardsY(r_bytes)
            .decompress()
            .filter(|r| !r.is_small_order())
            .ok_or(CryptoError::InvalidSignature)?;
        let mut hash = sha2::Sha512::new();
        hash.update(r_bytes);
        hash.update(key.as_bytes());
        hash.update(message);
        let h = Scalar::from_bytes_mod_order_wide(&hash.finalize().into());
        let mut z = [0u8; 32];
        rng.fill_bytes(&mut z[..16]);
        let z = Scalar::from_bytes_mod_order(z);
        sum_zs += z * s;
        sum_zh += z * h;
        scalars.push(z);
        points.push(r);
    }
    scalars.push(sum_zh);
    points.push(a);
    scalars.push(-sum_zs);
    points.push(ED25519_BASEPOINT_POINT);
    let check = EdwardsPoint::vartime_multiscalar_mul(&scalars, &points);
    if check.mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(CryptoError::InvalidSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::ed25519::Ed25519SecretKey;
    use rand_core::SeedableRng;
    use std::vec;

    #[test]
    fn accepts_genuine_and_rejects_any_forgery() {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
        let key = Ed25519SecretKey::generate(&mut rng);
        let messages: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; usize::from(i) * 7]).collect();
        let sigs: Vec<_> = messages.iter().map(|m| key.sign(m)).collect();
        let public = key.public_key();
        let items = || messages.iter().map(Vec::as_slice).zip(sigs.iter());
        assert_eq!(verify_batch(&mut rng, &public, items()), Ok(()));
        assert_eq!(verify_batch(&mut rng, &public, core::iter::empty()), Ok(()));
        for i in 0..messages.len() {
            let mut bad = sigs.clone();
            let mut b = bad[i].to_bytes();
            b[i % 64] ^= 1;
            bad[i] = Ed25519Signature::from_bytes(b);
            let items = messages.iter().map(Vec::as_slice).zip(bad.iter());
            assert!(verify_batch(&mut rng, &public, items).is_err(), "{i}");
        }
        // A signature by another key fails.
        let other = Ed25519SecretKey::generate(&mut rng);
        let mut bad = sigs.clone();
        bad[3] = other.sign(&messages[3]);
        let items = messages.iter().map(Vec::as_slice).zip(bad.iter());
        assert!(verify_batch(&mut rng, &public, items).is_err());
    }
}

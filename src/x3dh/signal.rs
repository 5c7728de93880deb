//! Classic Signal X3DH as libsignal v3 runs it (`specs/signal.md` §1.3, §4.3 step 1).
//!
//! ```text
//! SK = DH(IK_A, SPK_B) ‖ DH(EK_A, IK_B) ‖ DH(EK_A, SPK_B) [‖ DH(EK_A, OPK_B)]
//! RK ‖ CK = HKDF-SHA-256(salt = 0×32, IKM = 0xFF×32 ‖ SK, info = "WhisperText", 64 bytes)
//! ```
//!
//! Every key is an X25519 key; the identity key also signs, with XEdDSA, the 33-byte encoding
//! (`0x05 ‖ u`) of the signed prekey. [`initiate`] checks that signature before any Diffie-Hellman, in
//! libsignal's form or the specification's ([`crate::primitives::xeddsa::verify`]).
//!
//! `RK` becomes the ratchet's root key. `CK` is the chain of Bob's signed prekey: Bob's first sending
//! chain, and for Alice a receiving chain she keeps beside the sending chain she derives at once
//! (`lsp-java` `RatchetingSession`).

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{dh, expand, secret};
use crate::error::X3dhError;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey, KEY_LEN};
use crate::primitives::secret::SecretBytes;
use crate::primitives::xeddsa::{self, XEdDsaSignature};
use crate::signal::keys::encode_public_key;

/// The HKDF `info` of classic Signal's initial key derivation.
pub const SIGNAL_X3DH_INFO: &[u8] = b"WhisperText";

/// The 32 `0xFF` bytes that precede the Diffie-Hellman outputs (X3DH §2.2, `F` for X25519).
const DISCONTINUITY: [u8; KEY_LEN] = [0xFF; KEY_LEN];

/// The secrets a classic Signal session starts from. Zeroized on drop; `Debug` shows nothing of them.
pub struct SignalSharedSecrets {
    /// The first root key.
    pub root: SecretBytes<32>,
    /// The chain key of Bob's signed prekey.
    pub chain: SecretBytes<32>,
}

impl fmt::Debug for SignalSharedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalSharedSecrets")
            .finish_non_exhaustive()
    }
}

/// The public keys of Bob's bundle that the key agreement uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleKeys {
    /// `IK_B`.
    pub identity: Curve25519PublicKey,
    /// `SPK_B`.
    pub signed_prekey: Curve25519PublicKey,
    /// XEdDSA by `IK_B` over the 33-byte encoding of `SPK_B`.
    pub signed_prekey_signature: XEdDsaSignature,
    /// `OPK_B`, if the server had one left.
    pub one_time_prekey: Option<Curve25519PublicKey>,
}

/// Signs `signed_prekey`'s 33-byte encoding with the identity key, in libsignal's XEdDSA form.
pub fn sign_prekey<R: CryptoRng + ?Sized>(
    rng: &mut R,
    identity: &Curve25519SecretKey,
    signed_prekey: &Curve25519PublicKey,
) -> XEdDsaSignature {
    xeddsa::sign(identity, &encode_public_key(signed_prekey), rng)
}

/// Checks the bundle's signed-prekey signature. Any failure is [`X3dhError::InvalidSignature`].
pub fn verify_prekey(bundle: &BundleKeys) -> Result<(), X3dhError> {
    xeddsa::verify(
        &bundle.identity,
        &encode_public_key(&bundle.signed_prekey),
        &bundle.signed_prekey_signature,
    )
    .map_err(|_| X3dhError::InvalidSignature)
}

/// Alice's side: checks the signature, generates the base key `EK_A` and derives the secrets. Returns
/// them with `EK_A`'s public half (the secret is zeroized before this returns).
pub fn initiate<R: CryptoRng + ?Sized>(
    rng: &mut R,
    identity: &Curve25519SecretKey,
    bundle: &BundleKeys,
) -> Result<(SignalSharedSecrets, Curve25519PublicKey), X3dhError> {
    verify_prekey(bundle)?;
    let base_key = Curve25519SecretKey::generate(rng);
    let secrets = initiate_inner(&base_key, identity, bundle)?;
    Ok((secrets, base_key.public_key()))
}

/// [`initiate`] with the base key given by the caller, for known-answer tests. Never reuse a base key.
#[cfg(feature = "hazmat")]
pub fn initiate_with_base_key(
    base_key: &Curve25519SecretKey,
    identity: &Curve25519SecretKey,
    bundle: &BundleKeys,
) -> Result<SignalSharedSecrets, X3dhError> {
    verify_prekey(bundle)?;
    initiate_inner(base_key, identity, bundle)
}

/// [`initiate`] with the base key given and **no signature check**, for the published vectors whose
/// bundles carry no signature over the keys used (libsignal's `ratchet.rs`). Never use it on a bundle.
#[cfg(feature = "hazmat")]
pub fn initiate_unverified(
    base_key: &Curve25519SecretKey,
    identity: &Curve25519SecretKey,
    their_identity: &Curve25519PublicKey,
    their_signed_prekey: &Curve25519PublicKey,
    their_one_time_prekey: Option<&Curve25519PublicKey>,
) -> Result<SignalSharedSecrets, X3dhError> {
    agree(
        [
            (identity, their_signed_prekey),
            (base_key, their_identity),
            (base_key, their_signed_prekey),
        ],
        their_one_time_prekey.map(|k| (base_key, k)),
    )
}

fn initiate_inner(
    base_key: &Curve25519SecretKey,
    identity: &Curve25519SecretKey,
    bundle: &BundleKeys,
) -> Result<SignalSharedSecrets, X3dhError> {
    agree(
        [
            (identity, &bundle.signed_prekey),
            (base_key, &bundle.identity),
            (base_key, &bundle.signed_prekey),
        ],
        bundle.one_time_prekey.as_ref().map(|k| (base_key, k)),
    )
}

/// Bob's side, on a `PreKeySignalMessage`: `DH(SPK_B, IK_A) ‖ DH(IK_B, EK_A) ‖ DH(SPK_B, EK_A)
/// [‖ DH(OPK_B, EK_A)]`. The one-time prekey is only borrowed: removing it once the first message has
/// authenticated is the account's job.
pub fn respond(
    identity: &Curve25519SecretKey,
    signed_prekey: &Curve25519SecretKey,
    one_time_prekey: Option<&Curve25519SecretKey>,
    their_identity: &Curve25519PublicKey,
    their_base_key: &Curve25519PublicKey,
) -> Result<SignalSharedSecrets, X3dhError> {
    agree(
        [
            (signed_prekey, their_identity),
            (identity, their_base_key),
            (signed_prekey, their_base_key),
        ],
        one_time_prekey.map(|k| (k, their_base_key)),
    )
}

type Pair<'a> = (&'a Curve25519SecretKey, &'a Curve25519PublicKey);

fn agree(three: [Pair<'_>; 3], fourth: Option<Pair<'_>>) -> Result<SignalSharedSecrets, X3dhError> {
    let mut ikm = Zeroizing::new([[0u8; KEY_LEN]; 5]);
    let [f, dh1, dh2, dh3, dh4] = &mut *ikm;
    f.copy_from_slice(&DISCONTINUITY);
    let [(a1, b1), (a2, b2), (a3, b3)] = three;
    dh(a1, b1, dh1)?;
    dh(a2, b2, dh2)?;
    dh(a3, b3, dh3)?;
    let used = match fourth {
        Some((a4, b4)) => {
            dh(a4, b4, dh4)?;
            5
        }
        None => 4,
    };
    let input = ikm
        .as_flattened()
        .get(..used * KEY_LEN)
        .ok_or(X3dhError::Internal)?;
    let okm = expand::<2>(&[0u8; 32], input, SIGNAL_X3DH_INFO)?;
    let [root, chain] = &*okm;
    Ok(SignalSharedSecrets {
        root: secret(root),
        chain: secret(chain),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::small_order_points;
    use super::*;

    #[test]
    fn both_sides_agree_with_and_without_one_time_prekey() {
        use rand_core::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
        let alice = Curve25519SecretKey::generate(&mut rng);
        let bob = Curve25519SecretKey::generate(&mut rng);
        let spk = Curve25519SecretKey::generate(&mut rng);
        let opk = Curve25519SecretKey::generate(&mut rng);
        for with_opk in [false, true] {
            let bundle = BundleKeys {
                identity: bob.public_key(),
                signed_prekey: spk.public_key(),
                signed_prekey_signature: sign_prekey(&mut rng, &bob, &spk.public_key()),
                one_time_prekey: with_opk.then(|| opk.public_key()),
            };
            let (a, ek) = initiate(&mut rng, &alice, &bundle).unwrap();
            let b = respond(
                &bob,
                &spk,
                with_opk.then_some(&opk),
                &alice.public_key(),
                &ek,
            )
            .unwrap();
            assert_eq!(a.root, b.root);
            assert_eq!(a.chain, b.chain);
            // Without the one-time prekey on Bob's side the secrets differ.
            let c = respond(
                &bob,
                &spk,
                (!with_opk).then_some(&opk),
                &alice.public_key(),
                &ek,
            )
            .unwrap();
            assert_ne!(a.root, c.root);
        }
    }

    #[test]
    fn bad_signature_and_small_order_keys_are_refused() {
        use rand_core::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([5; 32]);
        let alice = Curve25519SecretKey::generate(&mut rng);
        let bob = Curve25519SecretKey::generate(&mut rng);
        let spk = Curve25519SecretKey::generate(&mut rng);
        let mut bundle = BundleKeys {
            identity: bob.public_key(),
            signed_prekey: spk.public_key(),
            signed_prekey_signature: sign_prekey(&mut rng, &bob, &spk.public_key()),
            one_time_prekey: None,
        };
        assert!(initiate(&mut rng, &alice, &bundle).is_ok());
        let mut sig = bundle.signed_prekey_signature.to_bytes();
        sig[5] ^= 1;
        bundle.signed_prekey_signature = XEdDsaSignature::from_bytes(sig);
        assert_eq!(
            initiate(&mut rng, &alice, &bundle).unwrap_err(),
            X3dhError::InvalidSignature
        );
        for bad in small_order_points() {
            assert_eq!(
                respond(&bob, &spk, None, &bad, &spk.public_key()).unwrap_err(),
                X3dhError::NonContributory
            );
        }
    }
}

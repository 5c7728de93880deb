//! Key agreement: Signal's X3DH for the native profile, and Olm's triple Diffie-Hellman for the matrix
//! profile. Two shapes of one idea, each in its own module.
//!
//! Both turn long-term and one-off X25519 keys into the first secrets of a Double Ratchet. Each side
//! computes the same Diffie-Hellman outputs in the same order, concatenates them in a zeroizing
//! buffer and runs HKDF-SHA-256 over the result. Every exchange goes through
//! [`Curve25519SecretKey::diffie_hellman`](crate::primitives::curve25519::Curve25519SecretKey::diffie_hellman),
//! so a peer who sends a small-order point gets [`X3dhError::NonContributory`] and no secret. The
//! initiator's one-off key is generated inside the call and zeroized when the call returns; only its
//! public half comes back, to go into the first message.
//!
//! | | [`native`] (X3DH, `specs/signal.md` §1) | [`olm`] (3DH, `specs/matrix.md` §1.2) |
//! |---|---|---|
//! | responder publishes | identity `IK_B` + Ed25519 key, signed prekey `SPK_B`, optional one-time prekey `OPK_B` | identity `I_B`, one-time or fallback key `E_B` |
//! | initiator checks first | Ed25519 signatures binding `IK_B` and `SPK_B` | nothing (Olm signs keys in JSON, elsewhere) |
//! | Diffie-Hellman set | `DH(IK_A, SPK_B) ‖ DH(EK_A, IK_B) ‖ DH(EK_A, SPK_B) [‖ DH(EK_A, OPK_B)]` | `DH(I_A, E_B) ‖ DH(E_A, I_B) ‖ DH(E_A, E_B)` |
//! | HKDF-SHA-256 | salt 32 zero bytes, IKM `0xFF×32 ‖ DHs`, info [`native::NATIVE_X3DH_INFO`], 96 bytes | no salt, IKM the 96 DH bytes, info [`olm::OLM_ROOT_INFO`], 64 bytes |
//! | result | root key `SK`, two header keys, 128-byte associated data | root key, chain key |
//!
//! A third shape, [`signal`], is X3DH as classic libsignal v3 runs it for the `signal` profile: the
//! native shape's Diffie-Hellman set and `0xFF×32` prefix, with XEdDSA signatures by the identity key
//! itself over the 33-byte `0x05 ‖ u` encoding, info `"WhisperText"` and 64 bytes out (root key and
//! the signed prekey's chain key).
//!
//! The native shape, end to end:
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::primitives::{curve25519::Curve25519SecretKey, ed25519::Ed25519SecretKey};
//! use safemeet::x3dh::native::{self, InitiatorKeys, PreKeyBundleKeys};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([0; 32]); // use an OS RNG in real code
//!
//! // Bob publishes a bundle: his identity key bound to his Ed25519 key, a signed prekey, one OPK.
//! let bob_ed = Ed25519SecretKey::generate(&mut rng);
//! let bob_ik = Curve25519SecretKey::generate(&mut rng);
//! let bob_spk = Curve25519SecretKey::generate(&mut rng);
//! let bob_opk = Curve25519SecretKey::generate(&mut rng);
//! let bundle = PreKeyBundleKeys {
//!     identity: bob_ik.public_key(),
//!     signing_key: bob_ed.public_key(),
//!     identity_signature: native::sign_identity_binding(&bob_ed, &bob_ik.public_key()),
//!     signed_prekey: bob_spk.public_key(),
//!     signed_prekey_signature: native::sign_prekey(&bob_ed, &bob_spk.public_key()),
//!     one_time_prekey: Some(bob_opk.public_key()),
//! };
//!
//! // Alice checks the signatures, then agrees on the secrets and sends EK_A with her identity keys.
//! let alice_ed = Ed25519SecretKey::generate(&mut rng);
//! let alice_ik = Curve25519SecretKey::generate(&mut rng);
//! let (alice, ek_a, alice_ad) =
//!     native::initiate(&mut rng, &alice_ik, &alice_ed.public_key(), &bundle)?;
//!
//! // Bob, on her first message, mirrors the computation with his secret keys.
//! let first_message = InitiatorKeys {
//!     identity: alice_ik.public_key(),
//!     signing_key: alice_ed.public_key(),
//!     ephemeral: ek_a,
//! };
//! let (bob, bob_ad) =
//!     native::respond(&bob_ik, &bob_ed.public_key(), &bob_spk, Some(&bob_opk), &first_message)?;
//! assert_eq!(alice.root, bob.root);
//! assert_eq!(alice.header_key_a, bob.header_key_a);
//! assert_eq!(alice.next_header_key_b, bob.next_header_key_b);
//! assert_eq!(alice_ad, bob_ad);
//! # Ok::<(), safemeet::Error>(())
//! ```
//!
//! Olm's triple DH, as a Matrix device opening a session with another's one-time key:
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::primitives::curve25519::Curve25519SecretKey;
//! use safemeet::x3dh::olm;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//! let alice_identity = Curve25519SecretKey::generate(&mut rng);
//! let bob_identity = Curve25519SecretKey::generate(&mut rng);
//! let bob_one_time = Curve25519SecretKey::generate(&mut rng);
//!
//! let (alice, base_key) = olm::initiate(
//!     &mut rng,
//!     &alice_identity,
//!     &bob_identity.public_key(),
//!     &bob_one_time.public_key(),
//! )?;
//! let bob = olm::respond(
//!     &bob_identity,
//!     &bob_one_time,
//!     &alice_identity.public_key(),
//!     &base_key,
//! )?;
//! assert_eq!((alice.root, alice.chain), (bob.root, bob.chain));
//! # Ok::<(), safemeet::Error>(())
//! ```
//!
//! What this module leaves to the session layer: prekey ids, removing a one-time prekey once the first
//! message has authenticated (the responder only borrows it), the Olm session id
//! (`SHA-256(I_A ‖ E_A ‖ E_B)`) and every wire format. With the `hazmat` feature, `initiate_with_ephemeral`
//! and `initiate_with_base_key` take the initiator's one-off secret explicitly, for known-answer tests.

pub mod native;
pub mod olm;
pub mod signal;

use zeroize::Zeroizing;

use crate::CryptoError;
use crate::error::X3dhError;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey, KEY_LEN};
use crate::primitives::hkdf::hkdf_sha256;
use crate::primitives::secret::SecretBytes;

/// One X25519 exchange, mapped into this layer's error.
fn dh(
    ours: &Curve25519SecretKey,
    theirs: &Curve25519PublicKey,
    out: &mut [u8; KEY_LEN],
) -> Result<(), X3dhError> {
    let shared = ours.diffie_hellman(theirs).map_err(from_crypto)?;
    out.copy_from_slice(shared.as_bytes());
    Ok(())
}

/// HKDF-SHA-256 into `N` zeroizing 32-byte blocks.
fn expand<const N: usize>(
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
) -> Result<Zeroizing<[[u8; KEY_LEN]; N]>, X3dhError> {
    let mut okm = Zeroizing::new([[0u8; KEY_LEN]; N]);
    hkdf_sha256(salt, ikm, info, okm.as_flattened_mut()).map_err(from_crypto)?;
    Ok(okm)
}

/// Copies a 32-byte block of key material into a [`SecretBytes`] without an unzeroized temporary.
fn secret(bytes: &[u8; KEY_LEN]) -> SecretBytes<KEY_LEN> {
    let mut out = SecretBytes::from_bytes([0u8; KEY_LEN]);
    out.as_mut_bytes().copy_from_slice(bytes);
    out
}

fn from_crypto(e: CryptoError) -> X3dhError {
    match e {
        CryptoError::NonContributory => X3dhError::NonContributory,
        CryptoError::InvalidSignature => X3dhError::InvalidSignature,
        _ => X3dhError::Internal,
    }
}

/// Helpers shared by the tests of both shapes.
#[cfg(test)]
mod test_support {
    use crate::primitives::curve25519::Curve25519PublicKey;

    /// u = 0 and u = 1: points of small order, whose X25519 output is all zeros for every secret.
    pub(super) fn small_order_points() -> [Curve25519PublicKey; 2] {
        let mut one = [0u8; 32];
        one[0] = 1;
        [
            Curve25519PublicKey::from_bytes([0; 32]),
            Curve25519PublicKey::from_bytes(one),
        ]
    }

    /// Lowercase hex into an array of exactly `N` bytes.
    pub(super) fn hex<const N: usize>(text: &str) -> [u8; N] {
        assert_eq!(text.len(), 2 * N);
        let mut out = [0u8; N];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }
}

//! Olm's triple Diffie-Hellman (`specs/matrix.md` §1.2), byte-compatible with libolm and vodozemac.
//!
//! ```text
//! S = DH(I_A, E_B) ‖ DH(E_A, I_B) ‖ DH(E_A, E_B)          (96 bytes)
//! R0 ‖ C0,0 = HKDF-SHA-256(salt = none, IKM = S, info = "OLM_ROOT", 64 bytes)
//! ```
//!
//! `I_A`, `I_B` are the devices' Curve25519 identity keys, `E_A` the initiator's fresh base key and
//! `E_B` the responder's one-time (or fallback) key. libolm and vodozemac pass a salt of one zero byte;
//! HMAC pads every key shorter than its block with zeros, so an empty salt, one zero byte and 32 zero
//! bytes give the same result. Olm signs its keys in JSON, outside this module; there is nothing to
//! verify here.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{dh, expand, secret};
use crate::error::X3dhError;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey, KEY_LEN};
use crate::primitives::secret::SecretBytes;

/// The HKDF `info` of Olm's initial key derivation.
pub const OLM_ROOT_INFO: &[u8] = b"OLM_ROOT";

/// The secrets an Olm session starts from. Zeroized on drop; `Debug` shows nothing of them.
pub struct OlmSharedSecrets {
    /// `R0`, the first root key.
    pub root: SecretBytes<32>,
    /// `C0,0`, the first chain key: the initiator's sending chain, the responder's receiving chain.
    pub chain: SecretBytes<32>,
}

impl fmt::Debug for OlmSharedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OlmSharedSecrets").finish_non_exhaustive()
    }
}

/// The initiator's side: generates the base key `E_A` and computes
/// `DH(I_A, E_B) ‖ DH(E_A, I_B) ‖ DH(E_A, E_B)`.
///
/// `identity` is `I_A`; `their_identity` and `their_one_time_key` are `I_B` and `E_B`. Returns the
/// secrets and the base key's public half (its secret is zeroized before this returns). The base key
/// takes the first 32 bytes the RNG yields, as in libolm. Fails with [`X3dhError::NonContributory`] if
/// one of Bob's keys has small order.
pub fn initiate<R: CryptoRng + ?Sized>(
    rng: &mut R,
    identity: &Curve25519SecretKey,
    their_identity: &Curve25519PublicKey,
    their_one_time_key: &Curve25519PublicKey,
) -> Result<(OlmSharedSecrets, Curve25519PublicKey), X3dhError> {
    let base_key = Curve25519SecretKey::generate(rng);
    let secrets = initiate_inner(&base_key, identity, their_identity, their_one_time_key)?;
    Ok((secrets, base_key.public_key()))
}

/// [`initiate`] with the base key `E_A` given by the caller, for known-answer tests and libolm
/// migrations. Never reuse a base key.
#[cfg(feature = "hazmat")]
pub fn initiate_with_base_key(
    base_key: &Curve25519SecretKey,
    identity: &Curve25519SecretKey,
    their_identity: &Curve25519PublicKey,
    their_one_time_key: &Curve25519PublicKey,
) -> Result<OlmSharedSecrets, X3dhError> {
    initiate_inner(base_key, identity, their_identity, their_one_time_key)
}

/// The responder's side, on a pre-key message: computes `DH(E_B, I_A) ‖ DH(I_B, E_A) ‖ DH(E_B, E_A)`.
///
/// `identity` is `I_B`, `one_time_key` the `E_B` the message names (only borrowed: removing it is the
/// account's job), `their_identity` and `their_base_key` are `I_A` and `E_A`. Fails with
/// [`X3dhError::NonContributory`] if one of Alice's keys has small order.
pub fn respond(
    identity: &Curve25519SecretKey,
    one_time_key: &Curve25519SecretKey,
    their_identity: &Curve25519PublicKey,
    their_base_key: &Curve25519PublicKey,
) -> Result<OlmSharedSecrets, X3dhError> {
    let mut s = Zeroizing::new([[0u8; KEY_LEN]; 3]);
    let [dh1, dh2, dh3] = &mut *s;
    dh(one_time_key, their_identity, dh1)?;
    dh(identity, their_base_key, dh2)?;
    dh(one_time_key, their_base_key, dh3)?;
    kdf(&s)
}

fn initiate_inner(
    base_key: &Curve25519SecretKey,
    identity: &Curve25519SecretKey,
    their_identity: &Curve25519PublicKey,
    their_one_time_key: &Curve25519PublicKey,
) -> Result<OlmSharedSecrets, X3dhError> {
    let mut s = Zeroizing::new([[0u8; KEY_LEN]; 3]);
    let [dh1, dh2, dh3] = &mut *s;
    dh(identity, their_one_time_key, dh1)?;
    dh(base_key, their_identity, dh2)?;
    dh(base_key, their_one_time_key, dh3)?;
    kdf(&s)
}

/// `R0 ‖ C0,0 = HKDF-SHA-256(no salt, S, "OLM_ROOT", 64)`.
fn kdf(s: &[[u8; KEY_LEN]; 3]) -> Result<OlmSharedSecrets, X3dhError> {
    let okm = expand::<2>(&[], s.as_flattened(), OLM_ROOT_INFO)?;
    let [root, chain] = &*okm;
    Ok(OlmSharedSecrets {
        root: secret(root),
        chain: secret(chain),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::hkdf::hkdf_sha256;
    use crate::x3dh::test_support::{hex, small_order_points};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use std::format;

    /// `I_A`, `E_A`, `I_B`, `E_B` with one-byte-pattern secrets (the same bytes as the native tests).
    fn keys() -> [Curve25519SecretKey; 4] {
        [0xA1, 0xA2, 0xB1, 0xB3].map(|b| Curve25519SecretKey::from_bytes(&[b; 32]))
    }

    fn concat(secrets: &OlmSharedSecrets) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(secrets.root.as_bytes());
        out[32..].copy_from_slice(secrets.chain.as_bytes());
        out
    }

    #[test]
    fn both_sides_agree() {
        let mut rng = ChaCha20Rng::from_seed([5; 32]);
        let [i_a, _, i_b, e_b] = keys();
        let (alice, base_key) =
            initiate(&mut rng, &i_a, &i_b.public_key(), &e_b.public_key()).unwrap();
        // The base key is the first 32 bytes the RNG yields, as in libolm.
        let replay = Curve25519SecretKey::generate(&mut ChaCha20Rng::from_seed([5; 32]));
        assert_eq!(replay.public_key(), base_key);
        let bob = respond(&i_b, &e_b, &i_a.public_key(), &base_key).unwrap();
        assert_eq!(alice.root, bob.root);
        assert_eq!(alice.chain, bob.chain);
        assert_ne!(alice.root, alice.chain);
    }

    #[test]
    fn known_answer_matches_manual_hkdf() {
        let [i_a, e_a, i_b, e_b] = keys();
        let mut s = [0u8; 96];
        s[..32].copy_from_slice(i_a.diffie_hellman(&e_b.public_key()).unwrap().as_bytes());
        s[32..64].copy_from_slice(e_a.diffie_hellman(&i_b.public_key()).unwrap().as_bytes());
        s[64..].copy_from_slice(e_a.diffie_hellman(&e_b.public_key()).unwrap().as_bytes());
        // libolm and vodozemac pass one zero byte as the salt; it is the same as none.
        let mut expected = [0u8; 64];
        hkdf_sha256(&[0], &s, b"OLM_ROOT", &mut expected).unwrap();
        let alice = initiate_inner(&e_a, &i_a, &i_b.public_key(), &e_b.public_key()).unwrap();
        let bob = respond(&i_b, &e_b, &i_a.public_key(), &e_a.public_key()).unwrap();
        assert_eq!(concat(&alice), expected);
        assert_eq!(concat(&bob), expected);
    }

    /// Computed independently with Python `cryptography` 48.0.0 (OpenSSL X25519 and HKDF).
    #[test]
    fn known_answer_matches_independent_implementation() {
        let expected: [u8; 64] = hex(concat!(
            "3610f81ae68ade68c37cc29915d0b1c5a9e160f21aec628a963906f7c4905042",
            "80816c80aba8b5607984dca92e9816b9bd9671d2761195a680ea2a1e61eb9258",
        ));
        let [i_a, e_a, i_b, e_b] = keys();
        let alice = initiate_inner(&e_a, &i_a, &i_b.public_key(), &e_b.public_key()).unwrap();
        let bob = respond(&i_b, &e_b, &i_a.public_key(), &e_a.public_key()).unwrap();
        assert_eq!(concat(&alice), expected);
        assert_eq!(concat(&bob), expected);
    }

    /// vodozemac creates an outbound session to our keys; its session pickle (serialized with
    /// serde, unencrypted) holds the root and chain keys its 3DH produced.
    #[test]
    fn responder_matches_vodozemac_initiator() {
        use vodozemac::olm::{Account, SessionConfig};

        let key_bytes = |value: &serde_json::Value| -> [u8; 32] {
            serde_json::from_value(value.clone()).unwrap()
        };
        let mut rng = ChaCha20Rng::from_seed([6; 32]);
        for _ in 0..4 {
            let bob_identity = Curve25519SecretKey::generate(&mut rng);
            let bob_one_time = Curve25519SecretKey::generate(&mut rng);
            let alice = Account::new();
            let session = alice
                .create_outbound_session(
                    SessionConfig::version_1(),
                    vodozemac::Curve25519PublicKey::from_bytes(
                        bob_identity.public_key().to_bytes(),
                    ),
                    vodozemac::Curve25519PublicKey::from_bytes(
                        bob_one_time.public_key().to_bytes(),
                    ),
                )
                .unwrap();
            let keys = session.session_keys();
            let pickle = serde_json::to_value(session.pickle()).unwrap();
            let ratchet = &pickle["sending_ratchet"];
            assert_eq!(ratchet["symmetric_key_ratchet"]["index"], 0);

            let ours = respond(
                &bob_identity,
                &bob_one_time,
                &Curve25519PublicKey::from_bytes(keys.identity_key.to_bytes()),
                &Curve25519PublicKey::from_bytes(keys.base_key.to_bytes()),
            )
            .unwrap();
            assert_eq!(
                ours.root.as_bytes(),
                &key_bytes(&ratchet["active_ratchet"]["root_key"])
            );
            assert_eq!(
                ours.chain.as_bytes(),
                &key_bytes(&ratchet["symmetric_key_ratchet"]["key"])
            );
        }
    }

    #[test]
    fn small_order_keys_are_non_contributory() {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let [i_a, e_a, i_b, e_b] = keys();
        for weak in small_order_points() {
            for (their_identity, their_one_time) in
                [(weak, e_b.public_key()), (i_b.public_key(), weak)]
            {
                assert_eq!(
                    initiate(&mut rng, &i_a, &their_identity, &their_one_time).map(|_| ()),
                    Err(X3dhError::NonContributory)
                );
            }
            for (their_identity, their_base) in [(weak, e_a.public_key()), (i_a.public_key(), weak)]
            {
                assert_eq!(
                    respond(&i_b, &e_b, &their_identity, &their_base).map(|_| ()),
                    Err(X3dhError::NonContributory)
                );
            }
        }
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let [i_a, e_a, i_b, e_b] = keys();
        let secrets = initiate_inner(&e_a, &i_a, &i_b.public_key(), &e_b.public_key()).unwrap();
        assert_eq!(format!("{secrets:?}"), "OlmSharedSecrets { .. }");
        assert_eq!(
            format!("{:?}", secrets.chain),
            "SecretBytes<32>([redacted])"
        );
    }
}

//! X3DH exactly as Signal specifies it (`specs/signal.md` §1), instantiated for the native profile.
//!
//! Choices the specification leaves to the application:
//! - curve X25519, hash SHA-256, info [`NATIVE_X3DH_INFO`];
//! - `Sig(IK_B, Encode(SPK_B))` is an Ed25519 signature by the responder's Ed25519 identity key (no
//!   XEdDSA), so the Curve25519 identity key is tied to that Ed25519 key by a second signature, the
//!   *identity binding*. Each signature covers a distinct context string followed by the raw 32 key
//!   bytes: [`IDENTITY_BINDING_CONTEXT`] `‖ IK_B` and [`SIGNED_PREKEY_CONTEXT`] `‖ SPK_B`;
//! - the KDF asks HKDF for 96 bytes instead of 32. Bytes 0..32 are the specification's `SK` (an HKDF
//!   output's prefix does not depend on the length asked for); the next 64 are the header-encryption
//!   variant's `shared_hka` and `shared_nhkb` (Double Ratchet §4);
//! - `AD = IK_A ‖ Ed25519_A ‖ IK_B ‖ Ed25519_B` (128 bytes), the initiator's keys first on both sides.
//!
//! The initiator verifies both signatures before computing anything else; a bundle that fails gives
//! [`X3dhError::InvalidSignature`] however broken its keys are.

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{dh, expand, secret};
use crate::error::X3dhError;
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey, KEY_LEN};
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};
use crate::primitives::secret::SecretBytes;

/// The context that precedes `IK_B` in the signature binding a Curve25519 identity key to an Ed25519
/// identity key.
pub const IDENTITY_BINDING_CONTEXT: &[u8] = b"safemeet native v1 identity binding";

/// The context that precedes `SPK_B` in a signed-prekey signature.
pub const SIGNED_PREKEY_CONTEXT: &[u8] = b"safemeet native v1 signed prekey";

/// The HKDF `info` of the native profile's X3DH.
pub const NATIVE_X3DH_INFO: &[u8] = b"safemeet native v1 X3DH";

/// The length of the associated data, in bytes: four 32-byte public keys.
pub const AD_LEN: usize = 128;

/// X3DH's `F`: 32 bytes of `0xFF` before the DH outputs, so that no IKM can be an XEdDSA hash input.
const F: [u8; KEY_LEN] = [0xFF; KEY_LEN];

/// HKDF's salt: as many zero bytes as SHA-256's output.
const SALT: [u8; 32] = [0; 32];

const IDENTITY_BINDING_LEN: usize = IDENTITY_BINDING_CONTEXT.len() + KEY_LEN;
const SIGNED_PREKEY_LEN: usize = SIGNED_PREKEY_CONTEXT.len() + KEY_LEN;

/// The responder's public keys as a prekey bundle carries them. Prekey ids are the session layer's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PreKeyBundleKeys {
    /// `IK_B`, the responder's Curve25519 identity key.
    pub identity: Curve25519PublicKey,
    /// The responder's Ed25519 identity key, which signs the other keys.
    pub signing_key: Ed25519PublicKey,
    /// `signing_key`'s signature over [`IDENTITY_BINDING_CONTEXT`] `‖ identity`
    /// (see [`sign_identity_binding`]).
    pub identity_signature: Ed25519Signature,
    /// `SPK_B`, the responder's current signed prekey.
    pub signed_prekey: Curve25519PublicKey,
    /// `signing_key`'s signature over [`SIGNED_PREKEY_CONTEXT`] `‖ signed_prekey` (see [`sign_prekey`]).
    pub signed_prekey_signature: Ed25519Signature,
    /// `OPK_B`, a one-time prekey, when the server still had one.
    pub one_time_prekey: Option<Curve25519PublicKey>,
}

impl PreKeyBundleKeys {
    /// Checks the identity binding, then the signed-prekey signature. Any failure is
    /// [`X3dhError::InvalidSignature`]. [`initiate`] calls this before anything else.
    pub fn verify(&self) -> Result<(), X3dhError> {
        verify_identity_binding(&self.signing_key, &self.identity, &self.identity_signature)?;
        verify_prekey(
            &self.signing_key,
            &self.signed_prekey,
            &self.signed_prekey_signature,
        )
    }
}

/// The initiator's public keys as the responder learns them from the first message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InitiatorKeys {
    /// `IK_A`, the initiator's Curve25519 identity key.
    pub identity: Curve25519PublicKey,
    /// The initiator's Ed25519 identity key (it enters the associated data).
    pub signing_key: Ed25519PublicKey,
    /// `EK_A`, the initiator's ephemeral key for this run.
    pub ephemeral: Curve25519PublicKey,
}

/// The secrets one X3DH run yields. Zeroized on drop; `Debug` shows nothing of them.
pub struct X3dhSecrets {
    /// `SK`: the Double Ratchet's first root key.
    pub root: SecretBytes<32>,
    /// `shared_hka`: the initiator's first sending header key and the responder's first next-receiving
    /// header key.
    pub header_key_a: SecretBytes<32>,
    /// `shared_nhkb`: the initiator's first next-receiving header key and the responder's first
    /// next-sending header key.
    pub next_header_key_b: SecretBytes<32>,
}

impl fmt::Debug for X3dhSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X3dhSecrets").finish_non_exhaustive()
    }
}

/// Signs the binding of the Curve25519 identity key `identity` to the Ed25519 key `signing_key`:
/// an Ed25519 signature over [`IDENTITY_BINDING_CONTEXT`] `‖ identity`.
pub fn sign_identity_binding(
    signing_key: &Ed25519SecretKey,
    identity: &Curve25519PublicKey,
) -> Ed25519Signature {
    signing_key.sign(&tagged::<IDENTITY_BINDING_LEN>(
        IDENTITY_BINDING_CONTEXT,
        identity,
    ))
}

/// Verifies a signature made by [`sign_identity_binding`]. Failure is
/// [`X3dhError::InvalidSignature`].
pub fn verify_identity_binding(
    signing_key: &Ed25519PublicKey,
    identity: &Curve25519PublicKey,
    signature: &Ed25519Signature,
) -> Result<(), X3dhError> {
    signing_key
        .verify(
            &tagged::<IDENTITY_BINDING_LEN>(IDENTITY_BINDING_CONTEXT, identity),
            signature,
        )
        .map_err(|_| X3dhError::InvalidSignature)
}

/// Signs a signed prekey: an Ed25519 signature over [`SIGNED_PREKEY_CONTEXT`] `‖ signed_prekey`.
pub fn sign_prekey(
    signing_key: &Ed25519SecretKey,
    signed_prekey: &Curve25519PublicKey,
) -> Ed25519Signature {
    signing_key.sign(&tagged::<SIGNED_PREKEY_LEN>(
        SIGNED_PREKEY_CONTEXT,
        signed_prekey,
    ))
}

/// Verifies a signature made by [`sign_prekey`]. Failure is [`X3dhError::InvalidSignature`].
pub fn verify_prekey(
    signing_key: &Ed25519PublicKey,
    signed_prekey: &Curve25519PublicKey,
    signature: &Ed25519Signature,
) -> Result<(), X3dhError> {
    signing_key
        .verify(
            &tagged::<SIGNED_PREKEY_LEN>(SIGNED_PREKEY_CONTEXT, signed_prekey),
            signature,
        )
        .map_err(|_| X3dhError::InvalidSignature)
}

/// The initiator's side (Alice): verifies `bundle`'s signatures, generates the ephemeral key `EK_A`,
/// and computes `DH(IK_A, SPK_B) ‖ DH(EK_A, IK_B) ‖ DH(EK_A, SPK_B) [‖ DH(EK_A, OPK_B)]`.
///
/// `identity` is `IK_A` and `signing_key` Alice's Ed25519 identity key (for the associated data).
/// Returns the secrets, `EK_A` (the ephemeral secret is zeroized before this returns) and the
/// associated data. Fails with [`X3dhError::InvalidSignature`] before any exchange if a signature is
/// bad, and with [`X3dhError::NonContributory`] if one of Bob's keys has small order.
pub fn initiate<R: CryptoRng + ?Sized>(
    rng: &mut R,
    identity: &Curve25519SecretKey,
    signing_key: &Ed25519PublicKey,
    bundle: &PreKeyBundleKeys,
) -> Result<(X3dhSecrets, Curve25519PublicKey, [u8; AD_LEN]), X3dhError> {
    bundle.verify()?;
    let ephemeral = Curve25519SecretKey::generate(rng);
    let (secrets, ad) = initiate_verified(&ephemeral, identity, signing_key, bundle)?;
    Ok((secrets, ephemeral.public_key(), ad))
}

/// [`initiate`] with the ephemeral secret `EK_A` given by the caller, for known-answer tests. Never
/// reuse an ephemeral key: two runs with the same `EK_A` and no one-time prekey agree on the same
/// secrets.
#[cfg(feature = "hazmat")]
pub fn initiate_with_ephemeral(
    ephemeral: &Curve25519SecretKey,
    identity: &Curve25519SecretKey,
    signing_key: &Ed25519PublicKey,
    bundle: &PreKeyBundleKeys,
) -> Result<(X3dhSecrets, [u8; AD_LEN]), X3dhError> {
    bundle.verify()?;
    initiate_verified(ephemeral, identity, signing_key, bundle)
}

/// The responder's side (Bob), on the initiator's first message: computes
/// `DH(SPK_B, IK_A) ‖ DH(IK_B, EK_A) ‖ DH(SPK_B, EK_A) [‖ DH(OPK_B, EK_A)]`.
///
/// `identity` is `IK_B`, `signing_key` Bob's own Ed25519 identity key (for the associated data),
/// `signed_prekey` the `SPK_B` the message names and `one_time_prekey` the `OPK_B` it names, if any.
/// The one-time prekey is only borrowed: delete it once the first message has authenticated.
/// Fails with [`X3dhError::NonContributory`] if one of Alice's keys has small order.
pub fn respond(
    identity: &Curve25519SecretKey,
    signing_key: &Ed25519PublicKey,
    signed_prekey: &Curve25519SecretKey,
    one_time_prekey: Option<&Curve25519SecretKey>,
    initiator: &InitiatorKeys,
) -> Result<(X3dhSecrets, [u8; AD_LEN]), X3dhError> {
    let mut ikm = Zeroizing::new([[0u8; KEY_LEN]; 5]);
    let [f, dh1, dh2, dh3, dh4] = &mut *ikm;
    *f = F;
    dh(signed_prekey, &initiator.identity, dh1)?;
    dh(identity, &initiator.ephemeral, dh2)?;
    dh(signed_prekey, &initiator.ephemeral, dh3)?;
    let with_opk = match one_time_prekey {
        Some(opk) => {
            dh(opk, &initiator.ephemeral, dh4)?;
            true
        }
        None => false,
    };
    let secrets = kdf(&ikm, with_opk)?;
    let ad = associated_data(
        &initiator.identity,
        &initiator.signing_key,
        &identity.public_key(),
        signing_key,
    );
    Ok((secrets, ad))
}

/// The initiator's computation after the signatures have been checked.
fn initiate_verified(
    ephemeral: &Curve25519SecretKey,
    identity: &Curve25519SecretKey,
    signing_key: &Ed25519PublicKey,
    bundle: &PreKeyBundleKeys,
) -> Result<(X3dhSecrets, [u8; AD_LEN]), X3dhError> {
    let mut ikm = Zeroizing::new([[0u8; KEY_LEN]; 5]);
    let [f, dh1, dh2, dh3, dh4] = &mut *ikm;
    *f = F;
    dh(identity, &bundle.signed_prekey, dh1)?;
    dh(ephemeral, &bundle.identity, dh2)?;
    dh(ephemeral, &bundle.signed_prekey, dh3)?;
    let with_opk = match &bundle.one_time_prekey {
        Some(opk) => {
            dh(ephemeral, opk, dh4)?;
            true
        }
        None => false,
    };
    let secrets = kdf(&ikm, with_opk)?;
    let ad = associated_data(
        &identity.public_key(),
        signing_key,
        &bundle.identity,
        &bundle.signing_key,
    );
    Ok((secrets, ad))
}

/// HKDF-SHA-256(salt = 32 zero bytes, IKM = `F ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4]`, info, 96 bytes).
fn kdf(ikm: &[[u8; KEY_LEN]; 5], with_opk: bool) -> Result<X3dhSecrets, X3dhError> {
    let [without_opk @ .., _] = ikm;
    let ikm = if with_opk {
        ikm.as_flattened()
    } else {
        without_opk.as_flattened()
    };
    let okm = expand::<3>(&SALT, ikm, NATIVE_X3DH_INFO)?;
    let [root, header_key_a, next_header_key_b] = &*okm;
    Ok(X3dhSecrets {
        root: secret(root),
        header_key_a: secret(header_key_a),
        next_header_key_b: secret(next_header_key_b),
    })
}

/// `AD = IK_A ‖ Ed25519_A ‖ IK_B ‖ Ed25519_B`.
fn associated_data(
    initiator: &Curve25519PublicKey,
    initiator_signing: &Ed25519PublicKey,
    responder: &Curve25519PublicKey,
    responder_signing: &Ed25519PublicKey,
) -> [u8; AD_LEN] {
    let parts = [
        initiator.as_bytes(),
        initiator_signing.as_bytes(),
        responder.as_bytes(),
        responder_signing.as_bytes(),
    ];
    let mut ad = [0u8; AD_LEN];
    for (out, byte) in ad.iter_mut().zip(parts.into_iter().flatten()) {
        *out = *byte;
    }
    ad
}

/// `context ‖ key`, the message a bundle signature covers. `N` is `context.len() + 32`.
fn tagged<const N: usize>(context: &[u8], key: &Curve25519PublicKey) -> [u8; N] {
    let mut message = [0u8; N];
    for (out, byte) in message.iter_mut().zip(context.iter().chain(key.as_bytes())) {
        *out = *byte;
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::hkdf::hkdf_sha256;
    use crate::x3dh::test_support::{hex, small_order_points};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use std::format;

    /// Fixed keys: every secret is one repeated byte, so the vectors below can be recomputed anywhere.
    struct Fixture {
        alice_ed: Ed25519SecretKey,
        alice_ik: Curve25519SecretKey,
        alice_ek: Curve25519SecretKey,
        bob_ed: Ed25519SecretKey,
        bob_ik: Curve25519SecretKey,
        bob_spk: Curve25519SecretKey,
        bob_opk: Curve25519SecretKey,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                alice_ed: Ed25519SecretKey::from_seed(&[0xAE; 32]),
                alice_ik: Curve25519SecretKey::from_bytes(&[0xA1; 32]),
                alice_ek: Curve25519SecretKey::from_bytes(&[0xA2; 32]),
                bob_ed: Ed25519SecretKey::from_seed(&[0xBE; 32]),
                bob_ik: Curve25519SecretKey::from_bytes(&[0xB1; 32]),
                bob_spk: Curve25519SecretKey::from_bytes(&[0xB2; 32]),
                bob_opk: Curve25519SecretKey::from_bytes(&[0xB3; 32]),
            }
        }

        fn bundle(&self, with_opk: bool) -> PreKeyBundleKeys {
            signed_bundle(
                &self.bob_ed,
                self.bob_ik.public_key(),
                self.bob_spk.public_key(),
                with_opk.then(|| self.bob_opk.public_key()),
            )
        }

        fn initiator_keys(&self) -> InitiatorKeys {
            InitiatorKeys {
                identity: self.alice_ik.public_key(),
                signing_key: self.alice_ed.public_key(),
                ephemeral: self.alice_ek.public_key(),
            }
        }

        fn initiate(&self, with_opk: bool) -> Result<(X3dhSecrets, [u8; AD_LEN]), X3dhError> {
            let bundle = self.bundle(with_opk);
            bundle.verify()?;
            initiate_verified(
                &self.alice_ek,
                &self.alice_ik,
                &self.alice_ed.public_key(),
                &bundle,
            )
        }

        fn respond(&self, with_opk: bool) -> Result<(X3dhSecrets, [u8; AD_LEN]), X3dhError> {
            respond(
                &self.bob_ik,
                &self.bob_ed.public_key(),
                &self.bob_spk,
                with_opk.then_some(&self.bob_opk),
                &self.initiator_keys(),
            )
        }
    }

    fn signed_bundle(
        ed: &Ed25519SecretKey,
        identity: Curve25519PublicKey,
        signed_prekey: Curve25519PublicKey,
        one_time_prekey: Option<Curve25519PublicKey>,
    ) -> PreKeyBundleKeys {
        PreKeyBundleKeys {
            identity,
            signing_key: ed.public_key(),
            identity_signature: sign_identity_binding(ed, &identity),
            signed_prekey,
            signed_prekey_signature: sign_prekey(ed, &signed_prekey),
            one_time_prekey,
        }
    }

    fn flip(sig: &Ed25519Signature) -> Ed25519Signature {
        let mut bytes = sig.to_bytes();
        bytes[0] ^= 1;
        Ed25519Signature::from_bytes(bytes)
    }

    fn concat(secrets: &X3dhSecrets) -> [u8; 96] {
        let mut out = [0u8; 96];
        out[..32].copy_from_slice(secrets.root.as_bytes());
        out[32..64].copy_from_slice(secrets.header_key_a.as_bytes());
        out[64..].copy_from_slice(secrets.next_header_key_b.as_bytes());
        out
    }

    fn assert_same(a: &(X3dhSecrets, [u8; AD_LEN]), b: &(X3dhSecrets, [u8; AD_LEN])) {
        assert_eq!(a.0.root, b.0.root);
        assert_eq!(a.0.header_key_a, b.0.header_key_a);
        assert_eq!(a.0.next_header_key_b, b.0.next_header_key_b);
        assert_eq!(a.1, b.1);
    }

    #[test]
    fn both_sides_agree_without_one_time_prekey() {
        let fx = Fixture::new();
        assert_same(&fx.initiate(false).unwrap(), &fx.respond(false).unwrap());
    }

    #[test]
    fn both_sides_agree_with_one_time_prekey() {
        let fx = Fixture::new();
        assert_same(&fx.initiate(true).unwrap(), &fx.respond(true).unwrap());
    }

    #[test]
    fn one_time_prekey_changes_every_secret_but_not_the_ad() {
        let fx = Fixture::new();
        let (without, ad_without) = fx.initiate(false).unwrap();
        let (with, ad_with) = fx.initiate(true).unwrap();
        assert_ne!(without.root, with.root);
        assert_ne!(without.header_key_a, with.header_key_a);
        assert_ne!(without.next_header_key_b, with.next_header_key_b);
        assert_eq!(ad_without, ad_with);
        // A responder who uses the OPK when the initiator did not (or the reverse) disagrees.
        assert_ne!(fx.respond(true).unwrap().0.root, without.root);
    }

    #[test]
    fn the_three_secrets_are_distinct() {
        let (s, _) = Fixture::new().initiate(true).unwrap();
        assert_ne!(s.root, s.header_key_a);
        assert_ne!(s.root, s.next_header_key_b);
        assert_ne!(s.header_key_a, s.next_header_key_b);
    }

    #[test]
    fn initiate_uses_a_fresh_ephemeral_from_the_rng() {
        let fx = Fixture::new();
        let bundle = fx.bundle(true);
        let mut rng = ChaCha20Rng::from_seed([9; 32]);
        let (a, ek, ad) =
            initiate(&mut rng, &fx.alice_ik, &fx.alice_ed.public_key(), &bundle).unwrap();
        // The ephemeral key is the first 32 bytes the RNG yields.
        let replay = Curve25519SecretKey::generate(&mut ChaCha20Rng::from_seed([9; 32]));
        assert_eq!(replay.public_key(), ek);
        let (b, ad_b) = respond(
            &fx.bob_ik,
            &fx.bob_ed.public_key(),
            &fx.bob_spk,
            Some(&fx.bob_opk),
            &InitiatorKeys {
                ephemeral: ek,
                ..fx.initiator_keys()
            },
        )
        .unwrap();
        assert_same(&(a, ad), &(b, ad_b));
        // A second run draws a new ephemeral key and so new secrets.
        let (again, ek2, _) =
            initiate(&mut rng, &fx.alice_ik, &fx.alice_ed.public_key(), &bundle).unwrap();
        assert_ne!(ek, ek2);
        assert_ne!(again.root, fx.initiate(true).unwrap().0.root);
    }

    #[test]
    fn known_answer_matches_manual_hkdf() {
        let fx = Fixture::new();
        let dh = |a: &Curve25519SecretKey, b: &Curve25519SecretKey| {
            *a.diffie_hellman(&b.public_key()).unwrap().as_bytes()
        };
        let mut ikm = [0u8; 160];
        ikm[..32].fill(0xFF);
        ikm[32..64].copy_from_slice(&dh(&fx.alice_ik, &fx.bob_spk));
        ikm[64..96].copy_from_slice(&dh(&fx.alice_ek, &fx.bob_ik));
        ikm[96..128].copy_from_slice(&dh(&fx.alice_ek, &fx.bob_spk));
        ikm[128..].copy_from_slice(&dh(&fx.alice_ek, &fx.bob_opk));
        for (with_opk, len) in [(false, 128), (true, 160)] {
            let mut expected = [0u8; 96];
            hkdf_sha256(
                &[0; 32],
                &ikm[..len],
                b"safemeet native v1 X3DH",
                &mut expected,
            )
            .unwrap();
            assert_eq!(concat(&fx.initiate(with_opk).unwrap().0), expected);
            assert_eq!(concat(&fx.respond(with_opk).unwrap().0), expected);
            // SK is the first 32 bytes of a 32-byte HKDF, exactly as the X3DH specification asks.
            let mut sk = [0u8; 32];
            hkdf_sha256(&[0; 32], &ikm[..len], NATIVE_X3DH_INFO, &mut sk).unwrap();
            assert_eq!(fx.initiate(with_opk).unwrap().0.root.as_bytes(), &sk);
        }
    }

    /// Computed independently with Python `cryptography` 48.0.0 (OpenSSL X25519, Ed25519 and HKDF)
    /// from the fixture's one-byte-pattern keys.
    #[test]
    fn known_answer_matches_independent_implementation() {
        let fx = Fixture::new();
        let no_opk: [u8; 96] = hex(concat!(
            "c883eabd497749064084a7393f36dff927b3585914d7213e155cdf77b149cc92",
            "87065860cddf5df5faec2b4e72228767e7b6fb6f8dbd910644d6a16e2d62d9f2",
            "ea98b1b8f71d3ed82e48a031531ef8194bd75f173c454ca94ca0e09f58dd6a23",
        ));
        let opk: [u8; 96] = hex(concat!(
            "2ad21a7c3574527f6b09cf776283c1ea14b4b690bcfd57d214349281ddbb4500",
            "db59054caf9f676f4f56e07d38e1501de5b29ad1282b7f39db8b54aede18b876",
            "58fbd2b333a6a136938c6fb70ab53f42c5b40696aa4b1f09bc9b8d07f8fa5b95",
        ));
        let ad: [u8; AD_LEN] = hex(concat!(
            "c306fb0ef2bf8b7f93bad98155fa37daec74db0c4cbeda6c6f1dba9d36558252",
            "650b7dca553cae692dbac3039e7586f0df44e845cf2baa6787d6eff74425cb14",
            "d3337e4d4ee503a66976feb1fadf5bd21ba96fc2b1571b3e980d87cf49797510",
            "953a13f9ce9ea62b68cf4676de7851d49ce1cb55642d4f425eb271d471e3b034",
        ));
        let binding: [u8; 64] = hex(concat!(
            "f62e1aeb52211f9aeb1908846152c353e4ec499f08fa5c99aebb961bcefceb82",
            "146ce2979b32efd6c0236e87cced5aa5410a9200707e2b0306e3528aedd77c0e",
        ));
        let spk_sig: [u8; 64] = hex(concat!(
            "0e7df68e723946dd8d1dba9199cb287aec0e8c9fef0568c32da29893cd3370f3",
            "e71fa5ed197db611a7c920bd880b26b8d351a936613201c8b83fd8fe68c3900e",
        ));
        let ek: [u8; 32] = hex("3c5c6ce2dd99e10d2c3de05d773aa15e3e6d971ed4e41389c93b4bbdda177212");

        assert_eq!(fx.alice_ek.public_key().to_bytes(), ek);
        let bundle = fx.bundle(true);
        assert_eq!(bundle.identity_signature.to_bytes(), binding);
        assert_eq!(bundle.signed_prekey_signature.to_bytes(), spk_sig);
        for (with_opk, expected) in [(false, no_opk), (true, opk)] {
            let (secrets, a) = fx.initiate(with_opk).unwrap();
            assert_eq!(concat(&secrets), expected);
            assert_eq!(a, ad);
            let (secrets, a) = fx.respond(with_opk).unwrap();
            assert_eq!(concat(&secrets), expected);
            assert_eq!(a, ad);
        }
    }

    #[test]
    fn associated_data_puts_the_initiator_first() {
        let fx = Fixture::new();
        let (_, ad) = fx.respond(false).unwrap();
        assert_eq!(&ad[..32], fx.alice_ik.public_key().as_bytes());
        assert_eq!(&ad[32..64], fx.alice_ed.public_key().as_bytes());
        assert_eq!(&ad[64..96], fx.bob_ik.public_key().as_bytes());
        assert_eq!(&ad[96..], fx.bob_ed.public_key().as_bytes());
    }

    #[test]
    fn bad_identity_binding_fails_before_any_dh() {
        let fx = Fixture::new();
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        for weak in small_order_points() {
            // Every Curve25519 key in the bundle is weak, so any DH would fail as non-contributory.
            let mut bundle = signed_bundle(&fx.bob_ed, weak, weak, Some(weak));
            bundle.identity_signature = flip(&bundle.identity_signature);
            let alice_ed = fx.alice_ed.public_key();
            assert_eq!(
                initiate(&mut rng, &fx.alice_ik, &alice_ed, &bundle).map(|_| ()),
                Err(X3dhError::InvalidSignature)
            );
            assert_eq!(bundle.verify(), Err(X3dhError::InvalidSignature));
        }
    }

    #[test]
    fn bad_prekey_signature_fails_before_any_dh() {
        let fx = Fixture::new();
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        for weak in small_order_points() {
            let mut bundle = signed_bundle(&fx.bob_ed, fx.bob_ik.public_key(), weak, None);
            bundle.signed_prekey_signature = flip(&bundle.signed_prekey_signature);
            let alice_ed = fx.alice_ed.public_key();
            assert_eq!(
                initiate(&mut rng, &fx.alice_ik, &alice_ed, &bundle).map(|_| ()),
                Err(X3dhError::InvalidSignature)
            );
        }
    }

    #[test]
    fn signatures_are_bound_to_key_signer_and_context() {
        let fx = Fixture::new();
        let good = fx.bundle(false);
        assert_eq!(good.verify(), Ok(()));
        let ik = fx.bob_ik.public_key();
        let spk = fx.bob_spk.public_key();
        let bob = fx.bob_ed.public_key();

        // The two contexts keep one kind of signature from passing as the other.
        let prekey_sig_over_ik = sign_prekey(&fx.bob_ed, &ik);
        assert_eq!(
            verify_identity_binding(&bob, &ik, &prekey_sig_over_ik),
            Err(X3dhError::InvalidSignature)
        );
        let binding_over_spk = sign_identity_binding(&fx.bob_ed, &spk);
        assert_eq!(
            verify_prekey(&bob, &spk, &binding_over_spk),
            Err(X3dhError::InvalidSignature)
        );
        // Swapped keys, another signer, and a signature over another key all fail.
        let swapped = PreKeyBundleKeys {
            identity: spk,
            signed_prekey: ik,
            ..good
        };
        assert_eq!(swapped.verify(), Err(X3dhError::InvalidSignature));
        let other_signer = PreKeyBundleKeys {
            signing_key: fx.alice_ed.public_key(),
            ..good
        };
        assert_eq!(other_signer.verify(), Err(X3dhError::InvalidSignature));
        let substituted_spk = PreKeyBundleKeys {
            signed_prekey: fx.bob_opk.public_key(),
            ..good
        };
        assert_eq!(substituted_spk.verify(), Err(X3dhError::InvalidSignature));
        // The signed message is exactly context || key.
        let mut message = [0u8; IDENTITY_BINDING_LEN];
        message[..IDENTITY_BINDING_CONTEXT.len()].copy_from_slice(IDENTITY_BINDING_CONTEXT);
        message[IDENTITY_BINDING_CONTEXT.len()..].copy_from_slice(ik.as_bytes());
        assert_eq!(bob.verify(&message, &good.identity_signature), Ok(()));
    }

    #[test]
    fn small_order_keys_are_non_contributory() {
        let fx = Fixture::new();
        let mut rng = ChaCha20Rng::from_seed([4; 32]);
        let alice_ed = fx.alice_ed.public_key();
        let ik = fx.bob_ik.public_key();
        let spk = fx.bob_spk.public_key();
        let opk = fx.bob_opk.public_key();
        for weak in small_order_points() {
            // Initiator: a correctly signed bundle with one weak key.
            for bundle in [
                signed_bundle(&fx.bob_ed, weak, spk, Some(opk)),
                signed_bundle(&fx.bob_ed, ik, weak, Some(opk)),
                signed_bundle(&fx.bob_ed, ik, spk, Some(weak)),
            ] {
                assert_eq!(bundle.verify(), Ok(()));
                assert_eq!(
                    initiate(&mut rng, &fx.alice_ik, &alice_ed, &bundle).map(|_| ()),
                    Err(X3dhError::NonContributory)
                );
            }
            // Responder: a weak identity or ephemeral key from the initiator.
            for initiator in [
                InitiatorKeys {
                    identity: weak,
                    ..fx.initiator_keys()
                },
                InitiatorKeys {
                    ephemeral: weak,
                    ..fx.initiator_keys()
                },
            ] {
                for opk in [None, Some(&fx.bob_opk)] {
                    assert_eq!(
                        respond(
                            &fx.bob_ik,
                            &fx.bob_ed.public_key(),
                            &fx.bob_spk,
                            opk,
                            &initiator
                        )
                        .map(|_| ()),
                        Err(X3dhError::NonContributory)
                    );
                }
            }
        }
    }

    #[test]
    fn debug_output_hides_the_secrets() {
        let fx = Fixture::new();
        let (secrets, _) = fx.initiate(true).unwrap();
        let text = format!("{secrets:?}");
        assert_eq!(text, "X3dhSecrets { .. }");
        assert_eq!(format!("{:?}", secrets.root), "SecretBytes<32>([redacted])");
        // The bundle is public and prints its keys.
        assert!(format!("{:?}", fx.bundle(true)).contains("PreKeyBundleKeys"));
    }

    #[test]
    fn errors_convert_into_the_root_error() {
        let e: crate::Error = X3dhError::InvalidSignature.into();
        assert_eq!(e, crate::Error::X3dh(X3dhError::InvalidSignature));
        assert_eq!(format!("{e}"), "x3dh: invalid prekey bundle signature");
    }
}

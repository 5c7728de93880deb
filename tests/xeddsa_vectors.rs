//! XEdDSA known answers (`test-vectors/xeddsa.json`): libsignal-protocol-c's two deterministic
//! signatures, one per form, and libsignal's verification vector, whose key has a negative Edwards
//! point, so only a verifier that reads libsignal's sign bit accepts it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{arr, hex};
use safemeet::CryptoError;
use safemeet::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use safemeet::primitives::xeddsa::{self, Form, XEdDsaSignature};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    sign: Vec<SignCase>,
    verify: Vec<VerifyCase>,
}

#[derive(Deserialize)]
struct SignCase {
    source: String,
    form: String,
    private_key: String,
    message: String,
    random: String,
    signature: String,
}

#[derive(Deserialize)]
struct VerifyCase {
    source: String,
    private_key: String,
    public_key: String,
    message: String,
    signature: String,
}

fn vectors() -> File {
    let text = include_str!("../test-vectors/xeddsa.json");
    serde_json::from_str(text).unwrap()
}

#[test]
fn deterministic_signatures_reproduce() {
    let file = vectors();
    assert_eq!(file.sign.len(), 2);
    for case in &file.sign {
        let key = Curve25519SecretKey::from_bytes(&arr(&case.private_key));
        let form = match case.form.as_str() {
            "libsignal" => Form::Libsignal,
            "spec" => Form::Spec,
            other => panic!("unknown form {other}"),
        };
        let message = hex(&case.message);
        let signature = xeddsa::sign_with_random(&key, &message, &arr(&case.random), form);
        assert_eq!(
            signature.as_bytes().as_slice(),
            hex(&case.signature),
            "{}",
            case.source
        );
        xeddsa::verify(&key.public_key(), &message, &signature).unwrap();

        // The source's own negative checks: a flipped first byte, and an all-0xFF key.
        let mut flipped = signature.to_bytes();
        flipped[0] ^= 1;
        let flipped = XEdDsaSignature::from_bytes(flipped);
        assert!(xeddsa::verify(&key.public_key(), &message, &flipped).is_err());
        let ff = Curve25519PublicKey::from_bytes([0xFF; 32]);
        assert!(xeddsa::verify(&ff, &message, &signature).is_err());
    }
}

#[test]
fn libsignal_signature_verifies_and_every_byte_flip_fails() {
    let file = vectors();
    assert_eq!(file.verify.len(), 1);
    for case in &file.verify {
        let key = Curve25519SecretKey::from_bytes(&arr(&case.private_key));
        let public = Curve25519PublicKey::from_bytes(arr(&case.public_key));
        assert_eq!(key.public_key(), public, "{}", case.source);
        let message = hex(&case.message);
        let signature = XEdDsaSignature::from_slice(&hex(&case.signature)).unwrap();
        assert_eq!(
            signature.as_bytes()[63] >> 7,
            1,
            "the vector's key is negative"
        );
        xeddsa::verify(&public, &message, &signature).unwrap();

        for i in 0..64 {
            let mut bytes = signature.to_bytes();
            bytes[i] ^= 0x01;
            assert_eq!(
                xeddsa::verify(&public, &message, &XEdDsaSignature::from_bytes(bytes)),
                Err(CryptoError::InvalidSignature),
                "byte {i}"
            );
        }

        // What the paper's strict verifier would see: the sign bit cleared. It must fail, which is why
        // the verifier reads the bit.
        let mut cleared = signature.to_bytes();
        cleared[63] &= 0x7F;
        assert!(xeddsa::verify(&public, &message, &XEdDsaSignature::from_bytes(cleared)).is_err());

        // Our own signature for the same key and message, in both forms, verifies too.
        let mut rng_bytes = [0u8; 64];
        rng_bytes[0] = 1;
        for form in [Form::Libsignal, Form::Spec] {
            let ours = xeddsa::sign_with_random(&key, &message, &rng_bytes, form);
            xeddsa::verify(&public, &message, &ours).unwrap();
        }
    }
}

//! Secrets never show up in `Debug` output or error text, and public values print as hex.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rand_core::SeedableRng;
use safemeet::primitives::curve25519::{Curve25519SecretKey, EphemeralSecret};
use safemeet::primitives::ed25519::Ed25519SecretKey;
use safemeet::primitives::hkdf::Hkdf;
use safemeet::primitives::hmac::HmacSha256;
use safemeet::primitives::secret::SecretBytes;
use safemeet::{CodecError, CryptoError, Error};

/// Forms in which a secret's bytes could leak into text: lowercase and uppercase hex, and the decimal
/// list a derived `Debug` of a byte array would print.
fn leak_patterns(secret: &[u8]) -> Vec<String> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let decimal = format!("{:?}", &secret[..4]);
    vec![
        hex[..16].to_owned(),
        hex[..16].to_uppercase(),
        decimal.trim_end_matches(']').to_owned(),
    ]
}

fn assert_no_leak(text: &str, secret: &[u8]) {
    for pattern in leak_patterns(secret) {
        assert!(
            !text.contains(&pattern),
            "{text:?} contains secret bytes ({pattern})"
        );
    }
}

#[test]
fn secret_types_redact_their_bytes() {
    let seed: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));

    let x = Curve25519SecretKey::from_bytes(&seed);
    assert_no_leak(&format!("{x:?}"), &seed);
    assert_no_leak(&format!("{x:#?}"), &seed);

    let e = Ed25519SecretKey::from_seed(&seed);
    assert_no_leak(&format!("{e:?}"), &seed);

    let shared = x.diffie_hellman(&x.public_key()).unwrap();
    assert_no_leak(&format!("{shared:?}"), shared.as_bytes());

    let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
    let eph = EphemeralSecret::generate(&mut rng);
    assert!(format!("{eph:?}").starts_with("EphemeralSecret { public_key:"));

    let s = SecretBytes::from_bytes(seed);
    assert_no_leak(&format!("{s:?}"), &seed);

    let mac = HmacSha256::new(&seed);
    assert_no_leak(&format!("{mac:?}"), &seed);
    let kdf = Hkdf::new(&[], &seed);
    assert_no_leak(&format!("{kdf:?}"), &seed);
}

#[test]
fn public_keys_print_as_hex() {
    let x = Curve25519SecretKey::from_bytes(&[1; 32]).public_key();
    let hex: String = x.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(format!("{x:?}"), format!("Curve25519PublicKey({hex})"));
}

#[test]
fn error_text_is_fixed_and_carries_no_data() {
    let errors: [Error; 6] = [
        CryptoError::Authentication.into(),
        CryptoError::InvalidSignature.into(),
        CryptoError::BufferTooSmall { needed: 48 }.into(),
        CodecError::InvalidBase64.into(),
        CodecError::TrailingData.into(),
        CodecError::BufferTooSmall { needed: 7 }.into(),
    ];
    let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        [
            "crypto: authentication failed",
            "crypto: invalid signature",
            "crypto: output buffer too small: 48 bytes needed",
            "codec: invalid base64",
            "codec: trailing data after value",
            "codec: output buffer too small: 7 bytes needed",
        ]
    );
    // Errors are small `Copy` values.
    assert!(size_of::<Error>() <= 24);
}

//! Published SAS vectors (`test-vectors/sas.json`), the emoji table against the specification's
//! `sas-emoji.json`, SAS invariants (proptest), and the key-identifier confusion regression.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::VerificationError;
use safemeet::primitives::ed25519::Ed25519SecretKey;
use safemeet::verification::emoji::EMOJI;
use safemeet::verification::sas::{
    Base64_32, ExpectedKeys, MacIds, MacMethod, Party, Sas, SasBytes,
};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/test-vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[cfg(feature = "alloc")]
#[test]
fn commitment_vectors() {
    use safemeet::codec::json;
    use safemeet::primitives::curve25519::Curve25519PublicKey;
    use safemeet::verification::sas::{self, decode_base64_32};

    let v = load("sas.json");
    let cases = v["commitment"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let key = Curve25519PublicKey::from_bytes(
            decode_base64_32(case["acceptor_key"].as_str().unwrap()).unwrap(),
        );
        let start = json::parse(case["start_content"].as_str().unwrap().as_bytes()).unwrap();
        let canonical = start.to_canonical();
        let want = case["commitment"].as_str().unwrap();
        assert_eq!(
            Base64_32::encode(&sas::commitment(&key, canonical.as_bytes())).as_str(),
            want
        );
        sas::check_commitment(&key, canonical.as_bytes(), want).unwrap();
        // The non-canonical text, or another key, gives another commitment.
        assert_eq!(
            sas::check_commitment(
                &key,
                case["start_content"].as_str().unwrap().as_bytes(),
                want
            ),
            Err(VerificationError::MismatchedCommitment)
        );
        let other = Curve25519PublicKey::from_bytes([9; 32]);
        assert_eq!(
            sas::check_commitment(&other, canonical.as_bytes(), want),
            Err(VerificationError::MismatchedCommitment)
        );
    }
}

#[test]
fn sas_bytes_vectors() {
    let v = load("sas.json");
    let cases = v["sas_bytes"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let bytes: [u8; 6] = common::arr(case["bytes"].as_str().unwrap());
        let sas = SasBytes::from_bytes(bytes);
        let indices: Vec<u8> = case["emoji_indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(sas.emoji_indices().to_vec(), indices);
        let d = case["decimals"].as_array().unwrap();
        let d: Vec<u16> = d.iter().map(|n| n.as_u64().unwrap() as u16).collect();
        assert_eq!(sas.decimals(), (d[0], d[1], d[2]));
    }
}

#[test]
fn emoji_table_matches_the_specification() {
    let v = load("sas-emoji.json");
    let entries = v["emoji"].as_array().unwrap();
    assert_eq!(entries.len(), 64);
    assert_eq!(EMOJI.len(), 64);
    for (entry, ours) in entries.iter().zip(EMOJI.iter()) {
        assert_eq!(u64::from(ours.index), entry["number"].as_u64().unwrap());
        assert_eq!(
            ours.symbol,
            entry["emoji"].as_str().unwrap(),
            "{}",
            ours.name
        );
        assert_eq!(ours.name, entry["description"].as_str().unwrap());
        // "U+2601U+FE0F" lists the code points of the symbol (without separators in the spec file).
        let cps: Vec<String> = ours
            .symbol
            .chars()
            .map(|c| format!("U+{:04X}", c as u32))
            .collect();
        assert_eq!(cps.concat(), entry["unicode"].as_str().unwrap());
    }
}

proptest! {
    #[test]
    fn emoji_indices_below_64_and_decimals_in_range(bytes in prop::array::uniform6(any::<u8>())) {
        let sas = SasBytes::from_bytes(bytes);
        for (i, e) in sas.emoji_indices().iter().zip(sas.emoji()) {
            prop_assert!(*i < 64);
            prop_assert_eq!(*i, e.index);
        }
        let (a, b, c) = sas.decimals();
        for n in [a, b, c] {
            prop_assert!((1000..=9191).contains(&n));
        }
        // The first decimal is the top 13 bits, independently recomputed.
        prop_assert_eq!(a, ((u16::from(bytes[0]) << 5) | (u16::from(bytes[1]) >> 3)) + 1000);
    }
}

/// Regression for the key-identifier confusion of Albrecht, Celi, Dowling and Jones ("Practically-
/// exploitable Cryptographic Vulnerabilities in Matrix", IEEE S&P 2023): a malicious server creates a
/// device whose *device id* is the base64 of a cross-signing key, so that the key id
/// `ed25519:<that base64>` names both a device key and a master key. A verifier that resolves key ids
/// loosely can be made to mark the attacker's key as the victim's master key. Our verifier must refuse
/// the ambiguous key id outright, and must never report a device key as a master key.
#[test]
fn device_id_equal_to_master_key_id_is_refused() {
    let mut rng = ChaCha20Rng::from_seed([0x51; 32]);
    let bob_master = Ed25519SecretKey::generate(&mut rng).public_key();
    let attacker_device_key = Ed25519SecretKey::generate(&mut rng).public_key();
    let confusing_device_id = Base64_32::encode(bob_master.as_bytes());
    let key_id = format!("ed25519:{confusing_device_id}");

    let alice = Sas::new(&mut rng);
    let attacker = Sas::new(&mut rng);
    let (ak, mk) = (alice.public_key(), attacker.public_key());
    let alice = alice.diffie_hellman(&mk).unwrap();
    let attacker = attacker.diffie_hellman(&ak).unwrap();
    let ids = MacIds {
        sender: Party {
            user_id: "@bob:example.org",
            device_id: confusing_device_id.as_str(),
        },
        receiver: Party {
            user_id: "@alice:example.org",
            device_id: "ALICEPHONE",
        },
        transaction_id: "txn",
    };
    for method in [MacMethod::HkdfHmacSha256V2, MacMethod::HkdfHmacSha256] {
        // The attacker MACs its own device key under the confusing id: a valid MAC.
        let mac = attacker
            .mac_key(method, &ids, &key_id, &attacker_device_key)
            .unwrap();
        let keys = attacker.mac_key_ids(method, &ids, &[&key_id]).unwrap();
        let expected = ExpectedKeys {
            device: Some((confusing_device_id.as_str(), attacker_device_key)),
            master_key: Some(bob_master),
        };
        assert_eq!(
            alice.verify_macs(
                method,
                &ids,
                &[(&key_id, mac.as_str())],
                keys.as_str(),
                &expected
            ),
            Err(VerificationError::AmbiguousKeyId)
        );

        // Without the master key in play, the same MAC verifies, and only as a *device* key.
        let device_only = ExpectedKeys {
            device: Some((confusing_device_id.as_str(), attacker_device_key)),
            master_key: None,
        };
        let verified = alice
            .verify_macs(
                method,
                &ids,
                &[(&key_id, mac.as_str())],
                keys.as_str(),
                &device_only,
            )
            .unwrap();
        assert_eq!(verified.device_key(), Some(attacker_device_key));
        assert_eq!(verified.master_key(), None);

        // With only the master key expected, the attacker's MAC (over its device key) fails: the
        // verifier MACs the key it expected, never the one the id might name elsewhere.
        let master_only = ExpectedKeys {
            device: None,
            master_key: Some(bob_master),
        };
        assert_eq!(
            alice.verify_macs(
                method,
                &ids,
                &[(&key_id, mac.as_str())],
                keys.as_str(),
                &master_only
            ),
            Err(VerificationError::Authentication)
        );
    }
}

#[test]
fn key_ids_must_resolve_once_each() {
    let mut rng = ChaCha20Rng::from_seed([0x52; 32]);
    let device = Ed25519SecretKey::generate(&mut rng).public_key();
    let a = Sas::new(&mut rng);
    let b = Sas::new(&mut rng);
    let (ak, bk) = (a.public_key(), b.public_key());
    let a = a.diffie_hellman(&bk).unwrap();
    let b = b.diffie_hellman(&ak).unwrap();
    let ids = MacIds {
        sender: Party {
            user_id: "@b:x",
            device_id: "BDEV",
        },
        receiver: Party {
            user_id: "@a:x",
            device_id: "ADEV",
        },
        transaction_id: "t",
    };
    let m = MacMethod::HkdfHmacSha256V2;
    let mac = b.mac_key(m, &ids, "ed25519:BDEV", &device).unwrap();
    let expected = ExpectedKeys {
        device: Some(("BDEV", device)),
        master_key: None,
    };
    let check = |macs: &[(&str, &str)], ids_mac: &[&str]| {
        let keys = b.mac_key_ids(m, &ids, ids_mac).unwrap();
        a.verify_macs(m, &ids, macs, keys.as_str(), &expected)
    };
    assert!(check(&[("ed25519:BDEV", mac.as_str())], &["ed25519:BDEV"]).is_ok());
    assert_eq!(check(&[], &[]), Err(VerificationError::UnexpectedKeyId));
    assert_eq!(
        check(
            &[
                ("ed25519:BDEV", mac.as_str()),
                ("ed25519:BDEV", mac.as_str())
            ],
            &["ed25519:BDEV", "ed25519:BDEV"]
        ),
        Err(VerificationError::UnexpectedKeyId)
    );
    assert_eq!(
        check(&[("ed25519:OTHER", mac.as_str())], &["ed25519:OTHER"]),
        Err(VerificationError::UnexpectedKeyId)
    );
    assert_eq!(
        check(&[("curve25519:BDEV", mac.as_str())], &["curve25519:BDEV"]),
        Err(VerificationError::UnexpectedKeyId)
    );
    // The KEY_IDS MAC must cover exactly the ids present.
    assert_eq!(
        check(
            &[("ed25519:BDEV", mac.as_str())],
            &["ed25519:BDEV", "ed25519:X"]
        ),
        Err(VerificationError::Authentication)
    );
    let many: Vec<(&str, &str)> = (0..9).map(|_| ("ed25519:BDEV", mac.as_str())).collect();
    assert_eq!(
        a.verify_macs(m, &ids, &many, mac.as_str(), &expected),
        Err(VerificationError::TooManyKeys)
    );
}

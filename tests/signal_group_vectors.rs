//! Signal sender keys against `test-vectors/signal-sender-keys.json`, a recording of
//! `@signalapp/libsignal-client` 0.103.0 (no official sender-key known-answer test exists; see
//! `test-vectors/README.md`). Two independent checks:
//!
//! - through the API: the distribution messages decode and re-encode byte for byte, a record decrypts
//!   every message in the recorded (out-of-order) delivery order, and every case libsignal refused is
//!   refused here, with the error we document;
//! - from first principles, with HMAC-SHA-256, HKDF-SHA-256, AES-256-CBC and XEdDSA alone (no
//!   `signal::group` code): the chain key walked to each iteration, the message key, the ciphertext
//!   and every byte before the signature recomputed exactly, the signature verified, and the chain
//!   key of the later distribution message reached from the first.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

use common::hex;
use safemeet::error::CodecError;
use safemeet::primitives::aes::aes256_cbc_encrypt_into;
use safemeet::primitives::curve25519::Curve25519PublicKey;
use safemeet::primitives::hkdf::hkdf_sha256;
use safemeet::primitives::hmac::hmac_sha256;
use safemeet::primitives::xeddsa::{self, XEdDsaSignature};
use safemeet::signal::group::{DistributionId, SenderKeyDistributionMessage, SenderKeyRecord};
use safemeet::{Error, SignalError};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-vectors/signal-sender-keys.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn u32_of(v: &Value) -> u32 {
    u32::try_from(v.as_u64().unwrap()).unwrap()
}

#[test]
fn libsignal_client_recording_through_the_api() {
    let v = vectors();
    assert!(v["source"].as_str().unwrap().contains("libsignal-client"));
    let id = DistributionId::parse(v["distribution_id"].as_str().unwrap()).unwrap();
    let mut skdms = Vec::new();
    for key in ["skdm", "later_skdm"] {
        let s = &v[key];
        let bytes = hex(s["bytes"].as_str().unwrap());
        let skdm = SenderKeyDistributionMessage::decode(&bytes).unwrap();
        assert_eq!(skdm.to_bytes(), bytes, "{key} re-encodes byte for byte");
        assert_eq!(skdm.distribution_id(), id);
        assert_eq!(skdm.chain_id(), u32_of(&s["chain_id"]));
        assert_eq!(skdm.iteration(), u32_of(&s["iteration"]));
        #[cfg(feature = "hazmat")]
        assert_eq!(
            skdm.chain_key().as_slice(),
            hex(s["chain_key"].as_str().unwrap())
        );
        // The chain key is field 4, right before the 35 bytes of field 5.
        let ck_at = bytes.len() - 35 - 32;
        assert_eq!(&bytes[ck_at - 2..ck_at], &[0x22, 0x20]);
        assert_eq!(
            &bytes[ck_at..ck_at + 32],
            hex(s["chain_key"].as_str().unwrap())
        );
        skdms.push(skdm);
    }
    let messages = v["messages"].as_array().unwrap();
    let mut record = SenderKeyRecord::<64>::from_distribution_message(&skdms[0]);
    let mut read = 0;
    for i in v["delivery_order"].as_array().unwrap() {
        let m = &messages[usize::try_from(i.as_u64().unwrap()).unwrap()];
        let bytes = hex(m["message"].as_str().unwrap());
        let mut out = vec![0u8; SenderKeyRecord::<64>::decrypt_len(&bytes).unwrap()];
        let got = record.decrypt_into(&bytes, &mut out).unwrap();
        assert_eq!(
            &out[..got.plaintext_len],
            hex(m["plaintext"].as_str().unwrap())
        );
        assert_eq!(got.iteration, u32_of(&m["iteration"]));
        assert_eq!(got.chain_id, skdms[0].chain_id());
        read += 1;
        // Read once only.
        assert_eq!(
            record.decrypt(&bytes),
            Err(Error::Signal(SignalError::DuplicatedMessage))
        );
    }
    assert_eq!(read, messages.len());

    // A member who joined with the later distribution message reads what follows it, not before.
    let mut late = SenderKeyRecord::<64>::from_distribution_message(&skdms[1]);
    let from = skdms[1].iteration();
    for m in messages {
        let bytes = hex(m["message"].as_str().unwrap());
        let result = late.decrypt(&bytes);
        if u32_of(&m["iteration"]) >= from {
            assert_eq!(result.unwrap(), hex(m["plaintext"].as_str().unwrap()));
        } else {
            assert_eq!(result, Err(Error::Signal(SignalError::DuplicatedMessage)));
        }
    }

    let expected = |description: &str| -> Error {
        match description {
            d if d.starts_with("signature")
                || d.starts_with("ciphertext")
                || d.starts_with("iteration") =>
            {
                SignalError::InvalidSignature.into()
            }
            d if d.starts_with("distribution id") => SignalError::DistributionMismatch.into(),
            d if d.contains("legacy") => SignalError::LegacyMessageVersion.into(),
            d if d.contains("unknown") => SignalError::UnknownMessageVersion.into(),
            d if d.starts_with("truncated") => CodecError::UnexpectedEnd.into(),
            d => panic!("no expectation for {d}"),
        }
    };
    let rejected = v["rejected"].as_array().unwrap();
    for case in rejected {
        let d = case["description"].as_str().unwrap();
        let mut fresh = SenderKeyRecord::<64>::from_distribution_message(&skdms[0]);
        assert_eq!(
            fresh.decrypt(&hex(case["message"].as_str().unwrap())),
            Err(expected(d)),
            "{d} (libsignal: {})",
            case["libsignal_error"]
        );
    }
    println!(
        "signal-sender-keys.json: 2 SKDMs, {read} messages, {} rejected cases",
        rejected.len()
    );
}

/// A protobuf varint, written out here so that this test shares no code with the encoder.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[test]
fn libsignal_client_recording_from_first_principles() {
    let v = vectors();
    let skdm = hex(v["skdm"]["bytes"].as_str().unwrap());
    let chain_id = u64::from(u32_of(&v["skdm"]["chain_id"]));
    let id = hex(&v["distribution_id"].as_str().unwrap().replace('-', ""));
    // The SKDM ends with field 5: 0x2a 0x21 then the 33-byte 0x05-typed signing key.
    let key_at = skdm.len() - 33;
    assert_eq!(&skdm[key_at - 2..key_at + 1], &[0x2a, 0x21, 0x05]);
    let signing_key = Curve25519PublicKey::from_bytes(skdm[key_at + 1..].try_into().unwrap());

    let mut chain_key: [u8; 32] = hex(v["skdm"]["chain_key"].as_str().unwrap())
        .try_into()
        .unwrap();
    let mut at = 0u32;
    let later_at = u32_of(&v["later_skdm"]["iteration"]);
    let later_key = hex(v["later_skdm"]["chain_key"].as_str().unwrap());
    let mut checked = 0;
    for m in v["messages"].as_array().unwrap() {
        let iteration = u32_of(&m["iteration"]);
        while at < iteration {
            chain_key = hmac_sha256(&chain_key, &[0x02]);
            at += 1;
            if at == later_at {
                assert_eq!(chain_key.as_slice(), later_key, "chain key at {later_at}");
            }
        }
        let seed = hmac_sha256(&chain_key, &[0x01]);
        let mut okm = [0u8; 48];
        hkdf_sha256(&[0; 32], &seed, b"WhisperGroup", &mut okm).unwrap();
        let (iv, cipher_key) = okm.split_at(16);
        let plaintext = hex(m["plaintext"].as_str().unwrap());
        let mut ct = vec![0u8; plaintext.len() / 16 * 16 + 16];
        let n = aes256_cbc_encrypt_into(
            cipher_key.try_into().unwrap(),
            iv.try_into().unwrap(),
            &plaintext,
            &mut ct,
        )
        .unwrap();
        assert_eq!(n, ct.len());

        let mut expected = vec![0x33, 0x0a, 0x10];
        expected.extend_from_slice(&id);
        expected.push(0x10);
        varint(chain_id, &mut expected);
        expected.push(0x18);
        varint(u64::from(iteration), &mut expected);
        expected.push(0x22);
        varint(ct.len() as u64, &mut expected);
        expected.extend_from_slice(&ct);

        let message = hex(m["message"].as_str().unwrap());
        let (signed, signature) = message.split_at(message.len() - 64);
        assert_eq!(signed, expected, "message at iteration {iteration}");
        let signature = XEdDsaSignature::from_slice(signature).unwrap();
        assert_eq!(xeddsa::verify(&signing_key, signed, &signature), Ok(()));
        checked += 1;
    }
    assert!(at > later_at, "the later SKDM's iteration was reached");
    println!(
        "first principles: {checked} libsignal-client messages recomputed (all but the signature) and their signatures verified"
    );
}

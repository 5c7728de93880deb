//! safemeet's own native sender-key vectors (`test-vectors/native-group.json`, written by
//! `examples/gen_native_group_vectors.rs`), checked two ways: through the public API (same sender
//! key, same message bytes, every message decrypts in shuffled order), and from first principles
//! (HMAC-SHA-256 ratchet steps, HKDF, ChaCha20-Poly1305 and Ed25519 from `safemeet::primitives`
//! alone, following the file's `constants`). Damaged copies of the messages must be rejected with the
//! documented errors.
#![cfg(all(feature = "hazmat", feature = "alloc"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

use common::{arr, hex};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::primitives::aead;
use safemeet::primitives::ed25519::Ed25519SecretKey;
use safemeet::primitives::hkdf::hkdf_sha256;
use safemeet::primitives::hmac::hmac_sha256;
use safemeet::session::group::{
    ExportedSenderKey, GroupSession, InboundGroupSession, SENDER_KEY_LEN, SenderKey,
};
use safemeet::{Error, GroupError};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-vectors/native-group.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("missing {k}"))
}

fn u(v: &Value, k: &str) -> u32 {
    u32::try_from(v[k].as_u64().unwrap()).unwrap()
}

/// One Megolm step, written out from the specification with HMAC alone.
fn step(r: &mut [u8; 128], index: &mut u32) {
    *index = index.wrapping_add(1);
    let h = if index.is_multiple_of(1 << 24) {
        0
    } else if index.is_multiple_of(1 << 16) {
        1
    } else if index.is_multiple_of(1 << 8) {
        2
    } else {
        3
    };
    for k in (h..4).rev() {
        let out = hmac_sha256(&r[h * 32..h * 32 + 32], &[k as u8]);
        r[k * 32..k * 32 + 32].copy_from_slice(&out);
    }
}

#[test]
fn through_the_api() {
    let v = vectors();
    let mut messages = 0;
    for case in v["cases"].as_array().unwrap() {
        let start = u(case, "start_index");
        let seed: [u8; 32] = arr(s(case, "signing_seed"));
        let mut sender = GroupSession::from_parts(&arr(s(case, "ratchet")), start, &seed);
        if start == 0 {
            let fresh = GroupSession::new(&mut ChaCha20Rng::from_seed(arr(s(case, "rng_seed"))));
            assert_eq!(fresh.session_id(), sender.session_id());
        }
        let mut key = [0u8; SENDER_KEY_LEN];
        sender.sender_key().encode_into(&mut key).unwrap();
        assert_eq!(key.to_vec(), hex(s(case, "sender_key")));
        let mut receiver = InboundGroupSession::new(&SenderKey::decode(&key).unwrap());
        // The same receiver from explicit state.
        let mut explicit = InboundGroupSession::from_parts(
            &arr(s(case, "ratchet")),
            start,
            sender.session_id(),
            true,
        );
        let list = case["messages"].as_array().unwrap();
        for m in list {
            let sent = sender.encrypt(&hex(s(m, "plaintext"))).unwrap();
            assert_eq!(sent, hex(s(m, "message")), "{}", s(case, "name"));
        }
        let mut order: Vec<&Value> = list.iter().collect();
        order.reverse();
        for m in order {
            let (pt, index) = receiver.decrypt(&hex(s(m, "message"))).unwrap();
            assert_eq!(
                explicit.decrypt(&hex(s(m, "message"))).unwrap(),
                (pt.clone(), index)
            );
            assert_eq!(pt, hex(s(m, "plaintext")));
            assert_eq!(index, u(m, "index"));
            messages += 1;
        }
    }
    assert_eq!(messages, 17);
    println!("native group vectors: {messages} messages through the API");
}

#[test]
fn from_first_principles() {
    let v = vectors();
    let c = &v["constants"];
    let info = b"safemeet native group v1 message keys";
    assert!(s(c, "message_keys").contains(core::str::from_utf8(info).unwrap()));
    for case in v["cases"].as_array().unwrap() {
        let signing = Ed25519SecretKey::from_seed(&arr(s(case, "signing_seed")));
        let public = signing.public_key();
        assert_eq!(public.as_bytes().to_vec(), hex(s(case, "signing_key")));
        let mut ratchet: [u8; 128] = arr(s(case, "ratchet"));
        let mut index = u(case, "start_index");

        // The sender key: 01 11 index ratchet key, then a signature over those 165 bytes.
        let mut body = vec![0x01, 0x11];
        body.extend(index.to_be_bytes());
        body.extend(ratchet);
        body.extend(public.as_bytes());
        let sig = signing.sign(&body);
        body.extend(sig.as_bytes());
        assert_eq!(body, hex(s(case, "sender_key")));

        for m in case["messages"].as_array().unwrap() {
            while index != u(m, "index") {
                step(&mut ratchet, &mut index);
            }
            assert_eq!(ratchet.to_vec(), hex(s(m, "ratchet")));
            let mut okm = [0u8; 44];
            hkdf_sha256(&[], &ratchet, info, &mut okm).unwrap();
            assert_eq!(okm[..32].to_vec(), hex(s(m, "key")));
            assert_eq!(okm[32..].to_vec(), hex(s(m, "nonce")));
            let header = [&[0x01u8, 0x10][..], &index.to_be_bytes()].concat();
            let ad = [public.as_bytes().as_slice(), &header].concat();
            let mut ct = hex(s(m, "plaintext"));
            let tag = aead::seal_in_place_detached(
                okm[..32].try_into().unwrap(),
                okm[32..].try_into().unwrap(),
                &ad,
                &mut ct,
            )
            .unwrap();
            let mut message = [header, ct, tag.to_vec()].concat();
            let sig = signing.sign(&message);
            message.extend(sig.as_bytes());
            assert_eq!(message, hex(s(m, "message")), "{}", s(case, "name"));
        }
    }
}

#[test]
fn damaged_messages_are_rejected() {
    let v = vectors();
    let case = &v["cases"][0];
    let key = SenderKey::decode(&hex(s(case, "sender_key"))).unwrap();
    let message = hex(s(&case["messages"][2], "message"));
    let fresh = || InboundGroupSession::new(&key);
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    for _ in 0..200 {
        let mut bad = message.clone();
        let at = rng.next_u32() as usize % bad.len();
        bad[at] ^= 1 << (rng.next_u32() % 8);
        let err = fresh().decrypt(&bad).unwrap_err();
        let expected = if at < 2 {
            Error::Group(GroupError::UnsupportedVersion)
        } else {
            Error::Group(GroupError::InvalidSignature)
        };
        assert_eq!(err, expected, "byte {at}");
    }
    // Re-signed by the real key over a damaged body: caught by the AEAD.
    let signing = Ed25519SecretKey::from_seed(&arr(s(case, "signing_seed")));
    let n = message.len();
    let mut bad = message.clone();
    bad[10] ^= 1;
    let sig = signing.sign(&bad[..n - 64]);
    bad[n - 64..].copy_from_slice(sig.as_bytes());
    let mut session = fresh();
    assert_eq!(
        session.decrypt(&bad).unwrap_err(),
        Error::Group(GroupError::Authentication)
    );
    // ...and the failure changed nothing.
    assert_eq!(session.decrypt(&message).unwrap().1, 2);
    // Truncations are decoding errors.
    for len in 0..n {
        assert!(fresh().decrypt(&message[..len]).is_err());
    }
    // An export at index 3 cannot read index 2, and is unverified.
    let mut buf = [0u8; safemeet::session::group::EXPORT_LEN];
    fresh().export_at(3).unwrap().encode_into(&mut buf).unwrap();
    let mut late = InboundGroupSession::import(&ExportedSenderKey::decode(&buf).unwrap());
    assert!(!late.is_verified());
    assert_eq!(
        late.decrypt(&message).unwrap_err(),
        Error::Group(GroupError::UnknownMessageIndex {
            first_known_index: 3
        })
    );
    // A sender key with a broken signature is refused.
    let mut bad_key = hex(s(case, "sender_key"));
    bad_key[100] ^= 1;
    assert_eq!(
        SenderKey::decode(&bad_key).unwrap_err(),
        Error::Group(GroupError::InvalidSignature)
    );
}

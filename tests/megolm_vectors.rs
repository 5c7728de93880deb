//! The published Megolm vectors (`test-vectors/megolm.json`, provenance in `test-vectors/README.md`):
//! libolm's ratchet tests, libolm's session-key/message pairs (one with libolm's own signature
//! tamper), and vodozemac's advance-back vector. Needs `hazmat` for ratchets from explicit bytes.
#![cfg(all(feature = "hazmat", feature = "alloc"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

use common::{hex, to_hex};
use safemeet::codec::base64;
use safemeet::group::Ratchet;
use safemeet::megolm::{ExportedSessionKey, InboundGroupSession, SessionKey};
use safemeet::{Error, GroupError};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/megolm.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn initial(case: &Value) -> Ratchet {
    let bytes: Vec<u8> = match (case.get("initial_ascii"), case.get("initial_hex")) {
        (Some(a), None) => a.as_str().unwrap().as_bytes().to_vec(),
        (None, Some(h)) => hex(h.as_str().unwrap()),
        _ => panic!("case without an initial state"),
    };
    let index = u32::try_from(case["initial_index"].as_u64().unwrap()).unwrap();
    Ratchet::from_bytes(&bytes.try_into().unwrap(), index)
}

#[test]
fn ratchet_vectors() {
    let v = vectors();
    let mut checked = 0;
    for case in v["ratchet"].as_array().unwrap() {
        let mut r = initial(case);
        for step in case["steps"].as_array().unwrap() {
            match step["op"].as_str().unwrap() {
                "advance" => r.advance(),
                "advance_to" => r.advance_to(u32::try_from(step["to"].as_u64().unwrap()).unwrap()),
                op => panic!("unknown op {op}"),
            }
            assert_eq!(u64::from(r.index()), step["index"].as_u64().unwrap());
            let expected = match (step.get("parts"), step.get("bytes")) {
                (Some(parts), None) => parts
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect::<String>(),
                (None, Some(b)) => b.as_str().unwrap().to_owned(),
                _ => continue,
            };
            assert_eq!(to_hex(r.as_bytes()), expected, "{}", case["name"]);
            checked += 1;
        }
    }
    assert_eq!(checked, 5);
    println!("megolm ratchet vectors: {checked} states checked");
}

#[test]
fn wrap_properties() {
    let v = vectors();
    let seed = *b"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";
    for case in v["wrap_properties"].as_array().unwrap() {
        let idx = |k: &str| u32::try_from(case[k].as_u64().unwrap()).unwrap();
        let mut a = Ratchet::from_bytes(&seed, idx("a_index"));
        a.advance_to(idx("a_to"));
        let mut b = Ratchet::from_bytes(&seed, idx("b_index"));
        if case.get("b_advance").is_some() {
            b.advance();
        } else {
            b.advance_to(idx("b_to"));
        }
        if case["name"].as_str().unwrap().contains("0x2000000") {
            // Different indices (0x1000000 vs 0x2000000), equal bytes.
            assert_eq!(a.as_bytes(), b.as_bytes(), "{}", case["name"]);
            assert_ne!(a.index(), b.index());
        } else {
            assert!(a == b, "{}", case["name"]);
        }
    }
}

#[test]
fn session_vectors() {
    let v = vectors();
    for case in v["sessions"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let key = SessionKey::from_base64(case["session_key"].as_str().unwrap()).unwrap();
        let mut session = InboundGroupSession::new(&key);
        assert!(session.is_verified());
        if let Some(id) = case.get("session_id") {
            assert_eq!(session.session_id(), id.as_str().unwrap(), "{name}");
        }
        let message = base64::decode(case["message"].as_str().unwrap()).unwrap();
        let got = session.decrypt(&message).unwrap();
        assert_eq!(
            u64::from(got.message_index),
            case["message_index"].as_u64().unwrap()
        );
        assert_eq!(
            got.plaintext,
            case["plaintext_ascii"].as_str().unwrap().as_bytes(),
            "{name}"
        );
        // vodozemac reads the same pair the same way.
        let mut theirs = vodozemac::megolm::InboundGroupSession::new(
            &vodozemac::megolm::SessionKey::from_base64(case["session_key"].as_str().unwrap())
                .unwrap(),
            vodozemac::megolm::SessionConfig::version_1(),
        );
        let parsed = vodozemac::megolm::MegolmMessage::from_bytes(&message).unwrap();
        assert_eq!(theirs.decrypt(&parsed).unwrap().plaintext, got.plaintext);
        // The key re-encodes to exactly the published bytes.
        assert_eq!(
            &*key.to_base64(),
            case["session_key"].as_str().unwrap(),
            "{name}"
        );

        if let Some(export) = case.get("export_v1") {
            let export = export.as_str().unwrap();
            assert_eq!(&*session.export_at(0).unwrap().to_base64(), export);
            let mut imported =
                InboundGroupSession::import(&ExportedSessionKey::from_base64(export).unwrap());
            assert!(!imported.is_verified());
            assert_eq!(imported.decrypt(&message).unwrap().plaintext, b"Message");
        }
        if let Some(tampered) = case.get("tampered_message") {
            let tampered = base64::decode(tampered.as_str().unwrap()).unwrap();
            assert_eq!(
                session.decrypt(&tampered).unwrap_err(),
                Error::Group(GroupError::InvalidSignature),
                "{name}"
            );
        }
    }
}

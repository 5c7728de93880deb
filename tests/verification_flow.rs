//! The verification flow between two safemeet devices: the whole SAS exchange, and every cancel path.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::codec::json::{self, Value};
use safemeet::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};
use safemeet::verification::flow::{
    CancelCode, DeviceInfo, EventType, Outgoing, State, Verification, VerificationEvent,
};
use safemeet::verification::sas::Base64_32;

const NOW: u64 = 1_700_000_000_000;
const TXN: &str = "txn-42";

struct Setup {
    alice: DeviceInfo,
    bob: DeviceInfo,
    rng: ChaCha20Rng,
}

fn key(rng: &mut ChaCha20Rng) -> Ed25519PublicKey {
    Ed25519SecretKey::generate(rng).public_key()
}

fn setup(seed: u8) -> Setup {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let alice = DeviceInfo::new(
        "@alice:example.org",
        "ALICEPHONE",
        key(&mut rng),
        Some(key(&mut rng)),
    );
    let bob = DeviceInfo::new(
        "@bob:example.org",
        "BOBPHONE",
        key(&mut rng),
        Some(key(&mut rng)),
    );
    Setup { alice, bob, rng }
}

fn send(to: &mut Verification, events: &[Outgoing]) -> Vec<Outgoing> {
    events
        .iter()
        .flat_map(|e| to.receive(e.event_type.name(), &e.content_json(), NOW))
        .collect()
}

/// Alice requests, Bob accepts, Alice starts; returns both flows once Bob has Alice's start.
fn up_to_start(s: &mut Setup) -> (Verification, Verification, Vec<Outgoing>) {
    let (mut a, request) =
        Verification::request(&mut s.rng, s.alice.clone(), s.bob.clone(), TXN, NOW);
    assert_eq!(a.state(), State::Requested);
    let mut b = Verification::from_request(
        &mut s.rng,
        s.bob.clone(),
        s.alice.clone(),
        &request.content_json(),
        NOW,
    )
    .unwrap();
    assert_eq!(b.state(), State::RequestReceived);
    let ready = b.accept_request(NOW).unwrap();
    assert!(send(&mut a, &[ready]).is_empty());
    assert_eq!(a.state(), State::Ready);
    let start = a.start_sas(NOW).unwrap();
    assert_eq!(a.state(), State::Started);
    (a, b, vec![start])
}

/// Runs up to both sides showing the SAS.
fn up_to_sas(s: &mut Setup) -> (Verification, Verification) {
    let (mut a, mut b, start) = up_to_start(s);
    let accept = send(&mut b, &start);
    assert_eq!(b.state(), State::Accepted);
    let key_a = send(&mut a, &accept);
    assert_eq!(a.state(), State::KeySent);
    let key_b = send(&mut b, &key_a);
    assert_eq!(b.state(), State::KeysExchanged);
    assert!(send(&mut a, &key_b).is_empty());
    assert_eq!(a.state(), State::KeysExchanged);
    (a, b)
}

fn cancelled(flow: &Verification) -> Option<(CancelCode, bool)> {
    match flow.state() {
        State::Cancelled { code, by_us } => Some((code, by_us)),
        _ => None,
    }
}

fn only_cancel(out: &[Outgoing]) -> CancelCode {
    assert_eq!(out.len(), 1, "{out:?}");
    out[0].cancel_code().expect("a cancel event")
}

/// Re-encodes an event content after `edit`.
fn edited(event: &Outgoing, edit: impl FnOnce(&mut json::Object)) -> Vec<u8> {
    let mut content = event.content.clone();
    let Value::Object(o) = &mut content else {
        panic!()
    };
    edit(o);
    content.to_canonical().into_bytes()
}

#[test]
fn full_flow_verifies_both_sides() {
    let mut s = setup(1);
    let (mut a, mut b) = up_to_sas(&mut s);
    let (ea, eb) = (a.emoji().unwrap(), b.emoji().unwrap());
    assert_eq!(ea, eb);
    assert_eq!(a.decimals(), b.decimals());
    let (x, y, z) = a.decimals().unwrap();
    assert!([x, y, z].iter().all(|n| (1000..=9191).contains(n)));

    let mac_a = a.confirm(NOW);
    assert_eq!(mac_a.len(), 1);
    assert_eq!(mac_a[0].event_type, EventType::Mac);
    assert_eq!(a.state(), State::Confirmed);
    assert!(a.confirm(NOW).is_empty(), "confirming twice sends nothing");
    // Bob verifies Alice's MAC before his user confirms: nothing to send yet.
    assert!(send(&mut b, &mac_a).is_empty());
    let mac_and_done_b = b.confirm(NOW);
    assert_eq!(
        mac_and_done_b
            .iter()
            .map(|e| e.event_type)
            .collect::<Vec<_>>(),
        [EventType::Mac, EventType::Done]
    );
    let done_a = send(&mut a, &mac_and_done_b);
    assert_eq!(done_a.len(), 1);
    assert_eq!(done_a[0].event_type, EventType::Done);
    assert_eq!(a.state(), State::Done);
    assert!(send(&mut b, &done_a).is_empty());
    assert_eq!(b.state(), State::Done);

    let ka = a.verified_keys().unwrap();
    assert_eq!(ka.device_key(), Some(s.bob.device_key));
    assert_eq!(ka.master_key(), s.bob.master_key);
    let kb = b.verified_keys().unwrap();
    assert_eq!(kb.device_key(), Some(s.alice.device_key));
    assert_eq!(kb.master_key(), s.alice.master_key);

    // The MAC event has the shape rust-sdk sends: one entry per key, plus `keys`.
    let mac = mac_a[0]
        .content
        .get("mac")
        .and_then(Value::as_object)
        .unwrap();
    assert!(mac.contains_key("ed25519:ALICEPHONE"));
    let master_id = format!(
        "ed25519:{}",
        Base64_32::encode(s.alice.master_key.unwrap().as_bytes())
    );
    assert!(mac.contains_key(&master_id));
    // Events after the end are ignored.
    assert!(send(&mut a, &mac_a).is_empty());
    assert_eq!(a.state(), State::Done);
}

#[test]
fn both_confirm_before_either_mac_arrives() {
    let mut s = setup(2);
    let (mut a, mut b) = up_to_sas(&mut s);
    let mac_a = a.confirm(NOW);
    let mac_b = b.confirm(NOW);
    let done_b = send(&mut b, &mac_a);
    let done_a = send(&mut a, &mac_b);
    assert_eq!(done_a[0].event_type, EventType::Done);
    send(&mut a, &done_b);
    send(&mut b, &done_a);
    assert_eq!((a.state(), b.state()), (State::Done, State::Done));
}

#[test]
fn concurrent_starts_resolve_to_the_smaller_user_id() {
    let mut s = setup(3);
    let (mut a, request) =
        Verification::request(&mut s.rng, s.alice.clone(), s.bob.clone(), TXN, NOW);
    let mut b = Verification::from_request(
        &mut s.rng,
        s.bob.clone(),
        s.alice.clone(),
        &request.content_json(),
        NOW,
    )
    .unwrap();
    let ready = b.accept_request(NOW).unwrap();
    send(&mut a, &[ready]);
    let start_a = a.start_sas(NOW).unwrap();
    let start_b = b.start_sas(NOW).unwrap();
    // "@alice" < "@bob": Alice's start wins; Bob becomes the acceptor, Alice ignores Bob's start.
    assert!(send(&mut a, &[start_b]).is_empty());
    assert_eq!(a.state(), State::Started);
    let accept = send(&mut b, &[start_a]);
    assert_eq!(accept[0].event_type, EventType::Accept);
    let key_a = send(&mut a, &accept);
    let key_b = send(&mut b, &key_a);
    send(&mut a, &key_b);
    assert_eq!(a.emoji(), b.emoji());
    assert!(a.emoji().is_some());
}

#[test]
fn cancel_user() {
    let mut s = setup(4);
    let (mut a, mut b) = up_to_sas(&mut s);
    let cancel = a.cancel().unwrap();
    assert_eq!(cancel.cancel_code(), Some(CancelCode::User));
    assert_eq!(cancelled(&a), Some((CancelCode::User, true)));
    assert!(send(&mut b, &[cancel]).is_empty());
    assert_eq!(cancelled(&b), Some((CancelCode::User, false)));
    assert!(
        a.cancel().is_none(),
        "a cancelled flow cannot be cancelled again"
    );
    assert!(a.emoji().is_none());
}

#[test]
fn cancel_mismatched_sas() {
    let mut s = setup(5);
    let (mut a, mut b) = up_to_sas(&mut s);
    let cancel = b.mismatch().unwrap();
    assert_eq!(cancel.cancel_code(), Some(CancelCode::MismatchedSas));
    send(&mut a, &[cancel]);
    assert_eq!(cancelled(&a), Some((CancelCode::MismatchedSas, false)));
    assert!(a.verified_keys().is_none());
}

#[test]
fn cancel_timeout() {
    let mut s = setup(6);
    let (mut a, mut b, start) = up_to_start(&mut s);
    assert!(
        a.poll_timeout(NOW + 600_000).is_none(),
        "exactly ten minutes is not yet late"
    );
    let t = a.poll_timeout(NOW + 600_001).unwrap();
    assert_eq!(t.cancel_code(), Some(CancelCode::Timeout));
    assert_eq!(cancelled(&a), Some((CancelCode::Timeout, true)));
    // An event arriving too late is answered with a timeout, not handled.
    let late = b.receive(
        start[0].event_type.name(),
        &start[0].content_json(),
        NOW + 11 * 60_000,
    );
    assert_eq!(only_cancel(&late), CancelCode::Timeout);
    // A request that is too old, or from the future, is ignored.
    let (_, request) = Verification::request(&mut s.rng, s.alice.clone(), s.bob.clone(), "t2", NOW);
    for now in [NOW + 600_001, NOW - 300_001] {
        let r = Verification::from_request(
            &mut s.rng,
            s.bob.clone(),
            s.alice.clone(),
            &request.content_json(),
            now,
        );
        assert!(matches!(r, Err(None)));
    }
}

#[test]
fn cancel_unknown_method() {
    let mut s = setup(7);
    // A request without m.sas.v1.
    let (_, request) = Verification::request(&mut s.rng, s.alice.clone(), s.bob.clone(), TXN, NOW);
    let qr_only = edited(&request, |o| {
        o.insert(
            "methods".into(),
            Value::Array(vec!["m.qr_code.scan.v1".into()]),
        );
    });
    let Err(Some(cancel)) =
        Verification::from_request(&mut s.rng, s.bob.clone(), s.alice.clone(), &qr_only, NOW)
    else {
        panic!("expected a cancel")
    };
    assert_eq!(cancel.cancel_code(), Some(CancelCode::UnknownMethod));

    // A start with another method, or no protocol / MAC / SAS method in common.
    let edits: [(&str, Value); 5] = [
        ("method", "m.reciprocate.v1".into()),
        ("key_agreement_protocols", Value::Array(vec!["x448".into()])),
        ("hashes", Value::Array(vec!["sha3".into()])),
        (
            "message_authentication_codes",
            Value::Array(vec!["hmac-sha256".into()]),
        ),
        ("short_authentication_string", Value::Array(vec![])),
    ];
    for (field, value) in edits {
        let (_, mut b, start) = up_to_start(&mut s);
        let bad = edited(&start[0], |o| {
            o.insert(field.into(), value.clone());
        });
        let out = b.receive(EventType::Start.name(), &bad, NOW);
        assert_eq!(only_cancel(&out), CancelCode::UnknownMethod, "{field}");
        assert_eq!(cancelled(&b), Some((CancelCode::UnknownMethod, true)));
    }

    // An accept choosing something we did not offer.
    for (field, value) in [
        ("key_agreement_protocol", Value::from("x448")),
        ("hash", "sha3".into()),
        ("message_authentication_code", "hmac-sha256".into()),
        (
            "short_authentication_string",
            Value::Array(vec!["colours".into()]),
        ),
    ] {
        let (mut a, mut b, start) = up_to_start(&mut s);
        let accept = send(&mut b, &start);
        let bad = edited(&accept[0], |o| {
            o.insert(field.into(), value.clone());
        });
        let out = a.receive(EventType::Accept.name(), &bad, NOW);
        assert_eq!(only_cancel(&out), CancelCode::UnknownMethod, "{field}");
    }

    // A ready without m.sas.v1.
    let (mut a, request) =
        Verification::request(&mut s.rng, s.alice.clone(), s.bob.clone(), TXN, NOW);
    let mut b = Verification::from_request(
        &mut s.rng,
        s.bob.clone(),
        s.alice.clone(),
        &request.content_json(),
        NOW,
    )
    .unwrap();
    let ready = b.accept_request(NOW).unwrap();
    let bad = edited(&ready, |o| {
        o.insert(
            "methods".into(),
            Value::Array(vec!["m.qr_code.show.v1".into()]),
        );
    });
    assert_eq!(
        only_cancel(&a.receive(EventType::Ready.name(), &bad, NOW)),
        CancelCode::UnknownMethod
    );
}

#[test]
fn cancel_mismatched_commitment() {
    // A man in the middle swaps Bob's key event for its own key: Alice's commitment check fails.
    let mut s = setup(8);
    let (mut a, mut b, start) = up_to_start(&mut s);
    let accept = send(&mut b, &start);
    let key_a = send(&mut a, &accept);
    let key_b = send(&mut b, &key_a);
    let mallory = safemeet::verification::Sas::new(&mut s.rng);
    let swapped = edited(&key_b[0], |o| {
        o.insert("key".into(), mallory.public_key_base64().as_str().into());
    });
    let out = a.receive(EventType::Key.name(), &swapped, NOW);
    assert_eq!(only_cancel(&out), CancelCode::MismatchedCommitment);
    assert_eq!(
        cancelled(&a),
        Some((CancelCode::MismatchedCommitment, true))
    );
}

#[test]
fn cancel_key_mismatch() {
    let mut s = setup(9);
    // A tampered MAC.
    let (mut a, mut b) = up_to_sas(&mut s);
    let mac = a.confirm(NOW);
    let tampered = edited(&mac[0], |o| {
        let Some(Value::Object(m)) = o.get_mut("mac") else {
            panic!()
        };
        let v = m.get_mut("ed25519:ALICEPHONE").unwrap();
        *v = Base64_32::encode(&[0; 32]).as_str().into();
    });
    assert_eq!(
        only_cancel(&b.receive(EventType::Mac.name(), &tampered, NOW)),
        CancelCode::KeyMismatch
    );

    // A tampered `keys` MAC.
    let (mut a, mut b) = up_to_sas(&mut s);
    let mac = a.confirm(NOW);
    let tampered = edited(&mac[0], |o| {
        o.insert("keys".into(), Base64_32::encode(&[1; 32]).as_str().into());
    });
    assert_eq!(
        only_cancel(&b.receive(EventType::Mac.name(), &tampered, NOW)),
        CancelCode::KeyMismatch
    );

    // A MAC for a key id Bob did not expect.
    let (mut a, mut b) = up_to_sas(&mut s);
    let mac = a.confirm(NOW);
    let extra = edited(&mac[0], |o| {
        let Some(Value::Object(m)) = o.get_mut("mac") else {
            panic!()
        };
        m.insert(
            "ed25519:SOMEOTHERDEVICE".into(),
            Base64_32::encode(&[2; 32]).as_str().into(),
        );
    });
    assert_eq!(
        only_cancel(&b.receive(EventType::Mac.name(), &extra, NOW)),
        CancelCode::KeyMismatch
    );

    // Alice's device key is not the one Bob expected (a device the server swapped in).
    let mut s2 = setup(10);
    let real_alice = s2.alice.clone();
    s2.alice.device_key = key(&mut s2.rng);
    let (mut a, request) =
        Verification::request(&mut s2.rng, s2.alice.clone(), s2.bob.clone(), TXN, NOW);
    let mut b = Verification::from_request(
        &mut s2.rng,
        s2.bob.clone(),
        real_alice,
        &request.content_json(),
        NOW,
    )
    .unwrap();
    let ready = b.accept_request(NOW).unwrap();
    send(&mut a, &[ready]);
    let start = a.start_sas(NOW).unwrap();
    let accept = send(&mut b, &[start]);
    let key_a = send(&mut a, &accept);
    let key_b = send(&mut b, &key_a);
    send(&mut a, &key_b);
    let mac = a.confirm(NOW);
    assert_eq!(only_cancel(&send(&mut b, &mac)), CancelCode::KeyMismatch);
}

/// The key-identifier confusion of Albrecht et al. (IEEE S&P 2023) through the whole flow: the server
/// gives Alice's "device" the id equal to the base64 of Alice's master key. Bob's flow must cancel
/// rather than let one key id stand for both.
#[test]
fn key_id_confusion_cancels_the_flow() {
    let mut s = setup(11);
    let master_b64 = Base64_32::encode(s.alice.master_key.unwrap().as_bytes());
    s.alice.device_id = master_b64.as_str().into();
    let (mut a, mut b) = up_to_sas(&mut s);
    let mac = a.confirm(NOW);
    assert_eq!(only_cancel(&send(&mut b, &mac)), CancelCode::KeyMismatch);
    assert!(b.verified_keys().is_none());
}

#[test]
fn cancel_unexpected_message() {
    let mut s = setup(12);
    // A key before the accept.
    let (mut a, mut b, start) = up_to_start(&mut s);
    let accept = send(&mut b, &start);
    let mut a2 = {
        let (a2, _, _) = up_to_start(&mut s);
        a2
    };
    let key_a = send(&mut a, &accept);
    let out = send(&mut a2, &key_a);
    assert_eq!(only_cancel(&out), CancelCode::UnexpectedMessage);
    // (Alice's own key reflected back to her is caught by the commitment.)
    assert_eq!(
        only_cancel(&send(&mut a, &key_a)),
        CancelCode::MismatchedCommitment
    );

    // A done before any MAC.
    let (mut a, _b) = up_to_sas(&mut s);
    let done = a.receive(
        EventType::Done.name(),
        format!(r#"{{"transaction_id":"{TXN}"}}"#).as_bytes(),
        NOW,
    );
    assert_eq!(only_cancel(&done), CancelCode::UnexpectedMessage);

    // A second start after accepting.
    let (_a, mut b, start) = up_to_start(&mut s);
    send(&mut b, &start);
    assert_eq!(
        only_cancel(&send(&mut b, &start)),
        CancelCode::UnexpectedMessage
    );

    // A request event in the middle of a flow.
    let (mut a, _b, _) = up_to_start(&mut s);
    let req = format!(
        r#"{{"transaction_id":"{TXN}","from_device":"BOBPHONE","methods":["m.sas.v1"],"timestamp":1}}"#
    );
    assert_eq!(
        only_cancel(&a.receive(EventType::Request.name(), req.as_bytes(), NOW)),
        CancelCode::UnexpectedMessage
    );

    // An unknown event type with our transaction id.
    let (mut a, _b, _) = up_to_start(&mut s);
    let out = a.receive(
        "m.key.verification.frobnicate",
        format!(r#"{{"transaction_id":"{TXN}"}}"#).as_bytes(),
        NOW,
    );
    assert_eq!(only_cancel(&out), CancelCode::UnexpectedMessage);
}

#[test]
fn cancel_unknown_transaction() {
    let mut s = setup(13);
    let (mut a, mut b, start) = up_to_start(&mut s);
    let other = edited(&start[0], |o| {
        o.insert("transaction_id".into(), "not-ours".into());
    });
    let out = b.receive(EventType::Start.name(), &other, NOW);
    assert_eq!(only_cancel(&out), CancelCode::UnknownTransaction);
    assert_eq!(
        out[0].content.get("transaction_id").and_then(Value::as_str),
        Some("not-ours")
    );
    // Our flow is untouched and carries on.
    assert_eq!(b.state(), State::Ready);
    let accept = send(&mut b, &start);
    assert_eq!(accept[0].event_type, EventType::Accept);
    // A malformed event for another transaction is also answered as unknown, not fatal to us.
    let out = a.receive(
        EventType::Accept.name(),
        br#"{"transaction_id":"zzz"}"#,
        NOW,
    );
    assert_eq!(only_cancel(&out), CancelCode::UnknownTransaction);
    assert_eq!(a.state(), State::Started);
    // A cancel for another transaction is ignored.
    assert!(
        a.receive(
            EventType::Cancel.name(),
            br#"{"transaction_id":"zzz","code":"m.user","reason":""}"#,
            NOW
        )
        .is_empty()
    );
    assert_eq!(a.state(), State::Started);
}

#[test]
fn cancel_invalid_message() {
    let mut s = setup(14);
    let bodies: Vec<Vec<u8>> = vec![
        b"not json".to_vec(),
        b"[]".to_vec(),
        format!(r#"{{"transaction_id":"{TXN}"}}"#).into_bytes(), // missing every field
        format!(r#"{{"transaction_id":"{TXN}","key":5}}"#).into_bytes(),
        format!(r#"{{"transaction_id":"{TXN}","key":"not base64!"}}"#).into_bytes(),
        format!(r#"{{"transaction_id":"{TXN}","key":"AAAA"}}"#).into_bytes(),
        format!(r#"{{"transaction_id":"{TXN}","transaction_id":"{TXN}"}}"#).into_bytes(),
        b"{\"transaction_id\":\"\xff\"}".to_vec(),
    ];
    for body in bodies {
        let (mut a, mut b, start) = up_to_start(&mut s);
        let accept = send(&mut b, &start);
        let _key_a = send(&mut a, &accept);
        let out = b.receive(EventType::Key.name(), &body, NOW);
        assert_eq!(
            only_cancel(&out),
            CancelCode::InvalidMessage,
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(cancelled(&b), Some((CancelCode::InvalidMessage, true)));
    }
    // A malformed MAC map (a non-string value).
    let (mut a, mut b) = up_to_sas(&mut s);
    let mac = a.confirm(NOW);
    let bad = edited(&mac[0], |o| {
        o.insert("mac".into(), Value::Array(vec![]));
    });
    assert_eq!(
        only_cancel(&b.receive(EventType::Mac.name(), &bad, NOW)),
        CancelCode::InvalidMessage
    );
}

#[test]
fn cancel_user_mismatch() {
    let mut s = setup(15);
    let (_a, mut b, start) = up_to_start(&mut s);
    let bad = edited(&start[0], |o| {
        o.insert("from_device".into(), "MALLORY".into());
    });
    assert_eq!(
        only_cancel(&b.receive(EventType::Start.name(), &bad, NOW)),
        CancelCode::UserMismatch
    );
    let (_, request) = Verification::request(&mut s.rng, s.alice.clone(), s.bob.clone(), TXN, NOW);
    let bad = edited(&request, |o| {
        o.insert("from_device".into(), "MALLORY".into());
    });
    let r = Verification::from_request(&mut s.rng, s.bob.clone(), s.alice.clone(), &bad, NOW);
    assert!(matches!(r, Err(Some(ref c)) if c.cancel_code() == Some(CancelCode::UserMismatch)));
}

#[test]
fn received_cancel_codes() {
    for (code, want) in [
        ("m.key_mismatch", CancelCode::KeyMismatch),
        ("m.accepted", CancelCode::Accepted),
        ("m.something_new", CancelCode::Other),
    ] {
        let mut s = setup(16);
        let (mut a, _b, _) = up_to_start(&mut s);
        let body = format!(r#"{{"transaction_id":"{TXN}","code":"{code}","reason":"x"}}"#);
        assert!(
            a.receive(EventType::Cancel.name(), body.as_bytes(), NOW)
                .is_empty()
        );
        assert_eq!(cancelled(&a), Some((want, false)));
    }
}

#[test]
fn event_parsing_round_trips_what_we_send() {
    let mut s = setup(17);
    let (mut a, mut b, start) = up_to_start(&mut s);
    let accept = send(&mut b, &start);
    let key_a = send(&mut a, &accept);
    let key_b = send(&mut b, &key_a);
    send(&mut a, &key_b);
    let mac = a.confirm(NOW);
    for e in [&start[0], &accept[0], &key_a[0], &key_b[0], &mac[0]] {
        let parsed = VerificationEvent::parse(e.event_type.name(), &e.content_json()).unwrap();
        assert_eq!(parsed.transaction_id(), TXN);
    }
    assert!(VerificationEvent::parse("m.key.verification.key", b"{}").is_err());
}

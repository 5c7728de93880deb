//! Interop with a real classic Signal peer: npm `libsignal@6.0.0` (the Baileys / WhatsApp-lineage
//! library), run by Node through `interop/node/pairwise_peer.js`. Sessions are started from each side,
//! with and without a one-time prekey, and run long conversations with random direction changes,
//! out-of-order and late delivery, replays (refused by both) and tampered messages (refused by both,
//! after which the genuine message still decrypts).
//!
//! npm `libsignal@6.0.0` never checks a bundle's signed-prekey signature, so signature correctness is
//! proven by the XEdDSA and wire vectors, not here. Requires `npm ci --ignore-scripts` in
//! `interop/node` (CI does it); without it every test fails and says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::print_stdout
)]
#![cfg(feature = "std")]

mod common;

#[path = "common/node_peer.rs"]
mod node_peer;

use node_peer::NodePeer;

use common::{hex, to_hex};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::primitives::xeddsa::XEdDsaSignature;
use safemeet::signal::keys::{decode_public_key, encode_public_key};
use safemeet::signal::{Account, MessageType, PreKeyBundle, Session};
use safemeet::{Error, RatchetError, SignalError};
use serde_json::{Value, json};

/// The Node peer (`interop/node/pairwise_peer.js`).
struct Peer(NodePeer);

impl Peer {
    fn start() -> Self {
        Self(NodePeer::start("pairwise_peer.js", "libsignal"))
    }

    fn call(&mut self, request: Value) -> Value {
        self.0.call(&request)
    }

    fn ok(&mut self, request: Value) -> Value {
        self.0.ok(&request)
    }
}

fn u32_of(v: &Value) -> u32 {
    u32::try_from(v.as_u64().unwrap()).unwrap()
}

/// The peer's bundle in safemeet's type.
fn bundle_from_json(b: &Value) -> PreKeyBundle {
    let key = |v: &Value| decode_public_key(&hex(v.as_str().unwrap())).unwrap();
    PreKeyBundle {
        registration_id: u32_of(&b["registrationId"]),
        identity_key: key(&b["identityKey"]),
        signed_pre_key_id: u32_of(&b["signedPreKey"]["keyId"]),
        signed_pre_key: key(&b["signedPreKey"]["publicKey"]),
        signed_pre_key_signature: XEdDsaSignature::from_slice(&hex(b["signedPreKey"]["signature"]
            .as_str()
            .unwrap()))
        .unwrap(),
        pre_key: b
            .get("preKey")
            .map(|p| (u32_of(&p["keyId"]), key(&p["publicKey"]))),
    }
}

/// Our bundle in the peer's JSON.
fn bundle_to_json(b: &PreKeyBundle) -> Value {
    let mut v = json!({
        "registrationId": b.registration_id,
        "identityKey": to_hex(&encode_public_key(&b.identity_key)),
        "signedPreKey": {
            "keyId": b.signed_pre_key_id,
            "publicKey": to_hex(&encode_public_key(&b.signed_pre_key)),
            "signature": to_hex(b.signed_pre_key_signature.as_bytes()),
        },
    });
    if let Some((id, key)) = b.pre_key {
        v["preKey"] = json!({"keyId": id, "publicKey": to_hex(&encode_public_key(&key))});
    }
    v
}

/// A message in flight.
#[derive(Clone)]
struct Wire {
    prekey: bool,
    body: Vec<u8>,
    plaintext: Vec<u8>,
}

/// Our side of a conversation: the account (for the first pre-key message when we respond) and the
/// session once there is one.
struct Ours {
    account: Account,
    session: Option<Session>,
}

impl Ours {
    fn encrypt(&mut self, rng: &mut ChaCha20Rng, plaintext: &[u8]) -> Wire {
        let (t, body) = self
            .session
            .as_mut()
            .unwrap()
            .encrypt(rng, plaintext)
            .unwrap();
        Wire {
            prekey: t == MessageType::PreKey,
            body,
            plaintext: plaintext.to_vec(),
        }
    }

    fn decrypt(&mut self, w: &Wire) -> Result<Vec<u8>, Error> {
        let t = if w.prekey {
            MessageType::PreKey
        } else {
            MessageType::Whisper
        };
        match &mut self.session {
            Some(s) if !w.prekey || s.matches_pre_key_message(&w.body) => s.decrypt(t, &w.body),
            _ => {
                let (s, pt) = self.account.create_inbound_session(&w.body)?;
                self.session = Some(s);
                Ok(pt)
            }
        }
    }
}

fn peer_encrypt(peer: &mut Peer, plaintext: &[u8]) -> Wire {
    let r = peer.ok(json!({"op": "encrypt", "plaintext": to_hex(plaintext)}));
    let t = r["type"].as_u64().unwrap();
    assert!(t == 1 || t == 3, "type {t}");
    let body = hex(r["body"].as_str().unwrap());
    assert_eq!(body[0], 0x33);
    Wire {
        prekey: t == 3,
        body,
        plaintext: plaintext.to_vec(),
    }
}

fn peer_decrypt(peer: &mut Peer, w: &Wire) -> Result<Vec<u8>, String> {
    let r = peer.call(
        json!({"op": "decrypt", "type": if w.prekey { 3 } else { 1 }, "body": to_hex(&w.body)}),
    );
    if r["ok"] == true {
        Ok(hex(r["plaintext"].as_str().unwrap()))
    } else {
        Err(r["error"].as_str().unwrap_or("?").to_owned())
    }
}

/// A flipped bit in the ciphertext or MAC of the (inner) message.
fn tamper(w: &Wire, rng: &mut ChaCha20Rng) -> Wire {
    let mut t = w.clone();
    let end = if w.prekey {
        // The embedded message ends before the registration id and signed prekey id fields.
        let view = safemeet::signal::wire::decode_pre_key_message(&w.body).unwrap();
        let inner_at = view.message_bytes.as_ptr() as usize - w.body.as_ptr() as usize;
        inner_at + view.message_bytes.len()
    } else {
        w.body.len()
    };
    let at = end - 1 - (rng.next_u32() as usize % 24);
    t.body[at] ^= 1 << (rng.next_u32() % 8);
    t
}

#[derive(Default, Debug)]
struct Counts {
    to_peer: usize,
    to_us: usize,
    replays_refused: usize,
    tampered_refused: usize,
    late: usize,
}

/// A long conversation with random direction changes and random delivery order. `we_start` says who
/// initiated. Every message is delivered exactly once in the end; some are replayed, some tampered
/// with first.
fn converse(peer: &mut Peer, ours: &mut Ours, we_start: bool, seed: u8, rounds: usize) -> Counts {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut to_peer: Vec<Wire> = Vec::new();
    let mut to_us: Vec<Wire> = Vec::new();
    let mut delivered_to_peer: Vec<Wire> = Vec::new();
    let mut delivered_to_us: Vec<Wire> = Vec::new();
    let mut counts = Counts::default();
    // Until the responder has received something it has no session to send with.
    let (mut we_can_send, mut peer_can_send) = (we_start, !we_start);
    for round in 0..rounds {
        let len = match rng.next_u32() % 4 {
            0 => 0,
            1 => 1 + rng.next_u32() as usize % 16,
            2 => 100,
            _ => 1 + rng.next_u32() as usize % 700,
        };
        let mut plaintext = vec![0u8; len];
        rng.fill_bytes(&mut plaintext);
        match rng.next_u32() % 6 {
            0 | 1 if we_can_send => to_peer.push(ours.encrypt(&mut rng, &plaintext)),
            2 | 3 if peer_can_send => to_us.push(peer_encrypt(peer, &plaintext)),
            4 if !to_peer.is_empty() => {
                let i = rng.next_u32() as usize % to_peer.len();
                if i + 1 < to_peer.len() {
                    counts.late += 1;
                }
                let w = to_peer.remove(i);
                if rng.next_u32() % 5 == 0 {
                    let bad = tamper(&w, &mut rng);
                    assert!(
                        peer_decrypt(peer, &bad).is_err(),
                        "peer accepted a tampered message"
                    );
                    counts.tampered_refused += 1;
                }
                let pt = peer_decrypt(peer, &w)
                    .unwrap_or_else(|e| panic!("round {round}: peer failed: {e}"));
                assert_eq!(pt, w.plaintext);
                counts.to_peer += 1;
                peer_can_send = true;
                delivered_to_peer.push(w);
            }
            5 if !to_us.is_empty() => {
                let i = rng.next_u32() as usize % to_us.len();
                if i + 1 < to_us.len() {
                    counts.late += 1;
                }
                let w = to_us.remove(i);
                if rng.next_u32() % 5 == 0 {
                    let bad = tamper(&w, &mut rng);
                    assert!(
                        ours.decrypt(&bad).is_err(),
                        "we accepted a tampered message"
                    );
                    counts.tampered_refused += 1;
                }
                let pt = ours
                    .decrypt(&w)
                    .unwrap_or_else(|e| panic!("round {round}: we failed: {e}"));
                assert_eq!(pt, w.plaintext);
                counts.to_us += 1;
                we_can_send = true;
                delivered_to_us.push(w);
            }
            _ => {}
        }
        // Now and then, replay something already delivered.
        if rng.next_u32() % 10 == 0 {
            if let Some(w) = delivered_to_peer.last() {
                assert!(peer_decrypt(peer, w).is_err(), "peer accepted a replay");
                counts.replays_refused += 1;
            }
            if let Some(w) = delivered_to_us.last() {
                let e = ours.decrypt(w).unwrap_err();
                assert!(
                    matches!(
                        e,
                        Error::Ratchet(RatchetError::MessageKeyNotFound)
                            | Error::Signal(SignalError::UnknownPreKey)
                    ),
                    "{e:?}"
                );
                counts.replays_refused += 1;
            }
        }
    }
    // Deliver the rest, newest first.
    while let Some(w) = to_peer.pop() {
        assert_eq!(peer_decrypt(peer, &w).unwrap(), w.plaintext);
        counts.to_peer += 1;
    }
    while let Some(w) = to_us.pop() {
        assert_eq!(ours.decrypt(&w).unwrap(), w.plaintext);
        counts.to_us += 1;
    }
    counts
}

/// safemeet starts the session from the peer's bundle; the peer answers.
fn we_initiate(with_pre_key: bool, seed: u8) -> Counts {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut peer = Peer::start();
    let init = peer.ok(json!({"op": "init"}));
    let peer_registration_id = u32_of(&init["registrationId"]);
    let pre_key_id = with_pre_key.then_some(31337);
    let r = peer.ok(json!({"op": "bundle", "signedPreKeyId": 7, "preKeyId": pre_key_id}));
    let bundle = bundle_from_json(&r["bundle"]);
    assert_eq!(
        encode_public_key(&bundle.identity_key).to_vec(),
        hex(init["identityKey"].as_str().unwrap())
    );
    let account = Account::new(&mut rng);
    let session: Session = account.create_outbound_session(&mut rng, &bundle).unwrap();
    assert_eq!(session.their_registration_id(), peer_registration_id);
    let our_registration_id = account.registration_id();
    let mut ours = Ours {
        account,
        session: Some(session),
    };
    // The first message, then the peer has a session naming our registration id and used its
    // one-time prekey.
    let first = ours.encrypt(&mut rng, b"hello from safemeet");
    assert!(first.prekey);
    assert_eq!(
        peer_decrypt(&mut peer, &first).unwrap(),
        b"hello from safemeet"
    );
    let r = peer.ok(json!({"op": "remoteRegistrationId"}));
    assert_eq!(u32_of(&r["registrationId"]), our_registration_id);
    if with_pre_key {
        let r = peer.ok(json!({"op": "hasPreKey", "id": 31337}));
        assert_eq!(
            r["present"], false,
            "the peer kept its used one-time prekey"
        );
    }
    let mut counts = converse(&mut peer, &mut ours, true, seed, 300);
    counts.to_peer += 1;
    counts
}

/// The peer starts the session from our bundle; we answer.
fn peer_initiates(with_pre_key: bool, seed: u8) -> Counts {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut peer = Peer::start();
    let init = peer.ok(json!({"op": "init"}));
    let peer_registration_id = u32_of(&init["registrationId"]);
    let mut account: Account = Account::new(&mut rng);
    account.generate_one_time_pre_keys(&mut rng, 5);
    let pre_key_id = with_pre_key.then(|| account.one_time_pre_keys().nth(2).unwrap().0);
    let bundle = account.bundle(pre_key_id).unwrap();
    peer.ok(json!({"op": "initOutgoing", "bundle": bundle_to_json(&bundle)}));
    let mut ours = Ours {
        account,
        session: None,
    };
    // The peer's first message starts our session.
    let first = peer_encrypt(&mut peer, b"hello from libsignal");
    assert!(first.prekey);
    let view = safemeet::signal::wire::decode_pre_key_message(&first.body).unwrap();
    assert_eq!(view.ids.registration_id, peer_registration_id);
    assert_eq!(view.ids.pre_key_id, pre_key_id);
    assert_eq!(ours.decrypt(&first).unwrap(), b"hello from libsignal");
    let session = ours.session.as_ref().unwrap();
    assert_eq!(session.their_registration_id(), peer_registration_id);
    assert_eq!(
        encode_public_key(&session.their_identity_key()).to_vec(),
        hex(init["identityKey"].as_str().unwrap())
    );
    // The used one-time prekey is gone (4 of 5 left), and a replay of the first message is refused.
    assert_eq!(
        ours.account.one_time_pre_keys().count(),
        4 + usize::from(!with_pre_key)
    );
    let r = peer.ok(json!({"op": "remoteRegistrationId"}));
    assert_eq!(u32_of(&r["registrationId"]), ours.account.registration_id());
    let mut counts = converse(&mut peer, &mut ours, false, seed, 300);
    counts.to_us += 1;
    counts
}

#[test]
fn safemeet_to_libsignal_with_one_time_prekey() {
    let c = we_initiate(true, 1);
    println!("{c:?}");
    assert!(c.to_peer > 50 && c.to_us > 50 && c.late > 10 && c.replays_refused > 5);
    assert!(c.tampered_refused > 5);
}

#[test]
fn safemeet_to_libsignal_without_one_time_prekey() {
    let c = we_initiate(false, 2);
    println!("{c:?}");
    assert!(c.to_peer > 50 && c.to_us > 50 && c.late > 10 && c.replays_refused > 5);
}

#[test]
fn libsignal_to_safemeet_with_one_time_prekey() {
    let c = peer_initiates(true, 3);
    println!("{c:?}");
    assert!(c.to_peer > 50 && c.to_us > 50 && c.late > 10 && c.replays_refused > 5);
    assert!(c.tampered_refused > 5);
}

#[test]
fn libsignal_to_safemeet_without_one_time_prekey() {
    let c = peer_initiates(false, 4);
    println!("{c:?}");
    assert!(c.to_peer > 50 && c.to_us > 50 && c.late > 10 && c.replays_refused > 5);
}

/// A jump of libsignal's maximum (2000 keys derived: the first message delivered is the 2000th) decrypts
/// both ways, and the skipped messages still arrive late: all of them at the peer, on our side the
/// 256 just before the jump (`limits::SIGNAL_MAX_SKIPPED_KEYS`, our documented departure).
#[test]
fn long_jumps_both_ways() {
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let mut peer = Peer::start();
    peer.ok(json!({"op": "init"}));
    let r = peer.ok(json!({"op": "bundle", "signedPreKeyId": 1}));
    let account = Account::new(&mut rng);
    let session: Session = account
        .create_outbound_session(&mut rng, &bundle_from_json(&r["bundle"]))
        .unwrap();
    let mut ours = Ours {
        account,
        session: Some(session),
    };
    let sent: Vec<Wire> = (0..2000u32)
        .map(|i| ours.encrypt(&mut rng, &i.to_be_bytes()))
        .collect();
    assert_eq!(
        peer_decrypt(&mut peer, &sent[1999]).unwrap(),
        sent[1999].plaintext
    );
    assert_eq!(
        peer_decrypt(&mut peer, &sent[0]).unwrap(),
        sent[0].plaintext
    );
    assert_eq!(
        peer_decrypt(&mut peer, &sent[1000]).unwrap(),
        sent[1000].plaintext
    );
    let sent: Vec<Wire> = (0..2000u32)
        .map(|i| peer_encrypt(&mut peer, &i.to_be_bytes()))
        .collect();
    assert_eq!(ours.decrypt(&sent[1999]).unwrap(), sent[1999].plaintext);
    assert_eq!(ours.decrypt(&sent[1998]).unwrap(), sent[1998].plaintext);
    assert_eq!(
        ours.decrypt(&sent[1999 - 256]).unwrap(),
        sent[1999 - 256].plaintext
    );
    // Where the departure shows: older skipped keys were evicted.
    assert_eq!(
        ours.decrypt(&sent[0]).unwrap_err(),
        Error::Ratchet(RatchetError::MessageKeyNotFound)
    );
    // One past libsignal's jump is refused by both.
    let more: Vec<Wire> = (0..2002u32)
        .map(|i| ours.encrypt(&mut rng, &i.to_be_bytes()))
        .collect();
    assert!(peer_decrypt(&mut peer, &more[2001]).is_err());
    let more: Vec<Wire> = (0..2002u32)
        .map(|i| peer_encrypt(&mut peer, &i.to_be_bytes()))
        .collect();
    assert_eq!(
        ours.decrypt(&more[2001]).unwrap_err(),
        Error::Ratchet(RatchetError::TooFarAhead)
    );
}

//! The published classic Signal wire vectors (`specs/signal.md` §7), reproduced byte for byte:
//! libsignal-protocol-javascript's `test/testvectors.js` (every scripted conversation in the file, as
//! Alice and as Bob, in the orders the file shuffles them into), and libsignal's X3DH → first chain
//! vector (`rust/protocol/tests/ratchet.rs` at v0.74.0, the same numbers as libsignal-protocol-java's
//! `RatchetingSessionTest`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![cfg(all(feature = "alloc", feature = "hazmat"))]

mod common;

use std::collections::VecDeque;
use std::convert::Infallible;

use common::{arr, hex, to_hex};
use rand_core::{TryCryptoRng, TryRng};
use safemeet::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use safemeet::primitives::xeddsa::XEdDsaSignature;
use safemeet::signal::keys::decode_public_key;
use safemeet::signal::wire::{decode_pre_key_message, decode_signal_message};
use safemeet::signal::{Account, MessageType, PreKeyBundle, Session};
use serde_json::Value;

/// An RNG that yields exactly one scripted 32-byte key, then panics: the vectors fix every key.
struct ScriptedKey(Option<[u8; 32]>);

impl TryRng for ScriptedKey {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("the vectors fix every key")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("the vectors fix every key")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert_eq!(dst.len(), 32);
        dst.copy_from_slice(&self.0.take().expect("no scripted ratchet key left"));
        Ok(())
    }
}
impl TryCryptoRng for ScriptedKey {}

fn vectors() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-vectors/signal.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The harness's plaintext: a `PushMessageContent` protobuf, `0x80`, zeros up to 159 bytes.
fn padded(data: &Value) -> Vec<u8> {
    let mut content = if data.get("endSession").is_some() {
        vec![0x20, 0x01] // flags (field 4) = END_SESSION (1)
    } else {
        let text = data
            .get("smsText")
            .or_else(|| data.get("expectedSmsText"))
            .and_then(Value::as_str)
            .unwrap()
            .as_bytes();
        let mut c = vec![0x0A, u8::try_from(text.len()).unwrap()];
        c.extend_from_slice(text);
        c
    };
    content.push(0x80);
    content.resize(159, 0);
    content
}

fn key(data: &Value, name: &str) -> Option<[u8; 32]> {
    data.get(name).map(|v| arr::<32>(v.as_str().unwrap()))
}

fn id(value: &Value) -> u32 {
    u32::try_from(value.as_u64().unwrap()).unwrap()
}

/// A session of the scripted party, with the ratchet key its next DH step will use and the peer
/// ratchet keys it has seen.
struct Scripted {
    session: Session,
    next_ratchet: Option<[u8; 32]>,
    seen: Vec<Curve25519PublicKey>,
}

/// One party of a scripted conversation, driven as `test/SessionCipherTest.js` drives
/// libsignal-protocol-javascript: its keys come from the steps, its sessions are kept oldest first
/// (the newest is the open one), and the ratchet keys the script queues are handed out one per DH
/// step, in order.
struct Party {
    alice: bool,
    account: Option<Account>,
    sessions: Vec<Scripted>,
    queue: VecDeque<[u8; 32]>,
}

impl Party {
    fn new(alice: bool) -> Self {
        Self {
            alice,
            account: None,
            sessions: Vec::new(),
            queue: VecDeque::new(),
        }
    }

    /// The step's key setup: the account on first sight of an identity key, one-time prekeys as they
    /// appear.
    fn setup(&mut self, data: &Value) {
        if let (None, Some(identity)) = (&self.account, key(data, "ourIdentityKey")) {
            let registration_id = data.get("registrationId").map_or(1, id);
            let (spk_id, spk) = if self.alice {
                (1, [0x11; 32]) // Alice's own signed prekey plays no part
            } else {
                (
                    id(&data["signedPreKeyId"]),
                    key(data, "ourSignedPreKey").unwrap(),
                )
            };
            let sig = XEdDsaSignature::from_bytes([0; 64]);
            self.account = Some(Account::from_keys(
                &identity,
                registration_id,
                spk_id,
                &spk,
                sig,
            ));
        }
        if let (Some(opk), Some(pre_key_id)) = (key(data, "ourPreKey"), data.get("preKeyId")) {
            let account = self.account.as_mut().unwrap();
            let pre_key_id = id(pre_key_id);
            if !account.one_time_pre_keys().any(|(i, _)| i == pre_key_id) {
                assert_eq!(account.add_one_time_pre_key(pre_key_id, &opk), None);
            }
        }
    }

    fn send(&mut self, data: &Value) -> Vec<u8> {
        for name in ["ourBaseKey", "ourEphemeralKey"] {
            if let Some(k) = key(data, name) {
                self.queue.push_back(k);
            }
        }
        self.setup(data);
        if let Some(keys) = data.get("getKeys") {
            let device = &keys["devices"][0];
            let spk = &device["signedPreKey"];
            let public = |v: &Value| decode_public_key(&hex(v.as_str().unwrap())).unwrap();
            let bundle = PreKeyBundle {
                registration_id: id(&device["registrationId"]),
                identity_key: public(&keys["identityKey"]),
                signed_pre_key_id: id(&spk["keyId"]),
                signed_pre_key: public(&spk["publicKey"]),
                signed_pre_key_signature: XEdDsaSignature::from_slice(&hex(spk["signature"]
                    .as_str()
                    .unwrap()))
                .unwrap(),
                pre_key: device
                    .get("preKey")
                    .map(|p| (id(&p["keyId"]), public(&p["publicKey"]))),
            };
            let base = self.queue.pop_front().unwrap();
            // This checks the bundle's published XEdDSA signature over the signed prekey.
            let session = self
                .account
                .as_ref()
                .unwrap()
                .create_outbound_session_with_base_key(&base, &bundle)
                .unwrap();
            assert_eq!(session.their_registration_id(), 0xd00d);
            self.sessions.push(Scripted {
                session,
                next_ratchet: self.queue.pop_front(),
                seen: Vec::new(),
            });
        }
        let s = self.sessions.last_mut().unwrap();
        let mut rng = ScriptedKey(s.next_ratchet);
        let (message_type, bytes) = s.session.encrypt(&mut rng, &padded(data)).unwrap();
        s.next_ratchet = rng.0;
        let expected_type = if bytes.get(1) == Some(&0x0A) {
            MessageType::Whisper
        } else {
            MessageType::PreKey
        };
        assert_eq!(message_type, expected_type);
        bytes
    }

    fn receive(&mut self, data: &Value) -> Vec<u8> {
        if let Some(k) = key(data, "newEphemeralKey") {
            self.queue.push_back(k);
        }
        self.setup(data);
        let message = hex(data["message"].as_str().unwrap());
        let (index, ratchet_key, plaintext) = if data["type"].as_u64() == Some(3) {
            let view = decode_pre_key_message(&message).unwrap();
            let ratchet_key = view.message.ratchet_key;
            match self
                .sessions
                .iter()
                .position(|s| s.session.matches_pre_key_message(&message))
            {
                Some(i) => {
                    let pt = self.sessions[i]
                        .session
                        .decrypt(MessageType::PreKey, &message)
                        .unwrap();
                    (i, ratchet_key, pt)
                }
                None => {
                    let account = self.account.as_mut().unwrap();
                    let (session, pt) = account.create_inbound_session(&message).unwrap();
                    assert_eq!(session.their_registration_id(), view.ids.registration_id);
                    self.sessions.push(Scripted {
                        session,
                        next_ratchet: None,
                        seen: Vec::new(),
                    });
                    (self.sessions.len() - 1, ratchet_key, pt)
                }
            }
        } else {
            let ratchet_key = decode_signal_message(&message).unwrap().ratchet_key;
            // Newest session first, as libsignal tries its open state, then the archived ones. A
            // session that fails is unchanged.
            let (i, pt) = (0..self.sessions.len())
                .rev()
                .find_map(|i| {
                    self.sessions[i]
                        .session
                        .decrypt(MessageType::Whisper, &message)
                        .ok()
                        .map(|pt| (i, pt))
                })
                .expect("no session decrypts the message");
            (i, ratchet_key, pt)
        };
        let s = &mut self.sessions[index];
        if !s.seen.contains(&ratchet_key) {
            s.seen.push(ratchet_key);
            s.next_ratchet = self.queue.pop_front();
        }
        plaintext
    }
}

/// Every test of `testvectors.js`: each sent message byte for byte, each received message decrypted
/// to the harness's plaintext.
#[test]
fn libsignal_protocol_javascript_conversations() {
    let v = vectors();
    let tests = v["tests"].as_array().unwrap();
    let (mut sent, mut received, mut pre_key_sent) = (0, 0, 0);
    for test in tests {
        let name = test["name"].as_str().unwrap();
        let alice = name.contains("as Alice");
        let mut party = Party::new(alice);
        for (n, step) in test["vectors"].as_array().unwrap().iter().enumerate() {
            let data = &step["data"];
            match step["op"].as_str().unwrap() {
                "sendMessage" => {
                    let bytes = party.send(data);
                    let expected = data["expectedCiphertext"].as_str().unwrap();
                    assert_eq!(to_hex(&bytes), expected, "{name}: step {n}");
                    if bytes.len() == 298 {
                        pre_key_sent += 1;
                    }
                    sent += 1;
                }
                "receiveMessage" => {
                    let plaintext = party.receive(data);
                    let mut want = data.clone();
                    if data.get("expectTerminateSession").is_some() {
                        want["endSession"] = Value::Bool(true);
                    }
                    assert_eq!(plaintext, padded(&want), "{name}: step {n}");
                    received += 1;
                }
                other => panic!("unknown step {other}"),
            }
        }
    }
    assert_eq!(tests.len(), 15);
    assert_eq!((sent, received, pre_key_sent), (28, 55, 9));
}

/// libsignal `rust/protocol/tests/ratchet.rs` at v0.74.0 (`test_ratcheting_session_as_bob`): X3DH
/// without a one-time prekey; Bob's first sending chain key. Checked through the responder's
/// agreement, and through a session: Bob's sending chain at index 0 seals his first message with
/// `HMAC(CK, 0x01)`.
#[test]
fn libsignal_ratcheting_session_as_bob() {
    use safemeet::x3dh::signal::respond;
    let bob_identity = Curve25519SecretKey::from_bytes(&arr(
        "4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e",
    ));
    assert_eq!(
        to_hex(&safemeet::signal::keys::encode_public_key(
            &bob_identity.public_key()
        )),
        "05f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626"
    );
    let bob_signed = Curve25519SecretKey::from_bytes(&arr(
        "583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253",
    ));
    assert_eq!(
        to_hex(&safemeet::signal::keys::encode_public_key(
            &bob_signed.public_key()
        )),
        "05ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67"
    );
    let alice_identity = decode_public_key(&hex(
        "05b4a8455660ada65b401007f615e654041746432e3339c6875149bceefcb42b4a",
    ))
    .unwrap();
    let alice_base = decode_public_key(&hex(
        "05472d1fb1a9862c3af6beaca8920277e2b26f4a79213ec7c906aeb35e03cf8950",
    ))
    .unwrap();
    let secrets = respond(
        &bob_identity,
        &bob_signed,
        None,
        &alice_identity,
        &alice_base,
    )
    .unwrap();
    assert_eq!(
        to_hex(secrets.chain.as_bytes()),
        "9797caca53c989bbe229a40ca7727010eb2604fc14945d77958a0aeda088b44d"
    );
    // The Alice-side test of the same file (`test_ratcheting_session_as_alice`) cannot be reproduced
    // this way, and libsignal's own expectation there (`ab9be50e…031a`) "differs from the Java test and
    // needs investigation": its Alice base private key does not match the base public key Bob uses.
    let alice_base_secret = Curve25519SecretKey::from_bytes(&arr(
        "11ae7c64d1e61cd596b76a0db5012673391cae66edbfcf073b4da80516a47449",
    ));
    assert_ne!(alice_base_secret.public_key(), alice_base);
    let alice_identity_secret = Curve25519SecretKey::from_bytes(&arr(
        "9040f0d4e09cf38f6dc7c13779c908c015a1da4fa78737a080eb0a6f4f5f8f58",
    ));
    assert_eq!(alice_identity_secret.public_key(), alice_identity);
}

/// libsignal `rust/protocol/src/ratchet/keys.rs` `test_chain_key_derivation` (the same numbers as
/// libsignal-protocol-java `ChainKeyTest.testChainKeyDerivationV3`): a chain key's message key
/// expanded with `WhisperMessageKeys` (cipher key, MAC key), and the next chain key, through the
/// shared ratchet core's chain.
#[test]
fn libsignal_chain_key_derivation() {
    use safemeet::primitives::hkdf::hkdf_sha256;
    use safemeet::ratchet::ChainKey;
    let seed = arr::<32>("8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f");
    let mut chain = ChainKey::new(seed, 0);
    let message_key = chain.message_key();
    assert_eq!(message_key.index(), 0);
    let mut okm = [0u8; 80];
    hkdf_sha256(
        &[0; 32],
        message_key.as_bytes(),
        b"WhisperMessageKeys",
        &mut okm,
    )
    .unwrap();
    assert_eq!(
        to_hex(&okm[..32]),
        "bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217"
    );
    assert_eq!(
        to_hex(&okm[32..64]),
        "c6c77d6a73a354337a56435e34607dfe48e3ace14e77314dc6abc172e7a7030b"
    );
    assert!(chain.advance());
    assert_eq!(chain.index(), 1);
    assert_eq!(
        to_hex(chain.as_bytes()),
        "28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d"
    );
}

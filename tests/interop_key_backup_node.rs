//! Server-side key backup against matrix-sdk-crypto compiled to wasm (npm
//! `@matrix-org/matrix-sdk-crypto-wasm@18.9.0`, what Element Web runs), through
//! `interop/node/backup_peer.mjs`:
//!
//! - its `BackupDecryptionKey.decryptV1` decrypts our ciphertexts, for keys we made and keys it made;
//! - its `fromBase64` of our key gives our public key, and our `from_base64` of its key gives its;
//! - its `OlmMachine`, given room keys and our backup public key, produces a `PUT /room_keys/keys`
//!   body whose every `KeyBackupData` we decrypt to the room keys it was given;
//! - a changed MAC is refused by it too.
//!
//! Requires `npm ci --ignore-scripts` in `interop/node` (CI does it); without it every test fails and
//! says so.
#![cfg(feature = "std")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "common/node_peer.rs"]
mod node_peer;

use node_peer::NodePeer;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::backup::key_backup::{BackupDecryptionKey, BackupPublicKey, KeyBackupMeta};
use safemeet::codec::{base64, json};
use safemeet::megolm::{GroupSession, InboundGroupSession};
use serde_json::{Value, json};

/// The Node peer (`interop/node/backup_peer.mjs`).
struct Peer(NodePeer);

impl Peer {
    fn start() -> Self {
        Self(NodePeer::start(
            "backup_peer.mjs",
            "@matrix-org/matrix-sdk-crypto-wasm",
        ))
    }

    fn call(&mut self, request: &Value) -> Value {
        self.0.call(request)
    }

    fn ok(&mut self, request: &Value) -> Value {
        self.0.ok(request)
    }
}

/// Text plaintexts (`decryptV1` returns a string): empty, short, around the block size, a realistic
/// backed-up session, long, and non-ASCII.
fn plaintexts(rng: &mut ChaCha20Rng) -> Vec<String> {
    let mut v = vec![String::new(), "{}".into(), "x".repeat(15), "x".repeat(16)];
    for len in [17usize, 31, 32, 33, 100, 600, 5000] {
        let s: String = (0..len)
            .map(|_| char::from(b'!' + (rng.next_u32() % 94) as u8))
            .collect();
        v.push(s);
    }
    v.push("日本語 — ünïcödé 🔑".repeat(20));
    v
}

fn encrypt_parts(public: &BackupPublicKey, rng: &mut ChaCha20Rng, pt: &[u8]) -> Value {
    let sd = public.encrypt_session_data(rng, pt).unwrap();
    serde_json::from_str(&sd.to_canonical()).unwrap()
}

#[test]
fn matrix_sdk_crypto_decrypts_ours() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([31; 32]);
    let mut decrypted = 0;
    let mut keys = Vec::new();
    // Keys we made.
    for _ in 0..3 {
        keys.push(BackupDecryptionKey::generate(&mut rng));
    }
    // Keys it made.
    for _ in 0..3 {
        let r = peer.ok(&json!({"op": "create"}));
        let key = BackupDecryptionKey::from_base64(r["key"].as_str().unwrap()).unwrap();
        assert_eq!(key.public_key().to_base64(), r["public"].as_str().unwrap());
        assert_eq!(*key.to_base64(), r["key"].as_str().unwrap());
        keys.push(key);
    }
    for key in &keys {
        // Its view of our key: the same text and public key.
        let r = peer.ok(&json!({"op": "public", "key": &*key.to_base64()}));
        assert_eq!(r["key"].as_str().unwrap(), &*key.to_base64());
        assert_eq!(r["public"].as_str().unwrap(), key.public_key().to_base64());
        for pt in plaintexts(&mut rng) {
            let sd = encrypt_parts(&key.public_key(), &mut rng, pt.as_bytes());
            let r = peer.ok(&json!({
                "op": "decrypt",
                "key": &*key.to_base64(),
                "ephemeral": sd["ephemeral"],
                "mac": sd["mac"],
                "ciphertext": sd["ciphertext"],
            }));
            assert_eq!(r["plaintext"].as_str().unwrap(), pt);
            decrypted += 1;
        }
    }
    println!("matrix-sdk-crypto decrypted {decrypted} of our backup ciphertexts");
    assert_eq!(decrypted, 6 * 12);
}

#[test]
fn matrix_sdk_crypto_refuses_a_changed_mac() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([32; 32]);
    let key = BackupDecryptionKey::generate(&mut rng);
    let mut refused = 0;
    for i in 0..8 {
        let sd = encrypt_parts(&key.public_key(), &mut rng, b"{\"a\":1}");
        let mut mac = base64::decode(sd["mac"].as_str().unwrap()).unwrap();
        mac[i] ^= 0x10;
        let r = peer.call(&json!({
            "op": "decrypt",
            "key": &*key.to_base64(),
            "ephemeral": sd["ephemeral"],
            "mac": base64::encode(&mac),
            "ciphertext": sd["ciphertext"],
        }));
        assert_eq!(r["ok"], false, "{r}");
        refused += 1;
    }
    assert_eq!(refused, 8);
}

/// An exported room key (`ExportedSessionData`) of a fresh Megolm session of ours.
fn exported_session(rng: &mut ChaCha20Rng, room: &str, sender: &BackupDecryptionKey) -> Value {
    let session = GroupSession::new(rng);
    let inbound = InboundGroupSession::new(&session.session_key());
    let mut claimed = [0u8; 32];
    rng.fill_bytes(&mut claimed);
    json!({
        "algorithm": "m.megolm.v1.aes-sha2",
        "room_id": room,
        "sender_key": sender.public_key().to_base64(),
        "session_id": session.session_id().to_string(),
        "session_key": &*inbound.export_at_first_known_index().to_base64(),
        "sender_claimed_keys": {"ed25519": base64::encode(session.signing_key().as_bytes())},
        "forwarding_curve25519_key_chain": [],
    })
}

#[test]
fn we_decrypt_matrix_sdk_cryptos_backup_upload() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([33; 32]);
    let mut decrypted = 0;
    for round in 0..3 {
        let key = if round == 0 {
            BackupDecryptionKey::generate(&mut rng)
        } else {
            let r = peer.ok(&json!({"op": "create"}));
            BackupDecryptionKey::from_base64(r["key"].as_str().unwrap()).unwrap()
        };
        let sender = BackupDecryptionKey::generate(&mut rng);
        let sessions: Vec<Value> = (0..5)
            .map(|i| exported_session(&mut rng, &format!("!room{}:example.org", i % 2), &sender))
            .collect();
        let r = peer.ok(&json!({
            "op": "backup",
            "public": key.public_key().to_base64(),
            "version": "7",
            "keys": serde_json::to_string(&sessions).unwrap(),
        }));
        assert_eq!(r["version"], "7");
        let body = json::parse_response(r["body"].as_str().unwrap().as_bytes()).unwrap();
        let rooms = body.get("rooms").unwrap().as_object().unwrap();
        let mut seen = 0;
        for (room_id, room) in rooms {
            for (session_id, entry) in room.get("sessions").unwrap().as_object().unwrap() {
                let out = key.decrypt_key_backup_data(entry).unwrap();
                assert_eq!(
                    out.meta,
                    KeyBackupMeta::from_json(entry).unwrap(),
                    "the metadata reads the same"
                );
                assert!(!out.meta.is_verified);
                let plain: Value = serde_json::from_slice(&out.plaintext).unwrap();
                let original = sessions
                    .iter()
                    .find(|s| s["session_id"] == *session_id && s["room_id"] == *room_id)
                    .expect("a session we gave it");
                for field in [
                    "algorithm",
                    "sender_key",
                    "session_key",
                    "sender_claimed_keys",
                    "forwarding_curve25519_key_chain",
                ] {
                    assert_eq!(plain[field], original[field], "{field}");
                }
                seen += 1;
                decrypted += 1;
            }
        }
        assert_eq!(seen, sessions.len());
    }
    println!("we decrypted {decrypted} KeyBackupData entries matrix-sdk-crypto encrypted");
    assert_eq!(decrypted, 15);
}

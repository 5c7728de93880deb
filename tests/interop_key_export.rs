//! Key-export interop with matrix-sdk-crypto (npm `@matrix-org/matrix-sdk-crypto-wasm` 18.9.0, driven by
//! Node through `interop/node/export_peer.mjs`) and, for the room keys themselves, with vodozemac.
//!
//! * Files both ways: random room keys and passphrases (ASCII, non-ASCII, empty), small round counts
//!   and one file at the default 500,000; each side decrypts the other's and gets the same keys.
//! * Refusals both ways: a wrong passphrase and a tampered file.
//! * Sessions: a vodozemac session exported through our `RoomKey` JSON decrypts vodozemac's messages
//!   once imported by us; ours, exported and imported by vodozemac, decrypts our messages.
//!
//! Requires `npm ci --ignore-scripts` in `interop/node` (CI does it); without it the file tests fail and
//! say so.
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

#[path = "common/node_peer.rs"]
mod node_peer;

use node_peer::NodePeer;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::BackupError;
use safemeet::backup::export::{self, DEFAULT_ROUNDS};
use safemeet::backup::room_key::RoomKey;
use safemeet::codec::{base64, json};
use safemeet::megolm::{GroupSession, InboundGroupSession};
use safemeet::primitives::curve25519::Curve25519PublicKey;
use safemeet::primitives::ed25519::Ed25519SecretKey;
use serde_json::{Value, json};
use vodozemac::megolm as vz;

/// The Node peer (`interop/node/export_peer.mjs`).
struct Peer(NodePeer);

impl Peer {
    fn start() -> Self {
        Self(NodePeer::start(
            "export_peer.mjs",
            "@matrix-org/matrix-sdk-crypto-wasm",
        ))
    }

    fn call(&mut self, request: &Value) -> Value {
        self.0.call(request)
    }

    fn encrypt(&mut self, json: &str, passphrase: &str, rounds: u32) -> String {
        let r = self.call(
            &json!({"op": "encrypt", "json": json, "passphrase": passphrase, "rounds": rounds}),
        );
        assert_eq!(r["ok"], true, "peer encrypt failed: {r}");
        r["file"].as_str().unwrap().to_owned()
    }

    fn decrypt(&mut self, file: &str, passphrase: &str) -> Result<Vec<Value>, String> {
        let r = self.call(&json!({"op": "decrypt", "file": file, "passphrase": passphrase}));
        if r["ok"] == true {
            Ok(serde_json::from_str(r["json"].as_str().unwrap()).unwrap())
        } else {
            Err(r["error"].as_str().unwrap_or_default().to_owned())
        }
    }
}

/// A random room key from a fresh session, some advanced past index 0, some with shared history and a
/// forwarding chain.
fn random_key(rng: &mut ChaCha20Rng, i: usize) -> RoomKey {
    let mut outbound = GroupSession::new(rng);
    for _ in 0..(i % 3) {
        outbound.encrypt(b"advance").unwrap();
    }
    let inbound = InboundGroupSession::new(&outbound.session_key());
    let mut sender = [0u8; 32];
    rng.fill_bytes(&mut sender);
    let claimed = Ed25519SecretKey::generate(rng).public_key();
    let room = format!("!room{}:example.org", rng.next_u32() % 5);
    let mut key = RoomKey::from_inbound(
        &inbound,
        &room,
        Curve25519PublicKey::from_bytes(sender),
        Some(claimed),
        i.is_multiple_of(2),
    );
    if i % 4 == 1 {
        let mut forwarder = [0u8; 32];
        rng.fill_bytes(&mut forwarder);
        key.forwarding_curve25519_key_chain
            .push(Curve25519PublicKey::from_bytes(forwarder));
    }
    key
}

/// What both sides must agree on for one key, as JSON values.
fn summary_of_peer(entry: &Value) -> Value {
    json!({
        "room_id": entry["room_id"],
        "session_id": entry["session_id"],
        "session_key": entry["session_key"],
        "sender_key": entry["sender_key"],
        "ed25519": entry["sender_claimed_keys"]["ed25519"],
        "chain": entry["forwarding_curve25519_key_chain"],
        "shared_history": entry["m.shared_history"],
    })
}

fn summary_of_ours(key: &RoomKey) -> Value {
    json!({
        "room_id": key.room_id.as_deref().unwrap(),
        "session_id": key.session_key.session_id().as_str(),
        "session_key": key.session_key.to_base64().as_str(),
        "sender_key": base64::encode(key.sender_key.as_bytes()),
        "ed25519": base64::encode(key.sender_claimed_ed25519.unwrap().as_bytes()),
        "chain": key.forwarding_curve25519_key_chain.iter().map(|k| base64::encode(k.as_bytes())).collect::<Vec<_>>(),
        "shared_history": key.shared_history,
    })
}

fn passphrase(rng: &mut ChaCha20Rng, i: usize) -> String {
    const WORDS: [&str; 8] = [
        "correct",
        "horse",
        "pâté",
        "日本語",
        "пароль",
        "🔑",
        "Ωmega",
        "\u{200d}",
    ];
    match i % 5 {
        0 => String::new(),
        1 => "1234".into(),
        _ => (0..(2 + rng.next_u32() % 6))
            .map(|_| WORDS[(rng.next_u32() % 8) as usize])
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Flips one character of the base64 body.
fn tamper(file: &str, rng: &mut ChaCha20Rng) -> String {
    let mut lines: Vec<String> = file.lines().map(String::from).collect();
    let body_lines = lines.len() - 2;
    let line = &mut lines[1 + (rng.next_u32() as usize % body_lines)];
    let at = rng.next_u32() as usize % line.len();
    let c = line.as_bytes()[at];
    let replacement = if c == b'A' { "B" } else { "A" };
    line.replace_range(at..=at, replacement);
    lines.join("\n")
}

#[test]
fn files_both_ways() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([0x51; 32]);
    let (mut ours_read, mut theirs_read, mut keys_total, mut refused) = (0, 0, 0, 0);
    for i in 0..12 {
        let n = i % 4 + (i / 4) * 3;
        let keys: Vec<RoomKey> = (0..n).map(|j| random_key(&mut rng, i + j)).collect();
        let pw = passphrase(&mut rng, i);
        let rounds = if i == 11 {
            DEFAULT_ROUNDS
        } else {
            1 + rng.next_u32() % 100
        };
        keys_total += n;

        // Ours, read by them.
        let file = export::export_room_keys(&mut rng, &keys, &pw, rounds).unwrap();
        let theirs = peer.decrypt(&file, &pw).unwrap();
        assert_eq!(
            theirs.iter().map(summary_of_peer).collect::<Vec<_>>(),
            keys.iter().map(summary_of_ours).collect::<Vec<_>>(),
            "file {i}"
        );
        ours_read += 1;

        // Theirs (from the JSON they gave back), read by us.
        let their_json = serde_json::to_string(&theirs).unwrap();
        let their_file = peer.encrypt(&their_json, &pw, rounds);
        let imported = export::import_room_keys(&their_file, &pw).unwrap();
        assert_eq!(imported.rejected, 0);
        assert_eq!(
            imported
                .keys
                .iter()
                .map(summary_of_ours)
                .collect::<Vec<_>>(),
            keys.iter().map(summary_of_ours).collect::<Vec<_>>(),
            "their file {i}"
        );
        for key in &imported.keys {
            key.to_inbound().unwrap();
        }
        theirs_read += 1;

        // Refusals both ways.
        let wrong = format!("{pw}x");
        assert!(peer.decrypt(&file, &wrong).is_err());
        assert_eq!(
            export::import_room_keys(&their_file, &wrong).map(|_| ()),
            Err(BackupError::Authentication)
        );
        let bad = tamper(&file, &mut rng);
        assert!(
            peer.decrypt(&bad, &pw).is_err(),
            "peer read a tampered file"
        );
        let bad = tamper(&their_file, &mut rng);
        assert!(export::import_room_keys(&bad, &pw).is_err());
        refused += 4;
    }
    println!(
        "key-export files: {ours_read} ours read by matrix-sdk-crypto, {theirs_read} theirs read by us, \
         {keys_total} room keys each way, {refused} wrong-passphrase/tampered files refused"
    );
}

#[test]
fn vodozemac_session_through_our_room_key() {
    let mut rng = ChaCha20Rng::from_seed([0x53; 32]);
    let mut theirs = vz::GroupSession::new(vz::SessionConfig::version_1());
    let their_inbound =
        vz::InboundGroupSession::new(&theirs.session_key(), vz::SessionConfig::version_1());
    let messages: Vec<_> = (0..5)
        .map(|i| theirs.encrypt(format!("message {i}").as_bytes()).to_bytes())
        .collect();
    let exported = their_inbound.export_at_first_known_index();

    // Their export in our RoomKey JSON, through a file and back.
    let entry = json::parse(
        json!({
            "algorithm": "m.megolm.v1.aes-sha2",
            "room_id": "!r:example.org",
            "session_id": their_inbound.session_id(),
            "session_key": exported.to_base64(),
            "sender_key": base64::encode([9u8; 32]),
            "sender_claimed_keys": {},
            "forwarding_curve25519_key_chain": [],
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let key = RoomKey::from_json(&entry).unwrap();
    let file = export::export_room_keys(&mut rng, &[key], "pw", 1).unwrap();
    let mut imported = export::import_room_keys(&file, "pw").unwrap();
    let mut session = imported.keys.remove(0).to_inbound().unwrap();
    assert_eq!(session.session_id().as_str(), their_inbound.session_id());
    for (i, m) in messages.iter().enumerate() {
        let d = session.decrypt(m).unwrap();
        assert_eq!(d.plaintext, format!("message {i}").as_bytes());
    }

    // Ours, exported through RoomKey and imported by vodozemac.
    let mut ours = GroupSession::new(&mut rng);
    let our_inbound = InboundGroupSession::new(&ours.session_key());
    let key = RoomKey::from_inbound(
        &our_inbound,
        "!r:example.org",
        Curve25519PublicKey::from_bytes([1; 32]),
        None,
        false,
    );
    let value = key.to_export_json().unwrap();
    let text = value.to_canonical();
    let parsed: Value = serde_json::from_str(&text).unwrap();
    let their_key =
        vz::ExportedSessionKey::from_base64(parsed["session_key"].as_str().unwrap()).unwrap();
    let mut their_copy =
        vz::InboundGroupSession::import(&their_key, vz::SessionConfig::version_1());
    assert_eq!(
        their_copy.session_id(),
        parsed["session_id"].as_str().unwrap()
    );
    for i in 0..5 {
        let m = ours.encrypt(format!("ours {i}").as_bytes()).unwrap();
        let m = vz::MegolmMessage::from_bytes(&m).unwrap();
        let d = their_copy.decrypt(&m).unwrap();
        assert_eq!(d.plaintext, format!("ours {i}").as_bytes());
        assert_eq!(d.message_index, i);
    }
    println!("vodozemac sessions: 5 messages each way through RoomKey");
}

//! Generates safemeet's own known-answer vectors for native sender keys
//! (`safemeet::session::group`), `test-vectors/native-group.json`, so that another implementation can
//! check itself against ours.
//!
//! Each case draws the sender's 128 ratchet bytes and then its 32-byte Ed25519 seed from a
//! `rand_chacha` 0.10 `ChaCha20Rng` seeded with the case label (ASCII, zero-padded to 32 bytes), which
//! is exactly what `GroupSession::new` draws; cases that start at a later index take those bytes as the
//! ratchet *at* that index (`GroupSession::from_parts`, `hazmat`). Every message lists the ratchet at
//! its index, the derived ChaCha20-Poly1305 key and nonce, and the exact message bytes. Run with
//! `cargo run --example gen_native_group_vectors --features hazmat -- test-vectors`; the output is
//! deterministic. `tests/native_group_vectors.rs` reads it.
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use std::path::PathBuf;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::group::Ratchet;
use safemeet::primitives::hkdf::hkdf_sha256;
use safemeet::session::group::{GroupSession, InboundGroupSession, SENDER_KEY_LEN};
use serde_json::{Value, json};

type BoxError = Box<dyn core::error::Error>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn seed(label: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed[..label.len()].copy_from_slice(label.as_bytes());
    seed
}

fn case(label: &str, start: u32, count: u32) -> Result<Value, BoxError> {
    let rng_seed = seed(label);
    let mut rng = ChaCha20Rng::from_seed(rng_seed);
    let mut ratchet = [0u8; 128];
    rng.fill_bytes(&mut ratchet);
    let mut signing_seed = [0u8; 32];
    rng.fill_bytes(&mut signing_seed);
    let mut sender = GroupSession::from_parts(&ratchet, start, &signing_seed);
    if start == 0 {
        // The same draws through the ordinary constructor give the same session.
        let fresh = GroupSession::new(&mut ChaCha20Rng::from_seed(rng_seed));
        if fresh.session_id() != sender.session_id() {
            return Err("GroupSession::new drew differently".into());
        }
    }
    let mut sender_key = [0u8; SENDER_KEY_LEN];
    sender.sender_key().encode_into(&mut sender_key)?;
    let mut receiver =
        InboundGroupSession::new(&safemeet::session::group::SenderKey::decode(&sender_key)?);
    let mut messages = Vec::new();
    for i in 0..count {
        let index = start + i;
        let plaintext = format!("native group message {i} of {label}");
        let mut at = Ratchet::from_bytes(&ratchet, start);
        at.advance_to(index);
        let mut okm = [0u8; 44];
        hkdf_sha256(
            &[],
            at.as_bytes(),
            b"safemeet native group v1 message keys",
            &mut okm,
        )?;
        let message = sender.encrypt(plaintext.as_bytes())?;
        let (pt, got) = receiver.decrypt(&message)?;
        if pt != plaintext.as_bytes() || got != index {
            return Err("round trip failed".into());
        }
        messages.push(json!({
            "index": index,
            "plaintext": hex(plaintext.as_bytes()),
            "ratchet": hex(at.as_bytes()),
            "key": hex(&okm[..32]),
            "nonce": hex(&okm[32..]),
            "message": hex(&message),
        }));
    }
    Ok(json!({
        "name": label,
        "rng_seed": hex(&rng_seed),
        "start_index": start,
        "ratchet": hex(&ratchet),
        "signing_seed": hex(&signing_seed),
        "signing_key": hex(sender.session_id().as_bytes()),
        "sender_key": hex(&sender_key),
        "messages": messages,
    }))
}

fn main() -> Result<(), BoxError> {
    let dir: PathBuf = std::env::args_os().nth(1).map(PathBuf::from).ok_or(
        "usage: cargo run --example gen_native_group_vectors --features hazmat -- <out dir>",
    )?;
    let cases = vec![
        case("safemeet native-group 1", 0, 5)?,
        case("safemeet native-group 2^8", 0xfe, 4)?,
        case("safemeet native-group 2^16", 0xfffe, 4)?,
        case("safemeet native-group 2^24", 0x00ff_fffe, 4)?,
    ];
    let file = json!({
        "source": "safemeet's own vectors, not a third party's: written by examples/gen_native_group_vectors.rs through the public API with seeded rand_chacha 0.10 ChaCha20Rng (seed = case name, ASCII, zero-padded to 32 bytes)",
        "constants": {
            "version": "01",
            "message": "01 10 index[4, big-endian] ciphertext tag[16] signature[64]",
            "sender_key": "01 11 index[4] ratchet[128] signing_key[32] signature[64] (signature over the first 165 bytes)",
            "export": "01 12 index[4] ratchet[128] signing_key[32]",
            "ratchet": "Megolm: R_k <- HMAC-SHA-256(key = R_h, data = [k]) for k = 3 down to h; h = 0 at multiples of 2^24, 1 of 2^16, 2 of 2^8, else 3",
            "message_keys": "HKDF-SHA-256(salt = none, ikm = ratchet[128] at the index, info = \"safemeet native group v1 message keys\", L = 44): key = [0..32], nonce = [32..44]",
            "aead": "ChaCha20-Poly1305 (RFC 8439), associated data = signing_key[32] || the 6 header bytes",
            "signature": "Ed25519 (RFC 8032) by the signing key over every message byte before the signature"
        },
        "cases": cases,
    });
    let path = dir.join("native-group.json");
    std::fs::write(&path, serde_json::to_string_pretty(&file)? + "\n")?;
    println!("wrote {} ({} cases)", path.display(), 4);
    Ok(())
}

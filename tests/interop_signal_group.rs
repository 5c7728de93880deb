//! Signal sender keys and XEdDSA signatures against the real peer: `@signalapp/libsignal-client`
//! (npm, 0.103.0), driven through `interop/node/group_peer.js` (JSON lines over stdin/stdout).
//!
//! - libsignal-client → us: its `SenderKeyDistributionMessage.create` and `groupEncrypt` output,
//!   decrypted by a [`SenderKeyRecord`] in order, skipped, late and across thousands of iterations;
//!   tampered copies refused.
//! - us → libsignal-client: our distribution message processed by `processSenderKeyDistributionMessage`
//!   and our messages read by `groupDecrypt`, in order, skipped and late; tampered copies and
//!   duplicates refused by it too.
//! - The forward-jump bound: both sides accept a jump of exactly 25,000 and refuse 25,001.
//! - Chains: both sides keep five chains per (sender, distribution id) and drop the oldest.
//! - XEdDSA: our signatures (libsignal form and the paper's) verified by `PublicKey.verify`, its
//!   `PrivateKey.sign` verified by us, flipped bits refused by both.
//!
//! Needs `interop/node/node_modules`: run `npm ci --ignore-scripts` in `interop/node` first (CI does).
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

#[path = "common/node_peer.rs"]
mod node_peer;

use node_peer::NodePeer;

use common::{hex, to_hex};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::primitives::curve25519::Curve25519SecretKey;
use safemeet::primitives::xeddsa::{self, Form, XEdDsaSignature};
use safemeet::signal::group::{
    DistributionId, OutboundSenderKey, SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP,
    SenderKeyDistributionMessage, SenderKeyMessage, SenderKeyRecord,
};
use safemeet::signal::keys::encode_public_key;
use safemeet::{Error, SignalError};
use serde_json::{Value, json};

/// The Node peer: one process, several in-memory sender-key stores.
struct Peer(NodePeer);

impl Peer {
    fn start() -> Self {
        Self(NodePeer::start(
            "group_peer.js",
            "@signalapp/libsignal-client",
        ))
    }

    fn call(&mut self, request: Value) -> Value {
        self.0.call(&request)
    }

    /// A call that must succeed (this peer answers failures with an `error` member).
    fn ok(&mut self, request: Value) -> Value {
        let op = request["op"].clone();
        let response = self.call(request);
        assert!(response.get("error").is_none(), "{op}: {response}");
        response
    }

    fn create_skdm(&mut self, store: &str, id: &DistributionId) -> Vec<u8> {
        let r = self.ok(json!({"op": "create_skdm", "store": store, "sender": store, "distribution": id.to_string()}));
        hex(r["skdm"].as_str().unwrap())
    }

    fn encrypt(
        &mut self,
        store: &str,
        id: &DistributionId,
        plaintexts: &[Vec<u8>],
    ) -> Vec<Vec<u8>> {
        let pts: Vec<String> = plaintexts.iter().map(|p| to_hex(p)).collect();
        let r = self.ok(json!({"op": "encrypt", "store": store, "sender": store, "distribution": id.to_string(), "plaintexts": pts}));
        hex_list(&r["messages"])
    }

    /// `count` messages with plaintext `prefix‖index`; returns those at `keep`.
    fn encrypt_count(
        &mut self,
        store: &str,
        id: &DistributionId,
        prefix: &str,
        count: u32,
        keep: &[u32],
    ) -> Vec<Vec<u8>> {
        let r = self.ok(json!({"op": "encrypt_count", "store": store, "sender": store, "distribution": id.to_string(), "prefix": prefix, "count": count, "keep": keep}));
        hex_list(&r["messages"])
    }

    fn process_skdm(&mut self, store: &str, sender: &str, skdm: &[u8]) {
        self.ok(
            json!({"op": "process_skdm", "store": store, "sender": sender, "skdm": to_hex(skdm)}),
        );
    }

    /// `groupDecrypt` of each message: the plaintext or the peer's error text.
    fn decrypt(
        &mut self,
        store: &str,
        sender: &str,
        messages: &[Vec<u8>],
    ) -> Vec<Result<Vec<u8>, String>> {
        let ms: Vec<String> = messages.iter().map(|m| to_hex(m)).collect();
        let r = self.ok(json!({"op": "decrypt", "store": store, "sender": sender, "messages": ms}));
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| match x.get("plaintext") {
                Some(p) => Ok(hex(p.as_str().unwrap())),
                None => Err(x["error"].as_str().unwrap().to_owned()),
            })
            .collect()
    }
}

fn hex_list(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| hex(m.as_str().unwrap()))
        .collect()
}

fn plaintext(i: usize) -> Vec<u8> {
    // Lengths 0..=40 in turn, with a large one now and then.
    let len = match i % 13 {
        5 => 100,
        9 => 16 * 1024,
        _ => i % 41,
    };
    (0..len).map(|j| (i * 31 + j) as u8).collect()
}

/// Byte positions of each region of a parsed message: version, distribution id, chain id,
/// iteration, ciphertext, signature (one position inside each, first and last where they differ).
fn regions(m: &[u8]) -> Vec<(&'static str, usize)> {
    let p = SenderKeyMessage::parse(m).unwrap();
    let ct = p.ciphertext();
    let ct_at = m.windows(ct.len()).position(|w| w == ct).unwrap();
    vec![
        ("version", 0),
        ("field 1 key", 1),
        ("distribution id", 3),
        ("distribution id end", 18),
        ("chain id key", 19),
        ("chain id", 20),
        ("iteration", ct_at - 4),
        ("ciphertext length", ct_at - 1),
        ("ciphertext first", ct_at),
        ("ciphertext middle", ct_at + ct.len() / 2),
        ("ciphertext last", ct_at + ct.len() - 1),
        ("signature R", m.len() - 64),
        ("signature s", m.len() - 10),
        ("signature sign bit", m.len() - 1),
    ]
}

/// Every single-bit flip (bits 0 and 7) at each region of `m`.
fn tampered(m: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, at) in regions(m) {
        for bit in [0x01u8, 0x80] {
            let mut bad = m.to_vec();
            bad[at] ^= bit;
            out.push((format!("{name} (byte {at}) ^ {bit:#04x}"), bad));
        }
    }
    out
}

#[test]
fn libsignal_client_messages_decrypt_here() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([0x51; 32]);
    let id = DistributionId::random(&mut rng);
    let skdm_bytes = peer.create_skdm("alice", &id);
    let skdm = SenderKeyDistributionMessage::decode(&skdm_bytes).unwrap();
    assert_eq!(
        skdm.to_bytes(),
        skdm_bytes,
        "libsignal's SKDM re-encodes exactly"
    );
    assert_eq!(skdm.distribution_id(), id);
    assert_eq!(skdm.iteration(), 0);
    assert!(skdm.chain_id() < 1 << 31, "chain ids are 31-bit");
    let mut bob: Box<SenderKeyRecord> = Box::new(SenderKeyRecord::new(id));
    bob.process_distribution_message(&skdm).unwrap();

    let pts: Vec<Vec<u8>> = (0..60).map(plaintext).collect();
    let msgs = peer.encrypt("alice", &id, &pts);
    assert_eq!(msgs.len(), 60);
    let mut decrypted = 0;
    // In order.
    for i in 0..20 {
        let mut out = vec![0u8; SenderKeyRecord::<0>::decrypt_len(&msgs[i]).unwrap()];
        let got = bob.decrypt_into(&msgs[i], &mut out).unwrap();
        assert_eq!(&out[..got.plaintext_len], &pts[i][..], "message {i}");
        assert_eq!((got.chain_id, got.iteration), (skdm.chain_id(), i as u32));
        decrypted += 1;
    }
    // Skipped, then late, in a shuffled order.
    for i in [29usize, 21, 25, 20, 28, 22, 59, 24, 23, 40, 27, 26, 58, 30] {
        assert_eq!(bob.decrypt(&msgs[i]).unwrap(), pts[i], "message {i}");
        decrypted += 1;
    }
    // Duplicates are refused, whether read in order or from the store.
    for i in [0usize, 19, 21, 29, 59] {
        assert_eq!(
            bob.decrypt(&msgs[i]),
            Err(SignalError::DuplicatedMessage.into())
        );
    }
    // Tampered copies of a message not yet read: every one refused, and the genuine one still reads.
    let target = &msgs[31];
    let mut refused = 0;
    for (what, bad) in tampered(target) {
        assert!(bob.decrypt(&bad).is_err(), "tampered {what} was accepted");
        refused += 1;
    }
    assert_eq!(bob.decrypt(target).unwrap(), pts[31]);
    decrypted += 1;
    for i in (32..58).filter(|i| *i != 40) {
        assert_eq!(bob.decrypt(&msgs[i]).unwrap(), pts[i], "message {i}");
        decrypted += 1;
    }

    // Across many iterations: 3000 more messages (iterations 60..3060), of which we read the last,
    // then late ones: the 2000 stored keys reach back exactly to "far 999" (iteration 1059).
    let far = peer.encrypt_count("alice", &id, "far ", 3000, &[0, 998, 999, 1999, 2998, 2999]);
    let text = |i: u32| format!("far {i}").into_bytes();
    assert_eq!(bob.decrypt(&far[5]).unwrap(), text(2999));
    assert_eq!(bob.stored_keys(), 2000);
    for (m, i) in [(&far[4], 2998), (&far[3], 1999), (&far[2], 999)] {
        assert_eq!(bob.decrypt(m).unwrap(), text(i));
        decrypted += 1;
    }
    decrypted += 1;
    for m in [&far[0], &far[1]] {
        assert_eq!(bob.decrypt(m), Err(SignalError::DuplicatedMessage.into()));
    }
    println!(
        "libsignal-client → safemeet: {decrypted} messages decrypted, {refused} tampered copies refused"
    );
}

#[test]
fn our_messages_decrypt_in_libsignal_client() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([0x52; 32]);
    let id = DistributionId::random(&mut rng);
    let mut alice = OutboundSenderKey::new(&mut rng, id);
    peer.process_skdm("bob", "alice", &alice.distribution_message().to_bytes());

    let pts: Vec<Vec<u8>> = (0..60).map(plaintext).collect();
    let msgs: Vec<Vec<u8>> = pts
        .iter()
        .map(|p| alice.encrypt(&mut rng, p).unwrap())
        .collect();
    // In order, then skipped and late, in one batch per group.
    let order: Vec<usize> = (0..20)
        .chain([29, 21, 25, 20, 28, 22, 59, 24, 23, 40, 27, 26, 58, 30])
        .collect();
    let batch: Vec<Vec<u8>> = order.iter().map(|&i| msgs[i].clone()).collect();
    let results = peer.decrypt("bob", "alice", &batch);
    for (&i, r) in order.iter().zip(&results) {
        assert_eq!(r.as_ref().unwrap(), &pts[i], "message {i}");
    }
    let mut decrypted = results.len();
    // Duplicates are refused by libsignal too.
    let dups = peer.decrypt(
        "bob",
        "alice",
        &[msgs[0].clone(), msgs[21].clone(), msgs[59].clone()],
    );
    for d in &dups {
        // libsignal's DuplicatedMessage reads "message with old counter …".
        assert!(d.as_ref().unwrap_err().contains("old counter"), "{d:?}");
    }
    // Tampered copies of a message not yet read.
    let bad: Vec<(String, Vec<u8>)> = tampered(&msgs[31]);
    let results = peer.decrypt(
        "bob",
        "alice",
        &bad.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
    );
    for ((what, _), r) in bad.iter().zip(&results) {
        assert!(r.is_err(), "libsignal-client accepted tampered {what}");
    }
    let refused = results.len();
    let rest: Vec<usize> = (31..58).filter(|i| *i != 40).collect();
    let results = peer.decrypt(
        "bob",
        "alice",
        &rest.iter().map(|&i| msgs[i].clone()).collect::<Vec<_>>(),
    );
    for (&i, r) in rest.iter().zip(&results) {
        assert_eq!(r.as_ref().unwrap(), &pts[i], "message {i}");
    }
    decrypted += results.len();

    // A member who joins later gets the distribution message at the current iteration: it reads
    // what follows, not what came before.
    peer.process_skdm("carol", "alice", &alice.distribution_message().to_bytes());
    let next = alice.encrypt(&mut rng, b"for everyone").unwrap();
    let r = peer.decrypt("carol", "alice", &[next.clone(), msgs[0].clone()]);
    assert_eq!(r[0].as_ref().unwrap(), b"for everyone");
    assert!(r[1].is_err());
    assert_eq!(
        peer.decrypt("bob", "alice", &[next])[0].as_ref().unwrap(),
        b"for everyone"
    );
    decrypted += 2;
    println!(
        "safemeet → libsignal-client: {decrypted} messages decrypted, {refused} tampered copies refused"
    );
}

#[test]
fn both_sides_bound_the_forward_jump_at_25000() {
    assert_eq!(SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP, 25_000);
    let n = SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP;
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([0x53; 32]);

    // Theirs to us.
    let id = DistributionId::random(&mut rng);
    let skdm = SenderKeyDistributionMessage::decode(&peer.create_skdm("alice", &id)).unwrap();
    let msgs = peer.encrypt_count("alice", &id, "jump ", n + 2, &[n, n + 1]);
    let mut fresh: Box<SenderKeyRecord<64>> =
        Box::new(SenderKeyRecord::from_distribution_message(&skdm));
    assert_eq!(
        fresh.decrypt(&msgs[1]),
        Err(Error::Signal(SignalError::TooFarAhead))
    );
    assert_eq!(
        fresh.decrypt(&msgs[0]).unwrap(),
        format!("jump {n}").into_bytes()
    );

    // Ours to theirs.
    let id = DistributionId::random(&mut rng);
    let mut alice = OutboundSenderKey::new(&mut rng, id);
    let skdm = alice.distribution_message().to_bytes();
    let mut out = vec![0u8; 256];
    for _ in 0..n {
        alice.encrypt_into(&mut rng, b"", &mut out).unwrap();
    }
    let at_limit = alice.encrypt(&mut rng, b"at the limit").unwrap();
    let beyond = alice.encrypt(&mut rng, b"beyond").unwrap();
    peer.process_skdm("bob", "alice", &skdm);
    let r = peer.decrypt("bob", "alice", core::slice::from_ref(&beyond));
    assert!(
        r[0].is_err(),
        "libsignal-client accepted a jump of {}",
        n + 1
    );
    peer.process_skdm("carol", "alice", &skdm);
    let r = peer.decrypt("carol", "alice", &[at_limit]);
    assert_eq!(r[0].as_ref().unwrap(), b"at the limit");
}

#[test]
fn xeddsa_signatures_verify_both_ways() {
    const KEYS: usize = 64;
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([0x54; 32]);

    // Ours → libsignal-client, both forms, many keys.
    let mut sign_bits = [0usize; 2];
    let mut checked = 0;
    for k in 0..KEYS {
        let key = Curve25519SecretKey::generate(&mut rng);
        let public = encode_public_key(&key.public_key());
        let mut message = vec![0u8; k * 7 % 200];
        rng.fill_bytes(&mut message);
        let lib = xeddsa::sign(&key, &message, &mut rng);
        sign_bits[usize::from(lib.as_bytes()[63] >> 7)] += 1;
        let mut z = [0u8; 64];
        rng.fill_bytes(&mut z);
        let spec = xeddsa::sign_with_random(&key, &message, &z, Form::Spec);
        assert_eq!(spec.as_bytes()[63] >> 7, 0, "spec form never sets bit 7");
        let mut items = Vec::new();
        for sig in [&lib, &spec] {
            items.push(json!({"message": to_hex(&message), "signature": to_hex(sig.as_bytes())}));
            for (at, bit) in [(0usize, 1u8), (40, 0x10), (63, 0x80)] {
                let mut bad = sig.to_bytes();
                bad[at] ^= bit;
                items.push(json!({"message": to_hex(&message), "signature": to_hex(&bad)}));
            }
            let mut other = message.clone();
            other.push(1);
            items.push(json!({"message": to_hex(&other), "signature": to_hex(sig.as_bytes())}));
        }
        let r = peer.ok(json!({"op": "verify", "public": to_hex(&public), "items": items}));
        let valid: Vec<bool> = r["valid"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        assert_eq!(
            valid,
            [
                true, false, false, false, false, true, false, false, false, false
            ],
            "key {k}"
        );
        checked += valid.len();
    }
    assert!(
        sign_bits[0] > 0 && sign_bits[1] > 0,
        "both Edwards sign bits must occur: {sign_bits:?}"
    );

    // libsignal-client → ours: its keys, and our keys in its hands (same public key either way).
    let mut their_bits = [0usize; 2];
    for k in 0..KEYS {
        let mut message = vec![0u8; 1 + k * 5 % 150];
        rng.fill_bytes(&mut message);
        let mut request = json!({"op": "sign", "messages": [to_hex(&message)]});
        let ours = if k % 2 == 0 {
            let key = Curve25519SecretKey::generate(&mut rng);
            request["private"] = json!(to_hex(&*key.to_bytes()));
            Some(key)
        } else {
            None
        };
        let r = peer.ok(request);
        let public_bytes = hex(r["public"].as_str().unwrap());
        let public = safemeet::signal::keys::decode_public_key(&public_bytes).unwrap();
        if let Some(key) = &ours {
            assert_eq!(
                public,
                key.public_key(),
                "the same private key gives the same public key"
            );
        }
        let sig = XEdDsaSignature::from_slice(&hex(r["signatures"][0].as_str().unwrap())).unwrap();
        their_bits[usize::from(sig.as_bytes()[63] >> 7)] += 1;
        assert_eq!(xeddsa::verify(&public, &message, &sig), Ok(()), "key {k}");
        for (at, bit) in [(0usize, 1u8), (31, 0x40), (32, 1), (63, 0x80)] {
            let mut bad = sig.to_bytes();
            bad[at] ^= bit;
            assert!(
                xeddsa::verify(&public, &message, &XEdDsaSignature::from_bytes(bad)).is_err(),
                "key {k}: flipped byte {at} accepted"
            );
        }
        message[0] ^= 1;
        assert!(xeddsa::verify(&public, &message, &sig).is_err());
        checked += 6;
    }
    assert!(
        their_bits[0] > 0 && their_bits[1] > 0,
        "both Edwards sign bits must occur: {their_bits:?}"
    );
    println!(
        "XEdDSA: {KEYS} keys each way, {checked} verifications agree (our libsignal-form sign bits {sign_bits:?}, theirs {their_bits:?})"
    );
}

#[test]
fn both_sides_keep_five_chains_per_sender_and_distribution() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([0x55; 32]);
    let id = DistributionId::random(&mut rng);

    // Theirs to us: six sender keys of "alice" for one distribution id (each a fresh libsignal store,
    // as after a device reset), all processed here in turn; the first is dropped.
    let mut record: Box<SenderKeyRecord<64>> = Box::new(SenderKeyRecord::new(id));
    let mut firsts = Vec::new();
    for k in 0..6 {
        let store = format!("alice-{k}");
        let r = peer.ok(json!({"op": "create_skdm", "store": store, "sender": "alice", "distribution": id.to_string()}));
        let skdm = SenderKeyDistributionMessage::decode(&hex(r["skdm"].as_str().unwrap())).unwrap();
        record.process_distribution_message(&skdm).unwrap();
        let r = peer.ok(json!({"op": "encrypt", "store": store, "sender": "alice", "distribution": id.to_string(), "plaintexts": [to_hex(format!("chain {k}").as_bytes())]}));
        firsts.push(hex_list(&r["messages"]).remove(0));
    }
    assert_eq!(record.chain_ids().count(), 5);
    assert_eq!(
        record.decrypt(&firsts[0]),
        Err(Error::Signal(SignalError::NoSenderKeyState))
    );
    for (k, m) in firsts.iter().enumerate().skip(1) {
        assert_eq!(
            record.decrypt(m).unwrap(),
            format!("chain {k}").into_bytes()
        );
    }

    // Ours to theirs: six of our sender keys for one distribution id; libsignal drops the first too.
    let id = DistributionId::random(&mut rng);
    let mut ours: Vec<OutboundSenderKey> = (0..6)
        .map(|_| OutboundSenderKey::new(&mut rng, id))
        .collect();
    for s in &ours {
        peer.process_skdm("bob", "alice", &s.distribution_message().to_bytes());
    }
    let msgs: Vec<Vec<u8>> = ours
        .iter_mut()
        .enumerate()
        .map(|(k, s)| s.encrypt(&mut rng, format!("ours {k}").as_bytes()).unwrap())
        .collect();
    let results = peer.decrypt("bob", "alice", &msgs);
    assert!(results[0].is_err(), "libsignal kept a sixth chain");
    for (k, r) in results.iter().enumerate().skip(1) {
        assert_eq!(r.as_ref().unwrap(), &format!("ours {k}").into_bytes());
    }
}

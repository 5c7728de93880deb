//! Megolm, operation by operation, beside vodozemac 0.11 in the same run.
//!
//! Run with `cargo bench --bench megolm`. Groups are named after the operation, functions after the
//! implementation. Both sides start from and end in wire bytes: vodozemac's `encrypt` is followed by
//! `to_bytes`, and its `decrypt` is preceded by `MegolmMessage::from_bytes`, as a client must.
//!
//! - `megolm-create`: a new outbound session (128 random bytes and an Ed25519 key).
//! - `megolm-encrypt-<size>` / `megolm-decrypt-<size>`: one message; decryption reads a stream in
//!   order, each message encrypted in setup.
//! - `megolm-import`: a base64 session key decoded (signature verified) into an inbound session.
//! - `megolm-decrypt-ahead-100000`: a fresh inbound session at index 0 reads a message at 100 000;
//!   `megolm-advance-to-100000`: the same jump of the ratchet alone (`advance_to`).
//! - `megolm-history-100`: 100 messages of one session; `safemeet-batch` verifies their signatures
//!   with one Ed25519 batch equation (`InboundGroupSession::decrypt_batch`), the others one by one.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::megolm::{GroupSession, InboundGroupSession, SessionKey};
use vodozemac::megolm as vz;

const SIZES: [usize; 2] = [100, 16 * 1024];

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([0x42; 32])
}

fn encrypt(session: &mut GroupSession, plaintext: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; session.encrypt_len(plaintext.len())];
    let n = session.encrypt_into(plaintext, &mut out).unwrap();
    out.truncate(n);
    out
}

fn vz_inbound(key: &str) -> vz::InboundGroupSession {
    vz::InboundGroupSession::new(
        &vz::SessionKey::from_base64(key).unwrap(),
        vz::SessionConfig::version_1(),
    )
}

fn create(c: &mut Criterion) {
    let mut g = c.benchmark_group("megolm-create");
    let mut r = rng();
    g.bench_function("safemeet", |b| b.iter(|| GroupSession::new(&mut r)));
    g.bench_function("vodozemac", |b| {
        b.iter(|| vz::GroupSession::new(vz::SessionConfig::version_1()))
    });
    g.finish();
}

fn encrypt_decrypt(c: &mut Criterion) {
    for size in SIZES {
        let plaintext = vec![0x61u8; size];
        let mut g = c.benchmark_group(format!("megolm-encrypt-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        let mut ours = GroupSession::new(&mut rng());
        let mut out = vec![0u8; ours.encrypt_len(size) + 8];
        g.bench_function("safemeet", |b| {
            b.iter(|| ours.encrypt_into(black_box(&plaintext), &mut out).unwrap())
        });
        let mut theirs = vz::GroupSession::new(vz::SessionConfig::version_1());
        g.bench_function("vodozemac", |b| {
            b.iter(|| theirs.encrypt(black_box(&plaintext)).to_bytes())
        });
        g.finish();

        let mut g = c.benchmark_group(format!("megolm-decrypt-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        let mut ours = GroupSession::new(&mut rng());
        let mut inbound = InboundGroupSession::new(&ours.session_key());
        let mut out = vec![0u8; size + 16];
        g.bench_function("safemeet", |b| {
            b.iter_batched(
                || encrypt(&mut ours, &plaintext),
                |m| inbound.decrypt_into(&m, &mut out).unwrap(),
                BatchSize::SmallInput,
            )
        });
        let mut theirs = vz::GroupSession::new(vz::SessionConfig::version_1());
        let mut vz_in = vz_inbound(&theirs.session_key().to_base64());
        g.bench_function("vodozemac", |b| {
            b.iter_batched(
                || theirs.encrypt(&plaintext).to_bytes(),
                |m| {
                    vz_in
                        .decrypt(&vz::MegolmMessage::from_bytes(&m).unwrap())
                        .unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

fn import(c: &mut Criterion) {
    let mut g = c.benchmark_group("megolm-import");
    let key = GroupSession::new(&mut rng()).session_key().to_base64();
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            InboundGroupSession::new(&SessionKey::from_base64(black_box(key.as_bytes())).unwrap())
        })
    });
    g.bench_function("vodozemac", |b| b.iter(|| vz_inbound(black_box(&key))));
    g.finish();
}

fn decrypt_ahead(c: &mut Criterion) {
    const AHEAD: u32 = 100_000;
    // A vodozemac sender moved to index 100 000 (its pickle with the ratchet at that index), so that
    // both receivers read the same message.
    let sender = vz::GroupSession::new(vz::SessionConfig::version_1());
    let key = sender.session_key().to_base64();
    let mut jump = InboundGroupSession::new(&SessionKey::from_base64(&key).unwrap());
    assert!(jump.advance_to(AHEAD));
    let ratchet = jump.export_at(AHEAD).unwrap().to_bytes()[5..133].to_vec();
    let mut pickle = serde_json::to_value(sender.pickle()).unwrap();
    pickle["ratchet"] = serde_json::json!({"counter": AHEAD, "inner": ratchet});
    let mut sender = vz::GroupSession::from_pickle(serde_json::from_value(pickle).unwrap());
    let message = sender.encrypt("a message far ahead").to_bytes();

    let mut g = c.benchmark_group("megolm-decrypt-ahead-100000");
    let parsed_key = SessionKey::from_base64(&key).unwrap();
    let mut out = [0u8; 64];
    g.bench_function("safemeet", |b| {
        b.iter_batched(
            || InboundGroupSession::new(&parsed_key),
            |mut s| {
                assert_eq!(
                    s.decrypt_into(&message, &mut out).unwrap().message_index,
                    AHEAD
                )
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched(
            || vz_inbound(&key),
            |mut s| {
                let m = vz::MegolmMessage::from_bytes(&message).unwrap();
                assert_eq!(s.decrypt(&m).unwrap().message_index, AHEAD);
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    // The ratchet jump alone: forgetting everything below index 100 000.
    let mut g = c.benchmark_group("megolm-advance-to-100000");
    g.bench_function("safemeet", |b| {
        b.iter_batched(
            || InboundGroupSession::new(&parsed_key),
            |mut s| assert!(s.advance_to(AHEAD)),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched(
            || vz_inbound(&key),
            |mut s| assert!(s.advance_to(AHEAD)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn history(c: &mut Criterion) {
    let mut r = rng();
    let mut ours = GroupSession::new(&mut r);
    let key = ours.session_key().to_base64();
    let messages: Vec<Vec<u8>> = (0..100)
        .map(|i| {
            encrypt(
                &mut ours,
                format!("history message number {i}, of moderate length").as_bytes(),
            )
        })
        .collect();
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let parsed_key = SessionKey::from_base64(&key).unwrap();

    let mut g = c.benchmark_group("megolm-history-100");
    g.throughput(Throughput::Elements(100));
    g.bench_function("safemeet-batch", |b| {
        b.iter_batched(
            || InboundGroupSession::new(&parsed_key),
            |mut s| {
                let results = s.decrypt_batch(&mut r, &refs);
                assert!(results.iter().all(Result::is_ok));
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("safemeet", |b| {
        let mut out = [0u8; 128];
        b.iter_batched(
            || InboundGroupSession::new(&parsed_key),
            |mut s| {
                for m in &refs {
                    s.decrypt_into(m, &mut out).unwrap();
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched(
            || vz_inbound(&key),
            |mut s| {
                for m in &refs {
                    s.decrypt(&vz::MegolmMessage::from_bytes(m).unwrap())
                        .unwrap();
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    create,
    encrypt_decrypt,
    import,
    decrypt_ahead,
    history
);
criterion_main!(benches);

//! Signal sender keys, operation by operation.
//!
//! Run with `cargo bench --bench signal_group`. There is no Rust peer to run beside us in the same
//! process (libsignal is not on crates.io); `interop/node/bench_group.js` times
//! `@signalapp/libsignal-client`'s `groupEncrypt`/`groupDecrypt` for the same sizes, by hand.
//!
//! - `signal-group-create`: a new outbound sender key (chain id, chain key, X25519 signing key).
//! - `signal-group-skdm-encode` / `signal-group-skdm-process`: the distribution message written, and
//!   decoded into a new record (default capacity, 2000 stored keys).
//! - `signal-group-encrypt-<size>` / `signal-group-decrypt-<size>`: one message (XEdDSA signing /
//!   verification included); decryption reads a stream in order, each message encrypted in setup.
//! - `signal-group-decrypt-jump-1000`: a fresh record reads the message 1000 iterations ahead (walking
//!   the chain and storing the last 1000 skipped keys).
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
use safemeet::signal::group::{
    DistributionId, OutboundSenderKey, SenderKeyDistributionMessage, SenderKeyRecord,
};

const SIZES: [usize; 2] = [100, 16 * 1024];

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([0x43; 32])
}

fn encrypt(out: &mut OutboundSenderKey, rng: &mut ChaCha20Rng, plaintext: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; out.encrypt_len(plaintext.len())];
    let n = out.encrypt_into(rng, plaintext, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn create_and_skdm(c: &mut Criterion) {
    let mut r = rng();
    let id = DistributionId::random(&mut r);
    let mut g = c.benchmark_group("signal-group-create");
    g.bench_function("safemeet", |b| {
        b.iter(|| OutboundSenderKey::new(&mut r, black_box(id)))
    });
    g.finish();

    let out = OutboundSenderKey::new(&mut r, id);
    let mut g = c.benchmark_group("signal-group-skdm-encode");
    let mut buf = [0u8; 128];
    g.bench_function("safemeet", |b| {
        b.iter(|| out.distribution_message().encode_into(&mut buf).unwrap())
    });
    g.finish();

    let bytes = out.distribution_message().to_bytes();
    let mut g = c.benchmark_group("signal-group-skdm-process");
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            let skdm = SenderKeyDistributionMessage::decode(black_box(&bytes)).unwrap();
            Box::new(SenderKeyRecord::<2000>::from_distribution_message(&skdm))
        })
    });
    g.finish();
}

fn encrypt_decrypt(c: &mut Criterion) {
    for size in SIZES {
        let plaintext = vec![0x61u8; size];
        let mut r = rng();
        let id = DistributionId::random(&mut r);

        let mut g = c.benchmark_group(format!("signal-group-encrypt-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        let mut out = OutboundSenderKey::new(&mut r, id);
        let mut buf = vec![0u8; out.encrypt_len(size) + 16];
        g.bench_function("safemeet", |b| {
            b.iter(|| {
                out.encrypt_into(&mut r, black_box(&plaintext), &mut buf)
                    .unwrap()
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("signal-group-decrypt-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        let mut out = OutboundSenderKey::new(&mut r, id);
        let mut record: Box<SenderKeyRecord> = Box::new(
            SenderKeyRecord::from_distribution_message(&out.distribution_message()),
        );
        let mut pt = vec![0u8; size + 16];
        g.bench_function("safemeet", |b| {
            b.iter_batched(
                || encrypt(&mut out, &mut r, &plaintext),
                |m| record.decrypt_into(&m, &mut pt).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

fn decrypt_jump(c: &mut Criterion) {
    let mut r = rng();
    let id = DistributionId::random(&mut r);
    let mut out = OutboundSenderKey::new(&mut r, id);
    let skdm = out.distribution_message().to_bytes();
    for _ in 0..1000 {
        encrypt(&mut out, &mut r, b"");
    }
    let far = encrypt(&mut out, &mut r, &[0x61; 100]);
    let mut g = c.benchmark_group("signal-group-decrypt-jump-1000");
    let mut pt = [0u8; 128];
    g.bench_function("safemeet", |b| {
        b.iter_batched(
            || {
                Box::new(SenderKeyRecord::<2000>::from_distribution_message(
                    &SenderKeyDistributionMessage::decode(&skdm).unwrap(),
                ))
            },
            |mut record| {
                record.decrypt_into(black_box(&far), &mut pt).unwrap();
                record
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, create_and_skdm, encrypt_decrypt, decrypt_jump);
criterion_main!(benches);

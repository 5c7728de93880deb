//! Codec operations: base64 and base58, each beside vodozemac's where vodozemac exposes the same operation.
//!
//! Run with `cargo bench --bench codec`. Groups are named `<operation>/<implementation>` so the
//! implementations appear side by side in one report. `safemeet` is the allocating wrapper (the same
//! work as vodozemac's `String`/`Vec` functions); `safemeet-into` writes into a caller buffer.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use safemeet::codec::{base58, base64};

const SIZES: [usize; 2] = [32, 16 * 1024];

/// Deterministic, non-uniform input bytes.
fn input(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 3)).to_le_bytes()[0])
        .collect()
}

fn base64_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("base64-encode");
    for size in SIZES {
        let data = input(size);
        g.throughput(Throughput::Bytes(size as u64));
        let mut out = vec![0u8; base64::encoded_len(size)];
        g.bench_with_input(BenchmarkId::new("safemeet-into", size), &data, |b, d| {
            b.iter(|| base64::encode_into(black_box(d), &mut out).unwrap())
        });
        #[cfg(feature = "alloc")]
        g.bench_with_input(BenchmarkId::new("safemeet", size), &data, |b, d| {
            b.iter(|| base64::encode(black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("vodozemac", size), &data, |b, d| {
            b.iter(|| vodozemac::base64_encode(black_box(d)))
        });
    }
    g.finish();
}

fn base64_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("base64-decode");
    for size in SIZES {
        let data = input(size);
        let text = vodozemac::base64_encode(&data);
        g.throughput(Throughput::Bytes(size as u64));
        let mut out = vec![0u8; size];
        assert_eq!(base64::decode_into(&text, &mut out), Ok(size));
        assert_eq!(out, data);
        g.bench_with_input(BenchmarkId::new("safemeet-into", size), &text, |b, t| {
            b.iter(|| base64::decode_into(black_box(t), &mut out).unwrap())
        });
        #[cfg(feature = "alloc")]
        g.bench_with_input(BenchmarkId::new("safemeet", size), &text, |b, t| {
            b.iter(|| base64::decode(black_box(t)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("vodozemac", size), &text, |b, t| {
            b.iter(|| vodozemac::base64_decode(black_box(t)).unwrap())
        });
    }
    g.finish();
}

/// A 35-byte recovery key (`0x8B 0x01 || key || parity`); vodozemac has no base58, so ours stands alone.
fn base58_recovery_key(c: &mut Criterion) {
    let mut g = c.benchmark_group("base58-recovery-key");
    let mut key = [0u8; 35];
    key[0] = 0x8b;
    key[1] = 0x01;
    key[2..34].copy_from_slice(&input(32));
    key[34] = key[..34].iter().fold(0, |a, b| a ^ b);
    let mut text = [0u8; base58::encoded_len_max(35)];
    let n = base58::encode_into(&key, &mut text).unwrap();
    assert_eq!(n, 48);
    g.bench_function("encode/safemeet-into", |b| {
        b.iter(|| base58::encode_into(black_box(&key), &mut text).unwrap())
    });
    let mut out = [0u8; 35];
    g.bench_function("decode/safemeet-into", |b| {
        b.iter(|| base58::decode_into(black_box(&text[..n]), &mut out).unwrap())
    });
    #[cfg(feature = "alloc")]
    {
        g.bench_function("encode/safemeet", |b| {
            b.iter(|| base58::encode(black_box(&key)).unwrap())
        });
        g.bench_function("decode/safemeet", |b| {
            b.iter(|| base58::decode(black_box(&text[..n])).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, base64_encode, base64_decode, base58_recovery_key);
criterion_main!(benches);

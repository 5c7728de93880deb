//! Primitive operations, each beside vodozemac's where vodozemac exposes the same operation.
//!
//! Run with `cargo bench --bench primitives`. Groups are named `<operation>/<implementation>` so the
//! two implementations appear side by side in one report.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::primitives::{aead, aes, curve25519, ed25519, hkdf, hmac, pbkdf2, xeddsa};

const SIZES: [usize; 2] = [100, 16 * 1024];

fn x25519(c: &mut Criterion) {
    let mut g = c.benchmark_group("x25519");
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    g.bench_function("keygen/safemeet", |b| {
        b.iter(|| curve25519::Curve25519SecretKey::generate(&mut rng).public_key())
    });
    g.bench_function("keygen/vodozemac", |b| {
        b.iter(|| vodozemac::Curve25519PublicKey::from(&vodozemac::Curve25519SecretKey::new()))
    });

    let ours = curve25519::Curve25519SecretKey::from_bytes(&[0x11; 32]);
    let their = curve25519::Curve25519SecretKey::from_bytes(&[0x22; 32]).public_key();
    g.bench_function("dh/safemeet", |b| {
        b.iter(|| ours.diffie_hellman(black_box(&their)).unwrap())
    });
    let vz = vodozemac::Curve25519SecretKey::from_slice(&[0x11; 32]);
    let vz_their = vodozemac::Curve25519PublicKey::from_bytes(their.to_bytes());
    g.bench_function("dh/vodozemac", |b| {
        b.iter(|| vz.diffie_hellman(black_box(&vz_their)).unwrap())
    });
    g.finish();
}

fn ed25519(c: &mut Criterion) {
    let mut g = c.benchmark_group("ed25519");
    let msg = [0x5a; 100];
    let ours = ed25519::Ed25519SecretKey::from_seed(&[7; 32]);
    let vz = vodozemac::Ed25519SecretKey::from_slice(&[7; 32]);
    g.bench_function("sign-100B/safemeet", |b| {
        b.iter(|| ours.sign(black_box(&msg)))
    });
    g.bench_function("sign-100B/vodozemac", |b| {
        b.iter(|| vz.sign(black_box(&msg)))
    });

    let public = ours.public_key();
    let sig = ours.sign(&msg);
    let vz_public = vz.public_key();
    let vz_sig = vz.sign(&msg);
    assert_eq!(
        sig.to_bytes(),
        vz_sig.to_bytes(),
        "both sign deterministically"
    );
    g.bench_function("verify-100B/safemeet", |b| {
        b.iter(|| public.verify(black_box(&msg), &sig).unwrap())
    });
    g.bench_function("verify-100B/vodozemac", |b| {
        b.iter(|| vz_public.verify(black_box(&msg), &vz_sig).unwrap())
    });
    g.finish();
}

/// XEdDSA (signing with an X25519 key) beside plain Ed25519: the extra cost is the Montgomery-to-Edwards
/// conversion on verify and the extra base-point multiplication on sign. vodozemac has no XEdDSA.
fn xeddsa(c: &mut Criterion) {
    let mut g = c.benchmark_group("xeddsa");
    let msg = [0x5a; 100];
    let key = curve25519::Curve25519SecretKey::from_bytes(&[7; 32]);
    let public = key.public_key();
    g.bench_function("sign-100B/safemeet", |b| {
        b.iter(|| {
            xeddsa::sign_with_random(&key, black_box(&msg), &[1; 64], xeddsa::Form::Libsignal)
        })
    });
    let sig = xeddsa::sign_with_random(&key, &msg, &[1; 64], xeddsa::Form::Libsignal);
    g.bench_function("verify-100B/safemeet", |b| {
        b.iter(|| xeddsa::verify(&public, black_box(&msg), &sig).unwrap())
    });
    g.finish();
}

fn symmetric(c: &mut Criterion) {
    let key = [0x42; 32];
    let iv = [0x24; 16];
    let nonce = [0x24; 12];
    for size in SIZES {
        let mut g = c.benchmark_group(format!("symmetric-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        let msg = vec![0xA5u8; size];

        g.bench_function("hmac-sha256", |b| {
            b.iter(|| hmac::hmac_sha256(&key, black_box(&msg)))
        });

        let mut ct = vec![0u8; aes::aes256_cbc_padded_len(size)];
        g.bench_function("aes256-cbc-encrypt", |b| {
            b.iter(|| aes::aes256_cbc_encrypt_into(&key, &iv, black_box(&msg), &mut ct).unwrap())
        });
        let mut pt = vec![0u8; ct.len()];
        g.bench_function("aes256-cbc-decrypt", |b| {
            b.iter(|| aes::aes256_cbc_decrypt_into(&key, &iv, black_box(&ct), &mut pt).unwrap())
        });

        let mut buf = msg.clone();
        g.bench_function("aes256-ctr", |b| {
            b.iter(|| aes::aes256_ctr_apply(&key, &iv, black_box(&mut buf)))
        });

        let mut sealed = vec![0u8; aead::sealed_len(size)];
        g.bench_function("chacha20poly1305-seal", |b| {
            b.iter(|| aead::seal_into(&key, &nonce, b"ad", black_box(&msg), &mut sealed).unwrap())
        });
        let mut opened = vec![0u8; size];
        g.bench_function("chacha20poly1305-open", |b| {
            b.iter(|| {
                aead::open_into(&key, &nonce, b"ad", black_box(&sealed), &mut opened).unwrap()
            })
        });
        g.finish();
    }
}

fn kdf(c: &mut Criterion) {
    let mut g = c.benchmark_group("kdf");
    let mut okm = [0u8; 80];
    g.bench_function(BenchmarkId::new("hkdf-sha256", "80B"), |b| {
        b.iter(|| hkdf::hkdf_sha256(&[0], black_box(&[7; 32]), b"OLM_KEYS", &mut okm).unwrap())
    });
    let mut key = [0u8; 32];
    g.sample_size(10);
    g.bench_function(BenchmarkId::new("pbkdf2-sha512", "10000-rounds"), |b| {
        b.iter(|| pbkdf2::pbkdf2_hmac_sha512(b"passphrase", b"salt", 10_000, &mut key).unwrap())
    });
    g.finish();
}

criterion_group!(benches, x25519, ed25519, xeddsa, symmetric, kdf);
criterion_main!(benches);

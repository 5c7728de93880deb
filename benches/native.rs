//! The native pairwise profile, operation by operation, beside vodozemac's Olm as a reference point.
//!
//! Run with `cargo bench --bench native`. Groups are named after the operation and functions after the
//! implementation: `safemeet` (plain headers), `safemeet-he` (encrypted headers) and `vodozemac` (Olm
//! v1: AES-256-CBC and a truncated HMAC; it has no header encryption).
//!
//! The two protocols do not do identical work, so read the ratios as a reference, not a race:
//! creating an outbound session here verifies the bundle's two Ed25519 signatures and runs X3DH's four
//! DHs plus the first ratchet step, where Olm runs its three DHs and leaves the signed one-time key
//! to the caller; a message here is sealed with ChaCha20-Poly1305, an Olm message with AES-CBC and
//! HMAC-SHA-256.
//!
//! - `outbound`: a session from a prekey bundle (an identity key and one-time key for Olm).
//! - `inbound`: a session from its first message, decrypting it (a fresh account each time, prepared
//!   outside the measurement, since the one-time key is used up).
//! - `encrypt-<size>`: one message on an established session.
//! - `decrypt-<size>`: the receiver reads a stream of messages in order; each is encrypted in setup,
//!   so every measured decryption is real.
//! - `ping-pong-100B`: one round trip, each side sending after it received: two DH ratchet steps.
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
use safemeet::session::{Account, PreKeyBundle, Session, SessionConfig};
use vodozemac::olm;

mod common;
use common::vodozemac::{vz_bob_account, vz_established, vz_pre_key};

const SIZES: [usize; 2] = [100, 16 * 1024];

/// The safemeet configurations: name suffix and config.
const CONFIGS: [(&str, SessionConfig); 2] = [
    ("safemeet", SessionConfig::plain()),
    ("safemeet-he", SessionConfig::with_header_encryption()),
];

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([0x42; 32])
}

/// Bob's account holding one one-time prekey, and a bundle naming it.
fn bob_with_bundle(rng: &mut ChaCha20Rng) -> (Account, PreKeyBundle) {
    let mut bob = Account::new(rng);
    bob.generate_one_time_prekeys(rng, 1);
    let (id, _) = bob.unpublished_one_time_prekeys().next().unwrap();
    let bundle = bob.prekey_bundle(Some(id)).unwrap();
    (bob, bundle)
}

/// Encrypts with the core (buffer) API, so the bench builds without the `alloc` feature too.
fn encrypt(session: &mut Session, rng: &mut ChaCha20Rng, plaintext: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; session.encrypt_len(plaintext.len())];
    let n = session.encrypt_into(rng, plaintext, &mut out).unwrap();
    out.truncate(n);
    out
}

/// An established pair (Alice → Bob, Bob → Alice), past the pre-key phase.
fn established(rng: &mut ChaCha20Rng, config: SessionConfig) -> (Session, Session) {
    let alice = Account::new(rng);
    let (mut bob, bundle) = bob_with_bundle(rng);
    let mut to_bob = alice.create_outbound_session(rng, &bundle, config).unwrap();
    let first = encrypt(&mut to_bob, rng, b"hello");
    let mut out = [0u8; 16];
    let (mut to_alice, _) = bob.create_inbound_session_into(&first, &mut out).unwrap();
    let reply = encrypt(&mut to_alice, rng, b"hi");
    to_bob.decrypt_into(&reply, &mut out).unwrap();
    assert!(!to_bob.sends_pre_key_messages());
    (to_bob, to_alice)
}

fn session_creation(c: &mut Criterion) {
    let mut g = c.benchmark_group("native-outbound");
    let mut r = rng();
    let alice = Account::new(&mut r);
    let (_, bundle) = bob_with_bundle(&mut r);
    for (name, config) in CONFIGS {
        g.bench_function(name, |b| {
            b.iter(|| {
                alice
                    .create_outbound_session(&mut r, black_box(&bundle), config)
                    .unwrap()
            })
        });
    }
    let vz_alice = olm::Account::new();
    let (bob_account, otk) = vz_bob_account();
    let bob_key = bob_account.curve25519_key();
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            vz_alice
                .create_outbound_session(
                    olm::SessionConfig::version_1(),
                    black_box(bob_key),
                    black_box(otk),
                )
                .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("native-inbound");
    for (name, config) in CONFIGS {
        let mut out = [0u8; 64];
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || {
                    let (bob, bundle) = bob_with_bundle(&mut r);
                    let mut s = alice
                        .create_outbound_session(&mut r, &bundle, config)
                        .unwrap();
                    let first = encrypt(&mut s, &mut r, b"hello");
                    (bob, first)
                },
                |(bob, first)| bob.create_inbound_session_into(first, &mut out).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    let alice_key = vz_alice.curve25519_key();
    g.bench_function("vodozemac", |b| {
        b.iter_batched_ref(
            || {
                let (bob, otk) = vz_bob_account();
                let mut s = vz_alice
                    .create_outbound_session(
                        olm::SessionConfig::version_1(),
                        bob.curve25519_key(),
                        otk,
                    )
                    .unwrap();
                let first = vz_pre_key(s.encrypt(b"hello").unwrap());
                (bob, first)
            },
            |(bob, first)| {
                bob.create_inbound_session(olm::SessionConfig::version_1(), alice_key, first)
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn encrypt_decrypt(c: &mut Criterion) {
    for size in SIZES {
        let plaintext = vec![0xA5u8; size];

        let mut g = c.benchmark_group(format!("native-encrypt-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        for (name, config) in CONFIGS {
            let mut r = rng();
            let (mut alice, _) = established(&mut r, config);
            let mut out = vec![0u8; alice.encrypt_len(size)];
            g.bench_function(name, |b| {
                b.iter(|| {
                    alice
                        .encrypt_into(&mut r, black_box(&plaintext), &mut out)
                        .unwrap()
                })
            });
        }
        let (mut vz_alice, _) = vz_established();
        g.bench_function("vodozemac", |b| {
            b.iter(|| vz_alice.encrypt(black_box(&plaintext)).unwrap())
        });
        g.finish();

        let mut g = c.benchmark_group(format!("native-decrypt-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        for (name, config) in CONFIGS {
            let mut r = rng();
            let (mut alice, mut bob) = established(&mut r, config);
            let mut out = vec![0u8; size];
            g.bench_function(name, |b| {
                b.iter_batched(
                    || encrypt(&mut alice, &mut r, &plaintext),
                    |message| bob.decrypt_into(&message, &mut out).unwrap(),
                    BatchSize::SmallInput,
                )
            });
        }
        let (mut vz_alice, mut vz_bob) = vz_established();
        g.bench_function("vodozemac", |b| {
            b.iter_batched(
                || vz_alice.encrypt(&plaintext).unwrap(),
                |message| vz_bob.decrypt(&message).unwrap(),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("native-ping-pong-100B");
    let plaintext = [0xA5u8; 100];
    for (name, config) in CONFIGS {
        let mut r = rng();
        let (mut alice, mut bob) = established(&mut r, config);
        let mut message = vec![0u8; alice.encrypt_len(100)];
        let mut out = [0u8; 100];
        g.bench_function(name, |b| {
            b.iter(|| {
                let n = alice
                    .encrypt_into(&mut r, &plaintext, &mut message)
                    .unwrap();
                bob.decrypt_into(&message[..n], &mut out).unwrap();
                let n = bob.encrypt_into(&mut r, &plaintext, &mut message).unwrap();
                alice.decrypt_into(&message[..n], &mut out).unwrap()
            })
        });
    }
    let (mut vz_alice, mut vz_bob) = vz_established();
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            let m = vz_alice.encrypt(plaintext).unwrap();
            vz_bob.decrypt(&m).unwrap();
            let m = vz_bob.encrypt(plaintext).unwrap();
            vz_alice.decrypt(&m).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, session_creation, encrypt_decrypt, ping_pong);
criterion_main!(benches);

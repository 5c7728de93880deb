//! Matrix Olm, operation by operation, safemeet beside vodozemac in the same run.
//!
//! Run with `cargo bench --bench olm`. Groups are named after the operation, functions after the
//! implementation. safemeet is measured through its core (buffer) API; vodozemac through its only one.
//! Both do the same protocol work, byte for byte (tests/interop_olm.rs), so the ratios compare
//! implementations, not protocols. Messages are measured as a client handles them, from plaintext to
//! wire bytes and from wire bytes to plaintext: for vodozemac that includes `OlmMessage::to_parts` after
//! encrypting and `OlmMessage::from_parts` before decrypting (safemeet reads and writes bytes directly).
//!
//! - `olm-account-new`: a fresh account (identity and signing keys).
//! - `olm-one-time-keys-50`: generating 50 one-time keys on a fresh account.
//! - `olm-handshake`: Alice's outbound session and pre-key message, Bob's inbound session from it (a
//!   fresh one-time key each time, prepared outside the measurement), Bob's reply and Alice reading it.
//! - `olm-encrypt-<size>` / `olm-decrypt-<size>`: one direction on an established session; every
//!   decrypted message was encrypted in setup, so each decryption is real.
//! - `olm-ping-pong-100B`: one round trip: two DH ratchet steps.
//! - `olm-{session,account}-{pickle,unpickle}`: an established session, and an account holding 50
//!   one-time keys and a fallback key, sealed and opened under a pickle key (vodozemac: its encrypted
//!   JSON pickle; safemeet: its binary XChaCha20-Poly1305 pickle).
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
use safemeet::olm::{Account, MessageType, Session};
use vodozemac::olm;

mod common;
use common::vodozemac::{vz_bob_account, vz_established, vz_pre_key};

const SIZES: [usize; 2] = [100, 16 * 1024];
const PICKLE_KEY: [u8; 32] = [7; 32];

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([0x42; 32])
}

struct Msg {
    kind: MessageType,
    bytes: Vec<u8>,
}

fn encrypt(session: &mut Session, rng: &mut ChaCha20Rng, plaintext: &[u8]) -> Msg {
    let mut bytes = vec![0u8; session.encrypt_len(plaintext.len())];
    let (kind, n) = session.encrypt_into(rng, plaintext, &mut bytes).unwrap();
    bytes.truncate(n);
    Msg { kind, bytes }
}

fn decrypt(session: &mut Session, m: &Msg, out: &mut [u8]) -> usize {
    session.decrypt_into(m.kind, &m.bytes, out).unwrap()
}

/// Bob's account with one unpublished one-time key, and that key.
fn bob_with_key(
    rng: &mut ChaCha20Rng,
) -> (
    Account,
    safemeet::primitives::curve25519::Curve25519PublicKey,
) {
    let mut bob = Account::new(rng);
    bob.generate_one_time_keys_with(rng, 1, |_, _| {});
    let (_, key) = bob.one_time_keys().next().unwrap();
    bob.mark_keys_as_published();
    (bob, key)
}

fn established(rng: &mut ChaCha20Rng) -> (Session, Session) {
    let alice = Account::<100>::new(rng);
    let (mut bob, key) = bob_with_key(rng);
    let mut to_bob = alice
        .create_outbound_session(rng, &bob.curve25519_key(), &key)
        .unwrap();
    let first = encrypt(&mut to_bob, rng, b"hello");
    let mut out = [0u8; 64];
    let mut to_alice = bob
        .create_inbound_session_into(&alice.curve25519_key(), &first.bytes, &mut out)
        .unwrap()
        .session;
    let reply = encrypt(&mut to_alice, rng, b"hi");
    decrypt(&mut to_bob, &reply, &mut out);
    (to_bob, to_alice)
}

fn accounts(c: &mut Criterion) {
    let mut g = c.benchmark_group("olm-account-new");
    let mut r = rng();
    g.bench_function("safemeet", |b| b.iter(|| Account::<100>::new(&mut r)));
    g.bench_function("vodozemac", |b| b.iter(olm::Account::new));
    g.finish();

    let mut g = c.benchmark_group("olm-one-time-keys-50");
    let mut setup = rng();
    g.bench_function("safemeet", |b| {
        b.iter_batched_ref(
            || Account::<100>::new(&mut setup),
            |a| a.generate_one_time_keys_with(&mut r, 50, |_, _| {}),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter_batched_ref(
            olm::Account::new,
            |a| a.generate_one_time_keys(50),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn handshake(c: &mut Criterion) {
    let mut g = c.benchmark_group("olm-handshake");
    let mut r = rng();
    let alice = Account::<100>::new(&mut r);
    let mut out = [0u8; 64];
    let mut setup = rng();
    g.bench_function("safemeet", |b| {
        b.iter_batched_ref(
            || bob_with_key(&mut setup),
            |(bob, key)| {
                let mut to_bob = alice
                    .create_outbound_session(&mut r, &bob.curve25519_key(), key)
                    .unwrap();
                let first = encrypt(&mut to_bob, &mut r, b"hello");
                let mut to_alice = bob
                    .create_inbound_session_into(&alice.curve25519_key(), &first.bytes, &mut out)
                    .unwrap()
                    .session;
                let reply = encrypt(&mut to_alice, &mut r, b"hi");
                decrypt(&mut to_bob, &reply, &mut out)
            },
            BatchSize::SmallInput,
        )
    });
    let vz_alice = olm::Account::new();
    g.bench_function("vodozemac", |b| {
        b.iter_batched_ref(
            vz_bob_account,
            |(bob, otk)| {
                let mut to_bob = vz_alice
                    .create_outbound_session(
                        olm::SessionConfig::version_1(),
                        bob.curve25519_key(),
                        *otk,
                    )
                    .unwrap();
                let first = vz_pre_key(to_bob.encrypt(b"hello").unwrap());
                let mut to_alice = bob
                    .create_inbound_session(
                        olm::SessionConfig::version_1(),
                        vz_alice.curve25519_key(),
                        &first,
                    )
                    .unwrap()
                    .session;
                let reply = to_alice.encrypt(b"hi").unwrap();
                to_bob.decrypt(&reply).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn encrypt_decrypt(c: &mut Criterion) {
    for size in SIZES {
        let plaintext = vec![0xA5u8; size];
        let mut g = c.benchmark_group(format!("olm-encrypt-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        let mut r = rng();
        let (mut alice, _) = established(&mut r);
        let mut out = vec![0u8; alice.encrypt_len(size) + 16];
        g.bench_function("safemeet", |b| {
            b.iter(|| {
                alice
                    .encrypt_into(&mut r, black_box(&plaintext), &mut out)
                    .unwrap()
            })
        });
        let (mut vz_alice, _) = vz_established();
        g.bench_function("vodozemac", |b| {
            b.iter(|| vz_alice.encrypt(black_box(&plaintext)).unwrap())
        });
        g.finish();

        let mut g = c.benchmark_group(format!("olm-decrypt-{size}B"));
        g.throughput(Throughput::Bytes(size as u64));
        let (mut alice, mut bob) = established(&mut r);
        let mut out = vec![0u8; size + 16];
        g.bench_function("safemeet", |b| {
            b.iter_batched(
                || encrypt(&mut alice, &mut r, &plaintext),
                |m| decrypt(&mut bob, &m, &mut out),
                BatchSize::SmallInput,
            )
        });
        let (mut vz_alice, mut vz_bob) = vz_established();
        g.bench_function("vodozemac", |b| {
            b.iter_batched(
                || vz_alice.encrypt(&plaintext).unwrap().to_parts(),
                |(t, m)| {
                    vz_bob
                        .decrypt(&olm::OlmMessage::from_parts(t, &m).unwrap())
                        .unwrap()
                },
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("olm-ping-pong-100B");
    let plaintext = [0xA5u8; 100];
    let mut r = rng();
    let (mut alice, mut bob) = established(&mut r);
    let mut message = vec![0u8; 512];
    let mut out = [0u8; 128];
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            let (kind, n) = alice
                .encrypt_into(&mut r, &plaintext, &mut message)
                .unwrap();
            bob.decrypt_into(kind, &message[..n], &mut out).unwrap();
            let (kind, n) = bob.encrypt_into(&mut r, &plaintext, &mut message).unwrap();
            alice.decrypt_into(kind, &message[..n], &mut out).unwrap()
        })
    });
    let (mut vz_alice, mut vz_bob) = vz_established();
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            let (t, m) = vz_alice.encrypt(plaintext).unwrap().to_parts();
            vz_bob
                .decrypt(&olm::OlmMessage::from_parts(t, &m).unwrap())
                .unwrap();
            let (t, m) = vz_bob.encrypt(plaintext).unwrap().to_parts();
            vz_alice
                .decrypt(&olm::OlmMessage::from_parts(t, &m).unwrap())
                .unwrap()
        })
    });
    g.finish();
}

fn pickles(c: &mut Criterion) {
    let mut r = rng();
    // A session with a few skipped keys and two receiving chains, the same shape on both sides.
    let (mut alice, mut bob) = established(&mut r);
    let (mut vz_alice, mut vz_bob) = vz_established();
    let mut out = [0u8; 64];
    let late: Vec<_> = (0..4).map(|_| encrypt(&mut alice, &mut r, b"m")).collect();
    decrypt(&mut bob, &late[3], &mut out);
    let vz_late: Vec<_> = (0..4).map(|_| vz_alice.encrypt(b"m").unwrap()).collect();
    vz_bob.decrypt(&vz_late[3]).unwrap();

    let mut g = c.benchmark_group("olm-session-pickle");
    let mut buf = vec![0u8; bob.pickle_len()];
    g.bench_function("safemeet", |b| {
        b.iter(|| bob.pickle_into(&mut r, &PICKLE_KEY, &mut buf).unwrap())
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| vz_bob.pickle().encrypt(&PICKLE_KEY))
    });
    g.finish();

    let mut g = c.benchmark_group("olm-session-unpickle");
    let mut pickle = vec![0u8; bob.pickle_len()];
    bob.pickle_into(&mut r, &PICKLE_KEY, &mut pickle).unwrap();
    let vz_pickle = vz_bob.pickle().encrypt(&PICKLE_KEY);
    g.bench_function("safemeet", |b| {
        b.iter_batched_ref(
            || pickle.clone(),
            |p| Session::from_pickle(&PICKLE_KEY, p).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            olm::Session::from_pickle(
                olm::SessionPickle::from_encrypted(&vz_pickle, &PICKLE_KEY).unwrap(),
            )
        })
    });
    g.finish();

    let mut account = Account::<100>::new(&mut r);
    account.generate_one_time_keys_with(&mut r, 50, |_, _| {});
    account.generate_fallback_key(&mut r);
    let mut vz_account = olm::Account::new();
    vz_account.generate_one_time_keys(50);
    vz_account.generate_fallback_key();

    let mut g = c.benchmark_group("olm-account-pickle");
    let mut buf = vec![0u8; account.pickle_len()];
    g.bench_function("safemeet", |b| {
        b.iter(|| account.pickle_into(&mut r, &PICKLE_KEY, &mut buf).unwrap())
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| vz_account.pickle().encrypt(&PICKLE_KEY))
    });
    g.finish();

    let mut g = c.benchmark_group("olm-account-unpickle");
    let mut pickle = vec![0u8; account.pickle_len()];
    account
        .pickle_into(&mut r, &PICKLE_KEY, &mut pickle)
        .unwrap();
    let vz_pickle = vz_account.pickle().encrypt(&PICKLE_KEY);
    g.bench_function("safemeet", |b| {
        b.iter_batched_ref(
            || pickle.clone(),
            |p| Account::<100>::from_pickle(&PICKLE_KEY, p).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            olm::Account::from_pickle(
                olm::AccountPickle::from_encrypted(&vz_pickle, &PICKLE_KEY).unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    accounts,
    handshake,
    encrypt_decrypt,
    ping_pong,
    pickles
);
criterion_main!(benches);

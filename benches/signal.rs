//! The classic Signal profile, operation by operation. Run with `cargo bench --bench signal`.
//!
//! There is no Rust classic-Signal peer to measure beside ours (current libsignal no longer speaks v3,
//! `specs/signal.md` §5); `interop/node/bench_pairwise.js` times npm `libsignal@6.0.0` doing the same
//! operations, run by hand, for comparison in notes only.
//!
//! - `signal-handshake`: Alice's outbound session from Bob's bundle (XEdDSA check, X3DH with a
//!   one-time prekey) and pre-key message, Bob's inbound session from it, Bob's reply and Alice
//!   reading it.
//! - `signal-encrypt-<size>` / `signal-decrypt-<size>`: one direction on an established session.
//! - `signal-ping-pong-100B`: one round trip: two DH ratchet steps.
//! - `signal-session-{pickle,unpickle}`: an established session sealed and opened.
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
use safemeet::signal::{Account, MessageType, Session};

const SIZES: [usize; 2] = [100, 16 * 1024];
const PICKLE_KEY: [u8; 32] = [7; 32];

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([0x43; 32])
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

/// Bob's account with one one-time prekey, and its id.
fn bob_with_key(rng: &mut ChaCha20Rng) -> (Account, u32) {
    let mut bob = Account::new(rng);
    bob.generate_one_time_pre_keys(rng, 1);
    let (id, _) = bob.one_time_pre_keys().next().unwrap();
    (bob, id)
}

fn established(rng: &mut ChaCha20Rng) -> (Session, Session) {
    let alice: Account = Account::new(rng);
    let (mut bob, id) = bob_with_key(rng);
    let mut to_bob: Session = alice
        .create_outbound_session(rng, &bob.bundle(Some(id)).unwrap())
        .unwrap();
    let first = encrypt(&mut to_bob, rng, b"hello");
    let mut out = [0u8; 64];
    let (mut to_alice, _): (Session, _) = bob
        .create_inbound_session_into(&first.bytes, &mut out)
        .unwrap();
    let reply = encrypt(&mut to_alice, rng, b"hi");
    decrypt(&mut to_bob, &reply, &mut out);
    (to_bob, to_alice)
}

fn handshake(c: &mut Criterion) {
    let mut g = c.benchmark_group("signal-handshake");
    let mut r = rng();
    let alice: Account = Account::new(&mut r);
    let mut out = [0u8; 64];
    let mut setup = rng();
    g.bench_function("safemeet", |b| {
        b.iter_batched_ref(
            || bob_with_key(&mut setup),
            |(bob, id)| {
                let bundle = bob.bundle(Some(*id)).unwrap();
                let mut to_bob: Session = alice.create_outbound_session(&mut r, &bundle).unwrap();
                let first = encrypt(&mut to_bob, &mut r, b"hello");
                let (mut to_alice, _): (Session, _) = bob
                    .create_inbound_session_into(&first.bytes, &mut out)
                    .unwrap();
                let reply = encrypt(&mut to_alice, &mut r, b"hi");
                decrypt(&mut to_bob, &reply, &mut out)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn encrypt_decrypt(c: &mut Criterion) {
    for size in SIZES {
        let plaintext = vec![0xA5u8; size];
        let mut g = c.benchmark_group(format!("signal-encrypt-{size}B"));
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
        g.finish();

        let mut g = c.benchmark_group(format!("signal-decrypt-{size}B"));
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
        g.finish();
    }
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("signal-ping-pong-100B");
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
    g.finish();
}

fn pickles(c: &mut Criterion) {
    let mut r = rng();
    // A session with a few skipped keys and two receiving chains.
    let (mut alice, mut bob) = established(&mut r);
    let mut out = [0u8; 64];
    let late: Vec<_> = (0..4).map(|_| encrypt(&mut alice, &mut r, b"m")).collect();
    decrypt(&mut bob, &late[3], &mut out);
    let mut buf = vec![0u8; bob.pickle_len()];
    let mut g = c.benchmark_group("signal-session-pickle");
    g.bench_function("safemeet", |b| {
        b.iter(|| bob.pickle_into(&mut r, &PICKLE_KEY, &mut buf).unwrap())
    });
    g.finish();
    let n = bob.pickle_into(&mut r, &PICKLE_KEY, &mut buf).unwrap();
    let pickle = buf[..n].to_vec();
    let mut g = c.benchmark_group("signal-session-unpickle");
    g.bench_function("safemeet", |b| {
        b.iter_batched_ref(
            || pickle.clone(),
            |p| Session::<256>::from_pickle(&PICKLE_KEY, p).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, handshake, encrypt_decrypt, ping_pong, pickles);
criterion_main!(benches);

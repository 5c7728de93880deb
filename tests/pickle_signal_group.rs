//! Signal sender-key pickles (`OutboundSenderKey`, kind 0x0B; `SenderKeyRecord`, kind 0x0E): round
//! trips, rejection of damaged or foreign pickles, capacity changes, and committed version-1 fixtures
//! that must keep loading.
//!
//! The fixtures (`tests/fixtures/signal-sender-key-*-v1.pickle` and `signal-group-v1.json`) were
//! written by `write_fixtures` below with a seeded RNG; regenerate only for a new state version with
//! `SAFEMEET_WRITE_FIXTURES=1 cargo test --all-features --test pickle_signal_group`.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

use common::{hex, to_hex};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::signal::group::{DistributionId, OutboundSenderKey, SenderKeyRecord};
use safemeet::{Error, PickleError, SignalError, megolm};

const KEY: [u8; 32] = [0x35; 32];
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A sender and a member who holds two chains (an older one from another sender key of the same
/// distribution) and has read message 5 of the current chain, so messages 0..=4 are stored; message 2
/// is kept for after reloading.
struct World {
    out: OutboundSenderKey,
    rec: SenderKeyRecord<16>,
    late: Vec<u8>,
}

fn world() -> World {
    let mut rng = ChaCha20Rng::from_seed(*b"safemeet signal sender keys v1!!");
    let id = DistributionId::random(&mut rng);
    let older = OutboundSenderKey::new(&mut rng, id);
    let mut out = OutboundSenderKey::new(&mut rng, id);
    let mut rec = SenderKeyRecord::from_distribution_message(&older.distribution_message());
    rec.process_distribution_message(&out.distribution_message())
        .unwrap();
    let msgs: Vec<_> = (0..6)
        .map(|i| {
            out.encrypt(&mut rng, format!("signal {i}").as_bytes())
                .unwrap()
        })
        .collect();
    assert_eq!(rec.decrypt(&msgs[5]).unwrap(), b"signal 5");
    assert_eq!(rec.decrypt(&msgs[4]).unwrap(), b"signal 4");
    assert_eq!(rec.stored_keys(), 4);
    World {
        out,
        rec,
        late: msgs[2].clone(),
    }
}

#[test]
fn round_trips_keep_behaviour() {
    let mut w = world();
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let mut out =
        OutboundSenderKey::from_pickle_bytes(&KEY, &w.out.pickle(&mut rng, &KEY)).unwrap();
    let mut rec =
        SenderKeyRecord::<16>::from_pickle_bytes(&KEY, &w.rec.pickle(&mut rng, &KEY)).unwrap();
    assert_eq!(out.iteration(), 6);
    assert_eq!(out.chain_id(), w.out.chain_id());
    assert_eq!(out.signing_key(), w.out.signing_key());
    assert_eq!(
        rec.chain_ids().collect::<Vec<_>>(),
        w.rec.chain_ids().collect::<Vec<_>>()
    );
    assert_eq!(rec.stored_keys(), 4);
    // The restored sender continues where the original is: same ciphertext (the signature is
    // randomized, so compare what precedes it).
    let a = out
        .encrypt(&mut ChaCha20Rng::from_seed([9; 32]), b"next")
        .unwrap();
    let b = w
        .out
        .encrypt(&mut ChaCha20Rng::from_seed([9; 32]), b"next")
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(rec.decrypt(&a).unwrap(), b"next");
    assert_eq!(rec.decrypt(&w.late).unwrap(), b"signal 2");
    assert_eq!(
        rec.decrypt(&w.late),
        Err(Error::Signal(SignalError::DuplicatedMessage))
    );

    // Into a smaller capacity: the oldest stored keys are dropped, as the record would have (only
    // iteration 3 stays).
    let mut small =
        SenderKeyRecord::<1>::from_pickle_bytes(&KEY, &w.rec.pickle(&mut rng, &KEY)).unwrap();
    assert_eq!(small.stored_keys(), 1);
    assert_eq!(
        small.decrypt(&w.late),
        Err(Error::Signal(SignalError::DuplicatedMessage))
    );
    // Into a larger one (the default, 2000).
    let mut big: Box<SenderKeyRecord> =
        Box::new(SenderKeyRecord::from_pickle_bytes(&KEY, &w.rec.pickle(&mut rng, &KEY)).unwrap());
    assert_eq!(big.stored_keys(), 4);
    assert_eq!(big.decrypt(&w.late).unwrap(), b"signal 2");
}

#[test]
fn damaged_foreign_and_wrongly_keyed_pickles_are_rejected() {
    let w = world();
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let pickle = w.rec.pickle(&mut rng, &KEY);
    let invalid = Err::<(), _>(Error::Pickle(PickleError::Invalid));
    for i in 0..pickle.len() {
        let mut bad = pickle.clone();
        bad[i] ^= 0x10;
        assert_eq!(
            SenderKeyRecord::<16>::from_pickle_bytes(&KEY, &bad).map(|_| ()),
            invalid,
            "byte {i}"
        );
    }
    for n in 0..pickle.len() {
        assert!(SenderKeyRecord::<16>::from_pickle_bytes(&KEY, &pickle[..n]).is_err());
    }
    assert_eq!(
        SenderKeyRecord::<16>::from_pickle_bytes(&[0; 32], &pickle).map(|_| ()),
        invalid
    );
    let out = w.out.pickle(&mut rng, &KEY);
    let megolm_pickle = megolm::GroupSession::new(&mut rng).pickle(&mut rng, &KEY);
    assert!(OutboundSenderKey::from_pickle_bytes(&KEY, &out).is_ok());
    assert_eq!(
        OutboundSenderKey::from_pickle_bytes(&KEY, &pickle).map(|_| ()),
        invalid
    );
    assert_eq!(
        SenderKeyRecord::<16>::from_pickle_bytes(&KEY, &out).map(|_| ()),
        invalid
    );
    for p in [&out, &pickle] {
        assert!(megolm::GroupSession::from_pickle_bytes(&KEY, p).is_err());
    }
    assert_eq!(
        OutboundSenderKey::from_pickle_bytes(&KEY, &megolm_pickle).map(|_| ()),
        invalid
    );
    // A too-small buffer names the size and writes nothing.
    let mut small = vec![0u8; w.rec.pickle_len() - 1];
    assert_eq!(
        w.rec.pickle_into(&mut rng, &KEY, &mut small),
        Err(Error::Pickle(PickleError::BufferTooSmall {
            needed: w.rec.pickle_len()
        }))
    );
    assert!(small.iter().all(|&b| b == 0));
}

fn fixture(name: &str) -> Vec<u8> {
    hex(std::fs::read_to_string(format!("{FIXTURES}/{name}"))
        .unwrap()
        .trim())
}

#[test]
fn version_1_fixtures_still_load() {
    if std::env::var_os("SAFEMEET_WRITE_FIXTURES").is_some() {
        write_fixtures();
    }
    let facts: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/signal-group-v1.json")).unwrap(),
    )
    .unwrap();
    let key: [u8; 32] = hex(facts["pickle_key"].as_str().unwrap())
        .try_into()
        .unwrap();
    let mut out = OutboundSenderKey::from_pickle_bytes(
        &key,
        &fixture("signal-sender-key-outbound-v1.pickle"),
    )
    .unwrap();
    let mut rec = SenderKeyRecord::<16>::from_pickle_bytes(
        &key,
        &fixture("signal-sender-key-record-v1.pickle"),
    )
    .unwrap();
    assert_eq!(
        out.distribution_id().to_string(),
        facts["distribution_id"].as_str().unwrap()
    );
    assert_eq!(
        u64::from(out.chain_id()),
        facts["chain_id"].as_u64().unwrap()
    );
    assert_eq!(rec.distribution_id(), out.distribution_id());
    assert_eq!(rec.chain_ids().count(), 2);
    let late = hex(facts["late_message"].as_str().unwrap());
    assert_eq!(rec.decrypt(&late).unwrap(), b"signal 2");
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let next = out.encrypt(&mut rng, b"still works").unwrap();
    let mut pt = vec![0u8; 64];
    let got = rec.decrypt_into(&next, &mut pt).unwrap();
    assert_eq!(
        (got.iteration, &pt[..got.plaintext_len]),
        (6, &b"still works"[..])
    );
}

fn write_fixtures() {
    let w = world();
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(format!("{FIXTURES}/{name}"), to_hex(bytes) + "\n").unwrap();
    };
    write(
        "signal-sender-key-outbound-v1.pickle",
        &w.out.pickle(&mut rng, &KEY),
    );
    write(
        "signal-sender-key-record-v1.pickle",
        &w.rec.pickle(&mut rng, &KEY),
    );
    let facts = serde_json::json!({
        "description": "safemeet Signal sender-key pickles, state version 1; written by tests/pickle_signal_group.rs write_fixtures with a seeded RNG",
        "pickle_key": to_hex(&KEY),
        "distribution_id": w.out.distribution_id().to_string(),
        "chain_id": w.out.chain_id(),
        "late_message": to_hex(&w.late),
    });
    std::fs::write(
        format!("{FIXTURES}/signal-group-v1.json"),
        serde_json::to_string_pretty(&facts).unwrap() + "\n",
    )
    .unwrap();
}

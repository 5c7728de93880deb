//! Group-session pickles (Megolm and native sender keys): round trips, rejection of damaged or
//! foreign pickles, and committed version-1 fixtures that must keep loading.
//!
//! The fixtures (`tests/fixtures/{megolm,native-group}-*-v1.pickle` and `group-v1.json`) were written
//! by `write_fixtures` below with a seeded RNG; regenerate only for a new state version with
//! `SAFEMEET_WRITE_FIXTURES=1 cargo test --all-features --test pickle_group`.
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
use safemeet::session::group as native;
use safemeet::{Error, PickleError, megolm};

const KEY: [u8; 32] = [0x24; 32];
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// An outbound and an inbound session of each profile, the inbound one having read message 3 (so its
/// latest state differs from its initial one), plus message 1 for after reloading.
struct World {
    mg_out: megolm::GroupSession,
    mg_in: megolm::InboundGroupSession,
    mg_late: Vec<u8>,
    nt_out: native::GroupSession,
    nt_in: native::InboundGroupSession,
    nt_late: Vec<u8>,
}

fn world() -> World {
    let mut rng = ChaCha20Rng::from_seed(*b"safemeet group pickles, v1 ok!!!");
    let mut mg_out = megolm::GroupSession::new(&mut rng);
    let mut mg_in = megolm::InboundGroupSession::new(&mg_out.session_key());
    let mg: Vec<_> = (0..4)
        .map(|i| mg_out.encrypt(format!("megolm {i}").as_bytes()).unwrap())
        .collect();
    assert_eq!(mg_in.decrypt(&mg[3]).unwrap().message_index, 3);
    let mut nt_out = native::GroupSession::new(&mut rng);
    let mut nt_in = native::InboundGroupSession::new(&nt_out.sender_key());
    let nt: Vec<_> = (0..4)
        .map(|i| nt_out.encrypt(format!("native {i}").as_bytes()).unwrap())
        .collect();
    assert_eq!(nt_in.decrypt(&nt[3]).unwrap().1, 3);
    World {
        mg_out,
        mg_in,
        mg_late: mg[1].clone(),
        nt_out,
        nt_in,
        nt_late: nt[1].clone(),
    }
}

#[test]
fn round_trips_keep_behaviour() {
    let mut w = world();
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let mut mg_out =
        megolm::GroupSession::from_pickle_bytes(&KEY, &w.mg_out.pickle(&mut rng, &KEY)).unwrap();
    let mut mg_in =
        megolm::InboundGroupSession::from_pickle_bytes(&KEY, &w.mg_in.pickle(&mut rng, &KEY))
            .unwrap();
    assert_eq!(mg_out.message_index(), 4);
    assert_eq!(mg_in.first_known_index(), 0);
    assert!(mg_in.is_verified());
    // The restored outbound session continues exactly where the original is.
    assert_eq!(
        mg_out.encrypt(b"next").unwrap(),
        w.mg_out.encrypt(b"next").unwrap()
    );
    let next = mg_out.encrypt(b"after").unwrap();
    assert_eq!(mg_in.decrypt(&next).unwrap().plaintext, b"after");
    assert_eq!(mg_in.decrypt(&w.mg_late).unwrap().plaintext, b"megolm 1");

    let mut nt_out =
        native::GroupSession::from_pickle_bytes(&KEY, &w.nt_out.pickle(&mut rng, &KEY)).unwrap();
    let mut nt_in =
        native::InboundGroupSession::from_pickle_bytes(&KEY, &w.nt_in.pickle(&mut rng, &KEY))
            .unwrap();
    assert_eq!(
        nt_out.encrypt(b"next").unwrap(),
        w.nt_out.encrypt(b"next").unwrap()
    );
    let next = nt_out.encrypt(b"after").unwrap();
    assert_eq!(nt_in.decrypt(&next).unwrap().0, b"after");
    assert_eq!(nt_in.decrypt(&w.nt_late).unwrap().0, b"native 1");
}

#[test]
fn damaged_foreign_and_wrongly_keyed_pickles_are_rejected() {
    let w = world();
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let pickle = w.mg_in.pickle(&mut rng, &KEY);
    let invalid = Err::<(), _>(Error::Pickle(PickleError::Invalid));
    for i in 0..pickle.len() {
        let mut bad = pickle.clone();
        bad[i] ^= 0x10;
        assert_eq!(
            megolm::InboundGroupSession::from_pickle_bytes(&KEY, &bad).map(|_| ()),
            invalid,
            "byte {i}"
        );
    }
    for n in 0..pickle.len() {
        assert!(megolm::InboundGroupSession::from_pickle_bytes(&KEY, &pickle[..n]).is_err());
    }
    assert_eq!(
        megolm::InboundGroupSession::from_pickle_bytes(&[0; 32], &pickle).map(|_| ()),
        invalid
    );
    // Each kind refuses the others' pickles.
    let kinds = [
        w.mg_out.pickle(&mut rng, &KEY),
        w.mg_in.pickle(&mut rng, &KEY),
        w.nt_out.pickle(&mut rng, &KEY),
        w.nt_in.pickle(&mut rng, &KEY),
    ];
    for (i, p) in kinds.iter().enumerate() {
        assert_eq!(
            megolm::GroupSession::from_pickle_bytes(&KEY, p).is_ok(),
            i == 0
        );
        assert_eq!(
            megolm::InboundGroupSession::from_pickle_bytes(&KEY, p).is_ok(),
            i == 1
        );
        assert_eq!(
            native::GroupSession::from_pickle_bytes(&KEY, p).is_ok(),
            i == 2
        );
        assert_eq!(
            native::InboundGroupSession::from_pickle_bytes(&KEY, p).is_ok(),
            i == 3
        );
    }
    // A too-small buffer names the size and writes nothing.
    let mut small = vec![0u8; w.mg_out.pickle_len() - 1];
    assert_eq!(
        w.mg_out.pickle_into(&mut rng, &KEY, &mut small),
        Err(Error::Pickle(PickleError::BufferTooSmall {
            needed: w.mg_out.pickle_len()
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
        &std::fs::read_to_string(format!("{FIXTURES}/group-v1.json")).unwrap(),
    )
    .unwrap();
    let key: [u8; 32] = hex(facts["pickle_key"].as_str().unwrap())
        .try_into()
        .unwrap();

    let mut mg_out =
        megolm::GroupSession::from_pickle_bytes(&key, &fixture("megolm-outbound-v1.pickle"))
            .unwrap();
    let mut mg_in =
        megolm::InboundGroupSession::from_pickle_bytes(&key, &fixture("megolm-inbound-v1.pickle"))
            .unwrap();
    assert_eq!(
        mg_out.session_id(),
        facts["megolm_session_id"].as_str().unwrap()
    );
    assert_eq!(mg_in.session_id(), mg_out.session_id());
    let late = hex(facts["megolm_late_message"].as_str().unwrap());
    assert_eq!(mg_in.decrypt(&late).unwrap().plaintext, b"megolm 1");
    let next = mg_out.encrypt(b"still works").unwrap();
    assert_eq!(mg_in.decrypt(&next).unwrap().message_index, 4);

    let mut nt_out =
        native::GroupSession::from_pickle_bytes(&key, &fixture("native-group-outbound-v1.pickle"))
            .unwrap();
    let mut nt_in = native::InboundGroupSession::from_pickle_bytes(
        &key,
        &fixture("native-group-inbound-v1.pickle"),
    )
    .unwrap();
    assert_eq!(
        to_hex(nt_out.session_id().as_bytes()),
        facts["native_session_id"].as_str().unwrap()
    );
    let late = hex(facts["native_late_message"].as_str().unwrap());
    assert_eq!(nt_in.decrypt(&late).unwrap().0, b"native 1");
    let next = nt_out.encrypt(b"still works").unwrap();
    assert_eq!(nt_in.decrypt(&next).unwrap().1, 4);
}

fn write_fixtures() {
    let w = world();
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(format!("{FIXTURES}/{name}"), to_hex(bytes) + "\n").unwrap();
    };
    write(
        "megolm-outbound-v1.pickle",
        &w.mg_out.pickle(&mut rng, &KEY),
    );
    write("megolm-inbound-v1.pickle", &w.mg_in.pickle(&mut rng, &KEY));
    write(
        "native-group-outbound-v1.pickle",
        &w.nt_out.pickle(&mut rng, &KEY),
    );
    write(
        "native-group-inbound-v1.pickle",
        &w.nt_in.pickle(&mut rng, &KEY),
    );
    let facts = serde_json::json!({
        "description": "safemeet group pickles, state version 1; written by tests/pickle_group.rs write_fixtures with a seeded RNG",
        "pickle_key": to_hex(&KEY),
        "megolm_session_id": w.mg_out.session_id().as_str(),
        "megolm_late_message": to_hex(&w.mg_late),
        "native_session_id": to_hex(w.nt_out.session_id().as_bytes()),
        "native_late_message": to_hex(&w.nt_late),
    });
    std::fs::write(
        format!("{FIXTURES}/group-v1.json"),
        serde_json::to_string_pretty(&facts).unwrap() + "\n",
    )
    .unwrap();
}

//! Pickles: round trips, rejection of anything damaged, and committed version-1 fixtures that must keep
//! loading.
//!
//! The fixtures in `tests/fixtures/` were written by `write_fixtures` below with a seeded RNG. To
//! regenerate them (only ever for a *new* state version, keeping the old files), run
//! `SAFEMEET_WRITE_FIXTURES=1 cargo test --test pickle`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![cfg(feature = "alloc")]

mod common;

use common::{hex, to_hex};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::session::{Account, Session, SessionConfig};
use safemeet::{Error, PickleError};

const KEY: [u8; 32] = [0x42; 32];
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Alice and Bob with a session each way; Bob's session holds one skipped key (message `late`).
struct World {
    alice: Account,
    bob: Account,
    alice_session: Session,
    bob_session: Session,
    late: Vec<u8>,
    rng: ChaCha20Rng,
}

fn world(config: SessionConfig) -> World {
    let mut rng = ChaCha20Rng::from_seed(*b"safemeet pickle fixtures, v1 ok!");
    let alice = Account::new(&mut rng);
    let mut bob = Account::new(&mut rng);
    bob.generate_one_time_prekeys(&mut rng, 5);
    let bundle = bob.prekey_bundle(Some(2)).unwrap();
    let mut alice_session = alice
        .create_outbound_session(&mut rng, &bundle, config)
        .unwrap();
    let first = alice_session.encrypt(&mut rng, b"first").unwrap();
    let (mut bob_session, pt) = bob.create_inbound_session(&first).unwrap();
    assert_eq!(pt, b"first");
    let reply = bob_session.encrypt(&mut rng, b"reply").unwrap();
    assert_eq!(alice_session.decrypt(&reply).unwrap(), b"reply");
    let late = alice_session.encrypt(&mut rng, b"late message").unwrap();
    let next = alice_session.encrypt(&mut rng, b"next").unwrap();
    assert_eq!(bob_session.decrypt(&next).unwrap(), b"next");
    World {
        alice,
        bob,
        alice_session,
        bob_session,
        late,
        rng,
    }
}

#[test]
fn round_trip_preserves_behaviour_and_bytes() {
    for config in [
        SessionConfig::plain(),
        SessionConfig::with_header_encryption(),
    ] {
        let mut w = world(config);
        let pickle = w
            .bob_session
            .pickle(&mut ChaCha20Rng::from_seed([7; 32]), &KEY);
        let mut restored = Session::from_pickle_bytes(&KEY, &pickle).unwrap();
        // The same state pickles to the same bytes (with the same nonce).
        assert_eq!(
            restored.pickle(&mut ChaCha20Rng::from_seed([7; 32]), &KEY),
            pickle
        );
        assert_eq!(restored.session_id(), w.bob_session.session_id());
        assert_eq!(restored.decrypt(&w.late).unwrap(), b"late message");
        let m = restored.encrypt(&mut w.rng, b"after restore").unwrap();
        assert_eq!(w.alice_session.decrypt(&m).unwrap(), b"after restore");

        let account = w.alice.pickle(&mut w.rng, &KEY);
        let restored = Account::from_pickle_bytes(&KEY, &account).unwrap();
        assert_eq!(restored.identity_keys(), w.alice.identity_keys());
        let bob = Account::from_pickle_bytes(&KEY, &w.bob.pickle(&mut w.rng, &KEY)).unwrap();
        assert_eq!(bob.one_time_prekey_count(), w.bob.one_time_prekey_count());
        assert_eq!(bob.signed_prekey(), w.bob.signed_prekey());
    }
}

#[test]
fn damaged_pickles_are_rejected() {
    let mut w = world(SessionConfig::plain());
    let pickle = w.bob_session.pickle(&mut w.rng, &KEY);
    let invalid = Err(Error::Pickle(PickleError::Invalid));
    let mut cases = 0;
    for i in 0..pickle.len() {
        let mut bad = pickle.clone();
        bad[i] ^= 0x04;
        assert_eq!(Session::from_pickle_bytes(&KEY, &bad).map(|_| ()), invalid);
        cases += 1;
    }
    for len in 0..pickle.len() {
        assert_eq!(
            Session::from_pickle_bytes(&KEY, &pickle[..len]).map(|_| ()),
            invalid
        );
        cases += 1;
    }
    let mut longer = pickle.clone();
    longer.push(0);
    assert_eq!(
        Session::from_pickle_bytes(&KEY, &longer).map(|_| ()),
        invalid
    );
    assert_eq!(
        Session::from_pickle_bytes(&[0x43; 32], &pickle).map(|_| ()),
        invalid
    );
    // A session pickle is not an account pickle.
    assert_eq!(
        Account::from_pickle_bytes(&KEY, &pickle).map(|_| ()),
        invalid
    );
    println!("pickle: {cases} damaged or truncated session pickles rejected");

    // The in-place form zeroizes the caller's buffer, whatever the outcome.
    let mut buf = pickle.clone();
    Session::from_pickle(&KEY, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    let mut small = vec![0u8; w.bob_session.pickle_len() - 1];
    assert_eq!(
        w.bob_session.pickle_into(&mut w.rng, &KEY, &mut small),
        Err(Error::Pickle(PickleError::BufferTooSmall {
            needed: w.bob_session.pickle_len()
        }))
    );
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Expected {
    description: String,
    pickle_key: String,
    alice_identity_curve25519: String,
    alice_identity_ed25519: String,
    bob_one_time_prekeys: usize,
    late_message: String,
    late_plaintext: String,
    session_id: String,
}

fn write_fixtures() {
    let mut w = world(SessionConfig::plain());
    let ids = w.alice.identity_keys();
    let expected = Expected {
        description: "safemeet native pickles, state version 1; written by tests/pickle.rs \
                      write_fixtures with a seeded RNG"
            .into(),
        pickle_key: to_hex(&KEY),
        alice_identity_curve25519: to_hex(ids.curve25519.as_bytes()),
        alice_identity_ed25519: to_hex(ids.ed25519.as_bytes()),
        bob_one_time_prekeys: w.bob.one_time_prekey_count(),
        late_message: to_hex(&w.late),
        late_plaintext: "late message".into(),
        session_id: to_hex(&w.bob_session.session_id()),
    };
    std::fs::write(
        format!("{FIXTURES}/native-v1.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
    let files = [
        ("native-account-v1.pickle", w.alice.pickle(&mut w.rng, &KEY)),
        (
            "native-bob-account-v1.pickle",
            w.bob.pickle(&mut w.rng, &KEY),
        ),
        (
            "native-session-v1.pickle",
            w.bob_session.pickle(&mut w.rng, &KEY),
        ),
    ];
    for (name, bytes) in files {
        std::fs::write(format!("{FIXTURES}/{name}"), bytes).unwrap();
    }
}

#[test]
fn version_1_fixtures_still_load() {
    if std::env::var_os("SAFEMEET_WRITE_FIXTURES").is_some() {
        write_fixtures();
    }
    let expected: Expected = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/native-v1.json")).unwrap(),
    )
    .unwrap();
    let key: [u8; 32] = hex(&expected.pickle_key).try_into().unwrap();
    let read = |name: &str| std::fs::read(format!("{FIXTURES}/{name}")).unwrap();

    let alice = Account::from_pickle_bytes(&key, &read("native-account-v1.pickle")).unwrap();
    let ids = alice.identity_keys();
    assert_eq!(
        to_hex(ids.curve25519.as_bytes()),
        expected.alice_identity_curve25519
    );
    assert_eq!(
        to_hex(ids.ed25519.as_bytes()),
        expected.alice_identity_ed25519
    );
    ids.verify().unwrap();

    let bob = Account::from_pickle_bytes(&key, &read("native-bob-account-v1.pickle")).unwrap();
    assert_eq!(bob.one_time_prekey_count(), expected.bob_one_time_prekeys);

    let mut session = Session::from_pickle_bytes(&key, &read("native-session-v1.pickle")).unwrap();
    assert_eq!(to_hex(&session.session_id()), expected.session_id);
    let plaintext = session.decrypt(&hex(&expected.late_message)).unwrap();
    assert_eq!(plaintext, expected.late_plaintext.as_bytes());
}

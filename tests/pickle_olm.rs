//! Olm pickles: round trips that keep behaviour, rejection of anything damaged, and committed version-1
//! fixtures that must keep loading.
//!
//! The fixtures in `tests/fixtures/olm-*` were written by `write_fixtures` below with a seeded RNG. To
//! regenerate them (only ever for a *new* state version, keeping the old files), run
//! `SAFEMEET_WRITE_FIXTURES=1 cargo test --test pickle_olm`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![cfg(feature = "alloc")]

mod common;

use common::{hex, to_hex};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::olm::{Account, OlmMessage, Session};
use safemeet::{Error, PickleError};

const KEY: [u8; 32] = [0x24; 32];
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Alice and Bob with a session; Bob holds 50 one-time keys, a fallback key and a skipped message key
/// (message `late` is still in flight).
struct World {
    alice: Account,
    bob: Account,
    alice_session: Session,
    bob_session: Session,
    late: OlmMessage,
    rng: ChaCha20Rng,
}

fn world() -> World {
    let mut rng = ChaCha20Rng::from_seed(*b"safemeet olm pickles, v1 please!");
    let alice = Account::new(&mut rng);
    let mut bob = Account::new(&mut rng);
    bob.generate_one_time_keys(&mut rng, 51);
    bob.generate_fallback_key(&mut rng);
    let (_, otk) = bob.one_time_keys().next().unwrap();
    bob.mark_keys_as_published();
    let mut alice_session = alice
        .create_outbound_session(&mut rng, &bob.curve25519_key(), &otk)
        .unwrap();
    let first = alice_session.encrypt(&mut rng, b"first").unwrap();
    let created = bob
        .create_inbound_session(&alice.curve25519_key(), first.as_bytes())
        .unwrap();
    let mut bob_session = created.session;
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
fn round_trips_keep_behaviour() {
    let mut w = world();
    let pickle = w
        .bob_session
        .pickle(&mut ChaCha20Rng::from_seed([7; 32]), &KEY);
    let mut restored = Session::from_pickle_bytes(&KEY, &pickle).unwrap();
    assert_eq!(
        restored.pickle(&mut ChaCha20Rng::from_seed([7; 32]), &KEY),
        pickle,
        "the same state pickles to the same bytes"
    );
    assert_eq!(restored.session_id(), w.bob_session.session_id());
    assert_eq!(restored.decrypt(&w.late).unwrap(), b"late message");
    let m = restored.encrypt(&mut w.rng, b"after restore").unwrap();
    assert_eq!(w.alice_session.decrypt(&m).unwrap(), b"after restore");

    let bob = Account::<100>::from_pickle_bytes(&KEY, &w.bob.pickle(&mut w.rng, &KEY)).unwrap();
    assert_eq!(bob.identity_keys(), w.bob.identity_keys());
    assert_eq!(bob.stored_one_time_key_count(), 50);
    assert_eq!(
        bob.one_time_keys().collect::<Vec<_>>(),
        w.bob.one_time_keys().collect::<Vec<_>>()
    );
    assert_eq!(bob.sign(b"x"), w.bob.sign(b"x"));
    // The restored account still opens sessions on its keys.
    let mut bob = bob;
    bob.generate_one_time_keys(&mut w.rng, 1);
    let (id, otk) = bob.one_time_keys().next().unwrap();
    assert_eq!(id.0, 51, "the key counter survives");
    let mut s = w
        .alice
        .create_outbound_session(&mut w.rng, &bob.curve25519_key(), &otk)
        .unwrap();
    let m = s.encrypt(&mut w.rng, b"hello").unwrap();
    let created = bob
        .create_inbound_session(&w.alice.curve25519_key(), m.as_bytes())
        .unwrap();
    assert_eq!(created.plaintext, b"hello");
}

#[test]
fn damaged_pickles_are_rejected() {
    let mut w = world();
    let invalid = Err(Error::Pickle(PickleError::Invalid));
    let session = w.bob_session.pickle(&mut w.rng, &KEY);
    let account = w.bob.pickle(&mut w.rng, &KEY);
    for i in (0..session.len()).step_by(3) {
        let mut bad = session.clone();
        bad[i] ^= 0x10;
        assert_eq!(Session::from_pickle_bytes(&KEY, &bad).map(|_| ()), invalid);
    }
    for len in (0..session.len()).step_by(7) {
        assert_eq!(
            Session::from_pickle_bytes(&KEY, &session[..len]).map(|_| ()),
            invalid
        );
    }
    assert_eq!(
        Session::from_pickle_bytes(&[1; 32], &session).map(|_| ()),
        invalid
    );
    // Kinds do not mix: not an account, not a native session.
    assert_eq!(
        Account::<100>::from_pickle_bytes(&KEY, &session).map(|_| ()),
        invalid
    );
    assert_eq!(
        Session::from_pickle_bytes(&KEY, &account).map(|_| ()),
        invalid
    );
    assert_eq!(
        safemeet::session::Session::from_pickle_bytes(&KEY, &session).map(|_| ()),
        invalid
    );
    // An account with more one-time keys than the type holds is refused.
    assert_eq!(
        Account::<10>::from_pickle_bytes(&KEY, &account).map(|_| ()),
        invalid
    );
    let mut small = vec![0u8; w.bob.pickle_len() - 1];
    assert_eq!(
        w.bob.pickle_into(&mut w.rng, &KEY, &mut small),
        Err(Error::Pickle(PickleError::BufferTooSmall {
            needed: w.bob.pickle_len()
        }))
    );
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Expected {
    description: String,
    pickle_key: String,
    bob_curve25519: String,
    bob_ed25519: String,
    bob_one_time_keys: usize,
    late_message_type: u64,
    late_message: String,
    late_plaintext: String,
    session_id: String,
}

fn write_fixtures() {
    let mut w = world();
    let ids = w.bob.identity_keys();
    let expected = Expected {
        description: "safemeet Olm pickles, state version 1; written by tests/pickle_olm.rs \
                      write_fixtures with a seeded RNG"
            .into(),
        pickle_key: to_hex(&KEY),
        bob_curve25519: to_hex(ids.curve25519.as_bytes()),
        bob_ed25519: to_hex(ids.ed25519.as_bytes()),
        bob_one_time_keys: w.bob.stored_one_time_key_count(),
        late_message_type: u64::from(w.late.message_type().as_u8()),
        late_message: w.late.to_base64(),
        late_plaintext: "late message".into(),
        session_id: w.bob_session.session_id().to_string(),
    };
    std::fs::write(
        format!("{FIXTURES}/olm-v1.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
    std::fs::write(
        format!("{FIXTURES}/olm-account-v1.pickle"),
        w.bob.pickle(&mut w.rng, &KEY),
    )
    .unwrap();
    std::fs::write(
        format!("{FIXTURES}/olm-session-v1.pickle"),
        w.bob_session.pickle(&mut w.rng, &KEY),
    )
    .unwrap();
}

#[test]
fn version_1_fixtures_still_load() {
    if std::env::var_os("SAFEMEET_WRITE_FIXTURES").is_some() {
        write_fixtures();
    }
    let expected: Expected =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/olm-v1.json")).unwrap())
            .unwrap();
    let key: [u8; 32] = hex(&expected.pickle_key).try_into().unwrap();
    let read = |name: &str| std::fs::read(format!("{FIXTURES}/{name}")).unwrap();

    let bob = Account::<100>::from_pickle_bytes(&key, &read("olm-account-v1.pickle")).unwrap();
    let ids = bob.identity_keys();
    assert_eq!(to_hex(ids.curve25519.as_bytes()), expected.bob_curve25519);
    assert_eq!(to_hex(ids.ed25519.as_bytes()), expected.bob_ed25519);
    assert_eq!(bob.stored_one_time_key_count(), expected.bob_one_time_keys);
    // The stored secrets match the stored public halves.
    let signature = bob.sign(b"fixture");
    ids.ed25519.verify(b"fixture", &signature).unwrap();

    let mut session = Session::from_pickle_bytes(&key, &read("olm-session-v1.pickle")).unwrap();
    assert_eq!(session.session_id().to_string(), expected.session_id);
    let late = OlmMessage::from_parts(expected.late_message_type, &expected.late_message).unwrap();
    assert_eq!(
        session.decrypt(&late).unwrap(),
        expected.late_plaintext.as_bytes()
    );
}

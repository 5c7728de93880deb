//! Classic Signal pickles (kinds `0x09` session, `0x0A` account): round trips that keep behaviour,
//! rejection of anything damaged, and committed version-1 fixtures that must keep loading.
//!
//! The fixtures in `tests/fixtures/signal-*` are **our own** (not a peer's), written by `write_fixtures`
//! below with a seeded RNG. To regenerate them (only ever for a *new* state version, keeping the old
//! files), run `SAFEMEET_WRITE_FIXTURES=1 cargo test --test pickle_signal`.
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
use safemeet::signal::keys::encode_public_key;
use safemeet::signal::{Account, MessageType, Session};
use safemeet::{Error, PickleError};

const KEY: [u8; 32] = [0x5A; 32];
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Alice and Bob with a session both ways; Bob's account has rotated its signed prekey once and holds
/// 19 one-time prekeys; Bob's session holds a skipped key (`late` is in flight); Alice has a second,
/// pending session (`pending`, which still sends pre-key messages).
struct World {
    alice: Account,
    bob: Account,
    alice_session: Session,
    bob_session: Session,
    pending: Session,
    late: Vec<u8>,
    rng: ChaCha20Rng,
}

fn world() -> World {
    let mut rng = ChaCha20Rng::from_seed(*b"safemeet signal pickles, v1 ok!!");
    let alice: Account = Account::new(&mut rng);
    let mut bob: Account = Account::new(&mut rng);
    bob.generate_one_time_pre_keys(&mut rng, 20);
    let (id, _) = bob.one_time_pre_keys().next().unwrap();
    let bundle = bob.bundle(Some(id)).unwrap();
    let mut alice_session: Session = alice.create_outbound_session(&mut rng, &bundle).unwrap();
    let (_, first) = alice_session.encrypt(&mut rng, b"first").unwrap();
    let (mut bob_session, pt) = bob.create_inbound_session(&first).unwrap();
    assert_eq!(pt, b"first");
    let (t, reply) = bob_session.encrypt(&mut rng, b"reply").unwrap();
    assert_eq!(alice_session.decrypt(t, &reply).unwrap(), b"reply");
    let (_, late) = alice_session.encrypt(&mut rng, b"late message").unwrap();
    let (t, next) = alice_session.encrypt(&mut rng, b"next").unwrap();
    assert_eq!(bob_session.decrypt(t, &next).unwrap(), b"next");
    // Pending on the signed prekey that the rotation below makes the previous one.
    let mut pending: Session = alice
        .create_outbound_session(&mut rng, &bob.bundle(None).unwrap())
        .unwrap();
    pending.encrypt(&mut rng, b"unanswered").unwrap();
    bob.rotate_signed_pre_key(&mut rng);
    World {
        alice,
        bob,
        alice_session,
        bob_session,
        pending,
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
    let mut restored: Session = Session::from_pickle_bytes(&KEY, &pickle).unwrap();
    assert_eq!(
        restored.pickle(&mut ChaCha20Rng::from_seed([7; 32]), &KEY),
        pickle,
        "the same state pickles to the same bytes"
    );
    assert_eq!(restored.base_key(), w.bob_session.base_key());
    assert_eq!(restored.their_registration_id(), w.alice.registration_id());
    assert_eq!(
        restored.decrypt(MessageType::Whisper, &w.late).unwrap(),
        b"late message"
    );
    let (t, m) = restored.encrypt(&mut w.rng, b"after restore").unwrap();
    assert_eq!(w.alice_session.decrypt(t, &m).unwrap(), b"after restore");

    // A pending session keeps sending pre-key messages with the same ids after a round trip.
    let mut pending: Session =
        Session::from_pickle_bytes(&KEY, &w.pending.pickle(&mut w.rng, &KEY)).unwrap();
    let (t, m) = pending.encrypt(&mut w.rng, b"still pending").unwrap();
    assert_eq!(t, MessageType::PreKey);
    let (mut bob_side, pt) = w.bob.create_inbound_session::<256>(&m).unwrap();
    assert_eq!(pt, b"still pending");
    let (t, m) = bob_side.encrypt(&mut w.rng, b"ack").unwrap();
    assert_eq!(pending.decrypt(t, &m).unwrap(), b"ack");

    let mut bob: Account =
        Account::from_pickle_bytes(&KEY, &w.bob.pickle(&mut w.rng, &KEY)).unwrap();
    assert_eq!(bob.identity_key(), w.bob.identity_key());
    assert_eq!(bob.registration_id(), w.bob.registration_id());
    assert_eq!(bob.signed_pre_key(), w.bob.signed_pre_key());
    assert_eq!(
        bob.one_time_pre_keys().collect::<Vec<_>>(),
        w.bob.one_time_pre_keys().collect::<Vec<_>>()
    );
    // The restored account opens sessions on a kept one-time prekey and on the previous signed
    // prekey; the prekey counter survives.
    bob.generate_one_time_pre_keys(&mut w.rng, 1);
    let (id, _) = bob.one_time_pre_keys().last().unwrap();
    assert_eq!(id, 21);
    let mut s: Session = w
        .alice
        .create_outbound_session(&mut w.rng, &bob.bundle(Some(id)).unwrap())
        .unwrap();
    let (_, m) = s.encrypt(&mut w.rng, b"hello").unwrap();
    assert_eq!(bob.create_inbound_session::<256>(&m).unwrap().1, b"hello");
}

#[test]
fn damaged_pickles_are_rejected() {
    let mut w = world();
    let invalid = Err(Error::Pickle(PickleError::Invalid));
    let session = w.bob_session.pickle(&mut w.rng, &KEY);
    let account = w.bob.pickle(&mut w.rng, &KEY);
    for i in (0..session.len()).step_by(5) {
        let mut bad = session.clone();
        bad[i] ^= 0x10;
        assert_eq!(
            Session::<256>::from_pickle_bytes(&KEY, &bad).map(|_| ()),
            invalid
        );
    }
    for len in (0..session.len()).step_by(11) {
        assert_eq!(
            Session::<256>::from_pickle_bytes(&KEY, &session[..len]).map(|_| ()),
            invalid
        );
    }
    assert_eq!(
        Session::<256>::from_pickle_bytes(&[1; 32], &session).map(|_| ()),
        invalid
    );
    // Kinds do not mix.
    assert_eq!(
        Account::<100>::from_pickle_bytes(&KEY, &session).map(|_| ()),
        invalid
    );
    assert_eq!(
        Session::<256>::from_pickle_bytes(&KEY, &account).map(|_| ()),
        invalid
    );
    assert_eq!(
        safemeet::olm::Session::from_pickle_bytes(&KEY, &session).map(|_| ()),
        invalid
    );
    // More one-time prekeys (or skipped keys) than the type holds are refused.
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
    bob_identity_key: String,
    bob_registration_id: u32,
    bob_signed_pre_key_id: u32,
    bob_one_time_pre_keys: usize,
    alice_registration_id: u32,
    late_message: String,
    late_plaintext: String,
}

fn write_fixtures() {
    let mut w = world();
    let expected = Expected {
        description:
            "safemeet classic Signal pickles (our own fixtures), state version 1; written by \
                      tests/pickle_signal.rs write_fixtures with a seeded RNG"
                .into(),
        pickle_key: to_hex(&KEY),
        bob_identity_key: to_hex(&encode_public_key(&w.bob.identity_key())),
        bob_registration_id: w.bob.registration_id(),
        bob_signed_pre_key_id: w.bob.signed_pre_key().0,
        bob_one_time_pre_keys: w.bob.one_time_pre_keys().count(),
        alice_registration_id: w.alice.registration_id(),
        late_message: to_hex(&w.late),
        late_plaintext: "late message".into(),
    };
    std::fs::write(
        format!("{FIXTURES}/signal-v1.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
    std::fs::write(
        format!("{FIXTURES}/signal-account-v1.pickle"),
        w.bob.pickle(&mut w.rng, &KEY),
    )
    .unwrap();
    std::fs::write(
        format!("{FIXTURES}/signal-session-v1.pickle"),
        w.bob_session.pickle(&mut w.rng, &KEY),
    )
    .unwrap();
    std::fs::write(
        format!("{FIXTURES}/signal-pending-session-v1.pickle"),
        w.pending.pickle(&mut w.rng, &KEY),
    )
    .unwrap();
}

#[test]
fn version_1_fixtures_still_load() {
    if std::env::var_os("SAFEMEET_WRITE_FIXTURES").is_some() {
        write_fixtures();
    }
    let expected: Expected = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/signal-v1.json")).unwrap(),
    )
    .unwrap();
    let key: [u8; 32] = hex(&expected.pickle_key).try_into().unwrap();
    let read = |name: &str| std::fs::read(format!("{FIXTURES}/{name}")).unwrap();

    let mut bob: Account =
        Account::from_pickle_bytes(&key, &read("signal-account-v1.pickle")).unwrap();
    assert_eq!(
        to_hex(&encode_public_key(&bob.identity_key())),
        expected.bob_identity_key
    );
    assert_eq!(bob.registration_id(), expected.bob_registration_id);
    assert_eq!(bob.signed_pre_key().0, expected.bob_signed_pre_key_id);
    assert_eq!(
        bob.one_time_pre_keys().count(),
        expected.bob_one_time_pre_keys
    );

    let mut session: Session =
        Session::from_pickle_bytes(&key, &read("signal-session-v1.pickle")).unwrap();
    assert_eq!(
        session.their_registration_id(),
        expected.alice_registration_id
    );
    assert_eq!(
        session
            .decrypt(MessageType::Whisper, &hex(&expected.late_message))
            .unwrap(),
        expected.late_plaintext.as_bytes()
    );

    // The pending session's next pre-key message opens a session on the restored account (on its
    // previous signed prekey): the stored secrets match the stored public halves.
    let mut pending: Session =
        Session::from_pickle_bytes(&key, &read("signal-pending-session-v1.pickle")).unwrap();
    assert!(!pending.has_received_message());
    let (t, m) = pending
        .encrypt(&mut ChaCha20Rng::from_seed([3; 32]), b"fixture")
        .unwrap();
    assert_eq!(t, MessageType::PreKey);
    let (_, pt) = bob.create_inbound_session::<256>(&m).unwrap();
    assert_eq!(pt, b"fixture");
}

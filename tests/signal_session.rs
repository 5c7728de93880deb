//! Classic Signal sessions between two safemeet parties: failure changes nothing, buffers, session
//! routing, prekey bookkeeping, signature checks, registration ids, and proptest-driven delivery in
//! any order. (Interop with npm `libsignal` is in `interop_signal_pairwise.rs`; the published vectors
//! in `signal_vectors.rs`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![cfg(feature = "alloc")]

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::limits::SIGNAL_MAX_REGISTRATION_ID;
use safemeet::primitives::xeddsa::XEdDsaSignature;
use safemeet::signal::{Account, MessageType, Session};
use safemeet::{Error, RatchetError, SignalError, X3dhError};

fn pair(seed: u8, with_pre_key: bool) -> (Account, Account, Session, Session, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let alice: Account = Account::new(&mut rng);
    let mut bob: Account = Account::new(&mut rng);
    bob.generate_one_time_pre_keys(&mut rng, 3);
    let id = with_pre_key.then(|| bob.one_time_pre_keys().next().unwrap().0);
    let mut a: Session = alice
        .create_outbound_session(&mut rng, &bob.bundle(id).unwrap())
        .unwrap();
    let (t, m) = a.encrypt(&mut rng, b"hi").unwrap();
    assert_eq!(t, MessageType::PreKey);
    let (b, pt) = bob.create_inbound_session(&m).unwrap();
    assert_eq!(pt, b"hi");
    (alice, bob, a, b, rng)
}

/// A session's full state, as its pickle under a fixed nonce.
fn snapshot(s: &Session) -> Vec<u8> {
    s.pickle(&mut ChaCha20Rng::from_seed([0; 32]), &[1; 32])
}

#[test]
fn failed_decryption_changes_nothing() {
    let (_, _, mut a, mut b, mut rng) = pair(1, true);
    let (t1, m1) = b.encrypt(&mut rng, b"one").unwrap();
    let (t2, m2) = b.encrypt(&mut rng, b"two").unwrap();
    assert_eq!(a.decrypt(t2, &m2).unwrap(), b"two");
    let before = snapshot(&a);
    let mut failures = 0;
    // Every single-bit flip of a pending message, and of the MAC.
    for i in 0..m1.len() {
        let mut bad = m1.clone();
        bad[i] ^= 0x04;
        assert!(a.decrypt(t1, &bad).is_err(), "byte {i}");
        assert_eq!(snapshot(&a), before, "byte {i}");
        failures += 1;
    }
    // Truncations, a replay, the wrong type, a too-small buffer.
    for len in 0..m1.len() {
        assert!(a.decrypt(t1, &m1[..len]).is_err());
        failures += 1;
    }
    assert_eq!(
        a.decrypt(t2, &m2).unwrap_err(),
        Error::Ratchet(RatchetError::MessageKeyNotFound)
    );
    assert!(a.decrypt(MessageType::PreKey, &m1).is_err());
    let mut small = [0u8; 8];
    assert_eq!(
        a.decrypt_into(t1, &m1, &mut small).unwrap_err(),
        Error::Signal(SignalError::BufferTooSmall { needed: 16 })
    );
    assert_eq!(snapshot(&a), before);
    assert!(failures > 100);
    // The genuine message still decrypts.
    assert_eq!(a.decrypt(t1, &m1).unwrap(), b"one");
    assert_ne!(snapshot(&a), before);
}

#[test]
fn encrypt_into_a_small_buffer_changes_nothing() {
    let (_, _, mut a, _, mut rng) = pair(2, false);
    let needed = a.encrypt_len(10);
    let before = snapshot(&a);
    let mut out = vec![0u8; needed - 1];
    assert_eq!(
        a.encrypt_into(&mut rng, &[0; 10], &mut out).unwrap_err(),
        Error::Signal(SignalError::BufferTooSmall { needed })
    );
    assert_eq!(snapshot(&a), before);
    let mut out = vec![0u8; needed + 5];
    let (_, n) = a.encrypt_into(&mut rng, &[0; 10], &mut out).unwrap();
    assert_eq!(n, needed);
}

#[test]
fn pre_key_messages_route_and_one_time_prekeys_are_used_once() {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let alice: Account = Account::new(&mut rng);
    let carol: Account = Account::new(&mut rng);
    let mut bob: Account = Account::new(&mut rng);
    bob.generate_one_time_pre_keys(&mut rng, 2);
    let ids: Vec<u32> = bob.one_time_pre_keys().map(|(id, _)| id).collect();
    let mut a: Session = alice
        .create_outbound_session(&mut rng, &bob.bundle(Some(ids[0])).unwrap())
        .unwrap();
    let mut c: Session = carol
        .create_outbound_session(&mut rng, &bob.bundle(Some(ids[1])).unwrap())
        .unwrap();
    let (_, a1) = a.encrypt(&mut rng, b"a1").unwrap();
    let (_, a2) = a.encrypt(&mut rng, b"a2").unwrap();
    let (_, c1) = c.encrypt(&mut rng, b"c1").unwrap();
    // A failed first message (tampered) uses up nothing.
    let mut bad = a1.clone();
    let at = bad.len() - 10;
    bad[at] ^= 1;
    assert!(bob.create_inbound_session::<256>(&bad).is_err());
    assert_eq!(bob.one_time_pre_keys().count(), 2);
    let (mut b, _): (Session, _) = bob.create_inbound_session(&a1).unwrap();
    assert_eq!(bob.one_time_pre_keys().count(), 1);
    // Alice's repeated pre-key message goes to her session, Carol's is another session's.
    assert!(b.matches_pre_key_message(&a2));
    assert!(!b.matches_pre_key_message(&c1));
    assert_eq!(
        b.decrypt(MessageType::PreKey, &c1).unwrap_err(),
        Error::Signal(SignalError::SessionMismatch)
    );
    assert_eq!(b.decrypt(MessageType::PreKey, &a2).unwrap(), b"a2");
    // A replayed first message finds its one-time prekey gone.
    assert_eq!(
        bob.create_inbound_session::<256>(&a1).unwrap_err(),
        Error::Signal(SignalError::UnknownPreKey)
    );
    // Registration ids travel both ways.
    assert_eq!(b.their_registration_id(), alice.registration_id());
    assert_eq!(a.their_registration_id(), bob.registration_id());
    assert_eq!(b.their_identity_key(), alice.identity_key());
    // Alice switches to normal messages once Bob's reply decrypts.
    assert!(!a.has_received_message());
    let (t, r) = b.encrypt(&mut rng, b"reply").unwrap();
    assert_eq!(t, MessageType::Whisper);
    assert_eq!(a.decrypt(t, &r).unwrap(), b"reply");
    assert_eq!(a.next_message_type(), MessageType::Whisper);
    // An unknown signed prekey id.
    let mut stale = bob.bundle(None).unwrap();
    stale.signed_pre_key_id += 7;
    let mut d: Session = carol.create_outbound_session(&mut rng, &stale).unwrap();
    let (_, d1) = d.encrypt(&mut rng, b"d").unwrap();
    assert_eq!(
        bob.create_inbound_session::<256>(&d1).unwrap_err(),
        Error::Signal(SignalError::UnknownPreKey)
    );
}

#[test]
fn bundles_with_bad_signatures_are_refused() {
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let alice: Account = Account::new(&mut rng);
    let bob: Account = Account::new(&mut rng);
    let mut bundle = bob.bundle(None).unwrap();
    let mut sig = bundle.signed_pre_key_signature.to_bytes();
    sig[10] ^= 0x20;
    bundle.signed_pre_key_signature = XEdDsaSignature::from_bytes(sig);
    assert_eq!(
        alice
            .create_outbound_session::<_, 256>(&mut rng, &bundle)
            .unwrap_err(),
        Error::X3dh(X3dhError::InvalidSignature)
    );
    // Another account's signature over the same key.
    let mut swapped = bob.bundle(None).unwrap();
    swapped.identity_key = alice.identity_key();
    assert!(
        alice
            .create_outbound_session::<_, 256>(&mut rng, &swapped)
            .is_err()
    );
}

#[test]
fn registration_ids_are_14_bit_like_libsignal() {
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let ids: Vec<u32> = (0..300)
        .map(|_| Account::<0>::new(&mut rng).registration_id())
        .collect();
    assert!(
        ids.iter()
            .all(|&id| (1..=SIGNAL_MAX_REGISTRATION_ID).contains(&id))
    );
    assert!(ids.iter().any(|&id| id > 8192), "uses the whole range");
}

#[test]
fn previous_counter_is_libsignals_last_index() {
    let (_, _, mut a, mut b, mut rng) = pair(6, true);
    // Alice's first chain: 1 (the handshake) + 3 more = 4 messages, last index 3.
    for _ in 0..3 {
        let (t, m) = a.encrypt(&mut rng, b"x").unwrap();
        b.decrypt(t, &m).unwrap();
    }
    let (t, m) = b.encrypt(&mut rng, b"y").unwrap();
    let view = safemeet::signal::wire::decode_signal_message(&m).unwrap();
    assert_eq!(view.previous_counter, 0, "Bob had no sending chain");
    a.decrypt(t, &m).unwrap();
    let (_, m) = a.encrypt(&mut rng, b"z").unwrap();
    let view = safemeet::signal::wire::decode_signal_message(&m).unwrap();
    assert_eq!((view.counter, view.previous_counter), (0, 3));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any interleaving of sends and deliveries in any order decrypts every message exactly once.
    #[test]
    fn any_delivery_order(seed in any::<u8>(), ops in proptest::collection::vec(any::<u16>(), 1..120)) {
        let (_, _, mut a, mut b, mut rng) = pair(seed, seed % 2 == 0);
        let mut to_a: Vec<(MessageType, Vec<u8>, u16)> = Vec::new();
        let mut to_b: Vec<(MessageType, Vec<u8>, u16)> = Vec::new();
        for op in ops {
            match op % 4 {
                0 => { let (t, m) = a.encrypt(&mut rng, &op.to_be_bytes()).unwrap(); to_b.push((t, m, op)); }
                1 => { let (t, m) = b.encrypt(&mut rng, &op.to_be_bytes()).unwrap(); to_a.push((t, m, op)); }
                2 if !to_b.is_empty() => {
                    let (t, m, v) = to_b.remove(usize::from(op / 4) % to_b.len());
                    prop_assert_eq!(b.decrypt(t, &m).unwrap(), v.to_be_bytes());
                }
                3 if !to_a.is_empty() => {
                    let (t, m, v) = to_a.remove(usize::from(op / 4) % to_a.len());
                    prop_assert_eq!(a.decrypt(t, &m).unwrap(), v.to_be_bytes());
                }
                _ => {}
            }
        }
        for (t, m, v) in to_b { prop_assert_eq!(b.decrypt(t, &m).unwrap(), v.to_be_bytes()); }
        for (t, m, v) in to_a { prop_assert_eq!(a.decrypt(t, &m).unwrap(), v.to_be_bytes()); }
    }
}

/// Accounts built from known secrets never print them (hex or decimal) in `Debug`, nor do their
/// sessions.
#[cfg(feature = "hazmat")]
#[test]
fn debug_output_shows_no_secrets() {
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let sig = XEdDsaSignature::from_bytes([0; 64]);
    let mut bob: Account = Account::from_keys(&[0x41; 32], 7, 1, &[0x42; 32], sig);
    bob.add_one_time_pre_key(9, &[0x43; 32]);
    let alice: Account = Account::from_keys(&[0x44; 32], 8, 1, &[0x45; 32], sig);
    let mut bundle = bob.bundle(Some(9)).unwrap();
    // Sign the bundle for real with the known identity secret.
    bundle.signed_pre_key_signature = safemeet::x3dh::signal::sign_prekey(
        &mut rng,
        &safemeet::primitives::curve25519::Curve25519SecretKey::from_bytes(&[0x41; 32]),
        &bundle.signed_pre_key,
    );
    let mut a: Session = alice.create_outbound_session(&mut rng, &bundle).unwrap();
    let (_, m) = a.encrypt(&mut rng, b"x").unwrap();
    let (b, _): (Session, _) = bob.create_inbound_session(&m).unwrap();
    for text in [
        format!("{alice:?}"),
        format!("{bob:?}"),
        format!("{a:?}"),
        format!("{b:?}"),
    ] {
        for byte in [0x41u8, 0x42, 0x43, 0x44, 0x45] {
            assert!(
                !text.contains(&format!("{byte:02x}{byte:02x}{byte:02x}")),
                "{text}"
            );
            assert!(!text.contains(&format!("{byte}, {byte}, {byte}")), "{text}");
        }
        assert!(text.contains(".."), "non-exhaustive: {text}");
    }
}

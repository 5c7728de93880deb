//! Two-party tests of the ratchet core with the native suite (no wire format: the "message" is the
//! header triple and the test compares message keys).

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;

type Ratchet = DoubleRatchet<NativeSuite>;

struct Sent {
    ratchet_key: Curve25519PublicKey,
    index: u32,
    key: [u8; 32],
}

fn pair(header_encryption: bool) -> (Ratchet, Ratchet, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let bob_ratchet = Curve25519SecretKey::generate(&mut rng);
    let hk = |b: u8| SecretBytes::from_bytes([b; 32]);
    let (ha, hb) = if header_encryption {
        (
            Some(InitialHeaderKeys {
                send: hk(1),
                receive: hk(2),
            }),
            Some(InitialHeaderKeys {
                send: hk(2),
                receive: hk(1),
            }),
        )
    } else {
        (None, None)
    };
    let alice = Ratchet::new_initiator(
        &mut rng,
        SecretBytes::from_bytes([3; 32]),
        &bob_ratchet.public_key(),
        ha,
    )
    .unwrap();
    let bob = Ratchet::new_responder(SecretBytes::from_bytes([3; 32]), bob_ratchet, hb);
    (alice, bob, rng)
}

fn send(r: &mut Ratchet, rng: &mut ChaCha20Rng) -> Sent {
    let k = r.next_send_key(rng).unwrap();
    Sent {
        ratchet_key: k.ratchet_key,
        index: k.index,
        key: *k.message_key.as_bytes(),
    }
}

fn receive(r: &mut Ratchet, m: &Sent) -> Result<(), RatchetError> {
    let plan = r.plan_receive(&m.ratchet_key, m.index)?;
    assert_eq!(plan.message_key().as_bytes(), &m.key, "keys differ");
    r.commit(plan);
    Ok(())
}

#[test]
fn ping_pong_ratchets_every_turn() {
    let (mut alice, mut bob, mut rng) = pair(false);
    let mut seen = std::vec::Vec::new();
    for round in 0..10 {
        let m = send(&mut alice, &mut rng);
        receive(&mut bob, &m).unwrap();
        let r = send(&mut bob, &mut rng);
        receive(&mut alice, &r).unwrap();
        assert_eq!(
            (m.index, r.index),
            (0, 0),
            "round {round}: every turn starts a chain"
        );
        seen.push(m.ratchet_key);
        seen.push(r.ratchet_key);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 20, "each turn uses a fresh ratchet key");
    assert_eq!(alice.receiving_chains(), MAX_CHAINS);
}

const MAX_CHAINS: usize = limits::MAX_RECEIVER_CHAINS;

#[test]
fn out_of_order_within_and_across_chains() {
    let (mut alice, mut bob, mut rng) = pair(false);
    let a: std::vec::Vec<Sent> = (0..5).map(|_| send(&mut alice, &mut rng)).collect();
    receive(&mut bob, &a[3]).unwrap();
    assert_eq!(bob.skipped_keys(), 3);
    let b = send(&mut bob, &mut rng);
    receive(&mut alice, &b).unwrap();
    let a2 = send(&mut alice, &mut rng);
    receive(&mut bob, &a2).unwrap();
    // Late messages of Alice's first chain still open, each exactly once.
    for i in [0, 4, 2, 1] {
        receive(&mut bob, &a[i]).unwrap();
        assert_eq!(
            receive(&mut bob, &a[i]),
            Err(RatchetError::MessageKeyNotFound)
        );
    }
    assert_eq!(bob.skipped_keys(), 0);
}

#[test]
fn a_dropped_plan_changes_nothing() {
    let (mut alice, mut bob, mut rng) = pair(false);
    let m0 = send(&mut alice, &mut rng);
    let m1 = send(&mut alice, &mut rng);
    // Plan (as if authentication then failed) and drop: new chain, skip and existing chain cases.
    drop(bob.plan_receive(&m1.ratchet_key, m1.index).unwrap());
    assert_eq!((bob.receiving_chains(), bob.skipped_keys()), (0, 0));
    receive(&mut bob, &m1).unwrap();
    drop(bob.plan_receive(&m0.ratchet_key, m0.index).unwrap());
    assert_eq!(bob.skipped_keys(), 1);
    receive(&mut bob, &m0).unwrap();
    assert_eq!(bob.skipped_keys(), 0);
}

#[test]
fn gap_limit_and_per_chain_cap() {
    let (mut alice, mut bob, mut rng) = pair(false);
    let first = send(&mut alice, &mut rng);
    let ahead = Sent {
        index: limits::NATIVE_MAX_MESSAGE_GAP + 1,
        ..first
    };
    assert_eq!(
        bob.plan_receive(&ahead.ratchet_key, ahead.index).err(),
        Some(RatchetError::TooFarAhead)
    );
    let mut all: std::vec::Vec<Sent> = (0..100).map(|_| send(&mut alice, &mut rng)).collect();
    let last = all.pop().unwrap();
    receive(&mut bob, &last).unwrap();
    // Only the newest 64 skipped keys of the chain survive.
    assert_eq!(bob.skipped_keys(), limits::NATIVE_MAX_SKIPPED_PER_CHAIN);
    assert_eq!(
        receive(&mut bob, &all[0]),
        Err(RatchetError::MessageKeyNotFound)
    );
    receive(&mut bob, &all[98]).unwrap();
    receive(&mut bob, &first).unwrap_err();
}

#[test]
fn a_stranger_cannot_start_a_chain() {
    let (_, bob, mut rng) = pair(false);
    let stranger = Curve25519SecretKey::generate(&mut rng).public_key();
    // Bob's ratchet secret answers any key; what protects him is that the derived key is wrong, so the
    // profile's authentication fails and the plan is dropped.
    let plan = bob.plan_receive(&stranger, 0).unwrap();
    drop(plan);
    assert_eq!(bob.receiving_chains(), 0);
    assert_eq!(
        bob.plan_receive(&Curve25519PublicKey::from_bytes([0; 32]), 0)
            .err(),
        Some(RatchetError::InvalidRatchetKey)
    );
}

#[test]
fn header_keys_rotate_with_the_ratchet() {
    let (mut alice, mut bob, mut rng) = pair(true);
    let k = alice.next_send_key(&mut rng).unwrap();
    assert_eq!(k.header_key.as_ref().unwrap().as_bytes(), &[1; 32]);
    // Bob finds Alice's first header key as his next receiving key.
    let (source, key) = bob.header_keys().last().unwrap();
    assert_eq!((source, key), (HeaderKeySource::Next, &[1; 32]));
    let plan = bob.plan_receive(&k.ratchet_key, k.index).unwrap();
    assert!(plan.is_new_chain());
    bob.commit(plan);
    // Now the chain carries that key, and a new next key was derived.
    let keys: std::vec::Vec<_> = bob.header_keys().map(|(s, k)| (s, *k)).collect();
    assert_eq!(keys[0], (HeaderKeySource::Chain(0), [1; 32]));
    assert_eq!(keys[1].0, HeaderKeySource::Next);
    assert_ne!(keys[1].1, [1; 32]);
    // Bob's first header key is the agreement's second key; Alice expects it.
    let r = bob.next_send_key(&mut rng).unwrap();
    assert_eq!(r.header_key.as_ref().unwrap().as_bytes(), &[2; 32]);
    let next_for_alice = alice.header_keys().last().unwrap();
    assert_eq!(next_for_alice, (HeaderKeySource::Next, &[2; 32]));
    let plan = alice.plan_receive(&r.ratchet_key, r.index).unwrap();
    assert_eq!(plan.message_key().as_bytes(), r.message_key.as_bytes());
    alice.commit(plan);
    // Alice's next sending header key is the one Bob now expects next.
    let a2 = alice.next_send_key(&mut rng).unwrap();
    let bob_next = bob.header_keys().last().unwrap();
    assert_eq!(bob_next.1, a2.header_key.as_ref().unwrap().as_bytes());
}

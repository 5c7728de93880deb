//! Olm against vodozemac 0.11, the Matrix reference implementation: sessions created each way with
//! one-time and fallback keys, long conversations, out-of-order delivery compared outcome by outcome,
//! several sessions between the same two devices, session ids, and tampering.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![cfg(feature = "alloc")]

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::limits::{MAX_RECEIVER_CHAINS, OLM_MAX_MESSAGE_GAP, OLM_MAX_SKIPPED_PER_CHAIN};
use safemeet::olm::{Account, MessageType, OlmMessage, Session};
use safemeet::primitives::curve25519::Curve25519PublicKey;
use safemeet::{Error, OlmError, RatchetError};
use vodozemac::olm as v;

fn to_v(key: Curve25519PublicKey) -> vodozemac::Curve25519PublicKey {
    vodozemac::Curve25519PublicKey::from_bytes(key.to_bytes())
}

fn from_v(key: vodozemac::Curve25519PublicKey) -> Curve25519PublicKey {
    Curve25519PublicKey::from_bytes(key.to_bytes())
}

fn msg_to_v(m: &OlmMessage) -> v::OlmMessage {
    v::OlmMessage::from_parts(usize::from(m.message_type().as_u8()), m.as_bytes()).unwrap()
}

fn msg_from_v(m: &v::OlmMessage) -> OlmMessage {
    let (t, bytes) = m.to_parts();
    OlmMessage::new(MessageType::try_from(t as u64).unwrap(), bytes)
}

/// The first (only) unpublished one-time key of a vodozemac account.
fn v_one_time_key(account: &mut v::Account) -> vodozemac::Curve25519PublicKey {
    account.generate_one_time_keys(1);
    let key = *account.one_time_keys().values().next().unwrap();
    account.mark_keys_as_published();
    key
}

fn our_one_time_key(account: &mut Account, rng: &mut ChaCha20Rng) -> Curve25519PublicKey {
    account.generate_one_time_keys(rng, 1);
    let (_, key) = account.one_time_keys().last().unwrap();
    account.mark_keys_as_published();
    key
}

/// One end of a session, ours or vodozemac's, behind one interface.
#[allow(clippy::large_enum_variant)] // test code: one pair of ends per test
enum End {
    Ours(Box<(Session, ChaCha20Rng)>),
    Theirs(Box<v::Session>),
}

impl End {
    fn encrypt(&mut self, plaintext: &[u8]) -> OlmMessage {
        match self {
            End::Ours(o) => {
                let (s, rng) = &mut **o;
                s.encrypt(rng, plaintext).unwrap()
            }
            End::Theirs(s) => msg_from_v(&s.encrypt(plaintext).unwrap()),
        }
    }

    fn decrypt(&mut self, m: &OlmMessage) -> Result<Vec<u8>, String> {
        match self {
            End::Ours(o) => o.0.decrypt(m).map_err(|e| format!("{e:?}")),
            End::Theirs(s) => s.decrypt(&msg_to_v(m)).map_err(|e| format!("{e:?}")),
        }
    }

    fn session_id(&self) -> String {
        match self {
            End::Ours(o) => o.0.session_id().to_string(),
            End::Theirs(s) => s.session_id(),
        }
    }
}

/// Alice (the initiator) and Bob, each ours or vodozemac's, after Bob created his side from Alice's
/// first pre-key message. `fallback` makes Bob publish a fallback key instead of a one-time key.
fn pair(alice_ours: bool, bob_ours: bool, fallback: bool, seed: u64) -> (End, End) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let first = b"first message";
    let (alice_identity, alice, first_message);
    if bob_ours {
        let mut bob = Account::<100>::new(&mut rng);
        let otk = if fallback {
            bob.generate_fallback_key(&mut rng);
            let (_, k) = bob.fallback_key().unwrap();
            bob.mark_keys_as_published();
            k
        } else {
            our_one_time_key(&mut bob, &mut rng)
        };
        (alice_identity, alice, first_message) =
            alice_sends(alice_ours, bob.curve25519_key(), otk, &mut rng, first);
        let created = bob
            .create_inbound_session(&alice_identity, first_message.as_bytes())
            .unwrap();
        assert_eq!(created.plaintext, first);
        assert_eq!(bob.stored_one_time_key_count(), 0);
        if fallback {
            assert!(bob.fallback_key().is_none(), "published, and still held");
        }
        let bob_end = End::Ours(Box::new((
            created.session,
            ChaCha20Rng::seed_from_u64(seed ^ 0xB0B),
        )));
        assert_eq!(alice.session_id(), bob_end.session_id());
        (alice, bob_end)
    } else {
        let mut bob = v::Account::new();
        let otk = if fallback {
            bob.generate_fallback_key();
            let k = *bob.fallback_key().values().next().unwrap();
            bob.mark_keys_as_published();
            k
        } else {
            v_one_time_key(&mut bob)
        };
        (alice_identity, alice, first_message) = alice_sends(
            alice_ours,
            from_v(bob.curve25519_key()),
            from_v(otk),
            &mut rng,
            first,
        );
        let v::OlmMessage::PreKey(pre_key) = msg_to_v(&first_message) else {
            panic!("the first message is a pre-key message");
        };
        let created = bob
            .create_inbound_session(
                v::SessionConfig::version_1(),
                to_v(alice_identity),
                &pre_key,
            )
            .unwrap();
        assert_eq!(created.plaintext, first);
        let bob_end = End::Theirs(Box::new(created.session));
        assert_eq!(alice.session_id(), bob_end.session_id());
        (alice, bob_end)
    }
}

fn alice_sends(
    ours: bool,
    bob_identity: Curve25519PublicKey,
    bob_otk: Curve25519PublicKey,
    rng: &mut ChaCha20Rng,
    plaintext: &[u8],
) -> (Curve25519PublicKey, End, OlmMessage) {
    if ours {
        let alice = Account::<100>::new(rng);
        let session = alice
            .create_outbound_session(rng, &bob_identity, &bob_otk)
            .unwrap();
        let mut end = End::Ours(Box::new((session, rng.clone())));
        let m = end.encrypt(plaintext);
        assert_eq!(m.message_type(), MessageType::PreKey);
        (alice.curve25519_key(), end, m)
    } else {
        let alice = v::Account::new();
        let session = alice
            .create_outbound_session(
                v::SessionConfig::version_1(),
                to_v(bob_identity),
                to_v(bob_otk),
            )
            .unwrap();
        let mut end = End::Theirs(Box::new(session));
        let m = end.encrypt(plaintext);
        (from_v(alice.curve25519_key()), end, m)
    }
}

const MIXED: [(bool, bool); 2] = [(true, false), (false, true)];

#[test]
fn sessions_both_ways_with_one_time_and_fallback_keys() {
    for (alice_ours, bob_ours) in MIXED {
        for fallback in [false, true] {
            let (mut alice, mut bob) = pair(alice_ours, bob_ours, fallback, 1);
            // Alice keeps sending pre-key messages until she hears back.
            let again = alice.encrypt(b"second");
            assert_eq!(again.message_type(), MessageType::PreKey);
            assert_eq!(bob.decrypt(&again).unwrap(), b"second");
            let reply = bob.encrypt(b"reply");
            assert_eq!(reply.message_type(), MessageType::Normal);
            assert_eq!(alice.decrypt(&reply).unwrap(), b"reply");
            let after = alice.encrypt(b"third");
            assert_eq!(after.message_type(), MessageType::Normal);
            assert_eq!(bob.decrypt(&after).unwrap(), b"third");
        }
    }
}

#[test]
fn conversations_of_1000_messages_with_random_direction_changes() {
    for (alice_ours, bob_ours) in MIXED {
        let (mut alice, mut bob) = pair(alice_ours, bob_ours, false, 2);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut alice_speaks = false;
        for i in 0..1000u32 {
            if rng.next_u32() % 3 == 0 {
                alice_speaks = !alice_speaks;
            }
            let len = (rng.next_u32() % 300) as usize;
            let mut plaintext = vec![0u8; len];
            rng.fill_bytes(&mut plaintext);
            plaintext.extend_from_slice(&i.to_be_bytes());
            let (from, to) = if alice_speaks {
                (&mut alice, &mut bob)
            } else {
                (&mut bob, &mut alice)
            };
            let m = from.encrypt(&plaintext);
            assert_eq!(to.decrypt(&m).unwrap(), plaintext, "message {i}");
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// The given side sends this many messages.
    Send { alice: bool, count: usize },
    /// The given side receives the in-flight message at this position (modulo the queue length).
    Deliver { alice: bool, pick: usize },
    /// The given side receives again a message it already received.
    Replay { alice: bool, pick: usize },
}

/// A schedule that exercises every bound: bursts past the skipped-key limit, many direction changes
/// with messages left in flight (so chains are evicted), and one jump past the maximum gap.
fn schedule(seed: u64) -> Vec<Op> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut ops = Vec::new();
    for round in 0..40 {
        let alice = rng.next_u32() % 2 == 0;
        let count = match rng.next_u32() % 8 {
            0 => OLM_MAX_SKIPPED_PER_CHAIN + 5,
            1 => 0,
            _ => 1 + (rng.next_u32() % 6) as usize,
        };
        ops.push(Op::Send { alice, count });
        if round == 20 {
            ops.push(Op::Send {
                alice,
                count: OLM_MAX_MESSAGE_GAP as usize + 3,
            });
        }
        for _ in 0..(rng.next_u32() % 6) {
            let pick = rng.next_u32() as usize;
            let alice = rng.next_u32() % 2 == 0;
            ops.push(if rng.next_u32() % 7 == 0 {
                Op::Replay { alice, pick }
            } else {
                Op::Deliver { alice, pick }
            });
        }
    }
    for _ in 0..200 {
        ops.push(Op::Deliver {
            alice: rng.next_u32() % 2 == 0,
            pick: rng.next_u32() as usize,
        });
    }
    ops
}

/// Runs `ops` on a pair and returns each delivery's outcome: `Ok` (and the plaintext was right) or
/// `Err`.
fn run(mut alice: End, mut bob: End, ops: &[Op]) -> Vec<bool> {
    // In flight to Alice / to Bob, and already delivered to each.
    let mut to = [Vec::new(), Vec::new()];
    let mut delivered: [Vec<(OlmMessage, Vec<u8>)>; 2] = [Vec::new(), Vec::new()];
    let mut counter = 0u32;
    let mut outcomes = Vec::new();
    for op in ops {
        match *op {
            Op::Send { alice: a, count } => {
                for _ in 0..count {
                    counter += 1;
                    let plaintext = counter.to_be_bytes().to_vec();
                    let (end, queue) = if a {
                        (&mut alice, &mut to[1])
                    } else {
                        (&mut bob, &mut to[0])
                    };
                    queue.push((end.encrypt(&plaintext), plaintext));
                }
            }
            Op::Deliver { alice: a, pick } | Op::Replay { alice: a, pick } => {
                let side = usize::from(!a);
                let replay = matches!(op, Op::Replay { .. });
                let queue = if replay {
                    &mut delivered[side]
                } else {
                    &mut to[side]
                };
                if queue.is_empty() {
                    continue;
                }
                let (m, plaintext) = if replay {
                    queue[pick % queue.len()].clone()
                } else {
                    // Prefer the newest messages half the time, so bursts arrive out of order.
                    let i = if pick % 2 == 0 {
                        queue.len() - 1 - (pick / 2) % queue.len()
                    } else {
                        pick % queue.len()
                    };
                    queue.remove(i)
                };
                let end = if a { &mut alice } else { &mut bob };
                let result = end.decrypt(&m);
                if let Ok(p) = &result {
                    assert_eq!(p, &plaintext, "a decrypted message must be the one sent");
                }
                outcomes.push(result.is_ok());
                if !replay {
                    delivered[side].push((m, plaintext));
                }
            }
        }
    }
    outcomes
}

#[test]
fn out_of_order_delivery_has_the_same_outcome_as_vodozemac() {
    for seed in 0..4 {
        let ops = schedule(seed);
        let reference = {
            let (a, b) = pair(false, false, false, 100 + seed);
            run(a, b, &ops)
        };
        let failures = reference.iter().filter(|ok| !**ok).count();
        assert!(failures > 0, "the schedule must reach some limit");
        let successes = reference.len() - failures;
        assert!(
            failures > 20 && successes > 50,
            "{successes} decrypted, {failures} refused"
        );
        for (alice_ours, bob_ours) in [(true, true), (true, false), (false, true)] {
            let (a, b) = pair(alice_ours, bob_ours, false, 200 + seed);
            let outcomes = run(a, b, &ops);
            assert_eq!(
                outcomes, reference,
                "seed {seed}, alice ours: {alice_ours}, bob ours: {bob_ours}"
            );
        }
    }
}

#[test]
fn limits_reject_like_vodozemac() {
    for (alice_ours, bob_ours) in MIXED {
        // Skipped keys: 45 messages, the last first; only the 40 before it stay readable.
        let (mut alice, mut bob) = pair(alice_ours, bob_ours, false, 4);
        let burst: Vec<_> = (0..45u32)
            .map(|i| alice.encrypt(&i.to_be_bytes()))
            .collect();
        assert!(bob.decrypt(&burst[44]).is_ok());
        for (i, m) in burst.iter().enumerate().take(44) {
            assert_eq!(bob.decrypt(m).is_ok(), i >= 4, "message {i}");
        }
        // The gap: 2001 ahead fails, exactly 2000 ahead works.
        let far: Vec<_> = (0..=OLM_MAX_MESSAGE_GAP + 1)
            .map(|i| alice.encrypt(&i.to_be_bytes()))
            .collect();
        assert!(bob.decrypt(far.last().unwrap()).is_err());
        assert!(bob.decrypt(&far[OLM_MAX_MESSAGE_GAP as usize]).is_ok());
    }
}

#[test]
fn our_errors_name_the_limit() {
    let (alice, bob) = pair(false, true, false, 5);
    let (End::Theirs(mut alice), End::Ours(bob)) = (alice, bob) else {
        unreachable!()
    };
    let mut bob = bob.0;
    let far: Vec<_> = (0..=OLM_MAX_MESSAGE_GAP + 1)
        .map(|_| msg_from_v(&alice.encrypt(b"x").unwrap()))
        .collect();
    assert_eq!(
        bob.decrypt(far.last().unwrap()),
        Err(Error::Ratchet(RatchetError::TooFarAhead))
    );
    assert!(bob.decrypt(&far[5]).is_ok());
    assert_eq!(
        bob.decrypt(&far[5]),
        Err(Error::Ratchet(RatchetError::MessageKeyNotFound))
    );
    // Chains: a sixth chain evicts the first, with its skipped keys.
    let mut late = None;
    for round in 0..=MAX_RECEIVER_CHAINS {
        let m1 = msg_from_v(&alice.encrypt(b"a").unwrap());
        let m2 = msg_from_v(&alice.encrypt(b"b").unwrap());
        assert!(bob.decrypt(&m2).is_ok());
        if round == 0 {
            late = Some(m1);
        }
        let reply = bob
            .encrypt(&mut ChaCha20Rng::seed_from_u64(round as u64), b"r")
            .unwrap();
        alice.decrypt(&msg_to_v(&reply)).unwrap();
    }
    assert!(bob.decrypt(&late.unwrap()).is_err());
}

/// Every kept chain holding its maximum of skipped keys, the oldest chain's keys refreshed by a late
/// message, then a new chain with skipped keys: the oldest chain goes with its keys, and every other
/// chain keeps all of its own (found by the `olm_interaction` fuzz target).
#[test]
fn a_new_chain_evicts_only_the_oldest_chains_keys_like_vodozemac() {
    let run = |alice_ours: bool, bob_ours: bool| -> Vec<bool> {
        let (mut alice, mut bob) = pair(alice_ours, bob_ours, false, 11);
        let first_chain: Vec<_> = (0..100u32)
            .map(|i| alice.encrypt(&i.to_be_bytes()))
            .collect();
        bob.decrypt(&first_chain[40]).unwrap();
        let mut late = Vec::new();
        for _ in 1..MAX_RECEIVER_CHAINS {
            let reply = bob.encrypt(b"reply");
            alice.decrypt(&reply).unwrap();
            let chain: Vec<_> = (0..=OLM_MAX_SKIPPED_PER_CHAIN + 1)
                .map(|i| alice.encrypt(&(i as u32).to_be_bytes()))
                .collect();
            bob.decrypt(chain.last().unwrap()).unwrap();
            late.extend(chain);
        }
        // Refreshes the first chain's skipped keys: they are now the newest in the store.
        bob.decrypt(&first_chain[99]).unwrap();
        let reply = bob.encrypt(b"reply");
        alice.decrypt(&reply).unwrap();
        let sixth: Vec<_> = (0..3u32).map(|i| alice.encrypt(&i.to_be_bytes())).collect();
        bob.decrypt(&sixth[2]).unwrap();
        late.iter()
            .chain(&sixth[..2])
            .chain(&first_chain)
            .map(|m| bob.decrypt(m).is_ok())
            .collect()
    };
    let reference = run(false, false);
    // Chains 2 to 5 keep all 40 of their keys (the last message of each was read).
    let per_chain = OLM_MAX_SKIPPED_PER_CHAIN + 2;
    for (i, ok) in reference.iter().take(4 * per_chain).enumerate() {
        let index = i % per_chain;
        let expected = (1..=OLM_MAX_SKIPPED_PER_CHAIN).contains(&index);
        assert_eq!(
            *ok,
            expected,
            "vodozemac: chain {}, message {index}",
            i / per_chain
        );
    }
    for (alice_ours, bob_ours) in [(true, true), (true, false), (false, true)] {
        assert_eq!(
            run(alice_ours, bob_ours),
            reference,
            "alice ours: {alice_ours}, bob ours: {bob_ours}"
        );
    }
}

#[test]
fn several_sessions_between_two_devices_route_pre_key_messages() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    // vodozemac Alice opens three sessions to our Bob.
    let alice = v::Account::new();
    let mut bob = Account::<100>::new(&mut rng);
    bob.generate_one_time_keys(&mut rng, 3);
    let otks: Vec<_> = bob.one_time_keys().map(|(_, k)| k).collect();
    bob.mark_keys_as_published();
    let mut theirs: Vec<_> = otks
        .iter()
        .map(|k| {
            alice
                .create_outbound_session(
                    v::SessionConfig::version_1(),
                    to_v(bob.curve25519_key()),
                    to_v(*k),
                )
                .unwrap()
        })
        .collect();
    let alice_key = from_v(alice.curve25519_key());
    let mut ours: Vec<Session> = Vec::new();
    for round in 0..3 {
        for (i, s) in theirs.iter_mut().enumerate() {
            let text = format!("session {i} round {round}");
            let m = msg_from_v(&s.encrypt(&text).unwrap());
            assert_eq!(m.message_type(), MessageType::PreKey);
            let matching: Vec<_> = ours
                .iter()
                .enumerate()
                .filter(|(_, o)| o.matches_pre_key_message(m.as_bytes()))
                .map(|(j, _)| j)
                .collect();
            assert!(matching.len() <= 1);
            if let Some(&j) = matching.first() {
                assert_eq!(ours[j].decrypt(&m).unwrap(), text.as_bytes());
                assert_eq!(ours[j].session_id().to_string(), s.session_id());
            } else {
                assert_eq!(round, 0, "only the first message creates a session");
                let created = bob
                    .create_inbound_session(&alice_key, m.as_bytes())
                    .unwrap();
                assert_eq!(created.plaintext, text.as_bytes());
                ours.push(created.session);
            }
        }
    }
    assert_eq!(ours.len(), 3);
    assert_eq!(bob.stored_one_time_key_count(), 0);
    // A pre-key message of one session is refused by the others.
    let m = msg_from_v(&theirs[0].encrypt(b"x").unwrap());
    assert_eq!(
        ours[1].decrypt(&m),
        Err(Error::Olm(OlmError::SessionMismatch))
    );
    // The used one-time key is gone: the first message again cannot create a session.
    let mut bob_again = bob;
    assert_eq!(
        bob_again
            .create_inbound_session(&alice_key, m.as_bytes())
            .map(|_| ()),
        Err(Error::Olm(OlmError::UnknownOneTimeKey))
    );

    // Our Alice opens three sessions to vodozemac's Bob, who routes with `session_keys`.
    let mut vbob = v::Account::new();
    vbob.generate_one_time_keys(3);
    let votks: Vec<_> = vbob.one_time_keys().into_values().collect();
    vbob.mark_keys_as_published();
    let our_alice = Account::<100>::new(&mut rng);
    let mut sessions: Vec<_> = votks
        .iter()
        .map(|k| {
            our_alice
                .create_outbound_session(&mut rng, &from_v(vbob.curve25519_key()), &from_v(*k))
                .unwrap()
        })
        .collect();
    let mut vsessions: Vec<v::Session> = Vec::new();
    for round in 0..3 {
        for s in &mut sessions {
            let m = msg_to_v(&s.encrypt(&mut rng, b"hi").unwrap());
            let v::OlmMessage::PreKey(p) = &m else {
                panic!()
            };
            match vsessions
                .iter_mut()
                .find(|vs| vs.session_keys() == p.session_keys())
            {
                Some(vs) => assert_eq!(vs.decrypt(&m).unwrap(), b"hi"),
                None => {
                    assert_eq!(round, 0);
                    let c = vbob
                        .create_inbound_session(
                            v::SessionConfig::version_1(),
                            to_v(our_alice.curve25519_key()),
                            p,
                        )
                        .unwrap();
                    assert_eq!(c.session.session_id(), s.session_id().to_string());
                    vsessions.push(c.session);
                }
            }
        }
    }
    assert_eq!(vsessions.len(), 3);
}

#[test]
fn tampered_messages_are_rejected_by_both() {
    for (alice_ours, bob_ours) in MIXED {
        let (mut alice, mut bob) = pair(alice_ours, bob_ours, false, 7);
        let reply = bob.encrypt(b"established");
        alice.decrypt(&reply).unwrap();
        let m = alice.encrypt(b"do not touch");
        assert_eq!(m.message_type(), MessageType::Normal);
        for i in 0..m.as_bytes().len() {
            for bit in [0x01u8, 0x80] {
                let mut bytes = m.as_bytes().to_vec();
                bytes[i] ^= bit;
                let tampered = OlmMessage::new(MessageType::Normal, bytes);
                // vodozemac may refuse to parse it; either way neither side decrypts it.
                if let End::Theirs(_) = bob
                    && v::OlmMessage::from_parts(1, tampered.as_bytes()).is_err()
                {
                    continue;
                }
                assert!(bob.decrypt(&tampered).is_err(), "byte {i} bit {bit:#x}");
            }
        }
        // And the session still works: nothing changed.
        assert_eq!(bob.decrypt(&m).unwrap(), b"do not touch");
    }
}

#[test]
fn tampered_pre_key_messages_create_no_session_on_either_side() {
    for bob_ours in [true, false] {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let mut our_bob = Account::<100>::new(&mut rng);
        let mut their_bob = v::Account::new();
        let (bob_key, otk) = if bob_ours {
            (
                our_bob.curve25519_key(),
                our_one_time_key(&mut our_bob, &mut rng),
            )
        } else {
            (
                from_v(their_bob.curve25519_key()),
                from_v(v_one_time_key(&mut their_bob)),
            )
        };
        let (alice_key, _alice, m) = alice_sends(!bob_ours, bob_key, otk, &mut rng, b"first");
        let step = if cfg!(debug_assertions) { 3 } else { 1 };
        for i in (0..m.as_bytes().len()).step_by(step) {
            let mut bytes = m.as_bytes().to_vec();
            bytes[i] ^= 0x40;
            if bob_ours {
                assert!(
                    our_bob.create_inbound_session(&alice_key, &bytes).is_err(),
                    "byte {i}"
                );
            } else if let Ok(v::OlmMessage::PreKey(p)) = v::OlmMessage::from_parts(0, &bytes) {
                assert!(
                    their_bob
                        .create_inbound_session(v::SessionConfig::version_1(), to_v(alice_key), &p)
                        .is_err(),
                    "byte {i}"
                );
            }
        }
        // The one-time key survived every forgery: the genuine message still creates the session.
        if bob_ours {
            assert_eq!(our_bob.stored_one_time_key_count(), 1);
            assert_eq!(
                our_bob
                    .create_inbound_session(&alice_key, m.as_bytes())
                    .unwrap()
                    .plaintext,
                b"first"
            );
        } else {
            let v::OlmMessage::PreKey(p) = msg_to_v(&m) else {
                panic!()
            };
            their_bob
                .create_inbound_session(v::SessionConfig::version_1(), to_v(alice_key), &p)
                .unwrap();
        }
    }
}

#[test]
fn identity_key_mismatch_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let mut bob = Account::<100>::new(&mut rng);
    let otk = our_one_time_key(&mut bob, &mut rng);
    let (_alice_key, _alice, m) = alice_sends(false, bob.curve25519_key(), otk, &mut rng, b"x");
    let mallory = Account::<100>::new(&mut rng);
    assert_eq!(
        bob.create_inbound_session(&mallory.curve25519_key(), m.as_bytes())
            .map(|_| ()),
        Err(Error::Olm(OlmError::IdentityKeyMismatch))
    );
    assert_eq!(bob.stored_one_time_key_count(), 1);
}

#[test]
fn base64_bodies_cross_between_implementations() {
    let (mut alice, mut bob) = pair(true, false, false, 10);
    let reply = bob.encrypt(b"over the wire");
    let End::Theirs(_) = &bob else { unreachable!() };
    // vodozemac's base64 body and type, parsed by us.
    let v_message = msg_to_v(&reply);
    let (t, _) = v_message.to_parts();
    let body = match &v_message {
        v::OlmMessage::Normal(m) => m.to_base64(),
        v::OlmMessage::PreKey(m) => m.to_base64(),
    };
    let parsed = OlmMessage::from_parts(t as u64, &body).unwrap();
    assert_eq!(parsed.to_base64(), body);
    assert_eq!(alice.decrypt(&parsed).unwrap(), b"over the wire");
    assert_eq!(
        OlmMessage::from_parts(2, &body).map(|_| ()),
        Err(Error::Olm(OlmError::UnknownMessageType))
    );
}

/// A first message whose base key has the top bit flipped (X25519 ignores that bit; the pre-key fields
/// are outside the MAC): vodozemac creates a session from it, under a session id Alice does not know,
/// and uses up the one-time key. safemeet refuses the encoding, and the genuine message still works.
#[test]
fn a_base_key_with_the_ignored_bit_flipped_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let alice = v::Account::new();
    for bob_ours in [true, false] {
        let mut our_bob = Account::<100>::new(&mut rng);
        let mut their_bob = v::Account::new();
        let (bob_key, otk) = if bob_ours {
            (
                our_bob.curve25519_key(),
                our_one_time_key(&mut our_bob, &mut rng),
            )
        } else {
            (
                from_v(their_bob.curve25519_key()),
                from_v(v_one_time_key(&mut their_bob)),
            )
        };
        let mut session = alice
            .create_outbound_session(v::SessionConfig::version_1(), to_v(bob_key), to_v(otk))
            .unwrap();
        let genuine = msg_from_v(&session.encrypt(b"first").unwrap());
        let mut bytes = genuine.as_bytes().to_vec();
        // 0x03, then the one-time key field (34 bytes), then 0x12 0x20 and the base key.
        bytes[1 + 34 + 2 + 31] ^= 0x80;
        let alice_key = from_v(alice.curve25519_key());
        if bob_ours {
            assert_eq!(
                our_bob
                    .create_inbound_session(&alice_key, &bytes)
                    .map(|_| ()),
                Err(Error::Codec(safemeet::CodecError::ValueOutOfRange))
            );
            let created = our_bob
                .create_inbound_session(&alice_key, genuine.as_bytes())
                .unwrap();
            assert_eq!(
                created.session.session_id().to_string(),
                session.session_id()
            );
        } else {
            let v::OlmMessage::PreKey(p) = v::OlmMessage::from_parts(0, &bytes).unwrap() else {
                panic!()
            };
            let created = their_bob
                .create_inbound_session(v::SessionConfig::version_1(), to_v(alice_key), &p)
                .unwrap();
            assert_eq!(created.plaintext, b"first");
            assert_ne!(created.session.session_id(), session.session_id());
        }
    }
}

//! Unit tests of the Olm account and session: key ids, the one-time key store, fallback keys, the
//! transactional decrypt and the buffer contracts.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::vec::Vec;

use super::*;
use crate::Error;
use crate::error::RatchetError;
use crate::primitives::curve25519::Curve25519PublicKey;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn encrypt(s: &mut Session, rng: &mut ChaCha20Rng, plaintext: &[u8]) -> (MessageType, Vec<u8>) {
    let mut out = std::vec![0u8; s.encrypt_len(plaintext.len())];
    let (t, n) = s.encrypt_into(rng, plaintext, &mut out).unwrap();
    assert_eq!(n, out.len(), "encrypt_len is exact");
    (t, out)
}

fn decrypt(s: &mut Session, t: MessageType, m: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = std::vec![0u8; Session::decrypt_len(t, m)?];
    let n = s.decrypt_into(t, m, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Alice's outbound session, Bob's inbound one, after the first message.
fn pair(seed: u64) -> (Session, Session, ChaCha20Rng) {
    let mut rng = rng(seed);
    let alice = Account::<8>::new(&mut rng);
    let mut bob = Account::<8>::new(&mut rng);
    bob.generate_one_time_keys_with(&mut rng, 1, |_, _| {});
    let (_, otk) = bob.one_time_keys().next().unwrap();
    let mut a = alice
        .create_outbound_session(&mut rng, &bob.curve25519_key(), &otk)
        .unwrap();
    let (t, m) = encrypt(&mut a, &mut rng, b"hi");
    let mut out = [0u8; 64];
    let b = bob
        .create_inbound_session_into(&alice.curve25519_key(), &m, &mut out)
        .unwrap();
    assert_eq!(t, MessageType::PreKey);
    assert_eq!(&out[..b.plaintext_len], b"hi");
    (a, b.session, rng)
}

/// vodozemac's key-id vectors (`types/mod.rs`), `specs/matrix.md` §8.1 P12.
#[test]
fn key_ids_encode_as_vodozemac_does() {
    assert_eq!(&KeyId(0).to_base64(), b"AAAAAAAAAAA");
    assert_eq!(&KeyId(7).to_base64(), b"AAAAAAAAAAc");
    assert_eq!(std::format!("{}", KeyId(7)), "AAAAAAAAAAc");
}

#[test]
fn the_store_evicts_the_oldest_and_reports_it() {
    let mut rng = rng(1);
    let mut account = Account::<4>::new(&mut rng);
    assert_eq!(account.max_number_of_one_time_keys(), 2);
    let mut evicted = Vec::new();
    assert_eq!(
        account.generate_one_time_keys_with(&mut rng, 3, |id, _| evicted.push(id)),
        0
    );
    let before: Vec<_> = account.one_time_keys().collect();
    account.mark_keys_as_published();
    assert_eq!(account.one_time_keys().count(), 0);
    assert_eq!(
        account.generate_one_time_keys_with(&mut rng, 3, |id, k| evicted.push((id, k).0)),
        2
    );
    assert_eq!(evicted, [KeyId(0), KeyId(1)]);
    // The keys left: key 2 (published), then 3, 4, 5 (not yet).
    assert_eq!(account.stored_one_time_key_count(), 4);
    let ids: Vec<_> = account.one_time_keys().map(|(id, _)| id.0).collect();
    assert_eq!(ids, [3, 4, 5]);
    assert!(before.iter().all(|(id, _)| id.0 < 3));

    // An evicted key can no longer open a session.
    let alice = Account::<4>::new(&mut rng);
    let mut s = alice
        .create_outbound_session(&mut rng, &account.curve25519_key(), &before[0].1)
        .unwrap();
    let (_, m) = encrypt(&mut s, &mut rng, b"too late");
    let mut out = [0u8; 64];
    assert_eq!(
        account
            .create_inbound_session_into(&alice.curve25519_key(), &m, &mut out)
            .map(|_| ()),
        Err(Error::Olm(OlmError::UnknownOneTimeKey))
    );
}

#[cfg(feature = "alloc")]
#[test]
fn the_alloc_report_lists_created_and_removed_keys() {
    let mut rng = rng(2);
    let mut account = Account::<3>::new(&mut rng);
    let first = account.generate_one_time_keys(&mut rng, 2);
    assert_eq!(first.created.len(), 2);
    assert!(first.removed.is_empty());
    let second = account.generate_one_time_keys(&mut rng, 5);
    assert_eq!(second.created.len(), 5);
    // Two old keys and the first two new ones made room.
    assert_eq!(second.removed.len(), 4);
    assert_eq!(&second.removed[..2], &first.created[..]);
    assert_eq!(&second.removed[2..], &second.created[..2]);
    let kept: Vec<_> = account.one_time_keys().map(|(_, k)| k).collect();
    assert_eq!(kept, &second.created[2..]);
}

#[test]
fn fallback_keys_rotate_and_survive_use() {
    let mut rng = rng(3);
    let mut bob = Account::<4>::new(&mut rng);
    assert!(bob.fallback_key().is_none());
    assert_eq!(bob.generate_fallback_key(&mut rng), None);
    let (id0, first) = bob.fallback_key().unwrap();
    assert_eq!(id0, KeyId(0));
    bob.mark_keys_as_published();
    assert!(
        bob.fallback_key().is_none(),
        "published keys are not listed"
    );
    assert_eq!(
        bob.generate_fallback_key(&mut rng),
        None,
        "the first becomes the previous"
    );
    let (id1, second) = bob.fallback_key().unwrap();
    assert_eq!(id1, KeyId(1));

    // Both the current and the previous fallback key open sessions, any number of times.
    let alice = Account::<4>::new(&mut rng);
    for key in [first, second, first] {
        let mut s = alice
            .create_outbound_session(&mut rng, &bob.curve25519_key(), &key)
            .unwrap();
        let (_, m) = encrypt(&mut s, &mut rng, b"via fallback");
        let mut out = [0u8; 64];
        let created = bob
            .create_inbound_session_into(&alice.curve25519_key(), &m, &mut out)
            .unwrap();
        assert_eq!(&out[..created.plaintext_len], b"via fallback");
    }
    assert!(bob.forget_fallback_key());
    assert!(!bob.forget_fallback_key());
    let mut s = alice
        .create_outbound_session(&mut rng, &bob.curve25519_key(), &first)
        .unwrap();
    let (_, m) = encrypt(&mut s, &mut rng, b"forgotten");
    let mut out = [0u8; 64];
    assert_eq!(
        bob.create_inbound_session_into(&alice.curve25519_key(), &m, &mut out)
            .map(|_| ()),
        Err(Error::Olm(OlmError::UnknownOneTimeKey))
    );
    // A third fallback key drops the second and reports it.
    assert_eq!(bob.generate_fallback_key(&mut rng), None);
    assert_eq!(bob.generate_fallback_key(&mut rng), Some(second));
}

#[test]
fn a_failed_decrypt_changes_nothing() {
    let (mut a, mut b, mut rng) = pair(4);
    let (_, reply) = encrypt(&mut b, &mut rng, b"reply");
    // Corrupt the MAC, the ciphertext, the ratchet key and the index: each fails and changes nothing.
    let ratchet_before = std::format!("{:?}", a.ratchet);
    for i in [reply.len() - 1, reply.len() - 9, 5, 36] {
        let mut bad = reply.clone();
        bad[i] ^= 1;
        assert!(decrypt(&mut a, MessageType::Normal, &bad).is_err());
        assert_eq!(std::format!("{:?}", a.ratchet), ratchet_before);
        assert!(!a.has_received_message());
    }
    assert_eq!(
        decrypt(&mut a, MessageType::Normal, &reply).unwrap(),
        b"reply"
    );
    assert!(a.has_received_message());
    assert_eq!(a.next_message_type(), MessageType::Normal);
    assert_eq!(
        decrypt(&mut a, MessageType::Normal, &reply),
        Err(Error::Ratchet(RatchetError::MessageKeyNotFound))
    );
}

#[test]
fn buffers_too_small_are_errors_that_name_the_size() {
    let (mut a, mut b, mut rng) = pair(5);
    let needed = a.encrypt_len(20);
    let mut small = std::vec![0u8; needed - 1];
    assert_eq!(
        a.encrypt_into(&mut rng, &[0; 20], &mut small),
        Err(Error::Olm(OlmError::BufferTooSmall { needed }))
    );
    let (t, m) = encrypt(&mut a, &mut rng, &[7; 20]);
    let mut out = [0u8; 31];
    assert_eq!(
        b.decrypt_into(t, &m, &mut out),
        Err(Error::Olm(OlmError::BufferTooSmall { needed: 32 }))
    );
    // Nothing was consumed: the right buffer works.
    assert_eq!(decrypt(&mut b, t, &m).unwrap(), [7; 20]);
}

#[test]
fn pre_key_messages_match_only_their_session() {
    let (mut a, mut b, mut rng) = pair(6);
    let (_, mut c, _) = pair(7);
    let (t, m) = encrypt(&mut a, &mut rng, b"again");
    assert_eq!(t, MessageType::PreKey);
    assert!(b.matches_pre_key_message(&m));
    assert!(!c.matches_pre_key_message(&m));
    assert!(!b.matches_pre_key_message(&m[..10]));
    assert_eq!(
        decrypt(&mut c, t, &m),
        Err(Error::Olm(OlmError::SessionMismatch))
    );
    assert_eq!(decrypt(&mut b, t, &m).unwrap(), b"again");
    assert_eq!(a.session_id(), b.session_id());
    assert_eq!(a.session_keys(), b.session_keys());
    assert_eq!(
        std::format!("{}", a.session_id()),
        core::str::from_utf8(&a.session_id().to_base64()).unwrap()
    );
}

#[test]
fn small_order_keys_are_refused() {
    let mut rng = rng(8);
    let alice = Account::<4>::new(&mut rng);
    let bob = Account::<4>::new(&mut rng);
    let zero = Curve25519PublicKey::from_bytes([0; 32]);
    assert!(
        alice
            .create_outbound_session(&mut rng, &zero, &bob.curve25519_key())
            .is_err()
    );
    assert!(
        alice
            .create_outbound_session(&mut rng, &bob.curve25519_key(), &zero)
            .is_err()
    );
}

#[test]
fn debug_output_hides_secrets() {
    let (a, _, mut rng) = pair(9);
    let account = Account::<4>::new(&mut rng);
    let text = std::format!("{account:?} {a:?}");
    assert!(text.contains("Account") && text.contains("Session"));
    let secret = account.identity.to_bytes();
    let hex: std::string::String = secret.iter().map(|b| std::format!("{b:02x}")).collect();
    assert!(!text.contains(&hex));
    assert!(!text.contains(&std::format!("{:?}", &secret[..8])));
}

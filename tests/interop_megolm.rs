//! Megolm interoperability with vodozemac 0.11: sessions shared both ways through signed v2 session
//! keys and unsigned v1 exports, messages decrypted at random indices and in random order (also
//! across the 2^8, 2^16 and 2^24 re-seeds), exports at an index imported by the other side, and
//! tampered or wrongly signed messages rejected by both.
#![cfg(all(feature = "hazmat", feature = "alloc"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::group::Ratchet;
use safemeet::megolm::{
    ExportedSessionKey, GroupSession, InboundGroupSession, SessionKey, SessionOrdering,
};
use safemeet::primitives::ed25519::Ed25519SecretKey;
use safemeet::{Error, GroupError};
use vodozemac::megolm as vz;

fn rng(label: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([label; 32])
}

fn plaintext(rng: &mut ChaCha20Rng, i: usize) -> Vec<u8> {
    let len = (rng.next_u32() % 300) as usize;
    let mut p = format!("message {i} ").into_bytes();
    p.extend((0..len).map(|_| rng.next_u32() as u8));
    p
}

fn shuffle<T>(rng: &mut ChaCha20Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u32() as usize) % (i + 1);
        items.swap(i, j);
    }
}

/// A vodozemac outbound session with the given ratchet state and signing seed (through its pickle).
fn vodozemac_outbound(ratchet: &[u8; 128], index: u32, seed: &[u8; 32]) -> vz::GroupSession {
    let pickle = serde_json::json!({
        "config": {"version": "V1"},
        "ratchet": {"counter": index, "inner": ratchet.to_vec()},
        "signing_key": {"Normal": seed.to_vec()},
    });
    vz::GroupSession::from_pickle(serde_json::from_value(pickle).unwrap())
}

/// The ratchet bytes `bytes` at index 0 advanced to `index`.
fn advanced(bytes: &[u8; 128], index: u32) -> [u8; 128] {
    let mut r = Ratchet::from_bytes(bytes, 0);
    r.advance_to(index);
    *r.as_bytes()
}

#[test]
fn vodozemac_to_safemeet_via_session_key() {
    let mut r = rng(1);
    let mut outbound = vz::GroupSession::new(vz::SessionConfig::version_1());
    let key = SessionKey::from_base64(outbound.session_key().to_base64()).unwrap();
    let mut inbound = InboundGroupSession::new(&key);
    assert!(inbound.is_verified());
    assert_eq!(inbound.session_id(), outbound.session_id().as_str());

    let mut sent: Vec<_> = (0..60)
        .map(|i| {
            let p = plaintext(&mut r, i);
            (i as u32, outbound.encrypt(&p).to_bytes(), p)
        })
        .collect();
    shuffle(&mut r, &mut sent);
    for (index, message, p) in &sent {
        let got = inbound.decrypt(message).unwrap();
        assert_eq!(got.message_index, *index);
        assert_eq!(&got.plaintext, p);
        // Decrypting again gives the same result (replays are the guard's business).
        assert_eq!(inbound.decrypt(message).unwrap().plaintext, *p);
    }
}

#[test]
fn safemeet_to_vodozemac_via_session_key() {
    let mut r = rng(2);
    let mut outbound = GroupSession::new(&mut r);
    let key = vz::SessionKey::from_base64(&outbound.session_key().to_base64()).unwrap();
    let mut inbound = vz::InboundGroupSession::new(&key, vz::SessionConfig::version_1());
    assert_eq!(outbound.session_id(), inbound.session_id().as_str());

    let mut sent: Vec<_> = (0..60)
        .map(|i| {
            let p = plaintext(&mut r, i);
            (i as u32, outbound.encrypt(&p).unwrap(), p)
        })
        .collect();
    shuffle(&mut r, &mut sent);
    for (index, message, p) in &sent {
        let got = inbound
            .decrypt(&vz::MegolmMessage::from_bytes(message).unwrap())
            .unwrap();
        assert_eq!(got.message_index, *index);
        assert_eq!(&got.plaintext, p);
    }
}

#[test]
fn exports_at_an_index_cross_over_and_are_unverified() {
    let mut r = rng(3);
    // vodozemac exports at a random index; safemeet imports.
    let mut vz_out = vz::GroupSession::new(vz::SessionConfig::version_1());
    let mut vz_in = vz::InboundGroupSession::from(&vz_out);
    let messages: Vec<_> = (0..40)
        .map(|i| vz_out.encrypt(format!("m{i}")).to_bytes())
        .collect();
    for _ in 0..5 {
        let at = r.next_u32() % 40;
        let export = vz_in.export_at(at).unwrap().to_base64();
        let mut ours =
            InboundGroupSession::import(&ExportedSessionKey::from_base64(&export).unwrap());
        assert!(!ours.is_verified());
        assert_eq!(ours.first_known_index(), at);
        for (i, m) in messages.iter().enumerate() {
            let result = ours.decrypt(m);
            if (i as u32) < at {
                assert_eq!(
                    result.unwrap_err(),
                    Error::Group(GroupError::UnknownMessageIndex {
                        first_known_index: at
                    })
                );
            } else {
                assert_eq!(result.unwrap().plaintext, format!("m{i}").as_bytes());
            }
        }
        // Our re-export is byte-identical to vodozemac's.
        assert_eq!(*ours.export_at(at).unwrap().to_base64(), export);
    }

    // safemeet exports at a random index; vodozemac imports.
    let mut out = GroupSession::new(&mut r);
    let inbound = InboundGroupSession::new(&out.session_key());
    let messages: Vec<_> = (0..40)
        .map(|i| out.encrypt(format!("n{i}").as_bytes()).unwrap())
        .collect();
    for _ in 0..5 {
        let at = r.next_u32() % 40;
        let export = inbound.export_at(at).unwrap();
        let key = vz::ExportedSessionKey::from_base64(&export.to_base64()).unwrap();
        let mut theirs = vz::InboundGroupSession::import(&key, vz::SessionConfig::version_1());
        assert_eq!(theirs.first_known_index(), at);
        for (i, m) in messages.iter().enumerate() {
            let result = theirs.decrypt(&vz::MegolmMessage::from_bytes(m).unwrap());
            if (i as u32) < at {
                assert!(result.is_err());
            } else {
                assert_eq!(result.unwrap().plaintext, format!("n{i}").as_bytes());
            }
        }
    }
}

#[test]
fn unsigned_import_is_unverified_until_merged_with_a_signed_copy() {
    let mut r = rng(4);
    let out = GroupSession::new(&mut r);
    let signed = InboundGroupSession::new(&out.session_key());
    let exported = InboundGroupSession::import(&signed.export_at(5).unwrap());
    assert!(!exported.is_verified());
    assert_eq!(exported.compare(&signed), SessionOrdering::Worse);
    assert_eq!(signed.compare(&exported), SessionOrdering::Better);
    let merged = exported.merge(&signed).unwrap();
    assert!(merged.is_verified());
    assert_eq!(merged.first_known_index(), 0);

    // vodozemac agrees on the ordering of the same two copies.
    let mut vz_signed = vz::InboundGroupSession::new(
        &vz::SessionKey::from_base64(&out.session_key().to_base64()).unwrap(),
        vz::SessionConfig::version_1(),
    );
    let mut vz_exported = vz::InboundGroupSession::import(
        &vz::ExportedSessionKey::from_base64(&signed.export_at(5).unwrap().to_base64()).unwrap(),
        vz::SessionConfig::version_1(),
    );
    assert_eq!(
        vz_exported.compare(&mut vz_signed),
        vz::SessionOrdering::Worse
    );
    // vodozemac too marks the copy from our export unverified and the one from our key verified
    // (its flag is visible only in its pickle).
    let verified = |s: &vz::InboundGroupSession| {
        serde_json::to_value(s.pickle()).unwrap()["signing_key_verified"]
            .as_bool()
            .unwrap()
    };
    assert!(!verified(&vz_exported));
    assert!(verified(&vz_signed));
    assert!(verified(&vz_exported.merge(&mut vz_signed).unwrap()));

    // A copy with a different ratchet is not connected.
    let other = GroupSession::new(&mut r);
    let stranger = InboundGroupSession::new(&other.session_key());
    assert_eq!(stranger.compare(&signed), SessionOrdering::Unconnected);
    assert!(stranger.merge(&signed).is_none());
}

#[test]
fn random_indices_across_reseeds_both_ways() {
    let mut r = rng(5);
    for boundary in [1u32 << 8, 1 << 16, 1 << 24] {
        let mut bytes = [0u8; 128];
        r.fill_bytes(&mut bytes);
        let mut seed = [0u8; 32];
        r.fill_bytes(&mut seed);
        // Receivers hold the key from index 0 and jump straight to the messages.
        let ours_at_0 = GroupSession::from_parts(&bytes, 0, &seed);
        let key0 = ours_at_0.session_key();
        let vz_key0 = vz::SessionKey::from_base64(&key0.to_base64()).unwrap();

        // Indices around the boundary, plus random ones below and above it.
        let mut indices: Vec<u32> = (boundary - 3..boundary + 3).collect();
        indices.extend((0..4).map(|_| r.next_u32() % (2 * boundary)));
        indices.sort_unstable();
        indices.dedup();

        let mut ours_sent = Vec::new();
        let mut vz_sent = Vec::new();
        for &i in &indices {
            let at = advanced(&bytes, i);
            let mut ours = GroupSession::from_parts(&at, i, &seed);
            let p = format!("safemeet {i}");
            ours_sent.push((i, ours.encrypt(p.as_bytes()).unwrap(), p));
            let mut theirs = vodozemac_outbound(&at, i, &seed);
            assert_eq!(theirs.session_id(), ours.session_id().as_str());
            let p = format!("vodozemac {i}");
            vz_sent.push((i, theirs.encrypt(&p).to_bytes(), p));
        }
        // Same state, same plaintext: the two implementations produce identical bytes.
        let mut ours = GroupSession::from_parts(&advanced(&bytes, boundary), boundary, &seed);
        let mut theirs = vodozemac_outbound(&advanced(&bytes, boundary), boundary, &seed);
        assert_eq!(
            ours.encrypt(b"same").unwrap(),
            theirs.encrypt("same").to_bytes(),
            "boundary {boundary:#x}"
        );

        shuffle(&mut r, &mut ours_sent);
        shuffle(&mut r, &mut vz_sent);
        let mut vz_in = vz::InboundGroupSession::new(&vz_key0, vz::SessionConfig::version_1());
        for (i, m, p) in &ours_sent {
            let got = vz_in
                .decrypt(&vz::MegolmMessage::from_bytes(m).unwrap())
                .unwrap();
            assert_eq!(
                (got.message_index, got.plaintext.as_slice()),
                (*i, p.as_bytes())
            );
        }
        let mut our_in = InboundGroupSession::new(&key0);
        for (i, m, p) in &vz_sent {
            let got = our_in.decrypt(m).unwrap();
            assert_eq!(
                (got.message_index, got.plaintext.as_slice()),
                (*i, p.as_bytes())
            );
        }
    }
}

/// Every kind of damage to a message, applied to one message from each side, is rejected by both.
#[test]
fn tampered_and_wrongly_signed_messages_are_rejected_by_both() {
    let mut r = rng(6);
    let mut ours = GroupSession::new(&mut r);
    let key = ours.session_key();
    let mut theirs = vodozemac_outbound(
        &{
            let mut b = [0u8; 128];
            r.fill_bytes(&mut b);
            b
        },
        0,
        &[9; 32],
    );
    let their_key = SessionKey::from_base64(theirs.session_key().to_base64()).unwrap();
    let forger = Ed25519SecretKey::generate(&mut r);

    for (message, key) in [
        (ours.encrypt(b"a genuine message of ours").unwrap(), &key),
        (
            theirs.encrypt("a genuine message of theirs").to_bytes(),
            &their_key,
        ),
    ] {
        let our_in = || InboundGroupSession::new(key);
        let vz_in = || {
            vz::InboundGroupSession::new(
                &vz::SessionKey::from_base64(&key.to_base64()).unwrap(),
                vz::SessionConfig::version_1(),
            )
        };
        assert!(our_in().decrypt(&message).is_ok());
        assert!(
            vz_in()
                .decrypt(&vz::MegolmMessage::from_bytes(&message).unwrap())
                .is_ok()
        );

        let n = message.len();
        let mut variants: Vec<Vec<u8>> = Vec::new();
        // One flipped bit in every byte: version, index, tags, ciphertext, MAC and signature.
        for i in 0..n {
            let mut m = message.clone();
            m[i] ^= 0x01;
            variants.push(m);
        }
        // The body re-signed by another key: valid signature, wrong signer.
        let mut m = message.clone();
        let sig = forger.sign(&m[..n - 64]);
        m[n - 64..].copy_from_slice(sig.as_bytes());
        variants.push(m);
        // A bad MAC re-signed by the genuine key is possible only for us (we hold our key): MAC check.
        for m in &variants {
            assert!(our_in().decrypt(m).is_err());
            let vz_ok = vz::MegolmMessage::from_bytes(m)
                .map(|parsed| vz_in().decrypt(&parsed).is_ok())
                .unwrap_or(false);
            assert!(!vz_ok, "vodozemac accepted a tampered message");
        }
        // And a tampered message leaves our session able to read the genuine one.
        let mut s = our_in();
        for m in &variants {
            let _ = s.decrypt(m);
        }
        assert!(s.decrypt(&message).is_ok());
    }

    // Valid signatures over a broken MAC or a broken ciphertext (only the key holder can make them):
    // both reject them after the signature, at the MAC.
    let seed = [7u8; 32];
    let signer = Ed25519SecretKey::from_seed(&seed);
    let mut out = GroupSession::from_parts(&[5; 128], 0, &seed);
    let key = out.session_key();
    let genuine = out.encrypt(b"signed by the real key").unwrap();
    let n = genuine.len();
    for at in [n - 65, n - 80, 3] {
        let mut m = genuine.clone();
        m[at] ^= 0x01;
        let sig = signer.sign(&m[..n - 64]);
        m[n - 64..].copy_from_slice(sig.as_bytes());
        let ours = InboundGroupSession::new(&key).decrypt(&m).unwrap_err();
        assert!(
            ours == Error::Group(GroupError::Authentication) || matches!(ours, Error::Codec(_)),
            "{ours:?}"
        );
        let vz_key = vz::SessionKey::from_base64(&key.to_base64()).unwrap();
        let mut vz_in = vz::InboundGroupSession::new(&vz_key, vz::SessionConfig::version_1());
        if let Ok(parsed) = vz::MegolmMessage::from_bytes(&m) {
            assert!(vz_in.decrypt(&parsed).is_err());
        }
    }
}

//! The group sessions' core calls make no heap allocation: Megolm and native sender-key session
//! creation, session-key encoding and decoding (bytes and base64), `encrypt_into`, `decrypt_into` (in
//! order, out of order, far ahead, failing), exports, merging, the replay guard and pickling. The
//! `allocation-counter` dev-dependency counts this thread's allocations; the `Vec` wrappers are the
//! control that it counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

use allocation_counter::measure;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::group::{ReplayGuard, ReplayVerdict};
use safemeet::megolm::{self, ExportedSessionKey, InboundGroupSession, SessionKey};
use safemeet::session::group as native;
use safemeet::{Error, GroupError};

const BUF: usize = 1024;

#[track_caller]
fn no_alloc<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let mut out = None;
    let info = measure(|| out = Some(f()));
    assert_eq!(
        info.count_total, 0,
        "{what} allocated {} times ({} bytes)",
        info.count_total, info.bytes_total
    );
    out.unwrap()
}

struct Msg {
    buf: [u8; BUF],
    len: usize,
}

impl Msg {
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

#[test]
fn megolm_core_calls_do_not_allocate() {
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let mut out = no_alloc("GroupSession::new", || megolm::GroupSession::new(&mut rng));
    let mut key_b64 = [0u8; megolm::SESSION_KEY_BASE64_LEN];
    no_alloc("SessionKey::to_base64_into", || {
        out.session_key().to_base64_into(&mut key_b64).unwrap()
    });
    let mut inbound = no_alloc("SessionKey::from_base64 + new", || {
        InboundGroupSession::new(&SessionKey::from_base64(key_b64).unwrap())
    });
    let msgs: Vec<Msg> = (0..5u8)
        .map(|i| {
            no_alloc("encrypt_into", || {
                let mut buf = [0u8; BUF];
                let len = out.encrypt_into(&[i; 100], &mut buf).unwrap();
                Msg { buf, len }
            })
        })
        .collect();
    let mut guard: ReplayGuard = no_alloc("ReplayGuard::new", ReplayGuard::new);
    let session = *inbound.signing_key().as_bytes();
    for &i in &[4usize, 0, 2, 1, 3] {
        no_alloc("decrypt_into (out of order) + guard", || {
            let mut pt = [0u8; BUF];
            let got = inbound.decrypt_into(msgs[i].bytes(), &mut pt).unwrap();
            assert_eq!(&pt[..got.plaintext_len], &[i as u8; 100]);
            let id = [i as u8; 32];
            assert_eq!(
                guard.check(&session, got.message_index, &id),
                ReplayVerdict::New
            );
        });
    }
    no_alloc("decrypt_into (tampered)", || {
        let mut bad = msgs[0].buf;
        bad[10] ^= 1;
        let mut pt = [0u8; BUF];
        assert_eq!(
            inbound.decrypt_into(&bad[..msgs[0].len], &mut pt),
            Err(Error::Group(GroupError::InvalidSignature))
        );
    });
    no_alloc("encrypt_into (buffer too small)", || {
        let mut small = [0u8; 16];
        assert!(matches!(
            out.encrypt_into(b"too long for this", &mut small),
            Err(Error::Group(GroupError::BufferTooSmall { .. }))
        ));
    });
    // Far ahead: a session key at a late index, then a message 100 000 further on.
    let mut ahead = no_alloc("advance_to + export", || {
        let mut copy = InboundGroupSession::import(&inbound.export_at(3).unwrap());
        assert!(copy.advance_to(100_000));
        let mut b64 = [0u8; megolm::EXPORT_BASE64_LEN];
        copy.export_at(100_000)
            .unwrap()
            .to_base64_into(&mut b64)
            .unwrap();
        let merged = copy.merge(&inbound).unwrap();
        assert_eq!(merged.first_known_index(), 0);
        InboundGroupSession::import(&ExportedSessionKey::from_base64(b64).unwrap())
    });
    assert_eq!(ahead.first_known_index(), 100_000);
    let mut pickle = vec![0u8; inbound.pickle_len()];
    let key = [9u8; 32];
    let n = no_alloc("InboundGroupSession::pickle_into", || {
        inbound.pickle_into(&mut rng, &key, &mut pickle).unwrap()
    });
    no_alloc("InboundGroupSession::from_pickle", || {
        InboundGroupSession::from_pickle(&key, &mut pickle[..n]).unwrap()
    });
    no_alloc("decrypt_into (unknown index)", || {
        let mut pt = [0u8; BUF];
        assert!(matches!(
            ahead.decrypt_into(msgs[0].bytes(), &mut pt),
            Err(Error::Group(GroupError::UnknownMessageIndex { .. }))
        ));
    });
}

#[test]
fn native_group_core_calls_do_not_allocate() {
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let mut out = no_alloc("GroupSession::new", || native::GroupSession::new(&mut rng));
    let mut key = [0u8; native::SENDER_KEY_LEN];
    let mut inbound = no_alloc("sender key round trip", || {
        out.sender_key().encode_into(&mut key).unwrap();
        native::InboundGroupSession::new(&native::SenderKey::decode(&key).unwrap())
    });
    let msgs: Vec<Msg> = (0..3u8)
        .map(|i| {
            no_alloc("encrypt_into", || {
                let mut buf = [0u8; BUF];
                let len = out.encrypt_into(&[i; 64], &mut buf).unwrap();
                Msg { buf, len }
            })
        })
        .collect();
    for &i in &[2usize, 0, 1] {
        no_alloc("decrypt_into", || {
            let mut pt = [0u8; BUF];
            let got = inbound.decrypt_into(msgs[i].bytes(), &mut pt).unwrap();
            assert_eq!(&pt[..got.plaintext_len], &[i as u8; 64]);
        });
    }
    let mut pickle = vec![0u8; out.pickle_len()];
    let n = no_alloc("GroupSession::pickle_into", || {
        out.pickle_into(&mut rng, &[3; 32], &mut pickle).unwrap()
    });
    no_alloc("GroupSession::from_pickle", || {
        native::GroupSession::from_pickle(&[3; 32], &mut pickle[..n]).unwrap()
    });
}

/// Control: the `Vec` wrappers do allocate, so the counter is live.
#[cfg(feature = "alloc")]
#[test]
fn the_counter_counts() {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let mut out = megolm::GroupSession::new(&mut rng);
    let info = measure(|| {
        std::hint::black_box(out.encrypt(b"hello").unwrap());
    });
    assert!(info.count_total >= 1);
}

//! Signal sender keys' core calls make no heap allocation: creating a sender key, encoding and
//! decoding distribution messages, building and updating a record, `encrypt_into`, `decrypt_into` (in
//! order, out of order, after a jump, and failing), XEdDSA signing and verification, and pickling. The
//! `allocation-counter` dev-dependency counts this thread's allocations; the `Vec` wrappers are the
//! control that it counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core
)]

#[path = "common/no_alloc.rs"]
mod no_alloc_check;

use no_alloc_check::no_alloc;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::primitives::xeddsa;
use safemeet::signal::group::{
    DistributionId, OutboundSenderKey, SenderKeyDistributionMessage, SenderKeyRecord,
};
use safemeet::{Error, SignalError};

const BUF: usize = 512;

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
fn sender_key_core_calls_do_not_allocate() {
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let mut out = no_alloc("OutboundSenderKey::new", || {
        let id = DistributionId::random(&mut rng);
        OutboundSenderKey::new(&mut rng, id)
    });
    let mut skdm = [0u8; 128];
    let mut record = no_alloc("SKDM encode + decode + record", || {
        let n = out.distribution_message().encode_into(&mut skdm).unwrap();
        let decoded = SenderKeyDistributionMessage::decode(&skdm[..n]).unwrap();
        SenderKeyRecord::<64>::from_distribution_message(&decoded)
    });
    no_alloc("process_distribution_message (known chain)", || {
        let decoded = SenderKeyDistributionMessage::decode(&skdm[..]).err();
        assert!(decoded.is_some(), "trailing zeros are not a message");
        record
            .process_distribution_message(&out.distribution_message())
            .unwrap();
    });
    let msgs: Vec<Msg> = (0..6u8)
        .map(|i| {
            no_alloc("encrypt_into", || {
                let mut buf = [0u8; BUF];
                let len = out.encrypt_into(&mut rng, &[i; 100], &mut buf).unwrap();
                Msg { buf, len }
            })
        })
        .collect();
    for &i in &[0usize, 4, 1, 3, 2, 5] {
        no_alloc("decrypt_into (in and out of order)", || {
            let mut pt = [0u8; BUF];
            let got = record.decrypt_into(msgs[i].bytes(), &mut pt).unwrap();
            assert_eq!(&pt[..got.plaintext_len], &[i as u8; 100]);
            assert_eq!(got.iteration, i as u32);
        });
    }
    no_alloc("decrypt_into (duplicate, tampered)", || {
        let mut pt = [0u8; BUF];
        assert_eq!(
            record.decrypt_into(msgs[2].bytes(), &mut pt),
            Err(Error::Signal(SignalError::DuplicatedMessage))
        );
        let mut bad = msgs[0].buf;
        bad[30] ^= 1;
        assert!(record.decrypt_into(&bad[..msgs[0].len], &mut pt).is_err());
    });
    // A jump of 1000.
    let mut scratch = [0u8; BUF];
    for _ in 0..1000 {
        out.encrypt_into(&mut rng, b"", &mut scratch).unwrap();
    }
    let far = no_alloc("encrypt_into", || {
        let mut buf = [0u8; BUF];
        let len = out.encrypt_into(&mut rng, b"far", &mut buf).unwrap();
        Msg { buf, len }
    });
    no_alloc("decrypt_into (jump of 1000)", || {
        let mut pt = [0u8; BUF];
        let got = record.decrypt_into(far.bytes(), &mut pt).unwrap();
        assert_eq!(&pt[..got.plaintext_len], b"far");
        assert_eq!(record.stored_keys(), 64);
    });
    no_alloc("XEdDSA sign + verify", || {
        let key = safemeet::primitives::curve25519::Curve25519SecretKey::generate(&mut rng);
        let sig = xeddsa::sign(&key, b"message", &mut rng);
        xeddsa::verify(&key.public_key(), b"message", &sig).unwrap();
    });
    let key = [5u8; 32];
    let mut pickle = vec![0u8; record.pickle_len()];
    let n = no_alloc("SenderKeyRecord::pickle_into", || {
        record.pickle_into(&mut rng, &key, &mut pickle).unwrap()
    });
    no_alloc("SenderKeyRecord::from_pickle", || {
        let back = SenderKeyRecord::<64>::from_pickle(&key, &mut pickle[..n]).unwrap();
        assert_eq!(back.stored_keys(), 64);
    });
    let mut pickle = vec![0u8; out.pickle_len()];
    let n = no_alloc("OutboundSenderKey::pickle_into", || {
        out.pickle_into(&mut rng, &key, &mut pickle).unwrap()
    });
    no_alloc("OutboundSenderKey::from_pickle", || {
        OutboundSenderKey::from_pickle(&key, &mut pickle[..n]).unwrap()
    });
}

/// Control: the `Vec` wrappers do allocate, so the counter is live.
#[cfg(feature = "alloc")]
#[test]
fn the_counter_counts() {
    let mut rng = ChaCha20Rng::from_seed([8; 32]);
    let mut out = OutboundSenderKey::new(&mut rng, DistributionId::from_bytes([1; 16]));
    let info = allocation_counter::measure(|| {
        std::hint::black_box(out.encrypt(&mut rng, b"hello").unwrap());
    });
    assert!(info.count_total >= 1);
}

//! The classic Signal profile's core calls make no heap allocation: account creation and prekey
//! generation, bundles, session creation both ways, `encrypt_into` and `decrypt_into` (pre-key and
//! normal messages, across DH steps, out of order, failing), and pickling. As in `no_alloc.rs`, the
//! `allocation-counter` dev-dependency counts this thread's allocations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "common/no_alloc.rs"]
mod no_alloc_check;
use no_alloc_check::no_alloc;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::signal::{Account, MessageType, Session};
use safemeet::{Error, RatchetError, SignalError};

const BUF: usize = 512;
/// A small skipped-key store: the no-heap configuration of a small device.
type Small = Session<32>;

struct Msg {
    kind: MessageType,
    buf: [u8; BUF],
    len: usize,
}

impl Msg {
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

fn encrypt(what: &str, s: &mut Small, rng: &mut ChaCha20Rng, pt: &[u8]) -> Msg {
    no_alloc(what, || {
        let mut buf = [0u8; BUF];
        let (kind, len) = s.encrypt_into(rng, pt, &mut buf).unwrap();
        Msg { kind, buf, len }
    })
}

fn decrypt(what: &str, s: &mut Small, m: &Msg, pt: &[u8]) {
    no_alloc(what, || {
        let mut out = [0u8; BUF];
        let n = s.decrypt_into(m.kind, m.bytes(), &mut out).unwrap();
        assert_eq!(&out[..n], pt);
    });
}

#[test]
fn signal_core_calls_do_not_allocate() {
    let mut rng = ChaCha20Rng::from_seed([12; 32]);
    let (alice, mut bob) = no_alloc("Account::new", || {
        (Account::<20>::new(&mut rng), Account::<20>::new(&mut rng))
    });
    no_alloc("generate_one_time_pre_keys", || {
        assert_eq!(bob.generate_one_time_pre_keys(&mut rng, 25), 5);
    });
    no_alloc("rotate_signed_pre_key", || {
        bob.rotate_signed_pre_key(&mut rng)
    });
    let (id, _) = no_alloc("one_time_pre_keys", || {
        bob.one_time_pre_keys().next().unwrap()
    });
    let bundle = no_alloc("bundle", || bob.bundle(Some(id)).unwrap());
    let mut a: Small = no_alloc("create_outbound_session", || {
        alice.create_outbound_session(&mut rng, &bundle).unwrap()
    });
    let first = encrypt("encrypt_into (pre-key)", &mut a, &mut rng, b"first");
    assert_eq!(first.kind, MessageType::PreKey);
    let second = encrypt("encrypt_into (pre-key 2)", &mut a, &mut rng, b"second");
    let mut b: Small = no_alloc("create_inbound_session_into", || {
        let mut out = [0u8; BUF];
        let (s, n) = bob
            .create_inbound_session_into(first.bytes(), &mut out)
            .unwrap();
        assert_eq!(&out[..n], b"first");
        s
    });
    no_alloc("matches_pre_key_message", || {
        assert!(b.matches_pre_key_message(second.bytes()));
    });
    decrypt(
        "decrypt_into (repeated pre-key)",
        &mut b,
        &second,
        b"second",
    );
    // A replayed first message: the one-time prekey is gone.
    no_alloc("create_inbound_session_into (replay)", || {
        let mut out = [0u8; BUF];
        let e = bob
            .create_inbound_session_into::<32>(first.bytes(), &mut out)
            .unwrap_err();
        assert_eq!(e, Error::Signal(SignalError::UnknownPreKey));
    });
    let r1 = encrypt("encrypt_into (DH step)", &mut b, &mut rng, b"reply 1");
    let r2 = encrypt("encrypt_into", &mut b, &mut rng, b"reply 2");
    decrypt("decrypt_into (out of order)", &mut a, &r2, b"reply 2");
    decrypt("decrypt_into (skipped key)", &mut a, &r1, b"reply 1");
    no_alloc("decrypt_into (replay, failing)", || {
        let mut out = [0u8; BUF];
        assert_eq!(
            a.decrypt_into(r1.kind, r1.bytes(), &mut out).unwrap_err(),
            Error::Ratchet(RatchetError::MessageKeyNotFound)
        );
    });
    let a1 = encrypt("encrypt_into (normal)", &mut a, &mut rng, b"normal");
    assert_eq!(a1.kind, MessageType::Whisper);
    decrypt("decrypt_into (normal)", &mut b, &a1, b"normal");
    let key = [7u8; 32];
    no_alloc("pickle_into / from_pickle", || {
        let mut buf = [0u8; 8192];
        let n = a.pickle_into(&mut rng, &key, &mut buf).unwrap();
        let restored = Small::from_pickle(&key, &mut buf[..n]).unwrap();
        assert_eq!(restored.base_key(), a.base_key());
        let n = bob.pickle_into(&mut rng, &key, &mut buf).unwrap();
        let restored = Account::<20>::from_pickle(&key, &mut buf[..n]).unwrap();
        assert_eq!(restored.identity_key(), bob.identity_key());
    });
}

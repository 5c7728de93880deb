//! Olm's core calls make no heap allocation: account creation and key generation, session creation
//! both ways, `encrypt_into` and `decrypt_into` (pre-key, normal, across DH steps, out of order,
//! failing), and pickling. As in `no_alloc.rs`, the `allocation-counter` dev-dependency counts this
//! thread's allocations; the `Vec` wrappers are the control that the counter counts.
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
use safemeet::olm::{Account, MessageType, Session};
use safemeet::{Error, OlmError, RatchetError};

const BUF: usize = 512;

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

fn encrypt(what: &str, s: &mut Session, rng: &mut ChaCha20Rng, pt: &[u8]) -> Msg {
    no_alloc(what, || {
        let mut buf = [0u8; BUF];
        let (kind, len) = s.encrypt_into(rng, pt, &mut buf).unwrap();
        Msg { kind, buf, len }
    })
}

fn decrypt(what: &str, s: &mut Session, m: &Msg, pt: &[u8]) {
    no_alloc(what, || {
        let mut out = [0u8; BUF];
        let n = s.decrypt_into(m.kind, m.bytes(), &mut out).unwrap();
        assert_eq!(&out[..n], pt);
    });
}

#[test]
fn olm_core_calls_do_not_allocate() {
    let mut rng = ChaCha20Rng::from_seed([11; 32]);
    let (alice, mut bob) = no_alloc("Account::new", || {
        (Account::<100>::new(&mut rng), Account::<100>::new(&mut rng))
    });
    no_alloc("generate_one_time_keys_with", || {
        bob.generate_one_time_keys_with(&mut rng, 120, |_, _| {})
    });
    no_alloc("generate_fallback_key", || {
        bob.generate_fallback_key(&mut rng)
    });
    let (_, otk) = no_alloc("one_time_keys", || bob.one_time_keys().next().unwrap());
    no_alloc("mark_keys_as_published", || bob.mark_keys_as_published());
    let mut a = no_alloc("create_outbound_session", || {
        alice
            .create_outbound_session(&mut rng, &bob.curve25519_key(), &otk)
            .unwrap()
    });
    let first = encrypt("encrypt_into (pre-key)", &mut a, &mut rng, b"first");
    let mut b = no_alloc("create_inbound_session_into", || {
        let mut out = [0u8; BUF];
        let created = bob
            .create_inbound_session_into(&alice.curve25519_key(), first.bytes(), &mut out)
            .unwrap();
        assert_eq!(&out[..created.plaintext_len], b"first");
        created.session
    });
    no_alloc("matches_pre_key_message", || {
        assert!(b.matches_pre_key_message(first.bytes()));
    });
    let reply = encrypt("encrypt_into (DH step)", &mut b, &mut rng, b"reply");
    decrypt("decrypt_into (DH step)", &mut a, &reply, b"reply");
    let m: Vec<Msg> = (0..3)
        .map(|i| encrypt("encrypt_into", &mut a, &mut rng, &[i; 40]))
        .collect();
    decrypt(
        "decrypt_into (skipping ahead, DH step)",
        &mut b,
        &m[2],
        &[2; 40],
    );
    decrypt("decrypt_into (skipped key)", &mut b, &m[0], &[0; 40]);
    decrypt("decrypt_into (skipped key)", &mut b, &m[1], &[1; 40]);
    no_alloc("decrypt_into (replay)", || {
        let mut out = [0u8; BUF];
        assert_eq!(
            b.decrypt_into(m[1].kind, m[1].bytes(), &mut out),
            Err(Error::Ratchet(RatchetError::MessageKeyNotFound))
        );
    });
    let mut forged = encrypt("encrypt_into", &mut a, &mut rng, b"forged");
    forged.buf[forged.len - 1] ^= 1;
    no_alloc("decrypt_into (forgery)", || {
        let mut out = [0u8; BUF];
        assert_eq!(
            b.decrypt_into(forged.kind, forged.bytes(), &mut out),
            Err(Error::Olm(OlmError::Authentication))
        );
    });

    let key = [3u8; 32];
    let mut pickle = vec![0u8; b.pickle_len()];
    let n = no_alloc("Session::pickle_into", || {
        b.pickle_into(&mut rng, &key, &mut pickle).unwrap()
    });
    let mut b2 = no_alloc("Session::from_pickle", || {
        Session::from_pickle(&key, &mut pickle[..n]).unwrap()
    });
    let mut pickle = vec![0u8; bob.pickle_len()];
    let n = no_alloc("Account::pickle_into", || {
        bob.pickle_into(&mut rng, &key, &mut pickle).unwrap()
    });
    no_alloc("Account::from_pickle", || {
        Account::<100>::from_pickle(&key, &mut pickle[..n]).unwrap()
    });
    let last = encrypt("encrypt_into", &mut a, &mut rng, b"last");
    decrypt("decrypt_into (unpickled session)", &mut b2, &last, b"last");
}

/// Control: the `Vec` wrappers allocate, and the counter sees it.
#[cfg(feature = "alloc")]
#[test]
fn the_counter_counts_olm_wrappers() {
    use allocation_counter::measure;
    let mut rng = ChaCha20Rng::from_seed([12; 32]);
    let alice = Account::<100>::new(&mut rng);
    let mut bob = Account::<100>::new(&mut rng);
    let info = measure(|| {
        bob.generate_one_time_keys(&mut rng, 1);
    });
    assert!(info.count_total >= 1, "generate_one_time_keys returns Vecs");
    let (_, otk) = bob.one_time_keys().next().unwrap();
    let mut a = alice
        .create_outbound_session(&mut rng, &bob.curve25519_key(), &otk)
        .unwrap();
    let info = measure(|| {
        a.encrypt(&mut rng, b"hello").unwrap();
    });
    assert!(info.count_total >= 1, "Session::encrypt returns a Vec");
}

//! The native profile's core calls make no heap allocation: `encrypt_into` and `decrypt_into` (plain and
//! header-encrypted, in order, out of order, across a DH ratchet step, and failing), session creation
//! and pickling. The `allocation-counter` dev-dependency replaces the global allocator in this test
//! binary and counts the current thread's allocations (the crate forbids `unsafe`, so the counting
//! allocator cannot live here); the `Vec` wrappers serve as a control that the counter counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use allocation_counter::measure;

#[path = "common/no_alloc.rs"]
mod no_alloc_check;
use no_alloc_check::no_alloc;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::session::{Account, Session, SessionConfig};
use safemeet::{Error, RatchetError, SessionError};

/// Room for any message in these tests.
const BUF: usize = 512;

/// A message in a fixed buffer.
struct Msg {
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
        let len = s.encrypt_into(rng, pt, &mut buf).unwrap();
        Msg { buf, len }
    })
}

fn decrypt(what: &str, s: &mut Session, m: &Msg, pt: &[u8]) {
    no_alloc(what, || {
        let mut out = [0u8; BUF];
        let n = s.decrypt_into(m.bytes(), &mut out).unwrap();
        assert_eq!(&out[..n], pt);
    });
}

fn run(config: SessionConfig) {
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let (alice, mut bob) = no_alloc("Account::new", || {
        (Account::new(&mut rng), Account::new(&mut rng))
    });
    no_alloc("generate_one_time_prekeys", || {
        bob.generate_one_time_prekeys(&mut rng, 5)
    });
    let bundle = no_alloc("prekey_bundle", || bob.prekey_bundle(Some(1)).unwrap());
    let mut a = no_alloc("create_outbound_session", || {
        alice
            .create_outbound_session(&mut rng, &bundle, config)
            .unwrap()
    });

    // A pre-key message, and the inbound session it starts.
    let first = encrypt("encrypt_into (pre-key)", &mut a, &mut rng, b"first");
    let mut b = no_alloc("create_inbound_session_into", || {
        let mut out = [0u8; BUF];
        let (session, n) = bob
            .create_inbound_session_into(first.bytes(), &mut out)
            .unwrap();
        assert_eq!(&out[..n], b"first");
        session
    });

    // Bob's reply: a DH step on both sides.
    let reply = encrypt("encrypt_into (DH step)", &mut b, &mut rng, b"reply");
    decrypt("decrypt_into (DH step)", &mut a, &reply, b"reply");

    // Out of order: the third message first stores two skipped keys, which the others then use.
    let m: Vec<Msg> = (0..3)
        .map(|i| encrypt("encrypt_into", &mut a, &mut rng, &[i; 20]))
        .collect();
    decrypt(
        "decrypt_into (skipping ahead, DH step)",
        &mut b,
        &m[2],
        &[2; 20],
    );
    decrypt("decrypt_into (skipped key)", &mut b, &m[0], &[0; 20]);
    decrypt("decrypt_into (skipped key)", &mut b, &m[1], &[1; 20]);
    let next = encrypt("encrypt_into", &mut a, &mut rng, b"in order");
    decrypt("decrypt_into (in order)", &mut b, &next, b"in order");

    // Failures allocate nothing either: a replay, a forgery, a too-small buffer.
    no_alloc("decrypt_into (replay)", || {
        let mut out = [0u8; BUF];
        assert_eq!(
            b.decrypt_into(next.bytes(), &mut out),
            Err(Error::Ratchet(RatchetError::MessageKeyNotFound))
        );
    });
    let mut forged = encrypt("encrypt_into", &mut a, &mut rng, b"forged");
    forged.buf[forged.len - 1] ^= 1;
    no_alloc("decrypt_into (forgery)", || {
        let mut out = [0u8; BUF];
        assert_eq!(
            b.decrypt_into(forged.bytes(), &mut out),
            Err(Error::Session(SessionError::Authentication))
        );
    });
    no_alloc("encrypt_into (buffer too small)", || {
        let mut out = [0u8; 8];
        assert!(matches!(
            a.encrypt_into(&mut rng, b"too long", &mut out),
            Err(Error::Session(SessionError::BufferTooSmall { .. }))
        ));
    });

    // Pickling and unpickling.
    let key = [7u8; 32];
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
        Account::from_pickle(&key, &mut pickle[..n]).unwrap()
    });
    let last = encrypt("encrypt_into", &mut a, &mut rng, b"last");
    decrypt("decrypt_into (unpickled session)", &mut b2, &last, b"last");
}

#[test]
fn native_core_calls_do_not_allocate_plain() {
    run(SessionConfig::plain());
}

#[test]
fn native_core_calls_do_not_allocate_header_encrypted() {
    run(SessionConfig::with_header_encryption());
}

/// Controls: the counter sees allocations on this thread, including the library's `Vec` wrappers.
#[test]
fn the_counter_counts() {
    let info = measure(|| {
        std::hint::black_box(vec![0u8; 16]);
    });
    assert_eq!(info.count_total, 1);

    #[cfg(feature = "alloc")]
    for config in [
        SessionConfig::plain(),
        SessionConfig::with_header_encryption(),
    ] {
        let mut rng = ChaCha20Rng::from_seed([10; 32]);
        let alice = Account::new(&mut rng);
        let mut bob = Account::new(&mut rng);
        let bundle = bob.prekey_bundle(None).unwrap();
        let mut a = alice
            .create_outbound_session(&mut rng, &bundle, config)
            .unwrap();
        let mut message = Vec::new();
        let info = measure(|| message = a.encrypt(&mut rng, b"hello").unwrap());
        assert!(info.count_total >= 1, "Session::encrypt returns a Vec");
        let info = measure(|| {
            let (_, pt) = bob.create_inbound_session(&message).unwrap();
            assert_eq!(pt, b"hello");
        });
        assert!(
            info.count_total >= 1,
            "create_inbound_session returns a Vec"
        );
    }
}

/// SAS from key generation to verified keys, and QR encode/decode/check, allocate nothing.
#[test]
fn sas_and_qr_make_no_allocation() {
    use safemeet::primitives::ed25519::Ed25519SecretKey;
    use safemeet::verification::qr::{QrMode, QrPayload, ScannerKeys};
    use safemeet::verification::sas::{
        ExpectedKeys, KeyAgreement, MacIds, MacMethod, Party, Role, Sas, SasIds,
    };

    let mut rng = ChaCha20Rng::from_seed([0x77; 32]);
    let device = Ed25519SecretKey::generate(&mut rng).public_key();
    let master = Ed25519SecretKey::generate(&mut rng).public_key();
    let alice = Party {
        user_id: "@alice:example.org",
        device_id: "ALICE",
    };
    let bob = Party {
        user_id: "@bob:example.org",
        device_id: "BOB",
    };
    let (a, b) = (Sas::new(&mut rng), Sas::new(&mut rng));
    no_alloc("SAS to verified keys", || {
        let (ak, bk) = (a.public_key(), b.public_key());
        let a = a.diffie_hellman(&bk).unwrap();
        let b = b.diffie_hellman(&ak).unwrap();
        let ids = SasIds {
            starter: alice,
            acceptor: bob,
            transaction_id: "t",
        };
        let kap = KeyAgreement::Curve25519HkdfSha256;
        let sa = a.sas_bytes(kap, Role::Starter, &ids).unwrap();
        let sb = b.sas_bytes(kap, Role::Acceptor, &ids).unwrap();
        assert_eq!(sa.emoji(), sb.emoji());
        let mac_ids = MacIds {
            sender: bob,
            receiver: alice,
            transaction_id: "t",
        };
        for method in [MacMethod::HkdfHmacSha256V2, MacMethod::HkdfHmacSha256] {
            let mac = b.mac_key(method, &mac_ids, "ed25519:BOB", &device).unwrap();
            let keys = b.mac_key_ids(method, &mac_ids, &["ed25519:BOB"]).unwrap();
            let expected = ExpectedKeys {
                device: Some(("BOB", device)),
                master_key: Some(master),
            };
            let verified = a
                .verify_macs(
                    method,
                    &mac_ids,
                    &[("ed25519:BOB", mac.as_str())],
                    keys.as_str(),
                    &expected,
                )
                .unwrap();
            assert_eq!(verified.device_key(), Some(device));
        }
    });
    no_alloc("QR encode, decode and check", || {
        let code =
            QrPayload::new(QrMode::VerifyingAnotherUser, "t", master, device, &[1; 16]).unwrap();
        let mut buf = [0u8; 128];
        let n = code.encode_into(&mut buf).unwrap();
        let scanned = QrPayload::decode(&buf[..n]).unwrap();
        let ours = ScannerKeys {
            own_master: Some(device),
            own_device: None,
            other_master: Some(master),
            other_device: None,
        };
        assert_eq!(
            scanned.check_scanned(&ours).unwrap().master_key(),
            Some(master)
        );
        code.check_reciprocation(scanned.secret()).unwrap();
    });
}

//! Server-side key backup against vodozemac 0.11.1's `PkEncryption` / `PkDecryption` (feature
//! `insecure-pk-encryption`), the code matrix-rust-sdk backs up with: vodozemac decrypts what we
//! encrypt, we decrypt what vodozemac encrypts, for many plaintexts (empty, every length around the
//! block size, and large), both through the no-alloc calls and through the `session_data` JSON; a
//! changed MAC or ephemeral key is refused by both; both accept a changed ciphertext alike (the
//! specification's MAC does not cover it).
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::BackupError;
use safemeet::backup::key_backup::{BackupDecryptionKey, MAC_LEN, encrypt_len};
use safemeet::codec::json::{Object, Value};
use safemeet::codec::{base64, json};
use safemeet::primitives::curve25519::Curve25519PublicKey;
use vodozemac::pk_encryption::{Message, PkDecryption, PkEncryption};

/// Plaintext lengths: empty, every length from 1 to 70 (around the 16-byte blocks), a realistic
/// backed-up session, and large ones.
fn lengths() -> Vec<usize> {
    let mut v: Vec<usize> = (0..=70).collect();
    v.extend([255, 256, 257, 600, 1000, 4096, 10_000, 60_000]);
    v
}

fn plaintext(rng: &mut ChaCha20Rng, len: usize) -> Vec<u8> {
    let mut pt = vec![0u8; len];
    rng.fill_bytes(&mut pt);
    pt
}

fn pair(rng: &mut ChaCha20Rng) -> (BackupDecryptionKey, PkDecryption) {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    let ours = BackupDecryptionKey::from_bytes(&bytes);
    let theirs = PkDecryption::from_key(vodozemac::Curve25519SecretKey::from_slice(&bytes));
    assert_eq!(
        theirs.public_key().to_bytes(),
        *ours.public_key().as_bytes(),
        "the same private key gives the same public key"
    );
    assert_eq!(
        theirs.public_key().to_base64(),
        ours.public_key().to_base64()
    );
    (ours, theirs)
}

#[test]
fn vodozemac_decrypts_ours() {
    let mut rng = ChaCha20Rng::from_seed([21; 32]);
    let mut count = 0;
    for round in 0..3 {
        let (ours, theirs) = pair(&mut rng);
        for len in lengths() {
            let pt = plaintext(&mut rng, len);
            let mut ct = vec![0u8; encrypt_len(len)];
            let (n, header) = ours
                .public_key()
                .encrypt_into(&mut rng, &pt, &mut ct)
                .unwrap();
            let message = Message {
                ciphertext: ct[..n].to_vec(),
                mac: header.mac.to_vec(),
                ephemeral_key: vodozemac::Curve25519PublicKey::from_bytes(
                    *header.ephemeral.as_bytes(),
                ),
            };
            assert_eq!(
                theirs.decrypt(&message).unwrap(),
                pt,
                "round {round}, {len} bytes"
            );
            count += 1;

            // Through the JSON shape, as an upload would carry it.
            if len % 7 == 0 {
                let sd = ours
                    .public_key()
                    .encrypt_session_data(&mut rng, &pt)
                    .unwrap();
                let s = |k: &str| sd.get(k).unwrap().as_str().unwrap().to_owned();
                let message =
                    Message::from_base64(&s("ciphertext"), &s("mac"), &s("ephemeral")).unwrap();
                assert_eq!(theirs.decrypt(&message).unwrap(), pt);
                count += 1;
            }
        }
    }
    println!("vodozemac decrypted {count} of our backup ciphertexts");
    assert_eq!(count, 3 * (79 + 11));
}

#[test]
fn we_decrypt_vodozemacs() {
    let mut rng = ChaCha20Rng::from_seed([22; 32]);
    let mut count = 0;
    for _ in 0..3 {
        let (ours, theirs) = pair(&mut rng);
        let encryption = PkEncryption::from(&theirs);
        for len in lengths() {
            let pt = plaintext(&mut rng, len);
            let message = encryption.encrypt(&pt).unwrap();
            let mac: [u8; MAC_LEN] = message.mac.clone().try_into().unwrap();
            let ephemeral = Curve25519PublicKey::from_bytes(message.ephemeral_key.to_bytes());
            let mut out = vec![0u8; message.ciphertext.len()];
            let n = ours
                .decrypt_into(&ephemeral, &mac, &message.ciphertext, &mut out)
                .unwrap();
            assert_eq!(&out[..n], &pt[..]);
            // And through the JSON shape.
            let mut sd = Object::new();
            sd.insert(
                "ciphertext".into(),
                base64::encode(&message.ciphertext).into(),
            );
            sd.insert("mac".into(), base64::encode(&message.mac).into());
            sd.insert("ephemeral".into(), message.ephemeral_key.to_base64().into());
            let sd = json::parse_response(Value::Object(sd).to_canonical().as_bytes()).unwrap();
            assert_eq!(&ours.decrypt_session_data(&sd).unwrap()[..], &pt[..]);
            count += 1;
        }
    }
    println!("we decrypted {count} of vodozemac's PkEncryption messages");
    assert_eq!(count, 3 * 79);
}

#[test]
fn both_refuse_a_changed_mac_or_ephemeral_key_and_neither_sees_a_changed_ciphertext() {
    let mut rng = ChaCha20Rng::from_seed([23; 32]);
    let (ours, theirs) = pair(&mut rng);
    let encryption = PkEncryption::from(&theirs);
    let pt = plaintext(&mut rng, 600);
    let mut refused = 0;
    for i in 0..40 {
        let message = encryption.encrypt(&pt).unwrap();
        let mut mac: [u8; MAC_LEN] = message.mac.clone().try_into().unwrap();
        let mut eph = message.ephemeral_key.to_bytes();
        if i % 2 == 0 {
            mac[i % MAC_LEN] ^= 1 << (i % 8);
        } else {
            eph[i % 32] ^= 1 << (i % 7);
        }
        let tampered = Message {
            ciphertext: message.ciphertext.clone(),
            mac: mac.to_vec(),
            ephemeral_key: vodozemac::Curve25519PublicKey::from_bytes(eph),
        };
        assert!(theirs.decrypt(&tampered).is_err());
        let mut out = vec![0xA5u8; message.ciphertext.len()];
        let r = ours.decrypt_into(
            &Curve25519PublicKey::from_bytes(eph),
            &mac,
            &message.ciphertext,
            &mut out,
        );
        assert!(
            matches!(
                r,
                Err(BackupError::Authentication | BackupError::InvalidKey)
            ),
            "{r:?}"
        );
        assert!(out.iter().all(|&b| b == 0xA5));
        refused += 1;
    }
    assert_eq!(refused, 40);

    // A changed first block: both decrypt it, to the same garbage.
    let message = encryption.encrypt(&pt).unwrap();
    let mut ct = message.ciphertext.clone();
    ct[5] ^= 0x80;
    let changed = Message {
        ciphertext: ct.clone(),
        mac: message.mac.clone(),
        ephemeral_key: message.ephemeral_key,
    };
    let theirs_out = theirs.decrypt(&changed).unwrap();
    let mut out = vec![0u8; ct.len()];
    let n = ours
        .decrypt_into(
            &Curve25519PublicKey::from_bytes(message.ephemeral_key.to_bytes()),
            &message.mac.clone().try_into().unwrap(),
            &ct,
            &mut out,
        )
        .unwrap();
    assert_eq!(&out[..n], &theirs_out[..]);
    assert_ne!(theirs_out, pt);
}

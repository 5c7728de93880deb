//! Recovery keys, passphrases and secret storage, by behaviour: every error a caller can meet is
//! reachable and distinct; a failure writes nothing and changes nothing; the JSON shapes are the ones
//! the specification and the peers use (unpadded base64 out, padded accepted in, IV bit 63 clear);
//! and property tests for the recovery-key text (round trip, whitespace-insensitivity) and for
//! secrets (round trip, any change to the ciphertext or MAC refused).
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::BackupError;
use safemeet::backup::passphrase::{PassphraseInfo, derive_key};
use safemeet::backup::recovery_key::{ENCODED_LEN, RecoveryKey};
use safemeet::backup::secret_storage::{
    CROSS_SIGNING_MASTER, DEFAULT_KEY_EVENT_TYPE, KEY_ID_LEN, MEGOLM_BACKUP_V1,
    SECRET_STORAGE_MAX_SECRET_LEN, SecretStorageKey, decrypt_secret_into, encrypt_secret_into,
    key_description_event_type,
};
use safemeet::codec::base64;
use safemeet::codec::json::{self, Value};
use safemeet::identity::CrossSigningSecrets;
use safemeet::limits::PASSPHRASE_MAX_ITERATIONS;

fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

fn parse(text: &str) -> Value {
    json::parse(text.as_bytes()).unwrap()
}

/// A content with one entry for `id`.
fn content(id: &str, iv: &str, ciphertext: &str, mac: &str) -> Value {
    parse(&format!(
        r#"{{"encrypted":{{"{id}":{{"iv":"{iv}","ciphertext":"{ciphertext}","mac":"{mac}"}}}}}}"#
    ))
}

fn entry<'a>(content: &'a Value, id: &str, field: &str) -> &'a str {
    content
        .get("encrypted")
        .and_then(|e| e.get(id))
        .and_then(|e| e.get(field))
        .and_then(Value::as_str)
        .unwrap()
}

#[test]
fn every_error_is_reachable_and_buffers_stay_untouched() {
    let mut rng = rng(51);
    let key = RecoveryKey::generate(&mut rng);

    // Recovery-key text: each check has its own error.
    let good = key.to_base58();
    let mut parity = good.to_string();
    let last = parity.pop().unwrap();
    parity.push(if last == 'a' { 'b' } else { 'a' });
    let mut out = [0xEE; ENCODED_LEN - 1];
    for (text, error) in [
        (format!("{}0", good.as_str()), BackupError::InvalidBase58),
        (good[..20].to_owned(), BackupError::InvalidLength),
        ("1".repeat(35), BackupError::InvalidPrefix),
        (parity, BackupError::InvalidParity),
    ] {
        assert_eq!(RecoveryKey::decode(&text).err(), Some(error), "{text}");
    }
    assert_eq!(
        key.encode_into(&mut out),
        Err(BackupError::BufferTooSmall {
            needed: ENCODED_LEN
        })
    );
    assert!(out.iter().all(|&b| b == 0xEE));

    // Passphrases.
    assert_eq!(
        derive_key(b"p", b"s", 0).err(),
        Some(BackupError::InvalidParameter)
    );
    assert_eq!(
        derive_key(b"p", b"s", PASSPHRASE_MAX_ITERATIONS + 1).err(),
        Some(BackupError::InvalidParameter)
    );
    let mut info = PassphraseInfo::with_iterations(&mut rng, 2);
    info.bits = 128;
    assert_eq!(info.derive("p").err(), Some(BackupError::Unsupported));

    // Raw secrets.
    let mut ct = [0xEE; 8];
    assert_eq!(
        encrypt_secret_into(&key, "n", [0; 16], b"123456789", &mut ct),
        Err(BackupError::BufferTooSmall { needed: 9 })
    );
    assert_eq!(ct, [0xEE; 8]);
    let big = vec![b'x'; SECRET_STORAGE_MAX_SECRET_LEN + 1];
    let mut big_out = vec![0xEE; big.len()];
    assert_eq!(
        encrypt_secret_into(&key, "n", [0; 16], &big, &mut big_out),
        Err(BackupError::InvalidParameter)
    );
    assert_eq!(
        decrypt_secret_into(&key, "n", &[0; 16], &big, &[0; 32], &mut big_out),
        Err(BackupError::InvalidParameter)
    );
    assert!(big_out.iter().all(|&b| b == 0xEE));
    let exact = vec![b'x'; SECRET_STORAGE_MAX_SECRET_LEN];
    let mut exact_out = vec![0; exact.len()];
    let sealed = encrypt_secret_into(&key, "n", [0; 16], &exact, &mut exact_out).unwrap();
    let mut small = [0xEE; 16];
    assert_eq!(
        decrypt_secret_into(&key, "n", &sealed.iv, &exact_out, &sealed.mac, &mut small),
        Err(BackupError::BufferTooSmall {
            needed: SECRET_STORAGE_MAX_SECRET_LEN
        })
    );
    let mut bad_mac = sealed.mac;
    bad_mac[31] ^= 0x80;
    let mut plain = vec![0xEE; exact.len()];
    assert_eq!(
        decrypt_secret_into(&key, "n", &sealed.iv, &exact_out, &bad_mac, &mut plain),
        Err(BackupError::Authentication)
    );
    assert!(plain.iter().all(|&b| b == 0xEE), "a failed MAC check wrote");
    assert_eq!(
        decrypt_secret_into(&key, "n", &sealed.iv, &exact_out, &sealed.mac, &mut plain),
        Ok(exact.len())
    );
    assert_eq!(plain, exact);

    // Key descriptions and contents.
    let storage = SecretStorageKey::new(&mut rng, None);
    let description = storage.description_content();
    let id = storage.key_id().to_owned();
    let wrong = RecoveryKey::generate(&mut rng);
    assert_eq!(
        SecretStorageKey::from_key(&id, &description, wrong).err(),
        Some(BackupError::KeyCheckFailed)
    );
    assert_eq!(
        SecretStorageKey::from_passphrase(&id, &description, "anything").err(),
        Some(BackupError::NoPassphrase)
    );
    assert_eq!(
        SecretStorageKey::from_recovery_key(&id, &parse("[]"), &storage.recovery_key().to_base58())
            .err(),
        Some(BackupError::Malformed)
    );
    let secret = storage
        .encrypt_secret(&mut rng, MEGOLM_BACKUP_V1, "s3cret")
        .unwrap();
    let before = storage.description_content();
    let other_id = content(
        "someone-else",
        entry(&secret, &id, "iv"),
        entry(&secret, &id, "ciphertext"),
        entry(&secret, &id, "mac"),
    );
    assert_eq!(
        storage.decrypt_secret(MEGOLM_BACKUP_V1, &other_id).err(),
        Some(BackupError::NotEncryptedForKey)
    );
    assert_eq!(
        storage.decrypt_secret(CROSS_SIGNING_MASTER, &secret).err(),
        Some(BackupError::Authentication)
    );
    assert_eq!(storage.description_content(), before);
    assert_eq!(
        storage
            .decrypt_secret(MEGOLM_BACKUP_V1, &secret)
            .unwrap()
            .as_str(),
        "s3cret"
    );
    assert_eq!(
        storage
            .encrypt_secret(
                &mut rng,
                "n",
                &"x".repeat(SECRET_STORAGE_MAX_SECRET_LEN + 1)
            )
            .err(),
        Some(BackupError::InvalidParameter)
    );
}

#[test]
fn malformed_contents_are_refused_before_the_mac() {
    let mut rng = rng(52);
    let storage = SecretStorageKey::new(&mut rng, None);
    let id = storage.key_id().to_owned();
    let secret = storage.encrypt_secret(&mut rng, "n", "text").unwrap();
    let (iv, ct, mac) = (
        entry(&secret, &id, "iv"),
        entry(&secret, &id, "ciphertext"),
        entry(&secret, &id, "mac"),
    );
    let iv15 = base64::encode(&base64::decode(iv).unwrap()[..15]);
    let mac31 = base64::encode(&base64::decode(mac).unwrap()[..31]);
    let iv17 = base64::encode([0u8; 17]);
    let cases = [
        parse("{}"),
        parse(r#"{"encrypted":[]}"#),
        parse(&format!(
            r#"{{"encrypted":{{"{id}":{{"iv":"{iv}","mac":"{mac}"}}}}}}"#
        )),
        parse(&format!(
            r#"{{"encrypted":{{"{id}":{{"iv":"{iv}","ciphertext":"{ct}"}}}}}}"#
        )),
        parse(&format!(
            r#"{{"encrypted":{{"{id}":{{"ciphertext":"{ct}","mac":"{mac}"}}}}}}"#
        )),
        parse(&format!(
            r#"{{"encrypted":{{"{id}":{{"iv":1,"ciphertext":"{ct}","mac":"{mac}"}}}}}}"#
        )),
        content(&id, &iv15, ct, mac),
        content(&id, &iv17, ct, mac),
        content(&id, iv, ct, &mac31),
        content(&id, iv, "not base64!", mac),
        content(&id, "AAAA AAAA", ct, mac),
    ];
    for case in &cases {
        assert_eq!(
            storage.decrypt_secret("n", case).err(),
            Some(BackupError::Malformed),
            "{}",
            case.to_canonical()
        );
    }
    // Bytes that are not UTF-8, properly encrypted, are malformed only after authentication.
    let mut raw = [0u8; 2];
    let sealed = encrypt_secret_into(
        storage.recovery_key(),
        "n",
        [1; 16],
        &[0xC3, 0x28],
        &mut raw,
    )
    .unwrap();
    let not_utf8 = content(
        &id,
        &base64::encode(sealed.iv),
        &base64::encode(raw),
        &base64::encode(sealed.mac),
    );
    assert_eq!(
        storage.decrypt_secret("n", &not_utf8).err(),
        Some(BackupError::Malformed)
    );
}

#[test]
fn json_shapes_match_the_specification() {
    let mut rng = rng(53);
    let storage = SecretStorageKey::new(&mut rng, None);
    let id = storage.key_id();
    assert_eq!(id.len(), KEY_ID_LEN);
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(
        storage.description_event_type(),
        format!("m.secret_storage.key.{id}")
    );
    assert_eq!(
        key_description_event_type(id),
        storage.description_event_type()
    );
    assert_eq!(DEFAULT_KEY_EVENT_TYPE, "m.secret_storage.default_key");
    assert_eq!(
        storage.default_key_content().to_canonical(),
        format!(r#"{{"key":"{id}"}}"#)
    );
    let description = storage.description_content();
    let object = description.as_object().unwrap();
    assert_eq!(
        object.keys().map(String::as_str).collect::<Vec<_>>(),
        ["algorithm", "iv", "mac"]
    );
    assert_eq!(
        object["algorithm"].as_str(),
        Some("m.secret_storage.v1.aes-hmac-sha2")
    );
    for field in ["iv", "mac"] {
        assert!(!object[field].as_str().unwrap().contains('='));
    }

    // Contents: unpadded, IV bit 63 always clear; padded input is accepted.
    for i in 0..64 {
        let text = "x".repeat(i);
        let c = storage.encrypt_secret(&mut rng, "name", &text).unwrap();
        let encrypted = c.get("encrypted").and_then(Value::as_object).unwrap();
        assert_eq!(encrypted.len(), 1);
        let iv = entry(&c, id, "iv");
        assert_eq!(iv.len(), 22);
        assert_eq!(base64::decode(iv).unwrap()[8] & 0x80, 0);
        assert_eq!(entry(&c, id, "mac").len(), 43);
        let padded = content(
            id,
            &format!("{iv}=="),
            &pad(entry(&c, id, "ciphertext")),
            &format!("{}=", entry(&c, id, "mac")),
        );
        assert_eq!(
            storage.decrypt_secret("name", &padded).unwrap().as_str(),
            text
        );
    }

    // With a passphrase: the description says how, and both the passphrase and the recovery key open
    // it.
    let info = PassphraseInfo::with_iterations(&mut rng, 3);
    let with = SecretStorageKey::with_passphrase(&mut rng, "open sesame", info.clone()).unwrap();
    let description = with.description_content();
    assert_eq!(
        PassphraseInfo::from_json(description.get("passphrase").unwrap()).unwrap(),
        info
    );
    let by_phrase =
        SecretStorageKey::from_passphrase(with.key_id(), &description, "open sesame").unwrap();
    let by_key = SecretStorageKey::from_recovery_key(
        with.key_id(),
        &description,
        &with.recovery_key().to_base58(),
    )
    .unwrap();
    assert_eq!(by_phrase.recovery_key(), with.recovery_key());
    assert_eq!(by_key.recovery_key(), with.recovery_key());
    assert_eq!(
        SecretStorageKey::from_passphrase(with.key_id(), &description, "open sesame!").err(),
        Some(BackupError::KeyCheckFailed)
    );

    // What a person types: either works; a wrong one of either kind fails the key check.
    let typed_key = with.recovery_key().to_base58();
    for input in ["open sesame", typed_key.as_str()] {
        let opened = SecretStorageKey::from_user_input(with.key_id(), &description, input).unwrap();
        assert_eq!(opened.recovery_key(), with.recovery_key());
    }
    let stranger = RecoveryKey::generate(&mut rng).to_base58();
    for input in ["open sesame!", stranger.as_str()] {
        assert_eq!(
            SecretStorageKey::from_user_input(with.key_id(), &description, input).err(),
            Some(BackupError::KeyCheckFailed)
        );
    }
    // Without a passphrase, text that is not a recovery key gets the decoding error.
    let plain = SecretStorageKey::new(&mut rng, None);
    assert_eq!(
        SecretStorageKey::from_user_input(
            plain.key_id(),
            &plain.description_content(),
            "open sesame"
        )
        .err(),
        Some(BackupError::InvalidLength)
    );
    assert_eq!(
        SecretStorageKey::from_user_input(plain.key_id(), &plain.description_content(), "0pen")
            .err(),
        Some(BackupError::InvalidBase58)
    );
    assert_eq!(RecoveryKey::ENCODED_LEN, ENCODED_LEN);
    assert_eq!(RecoveryKey::LEN, 32);
}

fn pad(s: &str) -> String {
    let mut s = s.to_owned();
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

#[test]
fn descriptions_without_a_check_accept_any_key() {
    let mut rng = rng(54);
    for text in [
        r#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2"}"#,
        r#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2","iv":"AAAAAAAAAAAAAAAAAAAAAA"}"#,
        r#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2","mac":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
        r#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2","passphrase":{"algorithm":"m.pbkdf2","salt":"salty goodness","iterations":100}}"#,
    ] {
        let description = parse(text);
        let key = RecoveryKey::generate(&mut rng);
        assert!(
            SecretStorageKey::from_key("id", &description, key).is_ok(),
            "{text}"
        );
    }
    // rust-sdk's case: a passphrase description without iv/mac accepts any passphrase.
    let description = parse(
        r#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2","passphrase":{"algorithm":"m.pbkdf2","salt":"salty goodness","iterations":100}}"#,
    );
    assert!(
        SecretStorageKey::from_passphrase("id", &description, "It's a secret to nobody").is_ok()
    );
    // An absurd iteration count is refused, not computed.
    let description = parse(
        r#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2","passphrase":{"algorithm":"m.pbkdf2","salt":"s","iterations":4000000000}}"#,
    );
    assert_eq!(
        SecretStorageKey::from_passphrase("id", &description, "p").err(),
        Some(BackupError::InvalidParameter)
    );
}

#[test]
fn cross_signing_keys_round_trip() {
    let mut rng = rng(55);
    let storage = SecretStorageKey::new(&mut rng, None);
    let secrets = CrossSigningSecrets::generate(&mut rng);
    let events = storage.store_cross_signing(&mut rng, &secrets).unwrap();
    let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "m.cross_signing.master",
            "m.cross_signing.self_signing",
            "m.cross_signing.user_signing"
        ]
    );
    let get = |name: &str| events.iter().find(|(n, _)| *n == name).map(|(_, c)| c);
    let loaded = storage.load_cross_signing(get).unwrap();
    assert_eq!(loaded.master_public(), secrets.master_public());
    assert_eq!(loaded.self_signing_public(), secrets.self_signing_public());
    assert_eq!(loaded.user_signing_public(), secrets.user_signing_public());

    // Only some keys held: only those are stored, and only those load.
    let partial = CrossSigningSecrets::from_seeds(None, Some(&[7; 32]), None);
    let events = storage.store_cross_signing(&mut rng, &partial).unwrap();
    assert_eq!(events.len(), 1);
    let get = |name: &str| events.iter().find(|(n, _)| *n == name).map(|(_, c)| c);
    let loaded = storage.load_cross_signing(get).unwrap();
    assert!(loaded.master_public().is_none());
    assert_eq!(loaded.self_signing_public(), partial.self_signing_public());

    // A secret that is not a 32-byte seed is malformed.
    let bad = storage
        .encrypt_secret(&mut rng, CROSS_SIGNING_MASTER, "not a seed")
        .unwrap();
    assert_eq!(
        storage
            .load_cross_signing(|n| (n == CROSS_SIGNING_MASTER).then_some(&bad))
            .err(),
        Some(BackupError::Malformed)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn recovery_key_text_round_trips_whatever_the_whitespace(
        bytes in any::<[u8; 32]>(),
        gaps in proptest::collection::vec((0usize..60, prop::sample::select(vec![" ", "\n", "\t", "  ", "\u{a0}", "\r\n"])), 0..12),
    ) {
        let key = RecoveryKey::from_bytes(&bytes);
        let text = key.to_base58();
        prop_assert_eq!(text.len(), ENCODED_LEN);
        let mut spaced: String = text.replace(' ', "");
        for (at, gap) in gaps {
            let mut at = at.min(spaced.len());
            while !spaced.is_char_boundary(at) {
                at -= 1;
            }
            spaced.insert_str(at, gap);
        }
        prop_assert_eq!(RecoveryKey::decode(&spaced).unwrap(), key);
    }

    #[test]
    fn secrets_round_trip_and_any_change_is_refused(
        key in any::<[u8; 32]>(),
        iv in any::<[u8; 16]>(),
        name in ".{0,20}",
        secret in proptest::collection::vec(any::<u8>(), 0..200),
            flip in any::<usize>(),
    ) {
        let key = RecoveryKey::from_bytes(&key);
        let mut ct = vec![0u8; secret.len()];
        let sealed = encrypt_secret_into(&key, &name, iv, &secret, &mut ct).unwrap();
        prop_assert_eq!(sealed.iv[8] & 0x80, 0);
        let mut out = vec![0u8; secret.len()];
        prop_assert_eq!(decrypt_secret_into(&key, &name, &sealed.iv, &ct, &sealed.mac, &mut out), Ok(secret.len()));
        prop_assert_eq!(&out, &secret);
        // One bit changed anywhere in ciphertext ‖ MAC.
        let mut blob = ct.clone();
        blob.extend_from_slice(&sealed.mac);
        let bit = flip % (blob.len() * 8);
        blob[bit / 8] ^= 1 << (bit % 8);
        let (ct2, mac2) = blob.split_at(ct.len());
        let mac2: [u8; 32] = mac2.try_into().unwrap();
        let mut out2 = vec![0xEEu8; secret.len()];
        prop_assert_eq!(decrypt_secret_into(&key, &name, &sealed.iv, ct2, &mac2, &mut out2), Err(BackupError::Authentication));
        prop_assert!(out2.iter().all(|&b| b == 0xEE));
    }
}

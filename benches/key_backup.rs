//! Server-side key backup, beside vodozemac's `PkEncryption` / `PkDecryption` (feature
//! `insecure-pk-encryption`, what matrix-rust-sdk backs up with) in the same run.
//!
//! Run with `cargo bench --bench key_backup`. The plaintext is matrix-rust-sdk's backed-up session of
//! P17 (`test-vectors/backup-key-backup.json`, 449 bytes of JSON, 464 bytes of ciphertext), a
//! realistic room key.
//!
//! - `backup-encrypt`: one entry, ephemeral key generation included (`encrypt_into` into a buffer;
//!   vodozemac returns `Vec`s). Our RNG is ChaCha20 seeded once; vodozemac draws from the OS.
//! - `backup-decrypt`: one entry (`decrypt_into`; vodozemac `decrypt` into a `Vec`).
//! - `backup-decrypt-json/safemeet`: a `KeyBackupData` as parsed JSON through
//!   `decrypt_key_backup_data` (base64 decoding included).
//! - `backup-public-key-from-base64/safemeet`: reading `auth_data.public_key`, with the small-order
//!   check (one X25519 multiplication).
//! - `auth-data-sign/safemeet`: a new backup's `auth_data`, signed by the device and the master key.
//! - `auth-data-trust/safemeet`: reading a `GET /room_keys/version` response and deciding trust
//!   through a cross-signed device's signature (one Ed25519 verification, one X25519 for the key).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::backup::key_backup::{
    BackupDecryptionKey, BackupInfo, BackupPublicKey, add_device_signature, add_master_signature,
    encrypt_len, unsigned_auth_data, version_request,
};
use safemeet::codec::json::{self, Value};
use safemeet::identity::{DeviceKeys, IdentityStore};
use safemeet::olm::Account;
use vodozemac::pk_encryption::{Message, PkDecryption, PkEncryption};

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("../test-vectors/backup-key-backup.json")).unwrap()
}

fn p17() -> (BackupDecryptionKey, Vec<u8>, serde_json::Value) {
    let v = vectors();
    let p = &v["p17_backup_decryption"];
    let key = BackupDecryptionKey::from_base64(p["private_key_base64"].as_str().unwrap()).unwrap();
    (
        key,
        p["plaintext"].as_str().unwrap().as_bytes().to_vec(),
        p["key_backup_data"].clone(),
    )
}

fn encrypt(c: &mut Criterion) {
    let (key, pt, _) = p17();
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let public = key.public_key();
    let theirs = PkEncryption::from_key(vodozemac::Curve25519PublicKey::from_bytes(
        *public.as_bytes(),
    ));
    let mut g = c.benchmark_group("backup-encrypt");
    g.bench_function("safemeet", |b| {
        let mut out = vec![0u8; encrypt_len(pt.len())];
        b.iter(|| {
            black_box(
                public
                    .encrypt_into(&mut rng, black_box(&pt), &mut out)
                    .unwrap(),
            )
        });
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| black_box(theirs.encrypt(black_box(&pt)).unwrap()));
    });
    g.finish();
}

fn decrypt(c: &mut Criterion) {
    let (key, pt, entry) = p17();
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let mut ct = vec![0u8; encrypt_len(pt.len())];
    let (n, header) = key
        .public_key()
        .encrypt_into(&mut rng, &pt, &mut ct)
        .unwrap();
    let theirs =
        PkDecryption::from_key(vodozemac::Curve25519SecretKey::from_slice(&key.to_bytes()));
    let message = Message {
        ciphertext: ct[..n].to_vec(),
        mac: header.mac.to_vec(),
        ephemeral_key: vodozemac::Curve25519PublicKey::from_bytes(*header.ephemeral.as_bytes()),
    };
    let mut g = c.benchmark_group("backup-decrypt");
    g.bench_function("safemeet", |b| {
        let mut out = vec![0u8; n];
        b.iter(|| {
            black_box(
                key.decrypt_into(
                    &header.ephemeral,
                    &header.mac,
                    black_box(&ct[..n]),
                    &mut out,
                )
                .unwrap(),
            )
        });
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| black_box(theirs.decrypt(black_box(&message)).unwrap()));
    });
    g.finish();

    let entry = json::parse(entry.to_string().as_bytes()).unwrap();
    let mut g = c.benchmark_group("backup-decrypt-json");
    g.bench_function("safemeet", |b| {
        b.iter(|| black_box(key.decrypt_key_backup_data(black_box(&entry)).unwrap()));
    });
    g.finish();

    let text = key.public_key().to_base64();
    let mut g = c.benchmark_group("backup-public-key-from-base64");
    g.bench_function("safemeet", |b| {
        b.iter(|| black_box(BackupPublicKey::from_base64(black_box(&text)).unwrap()));
    });
    g.finish();
}

const ALICE: &str = "@alice:example.org";

fn auth_data(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let phone = Account::<4>::new(&mut rng);
    let laptop = Account::<4>::new(&mut rng);
    let mut store = IdentityStore::new(ALICE, "PHONE").unwrap();
    let (secrets, _) = store.reset_identity(&mut rng, &phone).unwrap();
    let mut laptop_keys = DeviceKeys::from_account(ALICE, "LAPTOP", &laptop).unwrap();
    secrets.sign_device(&mut laptop_keys).unwrap();
    store.add_own_device(laptop_keys).unwrap();
    let key = BackupDecryptionKey::generate(&mut rng);

    let mut g = c.benchmark_group("auth-data-sign");
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            let mut a = unsigned_auth_data(&key.public_key());
            add_device_signature(&mut a, ALICE, "PHONE", &phone).unwrap();
            add_master_signature(&mut a, ALICE, &secrets).unwrap();
            black_box(version_request(a).to_canonical())
        });
    });
    g.finish();

    let mut a = unsigned_auth_data(&key.public_key());
    add_device_signature(&mut a, ALICE, "LAPTOP", &laptop).unwrap();
    let Value::Object(mut response) = version_request(a) else {
        unreachable!()
    };
    response.insert("version".into(), "1".into());
    response.insert("count".into(), Value::Integer(100));
    response.insert("etag".into(), "e".into());
    let text = Value::Object(response).to_canonical();
    let mut g = c.benchmark_group("auth-data-trust");
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            let value = json::parse(black_box(text.as_bytes())).unwrap();
            let info = BackupInfo::from_response(&value).unwrap();
            let trust = info.trust(&store, Some(&phone.ed25519_key()), None);
            assert!(trust.is_trusted());
            black_box(trust)
        });
    });
    g.finish();
}

criterion_group!(benches, encrypt, decrypt, auth_data);
criterion_main!(benches);

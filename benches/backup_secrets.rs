//! Recovery keys, passphrases and secret storage.
//!
//! Run with `cargo bench --bench backup_secrets`. No Rust peer implements these (vodozemac stops at
//! the PK encryption of key backups), so the same operations are timed in matrix-js-sdk 43 by
//! `interop/node/bench_passphrase.js` (`cd interop/node && node bench_passphrase.js`), for comparison
//! by hand.
//!
//! * `pbkdf2-500000/safemeet`: `passphrase::derive_key` at the clients' 500 000 iterations (one
//!   security-phrase unlock).
//! * `recovery-key-encode`, `recovery-key-decode`: the displayed form, in and out.
//! * `ssss-encrypt-raw`, `ssss-decrypt-raw`: a 43-character secret (a base64 key) through the no-alloc
//!   core (HKDF, AES-CTR, HMAC); `ssss-encrypt-json`, `ssss-decrypt-json` the same through the
//!   account-data content (base64 and JSON included).
//! * `key-check`: verifying a key description's `iv`/`mac`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;
use core::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::backup::passphrase::{DEFAULT_ITERATIONS, derive_key};
use safemeet::backup::recovery_key::{ENCODED_LEN, RecoveryKey};
use safemeet::backup::secret_storage::{
    MEGOLM_BACKUP_V1, SecretStorageKey, compute_key_check, decrypt_secret_into,
    encrypt_secret_into, verify_key_check,
};

const SECRET: &[u8; 43] = b"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo";

fn pbkdf2(c: &mut Criterion) {
    let mut g = c.benchmark_group("pbkdf2-500000");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            derive_key(
                black_box(b"correct horse battery staple"),
                black_box(b"IuLnH7S85YtZmkkBJKwNUKxWF42g9O1H"),
                DEFAULT_ITERATIONS,
            )
            .unwrap()
        });
    });
    g.finish();
}

fn recovery_key(c: &mut Criterion) {
    let key = RecoveryKey::from_bytes(&[0x5A; 32]);
    let text = key.to_base58();
    c.bench_function("recovery-key-encode/safemeet", |b| {
        b.iter(|| {
            let mut out = [0u8; ENCODED_LEN];
            black_box(&key).encode_into(&mut out).unwrap();
            out
        });
    });
    c.bench_function("recovery-key-decode/safemeet", |b| {
        b.iter(|| RecoveryKey::decode(black_box(text.as_str())).unwrap());
    });
}

fn secrets(c: &mut Criterion) {
    let key = RecoveryKey::from_bytes(&[0x11; 32]);
    let mut ct = [0u8; 43];
    let sealed = encrypt_secret_into(&key, MEGOLM_BACKUP_V1, [7; 16], SECRET, &mut ct).unwrap();
    c.bench_function("ssss-encrypt-raw/safemeet", |b| {
        b.iter(|| {
            let mut out = [0u8; 43];
            encrypt_secret_into(&key, MEGOLM_BACKUP_V1, [7; 16], black_box(SECRET), &mut out)
                .unwrap()
        });
    });
    c.bench_function("ssss-decrypt-raw/safemeet", |b| {
        b.iter(|| {
            let mut out = [0u8; 43];
            decrypt_secret_into(
                &key,
                MEGOLM_BACKUP_V1,
                &sealed.iv,
                black_box(&ct),
                &sealed.mac,
                &mut out,
            )
            .unwrap()
        });
    });

    let mut rng = ChaCha20Rng::from_seed([61; 32]);
    let storage = SecretStorageKey::new(&mut rng, None);
    let text = core::str::from_utf8(SECRET).unwrap();
    let content = storage
        .encrypt_secret(&mut rng, MEGOLM_BACKUP_V1, text)
        .unwrap();
    c.bench_function("ssss-encrypt-json/safemeet", |b| {
        b.iter(|| {
            storage
                .encrypt_secret(&mut rng, MEGOLM_BACKUP_V1, black_box(text))
                .unwrap()
        });
    });
    c.bench_function("ssss-decrypt-json/safemeet", |b| {
        b.iter(|| {
            storage
                .decrypt_secret(MEGOLM_BACKUP_V1, black_box(&content))
                .unwrap()
        });
    });

    let (iv, mac) = compute_key_check(&key, [9; 16]).unwrap();
    c.bench_function("key-check/safemeet", |b| {
        b.iter(|| verify_key_check(black_box(&key), &iv, &mac).unwrap());
    });
}

criterion_group!(benches, pbkdf2, recovery_key, secrets);
criterion_main!(benches);

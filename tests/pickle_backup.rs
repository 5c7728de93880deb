//! Stability of the backup layer's pickle (kind 0x0F `KeyStorage`).
//!
//! The fixture `tests/fixtures/key-storage-v1.pickle` was written by `write_fixtures` below with a
//! seeded RNG. To regenerate it (only ever for a *new* state version, keeping the old files), run
//! `SAFEMEET_WRITE_FIXTURES=1 cargo test --test pickle_backup`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![cfg(feature = "std")]

mod common;

use common::{hex, to_hex};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::backup::policy::{KeyStorage, KeyStorageMode};
use safemeet::identity::IdentityStore;
use safemeet::olm::Account;
use safemeet::{Error, PickleError};

const KEY: [u8; 32] = [0x5a; 32];
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

#[derive(serde::Serialize, serde::Deserialize)]
struct Expected {
    description: String,
    pickle_key: String,
    mode: String,
    backup_public_key: String,
    version: String,
    secret_storage_key_id: String,
}

/// Alice's phone with key storage on, with recovery, and backup version "7".
fn world() -> (KeyStorage, Expected, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::from_seed(*b"safemeet key-storage pickle v1!!");
    let phone = Account::<4>::new(&mut rng);
    let mut store = IdentityStore::new("@alice:example.org", "PHONE").unwrap();
    let (secrets, _) = store.reset_identity(&mut rng, &phone).unwrap();
    let (mut storage, _) = KeyStorage::turn_on(
        &mut rng,
        KeyStorageMode::WithRecovery,
        &phone,
        "@alice:example.org",
        "PHONE",
        &secrets,
        None,
    )
    .unwrap();
    storage.backup_created("7").unwrap();
    let expected = Expected {
        description: "safemeet key-storage pickle, state version 1; written by \
                      tests/pickle_backup.rs write_fixtures with a seeded RNG"
            .into(),
        pickle_key: to_hex(&KEY),
        mode: format!("{:?}", storage.mode()),
        backup_public_key: to_hex(storage.backup_key().unwrap().public_key().as_bytes()),
        version: "7".into(),
        secret_storage_key_id: storage.secret_storage_key_id().unwrap().into(),
    };
    (storage, expected, rng)
}

fn write_fixtures() {
    let (storage, expected, mut rng) = world();
    std::fs::write(
        format!("{FIXTURES}/key-storage-v1.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
    std::fs::write(
        format!("{FIXTURES}/key-storage-v1.pickle"),
        storage.pickle(&mut rng, &KEY),
    )
    .unwrap();
}

#[test]
fn version_1_fixture_still_loads() {
    if std::env::var_os("SAFEMEET_WRITE_FIXTURES").is_some() {
        write_fixtures();
    }
    let expected: Expected = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/key-storage-v1.json")).unwrap(),
    )
    .unwrap();
    let key: [u8; 32] = hex(&expected.pickle_key).try_into().unwrap();
    let pickle = std::fs::read(format!("{FIXTURES}/key-storage-v1.pickle")).unwrap();
    let storage = KeyStorage::from_pickle_bytes(&key, &pickle).unwrap();
    assert_eq!(format!("{:?}", storage.mode()), expected.mode);
    assert_eq!(
        to_hex(storage.backup_key().unwrap().public_key().as_bytes()),
        expected.backup_public_key
    );
    assert_eq!(storage.version(), Some(expected.version.as_str()));
    assert_eq!(
        storage.secret_storage_key_id(),
        Some(expected.secret_storage_key_id.as_str())
    );
}

#[test]
fn every_mode_round_trips_and_damage_is_refused() {
    let (with_recovery, _, mut rng) = world();
    let phone = Account::<4>::new(&mut rng);
    let mut store = IdentityStore::new("@alice:example.org", "PHONE").unwrap();
    let (secrets, _) = store.reset_identity(&mut rng, &phone).unwrap();
    let (without, _) = KeyStorage::turn_on(
        &mut rng,
        KeyStorageMode::WithoutRecovery,
        &phone,
        "@alice:example.org",
        "PHONE",
        &secrets,
        None,
    )
    .unwrap();
    for storage in [with_recovery, without, KeyStorage::off()] {
        let pickle = storage.pickle(&mut rng, &KEY);
        let loaded = KeyStorage::from_pickle_bytes(&KEY, &pickle).unwrap();
        assert_eq!(loaded.mode(), storage.mode());
        assert_eq!(
            loaded.backup_key().map(|k| k.public_key()),
            storage.backup_key().map(|k| k.public_key())
        );
        assert_eq!(loaded.version(), storage.version());
        assert_eq!(
            loaded.secret_storage_key_id(),
            storage.secret_storage_key_id()
        );
        // Every single-byte change, and the wrong key, is one opaque error.
        for i in 0..pickle.len() {
            let mut bad = pickle.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                KeyStorage::from_pickle_bytes(&KEY, &bad).unwrap_err(),
                Error::Pickle(PickleError::Invalid)
            );
        }
        assert!(KeyStorage::from_pickle_bytes(&[0; 32], &pickle).is_err());
        let mut small = vec![0u8; storage.pickle_len() - 1];
        assert_eq!(
            storage.pickle_into(&mut rng, &KEY, &mut small),
            Err(Error::Pickle(PickleError::BufferTooSmall {
                needed: storage.pickle_len()
            }))
        );
    }
}

#[test]
fn the_pickle_does_not_show_the_backup_key() {
    let (storage, _, mut rng) = world();
    let secret = storage.backup_key().unwrap().to_bytes();
    let pickle = storage.pickle(&mut rng, &KEY);
    assert!(!pickle.windows(32).any(|w| w == secret.as_ref()));
    let debug = format!("{storage:?}");
    assert!(!debug.contains(&to_hex(secret.as_ref())));
    assert!(!debug.contains(storage.share_backup_key().unwrap().as_str()));
}

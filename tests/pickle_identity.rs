//! Stability of the identity pickles (kinds 0x0C `IdentityStore`, 0x0D `CrossSigningSecrets`).
//!
//! The fixtures in `tests/fixtures/identity-*` were written by `write_fixtures` below with a seeded RNG.
//! To regenerate them (only ever for a *new* state version, keeping the old files), run
//! `SAFEMEET_WRITE_FIXTURES=1 cargo test --test pickle_identity`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![cfg(feature = "alloc")]

mod common;
mod identity_common;

use common::{hex, to_hex};
use identity_common::{keys_query, sas_proof};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::identity::{
    CrossSigningSecrets, DeviceKeys, DeviceTrust, IdentityStatus, IdentityStore,
};
use safemeet::olm::Account;
use safemeet::{Error, PickleError};

const KEY: [u8; 32] = [0x3c; 32];
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

#[derive(serde::Serialize, serde::Deserialize)]
struct Expected {
    description: String,
    pickle_key: String,
    own_user: String,
    own_device: String,
    own_master: String,
    alice_pinned_master: String,
    alice_locally_verified_device: String,
    alice_locally_verified_key: String,
    secrets_master: String,
    secrets_self_signing: String,
    secrets_user_signing: String,
}

/// Bob's store after verifying Alice (a pin, a verified flag), with one of Alice's devices verified
/// locally, and Bob's own trusted master key; Bob's cross-signing secrets.
fn world() -> (IdentityStore, CrossSigningSecrets, Expected, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::from_seed(*b"safemeet identity pickle v1 fixt");
    let alice_phone = Account::<4>::new(&mut rng);
    let mut alice = IdentityStore::new("@alice:example.org", "PHONE").unwrap();
    let (_alice_secrets, _) = alice.reset_identity(&mut rng, &alice_phone).unwrap();
    let bob_phone = Account::<4>::new(&mut rng);
    let mut bob = IdentityStore::new("@bob:example.org", "BOBPHONE").unwrap();
    let (bob_secrets, _) = bob.reset_identity(&mut rng, &bob_phone).unwrap();
    let alice_identity = alice.own_identity().unwrap().clone();
    let phone_keys = DeviceKeys::from_account("@alice:example.org", "PHONE", &alice_phone).unwrap();
    bob.receive_keys_query(&keys_query(Some(&alice_identity), false, &[&phone_keys]))
        .unwrap();
    let master = alice_identity.master_key().public_key();
    let proof = sas_proof(
        &mut rng,
        "@alice:example.org",
        "PHONE",
        Some(phone_keys.ed25519_key()),
        Some(master),
    );
    bob.verify_user(&bob_secrets, "@alice:example.org", &proof)
        .unwrap();
    bob.verify_device_locally("@alice:example.org", "PHONE", &proof)
        .unwrap();
    let expected = Expected {
        description: "safemeet identity pickles, state version 1; written by \
                      tests/pickle_identity.rs write_fixtures with a seeded RNG"
            .into(),
        pickle_key: to_hex(&KEY),
        own_user: "@bob:example.org".into(),
        own_device: "BOBPHONE".into(),
        own_master: to_hex(
            bob.own_identity()
                .unwrap()
                .master_key()
                .public_key()
                .as_bytes(),
        ),
        alice_pinned_master: to_hex(master.as_bytes()),
        alice_locally_verified_device: "PHONE".into(),
        alice_locally_verified_key: to_hex(phone_keys.ed25519_key().as_bytes()),
        secrets_master: to_hex(bob_secrets.master_public().unwrap().as_bytes()),
        secrets_self_signing: to_hex(bob_secrets.self_signing_public().unwrap().as_bytes()),
        secrets_user_signing: to_hex(bob_secrets.user_signing_public().unwrap().as_bytes()),
    };
    (bob, bob_secrets, expected, rng)
}

fn write_fixtures() {
    let (bob, secrets, expected, mut rng) = world();
    std::fs::write(
        format!("{FIXTURES}/identity-v1.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
    std::fs::write(
        format!("{FIXTURES}/identity-store-v1.pickle"),
        bob.pickle(&mut rng, &KEY),
    )
    .unwrap();
    std::fs::write(
        format!("{FIXTURES}/identity-secrets-v1.pickle"),
        secrets.pickle(&mut rng, &KEY),
    )
    .unwrap();
}

#[test]
fn version_1_fixtures_still_load() {
    if std::env::var_os("SAFEMEET_WRITE_FIXTURES").is_some() {
        write_fixtures();
    }
    let expected: Expected = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}/identity-v1.json")).unwrap(),
    )
    .unwrap();
    let key: [u8; 32] = hex(&expected.pickle_key).try_into().unwrap();
    let read = |name: &str| std::fs::read(format!("{FIXTURES}/{name}")).unwrap();
    let store = IdentityStore::from_pickle_bytes(&key, &read("identity-store-v1.pickle")).unwrap();
    assert_eq!(store.own_user_id(), expected.own_user);
    assert_eq!(store.own_device_id(), expected.own_device);
    assert_eq!(
        to_hex(
            store
                .pinned_master_key("@alice:example.org")
                .unwrap()
                .as_bytes()
        ),
        expected.alice_pinned_master
    );
    let secrets =
        CrossSigningSecrets::from_pickle_bytes(&key, &read("identity-secrets-v1.pickle")).unwrap();
    assert_eq!(
        to_hex(secrets.master_public().unwrap().as_bytes()),
        expected.secrets_master
    );
    assert_eq!(
        to_hex(secrets.self_signing_public().unwrap().as_bytes()),
        expected.secrets_self_signing
    );
    assert_eq!(
        to_hex(secrets.user_signing_public().unwrap().as_bytes()),
        expected.secrets_user_signing
    );
    assert_eq!(
        secrets.master_public().map(|k| to_hex(k.as_bytes())),
        Some(expected.own_master)
    );
    // The loaded store has no identities yet (those come from the server) but remembers Alice was
    // verified: a different master key for her now is a verification violation.
    assert_eq!(
        store.user_status("@alice:example.org"),
        IdentityStatus::Unknown
    );
}

#[test]
fn loaded_store_keeps_trust_state() {
    let (bob, secrets, expected, mut rng) = world();
    let pickle = bob.pickle(&mut rng, &KEY);
    let mut loaded = IdentityStore::from_pickle_bytes(&KEY, &pickle).unwrap();
    // Give it the same server view again: everything is as before the pickle.
    let own = bob.own_identity().unwrap();
    let alice = bob.identity("@alice:example.org").unwrap();
    let phone = bob.device("@alice:example.org", "PHONE").unwrap();
    let events = loaded
        .receive_keys_query(&identity_common::merge(&[
            keys_query(Some(own), true, &[]),
            keys_query(Some(alice), false, &[phone]),
        ]))
        .unwrap();
    assert!(events.is_empty(), "{events:?}");
    assert!(loaded.is_own_identity_trusted());
    assert_eq!(
        loaded.user_status("@alice:example.org"),
        IdentityStatus::Verified
    );
    assert_eq!(
        loaded.device_trust(
            "@alice:example.org",
            &expected.alice_locally_verified_device
        ),
        DeviceTrust::LocallyVerified
    );
    // Buffer too small.
    let mut small = vec![0u8; bob.pickle_len() - 1];
    assert_eq!(
        bob.pickle_into(&mut rng, &KEY, &mut small),
        Err(Error::Pickle(PickleError::BufferTooSmall {
            needed: bob.pickle_len()
        }))
    );
    let _ = secrets;
}

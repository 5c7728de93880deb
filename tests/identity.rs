//! The identity layer's behaviour: trust rules T0 to T4, pinning rules P1 to P5, verifying a new own
//! device, key-storage health, identity reset, pickles, and regression tests for the attacks of
//! Albrecht et al. (IEEE S&P 2023) that touch this layer.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod identity_common;

use identity_common::{keys_query, merge, sas_proof};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::codec::base64;
use safemeet::codec::json::{Object, Value};
use safemeet::identity::{
    CrossSigningSecrets, DeviceKeys, DeviceTrust, IdentityError, IdentityEvent, IdentityStatus,
    IdentityStore, KeyHealth, UserIdentity, Verified, check_key_storage,
};
use safemeet::olm::Account;
use safemeet::primitives::curve25519::Curve25519SecretKey;

const ALICE: &str = "@alice:example.org";
const BOB: &str = "@bob:example.org";

struct User {
    secrets: CrossSigningSecrets,
    identity: UserIdentity,
    store: IdentityStore,
    devices: Vec<(Account<4>, Verified<DeviceKeys>)>,
}

/// A user with an identity created on their first device, and `extra` more devices, unsigned.
fn user(rng: &mut ChaCha20Rng, id: &str, names: &[&str]) -> User {
    let first = Account::<4>::new(rng);
    let mut store = IdentityStore::new(id, names[0]).unwrap();
    let (secrets, _) = store.reset_identity(rng, &first).unwrap();
    let identity = store.own_identity().unwrap().clone();
    let first_keys = store.device(id, names[0]).unwrap().clone();
    let mut devices = vec![(first, first_keys)];
    for name in &names[1..] {
        let account = Account::<4>::new(rng);
        let keys = DeviceKeys::from_account(id, name, &account).unwrap();
        devices.push((account, keys));
    }
    User {
        secrets,
        identity,
        store,
        devices,
    }
}

fn device_refs(u: &User) -> Vec<&Verified<DeviceKeys>> {
    u.devices.iter().map(|(_, d)| d).collect()
}

/// What the server returns for `u` to someone else (no user-signing key).
fn public_view(u: &User) -> Value {
    keys_query(Some(&u.identity), false, &device_refs(u))
}

/// Alice and Bob, each with an identity; Bob has seen Alice's keys and Alice Bob's.
fn alice_and_bob(rng: &mut ChaCha20Rng) -> (User, User) {
    let mut alice = user(rng, ALICE, &["PHONE", "LAPTOP"]);
    let mut bob = user(rng, BOB, &["BOBPHONE"]);
    let events = bob.store.receive_keys_query(&public_view(&alice)).unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Pinned {
            user_id: ALICE.into()
        }]
    );
    alice.store.receive_keys_query(&public_view(&bob)).unwrap();
    (alice, bob)
}

/// Bob verifies Alice with SAS (her master key MACed) and signs her master key.
fn bob_verifies_alice(rng: &mut ChaCha20Rng, alice: &User, bob: &mut User) -> Value {
    let master = bob.store.identity(ALICE).unwrap().master_key().public_key();
    let phone_key = alice.devices[0].1.ed25519_key();
    let proof = sas_proof(rng, ALICE, "PHONE", Some(phone_key), Some(master));
    bob.store.verify_user(&bob.secrets, ALICE, &proof).unwrap()
}

#[test]
fn t0_own_identity_needs_local_trust() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let alice = user(&mut rng, ALICE, &["PHONE", "LAPTOP"]);
    // The laptop sees the identity from the server: pinned, not trusted.
    let mut laptop = IdentityStore::new(ALICE, "LAPTOP").unwrap();
    laptop
        .receive_keys_query(&keys_query(
            Some(&alice.identity),
            true,
            &device_refs(&alice),
        ))
        .unwrap();
    assert!(!laptop.is_own_identity_trusted());
    assert_eq!(laptop.user_status(ALICE), IdentityStatus::Pinned);
    // A SAS with the phone that did not MAC the master key proves nothing about it.
    let phone_key = alice.devices[0].1.ed25519_key();
    let device_only = sas_proof(&mut rng, ALICE, "PHONE", Some(phone_key), None);
    assert_eq!(
        laptop.trust_own_identity(&device_only),
        Err(IdentityError::KeyMismatch)
    );
    // A SAS that MACed another master key neither.
    let other = CrossSigningSecrets::generate(&mut rng).master_public();
    let wrong = sas_proof(&mut rng, ALICE, "PHONE", Some(phone_key), other);
    assert_eq!(
        laptop.trust_own_identity(&wrong),
        Err(IdentityError::KeyMismatch)
    );
    assert!(!laptop.is_own_identity_trusted());
    let master = alice.identity.master_key().public_key();
    let proof = sas_proof(&mut rng, ALICE, "PHONE", Some(phone_key), Some(master));
    laptop.trust_own_identity(&proof).unwrap();
    assert!(laptop.is_own_identity_trusted());
    assert_eq!(laptop.user_status(ALICE), IdentityStatus::Verified);
}

#[test]
fn t1_own_devices_trusted_when_self_signed_item4_laptop_signed_from_phone() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut alice = user(&mut rng, ALICE, &["PHONE", "LAPTOP"]);
    alice
        .store
        .receive_keys_query(&keys_query(
            Some(&alice.identity),
            true,
            &device_refs(&alice),
        ))
        .unwrap();
    assert!(alice.store.is_own_identity_trusted());
    assert_eq!(
        alice.store.device_trust(ALICE, "PHONE"),
        DeviceTrust::CrossSigned
    );
    // The laptop is not signed yet (T1 fails; T4: it is stored, it has its own signature).
    assert_eq!(
        alice.store.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::Unverified
    );
    // A SAS between phone and laptop proves the laptop's key; a proof for another key is refused.
    let laptop_key = alice.devices[1].1.ed25519_key();
    let phone_key = alice.devices[0].1.ed25519_key();
    let wrong = sas_proof(&mut rng, ALICE, "LAPTOP", Some(phone_key), None);
    assert_eq!(
        alice
            .store
            .verify_own_device(&alice.secrets, "LAPTOP", Some(&wrong)),
        Err(IdentityError::KeyMismatch)
    );
    assert_eq!(
        alice
            .store
            .verify_own_device(&alice.secrets, "LAPTOP", None),
        Err(IdentityError::KeyMismatch),
        "another device needs a verification"
    );
    let proof = sas_proof(&mut rng, ALICE, "LAPTOP", Some(laptop_key), None);
    let upload = alice
        .store
        .verify_own_device(&alice.secrets, "LAPTOP", Some(&proof))
        .unwrap();
    assert_eq!(
        alice.store.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::CrossSigned
    );
    // The upload carries the laptop's keys with only the new signature, which verifies.
    let signed_laptop = upload.get(ALICE).and_then(|u| u.get("LAPTOP")).unwrap();
    let sigs = signed_laptop
        .get("signatures")
        .and_then(|s| s.get(ALICE))
        .unwrap();
    assert_eq!(sigs.as_object().unwrap().len(), 1);
    let ssk_id = alice.identity.self_signing_key().key_id();
    assert!(sigs.get(&ssk_id).is_some());
    safemeet::identity::signed::verify(
        signed_laptop.as_object().unwrap(),
        ALICE,
        &ssk_id,
        &alice.identity.self_signing_key().public_key(),
    )
    .unwrap();
    // Without the self-signing key nothing is signed.
    let none = CrossSigningSecrets::from_seeds(None, None, None);
    assert_eq!(
        alice.store.verify_own_device(&none, "LAPTOP", Some(&proof)),
        Err(IdentityError::MissingPrivateKey)
    );
}

#[test]
fn item4_new_device_signs_itself_with_keys_from_secret_storage() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let alice = user(&mut rng, ALICE, &["PHONE", "LAPTOP"]);
    let stored = alice.secrets.to_secret_storage();
    let restored = CrossSigningSecrets::from_secret_storage(
        stored[0].as_deref().map(String::as_str),
        stored[1].as_deref().map(String::as_str),
        stored[2].as_deref().map(String::as_str),
    )
    .unwrap();
    let mut laptop = IdentityStore::new(ALICE, "LAPTOP").unwrap();
    laptop
        .receive_keys_query(&keys_query(
            Some(&alice.identity),
            true,
            &device_refs(&alice),
        ))
        .unwrap();
    laptop.trust_own_identity_with_secrets(&restored).unwrap();
    assert_eq!(
        laptop.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::Unverified
    );
    laptop.verify_own_device(&restored, "LAPTOP", None).unwrap();
    assert_eq!(
        laptop.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::CrossSigned
    );
    // Someone else's keys are not ours.
    let mallory = CrossSigningSecrets::generate(&mut rng);
    assert_eq!(
        laptop.trust_own_identity_with_secrets(&mallory),
        Err(IdentityError::KeyMismatch)
    );
    assert_eq!(
        laptop.verify_own_device(&mallory, "LAPTOP", None),
        Err(IdentityError::KeyMismatch)
    );
}

#[test]
fn item4_qr_self_verification_cross_signs_the_new_device() {
    use safemeet::verification::qr::{QrMode, QrPayload, QrSecret, ScannerKeys};
    let mut rng = ChaCha20Rng::seed_from_u64(18);
    let mut alice = user(&mut rng, ALICE, &["PHONE", "LAPTOP"]);
    let view = keys_query(Some(&alice.identity), true, &device_refs(&alice));
    alice.store.receive_keys_query(&view).unwrap();
    let mut laptop = IdentityStore::new(ALICE, "LAPTOP").unwrap();
    laptop.receive_keys_query(&view).unwrap();
    let master = alice.identity.master_key().public_key();
    let laptop_key = alice.devices[1].1.ed25519_key();
    // The phone trusts the master key and shows mode 0x01: the master key and the laptop's key.
    let secret = QrSecret::generate(&mut rng);
    let shown = QrPayload::new(
        QrMode::SelfVerifyingMasterKeyTrusted,
        "flow",
        master,
        laptop_key,
        secret.as_bytes(),
    )
    .unwrap();
    let bytes = shown.to_bytes();
    // The laptop scans it: this proves the master key, so the laptop trusts its identity (T0).
    let scanned = QrPayload::decode(&bytes).unwrap();
    let proof = scanned
        .check_scanned(&ScannerKeys {
            own_master: Some(master),
            own_device: Some(laptop_key),
            other_master: None,
            other_device: None,
        })
        .unwrap();
    laptop.trust_own_identity(&proof).unwrap();
    // The phone checks the laptop's reciprocation: this proves the laptop's key; it signs it.
    let reciprocated = shown.check_reciprocation(scanned.secret()).unwrap();
    alice
        .store
        .verify_own_device(&alice.secrets, "LAPTOP", Some(&reciprocated))
        .unwrap();
    assert_eq!(
        alice.store.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::CrossSigned
    );
    // The laptop learns the signature from the server.
    let signed_laptop = alice.store.device(ALICE, "LAPTOP").unwrap().clone();
    laptop
        .receive_keys_query(&keys_query(
            Some(&alice.identity),
            true,
            &[&alice.devices[0].1, &signed_laptop],
        ))
        .unwrap();
    assert_eq!(
        laptop.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::CrossSigned
    );
    // The /keys/upload body for the laptop's keys.
    let upload = alice.devices[1].1.upload_request();
    assert_eq!(
        upload.get("device_keys").and_then(|d| d.get("device_id")),
        Some(&Value::String("LAPTOP".into()))
    );
}

#[test]
fn t2_t3_bob_verifies_alice_and_trusts_her_cross_signed_devices() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (mut alice, mut bob) = alice_and_bob(&mut rng);
    // Alice signs her laptop; Bob refreshes.
    alice
        .store
        .receive_keys_query(&keys_query(
            Some(&alice.identity),
            true,
            &device_refs(&alice),
        ))
        .unwrap();
    let laptop_key = alice.devices[1].1.ed25519_key();
    let proof = sas_proof(&mut rng, ALICE, "LAPTOP", Some(laptop_key), None);
    alice
        .store
        .verify_own_device(&alice.secrets, "LAPTOP", Some(&proof))
        .unwrap();
    alice.devices[1].1 = alice.store.device(ALICE, "LAPTOP").unwrap().clone();
    bob.store.receive_keys_query(&public_view(&alice)).unwrap();

    // Cross-signed, but Bob has not verified Alice: not trusted (T3).
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::Pinned);
    assert_eq!(
        bob.store.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::Unverified
    );
    // Bob verifies Alice: his user-signing key signs her master key.
    let upload = bob_verifies_alice(&mut rng, &alice, &mut bob);
    assert!(bob.store.is_user_verified(ALICE));
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::Verified);
    assert_eq!(
        bob.store.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::CrossSigned
    );
    assert_eq!(
        bob.store.device_trust(ALICE, "PHONE"),
        DeviceTrust::CrossSigned
    );
    let master_name = alice.identity.master_key().name();
    assert!(
        upload
            .get(ALICE)
            .and_then(|u| u.get(&master_name))
            .is_some()
    );
    // A device Alice never signed stays unverified even though Alice is verified.
    let tablet = Account::<4>::new(&mut rng);
    let tablet_keys = DeviceKeys::from_account(ALICE, "TABLET", &tablet).unwrap();
    let mut refs = device_refs(&alice);
    refs.push(&tablet_keys);
    bob.store
        .receive_keys_query(&keys_query(Some(&alice.identity), false, &refs))
        .unwrap();
    assert_eq!(
        bob.store.device_trust(ALICE, "TABLET"),
        DeviceTrust::Unverified
    );
    // Local verification of the tablet (SAS with it) makes it trusted.
    let proof = sas_proof(
        &mut rng,
        ALICE,
        "TABLET",
        Some(tablet_keys.ed25519_key()),
        None,
    );
    bob.store
        .verify_device_locally(ALICE, "TABLET", &proof)
        .unwrap();
    assert_eq!(
        bob.store.device_trust(ALICE, "TABLET"),
        DeviceTrust::LocallyVerified
    );
}

#[test]
fn t2_needs_own_identity_trusted() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let alice = user(&mut rng, ALICE, &["PHONE"]);
    // Bob's second device has not trusted his identity yet.
    let mut bob = user(&mut rng, BOB, &["BOBPHONE"]);
    let mut bob_laptop = IdentityStore::new(BOB, "BOBLAPTOP").unwrap();
    bob_laptop
        .receive_keys_query(&merge(&[
            keys_query(Some(&bob.identity), true, &[]),
            public_view(&alice),
        ]))
        .unwrap();
    let master = alice.identity.master_key().public_key();
    let proof = sas_proof(
        &mut rng,
        ALICE,
        "PHONE",
        Some(alice.devices[0].1.ed25519_key()),
        Some(master),
    );
    assert_eq!(
        bob_laptop.verify_user(&bob.secrets, ALICE, &proof),
        Err(IdentityError::OwnIdentityNotTrusted)
    );
    // Bob's phone verifies Alice; the laptop sees the signature but, with its own identity
    // untrusted, does not count it (T2 needs T0).
    bob.store.receive_keys_query(&public_view(&alice)).unwrap();
    let upload = bob.store.verify_user(&bob.secrets, ALICE, &proof).unwrap();
    let signed_master = upload
        .get(ALICE)
        .and_then(|u| u.get(&alice.identity.master_key().name()))
        .unwrap()
        .clone();
    let mut response = keys_query(Some(&bob.identity), true, &[]);
    let mut alice_view = public_view(&alice);
    if let Value::Object(o) = &mut alice_view {
        let mut m = Object::new();
        // The server merges signatures: Alice's master key with her own and Bob's.
        let mut merged = alice.identity.master_key().json().clone();
        let bob_sig = signed_master
            .get("signatures")
            .unwrap()
            .get(BOB)
            .unwrap()
            .clone();
        if let Some(Value::Object(sigs)) = merged.get_mut("signatures") {
            sigs.insert(BOB.into(), bob_sig);
        } else {
            let mut sigs = Object::new();
            sigs.insert(BOB.into(), bob_sig);
            merged.insert("signatures".into(), Value::Object(sigs));
        }
        m.insert(ALICE.into(), Value::Object(merged));
        o.insert("master_keys".into(), Value::Object(m));
    }
    response = merge(&[response, alice_view]);
    bob_laptop.receive_keys_query(&response).unwrap();
    assert!(!bob_laptop.is_user_verified(ALICE));
    // Once the laptop trusts Bob's identity, Alice is verified there too.
    let bob_master = bob.identity.master_key().public_key();
    let own = sas_proof(
        &mut rng,
        BOB,
        "BOBPHONE",
        Some(bob.devices[0].1.ed25519_key()),
        Some(bob_master),
    );
    bob_laptop.trust_own_identity(&own).unwrap();
    assert!(bob_laptop.is_user_verified(ALICE));
}

#[test]
fn p2_reset_of_an_unverified_user_is_a_pin_violation() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let (mut alice, mut bob) = alice_and_bob(&mut rng);
    let old_master = alice.identity.master_key().public_key();
    let phone = Account::<4>::new(&mut rng);
    let (_, _) = alice.store.reset_identity(&mut rng, &phone).unwrap();
    alice.identity = alice.store.own_identity().unwrap().clone();
    alice.devices = vec![(phone, alice.store.device(ALICE, "PHONE").unwrap().clone())];
    let events = bob.store.receive_keys_query(&public_view(&alice)).unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Reset {
            user_id: ALICE.into(),
            previously_verified: false
        }]
    );
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::PinViolation);
    assert_eq!(bob.store.pinned_master_key(ALICE), Some(old_master));
    // Shown, not blocking.
    assert_eq!(bob.store.check_send(ALICE), Ok(()));
    // The same response again raises nothing new.
    assert!(
        bob.store
            .receive_keys_query(&public_view(&alice))
            .unwrap()
            .is_empty()
    );
    bob.store.pin_current_identity(ALICE).unwrap();
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::Pinned);
    assert_eq!(
        bob.store.pinned_master_key(ALICE),
        Some(alice.identity.master_key().public_key())
    );
}

fn reset_alice(rng: &mut ChaCha20Rng, alice: &mut User) {
    let phone = Account::<4>::new(rng);
    let (secrets, _) = alice.store.reset_identity(rng, &phone).unwrap();
    alice.secrets = secrets;
    alice.identity = alice.store.own_identity().unwrap().clone();
    alice.devices = vec![(phone, alice.store.device(ALICE, "PHONE").unwrap().clone())];
}

#[test]
fn p3_reset_of_a_verified_user_blocks_sending_until_reverified() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (mut alice, mut bob) = alice_and_bob(&mut rng);
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    assert_eq!(bob.store.check_send(ALICE), Ok(()));
    reset_alice(&mut rng, &mut alice);
    let events = bob.store.receive_keys_query(&public_view(&alice)).unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Reset {
            user_id: ALICE.into(),
            previously_verified: true
        }]
    );
    assert_eq!(
        bob.store.user_status(ALICE),
        IdentityStatus::VerificationViolation
    );
    assert_eq!(
        bob.store.check_send(ALICE),
        Err(IdentityError::VerificationViolation)
    );
    // Her devices are no longer trusted.
    assert_eq!(
        bob.store.device_trust(ALICE, "PHONE"),
        DeviceTrust::Unverified
    );
    // Pinning alone does not lift the block.
    bob.store.pin_current_identity(ALICE).unwrap();
    assert_eq!(
        bob.store.check_send(ALICE),
        Err(IdentityError::VerificationViolation)
    );
    // A SAS proving the *old* master key does not re-verify.
    let phone_key = alice.devices[0].1.ed25519_key();
    let stale = bob.store.pinned_master_key(ALICE).map(|_| {
        CrossSigningSecrets::generate(&mut rng)
            .master_public()
            .unwrap()
    });
    let proof = sas_proof(&mut rng, ALICE, "PHONE", Some(phone_key), stale);
    assert_eq!(
        bob.store.verify_user(&bob.secrets, ALICE, &proof),
        Err(IdentityError::KeyMismatch)
    );
    assert_eq!(
        bob.store.check_send(ALICE),
        Err(IdentityError::VerificationViolation)
    );
    // Re-verification lifts it.
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::Verified);
    assert_eq!(bob.store.check_send(ALICE), Ok(()));
}

#[test]
fn p3_withdrawing_the_verification_unblocks_sending() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let (mut alice, mut bob) = alice_and_bob(&mut rng);
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    reset_alice(&mut rng, &mut alice);
    bob.store.receive_keys_query(&public_view(&alice)).unwrap();
    assert_eq!(
        bob.store.check_send(ALICE),
        Err(IdentityError::VerificationViolation)
    );
    bob.store.withdraw_verification(ALICE).unwrap();
    assert_eq!(bob.store.check_send(ALICE), Ok(()));
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::Pinned);
    assert_eq!(
        bob.store.pinned_master_key(ALICE),
        Some(alice.identity.master_key().public_key())
    );
    // A further reset is now an ordinary pin violation.
    reset_alice(&mut rng, &mut alice);
    let events = bob.store.receive_keys_query(&public_view(&alice)).unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Reset {
            user_id: ALICE.into(),
            previously_verified: false
        }]
    );
    assert_eq!(bob.store.check_send(ALICE), Ok(()));
}

#[test]
fn p5_pins_and_verified_flags_persist_through_pickles() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let (mut alice, mut bob) = alice_and_bob(&mut rng);
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    let key = [7u8; 32];
    let pickle = bob.store.pickle(&mut rng, &key);
    let secrets_pickle = bob.secrets.pickle(&mut rng, &key);
    // The pickle does not contain the user-signing seed in clear.
    let usk_seed = bob.secrets.to_secret_storage()[2].clone().unwrap();
    let raw = base64::decode(usk_seed.as_str()).unwrap();
    assert!(!secrets_pickle.windows(32).any(|w| w == raw.as_slice()));

    let mut restored = IdentityStore::from_pickle_bytes(&key, &pickle).unwrap();
    let secrets = CrossSigningSecrets::from_pickle_bytes(&key, &secrets_pickle).unwrap();
    assert_eq!(
        secrets.user_signing_public(),
        bob.secrets.user_signing_public()
    );
    assert_eq!(
        restored.pinned_master_key(ALICE),
        Some(alice.identity.master_key().public_key())
    );
    // After reloading, Alice resets: still a verification violation.
    reset_alice(&mut rng, &mut alice);
    let events = restored
        .receive_keys_query(&merge(&[
            keys_query(Some(&bob.identity), true, &device_refs(&bob)),
            public_view(&alice),
        ]))
        .unwrap();
    assert!(events.contains(&IdentityEvent::Reset {
        user_id: ALICE.into(),
        previously_verified: true
    }));
    assert_eq!(
        restored.check_send(ALICE),
        Err(IdentityError::VerificationViolation)
    );
    // A wrong key or damaged bytes are errors.
    assert!(IdentityStore::from_pickle_bytes(&[8u8; 32], &pickle).is_err());
    let mut damaged = pickle.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    assert!(IdentityStore::from_pickle_bytes(&key, &damaged).is_err());
    // A secrets pickle is not a store pickle.
    assert!(IdentityStore::from_pickle_bytes(&key, &secrets_pickle).is_err());
}

#[test]
fn attack_server_substitutes_a_master_key() {
    // Albrecht et al. §IV: the server replaces Alice's cross-signing keys with its own. It can sign
    // a complete, valid tree, but never with Bob's user-signing key: Bob sees a reset, never a
    // verified identity.
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let (alice, mut bob) = alice_and_bob(&mut rng);
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    let server = CrossSigningSecrets::generate(&mut rng);
    let fake = server.public_identity(ALICE).unwrap();
    // The server also copies Bob's old signature (made over Alice's real master key) onto its key.
    let mut fake_master = fake.master_key().json().clone();
    let real_signed = bob
        .store
        .identity(ALICE)
        .unwrap()
        .master_key()
        .json()
        .clone();
    let bob_sigs = real_signed
        .get("signatures")
        .unwrap()
        .get(BOB)
        .unwrap()
        .clone();
    if let Some(Value::Object(sigs)) = fake_master.get_mut("signatures") {
        sigs.insert(BOB.into(), bob_sigs);
    } else {
        let mut sigs = Object::new();
        sigs.insert(BOB.into(), bob_sigs);
        fake_master.insert("signatures".into(), Value::Object(sigs));
    }
    let mut fake_device_keys = Vec::new();
    for (acc, d) in &alice.devices {
        let _ = acc;
        let mut d = d.clone();
        server.sign_device(&mut d).unwrap();
        fake_device_keys.push(d);
    }
    let mut response = keys_query(
        Some(&fake),
        false,
        &fake_device_keys.iter().collect::<Vec<_>>(),
    );
    if let Value::Object(o) = &mut response {
        let mut m = Object::new();
        m.insert(ALICE.into(), Value::Object(fake_master));
        o.insert("master_keys".into(), Value::Object(m));
    }
    let events = bob.store.receive_keys_query(&response).unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Reset {
            user_id: ALICE.into(),
            previously_verified: true
        }]
    );
    assert!(!bob.store.is_user_verified(ALICE));
    assert_eq!(
        bob.store.user_status(ALICE),
        IdentityStatus::VerificationViolation
    );
    for d in ["PHONE", "LAPTOP"] {
        assert!(!bob.store.device_trust(ALICE, d).is_verified(), "{d}");
    }
    assert_eq!(
        bob.store.check_send(ALICE),
        Err(IdentityError::VerificationViolation)
    );
    // Even for a user never verified, a substitution is a reset, not a silent change.
    let carol = user(&mut rng, "@carol:example.org", &["CAROL"]);
    bob.store.receive_keys_query(&public_view(&carol)).unwrap();
    let fake_carol = CrossSigningSecrets::generate(&mut rng)
        .public_identity("@carol:example.org")
        .unwrap();
    let events = bob
        .store
        .receive_keys_query(&keys_query(Some(&fake_carol), false, &[]))
        .unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Reset {
            user_id: "@carol:example.org".into(),
            previously_verified: false
        }]
    );
    assert_eq!(
        bob.store.user_status("@carol:example.org"),
        IdentityStatus::PinViolation
    );
}

#[test]
fn attack_device_id_equal_to_a_cross_signing_key_id() {
    // Albrecht et al. §V: a device whose id is the base64 of a cross-signing key shares its key id
    // (`ed25519:<id>`) with that key. Such devices are refused (K5, T4).
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let (alice, mut bob) = alice_and_bob(&mut rng);
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    for (name, ssk_signed) in [
        (alice.identity.master_key().name(), true),
        (alice.identity.self_signing_key().name(), false),
    ] {
        let evil = Account::<4>::new(&mut rng);
        let mut evil_keys = DeviceKeys::from_account(ALICE, &name, &evil).unwrap();
        if ssk_signed {
            // Even signed by Alice's real self-signing key (a confused client could be made to).
            alice.secrets.sign_device(&mut evil_keys).unwrap();
        }
        // Named like the self-signing key, the device's own signature sits where the self-signing
        // key's would: a client that looked signatures up by key id alone would call it cross-signed.
        let mut refs = device_refs(&alice);
        refs.push(&evil_keys);
        let events = bob
            .store
            .receive_keys_query(&keys_query(Some(&alice.identity), false, &refs))
            .unwrap();
        assert!(
            events.contains(&IdentityEvent::Rejected {
                user_id: ALICE.into(),
                error: IdentityError::AmbiguousKeyId
            }),
            "{events:?}"
        );
        assert!(bob.store.device(ALICE, &name).is_none());
        assert_eq!(bob.store.device_trust(ALICE, &name), DeviceTrust::Unknown);
        assert!(alice.identity.device_id_conflicts(&name));
    }
    // Our own store refuses to add such a device too.
    let evil = Account::<4>::new(&mut rng);
    let name = alice.identity.user_signing_key().unwrap().name();
    let evil_keys = DeviceKeys::from_account(ALICE, &name, &evil).unwrap();
    let mut store = alice.store;
    assert_eq!(
        store.add_own_device(evil_keys),
        Err(IdentityError::AmbiguousKeyId)
    );
}

#[test]
fn attack_unsigned_devices_are_never_verified() {
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let (alice, mut bob) = alice_and_bob(&mut rng);
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    // A device with no self-signature, one signed by another key, and one whose self-signature is
    // over other contents: each is dropped (T4), the valid ones stay.
    let (phone_acc, phone) = &alice.devices[0];
    let _ = phone_acc;
    let mut unsigned = phone.json().clone();
    unsigned.remove("signatures");
    unsigned.insert("device_id".into(), "UNSIGNED".into());
    let mut keys = Object::new();
    let ed = base64::encode(phone.ed25519_key().as_bytes());
    keys.insert("ed25519:UNSIGNED".into(), ed.clone().into());
    keys.insert(
        "curve25519:UNSIGNED".into(),
        base64::encode(phone.curve25519_key().as_bytes()).into(),
    );
    unsigned.insert("keys".into(), Value::Object(keys));
    // SSK-signed but not self-signed.
    let mut ssk_only = unsigned.clone();
    ssk_only.insert("device_id".into(), "SSKONLY".into());
    let mut keys = Object::new();
    keys.insert("ed25519:SSKONLY".into(), ed.into());
    keys.insert(
        "curve25519:SSKONLY".into(),
        base64::encode(phone.curve25519_key().as_bytes()).into(),
    );
    ssk_only.insert("keys".into(), Value::Object(keys));
    let ssk_seed = alice.secrets.to_secret_storage()[1].clone().unwrap();
    let ssk = safemeet::primitives::ed25519::Ed25519SecretKey::from_seed(
        &base64::decode(ssk_seed.as_str())
            .unwrap()
            .try_into()
            .unwrap(),
    );
    safemeet::identity::signed::sign(
        &mut ssk_only,
        ALICE,
        &alice.identity.self_signing_key().key_id(),
        &ssk,
    )
    .unwrap();
    let mut tampered = phone.json().clone();
    tampered.insert("algorithms".into(), Value::Array(vec![]));
    let mut response = public_view(&alice);
    if let Value::Object(o) = &mut response
        && let Some(Value::Object(users)) = o.get_mut("device_keys")
        && let Some(Value::Object(devs)) = users.get_mut(ALICE)
    {
        devs.insert("UNSIGNED".into(), Value::Object(unsigned));
        devs.insert("SSKONLY".into(), Value::Object(ssk_only));
        devs.insert("PHONE".into(), Value::Object(tampered));
    }
    let events = bob.store.receive_keys_query(&response).unwrap();
    let rejected = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                IdentityEvent::Rejected {
                    error: IdentityError::InvalidDevice,
                    ..
                }
            )
        })
        .count();
    assert_eq!(rejected, 3);
    for d in ["UNSIGNED", "SSKONLY", "PHONE"] {
        assert_eq!(
            bob.store.device_trust(ALICE, d),
            DeviceTrust::Unknown,
            "{d}"
        );
    }
    assert_eq!(
        bob.store.device_trust(ALICE, "LAPTOP"),
        DeviceTrust::Unverified
    );
}

#[test]
fn a_failed_verify_changes_no_state() {
    let mut rng = ChaCha20Rng::seed_from_u64(13);
    let (alice, mut bob) = alice_and_bob(&mut rng);
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    let before = bob.store.identity(ALICE).unwrap().clone();
    // A new master key with a self-signing key it did not sign: the whole identity is rejected,
    // and the user's pin, identity and status stay.
    let other = CrossSigningSecrets::generate(&mut rng)
        .public_identity(ALICE)
        .unwrap();
    let stranger = CrossSigningSecrets::generate(&mut rng)
        .public_identity(ALICE)
        .unwrap();
    let mut response = keys_query(Some(&other), false, &[]);
    if let Value::Object(o) = &mut response {
        let mut m = Object::new();
        m.insert(ALICE.into(), stranger.self_signing_key().to_json());
        o.insert("self_signing_keys".into(), Value::Object(m));
    }
    let events = bob.store.receive_keys_query(&response).unwrap();
    assert_eq!(
        events,
        [IdentityEvent::Rejected {
            user_id: ALICE.into(),
            error: IdentityError::MissingSignature
        }]
    );
    assert_eq!(bob.store.identity(ALICE), Some(&before));
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::Verified);
    assert_eq!(bob.store.devices(ALICE).count(), 2);
    // A response that is not an object of objects is an error and changes nothing.
    assert_eq!(
        bob.store.receive_keys_query(&Value::Array(vec![])),
        Err(IdentityError::Malformed)
    );
    let mut bad = Object::new();
    bad.insert("master_keys".into(), Value::Bool(true));
    assert_eq!(
        bob.store.receive_keys_query(&Value::Object(bad)),
        Err(IdentityError::Malformed)
    );
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::Verified);
}

#[test]
fn item5_key_storage_health() {
    let mut rng = ChaCha20Rng::seed_from_u64(14);
    let alice = user(&mut rng, ALICE, &["PHONE"]);
    let backup = Curve25519SecretKey::generate(&mut rng);
    let backup_public = backup.public_key();
    let all = check_key_storage(
        &alice.secrets,
        Some(&alice.identity),
        Some(&backup),
        Some(&backup_public),
    );
    assert!(all.is_in_sync());
    // A device holding only the self-signing key, and an old backup key.
    let stored = alice.secrets.to_secret_storage();
    let partial = CrossSigningSecrets::from_secret_storage(
        None,
        stored[1].as_deref().map(String::as_str),
        None,
    )
    .unwrap();
    let old_backup = Curve25519SecretKey::generate(&mut rng);
    let h = check_key_storage(
        &partial,
        Some(&alice.identity),
        Some(&old_backup),
        Some(&backup_public),
    );
    assert_eq!(
        (h.master, h.self_signing, h.user_signing, h.backup),
        (
            KeyHealth::Missing,
            KeyHealth::Present,
            KeyHealth::Missing,
            KeyHealth::NotMatching
        )
    );
    assert!(!h.is_in_sync());
    // Keys held but nothing published: not matching.
    let h = check_key_storage(&alice.secrets, None, Some(&backup), None);
    assert_eq!(h.master, KeyHealth::NotMatching);
    assert_eq!(h.backup, KeyHealth::NotMatching);
    // After a reset elsewhere, the old keys no longer match.
    let mut other = IdentityStore::new(ALICE, "PHONE").unwrap();
    let (_, _) = other.reset_identity(&mut rng, &alice.devices[0].0).unwrap();
    let h = check_key_storage(&alice.secrets, other.own_identity(), None, None);
    assert_eq!(
        (h.master, h.self_signing, h.user_signing),
        (
            KeyHealth::NotMatching,
            KeyHealth::NotMatching,
            KeyHealth::NotMatching
        )
    );
}

#[test]
fn item6_reset_produces_upload_payloads_and_drops_old_verifications() {
    let mut rng = ChaCha20Rng::seed_from_u64(15);
    let (mut alice, mut bob) = alice_and_bob(&mut rng);
    // Alice verifies Bob; then resets her own identity.
    let bob_master = bob.identity.master_key().public_key();
    let proof = sas_proof(
        &mut rng,
        BOB,
        "BOBPHONE",
        Some(bob.devices[0].1.ed25519_key()),
        Some(bob_master),
    );
    alice
        .store
        .verify_user(&alice.secrets, BOB, &proof)
        .unwrap();
    assert!(alice.store.is_user_verified(BOB));
    let old = alice.identity.master_key().public_key();
    let phone = &alice.devices[0].0;
    let (secrets, requests) = alice.store.reset_identity(&mut rng, phone).unwrap();
    let new = alice.store.own_identity().unwrap().clone();
    assert_ne!(new.master_key().public_key(), old);
    assert_eq!(secrets.master_public(), Some(new.master_key().public_key()));
    // The old verification of Bob is gone, without raising a violation.
    assert!(!alice.store.is_user_verified(BOB));
    assert_eq!(alice.store.user_status(BOB), IdentityStatus::Pinned);
    assert_eq!(alice.store.check_send(BOB), Ok(()));
    // The device-signing upload decodes and checks as an identity, with the master key signed by
    // the device too.
    let up = &requests.device_signing_upload;
    let decoded = UserIdentity::from_json(
        ALICE,
        up.get("master_key").unwrap(),
        up.get("self_signing_key").unwrap(),
        up.get("user_signing_key"),
    )
    .unwrap();
    assert_eq!(*decoded, new);
    safemeet::identity::signed::verify(
        new.master_key().json(),
        ALICE,
        "ed25519:PHONE",
        &phone.ed25519_key(),
    )
    .unwrap();
    // The signatures upload carries the phone signed by the new self-signing key.
    let phone_signed = requests
        .signatures_upload
        .get(ALICE)
        .and_then(|u| u.get("PHONE"))
        .unwrap();
    safemeet::identity::signed::verify(
        phone_signed.as_object().unwrap(),
        ALICE,
        &new.self_signing_key().key_id(),
        &new.self_signing_key().public_key(),
    )
    .unwrap();
    assert_eq!(
        alice.store.device_trust(ALICE, "PHONE"),
        DeviceTrust::CrossSigned
    );
    // Bob sees the reset.
    alice.identity = new;
    let events = bob.store.receive_keys_query(&public_view(&alice)).unwrap();
    assert!(matches!(events.as_slice(), [IdentityEvent::Reset { .. }]));
}

#[test]
fn secrets_never_print() {
    let mut rng = ChaCha20Rng::seed_from_u64(16);
    let secrets = CrossSigningSecrets::generate(&mut rng);
    let debug = format!("{secrets:?}");
    for seed in secrets.to_secret_storage().iter().flatten() {
        assert!(!debug.contains(seed.as_str()));
        let raw = base64::decode(seed.as_str()).unwrap();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!debug.contains(&hex));
    }
    assert!(debug.contains("CrossSigningSecrets"));
    // Errors carry no data.
    assert_eq!(
        format!("{}", safemeet::Error::from(IdentityError::InvalidSignature)),
        "identity: invalid signature"
    );
}

#[test]
fn limits_are_enforced() {
    let mut rng = ChaCha20Rng::seed_from_u64(17);
    let alice = user(&mut rng, ALICE, &["PHONE"]);
    // Too many signatures on one object.
    let mut master = alice.identity.master_key().json().clone();
    let mut sigs = Object::new();
    for i in 0..=safemeet::limits::MAX_SIGNATURES_PER_OBJECT {
        let mut e = Object::new();
        e.insert("ed25519:X".into(), "AAAA".into());
        sigs.insert(format!("@u{i}:x"), Value::Object(e));
    }
    master.insert("signatures".into(), Value::Object(sigs));
    assert_eq!(
        safemeet::identity::MasterKey::from_json(&Value::Object(master)).unwrap_err(),
        IdentityError::TooLarge
    );
    // An overlong user id.
    assert_eq!(
        IdentityStore::new(&format!("@{}:x", "a".repeat(300)), "D").unwrap_err(),
        IdentityError::InvalidIdentifier
    );
}

#[test]
fn item6_own_reset_turns_a_verification_violation_into_a_pin_violation() {
    let mut rng = ChaCha20Rng::seed_from_u64(19);
    let (mut alice, mut bob) = alice_and_bob(&mut rng);
    bob_verifies_alice(&mut rng, &alice, &mut bob);
    reset_alice(&mut rng, &mut alice);
    bob.store.receive_keys_query(&public_view(&alice)).unwrap();
    assert_eq!(
        bob.store.user_status(ALICE),
        IdentityStatus::VerificationViolation
    );
    // Bob resets his own identity: his old verification of Alice is dropped, so sending is no
    // longer blocked, but Alice's unacknowledged new identity is still shown.
    let phone = &bob.devices[0].0;
    bob.store.reset_identity(&mut rng, phone).unwrap();
    assert_eq!(bob.store.user_status(ALICE), IdentityStatus::PinViolation);
    assert_eq!(bob.store.check_send(ALICE), Ok(()));
}

/// A `/keys/query` response for a large room is longer than any event: it parses with
/// `parse_response`, not the event-sized `parse`, and every member in it is pinned.
#[test]
fn a_keys_query_response_larger_than_an_event_is_read() {
    use safemeet::codec::json;
    use safemeet::{JsonError, limits::MAX_JSON_LEN};

    let mut rng = ChaCha20Rng::from_seed([41; 32]);
    let mut bob = user(&mut rng, BOB, &["BOBPHONE"]);
    let members: Vec<User> = (0..40)
        .map(|i| {
            let id = format!("@member{i}:example.org");
            user(&mut rng, &id, &["PHONE", "LAPTOP", "TABLET"])
        })
        .collect();
    let body = merge(&members.iter().map(public_view).collect::<Vec<_>>()).to_canonical();
    assert!(body.len() > MAX_JSON_LEN, "{} bytes", body.len());

    assert_eq!(json::parse(body.as_bytes()), Err(JsonError::TooLarge));
    let response = json::parse_response(body.as_bytes()).unwrap();
    let events = bob.store.receive_keys_query(&response).unwrap();
    assert_eq!(events.len(), members.len());
    for member in &members {
        let id = member.identity.user_id();
        assert!(events.contains(&IdentityEvent::Pinned { user_id: id.into() }));
        assert_eq!(bob.store.devices(id).count(), 3);
    }
}

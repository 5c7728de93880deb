//! What each key-storage mode lets a person do (rules S1 to S5 in `backup::policy`), end to end: a
//! simulated server that stores only what `KeyStorage` uploads, real Olm accounts, real cross-signing
//! identities and real Megolm sessions.
//!
//! * a new device reads history (with recovery: from the recovery key; without recovery: from the
//!   backup key another device shares; off: it cannot);
//! * all devices lost: the recovery key restores identity and history, and the person's contact sees
//!   no identity reset (with recovery only);
//! * storage off: nothing left the device.
#![cfg(feature = "std")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod identity_common;

extern crate alloc;

use alloc::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::BackupError;
use safemeet::backup::key_backup::BackupTrust;
use safemeet::backup::policy::{KeyStorage, KeyStorageMode, Upload};
use safemeet::backup::room_key::RoomKey;
use safemeet::codec::json::{Object, Value};
use safemeet::identity::{
    CrossSigningSecrets, DeviceKeys, DeviceTrust, IdentityStatus, IdentityStore,
};
use safemeet::megolm::{GroupSession, InboundGroupSession};
use safemeet::olm::Account;

const ALICE: &str = "@alice:example.org";
const BOB: &str = "@bob:example.org";
const ROOM: &str = "!room:example.org";

/// The server: it keeps what it is sent, and every request it saw.
#[derive(Default)]
struct Server {
    account_data: BTreeMap<String, Value>,
    backup: Option<(String, Value)>,
    room_keys: BTreeMap<(String, String), Value>,
    /// Every request that carried key material, as sent.
    seen: Vec<Upload>,
    /// The room's timeline: Megolm ciphertexts.
    timeline: Vec<Vec<u8>>,
    /// `/keys/signatures/upload` bodies: signatures the server adds to the keys it publishes.
    signatures: Vec<Value>,
}

impl Server {
    fn apply(&mut self, uploads: impl IntoIterator<Item = Upload>) {
        for u in uploads {
            self.seen.push(u.clone());
            match u {
                Upload::AccountData {
                    event_type,
                    content,
                } => {
                    self.account_data.insert(event_type, content);
                }
                Upload::CreateBackupVersion { body } => {
                    let version = "1".to_string();
                    let mut response = body.as_object().cloned().unwrap();
                    response.insert("version".into(), version.clone().into());
                    self.backup = Some((version, Value::Object(response)));
                }
                Upload::DeleteBackupVersion { version } => {
                    assert_eq!(self.backup.as_ref().map(|b| &b.0), Some(&version));
                    self.backup = None;
                    self.room_keys.clear();
                }
                Upload::RoomKey {
                    room_id,
                    session_id,
                    version,
                    data,
                } => {
                    assert_eq!(self.backup.as_ref().map(|b| &b.0), Some(&version));
                    self.room_keys.insert((room_id, session_id), data);
                }
            }
        }
    }

    /// A `/keys/query` response for these users' identities and own devices, with every signature
    /// uploaded since merged in, as a server does.
    fn keys_query(&self, identities: &[&IdentityStore], devices: &[&IdentityStore]) -> Value {
        let mut response = keys_query(identities, devices);
        let Value::Object(r) = &mut response else {
            unreachable!()
        };
        let Some(Value::Object(masters)) = r.get_mut("master_keys") else {
            return response;
        };
        for upload in &self.signatures {
            for (user, by_key) in upload.as_object().unwrap() {
                let Some(Value::Object(master)) = masters.get_mut(user) else {
                    continue;
                };
                for signed in by_key.as_object().unwrap().values() {
                    let Some(Value::Object(sigs)) = master.get_mut("signatures") else {
                        unreachable!()
                    };
                    let signed_by = signed.get("signatures").and_then(Value::as_object);
                    for (signer, entries) in signed_by.unwrap() {
                        let entry = sigs
                            .entry(signer.clone())
                            .or_insert_with(|| Value::Object(Object::new()));
                        let Value::Object(entry) = entry else {
                            unreachable!()
                        };
                        for (id, sig) in entries.as_object().unwrap() {
                            entry.insert(id.clone(), sig.clone());
                        }
                    }
                }
            }
        }
        response
    }

    fn backup_version(&self) -> Option<&Value> {
        self.backup.as_ref().map(|b| &b.1)
    }

    /// `GET /room_keys/keys`.
    fn all_room_keys(&self) -> Value {
        let mut rooms = Object::new();
        for ((room, session), data) in &self.room_keys {
            let entry = rooms
                .entry(room.clone())
                .or_insert_with(|| Value::Object(Object::new()));
            let Value::Object(entry) = entry else {
                unreachable!()
            };
            let sessions = entry
                .entry("sessions".into())
                .or_insert_with(|| Value::Object(Object::new()));
            let Value::Object(sessions) = sessions else {
                unreachable!()
            };
            sessions.insert(session.clone(), data.clone());
        }
        let mut response = Object::new();
        response.insert("rooms".into(), Value::Object(rooms));
        Value::Object(response)
    }

    /// Everything the server holds, as text.
    fn everything(&self) -> String {
        let mut all = String::new();
        for u in &self.seen {
            all.push_str(&format!("{u:?}"));
        }
        all
    }
}

/// A person's device with its identity store and key storage.
struct Device {
    account: Account<8>,
    identity: IdentityStore,
    storage: KeyStorage,
    /// Inbound room sessions, by session id.
    sessions: BTreeMap<String, InboundGroupSession>,
}

impl Device {
    fn new(rng: &mut ChaCha20Rng, user: &str, id: &'static str) -> Self {
        Self {
            account: Account::new(rng),
            identity: IdentityStore::new(user, id).unwrap(),
            storage: KeyStorage::off(),
            sessions: BTreeMap::new(),
        }
    }

    fn read_history(&mut self, server: &Server) -> Vec<String> {
        server
            .timeline
            .iter()
            .filter_map(|m| {
                self.sessions
                    .values_mut()
                    .find_map(|s| s.decrypt(m).ok())
                    .map(|d| String::from_utf8(d.plaintext.to_vec()).unwrap())
            })
            .collect()
    }

    fn import(&mut self, restored: safemeet::backup::policy::Restored) {
        for k in restored.keys {
            assert_eq!(k.room_id, ROOM);
            let session = k.key.to_inbound().unwrap();
            self.sessions.insert(k.session_id, session);
        }
    }
}

/// Alice (a phone, with her identity) and Bob (verified Alice), a room with two senders, and key
/// storage in `mode` on Alice's phone.
struct World {
    rng: ChaCha20Rng,
    server: Server,
    alice_phone: Device,
    alice_secrets: CrossSigningSecrets,
    bob: Device,
    recovery_key: Option<String>,
    history: Vec<String>,
}

fn keys_query(identities: &[&IdentityStore], devices: &[&IdentityStore]) -> Value {
    let mut response = Object::new();
    let mut put = |field: &str, user: &str, v: Value| {
        let entry = response
            .entry(field.into())
            .or_insert_with(|| Value::Object(Object::new()));
        if let Value::Object(m) = entry {
            m.insert(user.into(), v);
        }
    };
    for store in identities {
        let identity = store.own_identity().unwrap();
        put(
            "master_keys",
            identity.user_id(),
            identity.master_key().to_json(),
        );
        put(
            "self_signing_keys",
            identity.user_id(),
            identity.self_signing_key().to_json(),
        );
    }
    let mut by_user = Object::new();
    for store in devices {
        let d = store
            .device(store.own_user_id(), store.own_device_id())
            .unwrap();
        if let Value::Object(m) = by_user
            .entry(d.user_id().into())
            .or_insert_with(|| Value::Object(Object::new()))
        {
            m.insert(d.device_id().into(), d.to_json());
        }
    }
    response.insert("device_keys".into(), Value::Object(by_user));
    Value::Object(response)
}

fn world(mode: KeyStorageMode, seed: u8) -> World {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut server = Server::default();
    let mut phone = Device::new(&mut rng, ALICE, "ALICEPHONE");
    let (alice_secrets, _) = phone
        .identity
        .reset_identity(&mut rng, &phone.account)
        .unwrap();
    let mut bob = Device::new(&mut rng, BOB, "BOBPHONE");
    let (bob_secrets, _) = bob.identity.reset_identity(&mut rng, &bob.account).unwrap();

    // Bob verifies Alice (a real SAS MAC exchange proving her master key).
    bob.identity
        .receive_keys_query(&keys_query(&[&phone.identity], &[&phone.identity]))
        .unwrap();
    let master = phone
        .identity
        .own_identity()
        .unwrap()
        .master_key()
        .public_key();
    let proof = identity_common::sas_proof(&mut rng, ALICE, "ALICEPHONE", None, Some(master));
    let upload = bob
        .identity
        .verify_user(&bob_secrets, ALICE, &proof)
        .unwrap();
    server.signatures.push(upload);
    assert_eq!(bob.identity.user_status(ALICE), IdentityStatus::Verified);

    let mut recovery_key = None;
    if mode != KeyStorageMode::Off {
        let (storage, on) = KeyStorage::turn_on(
            &mut rng,
            mode,
            &phone.account,
            ALICE,
            "ALICEPHONE",
            &alice_secrets,
            None,
        )
        .unwrap();
        phone.storage = storage;
        server.apply(on.uploads);
        phone.storage.backup_created("1").unwrap();
        recovery_key = on.recovery_key.map(|k| k.to_string());
        assert_eq!(recovery_key.is_some(), mode == KeyStorageMode::WithRecovery);
    }

    // The room: Alice and Bob each send with their own Megolm session; each shares it with the other.
    let mut alice_out = GroupSession::new(&mut rng);
    let mut bob_out = GroupSession::new(&mut rng);
    let alice_in = InboundGroupSession::new(&alice_out.session_key());
    let bob_in = InboundGroupSession::new(&bob_out.session_key());
    let mut history = Vec::new();
    for (i, text) in ["hello Bob", "hi Alice", "lunch at noon?", "yes"]
        .iter()
        .enumerate()
    {
        let m = if i % 2 == 0 {
            alice_out.encrypt(text.as_bytes()).unwrap()
        } else {
            bob_out.encrypt(text.as_bytes()).unwrap()
        };
        server.timeline.push(m);
        history.push((*text).to_string());
    }
    // Alice's phone backs up both sessions it holds (its own and Bob's).
    let alice_curve = phone.account.identity_keys().curve25519;
    let bob_keys = bob.account.identity_keys();
    let alice_ed = phone.account.ed25519_key();
    for (session, sender, ed) in [
        (&alice_in, alice_curve, alice_ed),
        (&bob_in, bob_keys.curve25519, bob_keys.ed25519),
    ] {
        let key = RoomKey::from_inbound(session, ROOM, sender, Some(ed), false);
        let upload = phone
            .storage
            .back_up(&mut rng, ROOM, &key, session.first_known_index(), 0, true)
            .unwrap();
        assert_eq!(upload.is_some(), mode.backs_up_room_keys());
        server.apply(upload);
        phone.sessions.insert(
            session.session_id().to_string(),
            InboundGroupSession::import(&session.export_at_first_known_index()),
        );
    }
    assert_eq!(phone.read_history(&server), history);
    World {
        rng,
        server,
        alice_phone: phone,
        alice_secrets,
        bob,
        recovery_key,
        history,
    }
}

/// Every secret in the world, as the text it would take on the wire.
fn secrets_as_text(w: &World) -> Vec<String> {
    let mut all: Vec<String> = w
        .alice_secrets
        .to_secret_storage()
        .iter()
        .flatten()
        .map(|s| s.to_string())
        .collect();
    if let Some(k) = w.alice_phone.storage.share_backup_key() {
        all.push(k.to_string());
    }
    for s in w.alice_phone.sessions.values() {
        all.push(s.export_at_first_known_index().to_base64().to_string());
    }
    all
}

#[test]
fn modes_say_what_leaves() {
    use KeyStorageMode::*;
    let table = [
        (WithRecovery, true, true, true, true),
        (WithoutRecovery, true, false, true, false),
        (Off, false, false, false, false),
    ];
    for (mode, backs_up, stores, new_device, survives) in table {
        assert_eq!(mode.backs_up_room_keys(), backs_up, "{mode:?}");
        assert_eq!(mode.stores_secrets(), stores, "{mode:?}");
        assert_eq!(mode.new_device_reads_history(), new_device, "{mode:?}");
        assert_eq!(mode.survives_losing_every_device(), survives, "{mode:?}");
    }
}

#[test]
fn no_secret_ever_reaches_the_server_in_clear() {
    for (mode, seed) in [
        (KeyStorageMode::WithRecovery, 1),
        (KeyStorageMode::WithoutRecovery, 2),
    ] {
        let w = world(mode, seed);
        let everything = w.server.everything();
        for secret in secrets_as_text(&w) {
            assert!(!everything.contains(&secret), "{mode:?} leaked a secret");
        }
        if let Some(k) = &w.recovery_key {
            assert!(!everything.contains(k.as_str()));
            let compact: String = k.split_whitespace().collect();
            assert!(!everything.contains(&compact));
        }
    }
}

#[test]
fn with_recovery_what_goes_to_the_server() {
    let w = world(KeyStorageMode::WithRecovery, 3);
    let types: Vec<&str> = w.server.account_data.keys().map(String::as_str).collect();
    for t in [
        "m.cross_signing.master",
        "m.cross_signing.self_signing",
        "m.cross_signing.user_signing",
        "m.megolm_backup.v1",
        "m.secret_storage.default_key",
    ] {
        assert!(types.contains(&t), "missing {t}");
    }
    assert_eq!(
        types
            .iter()
            .filter(|t| t.starts_with("m.secret_storage.key."))
            .count(),
        1
    );
    assert_eq!(w.server.room_keys.len(), 2);
}

#[test]
fn without_recovery_only_room_keys_leave() {
    let w = world(KeyStorageMode::WithoutRecovery, 4);
    assert!(w.server.account_data.is_empty());
    assert_eq!(w.server.room_keys.len(), 2);
    assert!(
        w.server
            .seen
            .iter()
            .all(|u| !matches!(u, Upload::AccountData { .. }))
    );
}

#[test]
fn storage_off_nothing_leaves_the_device() {
    let mut w = world(KeyStorageMode::Off, 5);
    assert!(w.server.seen.is_empty());
    assert!(w.server.account_data.is_empty());
    assert!(w.server.backup.is_none());
    assert!(w.server.room_keys.is_empty());
    assert!(w.alice_phone.storage.share_backup_key().is_none());
    // Backing up more sessions still sends nothing.
    let mut extra = GroupSession::new(&mut w.rng);
    let inbound = InboundGroupSession::new(&extra.session_key());
    let _ = extra.encrypt(b"x").unwrap();
    let key = RoomKey::from_inbound(
        &inbound,
        ROOM,
        w.alice_phone.account.identity_keys().curve25519,
        Some(w.alice_phone.account.ed25519_key()),
        false,
    );
    assert!(
        w.alice_phone
            .storage
            .back_up(&mut w.rng, ROOM, &key, 0, 0, true)
            .unwrap()
            .is_none()
    );
    // And turning it off again asks the server for nothing.
    assert!(w.alice_phone.storage.turn_off().is_empty());
}

#[test]
fn with_recovery_a_new_device_reads_history_from_the_recovery_key() {
    let mut w = world(KeyStorageMode::WithRecovery, 6);
    let mut laptop = Device::new(&mut w.rng, ALICE, "ALICELAPTOP");
    assert!(laptop.read_history(&w.server).is_empty());
    let recovered = KeyStorage::recover(
        w.recovery_key.as_deref().unwrap(),
        |t| w.server.account_data.get(t),
        w.server.backup_version().unwrap(),
    )
    .unwrap();
    laptop.storage = recovered.storage;
    let restored = laptop.storage.restore(&w.server.all_room_keys()).unwrap();
    assert_eq!(restored.rejected, 0);
    laptop.import(restored);
    assert_eq!(laptop.read_history(&w.server), w.history);
}

#[test]
fn without_recovery_a_new_device_reads_history_once_another_device_shares_the_backup_key() {
    let mut w = world(KeyStorageMode::WithoutRecovery, 7);
    let mut laptop = Device::new(&mut w.rng, ALICE, "ALICELAPTOP");
    // No secret storage: nothing to recover from.
    let err = KeyStorage::recover(
        "EsTZ 4us6 nh29 89jk U1uH Zbae 4PuS QQC1 86pt em8o R8nb bdwQ",
        |t| w.server.account_data.get(t),
        w.server.backup_version().unwrap(),
    )
    .unwrap_err();
    assert_eq!(err, BackupError::NoSecretStorage);
    // The phone, after verifying the laptop, shares the backup key (m.secret.send over Olm).
    let shared = w.alice_phone.storage.share_backup_key().unwrap();
    laptop.storage = KeyStorage::join(
        KeyStorageMode::WithoutRecovery,
        &shared,
        w.server.backup_version().unwrap(),
    )
    .unwrap();
    let restored = laptop.storage.restore(&w.server.all_room_keys()).unwrap();
    laptop.import(restored);
    assert_eq!(laptop.read_history(&w.server), w.history);
}

#[test]
fn storage_off_a_new_device_cannot_read_history() {
    let mut w = world(KeyStorageMode::Off, 8);
    let laptop = Device::new(&mut w.rng, ALICE, "ALICELAPTOP");
    assert!(w.server.backup_version().is_none());
    assert_eq!(
        laptop
            .storage
            .restore(&w.server.all_room_keys())
            .unwrap_err(),
        BackupError::NoBackup
    );
}

#[test]
fn all_devices_lost_the_recovery_key_restores_identity_and_history_and_bob_sees_no_reset() {
    let mut w = world(KeyStorageMode::WithRecovery, 9);
    let old_phone = core::mem::replace(
        &mut w.alice_phone,
        Device::new(&mut ChaCha20Rng::from_seed([99; 32]), ALICE, "UNUSED"),
    );
    let old_identity = old_phone.identity.own_identity().cloned().unwrap();
    drop(old_phone);

    // A new laptop: a new Olm account, a new device id, nothing else.
    let mut laptop = Device::new(&mut w.rng, ALICE, "ALICENEWLAPTOP");
    laptop
        .identity
        .add_own_device(DeviceKeys::from_account(ALICE, "ALICENEWLAPTOP", &laptop.account).unwrap())
        .unwrap();
    let mut with_identity = keys_query(&[], &[]);
    // The server still publishes Alice's identity.
    if let Value::Object(o) = &mut with_identity {
        let mut by = Object::new();
        by.insert(ALICE.into(), old_identity.master_key().to_json());
        o.insert("master_keys".into(), Value::Object(by));
        let mut by = Object::new();
        by.insert(ALICE.into(), old_identity.self_signing_key().to_json());
        o.insert("self_signing_keys".into(), Value::Object(by));
    }
    laptop.identity.receive_keys_query(&with_identity).unwrap();
    assert!(!laptop.identity.is_own_identity_trusted());

    // A mistyped recovery key is told apart from a wrong one, and changes nothing.
    let typed = w.recovery_key.clone().unwrap();
    let mut typo = typed.clone().into_bytes();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let err = KeyStorage::recover(
        &typo,
        |t| w.server.account_data.get(t),
        w.server.backup_version().unwrap(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            BackupError::InvalidParity | BackupError::InvalidBase58 | BackupError::InvalidLength
        ),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(&typo));

    let recovered = KeyStorage::recover(
        &typed,
        |t| w.server.account_data.get(t),
        w.server.backup_version().unwrap(),
    )
    .unwrap();
    // The identity: the same master key, trusted, and the new laptop signed by it.
    assert_eq!(
        recovered.cross_signing.master_public(),
        Some(old_identity.master_key().public_key())
    );
    laptop
        .identity
        .trust_own_identity_with_secrets(&recovered.cross_signing)
        .unwrap();
    let signature_upload = laptop
        .identity
        .verify_own_device(&recovered.cross_signing, "ALICENEWLAPTOP", None)
        .unwrap();
    assert!(signature_upload.get(ALICE).is_some());
    assert_eq!(
        laptop.identity.device_trust(ALICE, "ALICENEWLAPTOP"),
        DeviceTrust::CrossSigned
    );

    // The backup: trusted because we hold its key; history comes back.
    laptop.storage = recovered.storage;
    assert_eq!(
        laptop
            .storage
            .trusts(
                w.server.backup_version().unwrap(),
                &laptop.identity,
                Some(&laptop.account.ed25519_key())
            )
            .unwrap(),
        BackupTrust::MatchesHeldKey
    );
    let restored = laptop.storage.restore(&w.server.all_room_keys()).unwrap();
    assert_eq!((restored.keys.len(), restored.rejected), (2, 0));
    laptop.import(restored);
    assert_eq!(laptop.read_history(&w.server), w.history);

    // Bob sees the same identity, and the new laptop cross-signed by it: no reset, nothing blocked.
    let events = w
        .bob
        .identity
        .receive_keys_query(
            &w.server
                .keys_query(&[&laptop.identity], &[&laptop.identity]),
        )
        .unwrap();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, safemeet::identity::IdentityEvent::Reset { .. })),
        "{events:?}"
    );
    assert_eq!(w.bob.identity.user_status(ALICE), IdentityStatus::Verified);
    assert!(w.bob.identity.check_send(ALICE).is_ok());
    assert_eq!(
        w.bob.identity.device_trust(ALICE, "ALICENEWLAPTOP"),
        DeviceTrust::CrossSigned
    );

    // And she keeps backing up to the same backup.
    assert_eq!(laptop.storage.version(), Some("1"));
}

#[test]
fn all_devices_lost_without_recovery_nothing_comes_back() {
    for (mode, seed) in [
        (KeyStorageMode::WithoutRecovery, 10),
        (KeyStorageMode::Off, 11),
    ] {
        let w = world(mode, seed);
        let empty = Value::Object(Object::new());
        let err = KeyStorage::recover(
            "EsTZ 4us6 nh29 89jk U1uH Zbae 4PuS QQC1 86pt em8o R8nb bdwQ",
            |t| w.server.account_data.get(t),
            w.server.backup_version().unwrap_or(&empty),
        )
        .unwrap_err();
        assert_eq!(err, BackupError::NoSecretStorage, "{mode:?}");
    }
}

#[test]
fn turning_storage_off_deletes_what_was_stored() {
    let mut w = world(KeyStorageMode::WithRecovery, 12);
    let uploads = w.alice_phone.storage.turn_off();
    w.server.apply(uploads);
    assert!(w.server.backup.is_none());
    assert!(w.server.room_keys.is_empty());
    assert!(
        w.server
            .account_data
            .values()
            .all(|v| v.as_object().is_some_and(Object::is_empty))
    );
    assert_eq!(w.alice_phone.storage.mode(), KeyStorageMode::Off);
    assert!(w.alice_phone.storage.share_backup_key().is_none());
}

#[test]
fn a_backup_key_from_elsewhere_is_refused() {
    let mut w = world(KeyStorageMode::WithoutRecovery, 13);
    let stranger = safemeet::backup::key_backup::BackupDecryptionKey::generate(&mut w.rng);
    let err = KeyStorage::join(
        KeyStorageMode::WithoutRecovery,
        &stranger.to_base64(),
        w.server.backup_version().unwrap(),
    )
    .unwrap_err();
    assert_eq!(err, BackupError::KeyMismatch);
}

#[test]
fn with_recovery_a_security_phrase_stands_in_for_the_recovery_key() {
    let mut rng = ChaCha20Rng::from_seed([14; 32]);
    let mut server = Server::default();
    let phone = Account::<4>::new(&mut rng);
    let mut store = IdentityStore::new(ALICE, "ALICEPHONE").unwrap();
    let (secrets, _) = store.reset_identity(&mut rng, &phone).unwrap();
    let phrase = "correct horse battery staple";
    let (mut storage, on) = KeyStorage::turn_on(
        &mut rng,
        KeyStorageMode::WithRecovery,
        &phone,
        ALICE,
        "ALICEPHONE",
        &secrets,
        Some(phrase),
    )
    .unwrap();
    server.apply(on.uploads);
    storage.backup_created("1").unwrap();
    let version = server.backup_version().unwrap();

    let by_phrase = KeyStorage::recover(phrase, |t| server.account_data.get(t), version).unwrap();
    let by_key = KeyStorage::recover(
        on.recovery_key.as_deref().unwrap(),
        |t| server.account_data.get(t),
        version,
    )
    .unwrap();
    for recovered in [&by_phrase, &by_key] {
        assert_eq!(
            recovered.cross_signing.master_public(),
            secrets.master_public()
        );
        assert_eq!(
            recovered.storage.backup_key().map(|k| k.public_key()),
            storage.backup_key().map(|k| k.public_key())
        );
    }
    // A wrong phrase fails the key check; nothing is decrypted.
    let err = KeyStorage::recover(
        "correct horse battery stapler",
        |t| server.account_data.get(t),
        version,
    )
    .unwrap_err();
    assert_eq!(err, BackupError::KeyCheckFailed);
}

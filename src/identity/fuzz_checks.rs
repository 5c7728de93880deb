//! The checks the identity fuzz targets run, public (hidden) so that `tests/fuzz_corpus.rs` replays the
//! committed seeds through exactly the same code. They panic on a broken property, never on bad input.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::codec::json::{self, Value};
use crate::identity::keys::{DeviceKeys, MasterKey, SelfSigningKey, UserSigningKey};
use crate::identity::secrets::UserIdentity;
use crate::identity::signed;
use crate::identity::store::{IdentityStatus, IdentityStore};

/// One key object into every decoder and verifier: no panic, and a key never decodes in two roles.
pub fn check_keys(data: &[u8]) {
    let Ok(value) = json::parse(data) else {
        return;
    };
    let roles = [
        MasterKey::from_json(&value).is_ok(),
        SelfSigningKey::from_json(&value).is_ok(),
        UserSigningKey::from_json(&value).is_ok(),
    ];
    assert!(
        roles.iter().filter(|ok| **ok).count() <= 1,
        "a key decoded in two roles"
    );
    if let Ok(master) = MasterKey::from_json(&value) {
        let user = master.claimed().user_id().to_owned();
        if let Ok(master) = master.verify(&user) {
            let _ = SelfSigningKey::from_json(&value).map(|k| k.verify_with(&master));
            let _ = UserIdentity::from_json(&user, &value, &value, Some(&value));
        }
    }
    if let Ok(device) = DeviceKeys::from_json(&value) {
        let user = device.claimed().user_id().to_owned();
        let id = device.claimed().device_id().to_owned();
        let _ = device.verify(&user, &id);
    }
}

/// A `/keys/query` response into a fresh store: no panic, and nothing unverified is trusted.
pub fn check_keys_query(data: &[u8]) {
    let Ok(value) = json::parse(data) else {
        return;
    };
    let Ok(mut store) = IdentityStore::new("@me:localhost", "MEDEVICE") else {
        return;
    };
    let _ = store.receive_keys_query(&value);
    // Our own identity is not trusted (no SAS, no private keys), so no one is verified and no device
    // is trusted (rules T0 to T3), whatever the server sent.
    let users: Vec<String> = store.users.keys().cloned().collect();
    for user in &users {
        assert_ne!(store.user_status(user), IdentityStatus::Verified);
        assert!(store.check_send(user).is_ok());
        let ids: Vec<String> = store
            .devices(user)
            .map(|d| d.device_id().to_owned())
            .collect();
        for id in ids {
            assert!(!store.device_trust(user, &id).is_verified());
            // Rule T4: a held device never collides with a cross-signing key name.
            if let Some(identity) = store.identity(user) {
                assert!(!identity.device_id_conflicts(&id));
            }
        }
    }
    // A second, identical response changes no pin.
    let pins: Vec<_> = users.iter().map(|u| store.pinned_master_key(u)).collect();
    let _ = store.receive_keys_query(&value);
    let again: Vec<_> = users.iter().map(|u| store.pinned_master_key(u)).collect();
    assert_eq!(pins, again);
}

/// Canonical JSON: encoding a parsed value and parsing it back is a fixed point, and the signing input
/// is the canonical form of the object without `signatures` and `unsigned`.
pub fn check_canonical(data: &[u8]) {
    let Ok(value) = json::parse(data) else {
        return;
    };
    let canonical = value.to_canonical();
    let reparsed = json::parse(canonical.as_bytes()).expect("canonical JSON parses");
    assert_eq!(
        reparsed, value,
        "canonical JSON round trip changed the value"
    );
    assert_eq!(
        reparsed.to_canonical(),
        canonical,
        "canonical JSON is not a fixed point"
    );
    if let Value::Object(object) = &value {
        let mut stripped = object.clone();
        stripped.remove("signatures");
        stripped.remove("unsigned");
        assert_eq!(
            signed::signing_input(object),
            Value::Object(stripped).to_canonical()
        );
    }
}

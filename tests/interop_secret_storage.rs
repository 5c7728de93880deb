//! Interop with matrix-js-sdk 43 (npm), run by Node through `interop/node/secret_storage_peer.mjs`:
//! recovery keys encoded by each side decoded by the other; `m.pbkdf2` derivations agreeing;
//! secrets encrypted by each side (`encryptAESSecretStorageItem` and js-sdk's
//! `ServerSideSecretStorageImpl.store`) decrypted by the other, for the four E2EE secret names and
//! random names and texts, non-ASCII included; tampered ciphertexts and MACs refused by both; key
//! checks computed by each side verified by the other; key descriptions made by each side opened by
//! the other (with a recovery key and with a passphrase); the cross-signing keys stored by us read by
//! js-sdk and the other way round.
//!
//! Requires `npm ci --ignore-scripts` in `interop/node` (CI does it); without it every test fails and
//! says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::print_stdout
)]
#![cfg(feature = "std")]

mod common;

#[path = "common/node_peer.rs"]
mod node_peer;

use node_peer::NodePeer;

use common::{hex, to_hex};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::BackupError;
use safemeet::backup::passphrase::{PassphraseInfo, derive_key};
use safemeet::backup::recovery_key::RecoveryKey;
use safemeet::backup::secret_storage::{
    CROSS_SIGNING_MASTER, CROSS_SIGNING_SELF_SIGNING, CROSS_SIGNING_USER_SIGNING, MEGOLM_BACKUP_V1,
    SecretStorageKey, compute_key_check, verify_key_check,
};
use safemeet::codec::{base64, json};
use safemeet::identity::CrossSigningSecrets;
use serde_json::{Value, json};

/// The Node peer (`interop/node/secret_storage_peer.mjs`).
struct Peer(NodePeer);

impl Peer {
    fn start() -> Self {
        Self(NodePeer::start("secret_storage_peer.mjs", "matrix-js-sdk"))
    }

    fn call(&mut self, request: Value) -> Value {
        self.0.call(&request)
    }

    fn ok(&mut self, request: Value) -> Value {
        self.0.ok(&request)
    }
}

/// Our JSON value as serde's.
fn theirs(v: &json::Value) -> Value {
    serde_json::from_str(&v.to_canonical()).unwrap()
}

/// Serde's JSON value as ours.
fn ours(v: &Value) -> json::Value {
    json::parse(v.to_string().as_bytes()).unwrap()
}

/// A random string: ASCII, Latin-1, CJK and astral-plane characters, length 0 to `max` characters.
fn random_text(rng: &mut ChaCha20Rng, max: usize) -> String {
    const POOL: &[char] = &[
        'a', 'b', 'z', 'A', 'Q', '0', '9', ' ', '.', '_', '"', '\\', '\n', '/', 'é', 'ü', 'ß',
        '日', '本', '語', '🔑', '😀', '\u{7f}', '\u{a0}',
    ];
    let len = (rng.next_u32() as usize) % (max + 1);
    (0..len)
        .map(|_| POOL[(rng.next_u32() as usize) % POOL.len()])
        .collect()
}

fn random_key(rng: &mut ChaCha20Rng) -> RecoveryKey {
    RecoveryKey::generate(rng)
}

fn no_check_description() -> json::Value {
    json::parse(br#"{"algorithm":"m.secret_storage.v1.aes-hmac-sha2"}"#).unwrap()
}

#[test]
fn recovery_keys_cross_decode() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([21; 32]);
    const N: usize = 200;
    let mut rejected = 0;
    for _ in 0..N {
        let key = random_key(&mut rng);
        // Ours → js-sdk.
        let text = key.to_base58();
        let r = peer.ok(json!({"op": "decode", "text": text.as_str()}));
        assert_eq!(hex(r["key"].as_str().unwrap()), key.as_bytes().to_vec());
        // js-sdk → ours, and the two print the same text.
        let r = peer.ok(json!({"op": "encode", "key": to_hex(key.as_bytes())}));
        let js_text = r["text"].as_str().unwrap();
        assert_eq!(js_text, text.as_str());
        assert_eq!(RecoveryKey::decode(js_text).unwrap(), key);
        // A changed character: the parity byte catches all but about 1 in 256 such typos; both
        // sides must agree on which, and on the key they then read.
        let mut chars: Vec<char> = js_text.chars().collect();
        let i = 4 + (rng.next_u32() as usize) % 40;
        let i = if chars[i] == ' ' { i + 1 } else { i };
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let bad: String = chars.into_iter().collect();
        let r = peer.call(json!({"op": "decode", "text": bad}));
        match RecoveryKey::decode(&bad) {
            Err(_) => {
                assert_eq!(r["ok"], false, "js-sdk accepted {bad}");
                rejected += 1;
            }
            Ok(other) => {
                assert_eq!(hex(r["key"].as_str().unwrap()), other.as_bytes().to_vec());
                assert_ne!(other, key);
            }
        }
    }
    assert!(rejected >= N * 9 / 10, "{rejected}");
    println!("{N} recovery keys each way; {rejected} of {N} typos refused by both");
}

#[test]
fn passphrase_derivation_agrees() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([22; 32]);
    const N: usize = 60;
    for i in 0..N {
        let passphrase = random_text(&mut rng, 40);
        let salt = if i % 2 == 0 {
            PassphraseInfo::with_iterations(&mut rng, 1).salt
        } else {
            random_text(&mut rng, 40)
        };
        let iterations = 1 + rng.next_u32() % 64;
        let ours = derive_key(passphrase.as_bytes(), salt.as_bytes(), iterations).unwrap();
        let r = peer.ok(json!({"op": "derive", "passphrase": passphrase, "salt": salt, "iterations": iterations}));
        assert_eq!(hex(r["key"].as_str().unwrap()), ours.as_bytes().to_vec());
    }
    println!("{N} passphrase derivations agree");
}

/// The names tried: the four E2EE secrets, the key-check name and random ones.
fn name_for(rng: &mut ChaCha20Rng, i: usize) -> String {
    match i % 6 {
        0 => CROSS_SIGNING_MASTER.into(),
        1 => CROSS_SIGNING_SELF_SIGNING.into(),
        2 => CROSS_SIGNING_USER_SIGNING.into(),
        3 => MEGOLM_BACKUP_V1.into(),
        4 if i % 12 == 4 => String::new(),
        _ => random_text(rng, 30),
    }
}

#[test]
fn secrets_cross_decrypt_and_tampering_is_refused_by_both() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([23; 32]);
    const N: usize = 150;
    let (mut tampered_ours, mut tampered_theirs) = (0, 0);
    for i in 0..N {
        let key = random_key(&mut rng);
        let name = name_for(&mut rng, i);
        let secret = if i % 6 < 4 {
            base64::encode(random_key(&mut rng).as_bytes())
        } else {
            random_text(&mut rng, 300)
        };
        let storage = SecretStorageKey::from_key("KEYID", &no_check_description(), key).unwrap();
        let key_hex = to_hex(storage.recovery_key().as_bytes());

        // js-sdk → ours.
        let r = peer.ok(json!({"op": "encrypt", "key": key_hex, "name": name, "data": secret}));
        let content = json!({"encrypted": {"KEYID": {"iv": r["iv"], "ciphertext": r["ciphertext"], "mac": r["mac"]}}});
        assert_eq!(
            storage
                .decrypt_secret(&name, &ours(&content))
                .unwrap()
                .as_str(),
            secret
        );
        // js-sdk clears bit 63 too.
        assert_eq!(
            base64::decode(r["iv"].as_str().unwrap()).unwrap()[8] & 0x80,
            0
        );

        // Ours → js-sdk.
        let content = storage.encrypt_secret(&mut rng, &name, &secret).unwrap();
        let entry = theirs(&content)["encrypted"]["KEYID"].clone();
        let r = peer.ok(json!({"op": "decrypt", "key": key_hex, "name": name,
            "iv": entry["iv"], "ciphertext": entry["ciphertext"], "mac": entry["mac"]}));
        assert_eq!(r["data"].as_str().unwrap(), secret);

        // Tampered: one bit of the ciphertext or of the MAC. Both refuse.
        let field = if i % 2 == 0 || secret.is_empty() {
            "mac"
        } else {
            "ciphertext"
        };
        let mut bytes = base64::decode(entry[field].as_str().unwrap()).unwrap();
        let bit = (rng.next_u32() as usize) % (bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        let mut bad = entry.clone();
        bad[field] = Value::String(base64::encode(&bytes));
        let r = peer.call(json!({"op": "decrypt", "key": key_hex, "name": name,
            "iv": bad["iv"], "ciphertext": bad["ciphertext"], "mac": bad["mac"]}));
        assert_eq!(r["ok"], false, "js-sdk accepted a tampered {field}");
        tampered_theirs += 1;
        let bad_content = ours(&json!({"encrypted": {"KEYID": bad}}));
        assert_eq!(
            storage.decrypt_secret(&name, &bad_content).err(),
            Some(BackupError::Authentication)
        );
        tampered_ours += 1;
        // The wrong name: both refuse.
        let other = format!("{name}.");
        assert_eq!(
            storage.decrypt_secret(&other, &content).err(),
            Some(BackupError::Authentication)
        );
        let r = peer.call(json!({"op": "decrypt", "key": key_hex, "name": other,
            "iv": entry["iv"], "ciphertext": entry["ciphertext"], "mac": entry["mac"]}));
        assert_eq!(r["ok"], false);
    }
    println!(
        "{N} secrets each way; {tampered_theirs} tampered refused by js-sdk, {tampered_ours} by us"
    );
}

#[test]
fn key_checks_agree() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([24; 32]);
    const N: usize = 50;
    for _ in 0..N {
        let key = random_key(&mut rng);
        let key_hex = to_hex(key.as_bytes());
        // js-sdk's check, verified by us.
        let r = peer.ok(json!({"op": "keyCheck", "key": key_hex}));
        let iv: [u8; 16] = base64::decode(r["iv"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let mac: [u8; 32] = base64::decode(r["mac"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        verify_key_check(&key, &iv, &mac).unwrap();
        let other = random_key(&mut rng);
        assert_eq!(
            verify_key_check(&other, &iv, &mac),
            Err(BackupError::KeyCheckFailed)
        );
        // Ours, recomputed by js-sdk from the same IV.
        let mut fresh = [0u8; 16];
        rng.fill_bytes(&mut fresh);
        let (iv, mac) = compute_key_check(&key, fresh).unwrap();
        let r = peer.ok(json!({"op": "keyCheck", "key": key_hex, "iv": base64::encode(iv)}));
        assert_eq!(base64::decode(r["mac"].as_str().unwrap()).unwrap(), mac);
    }
    println!("{N} key checks each way");
}

#[test]
fn key_descriptions_open_on_both_sides() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([25; 32]);
    const N: usize = 20;
    for i in 0..N {
        // Ours, opened by js-sdk's checkKey.
        let passphrase = random_text(&mut rng, 20);
        let storage = if i % 2 == 0 {
            SecretStorageKey::new(&mut rng, None)
        } else {
            let info = PassphraseInfo::with_iterations(&mut rng, 5);
            SecretStorageKey::with_passphrase(&mut rng, &passphrase, info).unwrap()
        };
        let info = theirs(&storage.description_content());
        let key_hex = to_hex(storage.recovery_key().as_bytes());
        let r = peer.ok(json!({"op": "checkKey", "key": key_hex, "info": info}));
        assert_eq!(r["matches"], true, "{info}");
        let wrong = to_hex(random_key(&mut rng).as_bytes());
        let r = peer.ok(json!({"op": "checkKey", "key": wrong, "info": info}));
        assert_eq!(r["matches"], false);
        if i % 2 == 1 {
            // js-sdk derives the same key from the description's passphrase object.
            let p = &info["passphrase"];
            let r = peer.ok(json!({"op": "derive", "passphrase": passphrase, "salt": p["salt"], "iterations": p["iterations"]}));
            assert_eq!(r["key"].as_str().unwrap(), key_hex);
        }

        // js-sdk's (addKey), opened by us with the recovery key, the raw key or the passphrase.
        let key = random_key(&mut rng);
        let key_hex = to_hex(key.as_bytes());
        let mut request = json!({"op": "addKey", "key": key_hex});
        let mut js_passphrase = None;
        if i % 2 == 1 {
            let salt = PassphraseInfo::with_iterations(&mut rng, 1).salt;
            let phrase = random_text(&mut rng, 20);
            let r = peer
                .ok(json!({"op": "derive", "passphrase": phrase, "salt": salt, "iterations": 7}));
            request = json!({"op": "addKey", "key": r["key"],
                "passphrase": {"algorithm": "m.pbkdf2", "salt": salt, "iterations": 7}});
            js_passphrase = Some((phrase, r["key"].as_str().unwrap().to_owned()));
        }
        let r = peer.ok(request);
        let key_id = r["keyId"].as_str().unwrap();
        assert_eq!(key_id.len(), 32);
        let description = ours(&r["info"]);
        match js_passphrase {
            None => {
                let text = key.to_base58();
                let opened =
                    SecretStorageKey::from_recovery_key(key_id, &description, &text).unwrap();
                assert_eq!(opened.recovery_key(), &key);
                assert_eq!(
                    SecretStorageKey::from_passphrase(key_id, &description, "x").err(),
                    Some(BackupError::NoPassphrase)
                );
            }
            Some((phrase, derived)) => {
                let opened =
                    SecretStorageKey::from_passphrase(key_id, &description, &phrase).unwrap();
                assert_eq!(to_hex(opened.recovery_key().as_bytes()), derived);
                // Typed either way: the phrase, or the key as js-sdk prints it.
                let r = peer.ok(json!({"op": "encode", "key": derived}));
                for input in [phrase.as_str(), r["text"].as_str().unwrap()] {
                    let opened =
                        SecretStorageKey::from_user_input(key_id, &description, input).unwrap();
                    assert_eq!(to_hex(opened.recovery_key().as_bytes()), derived);
                }
                assert_eq!(
                    SecretStorageKey::from_passphrase(key_id, &description, &format!("{phrase}!"))
                        .err(),
                    Some(BackupError::KeyCheckFailed)
                );
            }
        }
        assert_eq!(
            SecretStorageKey::from_key(key_id, &description, random_key(&mut rng)).err(),
            Some(BackupError::KeyCheckFailed)
        );
    }
    println!("{N} key descriptions each way");
}

#[test]
fn secret_storage_accounts_interoperate() {
    let mut peer = Peer::start();
    let mut rng = ChaCha20Rng::from_seed([26; 32]);
    let storage = SecretStorageKey::new(&mut rng, None);
    let key_hex = to_hex(storage.recovery_key().as_bytes());
    let key_id = storage.key_id().to_owned();
    let info = theirs(&storage.description_content());

    // Our cross-signing keys and backup key, read by js-sdk's SecretStorage.get.
    let secrets = CrossSigningSecrets::generate(&mut rng);
    let events = storage.store_cross_signing(&mut rng, &secrets).unwrap();
    assert_eq!(events.len(), 3);
    let expected = secrets.to_secret_storage();
    for ((name, content), seed) in events.iter().zip(&expected) {
        let r = peer.ok(
            json!({"op": "get", "key": key_hex, "keyId": key_id, "info": info,
            "name": name, "content": theirs(content)}),
        );
        assert_eq!(
            r["secret"].as_str().unwrap(),
            seed.as_ref().unwrap().as_str()
        );
    }
    let backup_key = base64::encode(random_key(&mut rng).as_bytes());
    let content = storage
        .encrypt_secret(&mut rng, MEGOLM_BACKUP_V1, &backup_key)
        .unwrap();
    let r = peer.ok(
        json!({"op": "get", "key": key_hex, "keyId": key_id, "info": info,
        "name": MEGOLM_BACKUP_V1, "content": theirs(&content)}),
    );
    assert_eq!(r["secret"].as_str().unwrap(), backup_key);

    // js-sdk's SecretStorage.store of other cross-signing keys, loaded by us.
    let other = CrossSigningSecrets::generate(&mut rng);
    let names = [
        CROSS_SIGNING_MASTER,
        CROSS_SIGNING_SELF_SIGNING,
        CROSS_SIGNING_USER_SIGNING,
    ];
    let mut account = std::collections::BTreeMap::new();
    for (name, seed) in names.iter().zip(other.to_secret_storage()) {
        let r = peer.ok(
            json!({"op": "store", "key": key_hex, "keyId": key_id, "info": info,
            "name": name, "secret": seed.unwrap().as_str()}),
        );
        account.insert(name.to_string(), ours(&r["content"]));
    }
    let loaded = storage
        .load_cross_signing(|name| account.get(name))
        .unwrap();
    assert_eq!(loaded.master_public(), other.master_public());
    assert_eq!(loaded.self_signing_public(), other.self_signing_public());
    assert_eq!(loaded.user_signing_public(), other.user_signing_public());
    // Under another storage key, nothing opens.
    let stranger = SecretStorageKey::new(&mut rng, None);
    assert_eq!(
        stranger.load_cross_signing(|name| account.get(name)).err(),
        Some(BackupError::NotEncryptedForKey)
    );
}

//! Published key-export files and room keys (`test-vectors/backup-export.json`, sources in the file and
//! in `test-vectors/README.md`), read through the public API:
//!
//! * matrix-rust-sdk's `TEST_EXPORT` (passphrase `1234`, 1 round): decrypted, its one room key imported
//!   with the entry matrix-sdk-crypto reads from it, and its session the one vodozemac imports.
//! * matrix-rust-sdk's timeline-retry fixture: the file's key decrypts the published Megolm event.
//! * Element's four `MegolmExportEncryption` files, including one whose 64-bit counter wraps.
//! * The backed-up room key plaintext of rust-sdk's backup test, through `RoomKey::from_json`.
//!
//! Then the armor variants every client writes or a person may produce (CRLF, one line, other
//! wrapping, padding, indentation), and the refusals: wrong passphrase, tampering, version, rounds,
//! truncation, broken armor, a short buffer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]
#![cfg(feature = "std")]

use safemeet::BackupError;
use safemeet::backup::export::{self, ImportedRoomKeys};
use safemeet::backup::room_key::RoomKey;
use safemeet::codec::{base64, json};
use safemeet::limits::MAX_EXPORT_ROUNDS;
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-vectors/backup-export.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn b64(key: &[u8]) -> String {
    base64::encode(key)
}

/// The session id vodozemac computes for an exported session key.
fn vodozemac_session_id(session_key: &str) -> String {
    let key = vodozemac::megolm::ExportedSessionKey::from_base64(session_key).unwrap();
    vodozemac::megolm::InboundGroupSession::import(
        &key,
        vodozemac::megolm::SessionConfig::version_1(),
    )
    .session_id()
}

fn import(file: &str, passphrase: &str) -> ImportedRoomKeys {
    export::import_room_keys(file, passphrase).unwrap()
}

#[test]
fn rust_sdk_export_decrypts_and_imports() {
    let v = &vectors()["rust_sdk_export"];
    let file = s(&v["file"]);
    let pw = s(&v["passphrase"]);

    let len = export::decrypted_len(file.as_bytes()).unwrap();
    let mut out = vec![0u8; len];
    let n = export::decrypt_into(file.as_bytes(), pw.as_bytes(), &mut out).unwrap();
    assert_eq!(n, len);
    assert!(out.starts_with(s(&v["plaintext_prefix"]).as_bytes()));

    let imported = import(file, pw);
    assert_eq!(imported.rejected, 0);
    let expected = v["entries"].as_array().unwrap();
    assert_eq!(imported.keys.len(), expected.len());
    for (key, e) in imported.keys.iter().zip(expected) {
        assert_eq!(key.room_id.as_deref(), Some(s(&e["room_id"])));
        assert_eq!(key.session_id.as_deref(), Some(s(&e["session_id"])));
        assert_eq!(b64(key.sender_key.as_bytes()), s(&e["sender_key"]));
        assert_eq!(
            b64(key.sender_claimed_ed25519.unwrap().as_bytes()),
            s(&e["sender_claimed_ed25519"])
        );
        assert_eq!(key.shared_history, e["shared_history"].as_bool().unwrap());
        assert_eq!(
            u64::from(key.session_key.index()),
            e["first_known_index"].as_u64().unwrap()
        );
        let session = key.to_inbound().unwrap();
        assert_eq!(session.session_id().as_str(), s(&e["session_id"]));
        assert!(!session.is_verified());
        assert_eq!(
            vodozemac_session_id(&key.session_key.to_base64()),
            s(&e["session_id"])
        );
    }
    println!(
        "rust-sdk TEST_EXPORT: {} room key(s) imported",
        imported.keys.len()
    );
}

#[test]
fn rust_sdk_timeline_fixture_decrypts_its_event() {
    let v = &vectors()["rust_sdk_timeline"];
    let imported = import(s(&v["file"]), s(&v["passphrase"]));
    assert_eq!(imported.rejected, 0);
    let key = imported
        .keys
        .iter()
        .find(|k| k.session_id.as_deref() == Some(s(&v["session_id"])))
        .expect("the fixture's session");
    assert_eq!(key.room_id.as_deref(), Some(s(&v["room_id"])));
    let mut session = key.to_inbound().unwrap();
    let message = base64::decode(s(&v["megolm_ciphertext"])).unwrap();
    let decrypted = session.decrypt(&message).unwrap();
    let event = json::parse(&decrypted.plaintext).unwrap();
    let body = event.get("content").and_then(|c| c.get("body"));
    assert_eq!(
        body.and_then(json::Value::as_str),
        Some(s(&v["decrypted_body"]))
    );
}

#[test]
fn element_files_decrypt() {
    let vectors = vectors();
    let cases = vectors["element"].as_array().unwrap();
    for case in cases {
        let file = s(&case["file"]).as_bytes();
        let plain = export::decrypt(file, s(&case["passphrase"]).as_bytes()).unwrap();
        assert_eq!(&plain[..], s(&case["plaintext"]).as_bytes());
        assert_eq!(export::decrypted_len(file).unwrap(), plain.len());
        // And a wrong passphrase is refused.
        assert_eq!(
            export::decrypt(file, b"not the passphrase").map(|_| ()),
            Err(BackupError::Authentication)
        );
    }
    println!(
        "Element MegolmExportEncryption files: {} decrypted",
        cases.len()
    );
}

#[test]
fn backup_plaintext_parses() {
    let v = &vectors()["backup_plaintext"];
    let value = json::parse(s(&v["json"]).as_bytes()).unwrap();
    let key = RoomKey::from_json(&value).unwrap();
    assert_eq!(key.room_id, None);
    assert_eq!(key.session_id, None);
    assert_eq!(b64(key.sender_key.as_bytes()), s(&v["sender_key"]));
    assert_eq!(
        b64(key.sender_claimed_ed25519.unwrap().as_bytes()),
        s(&v["sender_claimed_ed25519"])
    );
    assert!(key.forwarding_curve25519_key_chain.is_empty());
    assert!(!key.shared_history);
    let session_key = value
        .get("session_key")
        .and_then(json::Value::as_str)
        .unwrap();
    assert_eq!(&*key.session_key.to_base64(), session_key);
    assert_eq!(
        key.to_inbound().unwrap().session_id().as_str(),
        vodozemac_session_id(session_key)
    );

    // Our backup form carries the same members, and reads back to the same key.
    let ours = key.to_backup_json();
    for name in [
        "algorithm",
        "sender_key",
        "session_key",
        "sender_claimed_keys",
        "forwarding_curve25519_key_chain",
    ] {
        assert_eq!(ours.get(name), value.get(name), "{name}");
    }
    assert_eq!(ours.get("room_id"), None);
    let again = RoomKey::from_json(&ours).unwrap();
    assert_eq!(&*again.session_key.to_base64(), session_key);
}

/// The P19 file with its body rewritten by `f` (lines without the armor).
fn rewrap(file: &str, f: impl Fn(&str) -> String) -> String {
    let body: String = file.lines().filter(|l| !l.starts_with("-----")).collect();
    format!("{}\n{}\n{}", export::HEADER, f(&body), export::FOOTER)
}

#[test]
fn armor_variants_are_read() {
    let v = &vectors()["rust_sdk_export"];
    let file = s(&v["file"]);
    let pw = s(&v["passphrase"]).as_bytes();
    let expected = export::decrypt(file.as_bytes(), pw).unwrap();
    let body: String = file.lines().filter(|l| !l.starts_with("-----")).collect();
    let padded_len = body.len().div_ceil(4) * 4;
    let variants = [
        file.replace('\n', "\r\n"),
        format!("\n\n  {file}\n\t\n"),
        rewrap(file, |b| b.to_owned()),
        rewrap(file, |b| {
            b.as_bytes()
                .chunks(64)
                .map(|c| core::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }),
        rewrap(file, |b| format!("{b:=<padded_len$}")),
        rewrap(file, |b| {
            b.as_bytes()
                .chunks(50)
                .map(|c| format!("    {}  ", core::str::from_utf8(c).unwrap()))
                .collect::<Vec<_>>()
                .join("\n")
        }),
        format!(
            "{}  \r\n{body}\r\n   {}\r\n",
            export::HEADER,
            export::FOOTER
        ),
    ];
    assert_ne!(
        padded_len,
        body.len(),
        "the padding variant must add padding"
    );
    for (i, variant) in variants.iter().enumerate() {
        let got = export::decrypt(variant.as_bytes(), pw)
            .unwrap_or_else(|e| panic!("variant {i}: {e:?}"));
        assert_eq!(got, expected, "variant {i}");
    }
    println!("{} armor variants read", variants.len());
}

/// Re-encodes the P19 file after `edit` changed its binary form.
fn edited(file: &str, edit: impl Fn(&mut Vec<u8>)) -> String {
    let body: String = file.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut binary = base64::decode(&body).unwrap();
    edit(&mut binary);
    format!(
        "{}\n{}\n{}\n",
        export::HEADER,
        base64::encode(&binary),
        export::FOOTER
    )
}

#[test]
fn refusals() {
    let v = &vectors()["rust_sdk_export"];
    let file = s(&v["file"]);
    let pw = s(&v["passphrase"]).as_bytes();
    let len = export::decrypted_len(file.as_bytes()).unwrap();
    let check = |what: &str, text: &str, want: BackupError| {
        let mut out = vec![0xAAu8; len + 64];
        let got = export::decrypt_into(text.as_bytes(), pw, &mut out);
        assert_eq!(got, Err(want), "{what}");
        assert!(out.iter().all(|&b| b == 0xAA), "{what}: out was written");
    };
    let mut cases = 0;
    let mut case = |what: &str, text: &str, want: BackupError| {
        check(what, text, want);
        cases += 1;
    };

    {
        let mut out = vec![0xAAu8; len + 64];
        assert_eq!(
            export::decrypt_into(file.as_bytes(), b"12345", &mut out),
            Err(BackupError::Authentication)
        );
        assert!(out.iter().all(|&b| b == 0xAA));
    }
    for at in [0usize, 5, 17, 33, 40, 100, 300] {
        let t = edited(file, |b| {
            let i = if at < 37 {
                at.max(1)
            } else {
                at.min(b.len() - 1)
            };
            if (33..37).contains(&i) {
                return; // the rounds: below
            }
            b[i] ^= 0x01;
        });
        if t != edited(file, |_| {}) {
            case("flipped byte", &t, BackupError::Authentication);
        }
    }
    let last = edited(file, |b| {
        let n = b.len();
        b[n - 1] ^= 0x80;
    });
    case("flipped MAC", &last, BackupError::Authentication);
    case(
        "version 2",
        &edited(file, |b| b[0] = 2),
        BackupError::Unsupported,
    );
    case(
        "rounds 0",
        &edited(file, |b| b[33..37].copy_from_slice(&0u32.to_be_bytes())),
        BackupError::InvalidParameter,
    );
    case(
        "rounds above the cap",
        &edited(file, |b| {
            b[33..37].copy_from_slice(&(MAX_EXPORT_ROUNDS + 1).to_be_bytes());
        }),
        BackupError::InvalidParameter,
    );
    case(
        "rounds changed",
        &edited(file, |b| b[33..37].copy_from_slice(&2u32.to_be_bytes())),
        BackupError::Authentication,
    );
    case(
        "truncated to the header",
        &edited(file, |b| b.truncate(68)),
        BackupError::Malformed,
    );
    case(
        "empty body",
        &edited(file, |b| b.clear()),
        BackupError::Malformed,
    );
    case(
        "dropped a byte",
        &edited(file, |b| {
            b.remove(50);
        }),
        BackupError::Authentication,
    );
    case(
        "no footer",
        file.trim_end_matches("-----END MEGOLM SESSION DATA-----"),
        BackupError::Malformed,
    );
    case(
        "no header",
        file.trim_start_matches("-----BEGIN MEGOLM SESSION DATA-----"),
        BackupError::Malformed,
    );
    case(
        "text before the header",
        &format!("my keys\n{file}"),
        BackupError::Malformed,
    );
    case(
        "text after the footer",
        &format!("{file}\nthanks"),
        BackupError::Malformed,
    );
    case(
        "header and body on one line",
        &file.replacen('\n', "", 1),
        BackupError::Malformed,
    );
    case(
        "body and footer on one line",
        &rewrap(file, |b| b.to_owned()).replace("\n-----END", "-----END"),
        BackupError::Malformed,
    );
    case(
        "a character outside base64",
        &file.replacen("Xke2", "Xk*2", 1),
        BackupError::Malformed,
    );
    case(
        "padding in the middle",
        &file.replacen("Xke2", "Xk=2", 1),
        BackupError::Malformed,
    );
    case(
        "impossible length",
        &rewrap(file, |b| {
            let mut b = b.to_owned();
            while b.len() % 4 != 1 {
                b.push('A');
            }
            b
        }),
        BackupError::Malformed,
    );
    case("base64url", &file.replace('+', "-"), BackupError::Malformed);
    case(
        "non-ASCII whitespace",
        &file.replacen('\n', "\u{a0}\n", 2),
        BackupError::Malformed,
    );
    let cases = cases;

    // A short buffer: the needed size, nothing written.
    let mut short = vec![0xAAu8; len - 1];
    assert_eq!(
        export::decrypt_into(file.as_bytes(), pw, &mut short),
        Err(BackupError::BufferTooSmall { needed: len })
    );
    assert!(short.iter().all(|&b| b == 0xAA));
    println!("{cases} refused files");
}

/// An edit of a room key's JSON object.
type Edit = dyn Fn(&mut serde_json::Map<String, Value>);

#[test]
fn room_key_json_refusals() {
    let v = &vectors()["backup_plaintext"];
    let good: serde_json::Map<String, Value> = serde_json::from_str(s(&v["json"])).unwrap();
    let with = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut m = good.clone();
        edit(&mut m);
        let value = json::parse(serde_json::to_string(&m).unwrap().as_bytes()).unwrap();
        RoomKey::from_json(&value).map(|_| ())
    };
    let cases: Vec<(&str, Box<Edit>, BackupError)> = vec![
        (
            "algorithm v2",
            Box::new(|m| {
                m.insert("algorithm".into(), "m.megolm.v2.aes-sha2".into());
            }),
            BackupError::Unsupported,
        ),
        (
            "no algorithm",
            Box::new(|m| {
                m.remove("algorithm");
            }),
            BackupError::Malformed,
        ),
        (
            "algorithm a number",
            Box::new(|m| {
                m.insert("algorithm".into(), 1.into());
            }),
            BackupError::Malformed,
        ),
        (
            "no sender_key",
            Box::new(|m| {
                m.remove("sender_key");
            }),
            BackupError::Malformed,
        ),
        (
            "short sender_key",
            Box::new(|m| {
                m.insert("sender_key".into(), "AAAA".into());
            }),
            BackupError::Malformed,
        ),
        (
            "no session_key",
            Box::new(|m| {
                m.remove("session_key");
            }),
            BackupError::Malformed,
        ),
        (
            "v2 session_key",
            Box::new(|m| {
                let k = m["session_key"].as_str().unwrap().replacen("AQ", "Ag", 1);
                m.insert("session_key".into(), k.into());
            }),
            BackupError::Malformed,
        ),
        (
            "room_id a number",
            Box::new(|m| {
                m.insert("room_id".into(), 7.into());
            }),
            BackupError::Malformed,
        ),
        (
            "room_id without its sigil",
            Box::new(|m| {
                m.insert("room_id".into(), "room:example.org".into());
            }),
            BackupError::Malformed,
        ),
        (
            "room_id too long",
            Box::new(|m| {
                m.insert("room_id".into(), format!("!{}", "a".repeat(300)).into());
            }),
            BackupError::InvalidParameter,
        ),
        (
            "chain not an array",
            Box::new(|m| {
                m.insert("forwarding_curve25519_key_chain".into(), "x".into());
            }),
            BackupError::Malformed,
        ),
        (
            "chain too long",
            Box::new(|m| {
                let k = m["sender_key"].clone();
                m.insert(
                    "forwarding_curve25519_key_chain".into(),
                    Value::Array(vec![k; 33]),
                );
            }),
            BackupError::InvalidParameter,
        ),
        (
            "chain entry not a key",
            Box::new(|m| {
                m.insert(
                    "forwarding_curve25519_key_chain".into(),
                    serde_json::json!([1]),
                );
            }),
            BackupError::Malformed,
        ),
        (
            "claimed keys not an object",
            Box::new(|m| {
                m.insert("sender_claimed_keys".into(), serde_json::json!([]));
            }),
            BackupError::Malformed,
        ),
        (
            "claimed ed25519 not a point",
            Box::new(|m| {
                // y = 2 is not on the curve.
                let mut b = [0u8; 32];
                b[0] = 2;
                m.insert(
                    "sender_claimed_keys".into(),
                    serde_json::json!({"ed25519": base64::encode(b)}),
                );
            }),
            BackupError::InvalidKey,
        ),
        (
            "claimed other key not a string",
            Box::new(|m| {
                m.insert("sender_claimed_keys".into(), serde_json::json!({"x": 1}));
            }),
            BackupError::Malformed,
        ),
        (
            "shared_history a string",
            Box::new(|m| {
                m.insert("shared_history".into(), "true".into());
            }),
            BackupError::Malformed,
        ),
        (
            "shared history spellings disagree",
            Box::new(|m| {
                m.insert("shared_history".into(), true.into());
                m.insert("m.shared_history".into(), false.into());
            }),
            BackupError::Malformed,
        ),
    ];
    for (what, edit, want) in &cases {
        assert_eq!(with(edit.as_ref()), Err(*want), "{what}");
    }
    assert!(RoomKey::from_json(&json::Value::Array(vec![])).is_err());

    // Accepted: every spelling of the flag, a missing chain and claimed keys, unknown members.
    for name in [
        "shared_history",
        "m.shared_history",
        "org.matrix.msc3061.shared_history",
    ] {
        let mut m = good.clone();
        m.insert(name.into(), true.into());
        let value = json::parse(serde_json::to_string(&m).unwrap().as_bytes()).unwrap();
        assert!(RoomKey::from_json(&value).unwrap().shared_history, "{name}");
    }
    let mut m = good.clone();
    m.remove("forwarding_curve25519_key_chain");
    m.remove("sender_claimed_keys");
    m.insert("unknown".into(), serde_json::json!({"x": [1, 2]}));
    let value = json::parse(serde_json::to_string(&m).unwrap().as_bytes()).unwrap();
    let key = RoomKey::from_json(&value).unwrap();
    assert!(key.sender_claimed_ed25519.is_none());
    // Written back, both members are present, as rust-sdk's BackedUpRoomKey requires.
    let out = key.to_backup_json();
    assert!(out.get("sender_claimed_keys").is_some());
    assert!(out.get("forwarding_curve25519_key_chain").is_some());
    assert_eq!(out.get("m.shared_history"), Some(&json::Value::Bool(false)));
    assert_eq!(out.get("shared_history"), Some(&json::Value::Bool(false)));
    // An export needs a room id.
    assert_eq!(
        key.to_export_json().map(|_| ()),
        Err(BackupError::InvalidParameter)
    );
    println!("{} room-key JSON refusals", cases.len());
}

#[test]
fn session_id_mismatch_is_refused() {
    let v = &vectors()["rust_sdk_export"];
    let mut imported = import(s(&v["file"]), s(&v["passphrase"]));
    let mut key = imported.keys.remove(0);
    key.session_id = Some("DRt2DUEOrg/H+yUGjDTqryf8H1YF/BZjI04HwOVSZcY".into());
    assert_eq!(
        key.to_inbound().map(|_| ()),
        Err(BackupError::SessionIdMismatch)
    );
    assert_eq!(
        key.to_export_json().map(|_| ()),
        Err(BackupError::SessionIdMismatch)
    );
}

/// What we write: Element's wrapping (128 characters, 96 bytes a line) without padding, which
/// rust-sdk's decoder requires, a final newline, and bit 63 of the IV cleared.
#[test]
fn our_armor_shape() {
    use rand_core::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([2; 32]);
    for n in [0usize, 27, 28, 300, 5000] {
        let plaintext = vec![b'x'; n];
        let file = export::encrypt(&mut rng, b"pw", 7, &plaintext).unwrap();
        assert_eq!(file.len(), export::encrypted_len(n));
        assert!(file.ends_with("-----END MEGOLM SESSION DATA-----\n"));
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(lines[0], export::HEADER);
        assert_eq!(lines[lines.len() - 1], export::FOOTER);
        let body = &lines[1..lines.len() - 1];
        for (i, line) in body.iter().enumerate() {
            assert!(!line.contains('='));
            if i + 1 < body.len() {
                assert_eq!(line.len(), 128);
            } else {
                assert!(line.len() <= 128 && !line.is_empty());
            }
        }
        let binary = base64::decode(body.concat()).unwrap();
        assert_eq!(binary.len(), n + export::OVERHEAD);
        assert_eq!(binary[0], 1);
        assert_eq!(binary[17 + 8] & 0x80, 0, "bit 63 of the IV");
        assert_eq!(u32::from_be_bytes(binary[33..37].try_into().unwrap()), 7);
    }
}

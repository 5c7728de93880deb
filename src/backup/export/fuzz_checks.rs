//! Checks over arbitrary bytes for key-export files and room keys, shared by the fuzz target
//! `backup_export` (`fuzz/fuzz_targets/`) and by the corpus replay test (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API, and **test-only**: a failed `assert!` is how a fuzzer reports a finding.
//! The first input byte picks what the rest is:
//!
//! - `0`: a key-export file, read with the fixed passphrase [`PASSPHRASE`]: [`super::decrypted_len`]
//!   and [`super::decrypt_into`] agree, a short buffer is refused with the size the length function
//!   gave, and nothing is written on failure. Files asking for more than [`MAX_FUZZ_ROUNDS`] rounds
//!   are only parsed, so that one input cannot stall the fuzzer in PBKDF2.
//! - `1`: a plaintext, encrypted at 1 round: the file has [`super::encrypted_len`] bytes and decrypts
//!   back to the plaintext; a wrong passphrase and a flipped body character are refused.
//! - `2`: a plaintext that is imported as a file's JSON: [`super::import_room_keys`] never panics, and
//!   what it imports exports and imports again to the same keys.
//! - `3`: one room key's JSON: [`RoomKey::from_json`] never panics, and what it reads writes back (both
//!   shapes) to JSON that reads to the same key.
#![cfg(feature = "alloc")]

use alloc::string::String;
use alloc::vec;

use super::super::room_key::RoomKey;
use crate::BackupError;
use crate::codec::{base64, json};
use crate::session::fuzz_checks::FuzzRng;

/// The passphrase every fuzzed file is read with.
pub const PASSPHRASE: &[u8] = b"fuzz";
/// The most PBKDF2 rounds a fuzzed file is decrypted with.
pub const MAX_FUZZ_ROUNDS: u32 = 16;

fn rng() -> FuzzRng {
    FuzzRng::new(b"safemeet backup_export fuzz")
}

/// Runs the check the first byte of `data` selects.
pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => check_file(rest),
        1 => check_round_trip(rest),
        2 => check_import(rest),
        _ => check_room_key(rest),
    }
}

/// The rounds a file's header names, read leniently (every line that is not armor, whitespace
/// dropped), or `None` when that does not decode.
fn header_rounds(file: &[u8]) -> Option<u32> {
    let text = core::str::from_utf8(file).ok()?;
    let body: String = text
        .lines()
        .filter(|l| !l.trim().starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_ascii_whitespace()))
        .collect();
    let binary = base64::decode(body).ok()?;
    Some(u32::from_be_bytes(binary.get(33..37)?.try_into().ok()?))
}

/// Mode 0: a file from the fuzzer.
pub fn check_file(file: &[u8]) {
    let len = super::decrypted_len(file);
    let affordable = header_rounds(file).is_some_and(|r| r <= MAX_FUZZ_ROUNDS);
    match len {
        Err(e) => {
            let mut out = [0x5Au8; 64];
            assert_eq!(super::decrypt_into(file, PASSPHRASE, &mut out), Err(e));
            assert!(out.iter().all(|&b| b == 0x5A), "written on failure");
        }
        Ok(len) if affordable => {
            if len > 0 {
                let mut short = vec![0x5Au8; len - 1];
                match super::decrypt_into(file, PASSPHRASE, &mut short) {
                    Err(BackupError::BufferTooSmall { needed }) => assert_eq!(needed, len),
                    Err(BackupError::Malformed | BackupError::Unsupported) => {}
                    Err(BackupError::InvalidParameter) => {}
                    other => panic!("short buffer accepted: {other:?}"),
                }
                assert!(short.iter().all(|&b| b == 0x5A), "written on failure");
            }
            let mut out = vec![0x5Au8; len + 1];
            match super::decrypt_into(file, PASSPHRASE, &mut out) {
                Ok(n) => {
                    assert_eq!(n, len);
                    assert_eq!(out[len], 0x5A, "written past the plaintext");
                    // A file that decrypts is imported without panicking.
                    if let Ok(text) = core::str::from_utf8(file) {
                        let _ = super::import_room_keys(text, "fuzz");
                    }
                }
                Err(_) => assert!(out.iter().all(|&b| b == 0x5A), "written on failure"),
            }
        }
        Ok(_) => {}
    }
}

/// Mode 1: our file for the fuzzer's plaintext.
pub fn check_round_trip(plaintext: &[u8]) {
    let mut rng = rng();
    let file = super::encrypt(&mut rng, PASSPHRASE, 1, plaintext).unwrap();
    assert_eq!(file.len(), super::encrypted_len(plaintext.len()));
    assert_eq!(
        super::decrypted_len(file.as_bytes()).unwrap(),
        plaintext.len()
    );
    assert_eq!(
        &*super::decrypt(file.as_bytes(), PASSPHRASE).unwrap(),
        plaintext
    );
    assert_eq!(
        super::decrypt(file.as_bytes(), b"fuzz!").map(|_| ()),
        Err(BackupError::Authentication)
    );
    // Flip one body character (the first after the header line) to another base64 character.
    let mut bytes = file.into_bytes();
    let at = super::HEADER.len() + 1 + plaintext.len() % 40;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    assert!(super::decrypt(&bytes, PASSPHRASE).is_err());
}

/// Mode 2: the fuzzer's plaintext as the JSON inside a file.
pub fn check_import(plaintext: &[u8]) {
    let mut rng = rng();
    let file = super::encrypt(&mut rng, PASSPHRASE, 1, plaintext).unwrap();
    let Ok(imported) = super::import_room_keys(&file, "fuzz") else {
        return;
    };
    let again = super::export_room_keys(&mut rng, &imported.keys, "fuzz", 1).unwrap();
    let back = super::import_room_keys(&again, "fuzz").unwrap();
    assert_eq!(back.rejected, 0);
    assert_eq!(back.keys.len(), imported.keys.len());
    for (a, b) in imported.keys.iter().zip(&back.keys) {
        assert_same(a, b);
    }
}

/// Mode 3: one room key's JSON.
pub fn check_room_key(text: &[u8]) {
    let Ok(value) = json::parse(text) else {
        return;
    };
    let Ok(key) = RoomKey::from_json(&value) else {
        return;
    };
    let backup = RoomKey::from_json(&key.to_backup_json()).unwrap();
    assert_eq!(backup.room_id, None);
    assert_eq!(backup.session_id, None);
    assert_same_key_material(&key, &backup);
    if let Ok(export) = key.to_export_json() {
        let text = export.to_canonical();
        let back = RoomKey::from_json(&json::parse(text.as_bytes()).unwrap()).unwrap();
        assert_same_key_material(&key, &back);
        assert_eq!(back.room_id, key.room_id);
        // The export always names the session, by the id of the key it holds (which a present
        // `session_id` had to equal for the export to succeed).
        assert_eq!(
            back.session_id.as_deref(),
            Some(key.session_key.session_id().as_str())
        );
    }
    let _ = key.to_inbound();
}

fn assert_same_key_material(a: &RoomKey, b: &RoomKey) {
    assert_eq!(a.sender_key, b.sender_key);
    assert_eq!(a.sender_claimed_ed25519, b.sender_claimed_ed25519);
    assert_eq!(
        a.forwarding_curve25519_key_chain,
        b.forwarding_curve25519_key_chain
    );
    assert_eq!(*a.session_key.to_bytes(), *b.session_key.to_bytes());
    assert_eq!(a.shared_history, b.shared_history);
}

fn assert_same(a: &RoomKey, b: &RoomKey) {
    assert_same_key_material(a, b);
    assert_eq!(a.room_id, b.room_id);
    assert_eq!(a.session_id, b.session_id);
}

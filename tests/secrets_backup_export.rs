//! Room keys and key-export results never print their session keys, and the export errors carry no
//! input: `Debug` of `RoomKey` and `ImportedRoomKeys`, and the text of every error a file can cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![cfg(feature = "std")]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::backup::export;
use safemeet::backup::room_key::RoomKey;
use safemeet::codec::base64;
use safemeet::megolm::{GroupSession, InboundGroupSession};
use safemeet::primitives::curve25519::Curve25519PublicKey;

/// Ways the session key could appear in text: its ratchet bytes in hex (either case) or as a decimal
/// list, and the base64 of the whole export.
fn assert_no_leak(text: &str, key: &RoomKey) {
    let bytes = key.session_key.to_bytes();
    let ratchet = &bytes[5..133];
    let hex: String = ratchet.iter().map(|b| format!("{b:02x}")).collect();
    let decimal = format!("{:?}", &ratchet[..4]);
    let b64 = base64::encode(&bytes[..]);
    for pattern in [
        hex[..16].to_owned(),
        hex[..16].to_uppercase(),
        decimal.trim_end_matches(']').to_owned(),
        b64[8..40].to_owned(),
    ] {
        assert!(
            !text.contains(&pattern),
            "{text:?} contains the session key ({pattern})"
        );
    }
}

#[test]
fn room_keys_redact_their_session_key() {
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let outbound = GroupSession::new(&mut rng);
    let inbound = InboundGroupSession::new(&outbound.session_key());
    let key = RoomKey::from_inbound(
        &inbound,
        "!room:example.org",
        Curve25519PublicKey::from_bytes([5; 32]),
        None,
        true,
    );
    let debug = format!("{key:?}");
    assert!(debug.contains("RoomKey"));
    assert!(debug.contains("!room:example.org"));
    assert!(debug.contains(inbound.session_id().as_str()));
    assert_no_leak(&debug, &key);
    assert_no_leak(&format!("{key:#?}"), &key);

    let file = export::export_room_keys(&mut rng, &[key], "pw", 1).unwrap();
    let imported = export::import_room_keys(&file, "pw").unwrap();
    let debug = format!("{imported:?}");
    assert!(debug.contains("rejected: 0"));
    assert_no_leak(&debug, &imported.keys[0]);
}

#[test]
fn export_errors_carry_no_input() {
    let mut rng = ChaCha20Rng::from_seed([6; 32]);
    let passphrase = "hunter2-passphrase";
    let file = export::encrypt(
        &mut rng,
        passphrase.as_bytes(),
        1,
        b"[\"secret-plaintext\"]",
    )
    .unwrap();
    let body_line = file.lines().nth(1).unwrap();
    let attempts = [
        export::decrypt(file.as_bytes(), b"wrong-passphrase").map(|_| ()),
        export::decrypt(file.replace('A', "*").as_bytes(), passphrase.as_bytes()).map(|_| ()),
        export::decrypt(&file.as_bytes()[..40], passphrase.as_bytes()).map(|_| ()),
        export::import_room_keys(&file, passphrase).map(|_| ()),
    ];
    let mut seen = 0;
    for err in attempts.iter().filter_map(|r| r.err()) {
        for text in [
            err.to_string(),
            format!("{err:?}"),
            safemeet::Error::from(err).to_string(),
        ] {
            for secret in [
                passphrase,
                "wrong-passphrase",
                "secret-plaintext",
                &body_line[..20],
            ] {
                assert!(!text.contains(secret), "{text:?} contains {secret:?}");
            }
        }
        seen += 1;
    }
    // The last one decrypts, but its single entry is not a room key: it is counted, not an error.
    assert_eq!(seen, 3);
    assert_eq!(
        export::import_room_keys(&file, passphrase)
            .unwrap()
            .rejected,
        1
    );
}

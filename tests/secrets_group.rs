//! Group-session secrets (ratchet bytes, signing seeds) never show up in `Debug` output.
#![cfg(feature = "hazmat")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use safemeet::group::Ratchet;
use safemeet::megolm::{GroupSession, InboundGroupSession};
use safemeet::session::group as native;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[track_caller]
fn assert_no_leak(text: &str, secret: &[u8]) {
    let h = hex(secret);
    for pattern in [
        h[..16].to_owned(),
        h[..16].to_uppercase(),
        format!("{:?}", &secret[..4])
            .trim_end_matches(']')
            .to_owned(),
    ] {
        assert!(!text.contains(&pattern), "{text:?} leaks {pattern}");
    }
}

#[test]
fn group_types_redact_their_secrets() {
    let ratchet: [u8; 128] = core::array::from_fn(|i| (i as u8).wrapping_mul(29).wrapping_add(3));
    let seed: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(41).wrapping_add(7));
    let parts = [
        &ratchet[..32],
        &ratchet[32..64],
        &ratchet[64..96],
        &ratchet[96..],
    ];

    let r = Ratchet::from_bytes(&ratchet, 9);
    let out = GroupSession::from_parts(&ratchet, 9, &seed);
    let key = out.session_key();
    let inbound = InboundGroupSession::new(&key);
    let export = inbound.export_at(9).unwrap();
    let nout = native::GroupSession::from_parts(&ratchet, 9, &seed);
    let nkey = nout.sender_key();
    let ninbound = native::InboundGroupSession::new(&nkey);
    let nexport = ninbound.export_at(9).unwrap();
    let texts = [
        format!("{r:?}"),
        format!("{out:?}"),
        format!("{out:#?}"),
        format!("{key:?}"),
        format!("{inbound:?}"),
        format!("{export:?}"),
        format!("{nout:?}"),
        format!("{nkey:?}"),
        format!("{ninbound:?}"),
        format!("{nexport:?}"),
    ];
    for text in &texts {
        for part in parts {
            assert_no_leak(text, part);
        }
        assert_no_leak(text, &seed);
    }
    // They do say which session and index they are.
    assert!(texts[1].contains(out.session_id().as_str()));
    assert!(texts[4].contains("first_known_index: 9"));
}

//! Signed JSON beside ruma-signatures 0.22.1, in one run.
//!
//! Run with `cargo bench` in `interop/ruma`. Both implementations start from the same JSON text:
//! `verify-device-keys/<implementation>` parses matrix-rust-sdk's device-keys object (P16), builds its
//! canonical signing input and verifies the Ed25519 signature (ours: `codec::json::parse` +
//! `identity::signed::verify`; ruma: `serde_json` into a `CanonicalJsonObject` + `verify_json`).
//! `sign-device-keys/<implementation>` parses the unsigned object, signs it and writes the signed JSON
//! text.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use safemeet::codec::json::{self, Value};
use safemeet::identity::signed;
use safemeet::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};

const DEVICE: &str = r#"{"device_id":"GBEWHQOYGS","algorithms":["m.olm.v1.curve25519-aes-sha2","m.megolm.v1.aes-sha2"],"keys":{"curve25519:GBEWHQOYGS":"F8QhZ0Z1rjtWrQOblMDgZtEX5x1UrG7sZ2Kk3xliNAU","ed25519:GBEWHQOYGS":"n469gw7zm+KW+JsFIJKnFVvCKU14HwQyocggcCIQgZY"},"signatures":{"@example:localhost":{"ed25519:GBEWHQOYGS":"OlF2REsqjYdAfr04ONx8VS/5cB7KjrWYRlLF4eUm2foAiQL/RAfsjsa2JXZeoOHh6vEualZHbWlod49OewVqBg"}},"unsigned":{"device_display_name":"Weechat-Matrix-rs"},"user_id":"@example:localhost"}"#;
const DEVICE_KEY: &str = "n469gw7zm+KW+JsFIJKnFVvCKU14HwQyocggcCIQgZY";
const USER: &str = "@example:localhost";
const KEY_ID: &str = "ed25519:GBEWHQOYGS";

fn verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify-device-keys");
    let key = Ed25519PublicKey::from_slice(&safemeet::codec::base64::decode(DEVICE_KEY).unwrap())
        .unwrap();
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            let Value::Object(o) = json::parse(black_box(DEVICE.as_bytes())).unwrap() else {
                unreachable!()
            };
            signed::verify(&o, USER, KEY_ID, &key).unwrap();
        });
    });
    let map: ruma_signatures::PublicKeyMap =
        serde_json::from_value(serde_json::json!({ USER: { KEY_ID: DEVICE_KEY } })).unwrap();
    g.bench_function("ruma-signatures", |b| {
        b.iter(|| {
            let o = serde_json::from_str(black_box(DEVICE)).unwrap();
            ruma_signatures::verify_json(&map, &o).unwrap();
        });
    });
    g.finish();
}

fn sign(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign-device-keys");
    let mut unsigned: serde_json::Value = serde_json::from_str(DEVICE).unwrap();
    unsigned.as_object_mut().unwrap().remove("signatures");
    let text = unsigned.to_string();
    let seed = [0x42u8; 32];
    let ours = Ed25519SecretKey::from_seed(&seed);
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            let Value::Object(mut o) = json::parse(black_box(text.as_bytes())).unwrap() else {
                unreachable!()
            };
            signed::sign(&mut o, USER, "ed25519:SSK", &ours).unwrap();
            black_box(Value::Object(o).to_canonical())
        });
    });
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    let theirs = ruma_signatures::Ed25519KeyPair::from_der(&der, "SSK".into()).unwrap();
    g.bench_function("ruma-signatures", |b| {
        b.iter(|| {
            let mut o = serde_json::from_str(black_box(&text)).unwrap();
            ruma_signatures::sign_json(USER, &theirs, &mut o).unwrap();
            black_box(serde_json::to_string(&o).unwrap())
        });
    });
    g.finish();
}

criterion_group!(benches, verify, sign);
criterion_main!(benches);

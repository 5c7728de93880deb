//! Signed JSON and trust evaluation over a `/keys/query` response.
//!
//! Run with `cargo bench --bench identity`. The same signed-JSON benchmarks run beside ruma-signatures
//! in `interop/ruma` (`cd interop/ruma && cargo bench`), a crate of its own because ruma-signatures
//! would change ed25519-dalek's features in safemeet's own test builds.
//! `verify-device-keys/safemeet` parses matrix-rust-sdk's device-keys object (P16), builds its
//! canonical signing input and verifies the Ed25519 signature. `sign-device-keys/safemeet` parses the
//! unsigned object, signs it and writes the signed JSON text. `keys-query-trust/safemeet` applies rust-sdk's `@me` and `@dan` responses (P20) to a fresh
//! store, trusts our identity with the private master key and evaluates the user and both devices.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use safemeet::codec::json::{self, Value};
use safemeet::identity::{CrossSigningSecrets, IdentityStore, signed};
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
    g.finish();
}

fn trust(c: &mut Criterion) {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../test-vectors/identity.json")).unwrap();
    let cs = &vectors["cross_signing"];
    let me = json::parse(cs["me_keys_query_response"].to_string().as_bytes()).unwrap();
    let dan = json::parse(cs["dan_keys_query_response"].to_string().as_bytes()).unwrap();
    let secrets =
        CrossSigningSecrets::from_secret_storage(cs["me_private"]["master"].as_str(), None, None)
            .unwrap();
    let mut g = c.benchmark_group("keys-query-trust");
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            let mut store = IdentityStore::new("@me:localhost", "MEDEVICE").unwrap();
            store.receive_keys_query(black_box(&me)).unwrap();
            store.trust_own_identity_with_secrets(&secrets).unwrap();
            store.receive_keys_query(black_box(&dan)).unwrap();
            assert!(store.is_user_verified("@dan:localhost"));
            black_box((
                store.device_trust("@dan:localhost", "JHPUERYQUW"),
                store.device_trust("@dan:localhost", "FRGNMZVOKA"),
            ))
        });
    });
    g.finish();
}

criterion_group!(benches, verify, sign, trust);
criterion_main!(benches);

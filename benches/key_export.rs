//! Key-export files: export and import of 1000 room keys (JSON + encryption), at 1 PBKDF2 round so the
//! figure is the format's own cost, and at the default 500,000 rounds (where PBKDF2 is nearly all of
//! it).
//!
//! Run with `cargo bench --bench key_export`. The peer's figures come from matrix-sdk-crypto-wasm's
//! `encryptExportedRoomKeys`/`decryptExportedRoomKeys` on the same JSON: this bench writes the 1000
//! keys' JSON to `target/key_export_1000.json`; then
//! `node interop/node/bench_export.mjs target/key_export_1000.json`. (vodozemac has no key-export file.)
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;
use core::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::backup::export::{self, DEFAULT_ROUNDS};
use safemeet::backup::room_key::RoomKey;
use safemeet::megolm::{GroupSession, InboundGroupSession};
use safemeet::primitives::curve25519::Curve25519PublicKey;
use safemeet::primitives::ed25519::Ed25519SecretKey;

const KEYS: usize = 1000;

fn keys(rng: &mut ChaCha20Rng) -> Vec<RoomKey> {
    (0..KEYS)
        .map(|i| {
            let outbound = GroupSession::new(rng);
            let inbound = InboundGroupSession::new(&outbound.session_key());
            let claimed = Ed25519SecretKey::generate(rng).public_key();
            RoomKey::from_inbound(
                &inbound,
                &format!("!room{}:example.org", i % 50),
                Curve25519PublicKey::from_bytes([i as u8; 32]),
                Some(claimed),
                i.is_multiple_of(2),
            )
        })
        .collect()
}

fn write_peer_input(keys: &[RoomKey]) {
    let json: Vec<String> = keys
        .iter()
        .map(|k| k.to_export_json().unwrap().to_canonical())
        .collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/key_export_1000.json");
    let _ = std::fs::write(path, format!("[{}]", json.join(",")));
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let keys = keys(&mut rng);
    write_peer_input(&keys);

    let mut g = c.benchmark_group("key-export-1000");
    for (rounds, label) in [(1, "1-round"), (DEFAULT_ROUNDS, "500k-rounds")] {
        if rounds > 1 {
            g.sample_size(10);
            g.measurement_time(Duration::from_secs(10));
        }
        let file = export::export_room_keys(&mut rng, &keys, "passphrase", rounds).unwrap();
        g.bench_function(format!("export/{label}/safemeet"), |b| {
            b.iter(|| {
                export::export_room_keys(&mut rng, black_box(&keys), "passphrase", rounds).unwrap()
            });
        });
        g.bench_function(format!("import/{label}/safemeet"), |b| {
            b.iter_batched(
                || file.clone(),
                |f| {
                    let imported = export::import_room_keys(black_box(&f), "passphrase").unwrap();
                    assert_eq!(imported.keys.len(), KEYS);
                    imported
                },
                BatchSize::LargeInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

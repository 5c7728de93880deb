//! SAS verification beside vodozemac's `sas` module, in one run.
//!
//! Run with `cargo bench --bench verification`. `sas-to-emoji/<implementation>` is a whole short
//! authentication string for *both* sides: two ephemeral key pairs, two Diffie-Hellman exchanges, the
//! SAS bytes with the `curve25519-hkdf-sha256` info string on each side (built from the ids and both
//! keys, as rust-sdk builds it for vodozemac), and the seven emoji indices. `sas-mac/<implementation>`
//! is one side's MAC of a device key in the `hkdf-hmac-sha256.v2` encoding.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::primitives::ed25519::Ed25519SecretKey;
use safemeet::verification::sas::{
    Base64_32, KeyAgreement, MacIds, MacMethod, Party, Role, Sas, SasIds,
};

const ALICE: &str = "@alice:example.org";
const ALICE_DEVICE: &str = "ALICEPHONE";
const BOB: &str = "@bob:example.org";
const BOB_DEVICE: &str = "BOBPHONE";
const TXN: &str = "bYxBsirjUJO9osar6ST4i2M2NjrYLA7l";

fn sas_to_emoji(c: &mut Criterion) {
    let mut g = c.benchmark_group("sas-to-emoji");
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let ids = SasIds {
        starter: Party {
            user_id: ALICE,
            device_id: ALICE_DEVICE,
        },
        acceptor: Party {
            user_id: BOB,
            device_id: BOB_DEVICE,
        },
        transaction_id: TXN,
    };
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            let alice = Sas::new(&mut rng);
            let bob = Sas::new(&mut rng);
            let (ak, bk) = (alice.public_key(), bob.public_key());
            let alice = alice.diffie_hellman(&bk).unwrap();
            let bob = bob.diffie_hellman(&ak).unwrap();
            let kap = KeyAgreement::Curve25519HkdfSha256;
            let ea = alice
                .sas_bytes(kap, Role::Starter, &ids)
                .unwrap()
                .emoji_indices();
            let eb = bob
                .sas_bytes(kap, Role::Acceptor, &ids)
                .unwrap()
                .emoji_indices();
            black_box((ea, eb))
        })
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            let alice = vodozemac::sas::Sas::new();
            let bob = vodozemac::sas::Sas::new();
            let (ak, bk) = (alice.public_key(), bob.public_key());
            let alice = alice.diffie_hellman(bk).unwrap();
            let bob = bob.diffie_hellman(ak).unwrap();
            let info = format!(
                "MATRIX_KEY_VERIFICATION_SAS|{ALICE}|{ALICE_DEVICE}|{}|{BOB}|{BOB_DEVICE}|{}|{TXN}",
                ak.to_base64(),
                bk.to_base64()
            );
            let ea = alice.bytes(&info).emoji_indices();
            let eb = bob.bytes(&info).emoji_indices();
            black_box((ea, eb))
        })
    });
    g.finish();
}

fn sas_mac(c: &mut Criterion) {
    let mut g = c.benchmark_group("sas-mac");
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let device_key = Ed25519SecretKey::generate(&mut rng).public_key();
    let device_b64 = Base64_32::encode(device_key.as_bytes());
    let ours = Sas::new(&mut rng);
    let theirs = vodozemac::sas::Sas::new();
    let our_pub = ours.public_key();
    let ours = ours
        .diffie_hellman_base64(&theirs.public_key().to_base64())
        .unwrap();
    let theirs = theirs
        .diffie_hellman(vodozemac::Curve25519PublicKey::from_bytes(
            our_pub.to_bytes(),
        ))
        .unwrap();
    let ids = MacIds {
        sender: Party {
            user_id: ALICE,
            device_id: ALICE_DEVICE,
        },
        receiver: Party {
            user_id: BOB,
            device_id: BOB_DEVICE,
        },
        transaction_id: TXN,
    };
    let key_id = format!("ed25519:{ALICE_DEVICE}");
    g.bench_function("safemeet", |b| {
        b.iter(|| {
            ours.mac_key(
                MacMethod::HkdfHmacSha256V2,
                black_box(&ids),
                &key_id,
                &device_key,
            )
            .unwrap()
        })
    });
    g.bench_function("vodozemac", |b| {
        b.iter(|| {
            let info = format!(
                "MATRIX_KEY_VERIFICATION_MAC{ALICE}{ALICE_DEVICE}{BOB}{BOB_DEVICE}{TXN}{key_id}"
            );
            theirs
                .calculate_mac(device_b64.as_str(), black_box(&info))
                .to_base64()
        })
    });
    g.finish();
}

criterion_group!(benches, sas_to_emoji, sas_mac);
criterion_main!(benches);

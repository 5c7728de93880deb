//! SAS interop with vodozemac: for random ephemeral keys, identities and transaction ids, safemeet and
//! vodozemac derive the same SAS bytes, emoji indices, decimals and MACs (v2 and the legacy libolm
//! encoding), in both roles, and each accepts the other's MACs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::VerificationError;
use safemeet::primitives::curve25519::Curve25519PublicKey;
use safemeet::primitives::ed25519::Ed25519SecretKey;
use safemeet::verification::sas::{
    Base64_32, ExpectedKeys, KeyAgreement, MacIds, MacMethod, Party, Role, Sas, SasIds,
};

const ROUNDS: usize = 40;

fn random_id(rng: &mut ChaCha20Rng, prefix: &str) -> String {
    // Ids with the characters that matter: `|` (the separator of the current info format), `:`, non-ASCII.
    const CHARS: &[char] = &[
        'A', 'z', '0', '9', ':', '.', '|', '_', 'é', '日', '😀', '+', '/',
    ];
    let len = 1 + (rng.next_u32() % 24) as usize;
    let mut s = String::from(prefix);
    for _ in 0..len {
        s.push(CHARS[(rng.next_u32() as usize) % CHARS.len()]);
    }
    s
}

struct Scenario {
    starter_user: String,
    starter_device: String,
    acceptor_user: String,
    acceptor_device: String,
    txn: String,
}

impl Scenario {
    fn new(rng: &mut ChaCha20Rng) -> Self {
        Self {
            starter_user: random_id(rng, "@"),
            starter_device: random_id(rng, ""),
            acceptor_user: random_id(rng, "@"),
            acceptor_device: random_id(rng, ""),
            txn: random_id(rng, ""),
        }
    }

    fn ids(&self) -> SasIds<'_> {
        SasIds {
            starter: Party {
                user_id: &self.starter_user,
                device_id: &self.starter_device,
            },
            acceptor: Party {
                user_id: &self.acceptor_user,
                device_id: &self.acceptor_device,
            },
            transaction_id: &self.txn,
        }
    }

    /// vodozemac takes the info string whole; this builds it as rust-sdk does.
    fn sas_info(&self, kap: KeyAgreement, starter_key: &str, acceptor_key: &str) -> String {
        match kap {
            KeyAgreement::Curve25519HkdfSha256 => format!(
                "MATRIX_KEY_VERIFICATION_SAS|{}|{}|{starter_key}|{}|{}|{acceptor_key}|{}",
                self.starter_user,
                self.starter_device,
                self.acceptor_user,
                self.acceptor_device,
                self.txn
            ),
            KeyAgreement::Curve25519 => format!(
                "MATRIX_KEY_VERIFICATION_SAS{}{}{}{}{}",
                self.starter_user,
                self.starter_device,
                self.acceptor_user,
                self.acceptor_device,
                self.txn
            ),
            _ => unreachable!(),
        }
    }
}

fn mac_info(sender: &Party<'_>, receiver: &Party<'_>, txn: &str, suffix: &str) -> String {
    format!(
        "MATRIX_KEY_VERIFICATION_MAC{}{}{}{}{txn}{suffix}",
        sender.user_id, sender.device_id, receiver.user_id, receiver.device_id
    )
}

#[test]
fn sas_bytes_emoji_and_decimals_match_vodozemac_in_both_roles() {
    let mut rng = ChaCha20Rng::from_seed([0x5a; 32]);
    let mut cases = 0;
    for round in 0..ROUNDS {
        let scenario = Scenario::new(&mut rng);
        let ids = scenario.ids();
        for kap in [KeyAgreement::Curve25519HkdfSha256, KeyAgreement::Curve25519] {
            for we_start in [true, false] {
                let ours = Sas::new(&mut rng);
                let theirs = vodozemac::sas::Sas::new();
                let our_pub = ours.public_key();
                let their_pub = Curve25519PublicKey::from_bytes(theirs.public_key().to_bytes());
                let ours = ours.diffie_hellman(&their_pub).unwrap();
                let theirs = theirs
                    .diffie_hellman(vodozemac::Curve25519PublicKey::from_bytes(
                        our_pub.to_bytes(),
                    ))
                    .unwrap();

                let (role, starter_key, acceptor_key) = if we_start {
                    (Role::Starter, our_pub, their_pub)
                } else {
                    (Role::Acceptor, their_pub, our_pub)
                };
                let info = scenario.sas_info(
                    kap,
                    Base64_32::encode(starter_key.as_bytes()).as_str(),
                    Base64_32::encode(acceptor_key.as_bytes()).as_str(),
                );
                let our_bytes = ours.sas_bytes(kap, role, &ids).unwrap();
                let their_bytes = theirs.bytes(&info);
                assert_eq!(
                    our_bytes.as_bytes(),
                    their_bytes.as_bytes(),
                    "round {round}"
                );
                assert_eq!(our_bytes.emoji_indices(), their_bytes.emoji_indices());
                assert_eq!(our_bytes.decimals(), their_bytes.decimals());
                assert_eq!(ours.bytes(info.as_bytes()), our_bytes);

                let mut raw = [0u8; 100];
                ours.bytes_raw(b"TEST", &mut raw).unwrap();
                assert_eq!(&raw[..], &theirs.bytes_raw("TEST", 100).unwrap()[..]);
                cases += 1;
            }
        }
    }
    assert_eq!(cases, ROUNDS * 4);
}

#[test]
fn macs_match_vodozemac_for_both_methods_and_roles() {
    let mut rng = ChaCha20Rng::from_seed([0xa5; 32]);
    for _ in 0..ROUNDS {
        let scenario = Scenario::new(&mut rng);
        let ids = scenario.ids();
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

        // Each side's device key and master key, with rust-sdk's key ids.
        let device_key = Ed25519SecretKey::generate(&mut rng).public_key();
        let master_key = Ed25519SecretKey::generate(&mut rng).public_key();
        let device_b64 = Base64_32::encode(device_key.as_bytes());
        let master_b64 = Base64_32::encode(master_key.as_bytes());

        for we_send in [true, false] {
            let (sender, receiver) = if we_send {
                (ids.starter, ids.acceptor)
            } else {
                (ids.acceptor, ids.starter)
            };
            let mac_ids = MacIds {
                sender,
                receiver,
                transaction_id: &scenario.txn,
            };
            let device_id = format!("ed25519:{}", sender.device_id);
            let master_id = format!("ed25519:{master_b64}");
            let mut sorted = [device_id.as_str(), master_id.as_str()];
            sorted.sort();
            let joined = sorted.join(",");

            for method in [MacMethod::HkdfHmacSha256V2, MacMethod::HkdfHmacSha256] {
                let vodo_mac = |input: &str, suffix: &str| {
                    let info = mac_info(&sender, &receiver, &scenario.txn, suffix);
                    match method {
                        MacMethod::HkdfHmacSha256V2 => {
                            theirs.calculate_mac(input, &info).to_base64()
                        }
                        _ => theirs.calculate_mac_invalid_base64(input, &info),
                    }
                };
                let device_mac = ours
                    .mac_key(method, &mac_ids, &device_id, &device_key)
                    .unwrap();
                let master_mac = ours
                    .mac_key(method, &mac_ids, &master_id, &master_key)
                    .unwrap();
                let keys_mac = ours
                    .mac_key_ids(method, &mac_ids, &[&device_id, &master_id])
                    .unwrap();
                assert_eq!(
                    device_mac.as_str(),
                    vodo_mac(device_b64.as_str(), &device_id)
                );
                assert_eq!(
                    master_mac.as_str(),
                    vodo_mac(master_b64.as_str(), &master_id)
                );
                assert_eq!(keys_mac.as_str(), vodo_mac(&joined, "KEY_IDS"));

                // Our verifier accepts the MACs vodozemac computed (as the receiving side).
                let their_device = vodo_mac(device_b64.as_str(), &device_id);
                let their_master = vodo_mac(master_b64.as_str(), &master_id);
                let their_keys = vodo_mac(&joined, "KEY_IDS");
                let expected = ExpectedKeys {
                    device: Some((sender.device_id, device_key)),
                    master_key: Some(master_key),
                };
                let verified = ours
                    .verify_macs(
                        method,
                        &mac_ids,
                        &[(&master_id, &their_master), (&device_id, &their_device)],
                        &their_keys,
                        &expected,
                    )
                    .unwrap();
                assert_eq!(verified.device_key(), Some(device_key));
                assert_eq!(verified.master_key(), Some(master_key));

                // And rejects them when one is changed.
                let mut bad = their_device.clone().into_bytes();
                bad[5] = if bad[5] == b'A' { b'B' } else { b'A' };
                let bad = String::from_utf8(bad).unwrap();
                assert_eq!(
                    ours.verify_macs(
                        method,
                        &mac_ids,
                        &[(&device_id, &bad), (&master_id, &their_master)],
                        &their_keys,
                        &expected,
                    ),
                    Err(VerificationError::Authentication)
                );
            }

            // vodozemac verifies our v2 MAC.
            let info = mac_info(&sender, &receiver, &scenario.txn, &device_id);
            let mac = ours
                .mac_key(
                    MacMethod::HkdfHmacSha256V2,
                    &mac_ids,
                    &device_id,
                    &device_key,
                )
                .unwrap();
            theirs
                .verify_mac(
                    device_b64.as_str(),
                    &info,
                    &vodozemac::sas::Mac::from_base64(mac.as_str()).unwrap(),
                )
                .unwrap();
        }
    }
}

#[test]
fn legacy_base64_matches_vodozemac_for_random_macs() {
    // The libolm in-place base64 over many MACs (arbitrary inputs and info strings).
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    for _ in 0..200 {
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
        let key = Ed25519SecretKey::generate(&mut rng).public_key();
        let ids = MacIds {
            sender: Party {
                user_id: "@a:x",
                device_id: "D",
            },
            receiver: Party {
                user_id: "@b:x",
                device_id: "E",
            },
            transaction_id: "t",
        };
        let ours_mac = ours
            .mac_key(MacMethod::HkdfHmacSha256, &ids, "ed25519:D", &key)
            .unwrap();
        let theirs_mac = theirs.calculate_mac_invalid_base64(
            Base64_32::encode(key.as_bytes()).as_str(),
            "MATRIX_KEY_VERIFICATION_MAC@a:xD@b:xEted25519:D",
        );
        assert_eq!(ours_mac.as_str(), theirs_mac);
    }
}

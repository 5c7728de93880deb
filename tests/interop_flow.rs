//! The verification flow against a peer built from vodozemac's `sas` module and serde_json, writing
//! and reading the event contents as matrix-rust-sdk does: the commitment over serde_json's
//! canonical form of the start content, the SAS info strings, the `mac`/`keys` maps. safemeet plays
//! both roles; as the acceptor it also meets a peer that offers only the legacy `curve25519` key
//! agreement and the legacy `hkdf-hmac-sha256` MAC.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey};
use safemeet::verification::flow::{DeviceInfo, EventType, Outgoing, State, Verification};
use serde_json::{Value, json};
use sha2::Digest;

const NOW: u64 = 1_700_000_000_000;
const TXN: &str = "interop-txn";

/// The vodozemac side: its device, and the SAS state as it moves along.
struct Peer {
    user: &'static str,
    device: &'static str,
    device_key: Ed25519PublicKey,
    master_key: Ed25519PublicKey,
}

fn b64(bytes: &[u8]) -> String {
    vodozemac::base64_encode(bytes)
}

fn json_of(event: &Outgoing) -> Value {
    serde_json::from_slice(&event.content_json()).unwrap()
}

fn bytes_of(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn mac_info(sender: (&str, &str), receiver: (&str, &str), suffix: &str) -> String {
    format!(
        "MATRIX_KEY_VERIFICATION_MAC{}{}{}{}{TXN}{suffix}",
        sender.0, sender.1, receiver.0, receiver.1
    )
}

fn vodo_mac(sas: &vodozemac::sas::EstablishedSas, legacy: bool, input: &str, info: &str) -> String {
    if legacy {
        sas.calculate_mac_invalid_base64(input, info)
    } else {
        sas.calculate_mac(input, info).to_base64()
    }
}

impl Peer {
    fn info(&self) -> DeviceInfo {
        DeviceInfo::new(
            self.user,
            self.device,
            self.device_key,
            Some(self.master_key),
        )
    }

    /// The peer's `m.key.verification.mac` content, as rust-sdk builds it.
    fn mac_event(
        &self,
        sas: &vodozemac::sas::EstablishedSas,
        legacy: bool,
        receiver: (&str, &str),
    ) -> Value {
        let me = (self.user, self.device);
        let device_id = format!("ed25519:{}", self.device);
        let master_id = format!("ed25519:{}", b64(self.master_key.as_bytes()));
        let mut ids = [device_id.clone(), master_id.clone()];
        ids.sort();
        json!({
            "transaction_id": TXN,
            "mac": {
                device_id.clone(): vodo_mac(sas, legacy, &b64(self.device_key.as_bytes()), &mac_info(me, receiver, &device_id)),
                master_id.clone(): vodo_mac(sas, legacy, &b64(self.master_key.as_bytes()), &mac_info(me, receiver, &master_id)),
            },
            "keys": vodo_mac(sas, legacy, &ids.join(","), &mac_info(me, receiver, "KEY_IDS")),
        })
    }

    /// Checks our `mac` content as the peer would.
    fn check_mac(
        &self,
        sas: &vodozemac::sas::EstablishedSas,
        legacy: bool,
        ours: &DeviceInfo,
        event: &Value,
    ) {
        let sender = (ours.user_id.as_str(), ours.device_id.as_str());
        let me = (self.user, self.device);
        let mac = event["mac"].as_object().unwrap();
        let mut ids: Vec<&String> = mac.keys().collect();
        ids.sort();
        let joined = ids.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        assert_eq!(
            event["keys"].as_str().unwrap(),
            vodo_mac(sas, legacy, &joined, &mac_info(sender, me, "KEY_IDS"))
        );
        let device_id = format!("ed25519:{}", ours.device_id);
        assert_eq!(
            mac[&device_id].as_str().unwrap(),
            vodo_mac(
                sas,
                legacy,
                &b64(ours.device_key.as_bytes()),
                &mac_info(sender, me, &device_id)
            )
        );
        let master = ours.master_key.unwrap();
        let master_id = format!("ed25519:{}", b64(master.as_bytes()));
        assert_eq!(
            mac[&master_id].as_str().unwrap(),
            vodo_mac(
                sas,
                legacy,
                &b64(master.as_bytes()),
                &mac_info(sender, me, &master_id)
            )
        );
    }
}

fn devices(seed: u8) -> (DeviceInfo, Peer) {
    let mut rng = ChaCha20Rng::from_seed([seed; 32]);
    let mut key = || Ed25519SecretKey::generate(&mut rng).public_key();
    let ours = DeviceInfo::new("@safemeet:example.org", "SAFEMEET", key(), Some(key()));
    let peer = Peer {
        user: "@vodozemac:example.org",
        device: "VODOZEMAC",
        device_key: key(),
        master_key: key(),
    };
    (ours, peer)
}

fn receive(flow: &mut Verification, event_type: EventType, content: &Value) -> Vec<Outgoing> {
    flow.receive(event_type.name(), &bytes_of(content), NOW)
}

#[test]
fn safemeet_starts_vodozemac_accepts() {
    let (ours, peer) = devices(1);
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let (mut flow, _request) = Verification::request(&mut rng, ours.clone(), peer.info(), TXN, NOW);
    let ready = json!({"transaction_id": TXN, "from_device": peer.device, "methods": ["m.sas.v1"]});
    assert!(receive(&mut flow, EventType::Ready, &ready).is_empty());
    let start = json_of(&flow.start_sas(NOW).unwrap());

    // The peer accepts: commitment = SHA-256(its key ‖ canonical start), canonical by serde_json.
    let peer_sas = vodozemac::sas::Sas::new();
    let peer_key = peer_sas.public_key().to_base64();
    let canonical = serde_json::to_string(&start).unwrap();
    let commitment = b64(&sha2::Sha256::digest(
        format!("{peer_key}{canonical}").as_bytes(),
    ));
    let accept = json!({
        "transaction_id": TXN,
        "method": "m.sas.v1",
        "key_agreement_protocol": "curve25519-hkdf-sha256",
        "hash": "sha256",
        "message_authentication_code": "hkdf-hmac-sha256.v2",
        "short_authentication_string": ["decimal", "emoji"],
        "commitment": commitment,
    });
    let key = receive(&mut flow, EventType::Accept, &accept);
    assert_eq!(key[0].event_type, EventType::Key);
    let our_key = json_of(&key[0])["key"].as_str().unwrap().to_owned();
    let peer_sas = peer_sas.diffie_hellman_with_raw(&our_key).unwrap();
    let out = receive(
        &mut flow,
        EventType::Key,
        &json!({"transaction_id": TXN, "key": peer_key}),
    );
    assert!(out.is_empty());
    assert_eq!(flow.state(), State::KeysExchanged);

    // Same SAS: we started, so we are first in the info string.
    let info = format!(
        "MATRIX_KEY_VERIFICATION_SAS|{}|{}|{our_key}|{}|{}|{peer_key}|{TXN}",
        ours.user_id, ours.device_id, peer.user, peer.device
    );
    let peer_bytes = peer_sas.bytes(&info);
    let emoji: Vec<u8> = flow.emoji().unwrap().iter().map(|e| e.index).collect();
    assert_eq!(emoji, peer_bytes.emoji_indices());
    assert_eq!(flow.decimals().unwrap(), peer_bytes.decimals());

    // MACs both ways, then done.
    let our_mac = flow.confirm(NOW);
    peer.check_mac(&peer_sas, false, &ours, &json_of(&our_mac[0]));
    let done = receive(
        &mut flow,
        EventType::Mac,
        &peer.mac_event(&peer_sas, false, (&ours.user_id, &ours.device_id)),
    );
    assert_eq!(done[0].event_type, EventType::Done);
    receive(&mut flow, EventType::Done, &json!({"transaction_id": TXN}));
    assert_eq!(flow.state(), State::Done);
    let keys = flow.verified_keys().unwrap();
    assert_eq!(keys.device_key(), Some(peer.device_key));
    assert_eq!(keys.master_key(), Some(peer.master_key));
}

#[test]
fn vodozemac_starts_safemeet_accepts_current_and_legacy_methods() {
    for (i, (kap, mac)) in [
        ("curve25519-hkdf-sha256", "hkdf-hmac-sha256.v2"),
        (
            "curve25519-hkdf-sha256",
            "org.matrix.msc3783.hkdf-hmac-sha256",
        ),
        ("curve25519-hkdf-sha256", "hkdf-hmac-sha256"),
        ("curve25519", "hkdf-hmac-sha256"),
        ("curve25519", "hkdf-hmac-sha256.v2"),
    ]
    .into_iter()
    .enumerate()
    {
        let legacy_mac = mac == "hkdf-hmac-sha256";
        let (ours, peer) = devices(10 + i as u8);
        let mut rng = ChaCha20Rng::from_seed([20 + i as u8; 32]);
        let request = json!({
            "transaction_id": TXN, "from_device": peer.device,
            "methods": ["m.sas.v1", "m.qr_code.show.v1"], "timestamp": NOW,
        });
        let mut flow = Verification::from_request(
            &mut rng,
            ours.clone(),
            peer.info(),
            &bytes_of(&request),
            NOW,
        )
        .unwrap();
        let ready = json_of(&flow.accept_request(NOW).unwrap());
        assert_eq!(ready["methods"], json!(["m.sas.v1"]));

        // The peer starts, offering only this protocol and MAC method (and some we do not know).
        let start = json!({
            "transaction_id": TXN, "from_device": peer.device, "method": "m.sas.v1",
            "key_agreement_protocols": ["x448", kap],
            "hashes": ["sha256"],
            "message_authentication_codes": ["hmac-sha3", mac],
            "short_authentication_string": ["emoji", "decimal"],
            "extra_field": {"nested": [1, "two"]},
        });
        let accept = receive(&mut flow, EventType::Start, &start);
        let accept = json_of(&accept[0]);
        assert_eq!(accept["key_agreement_protocol"], kap, "{kap} {mac}");
        assert_eq!(accept["message_authentication_code"], mac);
        assert_eq!(accept["hash"], "sha256");

        let peer_sas = vodozemac::sas::Sas::new();
        let peer_key = peer_sas.public_key().to_base64();
        let key = receive(
            &mut flow,
            EventType::Key,
            &json!({"transaction_id": TXN, "key": peer_key}),
        );
        let our_key = json_of(&key[0])["key"].as_str().unwrap().to_owned();
        // The peer checks our commitment over its own canonical form of its start content.
        let canonical = serde_json::to_string(&start).unwrap();
        assert_eq!(
            accept["commitment"].as_str().unwrap(),
            b64(&sha2::Sha256::digest(
                format!("{our_key}{canonical}").as_bytes()
            ))
        );
        let peer_sas = peer_sas.diffie_hellman_with_raw(&our_key).unwrap();
        assert_eq!(flow.state(), State::KeysExchanged);

        let info = if kap == "curve25519" {
            format!(
                "MATRIX_KEY_VERIFICATION_SAS{}{}{}{}{TXN}",
                peer.user, peer.device, ours.user_id, ours.device_id
            )
        } else {
            format!(
                "MATRIX_KEY_VERIFICATION_SAS|{}|{}|{peer_key}|{}|{}|{our_key}|{TXN}",
                peer.user, peer.device, ours.user_id, ours.device_id
            )
        };
        let peer_bytes = peer_sas.bytes(&info);
        let emoji: Vec<u8> = flow.emoji().unwrap().iter().map(|e| e.index).collect();
        assert_eq!(emoji, peer_bytes.emoji_indices(), "{kap} {mac}");
        assert_eq!(flow.decimals().unwrap(), peer_bytes.decimals());

        // The peer's MAC arrives before our user confirms; then we confirm and send MAC and done.
        let out = receive(
            &mut flow,
            EventType::Mac,
            &peer.mac_event(&peer_sas, legacy_mac, (&ours.user_id, &ours.device_id)),
        );
        assert!(out.is_empty(), "{out:?}");
        let out = flow.confirm(NOW);
        assert_eq!(out.len(), 2);
        peer.check_mac(&peer_sas, legacy_mac, &ours, &json_of(&out[0]));
        assert_eq!(out[1].event_type, EventType::Done);
        receive(&mut flow, EventType::Done, &json!({"transaction_id": TXN}));
        assert_eq!(flow.state(), State::Done, "{kap} {mac}");
        assert_eq!(
            flow.verified_keys().unwrap().device_key(),
            Some(peer.device_key)
        );
    }
}

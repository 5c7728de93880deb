//! Olm known answers: a session built from explicit key material (the `hazmat` constructors), whose
//! every output byte is recomputed here from first principles — the triple DH, `OLM_ROOT`, the chain,
//! `OLM_KEYS`, AES-256-CBC, the truncated HMAC, the wire layout of `specs/matrix.md` §1, and a DH step
//! with `OLM_RATCHET` — using only the primitives.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]
#![cfg(feature = "alloc")]

mod common;

use safemeet::olm::{MessageType, OlmMessage, Session};
use safemeet::primitives::curve25519::Curve25519PublicKey;

/// Known answers through the `hazmat` constructors.
#[cfg(feature = "hazmat")]
mod known_answers {
    use super::common::arr;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng};
    use safemeet::olm::{Account, MessageType, OlmMessage};
    use safemeet::primitives::aes::aes256_cbc_encrypt_into;
    use safemeet::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
    use safemeet::primitives::ed25519::Ed25519SecretKey;
    use safemeet::primitives::hash::sha256;
    use safemeet::primitives::hkdf::hkdf_sha256;
    use safemeet::primitives::hmac::hmac_sha256;

    /// RFC 7748 §6.1's Alice and Bob keys serve as the devices' identity keys.
    const ALICE_IDENTITY: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    const BOB_IDENTITY: &str = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    const BOB_ONE_TIME: [u8; 32] = [0xB3; 32];
    const ALICE_BASE: [u8; 32] = [0xA2; 32];
    const ALICE_RATCHET: [u8; 32] = [0xA3; 32];

    fn secret(bytes: [u8; 32]) -> Curve25519SecretKey {
        Curve25519SecretKey::from_bytes(&bytes)
    }

    fn dh(ours: [u8; 32], theirs: &Curve25519PublicKey) -> [u8; 32] {
        *secret(ours).diffie_hellman(theirs).unwrap().as_bytes()
    }

    fn hkdf<const N: usize>(salt: &[u8], ikm: &[u8], info: &[u8]) -> [u8; N] {
        let mut out = [0u8; N];
        hkdf_sha256(salt, ikm, info, &mut out).unwrap();
        out
    }

    /// The normal message for `plaintext` under chain key `chain` at `index` (< 128), from scratch.
    fn message(
        chain: &[u8; 32],
        index: u8,
        ratchet_public: &Curve25519PublicKey,
        plaintext: &[u8],
    ) -> Vec<u8> {
        let mut chain = *chain;
        for _ in 0..index {
            chain = hmac_sha256(&chain, &[0x02]);
        }
        let message_key = hmac_sha256(&chain, &[0x01]);
        let keys: [u8; 80] = hkdf(&[], &message_key, b"OLM_KEYS");
        let mut ciphertext = vec![0u8; (plaintext.len() / 16 + 1) * 16];
        aes256_cbc_encrypt_into(
            keys[..32].try_into().unwrap(),
            keys[64..].try_into().unwrap(),
            plaintext,
            &mut ciphertext,
        )
        .unwrap();
        let mut m = vec![0x03, 0x0A, 0x20];
        m.extend_from_slice(ratchet_public.as_bytes());
        m.extend_from_slice(&[0x10, index, 0x22, u8::try_from(ciphertext.len()).unwrap()]);
        m.extend_from_slice(&ciphertext);
        let mac = hmac_sha256(&keys[32..64], &m);
        m.extend_from_slice(&mac[..8]);
        m
    }

    #[test]
    fn every_byte_of_a_conversation_from_first_principles() {
        let alice_identity = arr::<32>(ALICE_IDENTITY);
        let bob_identity = arr::<32>(BOB_IDENTITY);
        let alice = Account::<4>::from_keys(
            secret(alice_identity),
            Ed25519SecretKey::from_seed(&[1; 32]),
        );
        let mut bob =
            Account::<4>::from_keys(secret(bob_identity), Ed25519SecretKey::from_seed(&[2; 32]));
        let (key_id, evicted) = bob.add_one_time_key(secret(BOB_ONE_TIME));
        assert_eq!((key_id.0, evicted), (0, None));
        let (i_a, i_b) = (alice.curve25519_key(), bob.curve25519_key());
        let (e_a, e_b, t0) = (
            secret(ALICE_BASE).public_key(),
            secret(BOB_ONE_TIME).public_key(),
            secret(ALICE_RATCHET).public_key(),
        );

        let mut outbound = alice
            .create_outbound_session_with_keys(
                &i_b,
                &e_b,
                &secret(ALICE_BASE),
                secret(ALICE_RATCHET),
            )
            .unwrap();

        // The triple DH and OLM_ROOT.
        let mut s = Vec::new();
        s.extend_from_slice(&dh(alice_identity, &e_b));
        s.extend_from_slice(&dh(ALICE_BASE, &i_b));
        s.extend_from_slice(&dh(ALICE_BASE, &e_b));
        let root_chain: [u8; 64] = hkdf(&[], &s, b"OLM_ROOT");
        let (r0, c0): ([u8; 32], [u8; 32]) = (
            root_chain[..32].try_into().unwrap(),
            root_chain[32..].try_into().unwrap(),
        );

        // Two pre-key messages at indices 0 and 1; Bob answers the first.
        let mut bob_side = None;
        for index in 0..2u8 {
            let plaintext = format!("pre-key message {index}");
            let got = outbound
                .encrypt(&mut ChaCha20Rng::from_seed([0; 32]), plaintext.as_bytes())
                .unwrap();
            assert_eq!(got.message_type(), MessageType::PreKey);
            let inner = message(&c0, index, &t0, plaintext.as_bytes());
            let mut expected = vec![0x03, 0x0A, 0x20];
            expected.extend_from_slice(e_b.as_bytes());
            expected.extend_from_slice(&[0x12, 0x20]);
            expected.extend_from_slice(e_a.as_bytes());
            expected.extend_from_slice(&[0x1A, 0x20]);
            expected.extend_from_slice(i_a.as_bytes());
            expected.extend_from_slice(&[0x22, u8::try_from(inner.len()).unwrap()]);
            expected.extend_from_slice(&inner);
            assert_eq!(got.as_bytes(), expected, "pre-key message {index}");
            if index == 0 {
                let created = bob.create_inbound_session(&i_a, got.as_bytes()).unwrap();
                assert_eq!(created.plaintext, plaintext.as_bytes());
                let mut inbound = created.session;
                // The session id: SHA-256(I_A ‖ E_A ‖ E_B).
                let mut ids = Vec::new();
                ids.extend_from_slice(i_a.as_bytes());
                ids.extend_from_slice(e_a.as_bytes());
                ids.extend_from_slice(e_b.as_bytes());
                assert_eq!(inbound.session_id().as_bytes(), &sha256(&ids));
                assert_eq!(outbound.session_id(), inbound.session_id());

                // Bob's reply: a new ratchet key T1 (the first 32 bytes of his RNG) and OLM_RATCHET.
                let seed = [0x5B; 32];
                let mut t1_bytes = [0u8; 32];
                ChaCha20Rng::from_seed(seed).fill_bytes(&mut t1_bytes);
                let t1 = secret(t1_bytes).public_key();
                let reply = inbound
                    .encrypt(&mut ChaCha20Rng::from_seed(seed), b"reply")
                    .unwrap();
                assert_eq!(reply.message_type(), MessageType::Normal);
                let step: [u8; 64] = hkdf(&r0, &dh(t1_bytes, &t0), b"OLM_RATCHET");
                let c1: [u8; 32] = step[32..].try_into().unwrap();
                assert_eq!(reply.as_bytes(), message(&c1, 0, &t1, b"reply"));
                let r1: [u8; 32] = step[..32].try_into().unwrap();
                bob_side = Some((inbound, reply, t1_bytes, r1));
            }
        }

        // Alice reads the reply (after her second message) and answers with a fresh ratchet key T2.
        let (mut inbound, reply, t1_bytes, r1) = bob_side.unwrap();
        assert_eq!(outbound.decrypt(&reply).unwrap(), b"reply");
        let seed = [0xA4; 32];
        let mut t2_bytes = [0u8; 32];
        ChaCha20Rng::from_seed(seed).fill_bytes(&mut t2_bytes);
        let t2 = secret(t2_bytes).public_key();
        let answer = outbound
            .encrypt(&mut ChaCha20Rng::from_seed(seed), b"answer")
            .unwrap();
        assert_eq!(
            answer.message_type(),
            MessageType::Normal,
            "no pre-key messages after a reply"
        );
        let t1 = secret(t1_bytes).public_key();
        let step: [u8; 64] = hkdf(&r1, &dh(t2_bytes, &t1), b"OLM_RATCHET");
        let c2: [u8; 32] = step[32..].try_into().unwrap();
        assert_eq!(answer.as_bytes(), message(&c2, 0, &t2, b"answer"));
        let answer = OlmMessage::new(MessageType::Normal, answer.as_bytes().to_vec());
        assert_eq!(inbound.decrypt(&answer).unwrap(), b"answer");
    }

    #[test]
    fn hazmat_account_keys_are_the_given_ones() {
        let alice = Account::<4>::from_keys(
            secret(arr(ALICE_IDENTITY)),
            Ed25519SecretKey::from_seed(&[1; 32]),
        );
        assert_eq!(
            alice.curve25519_key().as_bytes(),
            &arr::<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        assert_eq!(
            alice.ed25519_key(),
            Ed25519SecretKey::from_seed(&[1; 32]).public_key()
        );
    }
}

#[derive(serde::Deserialize)]
struct Vectors {
    messages: Vec<WireVector>,
    encoding: Encoding,
    key_ids: Vec<KeyIdVector>,
}

#[derive(serde::Deserialize)]
struct WireVector {
    name: String,
    #[serde(rename = "type")]
    message_type: u64,
    body: String,
    length: usize,
    chain_index: u64,
    ciphertext: String,
}

#[derive(serde::Deserialize)]
struct Encoding {
    ratchet_key_ascii: String,
    chain_index: u32,
    ciphertext_ascii: String,
    mac_ascii: String,
    bytes: String,
}

#[derive(serde::Deserialize)]
struct KeyIdVector {
    counter: u64,
    base64: String,
}

fn vectors() -> Vectors {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/test-vectors/olm.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// vodozemac's published messages (`specs/matrix.md` §8.1 P11): they parse, the embedded message and
/// ciphertext are the published ones, and re-encoding the parsed fields reproduces every byte.
#[test]
fn published_wire_vectors_parse_and_reencode() {
    use safemeet::codec::Writer;
    use safemeet::olm::wire::{
        decode_message, decode_pre_key_message, encode_message_head, encode_pre_key_head,
        message_len, pre_key_message_len,
    };
    let v = vectors();
    assert_eq!(v.messages.len(), 2);
    for m in &v.messages {
        let message = OlmMessage::from_parts(m.message_type, &m.body).unwrap();
        let bytes = message.as_bytes();
        assert_eq!(bytes.len(), m.length, "{}", m.name);
        assert_eq!(message.to_base64(), m.body);
        let (outer, inner) = match message.message_type() {
            MessageType::PreKey => (
                Some(decode_pre_key_message(bytes).unwrap()),
                decode_pre_key_message(bytes).unwrap().message,
            ),
            MessageType::Normal => (None, bytes),
        };
        let view = decode_message(inner).unwrap();
        assert_eq!(view.index, m.chain_index, "{}", m.name);
        assert_eq!(view.ciphertext, common::hex(&m.ciphertext), "{}", m.name);
        assert_eq!(
            Session::decrypt_len(message.message_type(), bytes).unwrap(),
            view.ciphertext.len()
        );

        let index = u32::try_from(view.index).unwrap();
        let mut again = vec![0u8; message_len(index, view.ciphertext.len())];
        let mut w = Writer::new(&mut again);
        encode_message_head(&mut w, &view.ratchet_key, index, view.ciphertext.len()).unwrap();
        w.write_bytes(view.ciphertext).unwrap();
        w.write_bytes(view.mac).unwrap();
        assert_eq!(again, inner, "{}", m.name);
        if let Some(p) = outer {
            let mut again = vec![0u8; pre_key_message_len(inner.len())];
            let mut w = Writer::new(&mut again);
            encode_pre_key_head(
                &mut w,
                &p.one_time_key,
                &p.base_key,
                &p.identity_key,
                inner.len(),
            )
            .unwrap();
            w.write_bytes(inner).unwrap();
            assert_eq!(again, bytes, "{}", m.name);
        }
    }

    // vodozemac's encoding test: the fields in, the exact bytes out.
    let e = &v.encoding;
    let ratchet_key = Curve25519PublicKey::from_slice(e.ratchet_key_ascii.as_bytes()).unwrap();
    let mut out = vec![0u8; message_len(e.chain_index, e.ciphertext_ascii.len())];
    let mut w = Writer::new(&mut out);
    encode_message_head(
        &mut w,
        &ratchet_key,
        e.chain_index,
        e.ciphertext_ascii.len(),
    )
    .unwrap();
    w.write_bytes(e.ciphertext_ascii.as_bytes()).unwrap();
    w.write_bytes(e.mac_ascii.as_bytes()).unwrap();
    assert_eq!(out, common::hex(&e.bytes));
}

/// vodozemac's key ids (`specs/matrix.md` §8.1 P12).
#[test]
fn published_key_ids() {
    let v = vectors();
    assert!(!v.key_ids.is_empty());
    for k in &v.key_ids {
        assert_eq!(safemeet::olm::KeyId(k.counter).to_string(), k.base64);
    }
}

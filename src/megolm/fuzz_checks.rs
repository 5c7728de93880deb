//! Checks over arbitrary bytes for the group sessions (Megolm and native sender keys), shared by the
//! fuzz targets `megolm_message`, `megolm_keys` and `megolm_decrypt` (`fuzz/fuzz_targets/`) and by the
//! corpus replay test (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API, and **test-only**: a failed `assert!` is how a fuzzer reports a
//! finding. The fixtures are built from fixed bytes, with no randomness at all.
//!
//! - [`check_message`]: message parsing of both profiles; anything that parses re-encodes to exactly
//!   the input, and the `*_len` functions agree with the parse.
//! - [`check_keys`]: session keys and exports of both profiles, as bytes and as base64; anything that
//!   decodes re-encodes to exactly the input.
//! - [`check_decrypt`]: the input as a message (raw, or as edits to a genuine message, optionally
//!   re-signed with the real signing key so that the MAC and cipher are reached) to fixed inbound
//!   sessions; only genuine messages may decrypt, and a failure must leave the session unchanged.
#![cfg(feature = "alloc")]

use alloc::vec::Vec;

use super::message::{MAC_LEN, MegolmMessage, write_header};
use super::{ExportedSessionKey, GroupSession, InboundGroupSession, SessionKey};
use crate::codec::{Writer, base64};
use crate::group::{RATCHET_LEN, Ratchet};
use crate::primitives::ed25519::{Ed25519SecretKey, SIGNATURE_LEN};
use crate::primitives::hash::Sha256;
use crate::session::group as native;

/// Parses `data` as a message of each profile; whatever parses must re-encode to `data`.
pub fn check_message(data: &[u8]) {
    if let Ok(m) = MegolmMessage::parse(data) {
        let mut out = alloc::vec![0u8; data.len()];
        let mut w = Writer::new(&mut out);
        let at = write_header(&mut w, m.index(), m.ciphertext().len()).unwrap();
        let mut rebuilt = out[..at].to_vec();
        rebuilt.extend_from_slice(m.ciphertext());
        rebuilt.extend_from_slice(m.mac());
        rebuilt.extend_from_slice(m.signature().as_bytes());
        assert_eq!(
            rebuilt, data,
            "a parsed Megolm message must re-encode exactly"
        );
        assert_eq!(m.mac_input().len() + MAC_LEN + SIGNATURE_LEN, data.len());
        assert_eq!(
            InboundGroupSession::decrypt_len(data).unwrap(),
            m.ciphertext().len()
        );
    } else {
        assert!(InboundGroupSession::decrypt_len(data).is_err());
    }
    match native::GroupMessage::parse(data) {
        Ok(m) => {
            assert_eq!(
                data.len(),
                native::GroupSession::encrypt_len(m.ciphertext().len())
            );
            assert_eq!(&data[2..6], &m.index().to_be_bytes());
            assert_eq!(
                native::InboundGroupSession::decrypt_len(data).unwrap(),
                m.ciphertext().len()
            );
        }
        Err(_) => assert!(native::InboundGroupSession::decrypt_len(data).is_err()),
    }
}

/// Decodes `data` as every kind of key, as bytes and as base64; whatever decodes must re-encode to
/// the input.
pub fn check_keys(data: &[u8]) {
    if let Ok(k) = SessionKey::from_bytes(data) {
        assert_eq!(&k.to_bytes()[..], data);
        // A decoded session key is signed: a session from it is verified.
        assert!(InboundGroupSession::new(&k).is_verified());
    }
    if let Ok(k) = ExportedSessionKey::from_bytes(data) {
        assert_eq!(&k.to_bytes()[..], data);
        let s = InboundGroupSession::import(&k);
        assert!(!s.is_verified());
        assert_eq!(s.first_known_index(), k.index());
        assert_eq!(&s.export_at(k.index()).unwrap().to_bytes()[..], data);
    }
    if let Ok(k) = SessionKey::from_base64(data) {
        assert_eq!(base64::decode(data).unwrap(), &k.to_bytes()[..]);
    }
    if let Ok(k) = ExportedSessionKey::from_base64(data) {
        assert_eq!(base64::decode(data).unwrap(), &k.to_bytes()[..]);
    }
    if let Ok(k) = native::SenderKey::decode(data) {
        let mut out = [0u8; native::SENDER_KEY_LEN];
        k.encode_into(&mut out).unwrap();
        assert_eq!(&out[..], data);
    }
    if let Ok(k) = native::ExportedSenderKey::decode(data) {
        let mut out = [0u8; native::EXPORT_LEN];
        k.encode_into(&mut out).unwrap();
        assert_eq!(&out[..], data);
    }
}

/// The fixed sessions [`check_decrypt_with`] attacks.
#[derive(Debug)]
pub struct DecryptFixture {
    signing_seed: [u8; 32],
    megolm: InboundGroupSession,
    megolm_messages: Vec<(Vec<u8>, Vec<u8>, u32)>,
    native: native::InboundGroupSession,
    native_messages: Vec<(Vec<u8>, Vec<u8>, u32)>,
}

/// The first index of the fixture: four messages before the 2^24 re-seed.
const FIRST: u32 = (1 << 24) - 2;

impl DecryptFixture {
    /// Sessions of both profiles that have read their third message (so their latest state is past the
    /// first), with four genuine messages each.
    pub fn new() -> Self {
        let signing_seed = [7u8; 32];
        let mut out = GroupSession {
            ratchet: Ratchet::from_parts(&[0x5a; RATCHET_LEN], FIRST),
            signing: Ed25519SecretKey::from_seed(&signing_seed),
        };
        let mut megolm = InboundGroupSession::new(&out.session_key());
        let megolm_messages: Vec<_> = (0..4u8)
            .map(|i| {
                let pt = alloc::vec![i; usize::from(i) * 9];
                (out.encrypt(&pt).unwrap(), pt, FIRST + u32::from(i))
            })
            .collect();
        assert!(megolm.decrypt(&megolm_messages[2].0).is_ok());

        let mut nout = native::GroupSession {
            ratchet: Ratchet::from_parts(&[0xa5; RATCHET_LEN], FIRST),
            signing: Ed25519SecretKey::from_seed(&signing_seed),
        };
        let mut native = native::InboundGroupSession::new(&nout.sender_key());
        let native_messages: Vec<_> = (0..4u8)
            .map(|i| {
                let pt = alloc::vec![i; usize::from(i) * 9];
                (nout.encrypt(&pt).unwrap(), pt, FIRST + u32::from(i))
            })
            .collect();
        assert!(native.decrypt(&native_messages[2].0).is_ok());
        Self {
            signing_seed,
            megolm,
            megolm_messages,
            native,
            native_messages,
        }
    }

    fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for state in [&self.megolm.state, &self.native.state] {
            for r in [&state.initial, &state.latest] {
                h.update(&r.index().to_be_bytes()).update(r.secret_bytes());
            }
        }
        h.update(&[
            u8::from(self.megolm.verified),
            u8::from(self.native.verified),
        ]);
        h.finalize()
    }
}

impl Default for DecryptFixture {
    fn default() -> Self {
        Self::new()
    }
}

/// [`check_decrypt_with`] on a fresh fixture.
pub fn check_decrypt(data: &[u8]) {
    check_decrypt_with(&mut DecryptFixture::new(), data);
}

/// Builds a candidate from `data`: mode byte, then either the raw message or edits `(position, xor)`
/// to genuine message `k`, re-signed with the real key in mode 2.
fn candidate(data: &[u8], genuine: &[(Vec<u8>, Vec<u8>, u32)], seed: &[u8; 32]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    match mode % 3 {
        0 => rest.to_vec(),
        m => {
            let Some((&k, edits)) = rest.split_first() else {
                return Vec::new();
            };
            let mut msg = genuine[usize::from(k) % genuine.len()].0.clone();
            for e in edits.chunks_exact(2) {
                let at = usize::from(e[0]) % msg.len();
                msg[at] ^= e[1];
            }
            if edits.len() % 2 == 1 {
                // An odd edit list also truncates or extends by its last byte.
                let last = usize::from(edits[edits.len() - 1]);
                if last < 128 {
                    msg.truncate(msg.len().saturating_sub(last));
                } else {
                    msg.extend(core::iter::repeat_n(0u8, last - 128));
                }
            }
            if m == 2 && msg.len() > SIGNATURE_LEN {
                let n = msg.len() - SIGNATURE_LEN;
                let sig = Ed25519SecretKey::from_seed(seed).sign(&msg[..n]);
                msg[n..].copy_from_slice(sig.as_bytes());
            }
            msg
        }
    }
}

/// Decryption checks: the candidate built from `data` is offered to both inbound sessions. Only a
/// genuine message may decrypt (to its plaintext and index); a failure must leave both sessions
/// exactly as they were. A fixture in which something decrypted is rebuilt.
pub fn check_decrypt_with(fixture: &mut DecryptFixture, data: &[u8]) {
    let before = fixture.fingerprint();
    let mut changed = false;

    let msg = candidate(data, &fixture.megolm_messages, &fixture.signing_seed);
    match fixture.megolm.decrypt(&msg) {
        Ok(got) => {
            let (_, pt, index) = fixture
                .megolm_messages
                .iter()
                .find(|(m, _, _)| *m == msg)
                .expect("only a genuine Megolm message may decrypt");
            assert_eq!((&got.plaintext, got.message_index), (pt, *index));
            changed = true;
        }
        Err(_) => assert_eq!(
            fixture.fingerprint(),
            before,
            "a failed decrypt changed state"
        ),
    }

    let msg = candidate(data, &fixture.native_messages, &fixture.signing_seed);
    let before = fixture.fingerprint();
    match fixture.native.decrypt(&msg) {
        Ok((plaintext, index)) => {
            let (_, pt, i) = fixture
                .native_messages
                .iter()
                .find(|(m, _, _)| *m == msg)
                .expect("only a genuine native message may decrypt");
            assert_eq!((&plaintext, index), (pt, *i));
            changed = true;
        }
        Err(_) => assert_eq!(
            fixture.fingerprint(),
            before,
            "a failed decrypt changed state"
        ),
    }

    if changed {
        *fixture = DecryptFixture::new();
    }
}

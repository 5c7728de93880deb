//! Checks over arbitrary bytes for Signal sender keys, shared by the fuzz target `signal_sender_key`
//! (`fuzz/fuzz_targets/`) and by the corpus replay test (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API, and **test-only**: a failed `assert!` is how a fuzzer reports a
//! finding. The fixture is built from fixed bytes and a deterministic generator.
//!
//! - [`check_decode`]: both decoders; whatever decodes re-encodes to exactly the input, the `*_len`
//!   functions agree, and a decoded distribution message builds a record that holds its chain.
//! - [`check_decrypt_with`]: the input as a message (raw, or as edits to a genuine message, optionally
//!   re-signed with the real signing key so that the chain walk and the padding check are reached)
//!   to a fixed record; without the signing key only genuine messages may decrypt, and a failure must
//!   leave the record exactly as it was. A distribution message for another distribution id changes nothing either.

use alloc::vec::Vec;

use super::wire::write_message_head;
use super::{
    DistributionId, OutboundSenderKey, SenderKeyDistributionMessage, SenderKeyMessage,
    SenderKeyRecord,
};
use crate::codec::Writer;
use crate::primitives::curve25519::Curve25519SecretKey;
use crate::primitives::xeddsa::{self, Form};
use crate::session::fuzz_checks::FuzzRng;

/// The capacity of the fixture's key store: small, so that eviction is reachable.
const KEYS: usize = 8;

/// Decodes `data` as a distribution message and as a message; whatever decodes must re-encode to
/// `data`.
pub fn check_decode(data: &[u8]) {
    if let Ok(skdm) = SenderKeyDistributionMessage::decode(data) {
        assert_eq!(
            skdm.to_bytes(),
            data,
            "a decoded SKDM must re-encode exactly"
        );
        assert_eq!(skdm.encoded_len(), data.len());
        let rec = SenderKeyRecord::<KEYS>::from_distribution_message(&skdm);
        assert_eq!(rec.chain_ids().collect::<Vec<_>>(), [skdm.chain_id()]);
        assert_eq!(rec.iteration(skdm.chain_id()), Some(skdm.iteration()));
    }
    match SenderKeyMessage::parse(data) {
        Ok(m) => {
            let ct = m.ciphertext();
            let len = SenderKeyMessage::encoded_len(m.chain_id(), m.iteration(), ct.len());
            assert_eq!(len, data.len());
            let mut out = alloc::vec![0u8; len];
            let mut w = Writer::new(&mut out);
            let at = write_message_head(
                &mut w,
                &m.distribution_id(),
                m.chain_id(),
                m.iteration(),
                ct.len(),
            )
            .unwrap();
            out[at..at + ct.len()].copy_from_slice(ct);
            out[len - 64..].copy_from_slice(m.signature().as_bytes());
            assert_eq!(out, data, "a parsed message must re-encode exactly");
            assert_eq!(m.signed_bytes(), &data[..len - 64]);
            assert_eq!(
                SenderKeyRecord::<KEYS>::decrypt_len(data).unwrap(),
                ct.len()
            );
        }
        Err(_) => assert!(SenderKeyRecord::<KEYS>::decrypt_len(data).is_err()),
    }
}

/// The fixed record [`check_decrypt_with`] attacks, with the sender's signing key and six genuine
/// messages.
#[derive(Debug)]
pub struct DecryptFixture {
    signing_secret: [u8; 32],
    record: SenderKeyRecord<KEYS>,
    messages: Vec<(Vec<u8>, Vec<u8>, u32)>,
}

/// The fixture's first iteration.
const FIRST: u32 = 1000;

impl DecryptFixture {
    /// A record that has read the third of six messages (so two keys are stored and the chain is past
    /// the first), with a second, older chain of the same distribution id beside it.
    pub fn new() -> Self {
        let signing_secret = [7u8; 32];
        let id = DistributionId::from_bytes([0x42; 16]);
        let mut rng = FuzzRng::new(b"safemeet signal sender-key fuzz fixture");
        let older = OutboundSenderKey::new(&mut rng, id);
        let mut out =
            OutboundSenderKey::from_state(id, 0x0123_4567, FIRST, &[0x5a; 32], &signing_secret);
        let mut record = SenderKeyRecord::from_distribution_message(&older.distribution_message());
        record
            .process_distribution_message(&out.distribution_message())
            .unwrap();
        let messages: Vec<_> = (0..6u8)
            .map(|i| {
                let pt = alloc::vec![i; usize::from(i) * 7];
                (
                    out.encrypt(&mut rng, &pt).unwrap(),
                    pt,
                    FIRST + u32::from(i),
                )
            })
            .collect();
        assert!(record.decrypt(&messages[2].0).is_ok());
        Self {
            signing_secret,
            record,
            messages,
        }
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

/// Builds a candidate from `data`: a mode byte, then either the raw message or edits
/// `(position, xor)` to genuine message `k`, re-signed with the real key in mode 2.
/// Also says whether the candidate was re-signed.
fn candidate(data: &[u8], fixture: &DecryptFixture) -> (Vec<u8>, bool) {
    let Some((&mode, rest)) = data.split_first() else {
        return (Vec::new(), false);
    };
    match mode % 3 {
        0 => (rest.to_vec(), false),
        m => {
            let Some((&k, edits)) = rest.split_first() else {
                return (Vec::new(), false);
            };
            let genuine = &fixture.messages;
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
            if m == 2 && msg.len() > 64 {
                let n = msg.len() - 64;
                let key = Curve25519SecretKey::from_bytes(&fixture.signing_secret);
                let sig = xeddsa::sign_with_random(&key, &msg[..n], &[0; 64], Form::Libsignal);
                msg[n..].copy_from_slice(sig.as_bytes());
                return (msg, true);
            }
            (msg, false)
        }
    }
}

/// Decryption checks: the candidate built from `data` is offered to the fixture's record. Without
/// the signing key only a genuine message may decrypt (to its plaintext and iteration). A candidate
/// re-signed with the sender's key *is* the sender's message (sender keys authenticate by signature
/// alone, and CBC is malleable), so it may decrypt too, at the iteration it names. A failure must
/// leave the record exactly as it was. A fixture in which something decrypted is rebuilt.
pub fn check_decrypt_with(fixture: &mut DecryptFixture, data: &[u8]) {
    let before = fixture.record.digest();
    let (msg, resigned) = candidate(data, fixture);
    let mut out = alloc::vec![0u8; msg.len()];
    match fixture.record.decrypt_into(&msg, &mut out) {
        Ok(got) => {
            match fixture.messages.iter().find(|(m, _, _)| *m == msg) {
                Some((_, pt, iteration)) => {
                    assert_eq!(&out[..got.plaintext_len], &pt[..]);
                    assert_eq!(got.iteration, *iteration);
                }
                None => {
                    assert!(resigned, "only a genuine or re-signed message may decrypt");
                    let m = SenderKeyMessage::parse(&msg).unwrap();
                    assert_eq!((got.chain_id, got.iteration), (m.chain_id(), m.iteration()));
                    assert!(got.plaintext_len < m.ciphertext().len());
                }
            }
            assert_ne!(
                fixture.record.digest(),
                before,
                "a decrypt must use up its key"
            );
            *fixture = DecryptFixture::new();
        }
        Err(_) => {
            assert_eq!(
                fixture.record.digest(),
                before,
                "a failed decrypt changed state"
            );
            assert!(out.iter().all(|&b| b == 0), "a failed decrypt left output");
        }
    }
    // Whatever decodes as a distribution message for another distribution id changes nothing.
    if let Ok(skdm) = SenderKeyDistributionMessage::decode(data) {
        let before = fixture.record.digest();
        if skdm.distribution_id() != fixture.record.distribution_id() {
            assert!(fixture.record.process_distribution_message(&skdm).is_err());
            assert_eq!(fixture.record.digest(), before);
        }
    }
}

/// Everything the `signal_sender_key` target checks, on a fresh fixture: [`check_decode`], then
/// [`check_decrypt`].
pub fn check_sender_key(data: &[u8]) {
    check_decode(data);
    check_decrypt(data);
}

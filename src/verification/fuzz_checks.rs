//! Checks over arbitrary bytes for the verification layer, shared by the fuzz targets `qr_decode`,
//! `verification_event` and `verification_flow` (`fuzz/fuzz_targets/`) and by the corpus replay test
//! (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API, and **test-only**: a failed `assert!` is how a fuzzer reports a
//! finding, and the randomness comes from a deterministic generator so that every run of an input
//! builds the same keys.
//!
//! - [`check_qr`]: QR payload decoding; whatever decodes re-encodes to the same bytes.
//! - [`check_event`]: the JSON reader (canonical form is a fixed point) and event parsing.
//! - [`check_flow`]: two devices verifying each other while the input delivers, drops, duplicates,
//!   tampers with and injects events, confirms, cancels and moves time on. A flow that ends `Done` must
//!   have verified exactly the other device's genuine keys.

use alloc::vec::Vec;

use super::flow::{DeviceInfo, EventType, Outgoing, State, Verification, VerificationEvent};
use super::qr::QrPayload;
use crate::codec::json;
use crate::primitives::ed25519::Ed25519SecretKey;
use crate::session::fuzz_checks::FuzzRng;

/// QR decoding: never panics; a decoded payload re-encodes to exactly its input.
pub fn check_qr(data: &[u8]) {
    if let Ok(payload) = QrPayload::decode(data) {
        assert_eq!(payload.encoded_len(), data.len());
        assert_eq!(payload.to_bytes(), data);
        assert!(payload.secret().len() >= crate::limits::QR_MIN_SECRET_LEN);
    }
}

const EVENT_TYPES: [EventType; 8] = [
    EventType::Request,
    EventType::Ready,
    EventType::Start,
    EventType::Accept,
    EventType::Key,
    EventType::Mac,
    EventType::Done,
    EventType::Cancel,
];

fn event_type_name(selector: u8) -> &'static str {
    EVENT_TYPES
        .get(usize::from(selector % 9))
        .map_or("m.key.verification.unknown", |t| t.name())
}

/// JSON and event parsing: never panics; canonical JSON is a fixed point of parse ∘ serialise.
pub fn check_event(data: &[u8]) {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    if let Ok(value) = json::parse(content) {
        let canonical = value.to_canonical();
        let again = json::parse(canonical.as_bytes()).expect("canonical JSON parses");
        assert_eq!(again, value);
        assert_eq!(again.to_canonical(), canonical);
    }
    let event_type = event_type_name(selector);
    if let Ok(event) = VerificationEvent::parse(event_type, content) {
        assert!(!event.transaction_id().is_empty());
    }
}

const NOW: u64 = 1_700_000_000_000;
const TXN: &str = "fuzz-txn";

/// Reads the input one byte at a time; zeros when it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn deliver(to: &mut Verification, event: &Outgoing, now: u64) -> Vec<Outgoing> {
    to.receive(event.event_type.name(), &event.content_json(), now)
}

/// Two devices verify each other, driven by the input. See the module documentation.
pub fn check_flow(data: &[u8]) {
    run_flow(data);
}

/// [`check_flow`], returning both flows' final states (so that tests can check a seed does what its
/// name says).
pub fn run_flow(data: &[u8]) -> (State, State) {
    let mut rng = FuzzRng::new(b"safemeet verification_flow fuzz target");
    let key = |rng: &mut FuzzRng| Ed25519SecretKey::generate(rng).public_key();
    let alice = DeviceInfo::new(
        "@alice:example.org",
        "ALICE",
        key(&mut rng),
        Some(key(&mut rng)),
    );
    let bob = DeviceInfo::new(
        "@bob:example.org",
        "BOB",
        key(&mut rng),
        Some(key(&mut rng)),
    );

    let (mut a, request) = Verification::request(&mut rng, alice.clone(), bob.clone(), TXN, NOW);
    let Ok(mut b) = Verification::from_request(
        &mut rng,
        bob.clone(),
        alice.clone(),
        &request.content_json(),
        NOW,
    ) else {
        panic!("our own request is refused");
    };
    let mut to_a: Vec<Outgoing> = Vec::new();
    let mut to_b: Vec<Outgoing> = Vec::new();
    let mut now = NOW;
    let mut input = Input(data);

    for _ in 0..256 {
        let Some(op) = input.byte() else { break };
        match op % 12 {
            0 => {
                if !to_a.is_empty() {
                    let e = to_a.remove(0);
                    to_b.extend(deliver(&mut a, &e, now));
                }
            }
            1 => {
                if !to_b.is_empty() {
                    let e = to_b.remove(0);
                    to_a.extend(deliver(&mut b, &e, now));
                }
            }
            2 => {
                let which = input.byte().unwrap_or(0);
                let q = if which & 1 == 0 { &mut to_a } else { &mut to_b };
                if !q.is_empty() {
                    q.remove(0);
                }
            }
            3 => to_b.extend(a.confirm(now)),
            4 => to_a.extend(b.confirm(now)),
            5 => {
                // Inject an arbitrary event.
                let which = input.byte().unwrap_or(0);
                let len = usize::from(input.byte().unwrap_or(0));
                let content = input.bytes(len).to_vec();
                let event_type = event_type_name(which >> 1);
                if which & 1 == 0 {
                    to_b.extend(a.receive(event_type, &content, now));
                } else {
                    to_a.extend(b.receive(event_type, &content, now));
                }
            }
            6 => {
                now = now.saturating_add(u64::from(input.byte().unwrap_or(0)) * 10_000);
                to_b.extend(a.poll_timeout(now));
                to_a.extend(b.poll_timeout(now));
            }
            7 => {
                // Tamper with one byte of the next event for Alice or Bob.
                let which = input.byte().unwrap_or(0);
                let at = usize::from(input.byte().unwrap_or(0));
                let xor = input.byte().unwrap_or(1) | 1;
                let (q, flow, back) = if which & 1 == 0 {
                    (&mut to_a, &mut a, &mut to_b)
                } else {
                    (&mut to_b, &mut b, &mut to_a)
                };
                if !q.is_empty() {
                    let e = q.remove(0);
                    let mut bytes = e.content_json();
                    let at = at % bytes.len().max(1);
                    if let Some(byte) = bytes.get_mut(at) {
                        *byte ^= xor;
                    }
                    back.extend(flow.receive(e.event_type.name(), &bytes, now));
                }
            }
            8 => {
                if let Some(first) = to_a.first().cloned() {
                    to_a.push(first);
                }
            }
            9 => to_b.extend(a.start_sas(now)),
            10 => {
                if let Some(ready) = b.accept_request(now) {
                    to_a.push(ready);
                }
            }
            _ => {
                if input.byte().unwrap_or(0) & 1 == 0 {
                    to_b.extend(a.cancel());
                } else {
                    to_a.extend(b.mismatch());
                }
            }
        }
        // Queues stay small: each delivery answers with at most two events.
        to_a.truncate(64);
        to_b.truncate(64);
        // When both show a SAS over the genuine keys it is the same; when a flow is done, it verified
        // exactly the other device's genuine keys.
        for (flow, other) in [(&a, &bob), (&b, &alice)] {
            if flow.state() == State::Done {
                let keys = flow.verified_keys().expect("a done flow has keys");
                assert_eq!(keys.device_key(), Some(other.device_key));
                assert_eq!(keys.master_key(), other.master_key);
            } else {
                assert!(flow.verified_keys().is_none());
            }
        }
    }
    (a.state(), b.state())
}

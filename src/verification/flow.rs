//! A sans-IO state machine for one verification between two devices (`alloc`).
//!
//! [`Verification`] reads and writes the contents of Matrix `m.key.verification.*` to-device events
//! (request → ready → start → accept → key → MAC → done, or cancel at any point) and never does I/O:
//! each call returns the events to send, as [`Outgoing`] values the application delivers however it
//! likes. Time is a parameter (milliseconds since the Unix epoch): every call takes `now`, and
//! [`Verification::poll_timeout`] cancels a flow that waited longer than
//! [`VERIFICATION_TIMEOUT_MS`] for its next event.
//!
//! Anything unexpected cancels with the specification's code: a malformed event with
//! `m.invalid_message`, an event out of order with `m.unexpected_message`, an unsupported method with
//! `m.unknown_method`, a key that does not match the commitment with `m.mismatched_commitment`, a MAC
//! that does not verify (or names an unexpected or ambiguous key id) with `m.key_mismatch`, the
//! user's "they don't match" with `m.mismatched_sas`, and so on. An event for another transaction is
//! answered with `m.unknown_transaction` and leaves this flow alone. No input panics.
//!
//! The flow implements the SAS method (`m.sas.v1`); QR payloads are in [`super::qr`]. Until the
//! identity layer exists, a finished flow hands back the [`VerifiedKeys`] (the other device's key
//! and, if it was MACed and expected, the other user's master key) for the application to trust.
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::primitives::ed25519::Ed25519SecretKey;
//! use safemeet::verification::flow::{DeviceInfo, State, Verification};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
//! let alice = DeviceInfo::new("@alice:example.org", "ALICE", Ed25519SecretKey::generate(&mut rng).public_key(), None);
//! let bob = DeviceInfo::new("@bob:example.org", "BOB", Ed25519SecretKey::generate(&mut rng).public_key(), None);
//! let now = 1_700_000_000_000;
//!
//! let (mut a, request) = Verification::request(&mut rng, alice.clone(), bob.clone(), "txn1", now);
//! let mut b = Verification::from_request(&mut rng, bob, alice, &request.content_json(), now)
//!     .map_err(|_| "bad request")?;
//! let ready = b.accept_request(now).ok_or("not a fresh request")?;
//! let mut to_b = a.receive(ready.event_type.name(), &ready.content_json(), now);
//! to_b.push(a.start_sas(now).ok_or("not ready")?);
//!
//! // Deliver events back and forth until both sides show the SAS.
//! let mut to_a = Vec::new();
//! while !to_b.is_empty() || !to_a.is_empty() {
//!     for e in to_b.drain(..) { to_a.extend(b.receive(e.event_type.name(), &e.content_json(), now)); }
//!     for e in to_a.drain(..).collect::<Vec<_>>() { to_b.extend(a.receive(e.event_type.name(), &e.content_json(), now)); }
//! }
//! assert_eq!(a.state(), State::KeysExchanged);
//! assert_eq!(a.emoji(), b.emoji());
//! # Ok::<(), &str>(())
//! ```

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use super::emoji::Emoji;
use super::sas::{
    Base64_32, EstablishedSas, ExpectedKeys, KeyAgreement, MacIds, MacMethod, Party, Role, Sas,
    SasIds, VerifiedKeys, check_commitment,
};
use crate::codec::json::{self, Object, Value};
use crate::error::VerificationError;
use crate::limits::{
    MAX_SAS_MAC_KEYS, MAX_VERIFICATION_ID_LEN, VERIFICATION_REQUEST_FUTURE_MS,
    VERIFICATION_TIMEOUT_MS,
};
use crate::primitives::ed25519::Ed25519PublicKey;

/// The SAS method name.
pub const SAS_METHOD: &str = "m.sas.v1";

/// The key agreement protocols we offer, most preferred first.
const OUR_KAPS: [&str; 2] = ["curve25519-hkdf-sha256", "curve25519"];
/// The MAC methods we offer, most preferred first.
const OUR_MACS: [&str; 3] = [
    "hkdf-hmac-sha256.v2",
    "org.matrix.msc3783.hkdf-hmac-sha256",
    "hkdf-hmac-sha256",
];
/// The short authentication string methods we offer.
const OUR_SAS: [&str; 2] = ["decimal", "emoji"];

/// The `m.key.verification.*` event types.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `m.key.verification.request`.
    Request,
    /// `m.key.verification.ready`.
    Ready,
    /// `m.key.verification.start`.
    Start,
    /// `m.key.verification.accept`.
    Accept,
    /// `m.key.verification.key`.
    Key,
    /// `m.key.verification.mac`.
    Mac,
    /// `m.key.verification.done`.
    Done,
    /// `m.key.verification.cancel`.
    Cancel,
}

impl EventType {
    /// The event type's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Request => "m.key.verification.request",
            Self::Ready => "m.key.verification.ready",
            Self::Start => "m.key.verification.start",
            Self::Accept => "m.key.verification.accept",
            Self::Key => "m.key.verification.key",
            Self::Mac => "m.key.verification.mac",
            Self::Done => "m.key.verification.done",
            Self::Cancel => "m.key.verification.cancel",
        }
    }

    /// The event type with that name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Request,
            Self::Ready,
            Self::Start,
            Self::Accept,
            Self::Key,
            Self::Mac,
            Self::Done,
            Self::Cancel,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }
}

/// Why a verification was cancelled: the specification's codes.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelCode {
    /// `m.user`: a user cancelled.
    User,
    /// `m.timeout`: the flow waited too long.
    Timeout,
    /// `m.unknown_transaction`: the transaction id is not known.
    UnknownTransaction,
    /// `m.unknown_method`: no method, protocol or option in common.
    UnknownMethod,
    /// `m.unexpected_message`: an event arrived that the flow's state does not allow.
    UnexpectedMessage,
    /// `m.key_mismatch`: a MAC did not verify or named an unexpected key.
    KeyMismatch,
    /// `m.user_mismatch`: the event came from another device than the one being verified.
    UserMismatch,
    /// `m.invalid_message`: the event is malformed.
    InvalidMessage,
    /// `m.accepted`: another of the user's devices handled the request.
    Accepted,
    /// `m.mismatched_commitment`: the acceptor's key does not match its commitment.
    MismatchedCommitment,
    /// `m.mismatched_sas`: the users saw different emoji or numbers.
    MismatchedSas,
    /// A code this crate does not know (received only).
    Other,
}

impl CancelCode {
    /// The code's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::User => "m.user",
            Self::Timeout => "m.timeout",
            Self::UnknownTransaction => "m.unknown_transaction",
            Self::UnknownMethod => "m.unknown_method",
            Self::UnexpectedMessage => "m.unexpected_message",
            Self::KeyMismatch => "m.key_mismatch",
            Self::UserMismatch => "m.user_mismatch",
            Self::InvalidMessage => "m.invalid_message",
            Self::Accepted => "m.accepted",
            Self::MismatchedCommitment => "m.mismatched_commitment",
            Self::MismatchedSas => "m.mismatched_sas",
            Self::Other => "m.other",
        }
    }

    /// The code with that name; [`CancelCode::Other`] for unknown ones.
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        [
            Self::User,
            Self::Timeout,
            Self::UnknownTransaction,
            Self::UnknownMethod,
            Self::UnexpectedMessage,
            Self::KeyMismatch,
            Self::UserMismatch,
            Self::InvalidMessage,
            Self::Accepted,
            Self::MismatchedCommitment,
            Self::MismatchedSas,
        ]
        .into_iter()
        .find(|c| c.name() == name)
        .unwrap_or(Self::Other)
    }

    const fn reason(self) -> &'static str {
        match self {
            Self::User => "The user cancelled the verification.",
            Self::Timeout => "The verification timed out.",
            Self::UnknownTransaction => "Unknown transaction.",
            Self::UnknownMethod => "No supported method in common.",
            Self::UnexpectedMessage => "Unexpected message.",
            Self::KeyMismatch => "The keys did not verify.",
            Self::UserMismatch => "The event came from an unexpected device.",
            Self::InvalidMessage => "Invalid message.",
            Self::Accepted => "Handled by another device.",
            Self::MismatchedCommitment => "The key does not match the commitment.",
            Self::MismatchedSas => "The short authentication strings did not match.",
            Self::Other => "Cancelled.",
        }
    }
}

/// A device taking part in a verification, as the application knows it before the flow starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The user id.
    pub user_id: String,
    /// The device id.
    pub device_id: String,
    /// The device's Ed25519 key.
    pub device_key: Ed25519PublicKey,
    /// The user's master (cross-signing) key, if known.
    pub master_key: Option<Ed25519PublicKey>,
}

impl DeviceInfo {
    /// A device description.
    #[must_use]
    pub fn new(
        user_id: &str,
        device_id: &str,
        device_key: Ed25519PublicKey,
        master_key: Option<Ed25519PublicKey>,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            device_id: device_id.into(),
            device_key,
            master_key,
        }
    }

    fn party(&self) -> Party<'_> {
        Party {
            user_id: &self.user_id,
            device_id: &self.device_id,
        }
    }
}

/// An event to send to the other device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The event type.
    pub event_type: EventType,
    /// The event content.
    pub content: Value,
}

impl Outgoing {
    /// The content as JSON text (canonical, so byte-stable).
    #[must_use]
    pub fn content_json(&self) -> Vec<u8> {
        self.content.to_canonical().into_bytes()
    }

    /// The cancel code, if this is a cancel event.
    #[must_use]
    pub fn cancel_code(&self) -> Option<CancelCode> {
        (self.event_type == EventType::Cancel).then(|| {
            CancelCode::from_name(
                self.content
                    .get("code")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            )
        })
    }
}

/// The `m.sas.v1` parameters of a start event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SasStart {
    /// `key_agreement_protocols`.
    pub key_agreement_protocols: Vec<String>,
    /// `hashes`.
    pub hashes: Vec<String>,
    /// `message_authentication_codes`.
    pub message_authentication_codes: Vec<String>,
    /// `short_authentication_string`.
    pub short_authentication_string: Vec<String>,
}

/// A parsed `m.key.verification.*` event content.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationEvent {
    /// `m.key.verification.request`.
    Request {
        /// The requesting device.
        from_device: String,
        /// The methods it supports.
        methods: Vec<String>,
        /// When it sent the request (ms since the epoch).
        timestamp: u64,
        /// The transaction id.
        transaction_id: String,
    },
    /// `m.key.verification.ready`.
    Ready {
        /// The ready device.
        from_device: String,
        /// The methods it supports.
        methods: Vec<String>,
        /// The transaction id.
        transaction_id: String,
    },
    /// `m.key.verification.start`.
    Start {
        /// The starting device.
        from_device: String,
        /// The method.
        method: String,
        /// Its SAS parameters, for `m.sas.v1`.
        sas: Option<SasStart>,
        /// The transaction id.
        transaction_id: String,
        /// The whole content, for the commitment.
        content: Value,
    },
    /// `m.key.verification.accept`.
    Accept {
        /// `key_agreement_protocol`.
        key_agreement_protocol: String,
        /// `hash`.
        hash: String,
        /// `message_authentication_code`.
        message_authentication_code: String,
        /// `short_authentication_string`.
        short_authentication_string: Vec<String>,
        /// `commitment`.
        commitment: String,
        /// The transaction id.
        transaction_id: String,
    },
    /// `m.key.verification.key`.
    Key {
        /// The ephemeral key, base64.
        key: String,
        /// The transaction id.
        transaction_id: String,
    },
    /// `m.key.verification.mac`.
    Mac {
        /// Key id → MAC.
        mac: Vec<(String, String)>,
        /// The MAC of the key ids.
        keys: String,
        /// The transaction id.
        transaction_id: String,
    },
    /// `m.key.verification.done`.
    Done {
        /// The transaction id.
        transaction_id: String,
    },
    /// `m.key.verification.cancel`.
    Cancel {
        /// The code.
        code: CancelCode,
        /// The transaction id.
        transaction_id: String,
    },
}

/// Why an event could not be parsed: the transaction id if it had a readable one, and the code to
/// cancel with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    /// The event's transaction id, if readable.
    pub transaction_id: Option<String>,
    /// `m.invalid_message`, or `m.unexpected_message` for an unknown event type.
    pub code: CancelCode,
}

fn string_field(content: &Value, key: &str) -> Option<String> {
    content
        .get(key)
        .and_then(Value::as_str)
        .map(ToString::to_string)
}

fn string_list(content: &Value, key: &str) -> Option<Vec<String>> {
    content
        .get(key)?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(ToString::to_string))
        .collect()
}

impl VerificationEvent {
    /// Parses an event content of type `event_type`.
    ///
    /// # Errors
    /// A [`ParseFailure`] with the code to cancel with.
    pub fn parse(event_type: &str, content: &[u8]) -> Result<Self, ParseFailure> {
        let invalid = |transaction_id: Option<String>| ParseFailure {
            transaction_id,
            code: CancelCode::InvalidMessage,
        };
        let value = json::parse(content).map_err(|_| invalid(None))?;
        if value.as_object().is_none() {
            return Err(invalid(None));
        }
        let transaction_id = string_field(&value, "transaction_id")
            .filter(|t| !t.is_empty() && t.len() <= MAX_VERIFICATION_ID_LEN)
            .ok_or_else(|| invalid(None))?;
        let Some(kind) = EventType::from_name(event_type) else {
            return Err(ParseFailure {
                transaction_id: Some(transaction_id),
                code: CancelCode::UnexpectedMessage,
            });
        };
        let txn = Some(transaction_id.clone());
        let field = |key: &str| string_field(&value, key).ok_or_else(|| invalid(txn.clone()));
        let list = |key: &str| string_list(&value, key).ok_or_else(|| invalid(txn.clone()));
        let event = match kind {
            EventType::Request => Self::Request {
                from_device: field("from_device")?,
                methods: list("methods")?,
                timestamp: value
                    .get("timestamp")
                    .and_then(Value::as_integer)
                    .and_then(|t| u64::try_from(t).ok())
                    .ok_or_else(|| invalid(txn.clone()))?,
                transaction_id,
            },
            EventType::Ready => Self::Ready {
                from_device: field("from_device")?,
                methods: list("methods")?,
                transaction_id,
            },
            EventType::Start => {
                let method = field("method")?;
                let sas = if method == SAS_METHOD {
                    Some(SasStart {
                        key_agreement_protocols: list("key_agreement_protocols")?,
                        hashes: list("hashes")?,
                        message_authentication_codes: list("message_authentication_codes")?,
                        short_authentication_string: list("short_authentication_string")?,
                    })
                } else {
                    None
                };
                Self::Start {
                    from_device: field("from_device")?,
                    method,
                    sas,
                    transaction_id,
                    content: value.clone(),
                }
            }
            EventType::Accept => Self::Accept {
                key_agreement_protocol: field("key_agreement_protocol")?,
                hash: field("hash")?,
                message_authentication_code: field("message_authentication_code")?,
                short_authentication_string: list("short_authentication_string")?,
                commitment: field("commitment")?,
                transaction_id,
            },
            EventType::Key => Self::Key {
                key: field("key")?,
                transaction_id,
            },
            EventType::Mac => {
                let mac = value
                    .get("mac")
                    .and_then(Value::as_object)
                    .ok_or_else(|| invalid(txn.clone()))?
                    .iter()
                    .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| invalid(txn.clone()))?;
                Self::Mac {
                    mac,
                    keys: field("keys")?,
                    transaction_id,
                }
            }
            EventType::Done => Self::Done { transaction_id },
            EventType::Cancel => Self::Cancel {
                code: CancelCode::from_name(&field("code")?),
                transaction_id,
            },
        };
        Ok(event)
    }

    /// The event's transaction id.
    #[must_use]
    pub fn transaction_id(&self) -> &str {
        match self {
            Self::Request { transaction_id, .. }
            | Self::Ready { transaction_id, .. }
            | Self::Start { transaction_id, .. }
            | Self::Accept { transaction_id, .. }
            | Self::Key { transaction_id, .. }
            | Self::Mac { transaction_id, .. }
            | Self::Done { transaction_id }
            | Self::Cancel { transaction_id, .. } => transaction_id,
        }
    }
}

/// Where a verification stands, as the application sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// We sent a request and wait for the other device to be ready.
    Requested,
    /// We received a request and have not answered it yet.
    RequestReceived,
    /// Both devices are ready; either may start SAS.
    Ready,
    /// We sent a start event and wait for an accept.
    Started,
    /// We accepted a start event and wait for the starter's key.
    Accepted,
    /// We sent our key and wait for the other device's.
    KeySent,
    /// The keys are exchanged: show the SAS and ask the user whether it matches.
    KeysExchanged,
    /// The user confirmed; we sent our MAC and wait for the other device's MAC or done.
    Confirmed,
    /// Both sides confirmed; the verified keys are available.
    Done,
    /// The flow was cancelled.
    Cancelled {
        /// The code.
        code: CancelCode,
        /// Whether we cancelled (rather than the other device).
        by_us: bool,
    },
}

/// The options agreed in the accept event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Agreed {
    kap: KeyAgreement,
    mac: MacMethod,
    emoji: bool,
}

enum Phase {
    Requested,
    RequestReceived,
    Ready,
    Started {
        sas: Sas,
        canonical_start: String,
    },
    Accepted {
        sas: Sas,
        agreed: Agreed,
    },
    KeySent {
        sas: Sas,
        agreed: Agreed,
        commitment: String,
        canonical_start: String,
    },
    Established {
        sas: Box<EstablishedSas>,
        agreed: Agreed,
        role: Role,
        confirmed: bool,
        their_keys: Option<VerifiedKeys>,
        done_sent: bool,
    },
    Done(VerifiedKeys),
    Cancelled {
        code: CancelCode,
        by_us: bool,
    },
}

/// One verification between our device and another.
pub struct Verification {
    own: DeviceInfo,
    other: DeviceInfo,
    transaction_id: String,
    /// Our SAS key pair, made when the flow is; taken when we start or accept.
    sas: Option<Sas>,
    phase: Phase,
    last_activity: u64,
}

impl fmt::Debug for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verification")
            .field("own", &self.own.device_id)
            .field("other", &self.other.device_id)
            .field("transaction_id", &self.transaction_id)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

fn content(transaction_id: &str, members: Vec<(&str, Value)>) -> Value {
    let mut o = Object::new();
    o.insert("transaction_id".into(), transaction_id.into());
    for (k, v) in members {
        o.insert(k.into(), v);
    }
    Value::Object(o)
}

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(*s)).collect())
}

fn timestamp_value(now: u64) -> Value {
    i64::try_from(now)
        .ok()
        .and_then(|n| Value::integer(n).ok())
        .unwrap_or(Value::Integer(0))
}

impl Verification {
    /// Starts a verification by requesting it from `other`; returns the request to send.
    pub fn request<R: CryptoRng + ?Sized>(
        rng: &mut R,
        own: DeviceInfo,
        other: DeviceInfo,
        transaction_id: &str,
        now: u64,
    ) -> (Self, Outgoing) {
        let request = Outgoing {
            event_type: EventType::Request,
            content: content(
                transaction_id,
                vec![
                    ("from_device", own.device_id.as_str().into()),
                    ("methods", strings(&[SAS_METHOD])),
                    ("timestamp", timestamp_value(now)),
                ],
            ),
        };
        let flow = Self {
            own,
            other,
            transaction_id: transaction_id.into(),
            sas: Some(Sas::new(rng)),
            phase: Phase::Requested,
            last_activity: now,
        };
        (flow, request)
    }

    /// A flow for a request we received, in [`State::RequestReceived`]; when the user agrees,
    /// [`Verification::accept_request`] gives the ready event to send.
    ///
    /// # Errors
    /// `Err(Some(cancel))` if the request must be refused with a cancel event (malformed, no common
    /// method, another device); `Err(None)` if it must be ignored (not a request, or its timestamp is
    /// more than 10 minutes old or 5 minutes in the future, as the spec says).
    pub fn from_request<R: CryptoRng + ?Sized>(
        rng: &mut R,
        own: DeviceInfo,
        other: DeviceInfo,
        content: &[u8],
        now: u64,
    ) -> Result<Self, Option<Outgoing>> {
        let event = VerificationEvent::parse(EventType::Request.name(), content)
            .map_err(|f| f.transaction_id.map(|t| cancel_event(&t, f.code)))?;
        let VerificationEvent::Request {
            from_device,
            methods,
            timestamp,
            transaction_id,
        } = event
        else {
            return Err(None);
        };
        if timestamp.saturating_add(VERIFICATION_TIMEOUT_MS) < now
            || timestamp > now.saturating_add(VERIFICATION_REQUEST_FUTURE_MS)
        {
            return Err(None);
        }
        if from_device != other.device_id {
            return Err(Some(cancel_event(
                &transaction_id,
                CancelCode::UserMismatch,
            )));
        }
        if !methods.iter().any(|m| m == SAS_METHOD) {
            return Err(Some(cancel_event(
                &transaction_id,
                CancelCode::UnknownMethod,
            )));
        }
        Ok(Self {
            own,
            other,
            transaction_id,
            sas: Some(Sas::new(rng)),
            phase: Phase::RequestReceived,
            last_activity: now,
        })
    }

    fn ready_event(&self) -> Outgoing {
        Outgoing {
            event_type: EventType::Ready,
            content: content(
                &self.transaction_id,
                vec![
                    ("from_device", self.own.device_id.as_str().into()),
                    ("methods", strings(&[SAS_METHOD])),
                ],
            ),
        }
    }

    /// The user accepted a received request: returns the ready event, or `None` if the flow is not
    /// waiting for that.
    pub fn accept_request(&mut self, now: u64) -> Option<Outgoing> {
        if !matches!(self.phase, Phase::RequestReceived) {
            return None;
        }
        self.phase = Phase::Ready;
        self.last_activity = now;
        Some(self.ready_event())
    }

    /// Starts SAS (from [`State::Ready`]): returns the start event, or `None` in any other state.
    pub fn start_sas(&mut self, now: u64) -> Option<Outgoing> {
        if !matches!(self.phase, Phase::Ready) {
            return None;
        }
        let sas = self.sas.take()?;
        let start = content(
            &self.transaction_id,
            vec![
                ("from_device", self.own.device_id.as_str().into()),
                ("method", SAS_METHOD.into()),
                ("key_agreement_protocols", strings(&OUR_KAPS)),
                ("hashes", strings(&["sha256"])),
                ("message_authentication_codes", strings(&OUR_MACS)),
                ("short_authentication_string", strings(&OUR_SAS)),
            ],
        );
        self.phase = Phase::Started {
            sas,
            canonical_start: start.to_canonical(),
        };
        self.last_activity = now;
        Some(Outgoing {
            event_type: EventType::Start,
            content: start,
        })
    }

    /// The transaction id.
    #[must_use]
    pub fn transaction_id(&self) -> &str {
        &self.transaction_id
    }

    /// The current state.
    #[must_use]
    pub fn state(&self) -> State {
        match &self.phase {
            Phase::Requested => State::Requested,
            Phase::RequestReceived => State::RequestReceived,
            Phase::Ready => State::Ready,
            Phase::Started { .. } => State::Started,
            Phase::Accepted { .. } => State::Accepted,
            Phase::KeySent { .. } => State::KeySent,
            Phase::Established {
                confirmed: false, ..
            } => State::KeysExchanged,
            Phase::Established { .. } => State::Confirmed,
            Phase::Done(_) => State::Done,
            Phase::Cancelled { code, by_us } => State::Cancelled {
                code: *code,
                by_us: *by_us,
            },
        }
    }

    fn sas_bytes(&self) -> Option<super::sas::SasBytes> {
        let Phase::Established {
            sas, agreed, role, ..
        } = &self.phase
        else {
            return None;
        };
        let (starter, acceptor) = match role {
            Role::Starter => (self.own.party(), self.other.party()),
            Role::Acceptor => (self.other.party(), self.own.party()),
        };
        let ids = SasIds {
            starter,
            acceptor,
            transaction_id: &self.transaction_id,
        };
        sas.sas_bytes(agreed.kap, *role, &ids).ok()
    }

    /// The seven emoji to show, once the keys are exchanged and if emoji were agreed.
    #[must_use]
    pub fn emoji(&self) -> Option<[Emoji; 7]> {
        match &self.phase {
            Phase::Established { agreed, .. } if agreed.emoji => {
                self.sas_bytes().map(|b| b.emoji())
            }
            _ => None,
        }
    }

    /// The three numbers to show, once the keys are exchanged.
    #[must_use]
    pub fn decimals(&self) -> Option<(u16, u16, u16)> {
        self.sas_bytes().map(|b| b.decimals())
    }

    /// The keys this verification proved, once it is [`State::Done`].
    #[must_use]
    pub fn verified_keys(&self) -> Option<VerifiedKeys> {
        match &self.phase {
            Phase::Done(keys) => Some(*keys),
            _ => None,
        }
    }

    /// The user says the SAS matches: returns our MAC (and our done, if the other device's MAC has
    /// already verified). Empty in any state but [`State::KeysExchanged`].
    pub fn confirm(&mut self, now: u64) -> Vec<Outgoing> {
        let mac = match &self.phase {
            Phase::Established {
                sas,
                agreed,
                confirmed: false,
                ..
            } => self.mac_event(sas, agreed.mac),
            _ => return Vec::new(),
        };
        let mac = match mac {
            Ok(mac) => mac,
            Err(_) => return vec![self.cancel_now(CancelCode::InvalidMessage)],
        };
        self.last_activity = now;
        let mut out = vec![mac];
        if let Phase::Established {
            confirmed,
            their_keys,
            done_sent,
            ..
        } = &mut self.phase
        {
            *confirmed = true;
            if their_keys.is_some() {
                *done_sent = true;
                out.push(done_event(&self.transaction_id));
            }
        }
        out
    }

    /// The user says the SAS does not match: cancels with `m.mismatched_sas`.
    pub fn mismatch(&mut self) -> Option<Outgoing> {
        self.is_active()
            .then(|| self.cancel_now(CancelCode::MismatchedSas))
    }

    /// The user cancels: `m.user`.
    pub fn cancel(&mut self) -> Option<Outgoing> {
        self.is_active().then(|| self.cancel_now(CancelCode::User))
    }

    /// Cancels with `m.timeout` if the flow has waited more than [`VERIFICATION_TIMEOUT_MS`] since its
    /// last event.
    pub fn poll_timeout(&mut self, now: u64) -> Option<Outgoing> {
        (self.is_active() && now.saturating_sub(self.last_activity) > VERIFICATION_TIMEOUT_MS)
            .then(|| self.cancel_now(CancelCode::Timeout))
    }

    fn is_active(&self) -> bool {
        !matches!(self.phase, Phase::Done(_) | Phase::Cancelled { .. })
    }

    fn cancel_now(&mut self, code: CancelCode) -> Outgoing {
        self.phase = Phase::Cancelled { code, by_us: true };
        self.sas = None;
        cancel_event(&self.transaction_id, code)
    }

    fn mac_event(
        &self,
        sas: &EstablishedSas,
        method: MacMethod,
    ) -> Result<Outgoing, VerificationError> {
        let ids = MacIds {
            sender: self.own.party(),
            receiver: self.other.party(),
            transaction_id: &self.transaction_id,
        };
        let mut mac = Object::new();
        let device_id = alloc::format!("ed25519:{}", self.own.device_id);
        let m = sas.mac_key(method, &ids, &device_id, &self.own.device_key)?;
        mac.insert(device_id.clone(), m.as_str().into());
        let mut key_ids = vec![device_id];
        if let Some(master) = self.own.master_key {
            let master_id = alloc::format!("ed25519:{}", Base64_32::encode(master.as_bytes()));
            let m = sas.mac_key(method, &ids, &master_id, &master)?;
            mac.insert(master_id.clone(), m.as_str().into());
            key_ids.push(master_id);
        }
        let refs: Vec<&str> = key_ids.iter().map(String::as_str).collect();
        let keys = sas.mac_key_ids(method, &ids, &refs)?;
        Ok(Outgoing {
            event_type: EventType::Mac,
            content: content(
                &self.transaction_id,
                vec![("mac", Value::Object(mac)), ("keys", keys.as_str().into())],
            ),
        })
    }

    /// Handles an event from the other device; returns the events to send back.
    pub fn receive(&mut self, event_type: &str, content: &[u8], now: u64) -> Vec<Outgoing> {
        if !self.is_active() {
            return Vec::new();
        }
        if let Some(cancel) = self.poll_timeout(now) {
            return vec![cancel];
        }
        let event = match VerificationEvent::parse(event_type, content) {
            Ok(event) => event,
            Err(failure) => {
                return match failure.transaction_id {
                    Some(t) if t != self.transaction_id => {
                        vec![cancel_event(&t, CancelCode::UnknownTransaction)]
                    }
                    _ => vec![self.cancel_now(failure.code)],
                };
            }
        };
        if event.transaction_id() != self.transaction_id {
            if matches!(event, VerificationEvent::Cancel { .. }) {
                return Vec::new();
            }
            return vec![cancel_event(
                event.transaction_id(),
                CancelCode::UnknownTransaction,
            )];
        }
        self.last_activity = now;
        match self.handle(event) {
            Ok(out) => out,
            Err(code) => vec![self.cancel_now(code)],
        }
    }

    fn handle(&mut self, event: VerificationEvent) -> Result<Vec<Outgoing>, CancelCode> {
        use VerificationEvent as E;
        let phase = core::mem::replace(&mut self.phase, Phase::Ready);
        // Every arm either sets the next phase or returns an error (after which the flow is cancelled).
        match (phase, event) {
            (_, E::Cancel { code, .. }) => {
                self.phase = Phase::Cancelled { code, by_us: false };
                self.sas = None;
                Ok(Vec::new())
            }
            (
                Phase::Requested,
                E::Ready {
                    from_device,
                    methods,
                    ..
                },
            ) => {
                if from_device != self.other.device_id {
                    return Err(CancelCode::UserMismatch);
                }
                if !methods.iter().any(|m| m == SAS_METHOD) {
                    return Err(CancelCode::UnknownMethod);
                }
                self.phase = Phase::Ready;
                Ok(Vec::new())
            }
            (
                Phase::Ready,
                E::Start {
                    from_device,
                    method,
                    sas,
                    content,
                    ..
                },
            ) => self.accept_start(&from_device, &method, sas, &content),
            (
                Phase::Started {
                    sas,
                    canonical_start,
                },
                E::Start {
                    from_device,
                    method,
                    sas: their_sas,
                    content,
                    ..
                },
            ) => {
                // Both sides started: the start of the lexicographically smaller user id (device id
                // for two devices of one user) is used.
                let ours_wins = if self.own.user_id == self.other.user_id {
                    self.own.device_id < self.other.device_id
                } else {
                    self.own.user_id < self.other.user_id
                };
                if ours_wins {
                    self.phase = Phase::Started {
                        sas,
                        canonical_start,
                    };
                    Ok(Vec::new())
                } else {
                    self.sas = Some(sas);
                    self.accept_start(&from_device, &method, their_sas, &content)
                }
            }
            (
                Phase::Started {
                    sas,
                    canonical_start,
                },
                E::Accept {
                    key_agreement_protocol,
                    hash,
                    message_authentication_code,
                    short_authentication_string,
                    commitment,
                    ..
                },
            ) => {
                let kap = OUR_KAPS
                    .iter()
                    .find(|k| **k == key_agreement_protocol)
                    .and_then(|k| KeyAgreement::from_name(k));
                let mac = OUR_MACS
                    .iter()
                    .find(|m| **m == message_authentication_code)
                    .and_then(|m| MacMethod::from_name(m));
                let sas_ok = !short_authentication_string.is_empty()
                    && short_authentication_string
                        .iter()
                        .all(|s| OUR_SAS.contains(&s.as_str()));
                let (Some(kap), Some(mac), true, true) = (kap, mac, hash == "sha256", sas_ok)
                else {
                    return Err(CancelCode::UnknownMethod);
                };
                let agreed = Agreed {
                    kap,
                    mac,
                    emoji: short_authentication_string.iter().any(|s| s == "emoji"),
                };
                let key = key_event(&self.transaction_id, &sas);
                self.phase = Phase::KeySent {
                    sas,
                    agreed,
                    commitment,
                    canonical_start,
                };
                Ok(vec![key])
            }
            (Phase::Accepted { sas, agreed }, E::Key { key, .. }) => {
                // We are the acceptor: the starter's key comes first; we answer with ours.
                let reply = key_event(&self.transaction_id, &sas);
                let established = sas.diffie_hellman_base64(&key).map_err(key_error)?;
                self.phase = Phase::Established {
                    sas: Box::new(established),
                    agreed,
                    role: Role::Acceptor,
                    confirmed: false,
                    their_keys: None,
                    done_sent: false,
                };
                Ok(vec![reply])
            }
            (
                Phase::KeySent {
                    sas,
                    agreed,
                    commitment,
                    canonical_start,
                },
                E::Key { key, .. },
            ) => {
                let their_key =
                    super::sas::decode_base64_32(&key).map_err(|_| CancelCode::InvalidMessage)?;
                let their_key =
                    crate::primitives::curve25519::Curve25519PublicKey::from_bytes(their_key);
                check_commitment(&their_key, canonical_start.as_bytes(), &commitment)
                    .map_err(|_| CancelCode::MismatchedCommitment)?;
                let established = sas.diffie_hellman(&their_key).map_err(key_error)?;
                self.phase = Phase::Established {
                    sas: Box::new(established),
                    agreed,
                    role: Role::Starter,
                    confirmed: false,
                    their_keys: None,
                    done_sent: false,
                };
                Ok(Vec::new())
            }
            (
                Phase::Established {
                    sas,
                    agreed,
                    role,
                    confirmed,
                    their_keys: None,
                    done_sent,
                },
                E::Mac { mac, keys, .. },
            ) => {
                if mac.len() > MAX_SAS_MAC_KEYS {
                    return Err(CancelCode::KeyMismatch);
                }
                let ids = MacIds {
                    sender: self.other.party(),
                    receiver: self.own.party(),
                    transaction_id: &self.transaction_id,
                };
                let expected = ExpectedKeys {
                    device: Some((self.other.device_id.as_str(), self.other.device_key)),
                    master_key: self.other.master_key,
                };
                let pairs: Vec<(&str, &str)> =
                    mac.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let verified = sas
                    .verify_macs(agreed.mac, &ids, &pairs, &keys, &expected)
                    .map_err(|e| match e {
                        VerificationError::InvalidIdentifier => CancelCode::InvalidMessage,
                        _ => CancelCode::KeyMismatch,
                    })?;
                let mut out = Vec::new();
                let mut done_sent = done_sent;
                if confirmed && !done_sent {
                    done_sent = true;
                    out.push(done_event(&self.transaction_id));
                }
                self.phase = Phase::Established {
                    sas,
                    agreed,
                    role,
                    confirmed,
                    their_keys: Some(verified),
                    done_sent,
                };
                Ok(out)
            }
            (
                Phase::Established {
                    their_keys: Some(keys),
                    done_sent: true,
                    ..
                },
                E::Done { .. },
            ) => {
                self.phase = Phase::Done(keys);
                Ok(Vec::new())
            }
            _ => Err(CancelCode::UnexpectedMessage),
        }
    }

    /// We are the acceptor of `content` (a start event from the other device).
    fn accept_start(
        &mut self,
        from_device: &str,
        method: &str,
        sas_start: Option<SasStart>,
        content: &Value,
    ) -> Result<Vec<Outgoing>, CancelCode> {
        if from_device != self.other.device_id {
            return Err(CancelCode::UserMismatch);
        }
        let Some(start) = sas_start.filter(|_| method == SAS_METHOD) else {
            return Err(CancelCode::UnknownMethod);
        };
        let pick = |ours: &[&'static str], theirs: &[String]| {
            ours.iter()
                .find(|o| theirs.iter().any(|t| t == *o))
                .copied()
        };
        let kap = pick(&OUR_KAPS, &start.key_agreement_protocols);
        let mac = pick(&OUR_MACS, &start.message_authentication_codes);
        let hash_ok = start.hashes.iter().any(|h| h == "sha256");
        let sas_methods: Vec<&str> = OUR_SAS
            .iter()
            .filter(|s| start.short_authentication_string.iter().any(|t| t == *s))
            .copied()
            .collect();
        let (Some(kap_name), Some(mac_name), true, false) =
            (kap, mac, hash_ok, sas_methods.is_empty())
        else {
            return Err(CancelCode::UnknownMethod);
        };
        let (Some(kap), Some(mac)) = (
            KeyAgreement::from_name(kap_name),
            MacMethod::from_name(mac_name),
        ) else {
            return Err(CancelCode::UnknownMethod);
        };
        let sas = self.sas.take().ok_or(CancelCode::UnexpectedMessage)?;
        let commitment = Base64_32::encode(&sas.commitment(content.to_canonical().as_bytes()));
        let accept = Outgoing {
            event_type: EventType::Accept,
            content: self::content(
                &self.transaction_id,
                vec![
                    ("method", SAS_METHOD.into()),
                    ("key_agreement_protocol", kap_name.into()),
                    ("hash", "sha256".into()),
                    ("message_authentication_code", mac_name.into()),
                    ("short_authentication_string", strings(&sas_methods)),
                    ("commitment", commitment.as_str().into()),
                ],
            ),
        };
        self.phase = Phase::Accepted {
            sas,
            agreed: Agreed {
                kap,
                mac,
                emoji: sas_methods.contains(&"emoji"),
            },
        };
        Ok(vec![accept])
    }
}

fn key_error(e: VerificationError) -> CancelCode {
    match e {
        VerificationError::NonContributory => CancelCode::KeyMismatch,
        _ => CancelCode::InvalidMessage,
    }
}

fn key_event(transaction_id: &str, sas: &Sas) -> Outgoing {
    Outgoing {
        event_type: EventType::Key,
        content: content(
            transaction_id,
            vec![("key", sas.public_key_base64().as_str().into())],
        ),
    }
}

fn done_event(transaction_id: &str) -> Outgoing {
    Outgoing {
        event_type: EventType::Done,
        content: content(transaction_id, Vec::new()),
    }
}

/// A cancel event for `transaction_id` with `code` and its standard reason.
#[must_use]
pub fn cancel_event(transaction_id: &str, code: CancelCode) -> Outgoing {
    Outgoing {
        event_type: EventType::Cancel,
        content: content(
            transaction_id,
            vec![
                ("code", code.name().into()),
                ("reason", code.reason().into()),
            ],
        ),
    }
}

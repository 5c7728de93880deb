//! The room key: the typed plaintext of one Megolm session as a key backup stores it and a key-export
//! file lists it (`alloc`).
//!
//! The Matrix specification has two shapes of the same object:
//!
//! * `BackedUpSessionData` (server-side key backup, the plaintext inside `session_data`): `algorithm`,
//!   `sender_key`, `sender_claimed_keys`, `forwarding_curve25519_key_chain`, `session_key`. The room id
//!   and session id are in the request path, not in the object.
//! * `ExportedSessionData` (key-export files): the same plus `room_id` and `session_id`.
//!
//! `session_key` is the unsigned version-1 export of the session ([`ExportedSessionKey`]), so a session
//! restored from it is not verified: who sent it is only what the exporter claims in `sender_key` and
//! `sender_claimed_keys`.
//!
//! # What peers read and write
//!
//! matrix-rust-sdk's `ExportedRoomKey` requires `algorithm`, `room_id`, `sender_key`, `session_id` and
//! `session_key`, and defaults the rest; its `BackedUpRoomKey` also requires `sender_claimed_keys`.
//! rust-sdk reads the shared-history flag only as `m.shared_history` (alias
//! `org.matrix.msc3061.shared_history`), while the specification (v1.19) names it `shared_history`. So
//! [`RoomKey::to_backup_json`] and [`RoomKey::to_export_json`] write the flag twice, as
//! `shared_history` and as `m.shared_history`, and always write `sender_claimed_keys` (possibly `{}`) and
//! `forwarding_curve25519_key_chain` (possibly `[]`). [`RoomKey::from_json`] accepts all three spellings
//! of the flag (if more than one is present they must agree), and defaults a missing
//! `sender_claimed_keys` or chain to empty, as rust-sdk does for exports.
//!
//! `sender_claimed_keys` is a map from algorithm to key. Megolm v1 has only the Ed25519 entry, which is
//! kept; entries for other algorithms must be strings and are dropped (rust-sdk also drops them when it
//! forwards a key).
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use safemeet::backup::room_key::RoomKey;
//! use safemeet::codec::json;
//! use safemeet::megolm::{GroupSession, InboundGroupSession};
//! use safemeet::primitives::curve25519::Curve25519PublicKey;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//!
//! let mut outbound = GroupSession::new(&mut rng);
//! let inbound = InboundGroupSession::new(&outbound.session_key());
//! let sender_key = Curve25519PublicKey::from_bytes([7; 32]);
//!
//! let key = RoomKey::from_inbound(&inbound, "!room:example.org", sender_key, None, true);
//! let text = key.to_export_json()?.to_canonical();
//! let back = RoomKey::from_json(&json::parse(text.as_bytes())?)?;
//! assert_eq!(back.to_inbound()?.session_id(), inbound.session_id());
//! # }
//! # Ok::<(), safemeet::Error>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::codec::base64;
use crate::codec::json::{Object, Value};
use crate::error::BackupError;
use crate::limits::{MAX_FORWARDING_CHAIN_LEN, MAX_ROOM_ID_LEN};
use crate::megolm::{ExportedSessionKey, InboundGroupSession};
use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::ed25519::Ed25519PublicKey;

/// The only session algorithm a room key may name.
pub const MEGOLM_V1: &str = "m.megolm.v1.aes-sha2";

/// The shared-history flag as the specification names it (v1.19).
const SHARED_HISTORY: &str = "shared_history";
/// The shared-history flag as matrix-rust-sdk writes and reads it.
const SHARED_HISTORY_STABLE_PREFIXED: &str = "m.shared_history";
/// The shared-history flag under its MSC3061 name (rust-sdk reads it as an alias).
const SHARED_HISTORY_MSC3061: &str = "org.matrix.msc3061.shared_history";

/// One Megolm session as a backup or key-export file carries it.
///
/// The fields are public: a backup restores `room_id` and `session_id` from the request path, and an
/// application may extend the forwarding chain. The session key is zeroized on drop and never printed.
pub struct RoomKey {
    /// The room the session belongs to. Required in a key-export file; absent in a backup's plaintext.
    pub room_id: Option<String>,
    /// The session id as the source stated it. Required in a key-export file; absent in a backup's
    /// plaintext. [`RoomKey::to_inbound`] checks it against the session key.
    pub session_id: Option<String>,
    /// The Curve25519 identity key of the device that created the session (what it claimed).
    pub sender_key: Curve25519PublicKey,
    /// The Ed25519 key the creating device claimed (`sender_claimed_keys.ed25519`), if given.
    pub sender_claimed_ed25519: Option<Ed25519PublicKey>,
    /// The Curve25519 keys of the devices the session was forwarded through, oldest first; at most
    /// [`MAX_FORWARDING_CHAIN_LEN`].
    pub forwarding_curve25519_key_chain: Vec<Curve25519PublicKey>,
    /// The session, from its first known message index.
    pub session_key: ExportedSessionKey,
    /// Whether the session may be shared with users invited later (MSC3061).
    pub shared_history: bool,
}

impl RoomKey {
    /// The room key of `session` at its first known index, in room `room_id`, created by the device
    /// with identity key `sender_key` that claimed the Ed25519 key `sender_claimed_ed25519`. The
    /// forwarding chain is empty.
    pub fn from_inbound(
        session: &InboundGroupSession,
        room_id: &str,
        sender_key: Curve25519PublicKey,
        sender_claimed_ed25519: Option<Ed25519PublicKey>,
        shared_history: bool,
    ) -> Self {
        let session_key = session.export_at_first_known_index();
        Self {
            room_id: Some(room_id.into()),
            session_id: Some(session_key.session_id().as_str().into()),
            sender_key,
            sender_claimed_ed25519,
            forwarding_curve25519_key_chain: Vec::new(),
            session_key,
            shared_history,
        }
    }

    /// An inbound session from the key: not verified, since the export is unsigned.
    ///
    /// # Errors
    /// [`BackupError::SessionIdMismatch`] when `session_id` is present and is not the id of the
    /// session the key holds.
    pub fn to_inbound(&self) -> Result<InboundGroupSession, BackupError> {
        self.check_session_id()?;
        Ok(InboundGroupSession::import(&self.session_key))
    }

    /// Checks that `session_id`, when present, is the id of the session the key holds.
    ///
    /// # Errors
    /// [`BackupError::SessionIdMismatch`].
    pub fn check_session_id(&self) -> Result<(), BackupError> {
        match &self.session_id {
            Some(id) if self.session_key.session_id() != id.as_str() => {
                Err(BackupError::SessionIdMismatch)
            }
            _ => Ok(()),
        }
    }

    /// The `BackedUpSessionData` object (the plaintext of a key backup): without `room_id` and
    /// `session_id`, which the backup keeps in the request path.
    pub fn to_backup_json(&self) -> Value {
        Value::Object(self.common_fields())
    }

    /// The `ExportedSessionData` object (one entry of a key-export file). `session_id` is written as
    /// the id of the session the key holds.
    ///
    /// # Errors
    /// [`BackupError::InvalidParameter`] when `room_id` is absent or is not a room id (it must start
    /// with `!` and be at most [`MAX_ROOM_ID_LEN`] bytes: rust-sdk refuses a whole file otherwise);
    /// [`BackupError::SessionIdMismatch`] as [`RoomKey::check_session_id`].
    pub fn to_export_json(&self) -> Result<Value, BackupError> {
        self.check_session_id()?;
        let room_id = match &self.room_id {
            Some(r) if is_room_id(r) => r,
            _ => return Err(BackupError::InvalidParameter),
        };
        let mut object = self.common_fields();
        object.insert("room_id".into(), room_id.as_str().into());
        object.insert(
            "session_id".into(),
            self.session_key.session_id().as_str().into(),
        );
        Ok(Value::Object(object))
    }

    fn common_fields(&self) -> Object {
        let mut object = Object::new();
        object.insert("algorithm".into(), MEGOLM_V1.into());
        object.insert(
            "sender_key".into(),
            base64::encode(self.sender_key.as_bytes()).into(),
        );
        let mut claimed = Object::new();
        if let Some(key) = &self.sender_claimed_ed25519 {
            claimed.insert("ed25519".into(), base64::encode(key.as_bytes()).into());
        }
        object.insert("sender_claimed_keys".into(), claimed.into());
        let chain = self
            .forwarding_curve25519_key_chain
            .iter()
            .map(|k| Value::String(base64::encode(k.as_bytes())))
            .collect::<Vec<_>>();
        object.insert("forwarding_curve25519_key_chain".into(), chain.into());
        // The base64 string is copied into the JSON value, which the caller owns; it holds the key
        // as every serialized form must. The intermediate copy zeroizes itself.
        let session_key = self.session_key.to_base64();
        object.insert("session_key".into(), session_key.as_str().into());
        object.insert(SHARED_HISTORY.into(), self.shared_history.into());
        object.insert(
            SHARED_HISTORY_STABLE_PREFIXED.into(),
            self.shared_history.into(),
        );
        object
    }

    /// Reads a room key from either shape. Members of the wrong type are errors; unknown members are
    /// ignored.
    ///
    /// # Errors
    /// [`BackupError::Unsupported`] for an `algorithm` other than `m.megolm.v1.aes-sha2`;
    /// [`BackupError::InvalidParameter`] for a forwarding chain longer than
    /// [`MAX_FORWARDING_CHAIN_LEN`] or a room id longer than [`MAX_ROOM_ID_LEN`];
    /// [`BackupError::InvalidKey`] for an Ed25519 key that is not a valid point;
    /// [`BackupError::Malformed`] for everything else (missing or mistyped members, a room id without
    /// its `!` sigil, bad base64, a session key that does not decode, disagreeing shared-history
    /// flags).
    pub fn from_json(value: &Value) -> Result<Self, BackupError> {
        let object = value.as_object().ok_or(BackupError::Malformed)?;
        match object.get("algorithm").map(Value::as_str) {
            Some(Some(MEGOLM_V1)) => {}
            Some(Some(_)) => return Err(BackupError::Unsupported),
            _ => return Err(BackupError::Malformed),
        }
        let room_id = optional_str(object, "room_id")?;
        if let Some(r) = room_id {
            if r.len() > MAX_ROOM_ID_LEN {
                return Err(BackupError::InvalidParameter);
            }
            if !is_room_id(r) {
                return Err(BackupError::Malformed);
            }
        }
        let session_id = optional_str(object, "session_id")?;
        let sender_key = curve25519(required_str(object, "sender_key")?)?;
        let sender_claimed_ed25519 = match object.get("sender_claimed_keys") {
            None => None,
            Some(Value::Object(keys)) => claimed_ed25519(keys)?,
            Some(_) => return Err(BackupError::Malformed),
        };
        let forwarding_curve25519_key_chain = match object.get("forwarding_curve25519_key_chain") {
            None => Vec::new(),
            Some(Value::Array(chain)) => {
                if chain.len() > MAX_FORWARDING_CHAIN_LEN {
                    return Err(BackupError::InvalidParameter);
                }
                chain
                    .iter()
                    .map(|k| {
                        k.as_str()
                            .ok_or(BackupError::Malformed)
                            .and_then(curve25519)
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            Some(_) => return Err(BackupError::Malformed),
        };
        let session_key = ExportedSessionKey::from_base64(required_str(object, "session_key")?)
            .map_err(|_| BackupError::Malformed)?;
        let shared_history = shared_history(object)?;
        Ok(Self {
            room_id: room_id.map(String::from),
            session_id: session_id.map(String::from),
            sender_key,
            sender_claimed_ed25519,
            forwarding_curve25519_key_chain,
            session_key,
            shared_history,
        })
    }
}

impl fmt::Debug for RoomKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomKey")
            .field("room_id", &self.room_id)
            .field("session_id", &self.session_id)
            .field("sender_key", &self.sender_key)
            .field("sender_claimed_ed25519", &self.sender_claimed_ed25519)
            .field(
                "forwarding_curve25519_key_chain",
                &self.forwarding_curve25519_key_chain,
            )
            .field("first_known_index", &self.session_key.index())
            .field("shared_history", &self.shared_history)
            .finish_non_exhaustive()
    }
}

/// Whether `s` can be written as a room id that rust-sdk will read: a `!` sigil and at most
/// [`MAX_ROOM_ID_LEN`] bytes. (Room versions 1–11 add `:server`; version 12 drops it.)
fn is_room_id(s: &str) -> bool {
    s.len() > 1 && s.len() <= MAX_ROOM_ID_LEN && s.starts_with('!')
}

fn optional_str<'a>(object: &'a Object, name: &str) -> Result<Option<&'a str>, BackupError> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(BackupError::Malformed),
    }
}

fn required_str<'a>(object: &'a Object, name: &str) -> Result<&'a str, BackupError> {
    optional_str(object, name)?.ok_or(BackupError::Malformed)
}

/// Decodes exactly 32 bytes of base64 (padded or not).
fn key_bytes(text: &str) -> Result<[u8; 32], BackupError> {
    let mut out = [0u8; 32];
    base64::decode_array_into(text, &mut out).map_err(|_| BackupError::Malformed)?;
    Ok(out)
}

fn curve25519(text: &str) -> Result<Curve25519PublicKey, BackupError> {
    key_bytes(text).map(Curve25519PublicKey::from_bytes)
}

fn claimed_ed25519(keys: &Object) -> Result<Option<Ed25519PublicKey>, BackupError> {
    let mut ed25519 = None;
    for (algorithm, key) in keys {
        let text = key.as_str().ok_or(BackupError::Malformed)?;
        if algorithm == "ed25519" {
            let bytes = key_bytes(text)?;
            ed25519 =
                Some(Ed25519PublicKey::from_bytes(&bytes).map_err(|_| BackupError::InvalidKey)?);
        }
    }
    Ok(ed25519)
}

fn shared_history(object: &Object) -> Result<bool, BackupError> {
    let mut flag = None;
    for name in [
        SHARED_HISTORY,
        SHARED_HISTORY_STABLE_PREFIXED,
        SHARED_HISTORY_MSC3061,
    ] {
        match object.get(name) {
            None => {}
            Some(Value::Bool(b)) => {
                if flag.is_some_and(|f| f != *b) {
                    return Err(BackupError::Malformed);
                }
                flag = Some(*b);
            }
            Some(_) => return Err(BackupError::Malformed),
        }
    }
    Ok(flag.unwrap_or(false))
}

//! Errors: one small `Copy` enum per layer, gathered into the root [`Error`].
//!
//! Parse errors say what was wrong with the input's *shape*; they never carry the input itself, key
//! material or user data. Every authentication failure (a MAC, an AEAD tag, a CBC padding check, a
//! signature) is reported through a single opaque variant per layer, so that an attacker who can observe
//! errors learns nothing about *why* a forgery was rejected.

use core::fmt;

/// Errors from the `primitives` layer.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoError {
    /// A MAC, an AEAD tag or a CBC padding check did not verify. Deliberately says nothing more.
    Authentication,
    /// An Ed25519 signature did not verify (including non-canonical encodings and small-order keys).
    InvalidSignature,
    /// A public key's bytes do not encode a key we accept (wrong length, not a curve point, small order).
    InvalidKey,
    /// A Diffie-Hellman exchange produced the all-zero output: the peer's public key has small order,
    /// so the result would not depend on our secret.
    NonContributory,
    /// An input has a length the operation does not accept (a key, nonce or tag of the wrong size, a
    /// CBC ciphertext that is not a whole number of blocks, an HKDF output that is too long).
    InvalidLength,
    /// A parameter is outside its allowed range (for example a PBKDF2 iteration count of zero).
    InvalidParameter,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing was written.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Authentication => f.write_str("authentication failed"),
            Self::InvalidSignature => f.write_str("invalid signature"),
            Self::InvalidKey => f.write_str("invalid public key"),
            Self::NonContributory => f.write_str("non-contributory Diffie-Hellman output"),
            Self::InvalidLength => f.write_str("input has an invalid length"),
            Self::InvalidParameter => f.write_str("parameter out of range"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for CryptoError {}

/// Errors from the `codec` layer: malformed or non-canonical encodings.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecError {
    /// The input ended before the value was complete.
    UnexpectedEnd,
    /// Bytes remain after a value that must span the whole input.
    TrailingData,
    /// A varint has more than ten bytes or does not fit in 64 bits.
    VarintOverflow,
    /// A varint carries redundant trailing zero groups (an overlong encoding).
    NonCanonicalVarint,
    /// A decoded value does not fit the integer type it was read into.
    ValueOutOfRange,
    /// A protobuf field key uses a wire type that is not supported.
    UnsupportedWireType,
    /// A protobuf field key has field number zero or above the protobuf maximum.
    InvalidFieldNumber,
    /// A field appeared that the message did not expect, or with the wrong wire type.
    UnexpectedField,
    /// A required field is missing.
    MissingField,
    /// A length or value exceeds a limit from [`crate::limits`].
    TooLarge,
    /// Base64 input contains a character outside the alphabet, misplaced padding or an impossible length.
    InvalidBase64,
    /// Base64 input has non-zero bits after the last encoded byte (a non-canonical encoding).
    NonCanonicalBase64,
    /// Base58 input contains a character outside the Bitcoin alphabet.
    InvalidBase58,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing was written.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd => f.write_str("input ended unexpectedly"),
            Self::TrailingData => f.write_str("trailing data after value"),
            Self::VarintOverflow => f.write_str("varint overflows 64 bits"),
            Self::NonCanonicalVarint => f.write_str("overlong varint encoding"),
            Self::ValueOutOfRange => f.write_str("value out of range"),
            Self::UnsupportedWireType => f.write_str("unsupported protobuf wire type"),
            Self::InvalidFieldNumber => f.write_str("invalid protobuf field number"),
            Self::UnexpectedField => f.write_str("unexpected field"),
            Self::MissingField => f.write_str("missing required field"),
            Self::TooLarge => f.write_str("value exceeds a limit"),
            Self::InvalidBase64 => f.write_str("invalid base64"),
            Self::NonCanonicalBase64 => f.write_str("non-canonical base64"),
            Self::InvalidBase58 => f.write_str("invalid base58"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for CodecError {}

/// Errors from the `x3dh` layer: key agreement (Signal X3DH for the native profile, Olm's triple DH).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum X3dhError {
    /// A prekey bundle's identity-binding or signed-prekey signature did not verify. Checked before any
    /// Diffie-Hellman is computed. Deliberately says nothing more.
    InvalidSignature,
    /// One of the Diffie-Hellman exchanges produced the all-zero output: a peer's public key has small
    /// order, so the agreed secret would not depend on our keys.
    NonContributory,
    /// A primitive failed in a way the fixed sizes used here rule out (an HKDF expansion of at most 96
    /// bytes). Reported instead of panicking; seeing it means a bug in safemeet.
    Internal,
}

impl fmt::Display for X3dhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSignature => f.write_str("invalid prekey bundle signature"),
            Self::NonContributory => f.write_str("non-contributory Diffie-Hellman output"),
            Self::Internal => f.write_str("internal error in key agreement"),
        }
    }
}

impl core::error::Error for X3dhError {}

/// Errors from the Double Ratchet core (`ratchet`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RatchetError {
    /// No key for this message: it was already received (a replay), or its key was dropped because the
    /// chain or the skipped-key store moved past it. (A message from a chain that is no longer kept at
    /// all looks like a new chain instead, and fails to authenticate.)
    MessageKeyNotFound,
    /// The message index is further ahead of its chain than the profile's maximum gap allows.
    TooFarAhead,
    /// The message carries a new ratchet key, but we have no ratchet secret to answer it with (the peer
    /// switched chains before we ever sent on this one).
    UnexpectedRatchetKey,
    /// A ratchet key gave a non-contributory Diffie-Hellman output (a small-order point).
    InvalidRatchetKey,
    /// There is neither a sending chain nor a peer ratchet key to start one from.
    NoSendingChain,
    /// A chain reached the largest message index.
    ChainExhausted,
}

impl fmt::Display for RatchetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MessageKeyNotFound => "no message key for this message (replayed or too old)",
            Self::TooFarAhead => "message index too far ahead of its chain",
            Self::UnexpectedRatchetKey => "unexpected new ratchet key",
            Self::InvalidRatchetKey => "invalid ratchet key",
            Self::NoSendingChain => "no sending chain",
            Self::ChainExhausted => "chain index exhausted",
        })
    }
}

impl core::error::Error for RatchetError {}

/// Errors from the native pairwise profile (`session`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionError {
    /// The message's version byte is not one this crate reads.
    UnsupportedVersion,
    /// The message's type byte is unknown, or a pre-key message embeds the wrong kind of message.
    UnknownMessageType,
    /// A pre-key message names a signed prekey this account does not have (any more).
    UnknownSignedPrekey,
    /// A pre-key message names a one-time prekey this account does not have: never issued, or already
    /// used (a replayed first message).
    UnknownOneTimePrekey,
    /// A pre-key message belongs to another session (different identity or base key).
    SessionMismatch,
    /// The message did not decrypt: a forgery, a corruption, or a message for another session.
    /// Deliberately says nothing more.
    Authentication,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing changed.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedVersion => f.write_str("unsupported message version"),
            Self::UnknownMessageType => f.write_str("unknown message type"),
            Self::UnknownSignedPrekey => f.write_str("unknown signed prekey"),
            Self::UnknownOneTimePrekey => f.write_str("unknown or already used one-time prekey"),
            Self::SessionMismatch => f.write_str("pre-key message for another session"),
            Self::Authentication => f.write_str("message failed to decrypt"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for SessionError {}

/// Errors from the Matrix Olm profile (`olm`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OlmError {
    /// The message's version byte is not Olm v1's `0x03`.
    UnsupportedVersion,
    /// The transport `type` is neither 0 (pre-key) nor 1 (normal).
    UnknownMessageType,
    /// A pre-key message names an identity key other than the sender's.
    IdentityKeyMismatch,
    /// A pre-key message was made for a one-time or fallback key this account does not hold: never
    /// ours, already used (a replayed first message), or evicted.
    UnknownOneTimeKey,
    /// A pre-key message belongs to another session (different identity, base or one-time key).
    SessionMismatch,
    /// The message did not decrypt: a forgery, a corruption, or a message for another session.
    /// Deliberately says nothing more.
    Authentication,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing changed.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for OlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedVersion => f.write_str("unsupported Olm message version"),
            Self::UnknownMessageType => f.write_str("unknown Olm message type"),
            Self::IdentityKeyMismatch => f.write_str("pre-key message from another identity key"),
            Self::UnknownOneTimeKey => f.write_str("unknown or already used one-time key"),
            Self::SessionMismatch => f.write_str("pre-key message for another session"),
            Self::Authentication => f.write_str("message failed to decrypt"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for OlmError {}

/// Errors from the group sessions: the Megolm ratchet, Megolm (`megolm`) and the native sender keys
/// (`session::group`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupError {
    /// The message's or key's version byte is not one this crate reads.
    UnsupportedVersion,
    /// The Ed25519 signature of a message or of a session key did not verify against the session's
    /// signing key. Checked before anything secret is touched.
    InvalidSignature,
    /// The message's MAC, AEAD tag or padding did not verify. Deliberately says nothing more.
    Authentication,
    /// The message's index is below the first index this session can decrypt: its key was never
    /// shared with us, or we dropped it.
    UnknownMessageIndex {
        /// The lowest index this session can decrypt.
        first_known_index: u32,
    },
    /// The message belongs to another session (a different signing key or session id).
    SessionMismatch,
    /// The sending ratchet reached the largest message index; start a new session.
    Exhausted,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing changed.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedVersion => f.write_str("unsupported group message or key version"),
            Self::InvalidSignature => f.write_str("invalid group message or session key signature"),
            Self::Authentication => f.write_str("group message failed to decrypt"),
            Self::UnknownMessageIndex { first_known_index } => write!(
                f,
                "unknown message index (first known index {first_known_index})"
            ),
            Self::SessionMismatch => f.write_str("message for another group session"),
            Self::Exhausted => f.write_str("group session message index exhausted"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for GroupError {}

/// Errors from the `pickle` layer.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PickleError {
    /// The pickle is damaged, truncated, of another type or an unknown version, or sealed under another
    /// key. Deliberately says nothing more.
    Invalid,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing was written.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for PickleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid => f.write_str("invalid pickle"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for PickleError {}

/// Errors from the JSON reader in `codec::json` (`alloc`). They describe the input's shape only.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonError {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A character that cannot start or continue a value here.
    InvalidSyntax,
    /// Something other than whitespace follows the value.
    TrailingData,
    /// An object names the same member twice.
    DuplicateKey,
    /// The input is not valid UTF-8.
    InvalidUtf8,
    /// A `\u` escape names half of a UTF-16 surrogate pair without the other half.
    LoneSurrogate,
    /// A backslash escape that JSON does not define, or a malformed `\u` escape.
    InvalidEscape,
    /// A raw control character (U+0000 to U+001F) inside a string.
    ControlCharacter,
    /// A number outside the interoperable integer range `[-(2^53 - 1), 2^53 - 1]`.
    NumberOutOfRange,
    /// A number with a fractional part (canonical JSON has integers only).
    NotAnInteger,
    /// Arrays and objects nest deeper than [`crate::limits::MAX_JSON_DEPTH`].
    TooDeep,
    /// The input is longer than [`crate::limits::MAX_JSON_LEN`] bytes.
    TooLarge,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnexpectedEnd => "JSON input ended unexpectedly",
            Self::InvalidSyntax => "invalid JSON syntax",
            Self::TrailingData => "trailing data after JSON value",
            Self::DuplicateKey => "duplicate key in JSON object",
            Self::InvalidUtf8 => "JSON input is not valid UTF-8",
            Self::LoneSurrogate => "lone UTF-16 surrogate in JSON string",
            Self::InvalidEscape => "invalid escape in JSON string",
            Self::ControlCharacter => "unescaped control character in JSON string",
            Self::NumberOutOfRange => "JSON number outside the safe integer range",
            Self::NotAnInteger => "JSON number is not an integer",
            Self::TooDeep => "JSON nested too deeply",
            Self::TooLarge => "JSON input too large",
        })
    }
}

impl core::error::Error for JsonError {}

/// Errors from the `verification` layer (SAS and the verification flow).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerificationError {
    /// The peer's ephemeral key gave a non-contributory (all-zero) exchange: a small-order point.
    NonContributory,
    /// A public key or MAC is not valid base64 of the right length.
    InvalidEncoding,
    /// The peer's ephemeral key does not match the commitment it sent.
    MismatchedCommitment,
    /// A MAC did not verify. Deliberately says nothing more.
    Authentication,
    /// The MAC message names a key id the verifier did not expect, names one twice, or names none.
    UnexpectedKeyId,
    /// A key id resolves to more than one of the expected keys (a device id equal to a cross-signing
    /// key's id): the key-identifier confusion of Albrecht et al., IEEE S&P 2023.
    AmbiguousKeyId,
    /// More key ids than [`crate::limits::MAX_SAS_MAC_KEYS`].
    TooManyKeys,
    /// An identifier (user id, device id, transaction id) is empty or longer than its limit.
    InvalidIdentifier,
    /// A primitive failed in a way the fixed sizes used here rule out. Seeing it means a bug in safemeet.
    Internal,
}

impl fmt::Display for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NonContributory => "non-contributory Diffie-Hellman output",
            Self::InvalidEncoding => "invalid key or MAC encoding",
            Self::MismatchedCommitment => "key does not match the commitment",
            Self::Authentication => "MAC verification failed",
            Self::UnexpectedKeyId => "unexpected key id in MAC",
            Self::AmbiguousKeyId => "ambiguous key id in MAC",
            Self::TooManyKeys => "too many keys in MAC",
            Self::InvalidIdentifier => "invalid identifier",
            Self::Internal => "internal error in verification",
        })
    }
}

impl core::error::Error for VerificationError {}

/// Errors from decoding and checking QR verification payloads (`verification::qr`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrError {
    /// The payload does not start with `MATRIX`.
    InvalidHeader,
    /// The version byte is not `0x02`.
    UnsupportedVersion,
    /// The mode byte is not `0x00`, `0x01` or `0x02`.
    UnknownMode,
    /// The payload ends before its keys.
    Truncated,
    /// The flow id is empty or not UTF-8.
    InvalidFlowId,
    /// A key is not a valid Ed25519 public key.
    InvalidKey,
    /// The shared secret is shorter than [`crate::limits::QR_MIN_SECRET_LEN`] bytes, or longer than
    /// [`crate::limits::QR_MAX_SECRET_LEN`].
    InvalidSecretLength,
    /// A key in the code does not match the key the scanner knows.
    KeyMismatch,
    /// The secret sent back by the scanner is not the one in our code.
    SecretMismatch,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing was written.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
}

impl fmt::Display for QrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidHeader => f.write_str("not a Matrix verification QR code"),
            Self::UnsupportedVersion => f.write_str("unsupported QR code version"),
            Self::UnknownMode => f.write_str("unknown QR code mode"),
            Self::Truncated => f.write_str("QR code payload truncated"),
            Self::InvalidFlowId => f.write_str("invalid flow id in QR code"),
            Self::InvalidKey => f.write_str("invalid key in QR code"),
            Self::InvalidSecretLength => f.write_str("QR code shared secret has an invalid length"),
            Self::KeyMismatch => f.write_str("QR code key mismatch"),
            Self::SecretMismatch => f.write_str("QR code shared secret mismatch"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
        }
    }
}

impl core::error::Error for QrError {}

/// Errors from the classic Signal profile (`signal`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalError {
    /// A public key is not 33 bytes of type `0x05` followed by a canonical X25519 key.
    InvalidKey,
    /// A message's version byte has a message version below 3 (versions 1 and 2 are long dead).
    LegacyMessageVersion,
    /// A message's version byte has a message version above 3 (such as `0x44`, a PQXDH session's).
    UnknownMessageVersion,
    /// A message's version byte says version 3 but its low nibble (the sender's current version) is not 3.
    InvalidVersionByte,
    /// A pre-key message names a one-time or signed prekey this account does not hold: never ours,
    /// already used (a replayed first message), or evicted.
    UnknownPreKey,
    /// A pre-key message belongs to another session (different identity or base key).
    SessionMismatch,
    /// The message did not decrypt: a forgery, a corruption, or a message for another session.
    /// Deliberately says nothing more.
    Authentication,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing changed.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
    /// A sender-key distribution id is not a 16-byte UUID (or not a hyphenated UUID in text).
    InvalidDistributionId,
    /// A sender-key distribution message's chain key is not 32 bytes.
    InvalidChainKey,
    /// A sender-key message's ciphertext is empty or not a whole number of AES blocks.
    InvalidCiphertextLength,
    /// A sender-key message's XEdDSA signature did not verify against the sender's signing key.
    /// Checked before anything secret is touched.
    InvalidSignature,
    /// A sender-key message's iteration was already decrypted, or its key was dropped (libsignal's
    /// `DuplicatedMessage`).
    DuplicatedMessage,
    /// A sender-key message's iteration is further ahead of its chain than
    /// [`crate::limits::SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP`].
    TooFarAhead,
    /// No sender-key state for the message's chain id: its distribution message never arrived, or its
    /// state was evicted (libsignal's `NoSenderKeyState`).
    NoSenderKeyState,
    /// A sender-key message or distribution message names another distribution id than the record's.
    DistributionMismatch,
    /// A sender chain reached the largest iteration; the sender must start a new one.
    ChainExhausted,
    /// A primitive failed in a way the fixed sizes used here rule out. Seeing it means a bug in
    /// safemeet.
    Internal,
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidKey => f.write_str("invalid Signal public key encoding"),
            Self::LegacyMessageVersion => f.write_str("legacy Signal message version"),
            Self::UnknownMessageVersion => f.write_str("unknown Signal message version"),
            Self::InvalidVersionByte => f.write_str("invalid Signal version byte"),
            Self::UnknownPreKey => f.write_str("unknown or already used prekey"),
            Self::SessionMismatch => f.write_str("pre-key message for another session"),
            Self::Authentication => f.write_str("message failed to decrypt"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::InvalidDistributionId => f.write_str("invalid distribution id"),
            Self::InvalidChainKey => f.write_str("invalid sender chain key"),
            Self::InvalidCiphertextLength => f.write_str("invalid ciphertext length"),
            Self::InvalidSignature => f.write_str("invalid sender-key message signature"),
            Self::DuplicatedMessage => f.write_str("duplicated or dropped message iteration"),
            Self::TooFarAhead => f.write_str("message iteration too far ahead of its chain"),
            Self::NoSenderKeyState => f.write_str("no sender-key state for this chain"),
            Self::DistributionMismatch => f.write_str("message for another distribution id"),
            Self::ChainExhausted => f.write_str("sender chain iteration exhausted"),
            Self::Internal => f.write_str("internal error in the signal profile"),
        }
    }
}

impl core::error::Error for SignalError {}
/// Errors from the `identity` layer (cross-signing keys, device keys, trust). They describe shapes and
/// failed checks, never keys or identifiers.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityError {
    /// A key object or response does not have the expected JSON shape.
    Malformed,
    /// A cross-signing key's `usage` is not exactly its role's (check K1).
    WrongUsage,
    /// A key id does not name its key (`ed25519:<key>` for cross-signing keys, the device id for
    /// device keys), or an object is published under another id than its own.
    KeyIdMismatch,
    /// A key is not unpadded base64 of a valid Ed25519 or Curve25519 public key.
    InvalidKey,
    /// A user id or device id is empty or longer than [`crate::limits::MAX_IDENTITY_ID_LEN`].
    InvalidIdentifier,
    /// Keys of one user are published for, or signed by, another (checks K2, K3).
    UserIdMismatch,
    /// An expected signature is absent.
    MissingSignature,
    /// A signature did not verify. Deliberately says nothing more.
    InvalidSignature,
    /// A device failed its checks (check K4) and was ignored.
    InvalidDevice,
    /// A device id equals one of its user's cross-signing key names (check K5; Albrecht et al.,
    /// IEEE S&P 2023).
    AmbiguousKeyId,
    /// More signatures, devices or users than [`crate::limits`] allows.
    TooLarge,
    /// No identity is known for the user.
    UnknownUser,
    /// No such device.
    UnknownDevice,
    /// The private key needed for this operation is not held.
    MissingPrivateKey,
    /// A key proven by a verification, or a private key held, is not the published one.
    KeyMismatch,
    /// The operation needs our own identity to be trusted first (rule T0).
    OwnIdentityNotTrusted,
    /// A verified user's identity changed: sending is blocked until they are verified again or the
    /// verification is withdrawn (rule P3).
    VerificationViolation,
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "malformed key object",
            Self::WrongUsage => "cross-signing key has the wrong usage",
            Self::KeyIdMismatch => "key id does not match its key",
            Self::InvalidKey => "invalid public key",
            Self::InvalidIdentifier => "invalid identifier",
            Self::UserIdMismatch => "keys belong to another user",
            Self::MissingSignature => "missing signature",
            Self::InvalidSignature => "invalid signature",
            Self::InvalidDevice => "invalid device keys",
            Self::AmbiguousKeyId => "device id equals a cross-signing key id",
            Self::TooLarge => "too many signatures, devices or users",
            Self::UnknownUser => "unknown user identity",
            Self::UnknownDevice => "unknown device",
            Self::MissingPrivateKey => "private key not held",
            Self::KeyMismatch => "key does not match the published key",
            Self::OwnIdentityNotTrusted => "own identity not trusted",
            Self::VerificationViolation => "verified user's identity changed",
        })
    }
}

impl core::error::Error for IdentityError {}

/// Errors from the `backup` layer (recovery keys, passphrases, secret storage, server-side key backup,
/// key-export files). Like every error here they describe the input's shape, never key material: a
/// mistyped recovery key is reported as *which* check failed, not as what was typed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackupError {
    /// A recovery key contains a character outside the base58 alphabet (whitespace is ignored).
    InvalidBase58,
    /// A recovery key does not decode to 35 bytes.
    InvalidLength,
    /// A recovery key does not start with the bytes `0x8B 0x01`.
    InvalidPrefix,
    /// A recovery key's parity byte does not match: a character was mistyped.
    InvalidParity,
    /// A MAC or a padding check did not verify: the wrong key, or altered data. Deliberately says
    /// nothing more.
    Authentication,
    /// A JSON object or binary payload does not have the expected shape.
    Malformed,
    /// An algorithm, format version or key derivation safemeet does not implement.
    Unsupported,
    /// A parameter is outside its allowed range (see [`crate::limits`]).
    InvalidParameter,
    /// A public key is not a valid key of the expected type.
    InvalidKey,
    /// The caller's output buffer is too small; `needed` bytes are required. Nothing was written.
    BufferTooSmall {
        /// The number of bytes the output buffer must hold.
        needed: usize,
    },
    /// A secret-storage key failed the key check of its description (the `iv`/`mac` pair): the
    /// recovery key or passphrase is not the one this key description was made with. Distinct from
    /// [`BackupError::Authentication`] so that an application can say "wrong recovery key" before it
    /// tries any secret.
    KeyCheckFailed,
    /// A secret's account-data content has no entry for this secret-storage key id: the secret was
    /// stored under another key.
    NotEncryptedForKey,
    /// A secret-storage key description has no `passphrase` object, so no passphrase can open it
    /// (only its recovery key can).
    NoPassphrase,
    /// A signature was asked for with a private key that is not held (the master key, to sign a
    /// backup's `auth_data`).
    MissingPrivateKey,
    /// A room key's `session_id` is not the id of the session its `session_key` holds.
    SessionIdMismatch,
    /// Key storage is on but has no backup to write to or read from yet (its version is unknown), or
    /// the device holds no backup key.
    NoBackup,
    /// The account has no secret storage to recover from: key storage was on without recovery, or
    /// off.
    NoSecretStorage,
    /// A backup key does not belong to the backup it is used with (its public half is not the
    /// backup's `public_key`).
    KeyMismatch,
}

impl fmt::Display for BackupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidBase58 => f.write_str("recovery key contains a character outside base58"),
            Self::InvalidLength => f.write_str("recovery key has the wrong length"),
            Self::InvalidPrefix => f.write_str("recovery key has the wrong prefix"),
            Self::InvalidParity => f.write_str("recovery key parity check failed"),
            Self::Authentication => f.write_str("authentication failed"),
            Self::Malformed => f.write_str("malformed backup payload"),
            Self::Unsupported => f.write_str("unsupported algorithm or version"),
            Self::InvalidParameter => f.write_str("parameter out of range"),
            Self::InvalidKey => f.write_str("invalid public key"),
            Self::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Self::KeyCheckFailed => f.write_str("secret storage key check failed: wrong key"),
            Self::NotEncryptedForKey => f.write_str("secret not encrypted for this key"),
            Self::NoPassphrase => f.write_str("secret storage key has no passphrase"),
            Self::MissingPrivateKey => f.write_str("private key not held"),
            Self::NoBackup => f.write_str("no key backup"),
            Self::NoSecretStorage => f.write_str("no secret storage"),
            Self::KeyMismatch => f.write_str("backup key does not belong to this backup"),
            Self::SessionIdMismatch => f.write_str("room key session id does not match its key"),
        }
    }
}

impl core::error::Error for BackupError {}

/// The root error: every layer's error, gathered.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// An error from the `primitives` layer.
    Crypto(CryptoError),
    /// An error from the `codec` layer.
    Codec(CodecError),
    /// An error from the `x3dh` layer.
    X3dh(X3dhError),
    /// An error from the Double Ratchet core.
    Ratchet(RatchetError),
    /// An error from the native pairwise profile.
    Session(SessionError),
    /// An error from the pickle layer.
    Pickle(PickleError),
    /// An error from the Matrix Olm profile.
    Olm(OlmError),
    /// An error from the group sessions.
    Group(GroupError),
    /// An error from the JSON reader.
    Json(JsonError),
    /// An error from the verification layer.
    Verification(VerificationError),
    /// An error from QR verification payloads.
    Qr(QrError),
    /// An error from the classic Signal profile.
    Signal(SignalError),
    /// An error from the identity layer.
    Identity(IdentityError),
    /// An error from the backup layer.
    Backup(BackupError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Crypto(e) => write!(f, "crypto: {e}"),
            Self::Codec(e) => write!(f, "codec: {e}"),
            Self::X3dh(e) => write!(f, "x3dh: {e}"),
            Self::Ratchet(e) => write!(f, "ratchet: {e}"),
            Self::Session(e) => write!(f, "session: {e}"),
            Self::Pickle(e) => write!(f, "pickle: {e}"),
            Self::Olm(e) => write!(f, "olm: {e}"),
            Self::Group(e) => write!(f, "group: {e}"),
            Self::Json(e) => write!(f, "json: {e}"),
            Self::Verification(e) => write!(f, "verification: {e}"),
            Self::Qr(e) => write!(f, "qr: {e}"),
            Self::Signal(e) => write!(f, "signal: {e}"),
            Self::Identity(e) => write!(f, "identity: {e}"),
            Self::Backup(e) => write!(f, "backup: {e}"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Crypto(e) => Some(e),
            Self::Codec(e) => Some(e),
            Self::X3dh(e) => Some(e),
            Self::Ratchet(e) => Some(e),
            Self::Session(e) => Some(e),
            Self::Pickle(e) => Some(e),
            Self::Olm(e) => Some(e),
            Self::Group(e) => Some(e),
            Self::Json(e) => Some(e),
            Self::Verification(e) => Some(e),
            Self::Qr(e) => Some(e),
            Self::Signal(e) => Some(e),
            Self::Identity(e) => Some(e),
            Self::Backup(e) => Some(e),
        }
    }
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(e)
    }
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        Self::Codec(e)
    }
}

impl From<X3dhError> for Error {
    fn from(e: X3dhError) -> Self {
        Self::X3dh(e)
    }
}

impl From<RatchetError> for Error {
    fn from(e: RatchetError) -> Self {
        Self::Ratchet(e)
    }
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        Self::Session(e)
    }
}

impl From<PickleError> for Error {
    fn from(e: PickleError) -> Self {
        Self::Pickle(e)
    }
}

impl From<OlmError> for Error {
    fn from(e: OlmError) -> Self {
        Self::Olm(e)
    }
}

impl From<JsonError> for Error {
    fn from(e: JsonError) -> Self {
        Self::Json(e)
    }
}

impl From<VerificationError> for Error {
    fn from(e: VerificationError) -> Self {
        Self::Verification(e)
    }
}

impl From<QrError> for Error {
    fn from(e: QrError) -> Self {
        Self::Qr(e)
    }
}

impl From<GroupError> for Error {
    fn from(e: GroupError) -> Self {
        Self::Group(e)
    }
}

impl From<SignalError> for Error {
    fn from(e: SignalError) -> Self {
        Self::Signal(e)
    }
}

impl From<IdentityError> for Error {
    fn from(e: IdentityError) -> Self {
        Self::Identity(e)
    }
}

impl From<BackupError> for Error {
    fn from(e: BackupError) -> Self {
        Self::Backup(e)
    }
}

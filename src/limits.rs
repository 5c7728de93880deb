//! Every bound the library enforces, in one place, each with its reason.
//!
//! An attacker controls the bytes we decode, so every length, count and loop that input can influence is
//! capped here. Later layers add their limits (skipped message keys, receiver chains, one-time keys) to
//! this module, each with the value the relevant peer (vodozemac, libsignal) uses.

/// The most bytes a single varint may occupy: ten 7-bit groups cover 64 bits. A longer varint is
/// rejected as [`crate::CodecError::VarintOverflow`] rather than read on, so a run of `0x80` bytes cannot
/// make the decoder loop for long.
pub const MAX_VARINT_LEN: usize = 10;

/// The highest protobuf field number (2^29 - 1, from the protobuf encoding specification). Larger
/// numbers cannot come from a conforming encoder.
pub const MAX_FIELD_NUMBER: u32 = (1 << 29) - 1;

/// The longest base58 input the decoder accepts, in characters. Base58 decoding is quadratic in the
/// input length; the longest base58 string safemeet reads is a recovery key (35 bytes, at most 48
/// characters), so 128 leaves room for other uses while keeping the work small.
pub const MAX_BASE58_LEN: usize = 128;

/// The longest byte string the base58 encoder accepts. 93 bytes is the most whose encoding is
/// guaranteed to fit in [`MAX_BASE58_LEN`] characters (`ceil(93 · log(256) / log(58)) = 128`), so the
/// encoder can work in the same fixed stack buffer as the decoder; a recovery key is 35 bytes.
pub const MAX_BASE58_BYTES: usize = 93;

/// The most output bytes one HKDF-SHA-256 expansion can produce (255 blocks of 32 bytes, RFC 5869 §2.3).
pub const HKDF_SHA256_MAX_OUTPUT: usize = 255 * 32;

/// Receiving chains a Double Ratchet keeps, newest first. A late message can be read only while its
/// chain is kept. libsignal, libolm and vodozemac all keep 5.
pub const MAX_RECEIVER_CHAINS: usize = 5;

/// Skipped message keys the native profile keeps for one receiving chain. Each is the key of a message
/// that has not arrived although a later one of its chain has. vodozemac keeps 40 per chain for Olm;
/// libsignal keeps 2000. We keep 64: enough for ordinary loss and reordering, while a whole session's
/// store stays small enough for a microcontroller (see [`NATIVE_MAX_SKIPPED_KEYS`]).
pub const NATIVE_MAX_SKIPPED_PER_CHAIN: usize = 64;

/// Skipped message keys the native profile keeps in one session across all chains; the oldest is
/// evicted first. Each entry is about 110 bytes, so the store is bounded near 28 KiB.
pub const NATIVE_MAX_SKIPPED_KEYS: usize = 256;

/// How far ahead of its chain's position a native message's index may be. Each step of the gap costs
/// two HMAC computations before the message can even be authenticated, so this bounds the work an
/// attacker can cause with one forged header. Olm (libolm and vodozemac) uses 2000.
pub const NATIVE_MAX_MESSAGE_GAP: u32 = 2000;

/// One-time prekeys a native account keeps. When it holds this many and more are generated, the oldest
/// are evicted (and reported) first. libolm keeps 100 (and vodozemac up to 5000 for Olm); 100 private
/// keys are about 7 KiB of state.
pub const NATIVE_MAX_ONE_TIME_PREKEYS: usize = 100;

/// Messages a [`crate::group::ReplayGuard`] remembers by default (72 bytes each, 18 KiB). The oldest is
/// forgotten first. Neither libolm nor vodozemac has a replay guard: the Matrix specification leaves
/// replay detection to the client.
pub const REPLAY_GUARD_CAPACITY: usize = 256;

/// Megolm messages one [`crate::megolm::InboundGroupSession::decrypt_batch`] call verifies with a single
/// Ed25519 batch equation; longer batches are split. It bounds the batch's temporary memory: about 300
/// bytes per message (a decoded point, two scalars and the parsed message), besides the plaintexts.
/// vodozemac has no batch decryption.
pub const MEGOLM_MAX_BATCH: usize = 256;

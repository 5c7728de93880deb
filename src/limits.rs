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

/// Skipped message keys an Olm session keeps for one receiving chain, as vodozemac
/// (`MAX_MESSAGE_KEYS`). On a jump only the keys of the last 40 messages before the received one are
/// derived and kept, as in vodozemac. (libolm keeps 40 per session.)
pub const OLM_MAX_SKIPPED_PER_CHAIN: usize = 40;

/// Skipped message keys an Olm session keeps in all: 40 for each of the [`MAX_RECEIVER_CHAINS`] chains,
/// so the per-chain bound is the only one that ever evicts (vodozemac's effective total).
pub const OLM_MAX_SKIPPED_KEYS: usize = OLM_MAX_SKIPPED_PER_CHAIN * MAX_RECEIVER_CHAINS;

/// How far ahead of its chain's position an Olm message's index may be: 2000 in libolm and vodozemac
/// (`MAX_MESSAGE_GAP`). It bounds the hashing one forged message can cause.
pub const OLM_MAX_MESSAGE_GAP: u32 = 2000;

/// One-time keys an Olm account keeps (private halves). When it holds this many and more are generated,
/// the oldest are evicted and reported. libolm keeps 100; vodozemac keeps up to 5000, which at about
/// 80 bytes a key is too much state for a microcontroller. Applications that need more pick a larger
/// capacity with the account's const parameter.
pub const OLM_MAX_ONE_TIME_KEYS: usize = 100;

/// How many one-time keys an Olm account advises publishing at once: half its capacity, as libolm and
/// vodozemac advise, so that keys claimed but not yet used are not evicted by the next batch.
pub const OLM_PUBLISH_ONE_TIME_KEYS: usize = OLM_MAX_ONE_TIME_KEYS / 2;
/// The longest JSON text `codec::json` parses, in bytes. Matrix caps a whole event at 65,536 bytes
/// (Client-Server API, "Size limits"), so no event content we must read is longer.
pub const MAX_JSON_LEN: usize = 65_536;

/// The longest API response `codec::json::parse_response` parses, in bytes. Responses are not events and
/// have no size limit in the specification: a `/keys/query` answer for a large room carries every
/// member's device keys (about 800 bytes a device) and cross-signing keys, some 10 MB for a thousand
/// members with ten devices each. 16 MiB keeps that while bounding the memory a hostile server can
/// make a client spend (the parsed tree is a small constant multiple of the text).
pub const MAX_JSON_RESPONSE_LEN: usize = 16 << 20;

/// How deeply JSON arrays and objects may nest. The parser recurses once per level, so this bounds its
/// stack use; the deepest structure Matrix E2EE reads (signatures inside cross-signing keys) has four
/// levels.
pub const MAX_JSON_DEPTH: usize = 32;

/// The most key ids one SAS MAC message may carry. A device MACs its own device key and its master key;
/// rust-sdk sends at most those two. Eight leaves room while letting the verifier sort the key ids on
/// the stack, without an allocator.
pub const MAX_SAS_MAC_KEYS: usize = 8;

/// The longest user id, device id or transaction id the SAS and verification code accept, in bytes.
/// Matrix user ids are at most 255 bytes (Appendices, "User Identifiers"); device and transaction ids
/// have no spec limit, and rust-sdk generates 10- and 32-character ones.
pub const MAX_VERIFICATION_ID_LEN: usize = 255;

/// The shortest QR shared secret a scanned code may carry. The spec suggests 8 bytes; rust-sdk rejects
/// shorter ones.
pub const QR_MIN_SECRET_LEN: usize = 8;

/// The longest QR shared secret accepted (a QR code of version 40 holds under 3 KB; 512 bytes is far
/// beyond any peer's 16).
pub const QR_MAX_SECRET_LEN: usize = 512;

/// The length of a QR shared secret we generate, as rust-sdk does.
pub const QR_GENERATED_SECRET_LEN: usize = 16;

/// How long a verification may wait for the next event, in milliseconds, before it is cancelled with
/// `m.timeout`. The Matrix specification says 10 minutes (rust-sdk uses 5 minutes overall and
/// 1 minute per event).
pub const VERIFICATION_TIMEOUT_MS: u64 = 10 * 60 * 1000;

/// How far in the future a verification request's `timestamp` may lie, in milliseconds, before it is
/// ignored (the spec's 5 minutes); a request older than [`VERIFICATION_TIMEOUT_MS`] is ignored too.
pub const VERIFICATION_REQUEST_FUTURE_MS: u64 = 5 * 60 * 1000;
/// Messages a [`crate::group::ReplayGuard`] remembers by default (72 bytes each, 18 KiB). The oldest is
/// forgotten first. Neither libolm nor vodozemac has a replay guard: the Matrix specification leaves
/// replay detection to the client.
pub const REPLAY_GUARD_CAPACITY: usize = 256;

/// Megolm messages one [`crate::megolm::InboundGroupSession::decrypt_batch`] call verifies with a single
/// Ed25519 batch equation; longer batches are split. It bounds the batch's temporary memory: about 300
/// bytes per message (a decoded point, two scalars and the parsed message), besides the plaintexts.
/// vodozemac has no batch decryption.
pub const MEGOLM_MAX_BATCH: usize = 256;

/// How far ahead of its chain's position a classic Signal message's counter may be: 2000, as
/// libsignal-protocol-java and npm `libsignal` ("Over 2000 messages into the future!"). Current Rust
/// libsignal allows 25,000; classic peers refuse more than 2000, so no interoperating sender exceeds it.
pub const SIGNAL_MAX_MESSAGE_GAP: u32 = 2000;

/// Skipped message keys a classic Signal session keeps for one receiving chain: libsignal's
/// `MAX_MESSAGE_KEYS` (2000), so a jump of the largest allowed gap keeps every skipped key.
pub const SIGNAL_MAX_SKIPPED_PER_CHAIN: usize = 2000;

/// Skipped message keys a classic Signal session keeps in all, by default (the session's const
/// parameter `K`). **A departure from libsignal**, which keeps up to 2000 for each of its 5 receiving
/// chains on the heap: an entry here is held inline (about 120 bytes), so libsignal's numbers would make
/// a session over a megabyte, too much for a stack or a microcontroller. We keep 256 (about 30 KiB), as
/// the native profile: ordinary loss and reordering never come near it. Where it shows: after a jump of
/// more than 256 messages only the keys of the 256 most recent skipped messages are kept, so an older
/// one of them that arrives later fails with `MessageKeyNotFound` where libsignal would decrypt it.
/// Applications that want libsignal's behaviour pick `K = 2000` (one full jump) or `10_000` and keep
/// the session on the heap.
pub const SIGNAL_MAX_SKIPPED_KEYS: usize = 256;

/// One-time prekeys a classic Signal account keeps (private halves). When it holds this many and more
/// are generated, the oldest are evicted first. Signal-Android uploads 100 at a time.
pub const SIGNAL_MAX_ONE_TIME_PREKEYS: usize = 100;

/// The largest registration id generated: libsignal-protocol-java's `KeyHelper` draws from
/// `1..=16380`, 14 bits (npm `libsignal` masks 16 random bits to 14). Received ids are any `u32`.
pub const SIGNAL_MAX_REGISTRATION_ID: u32 = 16380;
/// The longest user id or device id the identity layer accepts, in bytes. Matrix user ids are at most
/// 255 bytes (Appendices, "User Identifiers"); device ids have no spec limit.
pub const MAX_IDENTITY_ID_LEN: usize = 255;

/// The most signatures one signed JSON object (a device or cross-signing key) may carry, counted over
/// all signers. A device has its own and its self-signing key's; a master key its own, a device's and
/// one per user-signing key of the few users who may see it. matrix-rust-sdk sets no limit; this bounds
/// the work one object can cause.
pub const MAX_SIGNATURES_PER_OBJECT: usize = 32;

/// The most devices one user may have in the identity store. A `/keys/query` entry with more is
/// refused. Neither rust-sdk nor Synapse limit this; users with more than a few hundred devices are
/// rare, and each costs about 1 KB.
pub const MAX_DEVICES_PER_USER: usize = 1024;

/// The most users whose identities one identity store tracks (and pins). A pin is never evicted, since
/// forgetting one would let a later reset pass unnoticed; a new user past this limit is refused.
pub const MAX_TRACKED_USERS: usize = 16_384;

/// The most devices verified locally (by SAS or QR with the device itself) that an identity store keeps.
pub const MAX_LOCALLY_VERIFIED_DEVICES: usize = 4096;

/// Sender-key states a [`crate::signal::group::SenderKeyRecord`] keeps for one (sender, distribution
/// id): one per chain the sender has distributed, newest first; the oldest is dropped (with its stored
/// message keys). libsignal (`MAX_SENDER_KEY_STATES`) and libsignal-protocol-java keep 5.
pub const SIGNAL_SENDER_KEY_MAX_STATES: usize = 5;

/// Message keys a [`crate::signal::group::SenderKeyRecord`] keeps by default for iterations it skipped
/// (so that late messages still decrypt), oldest evicted first: libsignal's `MAX_MESSAGE_KEYS`, 2000.
/// libsignal counts them per state; the record shares one store between its states, so the bound is
/// on the whole record (40 bytes each, 80 KB inline). A record's capacity is its const parameter: a
/// small device picks fewer, and late messages beyond it are then refused as duplicates.
pub const SIGNAL_SENDER_KEY_MAX_MESSAGE_KEYS: usize = 2000;

/// How far ahead of its chain a sender-key message's iteration may be: libsignal's
/// `MAX_FORWARD_JUMPS`, 25,000 (libsignal-protocol-java allowed 2000). We take current libsignal's
/// value because its clients are the peers that send this layout: a member offline for more than 2000
/// messages of one sender must still read the next one. The signature is checked before the chain is
/// walked, so only the sender itself can make us walk it. A jump costs one HMAC-SHA-256 per step to
/// reach the message, and two more for each skipped key kept (only the last `KEYS` are derived): at
/// most 25,000 + 2 · 2000 with the default capacity (libsignal derives and stores all 25,000).
pub const SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP: u32 = 25_000;

/// The longest sender-key ciphertext a message may carry, in bytes. libsignal sets no bound; Signal
/// clients send long texts and media as attachments, so a group message body is a few kilobytes.
/// 256 KiB bounds what one message can make a receiver copy and decrypt, and the buffer it must size.
pub const SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN: usize = 256 * 1024;

// Backup: passphrases and secret storage (`backup::passphrase`, `backup::secret_storage`).

/// The most PBKDF2-HMAC-SHA-512 iterations an `m.pbkdf2` passphrase description may ask for. The
/// count comes from account data, which the server (or whoever controls it) can rewrite, and each
/// iteration costs two SHA-512 compressions: without a cap one event could make a device compute for
/// hours. matrix-rust-sdk and matrix-js-sdk create descriptions with 500,000 iterations (older
/// Element releases used the same), and rust-sdk accepts any `u32`; ten times the clients' default
/// (a few seconds on a laptop, under a minute on a slow phone) leaves room for clients that raise it.
pub const PASSPHRASE_MAX_ITERATIONS: u32 = 5_000_000;

/// The longest secret, in bytes, that secret storage encrypts or decrypts. The secrets Matrix stores
/// are base64 keys of 43 characters; account data events are capped by the JSON reader at
/// [`MAX_JSON_LEN`] (64 KiB) anyway. Neither rust-sdk nor js-sdk sets a limit of its own; 16 KiB
/// bounds the buffer a decrypt needs and the work one hostile event can cause.
pub const SECRET_STORAGE_MAX_SECRET_LEN: usize = 16 * 1024;

// Backup: server-side key backup (`backup::key_backup`).

/// The longest backup ciphertext (`session_data.ciphertext`, decoded) that is decrypted, and the
/// longest one that is written, in bytes. One backed-up room key is a JSON object of about 600 bytes
/// (a 229-byte session export in base64, two keys, an algorithm name and an empty forwarding chain);
/// a forwarding chain of a few dozen keys stays under 4 KiB. 64 KiB is the size of an event, the most
/// [`crate::codec::json::parse`] reads, and bounds what one entry of a server response can make us
/// allocate and decrypt. Neither vodozemac nor matrix-rust-sdk set a bound (they decrypt whatever the
/// server sends); matrix-js-sdk neither.
pub const KEY_BACKUP_MAX_CIPHERTEXT_LEN: usize = 64 * 1024;

// Backup: key-export files and room keys (`backup::export`, `backup::room_key`).

/// The most PBKDF2-HMAC-SHA-512 rounds a key-export file may ask for. A file names its own count and the
/// importer pays for it before the MAC can say whether the passphrase was right, so an unbounded count
/// is a way to hang the importer (`u32::MAX` rounds take hours). Element writes 500,000 and rust-sdk
/// takes whatever its caller gives; neither bounds what it reads. Twenty times Element's default keeps
/// every file a client writes readable while a hostile file costs at most about ten seconds on a
/// desktop CPU.
pub const MAX_EXPORT_ROUNDS: u32 = 10_000_000;

/// The longest key-export file (the armored text) accepted, in bytes. About 90,000 room keys at
/// typical sizes. rust-sdk and Element read the whole file into memory without a bound; this bounds
/// what an import may make us hold (the file, its plaintext and the parsed keys).
pub const MAX_EXPORT_FILE_LEN: usize = 128 * 1024 * 1024;

/// The most room keys one key-export file may hold, on export and on import. A heavy user's export
/// has tens of thousands; rust-sdk and Element set no limit.
pub const MAX_EXPORT_ROOM_KEYS: usize = 100_000;

/// The longest `forwarding_curve25519_key_chain` a room key may carry. Each forward appends one key;
/// real chains have zero or one entry (rust-sdk writes at most one, vodozemac has no notion of it).
/// rust-sdk sets no limit.
pub const MAX_FORWARDING_CHAIN_LEN: usize = 32;

/// The longest room id a room key may carry, in bytes: the Matrix specification's limit on
/// identifiers (Appendices, "Room IDs", 255 bytes).
pub const MAX_ROOM_ID_LEN: usize = 255;

// Backup: the key-storage policy (`backup::policy`).

/// The longest backup version (`GET /room_keys/version`'s `version`) key storage keeps. Servers
/// assign short decimal strings (Synapse counts from 1); the version is remembered and pickled, so an
/// overlong one from a hostile server is refused rather than stored. Peers set no bound.
pub const MAX_BACKUP_VERSION_LEN: usize = 255;

//! The key-export file: a passphrase-protected list of room keys, the "manual backup" a person saves
//! to disk and imports on another device (Matrix specification, "Key exports").
//!
//! ```text
//! -----BEGIN MEGOLM SESSION DATA-----
//! base64( 0x01 ‖ salt[16] ‖ iv[16] ‖ rounds[4, big-endian] ‖ AES-256-CTR(K, iv, json) ‖ HMAC-SHA-256(K', all before) )
//! -----END MEGOLM SESSION DATA-----
//!
//! K ‖ K' = PBKDF2-HMAC-SHA-512(passphrase, salt, rounds, 64 bytes)
//! ```
//!
//! The plaintext is a JSON array of room keys ([`super::room_key::RoomKey`], the `ExportedSessionData`
//! shape). The MAC is checked, in constant time, before anything is decrypted or written out; a wrong
//! passphrase and an altered file are the same opaque [`BackupError::Authentication`].
//!
//! # Wire facts and choices
//!
//! * **Counter.** The IV is the initial counter block. Element (WebCrypto, `length: 64`) increments only
//!   its low 64 bits; matrix-rust-sdk increments all 128. Writers clear bit 63 of the IV (`iv[8] &=
//!   0x7F`) so that the two agree on every file they write. We read and write with a 64-bit counter,
//!   as Element does: it equals rust-sdk's on every file with bit 63 clear, and also reads Element's
//!   published test vector whose IV is all ones.
//! * **Armor.** rust-sdk writes the base64 on one line without padding and no final newline; Element's
//!   legacy writer wrapped padded base64 at 128 characters. We write unpadded base64 (rust-sdk's
//!   decoder refuses padding) wrapped at 128 characters (96 bytes a line, so each line is whole base64
//!   groups; rust-sdk joins the lines back), and end with a newline. We read either: padded or not,
//!   any line length, LF or CRLF, spaces and tabs anywhere in the body, whitespace around the armor.
//!   Text before the header line or after the footer line is refused, as rust-sdk does.
//! * **Rounds.** The spec asks for at least 100,000; Element and the matrix-sdk `export_room_keys` use
//!   [`DEFAULT_ROUNDS`] (500,000). A file's count is refused above [`MAX_EXPORT_ROUNDS`] before any
//!   work, since the importer pays for it before the MAC can say anything.
//!
//! The core ([`encrypt_into`], [`decrypt_into`]) needs no allocator: the file is base64-decoded three
//! times in small stack chunks (to read the header, to check the MAC, to decrypt into `out`) instead of
//! into a buffer. The `alloc` functions add the room-key JSON: [`export_room_keys`] and
//! [`import_room_keys`].
//!
//! ```
//! use safemeet::backup::export;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
//!
//! let plaintext = b"[]";
//! let mut file = [0u8; 256];
//! let n = export::encrypt_into(&mut rng, "correct horse".as_bytes(), 1000, plaintext, &mut file)?;
//! assert_eq!(n, export::encrypted_len(plaintext.len()));
//! assert!(file.starts_with(b"-----BEGIN MEGOLM SESSION DATA-----\n"));
//!
//! let mut out = [0u8; 2];
//! let m = export::decrypt_into(&file[..n], "correct horse".as_bytes(), &mut out)?;
//! assert_eq!(&out[..m], plaintext);
//! assert_eq!(
//!     export::decrypt_into(&file[..n], b"wrong", &mut out),
//!     Err(safemeet::BackupError::Authentication)
//! );
//! # Ok::<(), safemeet::BackupError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::{string::String, vec, vec::Vec};

#[doc(hidden)]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;

use rand_core::CryptoRng;
#[cfg(feature = "alloc")]
use zeroize::Zeroize;
use zeroize::Zeroizing;

use crate::codec::base64;
use crate::error::BackupError;
use crate::limits::{MAX_EXPORT_FILE_LEN, MAX_EXPORT_ROUNDS};
use crate::primitives::aes::{IV_LEN, KEY_LEN, aes256_ctr_apply};
use crate::primitives::hmac::{HmacSha256, TAG_LEN};
use crate::primitives::pbkdf2::pbkdf2_hmac_sha512;

#[cfg(feature = "alloc")]
use super::room_key::RoomKey;
#[cfg(feature = "alloc")]
use crate::codec::json::{self, Value};
#[cfg(feature = "alloc")]
use crate::limits::MAX_EXPORT_ROOM_KEYS;

/// The first line of a key-export file.
pub const HEADER: &str = "-----BEGIN MEGOLM SESSION DATA-----";
/// The last line of a key-export file.
pub const FOOTER: &str = "-----END MEGOLM SESSION DATA-----";
/// The PBKDF2 rounds Element and matrix-sdk use for a new export.
pub const DEFAULT_ROUNDS: u32 = 500_000;
/// The only format version.
const VERSION: u8 = 1;
/// The salt length, in bytes.
const SALT_LEN: usize = 16;
/// The binary header: version, salt, IV, rounds.
const PREFIX_LEN: usize = 1 + SALT_LEN + IV_LEN + 4;
/// What the binary form adds to the plaintext: the header and the MAC.
pub const OVERHEAD: usize = PREFIX_LEN + TAG_LEN;
/// Bytes per base64 line written: 96 bytes are 128 characters, whole base64 groups.
const LINE_BYTES: usize = 96;
/// Significant base64 characters decoded at a time (a multiple of 4).
const DECODE_CHARS: usize = 256;
/// The bytes those characters decode to.
const DECODE_BYTES: usize = DECODE_CHARS / 4 * 3;
/// An upper bound on one room key's canonical JSON and the comma after it: the fixed members with
/// empty room id and chain take about 600 bytes; a room id byte is at most six (`\u00xx`), a chain key
/// 46 (43 characters, quotes and a comma).
#[cfg(feature = "alloc")]
fn entry_json_bound(key: &RoomKey) -> usize {
    let room_id = key.room_id.as_ref().map_or(0, String::len);
    1024 + 6 * room_id + 48 * key.forwarding_curve25519_key_chain.len()
}

/// Plaintext bytes encrypted at a time on export (a multiple of the AES block).
const ENCRYPT_CHUNK: usize = 512;

/// The length of the file [`encrypt_into`] writes for `plaintext_len` bytes of plaintext: the header
/// line, the base64 body in lines of 128 characters, the footer line, each ended by `\n`. Saturates at
/// `usize::MAX` for absurd lengths.
#[must_use]
pub const fn encrypted_len(plaintext_len: usize) -> usize {
    let binary = plaintext_len.saturating_add(OVERHEAD);
    let lines = binary.div_ceil(LINE_BYTES);
    (HEADER.len() + 1 + FOOTER.len() + 1)
        .saturating_add(base64::encoded_len(binary))
        .saturating_add(lines)
}

/// Encrypts `plaintext` (the JSON array of room keys) under `passphrase` with `rounds` rounds of
/// PBKDF2, writing the armored file into `out` and returning its length ([`encrypted_len`]).
///
/// # Errors
/// [`BackupError::InvalidParameter`] if `rounds` is 0 or above [`MAX_EXPORT_ROUNDS`], or the file would
/// be longer than [`MAX_EXPORT_FILE_LEN`]; [`BackupError::BufferTooSmall`] if `out` is too short. In
/// either case nothing is written and nothing is drawn from `rng`.
pub fn encrypt_into<R: CryptoRng + ?Sized>(
    rng: &mut R,
    passphrase: &[u8],
    rounds: u32,
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<usize, BackupError> {
    check_rounds(rounds)?;
    let needed = encrypted_len(plaintext.len());
    if needed > MAX_EXPORT_FILE_LEN {
        return Err(BackupError::InvalidParameter);
    }
    let out = out
        .get_mut(..needed)
        .ok_or(BackupError::BufferTooSmall { needed })?;

    let mut prefix = [0u8; PREFIX_LEN];
    let (version, rest) = prefix.split_at_mut(1);
    let (salt, rest) = rest.split_at_mut(SALT_LEN);
    let (iv, rounds_be) = rest.split_at_mut(IV_LEN);
    version.fill(VERSION);
    rng.fill_bytes(salt);
    rng.fill_bytes(iv);
    // Bit 63 of the counter block cleared: no carry can leave the low half (see the module docs).
    if let Some(b) = iv.get_mut(8) {
        *b &= 0x7F;
    }
    rounds_be.copy_from_slice(&rounds.to_be_bytes());
    let keys = derive_keys(passphrase, salt, rounds)?;
    let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| BackupError::Malformed)?;

    let mut w = ArmorWriter {
        out,
        pos: 0,
        line: [0u8; LINE_BYTES],
        fill: 0,
        mac: HmacSha256::new(&*keys.mac),
    };
    w.text(HEADER.as_bytes())?;
    w.text(b"\n")?;
    w.binary(&prefix, true)?;
    let mut chunk = Zeroizing::new([0u8; ENCRYPT_CHUNK]);
    let mut block = 0u64;
    for piece in plaintext.chunks(ENCRYPT_CHUNK) {
        let buf = chunk.get_mut(..piece.len()).ok_or(BackupError::Malformed)?;
        buf.copy_from_slice(piece);
        ctr64_apply(&keys.aes, &iv, block, buf);
        w.binary(buf, true)?;
        block = block.wrapping_add((ENCRYPT_CHUNK / 16) as u64);
    }
    let tag = w.mac.clone().finalize();
    w.binary(&tag, false)?;
    w.flush_line()?;
    w.text(FOOTER.as_bytes())?;
    w.text(b"\n")?;
    Ok(w.pos)
}

/// The plaintext length of `file`, for sizing [`decrypt_into`]'s buffer. Checks the armor and the
/// base64 layout (length and padding), not the characters or the MAC.
///
/// # Errors
/// As [`decrypt_into`], for everything checked before the passphrase is used.
pub fn decrypted_len(file: &[u8]) -> Result<usize, BackupError> {
    Ok(parse(file)?.binary_len - OVERHEAD)
}

/// Decrypts a key-export file with `passphrase`, writing the plaintext (the JSON array) into `out` and
/// returning its length.
///
/// Checks, in order: the armor and the base64 ([`BackupError::Malformed`], also for a file too short
/// to hold the header and MAC), the version ([`BackupError::Unsupported`] unless 1), the rounds
/// ([`BackupError::InvalidParameter`] if 0 or above [`MAX_EXPORT_ROUNDS`]; also for a file longer than
/// [`MAX_EXPORT_FILE_LEN`]), the room in `out` ([`BackupError::BufferTooSmall`]), then, after PBKDF2,
/// the MAC in constant time ([`BackupError::Authentication`]). `out` is written only once the MAC
/// verified.
pub fn decrypt_into(file: &[u8], passphrase: &[u8], out: &mut [u8]) -> Result<usize, BackupError> {
    let parsed = parse(file)?;
    let n = parsed.binary_len;
    let mac_at = n - TAG_LEN;
    let len = mac_at - PREFIX_LEN;

    // Pass 1: the header and the MAC (this also checks every base64 character).
    let mut prefix = [0u8; PREFIX_LEN];
    let mut tag = [0u8; TAG_LEN];
    decode_body(parsed.body, |at, bytes| {
        copy_range(at, bytes, 0, &mut prefix);
        copy_range(at, bytes, mac_at, &mut tag);
    })?;
    let [version, rest @ ..] = prefix;
    if version != VERSION {
        return Err(BackupError::Unsupported);
    }
    let (salt, rest) = rest.split_at(SALT_LEN);
    let (iv, rounds) = rest.split_at(IV_LEN);
    let rounds = u32::from_be_bytes(rounds.try_into().map_err(|_| BackupError::Malformed)?);
    let iv: [u8; IV_LEN] = iv.try_into().map_err(|_| BackupError::Malformed)?;
    check_rounds(rounds)?;
    let out = out
        .get_mut(..len)
        .ok_or(BackupError::BufferTooSmall { needed: len })?;
    let keys = derive_keys(passphrase, salt, rounds)?;

    // Pass 2: the MAC over everything before it.
    let mut mac = HmacSha256::new(&*keys.mac);
    decode_body(parsed.body, |at, bytes| {
        if let Some(part) = range_of(at, bytes, 0, mac_at) {
            mac.update(part);
        }
    })?;
    mac.verify(&tag).map_err(|_| BackupError::Authentication)?;

    // Pass 3: the ciphertext into `out`, then decrypted there.
    decode_body(parsed.body, |at, bytes| {
        if let Some(part) = range_of(at, bytes, PREFIX_LEN, mac_at) {
            let from = at.max(PREFIX_LEN) - PREFIX_LEN;
            if let Some(dst) = out.get_mut(from..from + part.len()) {
                dst.copy_from_slice(part);
            }
        }
    })?;
    ctr64_apply(&keys.aes, &iv, 0, out);
    Ok(len)
}

/// Encrypts `plaintext` into a new armored file; see [`encrypt_into`].
///
/// # Errors
/// As [`encrypt_into`].
#[cfg(feature = "alloc")]
pub fn encrypt<R: CryptoRng + ?Sized>(
    rng: &mut R,
    passphrase: &[u8],
    rounds: u32,
    plaintext: &[u8],
) -> Result<String, BackupError> {
    check_rounds(rounds)?;
    let needed = encrypted_len(plaintext.len());
    if needed > MAX_EXPORT_FILE_LEN {
        return Err(BackupError::InvalidParameter);
    }
    let mut out = vec![0u8; needed];
    let n = encrypt_into(rng, passphrase, rounds, plaintext, &mut out)?;
    out.truncate(n);
    // The armor is ASCII.
    String::from_utf8(out).map_err(|_| BackupError::Malformed)
}

/// Decrypts a key-export file into a new buffer that zeroizes itself; see [`decrypt_into`].
///
/// # Errors
/// As [`decrypt_into`].
#[cfg(feature = "alloc")]
pub fn decrypt(file: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, BackupError> {
    let mut out = Zeroizing::new(vec![0u8; decrypted_len(file)?]);
    let n = decrypt_into(file, passphrase, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Writes `keys` as a key-export file under `passphrase` (its UTF-8 bytes, as every client uses them)
/// with `rounds` rounds of PBKDF2 ([`DEFAULT_ROUNDS`] unless there is a reason).
///
/// # Errors
/// [`BackupError::InvalidParameter`] for more than [`MAX_EXPORT_ROOM_KEYS`] keys and as
/// [`encrypt_into`]; a key that cannot be exported (see [`RoomKey::to_export_json`]) fails the whole
/// export, so that the file never holds an entry a peer would refuse.
#[cfg(feature = "alloc")]
pub fn export_room_keys<R: CryptoRng + ?Sized>(
    rng: &mut R,
    keys: &[RoomKey],
    passphrase: &str,
    rounds: u32,
) -> Result<String, BackupError> {
    if keys.len() > MAX_EXPORT_ROOM_KEYS {
        return Err(BackupError::InvalidParameter);
    }
    check_rounds(rounds)?;
    // Written into a buffer reserved large enough up front: a growing `String` frees its old buffer
    // without zeroizing it.
    let bound = keys.iter().map(entry_json_bound).sum::<usize>() + 2;
    let mut text = Zeroizing::new(String::with_capacity(bound));
    text.push('[');
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let mut value = key.to_export_json()?;
        json::write_canonical(&value, &mut text);
        zeroize_value(&mut value);
    }
    text.push(']');
    encrypt(rng, passphrase.as_bytes(), rounds, text.as_bytes())
}

/// The room keys read from a key-export file.
#[cfg(feature = "alloc")]
#[derive(Debug)]
pub struct ImportedRoomKeys {
    /// The entries that are valid room keys, in file order.
    pub keys: Vec<RoomKey>,
    /// How many entries were skipped: not valid JSON, not a room key of a supported algorithm, without
    /// a room id or session id, or with a session id that is not its key's.
    pub rejected: usize,
}

/// Reads a key-export file written by any client.
///
/// The file as a whole must decrypt and its plaintext must be a JSON array; then each entry stands on
/// its own: an entry that is not a valid room key is skipped and counted in
/// [`ImportedRoomKeys::rejected`], so that one bad entry (rust-sdk would refuse the whole file) does
/// not cost the good ones.
///
/// # Errors
/// As [`decrypt_into`]; [`BackupError::Malformed`] if the plaintext is not a JSON array;
/// [`BackupError::InvalidParameter`] for more than [`MAX_EXPORT_ROOM_KEYS`] entries.
#[cfg(feature = "alloc")]
pub fn import_room_keys(file: &str, passphrase: &str) -> Result<ImportedRoomKeys, BackupError> {
    let plaintext = decrypt(file.as_bytes(), passphrase.as_bytes())?;
    let entries = split_array(&plaintext)?;
    let mut keys = Vec::with_capacity(entries.len());
    let mut rejected = 0;
    for entry in entries {
        match import_entry(entry) {
            Some(key) => keys.push(key),
            None => rejected += 1,
        }
    }
    Ok(ImportedRoomKeys { keys, rejected })
}

#[cfg(feature = "alloc")]
fn import_entry(entry: &[u8]) -> Option<RoomKey> {
    let mut value = json::parse(entry).ok()?;
    let key = RoomKey::from_json(&value);
    zeroize_value(&mut value);
    let key = key.ok()?;
    if key.room_id.is_none() || key.session_id.is_none() || key.check_session_id().is_err() {
        return None;
    }
    Some(key)
}

/// Overwrites every string in `value` (a room key's JSON holds the session key in one).
#[cfg(feature = "alloc")]
pub(crate) fn zeroize_value(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(zeroize_value),
        Value::Object(members) => members.values_mut().for_each(zeroize_value),
        Value::Null | Value::Bool(_) | Value::Integer(_) => {}
    }
}

/// Splits the top-level JSON array `text` into its elements' texts, without parsing them. The
/// structure (brackets, braces, strings and commas) must be sound; each element is parsed on its own
/// later.
#[cfg(feature = "alloc")]
fn split_array(text: &[u8]) -> Result<Vec<&[u8]>, BackupError> {
    let inner = match text.trim_ascii() {
        [b'[', inner @ .., b']'] => inner,
        _ => return Err(BackupError::Malformed),
    };
    let mut entries = Vec::new();
    if inner.trim_ascii().is_empty() {
        return Ok(entries);
    }
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0usize);
    fn push<'t>(entries: &mut Vec<&'t [u8]>, entry: Option<&'t [u8]>) -> Result<(), BackupError> {
        match entry.map(<[u8]>::trim_ascii) {
            Some(entry) if !entry.is_empty() => {
                if entries.len() == MAX_EXPORT_ROOM_KEYS {
                    return Err(BackupError::InvalidParameter);
                }
                entries.push(entry);
                Ok(())
            }
            _ => Err(BackupError::Malformed),
        }
    }
    for (i, &b) in inner.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.checked_sub(1).ok_or(BackupError::Malformed)?,
            b',' if depth == 0 => {
                push(&mut entries, inner.get(start..i))?;
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_string || depth != 0 {
        return Err(BackupError::Malformed);
    }
    push(&mut entries, inner.get(start..))?;
    Ok(entries)
}

fn check_rounds(rounds: u32) -> Result<(), BackupError> {
    if rounds == 0 || rounds > MAX_EXPORT_ROUNDS {
        Err(BackupError::InvalidParameter)
    } else {
        Ok(())
    }
}

/// `K ‖ K'`: the AES key and the HMAC key, zeroized on drop.
struct Keys {
    aes: Zeroizing<[u8; KEY_LEN]>,
    mac: Zeroizing<[u8; KEY_LEN]>,
}

fn derive_keys(passphrase: &[u8], salt: &[u8], rounds: u32) -> Result<Keys, BackupError> {
    let mut both = Zeroizing::new([0u8; 2 * KEY_LEN]);
    pbkdf2_hmac_sha512(passphrase, salt, rounds, &mut *both)
        .map_err(|_| BackupError::InvalidParameter)?;
    let mut keys = Keys {
        aes: Zeroizing::new([0u8; KEY_LEN]),
        mac: Zeroizing::new([0u8; KEY_LEN]),
    };
    if let Some((aes, mac)) = both.split_first_chunk::<KEY_LEN>() {
        keys.aes.copy_from_slice(aes);
        keys.mac.copy_from_slice(mac);
    }
    Ok(keys)
}

/// AES-256-CTR with Element's counter: the low 64 bits of the counter block count blocks and wrap
/// around without carrying into the high 64 bits. `block` is the keystream position of `buf[0]` in
/// blocks (callers pass block-aligned buffers or start at 0).
fn ctr64_apply(key: &[u8; KEY_LEN], iv: &[u8; IV_LEN], block: u64, buf: &mut [u8]) {
    let start = u128::from_be_bytes(*iv);
    let high = start & !u128::from(u64::MAX);
    let low = (start as u64).wrapping_add(block);
    // Blocks until the low half wraps: the 128-bit counter of `aes256_ctr_apply` agrees until then.
    let to_wrap = u128::from(u64::MAX - low) + 1;
    let (first, second) = match usize::try_from(to_wrap.saturating_mul(16)) {
        Ok(at) if at < buf.len() => buf.split_at_mut(at),
        _ => buf.split_at_mut(buf.len()),
    };
    aes256_ctr_apply(key, &(high | u128::from(low)).to_be_bytes(), first);
    if !second.is_empty() {
        aes256_ctr_apply(key, &high.to_be_bytes(), second);
    }
}

/// Writes the armored text: lines of base64, each of [`LINE_BYTES`] bytes of binary.
struct ArmorWriter<'a> {
    out: &'a mut [u8],
    pos: usize,
    line: [u8; LINE_BYTES],
    fill: usize,
    mac: HmacSha256,
}

impl ArmorWriter<'_> {
    fn text(&mut self, text: &[u8]) -> Result<(), BackupError> {
        let end = self.pos + text.len();
        let needed = end;
        self.out
            .get_mut(self.pos..end)
            .ok_or(BackupError::BufferTooSmall { needed })?
            .copy_from_slice(text);
        self.pos = end;
        Ok(())
    }

    /// Appends binary bytes, MACed if `authenticate`.
    fn binary(&mut self, mut data: &[u8], authenticate: bool) -> Result<(), BackupError> {
        if authenticate {
            self.mac.update(data);
        }
        while !data.is_empty() {
            let room = LINE_BYTES - self.fill;
            let (now, later) = data.split_at(room.min(data.len()));
            self.line
                .get_mut(self.fill..self.fill + now.len())
                .ok_or(BackupError::Malformed)?
                .copy_from_slice(now);
            self.fill += now.len();
            data = later;
            if self.fill == LINE_BYTES {
                self.flush_line()?;
            }
        }
        Ok(())
    }

    fn flush_line(&mut self) -> Result<(), BackupError> {
        if self.fill == 0 {
            return Ok(());
        }
        let line = self.line.get(..self.fill).ok_or(BackupError::Malformed)?;
        let rest = self.out.get_mut(self.pos..).unwrap_or_default();
        let n = base64::encode_into(line, rest).map_err(|_| BackupError::BufferTooSmall {
            needed: self.pos + base64::encoded_len(line.len()),
        })?;
        self.pos += n;
        self.fill = 0;
        self.text(b"\n")
    }
}

/// A file whose armor and base64 layout were checked.
struct Parsed<'a> {
    /// The text between the header line and the footer line.
    body: &'a [u8],
    /// The number of bytes the body decodes to (at least [`OVERHEAD`]).
    binary_len: usize,
}

const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn parse(file: &[u8]) -> Result<Parsed<'_>, BackupError> {
    if file.len() > MAX_EXPORT_FILE_LEN {
        return Err(BackupError::InvalidParameter);
    }
    let text = file
        .trim_ascii()
        .strip_prefix(HEADER.as_bytes())
        .ok_or(BackupError::Malformed)?;
    let text = text
        .strip_suffix(FOOTER.as_bytes())
        .ok_or(BackupError::Malformed)?;
    // The header and the footer are lines of their own: a line break after the one (spaces, tabs and a
    // carriage return may come first) and before the other.
    let after_header = text
        .iter()
        .position(|&b| b != b' ' && b != b'\t' && b != b'\r')
        .ok_or(BackupError::Malformed)?;
    let body = match text.split_at_checked(after_header) {
        Some((_, [b'\n', body @ ..])) => body,
        _ => return Err(BackupError::Malformed),
    };
    match body
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .and_then(|i| body.get(i))
    {
        Some(b'\n') => {}
        _ => return Err(BackupError::Malformed),
    }

    // Counted, not validated: the characters themselves are checked when the body is decoded. Padding
    // is only allowed at the very end, or a `=` at the end of a decoding chunk would pass for it.
    let significant = body.len() - body.iter().filter(|&&b| is_space(b)).count();
    let padding = body.iter().filter(|&&b| b == b'=').count();
    let trailing = body
        .iter()
        .rev()
        .filter(|&&b| !is_space(b))
        .take_while(|&&b| b == b'=')
        .count();
    if trailing != padding {
        return Err(BackupError::Malformed);
    }
    let data = significant - padding;
    if padding > 2 || (padding > 0 && !significant.is_multiple_of(4)) || data % 4 == 1 {
        return Err(BackupError::Malformed);
    }
    let binary_len = base64::decoded_len_estimate(data);
    if binary_len < OVERHEAD {
        return Err(BackupError::Malformed);
    }
    Ok(Parsed { body, binary_len })
}

/// Base64-decodes the body in chunks, calling `f(offset, bytes)` for each.
fn decode_body(body: &[u8], mut f: impl FnMut(usize, &[u8])) -> Result<(), BackupError> {
    let mut chars = [0u8; DECODE_CHARS];
    let mut bytes = [0u8; DECODE_BYTES];
    let (mut fill, mut at) = (0usize, 0usize);
    let mut flush = |chars: &[u8], at: &mut usize| -> Result<(), BackupError> {
        let n = base64::decode_into(chars, &mut bytes).map_err(|_| BackupError::Malformed)?;
        f(*at, bytes.get(..n).unwrap_or_default());
        *at += n;
        Ok(())
    };
    for &b in body.iter().filter(|&&b| !is_space(b)) {
        if let Some(slot) = chars.get_mut(fill) {
            *slot = b;
        }
        fill += 1;
        if fill == DECODE_CHARS {
            flush(&chars, &mut at)?;
            fill = 0;
        }
    }
    if fill > 0 {
        flush(chars.get(..fill).unwrap_or_default(), &mut at)?;
    }
    Ok(())
}

/// The part of `bytes` (which sits at `at` in the stream) that falls in `start..end`.
fn range_of(at: usize, bytes: &[u8], start: usize, end: usize) -> Option<&[u8]> {
    let from = start.max(at);
    let to = end.min(at + bytes.len());
    if from >= to {
        return None;
    }
    bytes.get(from - at..to - at)
}

/// Copies the part of `bytes` (at `at` in the stream) that falls in `start..start + dst.len()` into
/// the matching part of `dst`.
fn copy_range(at: usize, bytes: &[u8], start: usize, dst: &mut [u8]) {
    if let Some(part) = range_of(at, bytes, start, start + dst.len()) {
        let from = at.max(start) - start;
        if let Some(d) = dst.get_mut(from..from + part.len()) {
            d.copy_from_slice(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "alloc")]
    #[test]
    fn entry_bound_holds_at_the_limits() {
        use crate::megolm::{GroupSession, InboundGroupSession};
        use crate::primitives::curve25519::Curve25519PublicKey;
        let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed([4; 32]);
        let session = InboundGroupSession::new(&GroupSession::new(&mut rng).session_key());
        let room_id: String = core::iter::once('!')
            .chain(core::iter::repeat_n(
                '\u{1}',
                crate::limits::MAX_ROOM_ID_LEN - 1,
            ))
            .collect();
        let claimed = crate::primitives::ed25519::Ed25519SecretKey::generate(&mut rng).public_key();
        let key_bytes = Curve25519PublicKey::from_bytes([0xFF; 32]);
        let mut key = RoomKey::from_inbound(&session, &room_id, key_bytes, Some(claimed), true);
        key.forwarding_curve25519_key_chain =
            alloc::vec![key_bytes; crate::limits::MAX_FORWARDING_CHAIN_LEN];
        let text = key.to_export_json().unwrap().to_canonical();
        assert!(text.len() < entry_json_bound(&key), "{}", text.len());
        key.room_id = Some("!r".into());
        key.forwarding_curve25519_key_chain.clear();
        let text = key.to_export_json().unwrap().to_canonical();
        assert!(text.len() < entry_json_bound(&key), "{}", text.len());
    }

    #[test]
    fn lengths_agree() {
        for n in [0, 1, 26, 27, 59, 95, 96, 97, 500, 10_000] {
            let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed([3; 32]);
            let plaintext = [0x41u8; 10_000];
            let plaintext = &plaintext[..n];
            let mut buf = [0u8; 14_000];
            let out = &mut buf[..encrypted_len(n)];
            let len = encrypt_into(&mut rng, b"pw", 1, plaintext, out).unwrap();
            assert_eq!(len, out.len());
            assert_eq!(decrypted_len(out).unwrap(), n);
        }
    }
}

//! The recovery key: 32 secret bytes in the form a person writes down (the Matrix "cryptographic key
//! representation", Appendices).
//!
//! The same form carries two different keys: the secret-storage key (see
//! [`super::secret_storage`]) and, in older clients, the private key of a key backup. This module is
//! only about the 32 bytes and their text; what they unlock is up to the caller.
//!
//! Encoding: the bytes `0x8B 0x01`, the key, and a parity byte (the XOR of the 34 bytes before it) —
//! 35 bytes — are written in base58 (Bitcoin alphabet, no checksum). Because of the fixed prefix
//! every such number has exactly 48 digits and starts with `EsS`, `EsT` or `EsU`. Clients show the
//! 48 characters in twelve groups of four separated by single spaces: [`ENCODED_LEN`] = 59.
//!
//! Decoding ignores whitespace anywhere (the specification says it is insignificant, and people
//! copy keys across lines), then checks, in matrix-rust-sdk's order, the alphabet
//! ([`BackupError::InvalidBase58`]), the decoded length of 35 bytes
//! ([`BackupError::InvalidLength`]), the prefix ([`BackupError::InvalidPrefix`]) and the parity
//! ([`BackupError::InvalidParity`]). The errors name the failed check and nothing else: no
//! character, position or byte of the input. (matrix-js-sdk checks parity first; a string that fails
//! two checks can therefore be named differently by the two clients.)
//!
//! ```
//! use safemeet::backup::recovery_key::{ENCODED_LEN, RecoveryKey};
//!
//! // The key printed in an end-to-end-encryption FAQ.
//! let key = RecoveryKey::decode("EsTZ 4us6 nh29 89jk U1uH Zbae 4PuS QQC1 86pt em8o R8nb bdwQ")?;
//! assert_eq!(key.as_bytes()[..4], [0x6c, 0x06, 0x7c, 0x0a]);
//!
//! let mut text = [0u8; ENCODED_LEN];
//! let n = key.encode_into(&mut text)?;
//! assert_eq!(&text[..n], b"EsTZ 4us6 nh29 89jk U1uH Zbae 4PuS QQC1 86pt em8o R8nb bdwQ");
//!
//! // Whitespace does not matter; a mistyped character does.
//! assert!(RecoveryKey::decode("EsTZ4us6nh2989jkU1uHZbae4PuSQQC186ptem8oR8nbbdwQ\n").is_ok());
//! assert!(RecoveryKey::decode("EsTZ 4us6 nh29 89jk U1uH Zbae 4PuS QQC1 86pt em8o R8nb bdwR").is_err());
//! # Ok::<(), safemeet::BackupError>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::string::String;
use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::codec::base58;
use crate::error::{BackupError, CodecError};

/// The length of the key, in bytes.
pub const KEY_LEN: usize = 32;

/// The two bytes every encoded key starts with.
pub const PREFIX: [u8; 2] = [0x8B, 0x01];

/// The decoded length: prefix, key, parity byte.
pub const DECODED_LEN: usize = PREFIX.len() + KEY_LEN + 1;

/// The number of base58 characters of every recovery key (without spaces).
pub const BASE58_LEN: usize = 48;

/// Characters per group in the displayed form.
pub const GROUP_LEN: usize = 4;

/// The length of the displayed form: 48 characters in groups of four, eleven single spaces between.
pub const ENCODED_LEN: usize = BASE58_LEN + BASE58_LEN / GROUP_LEN - 1;

// 35 bytes whose first byte is 0x8B need exactly 48 base58 digits: 58^47 < 0x8B · 256^34 and
// 256^35 < 58^48. Checked here so that the reasoning in `encode_into` and `decode` cannot rot.
const _: () = assert!(BASE58_LEN == 48 && ENCODED_LEN == 59 && DECODED_LEN == 35);

/// A recovery key: 32 secret bytes. Zeroized on drop; `Debug` does not show it; there is no
/// `Display` (the only text form is the explicit [`RecoveryKey::encode_into`] /
/// [`RecoveryKey::to_base58`]). Equality is constant-time.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RecoveryKey([u8; KEY_LEN]);

impl RecoveryKey {
    /// The key's length in bytes ([`KEY_LEN`]).
    pub const LEN: usize = KEY_LEN;

    /// The length of the displayed form ([`ENCODED_LEN`], 59).
    pub const ENCODED_LEN: usize = ENCODED_LEN;

    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The key with these bytes (the caller's copy is the caller's to zeroize).
    #[must_use]
    pub const fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        Self(*bytes)
    }

    /// The key's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The 35 bytes that are written in base58: prefix, key, parity.
    fn framed(&self) -> Zeroizing<[u8; DECODED_LEN]> {
        let mut framed = Zeroizing::new([0u8; DECODED_LEN]);
        let (prefix, rest) = framed.split_at_mut(PREFIX.len());
        prefix.copy_from_slice(&PREFIX);
        let (key, parity) = rest.split_at_mut(KEY_LEN);
        key.copy_from_slice(&self.0);
        if let Some(p) = parity.first_mut() {
            *p = parity_of(&self.0);
        }
        framed
    }

    /// Writes the displayed form (48 base58 characters in groups of four, separated by single spaces:
    /// [`ENCODED_LEN`] bytes of ASCII) into the start of `out`; returns the number of bytes written.
    ///
    /// The output is secret: the caller should zeroize it when it is no longer shown.
    ///
    /// # Errors
    /// [`BackupError::BufferTooSmall`] with `needed` = [`ENCODED_LEN`] if `out` is shorter; nothing is
    /// written.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, BackupError> {
        let out = out
            .get_mut(..ENCODED_LEN)
            .ok_or(BackupError::BufferTooSmall {
                needed: ENCODED_LEN,
            })?;
        let mut digits = Zeroizing::new([0u8; BASE58_LEN]);
        let n = base58::encode_into(self.framed().as_slice(), digits.as_mut_slice())
            .map_err(|_| BackupError::InvalidLength)?;
        // Always 48 (see the assertion above); checked rather than assumed.
        if n != BASE58_LEN {
            return Err(BackupError::InvalidLength);
        }
        // Character i goes to position i + i / 4; every fifth position is a space.
        out.fill(b' ');
        for (i, &c) in digits.iter().enumerate() {
            if let Some(slot) = out.get_mut(i + i / GROUP_LEN) {
                *slot = c;
            }
        }
        Ok(ENCODED_LEN)
    }

    /// The displayed form as a string that zeroizes on drop.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_base58(&self) -> Zeroizing<String> {
        let mut buf = Zeroizing::new([0u8; ENCODED_LEN]);
        let mut text = Zeroizing::new(String::with_capacity(ENCODED_LEN));
        if let Ok(n) = self.encode_into(buf.as_mut_slice()) {
            for &c in buf.iter().take(n) {
                text.push(char::from(c));
            }
        }
        text
    }

    /// Reads a recovery key typed or pasted by a person. Whitespace (any Unicode white space) is
    /// ignored wherever it appears.
    ///
    /// # Errors
    /// In this order: [`BackupError::InvalidBase58`] if a character is outside the base58 alphabet;
    /// [`BackupError::InvalidLength`] if the characters do not decode to 35 bytes;
    /// [`BackupError::InvalidPrefix`] if the bytes do not start with `0x8B 0x01`;
    /// [`BackupError::InvalidParity`] if the parity byte does not match (a mistyped character).
    pub fn decode(text: &str) -> Result<Self, BackupError> {
        // Any string of more than 48 digits decodes to more than 35 bytes (a leading `1` is a whole
        // zero byte, and 49 digits without one are at least 58^48 > 256^35), so the digits kept are
        // bounded; the rest of the input is still read, because a character outside the alphabet
        // anywhere is reported before the length.
        let mut digits = Zeroizing::new([0u8; BASE58_LEN]);
        let mut count = 0usize;
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            if !c.is_ascii() || !is_base58_digit(c as u8) {
                return Err(BackupError::InvalidBase58);
            }
            if let Some(slot) = digits.get_mut(count) {
                *slot = c as u8;
            }
            count = count.saturating_add(1);
        }
        let digits = digits.get(..count).ok_or(BackupError::InvalidLength)?;

        let mut framed = Zeroizing::new([0u8; BASE58_LEN]);
        let n = base58::decode_into(digits, framed.as_mut_slice()).map_err(|e| match e {
            CodecError::InvalidBase58 => BackupError::InvalidBase58,
            _ => BackupError::InvalidLength,
        })?;
        let framed = framed
            .get(..n)
            .filter(|f| f.len() == DECODED_LEN)
            .ok_or(BackupError::InvalidLength)?;
        let (prefix, rest) = framed.split_at(PREFIX.len());
        let (key, parity) = rest.split_at(KEY_LEN);
        if !bool::from(prefix.ct_eq(&PREFIX)) {
            return Err(BackupError::InvalidPrefix);
        }
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(key);
        let key = Self(bytes);
        if !bool::from(parity.ct_eq(&[parity_of(&key.0)])) {
            return Err(BackupError::InvalidParity);
        }
        Ok(key)
    }
}

/// Whether `c` is one of the 58 characters of the Bitcoin alphabet (digits and letters without `0`,
/// `O`, `I` and `l`). Like the base58 conversion itself (see [`crate::codec::base58`]), this is not
/// constant-time; no Matrix client's is.
const fn is_base58_digit(c: u8) -> bool {
    matches!(c, b'1'..=b'9' | b'A'..=b'H' | b'J'..=b'N' | b'P'..=b'Z' | b'a'..=b'k' | b'm'..=b'z')
}

/// The parity byte of `key`: the XOR of the prefix and the key bytes.
fn parity_of(key: &[u8; KEY_LEN]) -> u8 {
    key.iter().fold(PREFIX[0] ^ PREFIX[1], |acc, b| acc ^ b)
}

impl ConstantTimeEq for RecoveryKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for RecoveryKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for RecoveryKey {}

impl fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoveryKey").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alphabet_character_and_nothing_else_is_a_digit() {
        let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        for c in 0..=255u8 {
            assert_eq!(is_base58_digit(c), alphabet.contains(&c), "{c}");
        }
    }

    #[test]
    fn extremes_encode_to_48_digits_and_back() {
        for byte in [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF] {
            let key = RecoveryKey::from_bytes(&[byte; KEY_LEN]);
            let mut out = [0u8; ENCODED_LEN];
            assert_eq!(key.encode_into(&mut out), Ok(ENCODED_LEN));
            let text = core::str::from_utf8(&out).unwrap();
            assert!(text.starts_with("EsS") || text.starts_with("EsT") || text.starts_with("EsU"));
            assert_eq!(RecoveryKey::decode(text), Ok(key), "{text}");
        }
    }

    #[test]
    fn long_input_is_a_length_error_unless_a_character_is_bad() {
        let long = "EsTZ4us6nh2989jkU1uHZbae4PuSQQC186ptem8oR8nbbdwQ1";
        assert_eq!(RecoveryKey::decode(long), Err(BackupError::InvalidLength));
        let bad_late = "EsTZ4us6nh2989jkU1uHZbae4PuSQQC186ptem8oR8nbbdwQ1111111110";
        assert_eq!(
            RecoveryKey::decode(bad_late),
            Err(BackupError::InvalidBase58)
        );
        assert_eq!(RecoveryKey::decode(""), Err(BackupError::InvalidLength));
        assert_eq!(
            RecoveryKey::decode("  \n\t"),
            Err(BackupError::InvalidLength)
        );
        assert_eq!(
            RecoveryKey::decode("EsTZ é"),
            Err(BackupError::InvalidBase58)
        );
    }

    #[test]
    fn small_buffer_writes_nothing() {
        let key = RecoveryKey::from_bytes(&[7; KEY_LEN]);
        let mut out = [0xEE; ENCODED_LEN - 1];
        assert_eq!(
            key.encode_into(&mut out),
            Err(BackupError::BufferTooSmall {
                needed: ENCODED_LEN
            })
        );
        assert!(out.iter().all(|&b| b == 0xEE));
    }
}

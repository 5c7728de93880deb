//! The symmetric-key ratchet (a KDF chain) and the root-key step.

use core::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::primitives::hkdf::hkdf_sha256;
use crate::primitives::hmac::{HmacSha256, hmac_sha256};
use crate::primitives::secret::SecretBytes;

/// The constant input that turns a chain key into a message key (Double Ratchet spec §5.2).
const MESSAGE_KEY_SEED: [u8; 1] = [0x01];
/// The constant input that turns a chain key into the next chain key.
const CHAIN_KEY_SEED: [u8; 1] = [0x02];

/// A chain key and the index of the message key it will produce next.
#[derive(Zeroize)]
pub struct ChainKey {
    key: [u8; 32],
    index: u32,
}

impl Drop for ChainKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ChainKey {
    /// A chain at `index` with key `key`.
    pub fn new(key: [u8; 32], index: u32) -> Self {
        Self { key, index }
    }

    /// The index of the next message key.
    pub const fn index(&self) -> u32 {
        self.index
    }

    /// The chain key's bytes (for pickling).
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    /// The message key at the current index: `HMAC(chain key, 0x01)`.
    pub fn message_key(&self) -> MessageKey {
        MessageKey {
            key: SecretBytes::from_bytes(hmac_sha256(&self.key, &MESSAGE_KEY_SEED)),
            index: self.index,
        }
    }

    /// Steps the chain: `key = HMAC(key, 0x02)`, `index += 1`. Returns `false` (and changes nothing)
    /// when the index would overflow.
    pub fn advance(&mut self) -> bool {
        let Some(next) = self.index.checked_add(1) else {
            return false;
        };
        let mut new_key = hmac_sha256(&self.key, &CHAIN_KEY_SEED);
        self.key.copy_from_slice(&new_key);
        new_key.zeroize();
        self.index = next;
        true
    }

    /// The message key at the current index, then one step of the chain: [`ChainKey::message_key`] and
    /// [`ChainKey::advance`] with the HMAC key schedule computed once instead of twice. Returns `None`
    /// (and changes nothing) when the index would overflow.
    pub fn next_message_key(&mut self) -> Option<MessageKey> {
        let next = self.index.checked_add(1)?;
        let keyed = HmacSha256::new(&self.key);
        let mut mac = keyed.clone();
        mac.update(&MESSAGE_KEY_SEED);
        let message_key = MessageKey {
            key: SecretBytes::from_bytes(mac.finalize()),
            index: self.index,
        };
        let mut mac = keyed;
        mac.update(&CHAIN_KEY_SEED);
        let mut new_key = mac.finalize();
        self.key.copy_from_slice(&new_key);
        new_key.zeroize();
        self.index = next;
        Some(message_key)
    }

    /// A copy, for transactional work on a chain.
    pub fn duplicate(&self) -> Self {
        Self::new(self.key, self.index)
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainKey")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// A message key with the index it belongs to. Used once, then dropped (and zeroized).
pub struct MessageKey {
    key: SecretBytes<32>,
    index: u32,
}

impl MessageKey {
    /// A message key from its parts.
    pub const fn new(key: SecretBytes<32>, index: u32) -> Self {
        Self { key, index }
    }

    /// The key's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// The index of the message this key protects.
    pub const fn index(&self) -> u32 {
        self.index
    }
}

impl fmt::Debug for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageKey")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The output of one root-key (DH) ratchet step.
#[derive(Debug)]
pub struct RootStep {
    /// The new root key.
    pub root_key: SecretBytes<32>,
    /// The first chain key of the new chain.
    pub chain_key: ChainKey,
    /// The next header key (header encryption only).
    pub next_header_key: Option<SecretBytes<32>>,
}

/// `KDF_RK`: HKDF-SHA-256 with the root key as salt over the DH output, `info` naming the profile.
/// Yields 64 bytes (root key, chain key), or 96 with a next header key when `header_keys` is set.
pub fn kdf_rk(root_key: &[u8; 32], dh: &[u8; 32], info: &[u8], header_keys: bool) -> RootStep {
    let mut okm = Zeroizing::new([0u8; 96]);
    let len = if header_keys { 96 } else { 64 };
    // 96 bytes is far below HKDF's limit, so this cannot fail; the slice is always in range.
    let out = okm.get_mut(..len).unwrap_or_default();
    let _ = hkdf_sha256(root_key, dh, info, out);
    let part = |i: usize| -> [u8; 32] {
        let mut b = [0u8; 32];
        if let Some(src) = okm.get(i * 32..(i + 1) * 32) {
            b.copy_from_slice(src);
        }
        b
    };
    RootStep {
        root_key: SecretBytes::from_bytes(part(0)),
        chain_key: ChainKey::new(part(1), 0),
        next_header_key: header_keys.then(|| SecretBytes::from_bytes(part(2))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_follows_the_spec_constants() {
        let mut chain = ChainKey::new([7; 32], 0);
        let mk = chain.message_key();
        assert_eq!(mk.as_bytes(), &hmac_sha256(&[7; 32], &[1]));
        assert!(chain.advance());
        assert_eq!(chain.as_bytes(), &hmac_sha256(&[7; 32], &[2]));
        assert_eq!(chain.index(), 1);
        let mut last = ChainKey::new([1; 32], u32::MAX);
        assert!(!last.advance());
        assert_eq!(last.index(), u32::MAX);
    }

    #[test]
    fn root_step_splits_hkdf_output() {
        let step = kdf_rk(&[1; 32], &[2; 32], b"INFO", true);
        let mut okm = [0u8; 96];
        hkdf_sha256(&[1; 32], &[2; 32], b"INFO", &mut okm).unwrap();
        assert_eq!(step.root_key.as_bytes()[..], okm[..32]);
        assert_eq!(step.chain_key.as_bytes()[..], okm[32..64]);
        assert_eq!(step.next_header_key.unwrap().as_bytes()[..], okm[64..]);
        let short = kdf_rk(&[1; 32], &[2; 32], b"INFO", false);
        assert_eq!(short.root_key.as_bytes()[..], okm[..32]);
        assert!(short.next_header_key.is_none());
    }
}

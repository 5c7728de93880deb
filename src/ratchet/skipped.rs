//! The bounded store of skipped message keys.
//!
//! When a message arrives ahead of its chain, the keys of the messages it skipped are kept so those
//! messages can still be read when they arrive. The store has a fixed capacity `K`, and each chain may
//! hold at most a per-chain number of entries; in both cases the oldest entry is evicted first.

use core::fmt;

use crate::primitives::curve25519::Curve25519PublicKey;
use crate::primitives::secret::SecretBytes;

use super::chain::MessageKey;

/// One stored key: which chain (by the sender's ratchet key), which index, the key, and for
/// header-encrypted sessions the header key of its chain.
pub(crate) struct SkippedKey {
    pub(crate) ratchet_key: Curve25519PublicKey,
    pub(crate) header_key: Option<SecretBytes<32>>,
    pub(crate) key: MessageKey,
    /// Insertion order, for evicting the oldest.
    pub(crate) age: u64,
}

/// At most `K` skipped keys, kept contiguous in `entries[..len]` so that lookups touch only the keys
/// actually stored (an empty store, the common case, costs nothing to search).
pub(crate) struct SkippedKeys<const K: usize> {
    entries: [Option<SkippedKey>; K],
    len: usize,
    next_age: u64,
}

impl<const K: usize> SkippedKeys<K> {
    pub(crate) fn new() -> Self {
        Self {
            entries: core::array::from_fn(|_| None),
            len: 0,
            next_age: 0,
        }
    }

    fn stored(&self) -> &[Option<SkippedKey>] {
        self.entries.get(..self.len).unwrap_or_default()
    }

    /// The position of the key for (`ratchet_key`, `index`), if stored. Positions stay valid until the
    /// store is next changed.
    pub(crate) fn find(&self, ratchet_key: &Curve25519PublicKey, index: u32) -> Option<usize> {
        self.stored().iter().position(|e| {
            e.as_ref()
                .is_some_and(|e| &e.ratchet_key == ratchet_key && e.key.index() == index)
        })
    }

    pub(crate) fn get(&self, pos: usize) -> Option<&SkippedKey> {
        self.stored().get(pos).and_then(Option::as_ref)
    }

    /// Removes and drops (zeroizes) the entry at `pos`; the last entry moves into its place.
    pub(crate) fn remove(&mut self, pos: usize) {
        if pos >= self.len {
            return;
        }
        let last = self.len - 1;
        self.entries.swap(pos, last);
        if let Some(slot) = self.entries.get_mut(last) {
            *slot = None;
        }
        self.len = last;
    }

    /// The stored entries, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &SkippedKey> {
        self.stored().iter().flatten()
    }

    pub(crate) const fn len(&self) -> usize {
        self.len
    }

    /// Stores a key, evicting first the oldest key of the same chain when that chain already holds
    /// `per_chain` keys, then the oldest key overall when the store is full.
    pub(crate) fn insert(
        &mut self,
        ratchet_key: Curve25519PublicKey,
        header_key: Option<SecretBytes<32>>,
        key: MessageKey,
        per_chain: usize,
    ) {
        if per_chain == 0 || K == 0 {
            return;
        }
        let same_chain = self.iter().filter(|e| e.ratchet_key == ratchet_key).count();
        if same_chain >= per_chain {
            self.evict_oldest(|e| e.ratchet_key == ratchet_key);
        }
        if self.len == K {
            self.evict_oldest(|_| true);
        }
        let age = self.next_age;
        self.next_age = self.next_age.wrapping_add(1);
        self.push(SkippedKey {
            ratchet_key,
            header_key,
            key,
            age,
        });
    }

    fn push(&mut self, entry: SkippedKey) -> bool {
        match self.entries.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(entry);
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Evicts the oldest entry matching `pred`, if any.
    fn evict_oldest(&mut self, pred: impl Fn(&SkippedKey) -> bool) {
        let oldest = self
            .stored()
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().filter(|e| pred(e)).map(|e| (i, e.age)))
            .min_by_key(|&(_, age)| age)
            .map(|(i, _)| i);
        if let Some(i) = oldest {
            self.remove(i);
        }
    }

    /// Removes (and zeroizes) every key of the chain named by `ratchet_key`.
    pub(crate) fn remove_chain(&mut self, ratchet_key: &Curve25519PublicKey) {
        let mut i = 0;
        while i < self.len {
            if self.get(i).is_some_and(|e| &e.ratchet_key == ratchet_key) {
                // The last entry moves into `i`: look at `i` again.
                self.remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// Restores an entry as it was (for unpickling), keeping its age order. `false` when full.
    pub(crate) fn restore(&mut self, entry: SkippedKey) -> bool {
        self.next_age = self.next_age.max(entry.age.wrapping_add(1));
        self.push(entry)
    }
}

impl<const K: usize> fmt::Debug for SkippedKeys<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SkippedKeys")
            .field("len", &self.len())
            .field("capacity", &K)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> MessageKey {
        MessageKey::new(SecretBytes::from_bytes([i as u8; 32]), i)
    }

    #[test]
    fn evicts_oldest_per_chain_then_overall() {
        let a = Curve25519PublicKey::from_bytes([1; 32]);
        let b = Curve25519PublicKey::from_bytes([2; 32]);
        let mut s = SkippedKeys::<4>::new();
        for i in 0..3 {
            s.insert(a, None, key(i), 2);
        }
        // Chain `a` may hold only two: index 0 was evicted.
        assert_eq!(s.len(), 2);
        assert!(s.find(&a, 0).is_none());
        assert!(s.find(&a, 1).is_some() && s.find(&a, 2).is_some());
        for i in 10..13 {
            s.insert(b, None, key(i), 10);
        }
        // The store holds four: the oldest overall (a/1) went.
        assert_eq!(s.len(), 4);
        assert!(s.find(&a, 1).is_none());
        assert!(s.find(&a, 2).is_some());
        let pos = s.find(&b, 11).unwrap();
        s.remove(pos);
        assert!(s.find(&b, 11).is_none());
        assert_eq!(s.len(), 3);
    }
}

//! The Megolm hash ratchet, shared by both group profiles, and a replay guard for group messages.
//!
//! A group sender keeps one [`Ratchet`]: a 32-bit counter `i` and 128 secret bytes `R0‖R1‖R2‖R3`. Each
//! message is encrypted with keys derived from the ratchet at its index, then the ratchet moves one
//! step forward. Part `j` is re-derived as `H_j(x) = HMAC-SHA-256(key = x, data = [j])`; a step
//! rehashes `R3`, and every 2⁸, 2¹⁶ and 2²⁴ steps the slower parts re-seed the faster ones, so a
//! receiver can jump from any index to any later one with at most 4 · 255 part steps (plus a few
//! re-seeds, [`Ratchet::advance_to`]) while nobody can go back. The matrix profile ([`crate::megolm`]) and the
//! native sender keys ([`crate::session::group`]) both build on it.
//!
//! Group messages carry no replay protection of their own: a receiver who keeps old ratchet states can
//! decrypt the same message twice, and Matrix leaves detecting a replayed index to the client.
//! [`ReplayGuard`] is that tool: it remembers which message identifier was seen at each (session,
//! index) and says whether a new arrival is new, the same message again, or a different message reusing
//! an index.
//!
//! ```
//! use safemeet::group::{ReplayGuard, ReplayVerdict};
//!
//! let mut guard: ReplayGuard = ReplayGuard::new();
//! let session = [7u8; 32];
//! assert_eq!(guard.check(&session, 0, &[1; 32]), ReplayVerdict::New);
//! assert_eq!(guard.check(&session, 0, &[1; 32]), ReplayVerdict::Duplicate);
//! assert_eq!(guard.check(&session, 0, &[2; 32]), ReplayVerdict::Replay);
//! ```

use core::fmt;

use rand_core::CryptoRng;
use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::limits::REPLAY_GUARD_CAPACITY;
use crate::primitives::hmac::HmacSha256;

/// The length of the ratchet's secret state, in bytes.
pub const RATCHET_LEN: usize = 128;
/// The length of one ratchet part, in bytes.
const PART_LEN: usize = 32;
/// The number of ratchet parts.
const PARTS: usize = 4;

/// The Megolm ratchet: a message index and the 128 secret bytes for that index.
///
/// Zeroized on drop and advanced in place; not `Clone` (a copy is made only where a protocol needs
/// one); compared in constant time; never printed.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Ratchet {
    bytes: [u8; RATCHET_LEN],
    index: u32,
}

impl Ratchet {
    /// A fresh ratchet at index 0 with 128 random bytes.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; RATCHET_LEN];
        rng.fill_bytes(&mut bytes);
        Self { bytes, index: 0 }
    }

    /// A ratchet from its explicit state. The caller's copy of `bytes` is the caller's to zeroize.
    #[cfg(feature = "hazmat")]
    pub const fn from_bytes(bytes: &[u8; RATCHET_LEN], index: u32) -> Self {
        Self::from_parts(bytes, index)
    }

    pub(crate) const fn from_parts(bytes: &[u8; RATCHET_LEN], index: u32) -> Self {
        Self {
            bytes: *bytes,
            index,
        }
    }

    /// The ratchet's secret bytes (for known-answer tests).
    #[cfg(feature = "hazmat")]
    pub const fn as_bytes(&self) -> &[u8; RATCHET_LEN] {
        &self.bytes
    }

    pub(crate) const fn secret_bytes(&self) -> &[u8; RATCHET_LEN] {
        &self.bytes
    }

    /// The message index this state belongs to.
    pub const fn index(&self) -> u32 {
        self.index
    }

    /// A copy, for the places a protocol needs two states of one ratchet.
    pub(crate) const fn duplicate(&self) -> Self {
        Self::from_parts(&self.bytes, self.index)
    }

    /// Part `j` (0..4).
    fn part(&self, j: usize) -> [u8; PART_LEN] {
        let mut out = [0u8; PART_LEN];
        if let Some(src) = self.bytes.get(j * PART_LEN..(j + 1) * PART_LEN) {
            out.copy_from_slice(src);
        }
        out
    }

    fn set_part(&mut self, j: usize, value: &[u8; PART_LEN]) {
        if let Some(dst) = self.bytes.get_mut(j * PART_LEN..(j + 1) * PART_LEN) {
            dst.copy_from_slice(value);
        }
    }

    /// `R_k ← H_k(R_from)` for every `k` in `to` (in that order), keying HMAC with `R_from` once. The
    /// caller lists `from` last when it is among the targets, so every hash keys off the old value.
    fn rehash(&mut self, from: usize, to: impl Iterator<Item = usize>) {
        let mut part = self.part(from);
        let key = PartKey::new(&part);
        part.zeroize();
        for k in to {
            // `k` is below 4, so the seed is a single byte 0..=3.
            let mut out = key.hash(k as u8);
            self.set_part(k, &out);
            out.zeroize();
        }
    }

    /// Moves one step forward (the index wraps from `u32::MAX` to 0, as in libolm and vodozemac).
    pub fn advance(&mut self) {
        self.index = self.index.wrapping_add(1);
        // The slowest part to re-seed from: 0 every 2^24 steps, 1 every 2^16, 2 every 2^8, else 3.
        let h = if self.index.trailing_zeros() >= 24 {
            0
        } else if self.index.trailing_zeros() >= 16 {
            1
        } else if self.index.trailing_zeros() >= 8 {
            2
        } else {
            3
        };
        self.rehash(h, (h..PARTS).rev());
    }

    /// Moves forward to `target` however far it is, with at most 255 steps of each part (the "1020
    /// hash operations" of the Megolm specification) plus the re-seeds between parts: 1026
    /// HMAC-SHA-256 computations at worst. A `target` below the current index
    /// wraps around through `u32::MAX` (exactly as libolm and vodozemac do); `target` equal to the
    /// index changes nothing.
    pub fn advance_to(&mut self, target: u32) {
        for j in 0..PARTS {
            let shift = (PARTS - 1 - j) * 8;
            let mask = u32::MAX.checked_shl(shift as u32).unwrap_or(0);
            let mut steps = ((target >> shift).wrapping_sub(self.index >> shift)) & 0xff;
            if steps == 0 {
                if target < self.index {
                    steps = 0x100;
                } else {
                    continue;
                }
            }
            // Rehash part j in place `steps - 1` times (on a local copy), then re-seed parts 3..=j
            // from it.
            if steps > 1 {
                let mut part = self.part(j);
                for _ in 1..steps {
                    // The assignment overwrites the previous value in place.
                    part = PartKey::new(&part).into_hash(j as u8);
                }
                self.set_part(j, &part);
                part.zeroize();
            }
            self.rehash(j, (j..PARTS).rev());
            self.index = target & mask;
        }
    }
}

/// HMAC-SHA-256 keyed with one 32-byte ratchet part. Re-seeding several parts from one part clones the
/// keyed state instead of keying again, so each `H_k(part)` after the first costs two compressions.
/// The `hmac` crate's key schedule zeroizes on drop.
struct PartKey(HmacSha256);

impl PartKey {
    #[inline]
    fn new(part: &[u8; PART_LEN]) -> Self {
        Self(HmacSha256::new(part))
    }

    /// `HMAC-SHA-256(key = part, data = [seed])`.
    fn hash(&self, seed: u8) -> [u8; 32] {
        Self::finish(self.0.clone(), seed)
    }

    /// [`PartKey::hash`] for a key used once: no copy of the keyed state.
    #[inline]
    fn into_hash(self, seed: u8) -> [u8; 32] {
        Self::finish(self.0, seed)
    }

    #[inline]
    fn finish(mut mac: HmacSha256, seed: u8) -> [u8; 32] {
        mac.update(&[seed]);
        mac.finalize()
    }
}

impl ConstantTimeEq for Ratchet {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.index.ct_eq(&other.index) & self.bytes.ct_eq(&other.bytes)
    }
}

impl PartialEq for Ratchet {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Ratchet {}

impl fmt::Debug for Ratchet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ratchet")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The receiving side's ratchet states, shared by both profiles' inbound group sessions: the first
/// known state (which moves only by [`Receiver::advance_to`]) and the latest one used, so that reading
/// in order costs one hash per message and any other index at most one [`Ratchet::advance_to`].
pub(crate) struct Receiver {
    pub(crate) initial: Ratchet,
    pub(crate) latest: Ratchet,
}

impl Receiver {
    pub(crate) const fn new(ratchet: &Ratchet) -> Self {
        Self {
            initial: ratchet.duplicate(),
            latest: ratchet.duplicate(),
        }
    }

    pub(crate) const fn first_known_index(&self) -> u32 {
        self.initial.index()
    }

    /// The ratchet at `index`, derived from the closest state at or below it, without changing
    /// anything. `None` below the first known index.
    pub(crate) fn ratchet_at(&self, index: u32) -> Option<Ratchet> {
        let base = if self.latest.index() <= index {
            &self.latest
        } else if self.initial.index() <= index {
            &self.initial
        } else {
            return None;
        };
        let mut r = base.duplicate();
        if r.index() != index {
            r.advance_to(index);
        }
        Some(r)
    }

    /// Keeps `ratchet` (a state that just decrypted a message) as the latest if it is further on.
    pub(crate) fn commit(&mut self, ratchet: Ratchet) {
        if ratchet.index() > self.latest.index() {
            self.latest = ratchet;
        }
    }

    /// Forgets every state below `index`; whether anything changed.
    pub(crate) fn advance_to(&mut self, index: u32) -> bool {
        if index <= self.first_known_index() {
            return false;
        }
        self.initial.advance_to(index);
        if self.latest.index() < index {
            self.latest = self.initial.duplicate();
        }
        true
    }

    /// Whether the copy starting later is the other advanced to its index (constant-time compare).
    pub(crate) fn connected(&self, other: &Self) -> bool {
        let (low, high) = if self.first_known_index() <= other.first_known_index() {
            (self, other)
        } else {
            (other, self)
        };
        low.ratchet_at(high.first_known_index())
            .is_some_and(|r| bool::from(r.ct_eq(&high.initial)))
    }
}

/// What a [`ReplayGuard`] concluded about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplayVerdict {
    /// The first message seen at this (session, index); now remembered.
    New,
    /// The same message as before at this (session, index): a harmless redelivery (the same event
    /// fetched twice), not an attack.
    Duplicate,
    /// A *different* message at an index already seen in this session: a replay of old ciphertext
    /// under a new identity (for example a new event id). Show it as an error, not as a message.
    Replay,
}

/// One remembered message.
#[derive(Clone, Copy)]
struct Seen {
    session: [u8; 32],
    index: u32,
    id: [u8; 32],
}

/// A bounded memory of which message was seen at each (session id, message index), for group
/// sessions whose messages can be decrypted more than once.
///
/// The message identifier is the application's: for Matrix, for example, SHA-256 over the event id and
/// the origin timestamp, so that the same event fetched twice is a [`ReplayVerdict::Duplicate`] while
/// an old ciphertext pasted into a new event is a [`ReplayVerdict::Replay`]. The guard keeps the `N`
/// most recently recorded messages (default [`REPLAY_GUARD_CAPACITY`]) and forgets the oldest first;
/// a replay of a forgotten index looks new, so persist a larger log where that matters. No heap, no
/// `std`; a lookup is a linear scan.
pub struct ReplayGuard<const N: usize = REPLAY_GUARD_CAPACITY> {
    entries: [Option<Seen>; N],
    /// The slot the next new entry goes to (the oldest once full).
    next: usize,
}

impl<const N: usize> ReplayGuard<N> {
    /// An empty guard.
    pub const fn new() -> Self {
        Self {
            entries: [None; N],
            next: 0,
        }
    }

    /// Checks the message `id` decrypted at `index` of `session`, and remembers it if it is new.
    pub fn check(&mut self, session: &[u8; 32], index: u32, id: &[u8; 32]) -> ReplayVerdict {
        if let Some(seen) = self
            .entries
            .iter()
            .flatten()
            .find(|e| e.index == index && e.session == *session)
        {
            return if seen.id == *id {
                ReplayVerdict::Duplicate
            } else {
                ReplayVerdict::Replay
            };
        }
        if let Some(slot) = self.entries.get_mut(self.next) {
            *slot = Some(Seen {
                session: *session,
                index,
                id: *id,
            });
            self.next = (self.next + 1) % N;
        }
        ReplayVerdict::New
    }

    /// How many messages are remembered.
    pub fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most messages this guard remembers.
    pub const fn capacity(&self) -> usize {
        N
    }
}

impl<const N: usize> Default for ReplayGuard<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for ReplayGuard<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayGuard")
            .field("len", &self.len())
            .field("capacity", &N)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    /// Counts HMAC computations by replaying the algorithm's step counts.
    fn advance_to_cost(from: u32, target: u32) -> u32 {
        let mut index = from;
        let mut cost = 0;
        for j in 0..4u32 {
            let shift = (3 - j) * 8;
            let mut steps = ((target >> shift).wrapping_sub(index >> shift)) & 0xff;
            if steps == 0 {
                if target < index {
                    steps = 0x100;
                } else {
                    continue;
                }
            }
            cost += steps - 1 + (4 - j);
            index = target & u32::MAX.checked_shl(shift).unwrap_or(0);
        }
        assert_eq!(index, target);
        cost
    }

    #[test]
    fn part_hash_is_hmac_sha256() {
        for fill in [0u8, 0x5a, 0xff] {
            let part: [u8; 32] = core::array::from_fn(|i| fill ^ (i as u8));
            let key = PartKey::new(&part);
            for seed in 0..4u8 {
                let expected = crate::primitives::hmac::hmac_sha256(&part, &[seed]);
                assert_eq!(key.hash(seed), expected);
            }
        }
    }

    #[test]
    fn advance_to_matches_single_steps() {
        let mut a = Ratchet::from_parts(&[9; RATCHET_LEN], 250);
        let mut b = a.duplicate();
        for _ in 0..600 {
            a.advance();
        }
        b.advance_to(850);
        assert_eq!(a.index(), 850);
        assert!(a == b);
    }

    #[test]
    fn advance_to_is_bounded() {
        let worst = [
            (0, u32::MAX),
            (1, 0),
            (u32::MAX, u32::MAX - 1),
            (0x00ff_ffff, 0x0100_0000),
        ];
        // 4 · 255 steps of the parts themselves plus the re-seeds (4 + 3 + 2 + 1 = 10).
        for (from, to) in worst {
            assert!(advance_to_cost(from, to) <= 1026, "{from:#x} -> {to:#x}");
        }
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..100_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let (from, to) = ((x >> 32) as u32, x as u32);
            assert!(advance_to_cost(from, to) <= 1026, "{from:#x} -> {to:#x}");
        }
        assert_eq!(advance_to_cost(0, u32::MAX), 1026);
        assert_eq!(advance_to_cost(0x00ff_ffff, 0x00ff_fffe), 1026);
        assert_eq!(advance_to_cost(1, 0), 259);
    }

    #[test]
    fn advance_wraps_and_matches_advance_to() {
        let mut a = Ratchet::from_parts(&[3; RATCHET_LEN], u32::MAX);
        let mut b = a.duplicate();
        a.advance();
        b.advance_to(0);
        assert_eq!(a.index(), 0);
        assert!(a == b);
    }

    #[test]
    fn equality_needs_index_and_bytes() {
        let a = Ratchet::from_parts(&[1; RATCHET_LEN], 5);
        assert!(a != Ratchet::from_parts(&[1; RATCHET_LEN], 6));
        assert!(a != Ratchet::from_parts(&[2; RATCHET_LEN], 5));
        assert!(format!("{a:?}").contains("index: 5"));
        assert!(!format!("{a:?}").contains("bytes"));
    }

    #[test]
    fn replay_guard_verdicts_and_eviction() {
        let mut g = ReplayGuard::<2>::new();
        let s = [1; 32];
        assert_eq!(g.check(&s, 1, &[1; 32]), ReplayVerdict::New);
        assert_eq!(g.check(&[2; 32], 1, &[9; 32]), ReplayVerdict::New);
        assert_eq!(g.check(&s, 1, &[1; 32]), ReplayVerdict::Duplicate);
        assert_eq!(g.check(&s, 1, &[3; 32]), ReplayVerdict::Replay);
        assert_eq!(g.len(), 2);
        // A third entry evicts the oldest, (s, 1).
        assert_eq!(g.check(&s, 2, &[2; 32]), ReplayVerdict::New);
        assert_eq!(g.check(&s, 1, &[3; 32]), ReplayVerdict::New);
        assert_eq!(g.len(), 2);
    }
}

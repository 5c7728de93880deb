//! The operating system's random number generator, for applications that have one.
//!
//! The core never reaches for randomness on its own: every randomized call takes an
//! `rng: &mut impl CryptoRng`. With the `getrandom` feature this module offers [`OsRng`], a
//! [`CryptoRng`](rand_core::CryptoRng) backed by the operating system.
//!
//! ```
//! let mut rng = safemeet::primitives::rng::OsRng::new();
//! let key = safemeet::primitives::curve25519::Curve25519SecretKey::generate(&mut rng);
//! # let _ = key;
//! ```

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng, UnwrapErr};

/// The operating system's RNG (through `getrandom`). A failure of the operating system's source
/// aborts through `getrandom`'s own panic: there is no safe way to continue without randomness.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRng(UnwrapErr<getrandom::SysRng>);

impl OsRng {
    /// A handle to the operating system's RNG.
    pub const fn new() -> Self {
        Self(UnwrapErr(getrandom::SysRng))
    }
}

impl TryRng for OsRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.0.try_next_u32()
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0.try_next_u64()
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.try_fill_bytes(dst)
    }
}

impl TryCryptoRng for OsRng {}

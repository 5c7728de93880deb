//! The native pairwise profile: X3DH exactly as Signal specifies it, then a Double Ratchet whose
//! messages are sealed with ChaCha20-Poly1305, optionally with encrypted headers.
//!
//! An [`Account`] holds a device's identity keys and prekeys and creates [`Session`]s: outbound from a
//! [`PreKeyBundle`], inbound from the first (pre-key) message. Messages use a compact versioned wire
//! format ([`wire`]). Every operation has a core form that writes into a caller's buffer (`*_into`, with
//! a `*_len` to size it) and, with the `alloc` feature, a form that returns a `Vec`.
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::session::{Account, SessionConfig};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([2; 32]);
//! let alice = Account::new(&mut rng);
//! let mut bob = Account::new(&mut rng);
//! bob.generate_one_time_prekeys(&mut rng, 10);
//! let (id, _) = bob.unpublished_one_time_prekeys().next().unwrap();
//! let bundle = bob.prekey_bundle(Some(id))?;
//!
//! // Alice starts a session from Bob's bundle and sends the first (pre-key) message.
//! let mut to_bob = alice.create_outbound_session(&mut rng, &bundle, SessionConfig::plain())?;
//! let mut message = [0u8; 512];
//! let n = to_bob.encrypt_into(&mut rng, b"Hi Bob!", &mut message)?;
//!
//! // Bob creates his side from it, which consumes the one-time prekey.
//! let mut plaintext = [0u8; 64];
//! let (mut to_alice, m) = bob.create_inbound_session_into(&message[..n], &mut plaintext)?;
//! assert_eq!(&plaintext[..m], b"Hi Bob!");
//! assert_eq!(to_alice.session_id(), to_bob.session_id());
//!
//! // Bob replies; once Alice reads it, she stops sending pre-key messages.
//! let n = to_alice.encrypt_into(&mut rng, b"Hi Alice!", &mut message)?;
//! let m = to_bob.decrypt_into(&message[..n], &mut plaintext)?;
//! assert_eq!(&plaintext[..m], b"Hi Alice!");
//! assert!(!to_bob.sends_pre_key_messages());
//! # Ok::<(), safemeet::Error>(())
//! ```

mod account;
mod bundle;
#[doc(hidden)]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;
pub mod group;
mod pairwise;
pub mod wire;

pub use account::Account;
pub(crate) use account::{OneTimePrekey, SignedPrekey};
pub use bundle::{IdentityKeys, PreKeyBundle};
pub use pairwise::{Session, SessionConfig};

//! The classic Signal profile: libsignal's v3 wire formats (`0x33` messages), X3DH with XEdDSA-signed
//! prekeys, and sender keys, on the crate's shared ratchet core.
//!
//! Classic v3 is what npm `libsignal` (the Baileys / WhatsApp-lineage peer), libsignal-protocol-java and
//! libsignal-protocol-c speak. Current Signal (libsignal-client) requires PQXDH and its post-quantum
//! ratchet for pairwise sessions, so it does not accept classic sessions; its sender-key messages and its
//! signatures are still the same format (`specs/signal.md` §5).
//!
//! Public keys travel as 33 bytes: the type byte [`keys::DJB_TYPE`] then the X25519 `u` coordinate
//! ([`keys`]). Signatures are XEdDSA ([`crate::primitives::xeddsa`]).

pub mod account;
pub mod group;
pub mod keys;
#[doc(hidden)]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod pairwise_fuzz_checks;
pub mod session;
pub mod wire;

pub use account::{Account, PreKeyBundle};
pub use session::{MessageType, Session};

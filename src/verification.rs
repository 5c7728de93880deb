//! Interactive verification: short authentication strings ([`sas`], `m.sas.v1`), the verification
//! flow over `m.key.verification.*` events ([`flow`], `alloc`), and QR-code payloads ([`qr`]).
//!
//! When Alice and Bob compare the same seven emoji, they know that the ephemeral keys their devices
//! exchanged are each other's, and therefore that the device keys MACed under the resulting secret are
//! genuine: no man in the middle. [`sas`] is the cryptography, byte-compatible with vodozemac and every
//! Matrix client, and works without an allocator. [`flow`] drives one verification between two devices
//! over any transport: it reads and writes event contents as JSON, never does I/O, and takes the
//! current time as a parameter. [`qr`] encodes and checks the payload of the QR codes Matrix clients
//! show to verify without comparing emoji.

pub mod emoji;
#[cfg(feature = "alloc")]
pub mod flow;
#[doc(hidden)]
#[cfg(feature = "alloc")]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;
pub mod qr;
pub mod sas;

pub use crate::error::{QrError, VerificationError};
pub use emoji::Emoji;
pub use sas::{EstablishedSas, Sas, SasBytes, VerifiedKeys};

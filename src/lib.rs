#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::std_instead_of_alloc
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod backup;
pub mod codec;
pub mod error;
pub mod group;
#[cfg(feature = "alloc")]
pub mod identity;
pub mod limits;
pub mod megolm;
pub mod olm;
pub mod pickle;
pub mod primitives;
pub mod ratchet;
pub mod session;
pub mod signal;
pub mod verification;
pub mod x3dh;

pub use error::IdentityError;
pub use error::{
    BackupError, CodecError, CryptoError, Error, GroupError, JsonError, OlmError, PickleError,
    QrError, RatchetError, SessionError, SignalError, VerificationError, X3dhError,
};

//! Cross-signed identities (`alloc`): the master / self-signing / user-signing key tree, device keys,
//! trust evaluation, identity pinning with reset alerts, and the key-storage health check.
//!
//! A user's identity is a master key that signs a self-signing key (which signs the user's devices)
//! and a user-signing key (which signs other users' master keys). Everything arrives as Matrix JSON
//! from the server, which is not trusted: keys decode as [`Unverified`] values and become [`Verified`]
//! only through the `verify` that checks them (checks K1 to K6 in [`keys`]); trust decisions in
//! [`IdentityStore`] accept verified values only (rules T0 to T4), and the first master key seen for
//! each user is pinned, so a server that swaps it is seen as an identity reset, never as a verified
//! identity (rules P1 to P5 in [`store`]).
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::codec::json;
//! use safemeet::identity::{CrossSigningSecrets, DeviceTrust, IdentityStatus, IdentityStore};
//! use safemeet::olm::Account;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([8; 32]);
//! let phone = Account::<4>::new(&mut rng);
//! let mut alice = IdentityStore::new("@alice:example.org", "PHONE")?;
//!
//! // Alice creates her identity on her phone; the phone signs itself with the new keys.
//! let (secrets, requests) = alice.reset_identity(&mut rng, &phone)?;
//! assert!(alice.is_own_identity_trusted());
//! assert_eq!(alice.device_trust("@alice:example.org", "PHONE"), DeviceTrust::CrossSigned);
//! assert!(requests.device_signing_upload.get("master_key").is_some());
//!
//! // Bob's device sees Alice's keys in a /keys/query response, and pins her master key.
//! let identity = secrets.public_identity("@alice:example.org")?;
//! let mut response = json::Object::new();
//! for (field, key) in [("master_keys", "master_key"), ("self_signing_keys", "self_signing_key")] {
//!     let mut by_user = json::Object::new();
//!     by_user.insert("@alice:example.org".into(), identity.upload_request().get(key).cloned().ok_or("no key")?);
//!     response.insert(field.into(), by_user.into());
//! }
//! let mut bob = IdentityStore::new("@bob:example.org", "BOBPHONE")?;
//! bob.receive_keys_query(&json::Value::Object(response))?;
//! assert_eq!(bob.user_status("@alice:example.org"), IdentityStatus::Pinned);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[doc(hidden)]
#[allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]
pub mod fuzz_checks;
pub mod health;
pub mod keys;
pub mod secrets;
pub mod signed;
pub mod store;

pub use crate::error::IdentityError;
pub use health::{KeyHealth, KeyStorageHealth, check_key_storage};
pub use keys::{
    CrossSigningKey, DeviceKeys, KeyUsage, MasterKey, SelfSigningKey, Unverified, UserSigningKey,
    Verified,
};
pub use secrets::{CrossSigningSecrets, UserIdentity};
pub use store::{DeviceTrust, IdentityEvent, IdentityStatus, IdentityStore, ResetRequests};

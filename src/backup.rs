//! Key storage and recovery: what lets a person who signs in on a new device, or who lost every
//! device, read their history and keep their identity, without the server ever seeing a key.
//!
//! The submodules follow the Matrix specification's pieces:
//!
//! * `recovery_key`: the 32-byte key a person writes down, in its base58 "recovery key" form.
//! * `passphrase`: `m.pbkdf2`, a security phrase standing in for the recovery key.
//! * `secret_storage`: `m.secret_storage.v1.aes-hmac-sha2`, named secrets (the cross-signing private
//!   keys, the backup key) encrypted on the server under the recovery key.
//! * `key_backup`: `m.megolm_backup.v1.curve25519-aes-sha2`, room keys encrypted to a backup public key.
//! * `export`: the key-export file, a passphrase-protected list of room keys.
//! * `policy`: the three key-storage modes, and what each lets leave the device.
//!
//! The cryptography works without an allocator (caller buffers); the JSON shapes need `alloc`.

pub mod export;
pub mod key_backup;
pub mod passphrase;
#[cfg(feature = "alloc")]
pub mod policy;
pub mod recovery_key;
#[cfg(feature = "alloc")]
pub mod room_key;
pub mod secret_storage;

pub use crate::error::BackupError;
#[cfg(feature = "alloc")]
pub use passphrase::PassphraseInfo;
pub use recovery_key::RecoveryKey;
#[cfg(feature = "alloc")]
pub use secret_storage::SecretStorageKey;

//! Key-storage health: are the private keys this device holds the halves of the published keys?
//!
//! This is the check behind "key storage is out of sync": for each of the master, self-signing and
//! user-signing keys and the backup key, the private key held is compared with the public key
//! published (rules H1 to H3).
//!
//! * **H1** A key held whose public half equals the published key is [`KeyHealth::Present`].
//! * **H2** A key not held is [`KeyHealth::Missing`], whatever is published.
//! * **H3** A key held whose public half differs from the published key, or for which nothing is
//!   published, is [`KeyHealth::NotMatching`].

use super::secrets::{CrossSigningSecrets, UserIdentity};
use crate::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use crate::primitives::ed25519::Ed25519PublicKey;

/// The state of one private key.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyHealth {
    /// Held, and matching its published public half (H1).
    Present,
    /// Not held (H2).
    Missing,
    /// Held, but not the half of the published key (H3).
    NotMatching,
}

/// The report for the four keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyStorageHealth {
    /// The master key.
    pub master: KeyHealth,
    /// The self-signing key.
    pub self_signing: KeyHealth,
    /// The user-signing key.
    pub user_signing: KeyHealth,
    /// The `m.megolm_backup.v1.curve25519-aes-sha2` backup key.
    pub backup: KeyHealth,
}

impl KeyStorageHealth {
    /// Whether every key is present and matching: key storage is in sync.
    #[must_use]
    pub fn is_in_sync(&self) -> bool {
        [
            self.master,
            self.self_signing,
            self.user_signing,
            self.backup,
        ]
        .iter()
        .all(|h| *h == KeyHealth::Present)
    }
}

fn compare<K: PartialEq>(held: Option<K>, published: Option<K>) -> KeyHealth {
    match (held, published) {
        (None, _) => KeyHealth::Missing,
        (Some(h), Some(p)) if h == p => KeyHealth::Present,
        (Some(_), _) => KeyHealth::NotMatching,
    }
}

/// Compares the private keys held (`secrets`, `backup_secret`) with the published identity and backup
/// public key (the `public_key` of the current backup version's `auth_data`).
#[must_use]
pub fn check_key_storage(
    secrets: &CrossSigningSecrets,
    published: Option<&UserIdentity>,
    backup_secret: Option<&Curve25519SecretKey>,
    backup_public: Option<&Curve25519PublicKey>,
) -> KeyStorageHealth {
    let master: Option<Ed25519PublicKey> = published.map(|i| i.master_key().public_key());
    let ssk = published.map(|i| i.self_signing_key().public_key());
    let usk = published.and_then(|i| i.user_signing_key().map(|k| k.public_key()));
    KeyStorageHealth {
        master: compare(secrets.master_public(), master),
        self_signing: compare(secrets.self_signing_public(), ssk),
        user_signing: compare(secrets.user_signing_public(), usk),
        backup: compare(
            backup_secret.map(|s| *s.public_key().as_bytes()),
            backup_public.map(|p| *p.as_bytes()),
        ),
    }
}

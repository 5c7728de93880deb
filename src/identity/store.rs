//! What one device knows about identities: ours and everyone else's, with the pins, local
//! verifications and the trust rules built on them.
//!
//! Trust rules (matrix.md §4.5, matrix-rust-sdk's semantics), numbered for the code and the tests:
//!
//! * **T0** Our own identity is trusted when its current master key is one we trust locally: learned
//!   from a SAS or QR verification with another of our devices, or matched by the master private key
//!   (created here, or restored from secret storage).
//! * **T1** One of our devices is trusted when it was verified locally, or when T0 holds and our
//!   self-signing key (signed by our master key) signed it.
//! * **T2** Another user is verified when T0 holds and our user-signing key (signed by our master key)
//!   signed their current master key.
//! * **T3** Another user's device is trusted when it was verified locally, or when T2 holds for its
//!   owner and the owner's self-signing key (signed by the owner's master key) signed it.
//! * **T4** A device must carry its own valid self-signature and may not be named like one of its
//!   user's cross-signing keys (checks K4, K5); otherwise it is never stored, so never counted.
//!
//! Pinning rules:
//!
//! * **P1** The first master key seen for a user is pinned automatically ([`IdentityEvent::Pinned`]).
//! * **P2** A different master key later is an identity reset ([`IdentityEvent::Reset`]). The new
//!   identity replaces the old one, but the pin stays on the old key: the user's status is
//!   [`IdentityStatus::PinViolation`] until the application acknowledges it with
//!   [`IdentityStore::pin_current_identity`]. Sending is not blocked.
//! * **P3** If the user had been verified (T2 held at some point), the reset is a
//!   [`IdentityStatus::VerificationViolation`]: [`IdentityStore::check_send`] refuses until the user is
//!   verified again ([`IdentityStore::verify_user`]) or the verification is withdrawn
//!   ([`IdentityStore::withdraw_verification`]). Pinning alone does not lift it.
//! * **P4** Whenever T2 holds, the current master key is pinned and the user is remembered as verified.
//! * **P5** Pins, the verified flags, local device verifications and our trusted master key persist in
//!   the store's pickle; identities and device lists do not (they are the server's to tell again).
//!
//! A rejected identity or device (any failed check) changes nothing about that user; the rest of the
//! response is still applied, and the rejection is reported as an [`IdentityEvent::Rejected`].

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use super::keys::{DeviceKeys, Verified};
use super::secrets::{CrossSigningSecrets, UserIdentity};
use crate::codec::json::{Object, Value};
use crate::error::IdentityError;
use crate::limits::{MAX_DEVICES_PER_USER, MAX_LOCALLY_VERIFIED_DEVICES, MAX_TRACKED_USERS};
use crate::primitives::ed25519::Ed25519PublicKey;
use crate::verification::VerifiedKeys;

/// Something the application should know after a `/keys/query` response.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityEvent {
    /// The first identity seen for the user; its master key is now pinned (rule P1).
    Pinned {
        /// The user.
        user_id: String,
    },
    /// The user's master key changed: "Bob's identity was reset" (rule P2). When
    /// `previously_verified`, sending to them is blocked until they are verified again or the
    /// verification is withdrawn (rule P3).
    Reset {
        /// The user.
        user_id: String,
        /// Whether we had verified the user's previous identity.
        previously_verified: bool,
    },
    /// Keys published for the user failed a check and were ignored.
    Rejected {
        /// The user.
        user_id: String,
        /// Which check failed.
        error: IdentityError,
    },
}

/// A user's identity status, for display and for the send decision.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityStatus {
    /// No cross-signing identity is known for the user.
    Unknown,
    /// The identity is the pinned one, not verified.
    Pinned,
    /// The identity is verified (rule T2; for ourselves, T0).
    Verified,
    /// The identity changed since it was pinned, and was never verified: show a warning until the
    /// application pins the new identity (rule P2).
    PinViolation,
    /// A verified user's identity changed: sending is blocked until they are verified again or the
    /// verification is withdrawn (rule P3).
    VerificationViolation,
}

/// How far one device is trusted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceTrust {
    /// No such device (or it failed a check and was never stored, rule T4).
    Unknown,
    /// Known, not verified.
    Unverified,
    /// Verified locally (SAS or QR with this device).
    LocallyVerified,
    /// Cross-signed by its owner, whom we verified (T1, T3).
    CrossSigned,
}

impl DeviceTrust {
    /// Whether the device is verified, either way.
    #[must_use]
    pub const fn is_verified(self) -> bool {
        matches!(self, Self::LocallyVerified | Self::CrossSigned)
    }
}

#[derive(Default, Clone)]
pub(crate) struct UserEntry {
    pub(crate) identity: Option<UserIdentity>,
    pub(crate) devices: BTreeMap<String, Verified<DeviceKeys>>,
    pub(crate) pinned: Option<Ed25519PublicKey>,
    pub(crate) was_verified: bool,
    pub(crate) local: BTreeMap<String, Ed25519PublicKey>,
}

/// The requests a reset of our identity produces, for the application to send.
#[derive(Debug)]
pub struct ResetRequests {
    /// The `/keys/device_signing/upload` body (master, self-signing and user-signing keys).
    pub device_signing_upload: Value,
    /// The `/keys/signatures/upload` body: the new self-signing key's signature on this device.
    pub signatures_upload: Value,
}

/// One device's identity state. See the module documentation for the rules.
pub struct IdentityStore {
    pub(crate) own_user: String,
    pub(crate) own_device: String,
    pub(crate) own_trusted_master: Option<Ed25519PublicKey>,
    pub(crate) users: BTreeMap<String, UserEntry>,
}

impl fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityStore")
            .field("own_user", &self.own_user)
            .field("own_device", &self.own_device)
            .field("users", &self.users.len())
            .finish_non_exhaustive()
    }
}

fn object_field<'a>(v: &'a Value, name: &str) -> Result<Option<&'a Object>, IdentityError> {
    match v.get(name) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(IdentityError::Malformed),
    }
}

impl IdentityStore {
    /// An empty store for our device `own_device` of user `own_user`.
    ///
    /// # Errors
    /// [`IdentityError::InvalidIdentifier`] for an empty or overlong id.
    pub fn new(own_user: &str, own_device: &str) -> Result<Self, IdentityError> {
        super::keys::check_id(own_user)?;
        super::keys::check_id(own_device)?;
        Ok(Self {
            own_user: own_user.into(),
            own_device: own_device.into(),
            own_trusted_master: None,
            users: BTreeMap::new(),
        })
    }

    /// Our user id.
    #[must_use]
    pub fn own_user_id(&self) -> &str {
        &self.own_user
    }

    /// Our device id.
    #[must_use]
    pub fn own_device_id(&self) -> &str {
        &self.own_device
    }

    /// Applies a `/keys/query` response (`device_keys`, `master_keys`, `self_signing_keys`,
    /// `user_signing_keys`) and returns what the application should be told. Our own user's keys
    /// are applied first, because everyone else's trust depends on them.
    ///
    /// Parse the response body with [`crate::codec::json::parse_response`]: a response for a large
    /// room is far longer than the event-sized texts [`crate::codec::json::parse`] takes.
    ///
    /// # Errors
    /// [`IdentityError::Malformed`] when the response itself is not an object of objects; problems
    /// with one user's keys are [`IdentityEvent::Rejected`] events instead.
    pub fn receive_keys_query(
        &mut self,
        response: &Value,
    ) -> Result<Vec<IdentityEvent>, IdentityError> {
        response.as_object().ok_or(IdentityError::Malformed)?;
        let masters = object_field(response, "master_keys")?;
        let ssks = object_field(response, "self_signing_keys")?;
        let usks = object_field(response, "user_signing_keys")?;
        let devices = object_field(response, "device_keys")?;
        let mut users: Vec<&str> = Vec::new();
        for map in [masters, devices].into_iter().flatten() {
            users.extend(map.keys().map(String::as_str));
        }
        users.sort_unstable_by_key(|u| (*u != self.own_user, *u));
        users.dedup();
        let mut events = Vec::new();
        // Our own keys change everyone's trust; otherwise only the users in this response can change.
        let all = users.first().is_some_and(|u| *u == self.own_user);
        let touched: Vec<String> = users.iter().map(|u| String::from(*u)).collect();
        for user in users {
            let outcome = self.receive_user(
                user,
                masters.and_then(|m| m.get(user)),
                ssks.and_then(|m| m.get(user)),
                usks.and_then(|m| m.get(user)),
                devices.and_then(|m| m.get(user)),
                &mut events,
            );
            if let Err(error) = outcome {
                events.push(IdentityEvent::Rejected {
                    user_id: user.into(),
                    error,
                });
            }
        }
        if all {
            self.refresh_verified();
        } else {
            self.refresh_users(&touched);
        }
        Ok(events)
    }

    fn receive_user(
        &mut self,
        user: &str,
        master: Option<&Value>,
        ssk: Option<&Value>,
        usk: Option<&Value>,
        devices: Option<&Value>,
        events: &mut Vec<IdentityEvent>,
    ) -> Result<(), IdentityError> {
        super::keys::check_id(user)?;
        if !self.users.contains_key(user) && self.users.len() >= MAX_TRACKED_USERS {
            return Err(IdentityError::TooLarge);
        }
        // Everything is checked into temporaries first: a failure changes nothing.
        let identity = match (master, ssk) {
            (Some(m), Some(s)) => Some(UserIdentity::from_json(user, m, s, usk)?.0),
            (Some(_), None) => return Err(IdentityError::Malformed),
            (None, _) => None,
        };
        let check_against = identity
            .as_ref()
            .or_else(|| self.users.get(user).and_then(|e| e.identity.as_ref()));
        let new_devices = match devices {
            None => None,
            Some(d) => {
                let d = d.as_object().ok_or(IdentityError::Malformed)?;
                if d.len() > MAX_DEVICES_PER_USER {
                    return Err(IdentityError::TooLarge);
                }
                let mut out = BTreeMap::new();
                for (device_id, keys) in d {
                    // T4 / K4: a device without a valid self-signature is dropped.
                    let Ok(device) =
                        DeviceKeys::from_json(keys).and_then(|k| k.verify(user, device_id))
                    else {
                        events.push(IdentityEvent::Rejected {
                            user_id: user.into(),
                            error: IdentityError::InvalidDevice,
                        });
                        continue;
                    };
                    // T4 / K5: a device named like a cross-signing key is refused.
                    if check_against.is_some_and(|i| i.device_id_conflicts(device_id)) {
                        events.push(IdentityEvent::Rejected {
                            user_id: user.into(),
                            error: IdentityError::AmbiguousKeyId,
                        });
                        continue;
                    }
                    out.insert(device_id.clone(), device);
                }
                Some(out)
            }
        };
        let own = user == self.own_user;
        let entry = self.users.entry(user.into()).or_default();
        if let Some(identity) = identity {
            let new_master = identity.master_key().public_key();
            match entry.pinned {
                // P1: first sight.
                None => {
                    entry.pinned = Some(new_master);
                    events.push(IdentityEvent::Pinned {
                        user_id: user.into(),
                    });
                }
                Some(pinned) if pinned == new_master => {}
                // P2 / P3: a reset, unless this master key is the one the identity already had.
                Some(_) => {
                    let changed = entry
                        .identity
                        .as_ref()
                        .is_none_or(|old| old.master_key().public_key() != new_master);
                    if changed {
                        let previously_verified = if own {
                            self.own_trusted_master.is_some()
                        } else {
                            entry.was_verified
                        };
                        events.push(IdentityEvent::Reset {
                            user_id: user.into(),
                            previously_verified,
                        });
                    }
                }
            }
            // K5 for devices we already hold.
            entry
                .devices
                .retain(|id, _| !identity.device_id_conflicts(id));
            entry.identity = Some(identity);
        }
        if let Some(devices) = new_devices {
            entry.devices = devices;
        }
        Ok(())
    }

    /// P4: pin and remember every user that is verified now.
    fn refresh_verified(&mut self) {
        let users: Vec<String> = self.users.keys().cloned().collect();
        self.refresh_users(&users);
    }

    /// P4 for `users`.
    fn refresh_users(&mut self, users: &[String]) {
        let verified: Vec<String> = users
            .iter()
            .filter(|u| **u != self.own_user && self.is_user_verified(u))
            .cloned()
            .collect();
        for user in verified {
            if let Some(entry) = self.users.get_mut(&user) {
                entry.was_verified = true;
                entry.pinned = entry.identity.as_ref().map(|i| i.master_key().public_key());
            }
        }
    }

    /// Our own identity as last published, if any.
    #[must_use]
    pub fn own_identity(&self) -> Option<&UserIdentity> {
        self.identity(&self.own_user)
    }

    /// A user's identity as last published, if any.
    #[must_use]
    pub fn identity(&self, user_id: &str) -> Option<&UserIdentity> {
        self.users.get(user_id).and_then(|e| e.identity.as_ref())
    }

    /// The master key pinned for a user.
    #[must_use]
    pub fn pinned_master_key(&self, user_id: &str) -> Option<Ed25519PublicKey> {
        self.users.get(user_id).and_then(|e| e.pinned)
    }

    /// A device's keys (only devices that passed rule T4 are held).
    #[must_use]
    pub fn device(&self, user_id: &str, device_id: &str) -> Option<&Verified<DeviceKeys>> {
        self.users
            .get(user_id)
            .and_then(|e| e.devices.get(device_id))
    }

    /// A user's devices.
    pub fn devices(&self, user_id: &str) -> impl Iterator<Item = &Verified<DeviceKeys>> + '_ {
        self.users
            .get(user_id)
            .into_iter()
            .flat_map(|e| e.devices.values())
    }

    /// Rule T0: our identity is trusted.
    #[must_use]
    pub fn is_own_identity_trusted(&self) -> bool {
        match (self.own_trusted_master, self.own_identity()) {
            (Some(trusted), Some(identity)) => identity.master_key().public_key() == trusted,
            _ => false,
        }
    }

    /// Rule T2 (for ourselves, T0): the user is verified.
    #[must_use]
    pub fn is_user_verified(&self, user_id: &str) -> bool {
        if user_id == self.own_user {
            return self.is_own_identity_trusted();
        }
        let (Some(own), Some(theirs)) = (self.own_identity(), self.identity(user_id)) else {
            return false;
        };
        self.is_own_identity_trusted() && own.has_signed_user(theirs.master_key())
    }

    /// The user's identity status (rules P1 to P4).
    #[must_use]
    pub fn user_status(&self, user_id: &str) -> IdentityStatus {
        let Some(entry) = self.users.get(user_id) else {
            return IdentityStatus::Unknown;
        };
        let Some(identity) = &entry.identity else {
            return IdentityStatus::Unknown;
        };
        if self.is_user_verified(user_id) {
            IdentityStatus::Verified
        } else if entry.was_verified {
            IdentityStatus::VerificationViolation
        } else if entry.pinned != Some(identity.master_key().public_key()) {
            IdentityStatus::PinViolation
        } else {
            IdentityStatus::Pinned
        }
    }

    /// Rule P3: whether we may encrypt for the user now.
    ///
    /// # Errors
    /// [`IdentityError::VerificationViolation`] while a verified user's new identity is neither
    /// verified nor has had its verification withdrawn.
    pub fn check_send(&self, user_id: &str) -> Result<(), IdentityError> {
        match self.user_status(user_id) {
            IdentityStatus::VerificationViolation => Err(IdentityError::VerificationViolation),
            _ => Ok(()),
        }
    }

    /// Rules T1 and T3: how far a device is trusted.
    #[must_use]
    pub fn device_trust(&self, user_id: &str, device_id: &str) -> DeviceTrust {
        let Some(entry) = self.users.get(user_id) else {
            return DeviceTrust::Unknown;
        };
        let Some(device) = entry.devices.get(device_id) else {
            return DeviceTrust::Unknown;
        };
        if entry.local.get(device_id) == Some(&device.ed25519_key()) {
            return DeviceTrust::LocallyVerified;
        }
        let cross_signed = self.is_user_verified(user_id)
            && entry
                .identity
                .as_ref()
                .is_some_and(|i| i.has_signed_device(device));
        if cross_signed {
            DeviceTrust::CrossSigned
        } else {
            DeviceTrust::Unverified
        }
    }

    /// Rule P2: acknowledges a user's new identity, pinning its master key. A verification violation
    /// (P3) stays until the user is verified again or the verification is withdrawn.
    ///
    /// # Errors
    /// [`IdentityError::UnknownUser`] when no identity is known for the user.
    pub fn pin_current_identity(&mut self, user_id: &str) -> Result<(), IdentityError> {
        let entry = self
            .users
            .get_mut(user_id)
            .ok_or(IdentityError::UnknownUser)?;
        let master = entry
            .identity
            .as_ref()
            .ok_or(IdentityError::UnknownUser)?
            .master_key()
            .public_key();
        entry.pinned = Some(master);
        Ok(())
    }

    /// Rule P3: withdraws the verification of a user whose identity changed, unblocking sending;
    /// the new identity is pinned. A user who is still verified is left as they are.
    ///
    /// # Errors
    /// [`IdentityError::UnknownUser`] when no identity is known for the user.
    pub fn withdraw_verification(&mut self, user_id: &str) -> Result<(), IdentityError> {
        if self.is_user_verified(user_id) {
            return Ok(());
        }
        self.pin_current_identity(user_id)?;
        if let Some(entry) = self.users.get_mut(user_id) {
            entry.was_verified = false;
        }
        Ok(())
    }

    /// Rule T0: trusts our own identity because a SAS or QR verification with another of our
    /// devices proved our master key.
    ///
    /// # Errors
    /// [`IdentityError::UnknownUser`] when our identity is unknown, [`IdentityError::KeyMismatch`]
    /// when the verification did not prove its master key.
    pub fn trust_own_identity(&mut self, proof: &VerifiedKeys) -> Result<(), IdentityError> {
        let current = self
            .own_identity()
            .ok_or(IdentityError::UnknownUser)?
            .master_key()
            .public_key();
        if proof.master_key() != Some(current) {
            return Err(IdentityError::KeyMismatch);
        }
        self.own_trusted_master = Some(current);
        self.refresh_verified();
        Ok(())
    }

    /// Rule T0: trusts our own identity because we hold its master private key (restored from secret
    /// storage, say).
    ///
    /// # Errors
    /// [`IdentityError::UnknownUser`] when our identity is unknown, [`IdentityError::MissingPrivateKey`]
    /// without the master key, [`IdentityError::KeyMismatch`] when it is not our published one.
    pub fn trust_own_identity_with_secrets(
        &mut self,
        secrets: &CrossSigningSecrets,
    ) -> Result<(), IdentityError> {
        let current = self
            .own_identity()
            .ok_or(IdentityError::UnknownUser)?
            .master_key()
            .public_key();
        let held = secrets
            .master_public()
            .ok_or(IdentityError::MissingPrivateKey)?;
        if held != current {
            return Err(IdentityError::KeyMismatch);
        }
        self.own_trusted_master = Some(current);
        self.refresh_verified();
        Ok(())
    }

    /// Records a device as verified locally, because a SAS or QR verification with it proved its key.
    ///
    /// # Errors
    /// [`IdentityError::UnknownDevice`] or [`IdentityError::KeyMismatch`];
    /// [`IdentityError::TooLarge`] past [`MAX_LOCALLY_VERIFIED_DEVICES`].
    pub fn verify_device_locally(
        &mut self,
        user_id: &str,
        device_id: &str,
        proof: &VerifiedKeys,
    ) -> Result<(), IdentityError> {
        let total: usize = self.users.values().map(|e| e.local.len()).sum();
        let entry = self
            .users
            .get_mut(user_id)
            .ok_or(IdentityError::UnknownDevice)?;
        let key = entry
            .devices
            .get(device_id)
            .ok_or(IdentityError::UnknownDevice)?
            .ed25519_key();
        if proof.device_key() != Some(key) {
            return Err(IdentityError::KeyMismatch);
        }
        if !entry.local.contains_key(device_id) && total >= MAX_LOCALLY_VERIFIED_DEVICES {
            return Err(IdentityError::TooLarge);
        }
        entry.local.insert(device_id.into(), key);
        Ok(())
    }

    /// Verifies one of our own devices with the self-signing key: after a SAS or QR verification
    /// with it (`proof` must carry its device key), or, for this device itself, with the
    /// cross-signing keys restored from secret storage (`proof` may be `None`). Returns the
    /// `/keys/signatures/upload` body; the signature is also kept, so rule T1 holds at once.
    ///
    /// # Errors
    /// [`IdentityError::UnknownDevice`], [`IdentityError::KeyMismatch`] (the proof is for another key,
    /// or the self-signing key held is not our published one), [`IdentityError::MissingPrivateKey`].
    pub fn verify_own_device(
        &mut self,
        secrets: &CrossSigningSecrets,
        device_id: &str,
        proof: Option<&VerifiedKeys>,
    ) -> Result<Value, IdentityError> {
        let own = self.own_identity().ok_or(IdentityError::UnknownUser)?;
        let published = own.self_signing_key().public_key();
        if secrets
            .self_signing_public()
            .ok_or(IdentityError::MissingPrivateKey)?
            != published
        {
            return Err(IdentityError::KeyMismatch);
        }
        let own_user = self.own_user.clone();
        let is_self = device_id == self.own_device;
        let entry = self
            .users
            .get_mut(&own_user)
            .ok_or(IdentityError::UnknownDevice)?;
        let device = entry
            .devices
            .get(device_id)
            .ok_or(IdentityError::UnknownDevice)?;
        match proof {
            Some(p) if p.device_key() == Some(device.ed25519_key()) => {}
            None if is_self => {}
            _ => return Err(IdentityError::KeyMismatch),
        }
        let mut device = device.clone();
        let upload = secrets.sign_device(&mut device)?;
        entry.devices.insert(device_id.into(), device);
        Ok(upload)
    }

    /// Adds (or replaces) one of our own devices, for example this device's keys right after
    /// [`DeviceKeys::from_account`].
    ///
    /// # Errors
    /// [`IdentityError::UserIdMismatch`] for another user's device, [`IdentityError::AmbiguousKeyId`]
    /// (rule T4), [`IdentityError::TooLarge`].
    pub fn add_own_device(&mut self, device: Verified<DeviceKeys>) -> Result<(), IdentityError> {
        if device.user_id() != self.own_user {
            return Err(IdentityError::UserIdMismatch);
        }
        if self
            .own_identity()
            .is_some_and(|i| i.device_id_conflicts(device.device_id()))
        {
            return Err(IdentityError::AmbiguousKeyId);
        }
        let own_user = self.own_user.clone();
        let entry = self.users.entry(own_user).or_default();
        if entry.devices.len() >= MAX_DEVICES_PER_USER
            && !entry.devices.contains_key(device.device_id())
        {
            return Err(IdentityError::TooLarge);
        }
        entry.devices.insert(device.device_id().into(), device);
        Ok(())
    }

    /// Verifies another user (rule T2) after a SAS or QR verification that proved their master key:
    /// our user-signing key signs it. Returns the `/keys/signatures/upload` body; the signature is
    /// kept, so the user is verified at once and a verification violation (P3) is lifted.
    ///
    /// # Errors
    /// [`IdentityError::UnknownUser`], [`IdentityError::OwnIdentityNotTrusted`] (rule T0),
    /// [`IdentityError::MissingPrivateKey`], [`IdentityError::KeyMismatch`] (the proof is for another
    /// master key, or the user-signing key held is not our published one).
    pub fn verify_user(
        &mut self,
        secrets: &CrossSigningSecrets,
        user_id: &str,
        proof: &VerifiedKeys,
    ) -> Result<Value, IdentityError> {
        if user_id == self.own_user {
            return Err(IdentityError::UnknownUser);
        }
        if !self.is_own_identity_trusted() {
            return Err(IdentityError::OwnIdentityNotTrusted);
        }
        let own_usk = self
            .own_identity()
            .and_then(UserIdentity::user_signing_key)
            .map(|k| k.public_key())
            .ok_or(IdentityError::MissingPrivateKey)?;
        if secrets
            .user_signing_public()
            .ok_or(IdentityError::MissingPrivateKey)?
            != own_usk
        {
            return Err(IdentityError::KeyMismatch);
        }
        let own_user = self.own_user.clone();
        let entry = self
            .users
            .get_mut(user_id)
            .ok_or(IdentityError::UnknownUser)?;
        let identity = entry.identity.as_mut().ok_or(IdentityError::UnknownUser)?;
        if proof.master_key() != Some(identity.master_key().public_key()) {
            return Err(IdentityError::KeyMismatch);
        }
        let mut master = identity.master_key().0.clone();
        let upload = secrets.sign_user(&own_user, &mut master)?;
        *identity.master_mut() = master;
        self.refresh_users(&[String::from(user_id)]);
        Ok(upload)
    }

    /// Resets our identity: new master, self-signing and user-signing keys. Our previous
    /// verifications of other users are dropped: their verified flags are cleared, so no verification
    /// violation is raised for them (a pending pin violation stays). This device is signed by the new
    /// self-signing key and the master key by this device. Returns the new private keys (to be stored in secret
    /// storage) and the requests to upload.
    ///
    /// # Errors
    /// [`IdentityError::UserIdMismatch`] when `own_device` is not this store's device.
    pub fn reset_identity<R: CryptoRng + ?Sized, const N: usize>(
        &mut self,
        rng: &mut R,
        account: &crate::olm::Account<N>,
    ) -> Result<(CrossSigningSecrets, ResetRequests), IdentityError> {
        let secrets = CrossSigningSecrets::generate(rng);
        let mut identity = secrets.public_identity(&self.own_user)?.0;
        CrossSigningSecrets::sign_master_with_device(
            identity.master_mut(),
            &self.own_user,
            &self.own_device,
            |m| account.sign(m),
        );
        let mut device = DeviceKeys::from_account(&self.own_user, &self.own_device, account)?;
        let signatures_upload = secrets.sign_device(&mut device)?;
        let device_signing_upload = identity.upload_request();
        let master = identity.master_key().public_key();
        // Commit.
        let own_user = self.own_user.clone();
        for (user, entry) in &mut self.users {
            if *user != own_user {
                entry.was_verified = false;
            }
        }
        let entry = self.users.entry(own_user).or_default();
        entry
            .devices
            .retain(|id, _| !identity.device_id_conflicts(id));
        entry.devices.insert(device.device_id().into(), device);
        entry.identity = Some(identity);
        entry.pinned = Some(master);
        self.own_trusted_master = Some(master);
        Ok((
            secrets,
            ResetRequests {
                device_signing_upload,
                signatures_upload,
            },
        ))
    }
}

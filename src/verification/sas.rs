//! Short authentication strings, `m.sas.v1`, byte-compatible with vodozemac's `sas` module.
//!
//! A [`Sas`] holds one ephemeral X25519 secret; [`Sas::diffie_hellman`] consumes it with the peer's
//! key and yields an [`EstablishedSas`] (a non-contributory exchange, from a small-order key, is
//! refused). From that both sides derive the same [`SasBytes`] (seven emoji or three decimals for the
//! users to compare), then MAC their keys; [`EstablishedSas::verify_macs`] checks the peer's MACs
//! against the keys the verifier fixed at the start and is the only way to obtain [`VerifiedKeys`].
//!
//! Nothing here allocates: identifiers are borrowed, info strings are fed to HKDF in parts, and the
//! MAC strings are fixed-size ASCII buffers.
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::verification::sas::{KeyAgreement, Party, Role, Sas, SasIds};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
//! let alice = Sas::new(&mut rng);
//! let bob = Sas::new(&mut rng);
//! let (alice_key, bob_key) = (alice.public_key(), bob.public_key());
//! let alice = alice.diffie_hellman(&bob_key)?;
//! let bob = bob.diffie_hellman(&alice_key)?;
//!
//! let ids = SasIds {
//!     starter: Party { user_id: "@alice:example.org", device_id: "PHONE" },
//!     acceptor: Party { user_id: "@bob:example.org", device_id: "PHONE" },
//!     transaction_id: "txn1",
//! };
//! let shown_to_alice = alice.sas_bytes(KeyAgreement::Curve25519HkdfSha256, Role::Starter, &ids)?;
//! let shown_to_bob = bob.sas_bytes(KeyAgreement::Curve25519HkdfSha256, Role::Acceptor, &ids)?;
//! assert_eq!(shown_to_alice.emoji(), shown_to_bob.emoji());
//! # Ok::<(), safemeet::VerificationError>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use super::emoji::{Emoji, emoji};
use crate::codec::base64;
use crate::error::VerificationError;
use crate::limits::{MAX_SAS_MAC_KEYS, MAX_VERIFICATION_ID_LEN};
use crate::primitives::curve25519::{Curve25519PublicKey, EphemeralSecret};
use crate::primitives::ed25519::Ed25519PublicKey;
use crate::primitives::hash::Sha256;
use crate::primitives::hkdf::Hkdf;
use crate::primitives::hmac::HmacSha256;

/// The length of the unpadded base64 of a 32-byte key or MAC.
pub const BASE64_32_LEN: usize = 43;

/// Unpadded base64 of 32 bytes (a key, a MAC or a commitment), as ASCII.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Base64_32([u8; BASE64_32_LEN]);

impl Base64_32 {
    /// Encodes 32 bytes.
    #[must_use]
    pub fn encode(bytes: &[u8; 32]) -> Self {
        let mut out = [0u8; BASE64_32_LEN];
        // The buffer has exactly the encoded length, so this cannot fail.
        let _ = base64::encode_into(bytes, &mut out);
        Self(out)
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only base64 alphabet bytes are ever stored.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for Base64_32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Base64_32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Decodes unpadded (or padded) base64 of exactly 32 bytes.
pub fn decode_base64_32(text: &str) -> Result<[u8; 32], VerificationError> {
    let mut key = [0u8; 32];
    base64::decode_array_into(text, &mut key).map_err(|_| VerificationError::InvalidEncoding)?;
    Ok(key)
}

/// The key agreement protocol, which fixes the info string of the SAS bytes.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAgreement {
    /// `curve25519-hkdf-sha256`: the info string names both users, devices and ephemeral keys,
    /// separated by `|`.
    Curve25519HkdfSha256,
    /// `curve25519` (deprecated): the info string concatenates the ids without separators or keys.
    Curve25519,
}

impl KeyAgreement {
    /// The protocol's name in `m.key.verification.*` events.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Curve25519HkdfSha256 => "curve25519-hkdf-sha256",
            Self::Curve25519 => "curve25519",
        }
    }

    /// The protocol with that name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "curve25519-hkdf-sha256" => Some(Self::Curve25519HkdfSha256),
            "curve25519" => Some(Self::Curve25519),
            _ => None,
        }
    }
}

/// The MAC method, which fixes how MACs are encoded.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MacMethod {
    /// `hkdf-hmac-sha256.v2` (also spelled `org.matrix.msc3783.hkdf-hmac-sha256`): unpadded base64 of the
    /// HMAC.
    HkdfHmacSha256V2,
    /// `hkdf-hmac-sha256` (legacy): the same HMAC, base64-encoded in place by libolm, which garbles all
    /// but the first few bytes. Kept for old clients.
    HkdfHmacSha256,
}

impl MacMethod {
    /// The method's name in `m.key.verification.*` events.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::HkdfHmacSha256V2 => "hkdf-hmac-sha256.v2",
            Self::HkdfHmacSha256 => "hkdf-hmac-sha256",
        }
    }

    /// The method with that name (including the unstable MSC3783 alias of the v2 method).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "hkdf-hmac-sha256.v2" | "org.matrix.msc3783.hkdf-hmac-sha256" => {
                Some(Self::HkdfHmacSha256V2)
            }
            "hkdf-hmac-sha256" => Some(Self::HkdfHmacSha256),
            _ => None,
        }
    }
}

/// Which side of the flow we are: the device whose `m.key.verification.start` was used, or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Our start event was used.
    Starter,
    /// We accepted the other device's start event.
    Acceptor,
}

/// A user and one of their devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Party<'a> {
    /// The Matrix user id, `@name:server`.
    pub user_id: &'a str,
    /// The device id.
    pub device_id: &'a str,
}

impl Party<'_> {
    fn check(&self) -> Result<(), VerificationError> {
        check_id(self.user_id)?;
        check_id(self.device_id)
    }
}

fn check_id(id: &str) -> Result<(), VerificationError> {
    if id.is_empty() || id.len() > MAX_VERIFICATION_ID_LEN {
        Err(VerificationError::InvalidIdentifier)
    } else {
        Ok(())
    }
}

/// The identifiers that go into the SAS info string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SasIds<'a> {
    /// The device whose start event was used.
    pub starter: Party<'a>,
    /// The other device.
    pub acceptor: Party<'a>,
    /// The to-device `transaction_id`, or the event id of an in-room request.
    pub transaction_id: &'a str,
}

/// The identifiers that go into a MAC's info string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacIds<'a> {
    /// The device sending the MAC event.
    pub sender: Party<'a>,
    /// The device receiving it.
    pub receiver: Party<'a>,
    /// The to-device `transaction_id`, or the event id of an in-room request.
    pub transaction_id: &'a str,
}

impl MacIds<'_> {
    fn check(&self) -> Result<(), VerificationError> {
        self.sender.check()?;
        self.receiver.check()?;
        check_id(self.transaction_id)
    }
}

/// The acceptor's commitment: `SHA-256(base64(acceptor ephemeral key) ‖ canonical JSON of the start
/// event's content)`.
#[must_use]
pub fn commitment(acceptor_key: &Curve25519PublicKey, canonical_start: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(
        Base64_32::encode(acceptor_key.as_bytes())
            .as_str()
            .as_bytes(),
    );
    h.update(canonical_start);
    h.finalize()
}

/// Checks the acceptor's key against the commitment it sent (unpadded base64). Failure is
/// [`VerificationError::MismatchedCommitment`].
pub fn check_commitment(
    acceptor_key: &Curve25519PublicKey,
    canonical_start: &[u8],
    received: &str,
) -> Result<(), VerificationError> {
    let received =
        decode_base64_32(received).map_err(|_| VerificationError::MismatchedCommitment)?;
    if bool::from(commitment(acceptor_key, canonical_start).ct_eq(&received)) {
        Ok(())
    } else {
        Err(VerificationError::MismatchedCommitment)
    }
}

/// One side of a SAS exchange before the keys are exchanged.
pub struct Sas {
    secret: EphemeralSecret,
}

impl Sas {
    /// A fresh ephemeral key pair.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self {
            secret: EphemeralSecret::generate(rng),
        }
    }

    /// Our ephemeral public key, for the `m.key.verification.key` event.
    #[must_use]
    pub const fn public_key(&self) -> Curve25519PublicKey {
        self.secret.public_key()
    }

    /// Our ephemeral public key in unpadded base64.
    #[must_use]
    pub fn public_key_base64(&self) -> Base64_32 {
        Base64_32::encode(self.public_key().as_bytes())
    }

    /// The commitment to our key over `canonical_start` (when we are the acceptor).
    #[must_use]
    pub fn commitment(&self, canonical_start: &[u8]) -> [u8; 32] {
        commitment(&self.public_key(), canonical_start)
    }

    /// The exchange with the peer's ephemeral key, consuming our secret.
    ///
    /// # Errors
    /// [`VerificationError::NonContributory`] if the peer's key has small order.
    pub fn diffie_hellman(
        self,
        their_key: &Curve25519PublicKey,
    ) -> Result<EstablishedSas, VerificationError> {
        let our_key = self.public_key();
        let shared = self
            .secret
            .diffie_hellman(their_key)
            .map_err(|_| VerificationError::NonContributory)?;
        Ok(EstablishedSas {
            hkdf: Hkdf::new(&[], shared.as_bytes()),
            our_key,
            their_key: *their_key,
        })
    }

    /// [`Sas::diffie_hellman`] with the peer's key in base64, as the key event carries it.
    ///
    /// # Errors
    /// [`VerificationError::InvalidEncoding`], or as [`Sas::diffie_hellman`].
    pub fn diffie_hellman_base64(
        self,
        their_key: &str,
    ) -> Result<EstablishedSas, VerificationError> {
        let key = Curve25519PublicKey::from_bytes(decode_base64_32(their_key)?);
        self.diffie_hellman(&key)
    }
}

impl fmt::Debug for Sas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sas")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// The six bytes both sides derive from the shared secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SasBytes([u8; 6]);

impl SasBytes {
    /// Wraps six bytes (for tests and known-answer checks).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 6]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// The seven emoji indices: the top 42 of the 48 bits in six-bit groups, most significant first.
    #[must_use]
    pub fn emoji_indices(&self) -> [u8; 7] {
        let [a, b, c, d, e, f] = self.0;
        let n = u64::from_be_bytes([0, 0, a, b, c, d, e, f]);
        let mut out = [0u8; 7];
        for (k, slot) in out.iter_mut().enumerate() {
            *slot = ((n >> (42 - 6 * k)) & 63) as u8;
        }
        out
    }

    /// The seven emoji.
    #[must_use]
    pub fn emoji(&self) -> [Emoji; 7] {
        self.emoji_indices().map(emoji)
    }

    /// The three decimal numbers: three 13-bit groups from the top 39 bits, each plus 1000, so each is
    /// within `1000..=9191`.
    #[must_use]
    pub fn decimals(&self) -> (u16, u16, u16) {
        let [a, b, c, d, e, _] = self.0;
        let n = u64::from_be_bytes([0, 0, 0, a, b, c, d, e]) >> 1;
        let group = |shift: u32| ((n >> shift) & 0x1FFF) as u16 + 1000;
        (group(26), group(13), group(0))
    }
}

/// A MAC as sent in the `mac` event: 43 ASCII characters.
pub type MacString = Base64_32;

/// The keys a verifier fixed before the flow started, against which the peer's MACs are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedKeys<'a> {
    /// The other device's id and Ed25519 key, if we are verifying a device.
    pub device: Option<(&'a str, Ed25519PublicKey)>,
    /// The other user's master (cross-signing) key, if we know it.
    pub master_key: Option<Ed25519PublicKey>,
}

/// The keys a verification proved, by kind: the only way to build one is
/// [`EstablishedSas::verify_macs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedKeys {
    device_key: Option<Ed25519PublicKey>,
    master_key: Option<Ed25519PublicKey>,
}

impl VerifiedKeys {
    pub(crate) const fn new(
        device_key: Option<Ed25519PublicKey>,
        master_key: Option<Ed25519PublicKey>,
    ) -> Self {
        Self {
            device_key,
            master_key,
        }
    }

    /// The other device's Ed25519 key, if the peer MACed it and it matched.
    #[must_use]
    pub const fn device_key(&self) -> Option<Ed25519PublicKey> {
        self.device_key
    }

    /// The other user's master key, if the peer MACed it and it matched.
    #[must_use]
    pub const fn master_key(&self) -> Option<Ed25519PublicKey> {
        self.master_key
    }
}

/// Which expected key a key id names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Device,
    Master,
}

/// One side of a SAS exchange after the Diffie-Hellman: derives the SAS and the MACs.
pub struct EstablishedSas {
    hkdf: Hkdf,
    our_key: Curve25519PublicKey,
    their_key: Curve25519PublicKey,
}

impl fmt::Debug for EstablishedSas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EstablishedSas")
            .field("our_key", &self.our_key)
            .field("their_key", &self.their_key)
            .finish_non_exhaustive()
    }
}

impl EstablishedSas {
    /// Our ephemeral public key.
    #[must_use]
    pub const fn our_public_key(&self) -> Curve25519PublicKey {
        self.our_key
    }

    /// The peer's ephemeral public key.
    #[must_use]
    pub const fn their_public_key(&self) -> Curve25519PublicKey {
        self.their_key
    }

    /// The six SAS bytes for an arbitrary info string (vodozemac's `bytes`).
    #[must_use]
    pub fn bytes(&self, info: &[u8]) -> SasBytes {
        let mut out = [0u8; 6];
        // Six bytes are always within HKDF's output limit.
        let _ = self.hkdf.expand(info, &mut out);
        SasBytes(out)
    }

    /// Fills `out` with HKDF output for `info` (vodozemac's `bytes_raw`).
    ///
    /// # Errors
    /// [`VerificationError::Internal`] when `out` is longer than HKDF-SHA-256 can produce.
    pub fn bytes_raw(&self, info: &[u8], out: &mut [u8]) -> Result<(), VerificationError> {
        self.hkdf
            .expand(info, out)
            .map_err(|_| VerificationError::Internal)
    }

    /// The SAS bytes for this flow, with the info string of `protocol`.
    ///
    /// # Errors
    /// [`VerificationError::InvalidIdentifier`] if an id is empty or too long.
    pub fn sas_bytes(
        &self,
        protocol: KeyAgreement,
        role: Role,
        ids: &SasIds<'_>,
    ) -> Result<SasBytes, VerificationError> {
        ids.starter.check()?;
        ids.acceptor.check()?;
        check_id(ids.transaction_id)?;
        let (starter_key, acceptor_key) = match role {
            Role::Starter => (self.our_key, self.their_key),
            Role::Acceptor => (self.their_key, self.our_key),
        };
        let starter_key = Base64_32::encode(starter_key.as_bytes());
        let acceptor_key = Base64_32::encode(acceptor_key.as_bytes());
        let mut out = [0u8; 6];
        let result = match protocol {
            KeyAgreement::Curve25519HkdfSha256 => self.hkdf.expand_multi(
                &[
                    b"MATRIX_KEY_VERIFICATION_SAS|",
                    ids.starter.user_id.as_bytes(),
                    b"|",
                    ids.starter.device_id.as_bytes(),
                    b"|",
                    starter_key.as_str().as_bytes(),
                    b"|",
                    ids.acceptor.user_id.as_bytes(),
                    b"|",
                    ids.acceptor.device_id.as_bytes(),
                    b"|",
                    acceptor_key.as_str().as_bytes(),
                    b"|",
                    ids.transaction_id.as_bytes(),
                ],
                &mut out,
            ),
            KeyAgreement::Curve25519 => self.hkdf.expand_multi(
                &[
                    b"MATRIX_KEY_VERIFICATION_SAS",
                    ids.starter.user_id.as_bytes(),
                    ids.starter.device_id.as_bytes(),
                    ids.acceptor.user_id.as_bytes(),
                    ids.acceptor.device_id.as_bytes(),
                    ids.transaction_id.as_bytes(),
                ],
                &mut out,
            ),
        };
        result.map_err(|_| VerificationError::Internal)?;
        Ok(SasBytes(out))
    }

    /// The raw 32-byte HMAC of `input` under the key derived with the info string `info` (vodozemac's
    /// `calculate_mac`).
    #[must_use]
    pub fn mac_raw(&self, info: &[&[u8]], input: &[u8]) -> [u8; 32] {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        // 32 bytes are always within HKDF's output limit.
        let _ = self.hkdf.expand_multi(info, key.as_mut());
        let mut mac = HmacSha256::new(key.as_ref());
        mac.update(input);
        mac.finalize()
    }

    /// The MAC of `input` (a key in base64, or the sorted key-id list) under the info string
    /// `MATRIX_KEY_VERIFICATION_MAC ‖ ids ‖ suffix`, encoded as `method` requires.
    fn mac_string(
        &self,
        method: MacMethod,
        ids: &MacIds<'_>,
        suffix: &[&[u8]],
        input: &[u8],
    ) -> MacString {
        let mut info: [&[u8]; 6 + MAX_SAS_MAC_KEYS * 2] = [&[]; 6 + MAX_SAS_MAC_KEYS * 2];
        let head: [&[u8]; 6] = [
            b"MATRIX_KEY_VERIFICATION_MAC",
            ids.sender.user_id.as_bytes(),
            ids.sender.device_id.as_bytes(),
            ids.receiver.user_id.as_bytes(),
            ids.receiver.device_id.as_bytes(),
            ids.transaction_id.as_bytes(),
        ];
        for (slot, part) in info.iter_mut().zip(head.iter().chain(suffix.iter())) {
            *slot = part;
        }
        let parts = info.get(..6 + suffix.len()).unwrap_or(&info);
        let tag = self.mac_raw(parts, input);
        match method {
            MacMethod::HkdfHmacSha256V2 => Base64_32::encode(&tag),
            MacMethod::HkdfHmacSha256 => libolm_base64(&tag),
        }
    }

    /// The MAC of one of our keys for the `mac` map: `key_id` is `ed25519:<device id>` or
    /// `ed25519:<master key base64>`, `key` the key itself.
    ///
    /// # Errors
    /// [`VerificationError::InvalidIdentifier`] if an id is empty or too long.
    pub fn mac_key(
        &self,
        method: MacMethod,
        ids: &MacIds<'_>,
        key_id: &str,
        key: &Ed25519PublicKey,
    ) -> Result<MacString, VerificationError> {
        ids.check()?;
        let key = Base64_32::encode(key.as_bytes());
        Ok(self.mac_string(method, ids, &[key_id.as_bytes()], key.as_str().as_bytes()))
    }

    /// The MAC of the key ids for the `keys` field: the ids sorted and joined with `,`.
    ///
    /// # Errors
    /// [`VerificationError::TooManyKeys`] beyond [`MAX_SAS_MAC_KEYS`] ids, or
    /// [`VerificationError::InvalidIdentifier`].
    pub fn mac_key_ids(
        &self,
        method: MacMethod,
        ids: &MacIds<'_>,
        key_ids: &[&str],
    ) -> Result<MacString, VerificationError> {
        ids.check()?;
        if key_ids.len() > MAX_SAS_MAC_KEYS {
            return Err(VerificationError::TooManyKeys);
        }
        let mut sorted: [&str; MAX_SAS_MAC_KEYS] = [""; MAX_SAS_MAC_KEYS];
        for (slot, id) in sorted.iter_mut().zip(key_ids) {
            *slot = id;
        }
        let sorted = sorted.get_mut(..key_ids.len()).unwrap_or_default();
        sorted.sort_unstable();
        // Joined input "a,b,c", hashed as parts; the HMAC input is the concatenation.
        let mut mac_input = HmacInput::default();
        for (i, id) in sorted.iter().enumerate() {
            if i > 0 {
                mac_input.push(b",");
            }
            mac_input.push(id.as_bytes());
        }
        Ok(self.mac_string_multi(method, ids, &mac_input))
    }

    fn mac_string_multi(
        &self,
        method: MacMethod,
        ids: &MacIds<'_>,
        input: &HmacInput<'_>,
    ) -> MacString {
        let info: [&[u8]; 7] = [
            b"MATRIX_KEY_VERIFICATION_MAC",
            ids.sender.user_id.as_bytes(),
            ids.sender.device_id.as_bytes(),
            ids.receiver.user_id.as_bytes(),
            ids.receiver.device_id.as_bytes(),
            ids.transaction_id.as_bytes(),
            b"KEY_IDS",
        ];
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        let _ = self.hkdf.expand_multi(&info, key.as_mut());
        let mut mac = HmacSha256::new(key.as_ref());
        for part in input.parts() {
            mac.update(part);
        }
        let tag = mac.finalize();
        match method {
            MacMethod::HkdfHmacSha256V2 => Base64_32::encode(&tag),
            MacMethod::HkdfHmacSha256 => libolm_base64(&tag),
        }
    }

    /// Checks the peer's `mac` event: `macs` maps key ids to MACs, `keys_mac` is the MAC over the key
    /// ids, `ids.sender` is the peer.
    ///
    /// Every key id must name exactly one of the `expected` keys, by kind: `ed25519:<device id>` names
    /// the device key, `ed25519:<base64 of the master key>` the master key. A key id that names neither,
    /// that names one already seen, or that names both (a device whose id equals the master key's
    /// base64, the key-identifier confusion of Albrecht et al., IEEE S&P 2023) is refused, as is an
    /// empty map. Each MAC is recomputed over the *expected* key, so a peer that MACed another key fails.
    ///
    /// # Errors
    /// [`VerificationError::UnexpectedKeyId`], [`VerificationError::AmbiguousKeyId`],
    /// [`VerificationError::TooManyKeys`], [`VerificationError::InvalidIdentifier`], or
    /// [`VerificationError::Authentication`] when a MAC does not match.
    pub fn verify_macs(
        &self,
        method: MacMethod,
        ids: &MacIds<'_>,
        macs: &[(&str, &str)],
        keys_mac: &str,
        expected: &ExpectedKeys<'_>,
    ) -> Result<VerifiedKeys, VerificationError> {
        ids.check()?;
        if macs.is_empty() {
            return Err(VerificationError::UnexpectedKeyId);
        }
        if macs.len() > MAX_SAS_MAC_KEYS {
            return Err(VerificationError::TooManyKeys);
        }
        let master_b64 = expected.master_key.map(|k| Base64_32::encode(k.as_bytes()));
        // Resolve every key id first, so that a confused or unknown id fails before any MAC is checked.
        let mut kinds = [KeyKind::Device; MAX_SAS_MAC_KEYS];
        let mut seen_device = false;
        let mut seen_master = false;
        for ((key_id, _), kind) in macs.iter().zip(kinds.iter_mut()) {
            let name = key_id
                .strip_prefix("ed25519:")
                .ok_or(VerificationError::UnexpectedKeyId)?;
            let is_device = expected.device.is_some_and(|(id, _)| id == name);
            let is_master = master_b64.is_some_and(|b| b.as_str() == name);
            *kind = match (is_device, is_master) {
                (true, true) => return Err(VerificationError::AmbiguousKeyId),
                (true, false) if !seen_device => {
                    seen_device = true;
                    KeyKind::Device
                }
                (false, true) if !seen_master => {
                    seen_master = true;
                    KeyKind::Master
                }
                _ => return Err(VerificationError::UnexpectedKeyId),
            };
        }

        let mut key_ids: [&str; MAX_SAS_MAC_KEYS] = [""; MAX_SAS_MAC_KEYS];
        for (slot, (id, _)) in key_ids.iter_mut().zip(macs) {
            *slot = id;
        }
        let key_ids = key_ids.get(..macs.len()).unwrap_or_default();
        let expected_keys_mac = self.mac_key_ids(method, ids, key_ids)?;
        if !mac_matches(method, &expected_keys_mac, keys_mac) {
            return Err(VerificationError::Authentication);
        }

        let mut verified = VerifiedKeys {
            device_key: None,
            master_key: None,
        };
        for ((key_id, received), kind) in macs.iter().zip(kinds) {
            let key = match kind {
                KeyKind::Device => expected.device.map(|(_, k)| k),
                KeyKind::Master => expected.master_key,
            }
            .ok_or(VerificationError::Internal)?;
            let mac = self.mac_key(method, ids, key_id, &key)?;
            if !mac_matches(method, &mac, received) {
                return Err(VerificationError::Authentication);
            }
            match kind {
                KeyKind::Device => verified.device_key = Some(key),
                KeyKind::Master => verified.master_key = Some(key),
            }
        }
        Ok(verified)
    }
}

/// Compares a received MAC with the expected one in constant time. For the v2 method the received
/// text is decoded first (so a padded encoding is accepted); the legacy method compares the text.
fn mac_matches(method: MacMethod, expected: &MacString, received: &str) -> bool {
    match method {
        MacMethod::HkdfHmacSha256V2 => match decode_base64_32(received) {
            Ok(bytes) => {
                let mut want = [0u8; 33];
                let n = base64::decode_into(expected.as_str(), &mut want).unwrap_or(0);
                n == 32 && bool::from(want.get(..32).unwrap_or_default().ct_eq(&bytes))
            }
            Err(_) => false,
        },
        MacMethod::HkdfHmacSha256 => {
            received.len() == BASE64_32_LEN && bool::from(expected.0.ct_eq(received.as_bytes()))
        }
    }
}

/// A short list of byte strings fed to the HMAC one after another (the joined key ids).
#[derive(Default)]
struct HmacInput<'a> {
    parts: [&'a [u8]; 2 * MAX_SAS_MAC_KEYS],
    len: usize,
}

impl<'a> HmacInput<'a> {
    fn push(&mut self, part: &'a [u8]) {
        if let Some(slot) = self.parts.get_mut(self.len) {
            *slot = part;
            self.len += 1;
        }
    }

    fn parts(&self) -> &[&'a [u8]] {
        self.parts.get(..self.len).unwrap_or_default()
    }
}

/// libolm's in-place base64 of a 32-byte MAC: the encoder writes its output over its input, so from
/// the second group on it reads characters it has already written. Reproduced exactly, for the legacy
/// `hkdf-hmac-sha256` method.
fn libolm_base64(tag: &[u8; 32]) -> MacString {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |v: u32| ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'A');
    let mut buf = [0u8; BASE64_32_LEN];
    buf.get_mut(..32).unwrap_or_default().copy_from_slice(tag);
    let at = |buf: &[u8; BASE64_32_LEN], i: usize| u32::from(buf.get(i).copied().unwrap_or(0));
    for g in 0..10 {
        let v = (at(&buf, 3 * g) << 16) | (at(&buf, 3 * g + 1) << 8) | at(&buf, 3 * g + 2);
        for (k, slot) in buf.iter_mut().skip(4 * g).take(4).enumerate() {
            *slot = sym(v >> (18 - 6 * k));
        }
    }
    let v = (at(&buf, 30) << 8) | at(&buf, 31);
    // Two bytes encode as three characters: 16 bits padded with two zero bits.
    let v = v << 2;
    for (k, slot) in buf.iter_mut().skip(40).take(3).enumerate() {
        *slot = sym(v >> (12 - 6 * k));
    }
    Base64_32(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn libolm_base64_matches_the_worked_example() {
        // specs/matrix.md §3.6: MAC bytes 0..31.
        let tag: [u8; 32] = core::array::from_fn(|i| i as u8);
        assert_eq!(
            libolm_base64(&tag).as_str(),
            "AAECQwQFUUYIVVlJVlZsSlZsWnNTbFpzV25OVGJGcHo"
        );
        assert_eq!(
            Base64_32::encode(&tag).as_str(),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
        );
    }

    #[test]
    fn edge_cases() {
        let zero = SasBytes::from_bytes([0; 6]);
        assert_eq!(zero.emoji_indices(), [0; 7]);
        assert_eq!(zero.decimals(), (1000, 1000, 1000));
        let ff = SasBytes::from_bytes([0xFF; 6]);
        assert_eq!(ff.emoji_indices(), [63; 7]);
        assert_eq!(ff.decimals(), (9191, 9191, 9191));
        assert_eq!(ff.emoji()[0].name, "Pin");
    }

    #[test]
    fn small_order_key_is_refused() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let sas = Sas::new(&mut rng);
        assert_eq!(
            sas.diffie_hellman(&Curve25519PublicKey::from_bytes([0; 32]))
                .unwrap_err(),
            VerificationError::NonContributory
        );
        let sas = Sas::new(&mut rng);
        assert_eq!(
            sas.diffie_hellman_base64("AAAA").unwrap_err(),
            VerificationError::InvalidEncoding
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let a = Sas::new(&mut rng);
        let b = Sas::new(&mut rng);
        let bk = b.public_key();
        let s = std::format!("{a:?}");
        assert!(s.starts_with("Sas {") && s.ends_with(".. }"), "{s}");
        let est = a.diffie_hellman(&bk).unwrap();
        let s = std::format!("{est:?}");
        assert!(s.contains("our_key") && s.ends_with(".. }"), "{s}");
    }
}

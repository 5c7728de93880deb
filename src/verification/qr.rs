//! QR-code verification payloads (`m.qr_code.show.v1`, `m.qr_code.scan.v1`, `m.reciprocate.v1`).
//!
//! The payload is `MATRIX`, version `0x02`, a mode byte, a big-endian `u16` length and the flow id
//! (the to-device transaction id, or the in-room request's event id), two raw Ed25519 keys, and a
//! shared secret that fills the rest. What the two keys are depends on the [`QrMode`]. The scanner
//! checks both keys against the ones it already knows ([`QrPayload::check_scanned`]) and sends the
//! secret back in an `m.key.verification.start` with method `m.reciprocate.v1`; the displayer checks
//! that secret ([`QrPayload::check_reciprocation`]). Each side learns, typed, which key it verified.
//!
//! Decoding is strict and allocation-free: bad magic, version or mode, a truncated payload, an empty
//! or non-UTF-8 flow id, keys that are not Ed25519 points, and a secret shorter than
//! [`QR_MIN_SECRET_LEN`] bytes are [`QrError`]s. We generate secrets of
//! [`QR_GENERATED_SECRET_LEN`] bytes, as rust-sdk does.
//!
//! ```
//! use rand_core::SeedableRng;
//! use safemeet::primitives::ed25519::Ed25519SecretKey;
//! use safemeet::verification::qr::{QrMode, QrPayload, QrSecret, ScannerKeys};
//!
//! let mut rng = rand_chacha::ChaCha20Rng::from_seed([4; 32]);
//! let alice_master = Ed25519SecretKey::generate(&mut rng).public_key();
//! let bob_master = Ed25519SecretKey::generate(&mut rng).public_key();
//! let secret = QrSecret::generate(&mut rng);
//!
//! // Alice shows a code to Bob: her master key, and what she believes is Bob's.
//! let code = QrPayload::new(QrMode::VerifyingAnotherUser, "txn1", alice_master, bob_master, secret.as_bytes())?;
//! let mut bytes = [0u8; 128];
//! let n = code.encode_into(&mut bytes)?;
//!
//! // Bob scans it and checks both keys against his own knowledge.
//! let scanned = QrPayload::decode(&bytes[..n])?;
//! let bob_knows = ScannerKeys { own_master: Some(bob_master), own_device: None, other_master: Some(alice_master), other_device: None };
//! assert_eq!(scanned.check_scanned(&bob_knows)?.master_key(), Some(alice_master));
//!
//! // Bob sends the secret back; Alice checks it and now trusts Bob's master key.
//! assert_eq!(code.check_reciprocation(scanned.secret())?.master_key(), Some(bob_master));
//! # Ok::<(), safemeet::QrError>(())
//! ```

use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

use super::sas::VerifiedKeys;
use crate::error::QrError;
use crate::limits::{QR_GENERATED_SECRET_LEN, QR_MAX_SECRET_LEN, QR_MIN_SECRET_LEN};
use crate::primitives::ed25519::{Ed25519PublicKey, KEY_LEN};
use crate::primitives::secret::SecretBytes;

/// The magic bytes every payload starts with.
pub const MAGIC: &[u8; 6] = b"MATRIX";
/// The payload version this module reads and writes.
pub const VERSION: u8 = 0x02;
/// The bytes before the flow id: magic, version, mode, and the flow id's length.
pub const HEADER_LEN: usize = 6 + 1 + 1 + 2;

/// What the two keys of a code are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrMode {
    /// `0x00`: verifying another user. Key 1 is the displayer's master key, key 2 what the displayer
    /// believes is the scanner's master key.
    VerifyingAnotherUser,
    /// `0x01`: self-verification by a device that trusts the master key. Key 1 is the master key, key 2
    /// what the displayer believes is the scanning device's key.
    SelfVerifyingMasterKeyTrusted,
    /// `0x02`: self-verification by a device that does not yet trust the master key. Key 1 is the
    /// displaying device's key, key 2 what it believes is the master key.
    SelfVerifyingMasterKeyUntrusted,
}

impl QrMode {
    /// The mode byte.
    #[must_use]
    pub const fn byte(self) -> u8 {
        match self {
            Self::VerifyingAnotherUser => 0,
            Self::SelfVerifyingMasterKeyTrusted => 1,
            Self::SelfVerifyingMasterKeyUntrusted => 2,
        }
    }

    /// The mode of a mode byte.
    ///
    /// # Errors
    /// [`QrError::UnknownMode`] for bytes above `0x02`.
    pub const fn from_byte(byte: u8) -> Result<Self, QrError> {
        match byte {
            0 => Ok(Self::VerifyingAnotherUser),
            1 => Ok(Self::SelfVerifyingMasterKeyTrusted),
            2 => Ok(Self::SelfVerifyingMasterKeyUntrusted),
            _ => Err(QrError::UnknownMode),
        }
    }
}

/// A freshly generated shared secret ([`QR_GENERATED_SECRET_LEN`] bytes); zeroized on drop.
pub struct QrSecret(SecretBytes<QR_GENERATED_SECRET_LEN>);

impl QrSecret {
    /// A random secret.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(SecretBytes::random(rng))
    }

    /// The secret's bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; QR_GENERATED_SECRET_LEN] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for QrSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QrSecret").finish_non_exhaustive()
    }
}

/// What the scanning device already knows, to check a scanned code against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScannerKeys {
    /// Our own user's master key, if we have one (and, for mode `0x02`, trust it).
    pub own_master: Option<Ed25519PublicKey>,
    /// Our own device's Ed25519 key (needed for mode `0x01`).
    pub own_device: Option<Ed25519PublicKey>,
    /// The other user's master key as we know it (mode `0x00`).
    pub other_master: Option<Ed25519PublicKey>,
    /// The displaying device's key as we know it (mode `0x02`).
    pub other_device: Option<Ed25519PublicKey>,
}

/// A decoded or to-be-encoded QR payload, borrowing its flow id and secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QrPayload<'a> {
    mode: QrMode,
    flow_id: &'a str,
    first_key: Ed25519PublicKey,
    second_key: Ed25519PublicKey,
    secret: &'a [u8],
}

impl fmt::Debug for QrPayload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QrPayload")
            .field("mode", &self.mode)
            .field("flow_id", &self.flow_id)
            .field("first_key", &self.first_key)
            .field("second_key", &self.second_key)
            .finish_non_exhaustive()
    }
}

fn check_secret(secret: &[u8]) -> Result<(), QrError> {
    if (QR_MIN_SECRET_LEN..=QR_MAX_SECRET_LEN).contains(&secret.len()) {
        Ok(())
    } else {
        Err(QrError::InvalidSecretLength)
    }
}

fn keys_equal(a: &Ed25519PublicKey, b: Option<Ed25519PublicKey>) -> Result<(), QrError> {
    match b {
        Some(b) if a == &b => Ok(()),
        _ => Err(QrError::KeyMismatch),
    }
}

impl<'a> QrPayload<'a> {
    /// A payload to show.
    ///
    /// # Errors
    /// [`QrError::InvalidFlowId`] for an empty flow id or one longer than 65,535 bytes;
    /// [`QrError::InvalidSecretLength`] for a secret outside the accepted lengths.
    pub fn new(
        mode: QrMode,
        flow_id: &'a str,
        first_key: Ed25519PublicKey,
        second_key: Ed25519PublicKey,
        secret: &'a [u8],
    ) -> Result<Self, QrError> {
        if flow_id.is_empty() || flow_id.len() > usize::from(u16::MAX) {
            return Err(QrError::InvalidFlowId);
        }
        check_secret(secret)?;
        Ok(Self {
            mode,
            flow_id,
            first_key,
            second_key,
            secret,
        })
    }

    /// Decodes a scanned payload.
    ///
    /// # Errors
    /// A [`QrError`] naming the first problem; nothing panics.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, QrError> {
        let (magic, rest) = bytes.split_at_checked(6).ok_or(QrError::InvalidHeader)?;
        if magic != MAGIC {
            return Err(QrError::InvalidHeader);
        }
        let (&version, rest) = rest.split_first().ok_or(QrError::Truncated)?;
        if version != VERSION {
            return Err(QrError::UnsupportedVersion);
        }
        let (&mode, rest) = rest.split_first().ok_or(QrError::Truncated)?;
        let mode = QrMode::from_byte(mode)?;
        let (len, rest) = rest.split_at_checked(2).ok_or(QrError::Truncated)?;
        let len = match len {
            [hi, lo] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => return Err(QrError::Truncated),
        };
        let (flow_id, rest) = rest.split_at_checked(len).ok_or(QrError::Truncated)?;
        let flow_id = core::str::from_utf8(flow_id).map_err(|_| QrError::InvalidFlowId)?;
        if flow_id.is_empty() {
            return Err(QrError::InvalidFlowId);
        }
        let (k1, rest) = rest.split_at_checked(KEY_LEN).ok_or(QrError::Truncated)?;
        let (k2, secret) = rest.split_at_checked(KEY_LEN).ok_or(QrError::Truncated)?;
        let first_key = Ed25519PublicKey::from_slice(k1).map_err(|_| QrError::InvalidKey)?;
        let second_key = Ed25519PublicKey::from_slice(k2).map_err(|_| QrError::InvalidKey)?;
        check_secret(secret)?;
        Ok(Self {
            mode,
            flow_id,
            first_key,
            second_key,
            secret,
        })
    }

    /// The payload's length in bytes.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        HEADER_LEN + self.flow_id.len() + 2 * KEY_LEN + self.secret.len()
    }

    /// Encodes the payload into the start of `out`, returning its length.
    ///
    /// # Errors
    /// [`QrError::BufferTooSmall`] if `out` is shorter than [`QrPayload::encoded_len`]; nothing is
    /// written then.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize, QrError> {
        let needed = self.encoded_len();
        let out = out
            .get_mut(..needed)
            .ok_or(QrError::BufferTooSmall { needed })?;
        let len = u16::try_from(self.flow_id.len()).map_err(|_| QrError::InvalidFlowId)?;
        let parts: [&[u8]; 7] = [
            MAGIC,
            &[VERSION, self.mode.byte()],
            &len.to_be_bytes(),
            self.flow_id.as_bytes(),
            self.first_key.as_bytes(),
            self.second_key.as_bytes(),
            self.secret,
        ];
        let mut at = 0;
        for part in parts {
            let end = at + part.len();
            out.get_mut(at..end)
                .ok_or(QrError::BufferTooSmall { needed })?
                .copy_from_slice(part);
            at = end;
        }
        Ok(at)
    }

    /// The encoded payload.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
        let mut out = alloc::vec![0u8; self.encoded_len()];
        let n = self.encode_into(&mut out).unwrap_or(0);
        out.truncate(n);
        out
    }

    /// The mode.
    #[must_use]
    pub const fn mode(&self) -> QrMode {
        self.mode
    }

    /// The flow id: the transaction id, or the request's event id.
    #[must_use]
    pub const fn flow_id(&self) -> &'a str {
        self.flow_id
    }

    /// Key 1.
    #[must_use]
    pub const fn first_key(&self) -> Ed25519PublicKey {
        self.first_key
    }

    /// Key 2.
    #[must_use]
    pub const fn second_key(&self) -> Ed25519PublicKey {
        self.second_key
    }

    /// The shared secret, to send back in `m.reciprocate.v1`.
    #[must_use]
    pub const fn secret(&self) -> &'a [u8] {
        self.secret
    }

    /// The scanner's check: both keys must be the ones the scanner knows. Returns the key this proves
    /// (the other user's master key for mode `0x00`, our master key for `0x01`, the displaying
    /// device's key for `0x02`).
    ///
    /// # Errors
    /// [`QrError::KeyMismatch`] when a key differs from, or is missing in, `ours`.
    pub fn check_scanned(&self, ours: &ScannerKeys) -> Result<VerifiedKeys, QrError> {
        match self.mode {
            QrMode::VerifyingAnotherUser => {
                keys_equal(&self.first_key, ours.other_master)?;
                keys_equal(&self.second_key, ours.own_master)?;
                Ok(VerifiedKeys::new(None, Some(self.first_key)))
            }
            QrMode::SelfVerifyingMasterKeyTrusted => {
                keys_equal(&self.first_key, ours.own_master)?;
                keys_equal(&self.second_key, ours.own_device)?;
                Ok(VerifiedKeys::new(None, Some(self.first_key)))
            }
            QrMode::SelfVerifyingMasterKeyUntrusted => {
                keys_equal(&self.first_key, ours.other_device)?;
                keys_equal(&self.second_key, ours.own_master)?;
                Ok(VerifiedKeys::new(Some(self.first_key), None))
            }
        }
    }

    /// The displayer's check of the secret the scanner sent back (its bytes, decoded from the
    /// `m.reciprocate.v1` start event), in constant time. Returns the key the displayer now trusts:
    /// key 2 of its own code, as a master key (modes `0x00` and `0x02`) or a device key (`0x01`).
    ///
    /// # Errors
    /// [`QrError::SecretMismatch`].
    pub fn check_reciprocation(&self, received: &[u8]) -> Result<VerifiedKeys, QrError> {
        if received.len() != self.secret.len() || !bool::from(received.ct_eq(self.secret)) {
            return Err(QrError::SecretMismatch);
        }
        Ok(match self.mode {
            QrMode::SelfVerifyingMasterKeyTrusted => VerifiedKeys::new(Some(self.second_key), None),
            QrMode::VerifyingAnotherUser | QrMode::SelfVerifyingMasterKeyUntrusted => {
                VerifiedKeys::new(None, Some(self.second_key))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::ed25519::Ed25519SecretKey;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn keys() -> (Ed25519PublicKey, Ed25519PublicKey) {
        let mut rng = ChaCha20Rng::from_seed([8; 32]);
        (
            Ed25519SecretKey::generate(&mut rng).public_key(),
            Ed25519SecretKey::generate(&mut rng).public_key(),
        )
    }

    #[test]
    fn round_trip_every_mode() {
        let (a, b) = keys();
        for mode in [
            QrMode::VerifyingAnotherUser,
            QrMode::SelfVerifyingMasterKeyTrusted,
            QrMode::SelfVerifyingMasterKeyUntrusted,
        ] {
            let code = QrPayload::new(mode, "$event:id", a, b, b"12345678").unwrap();
            let mut buf = [0u8; 200];
            let n = code.encode_into(&mut buf).unwrap();
            assert_eq!(n, HEADER_LEN + 9 + 64 + 8);
            assert_eq!(
                &buf[..10],
                &[b'M', b'A', b'T', b'R', b'I', b'X', 2, mode.byte(), 0, 9]
            );
            assert_eq!(QrPayload::decode(&buf[..n]).unwrap(), code);
            assert_eq!(
                code.encode_into(&mut buf[..n - 1]),
                Err(QrError::BufferTooSmall { needed: n })
            );
        }
    }

    #[test]
    fn malformed_payloads() {
        let (a, b) = keys();
        let code = QrPayload::new(QrMode::VerifyingAnotherUser, "t", a, b, &[7; 16]).unwrap();
        let mut good = [0u8; 128];
        let n = code.encode_into(&mut good).unwrap();
        let good = &good[..n];
        let with = |i: usize, v: u8| {
            let mut x = good.to_vec();
            x[i] = v;
            x
        };
        assert_eq!(QrPayload::decode(b"MATRI"), Err(QrError::InvalidHeader));
        assert_eq!(
            QrPayload::decode(&with(0, b'N')),
            Err(QrError::InvalidHeader)
        );
        assert_eq!(
            QrPayload::decode(&with(6, 1)),
            Err(QrError::UnsupportedVersion)
        );
        assert_eq!(QrPayload::decode(&with(7, 3)), Err(QrError::UnknownMode));
        assert_eq!(
            QrPayload::decode(&with(10, 0xff)),
            Err(QrError::InvalidFlowId)
        );
        assert_eq!(QrPayload::decode(&with(9, 0)), Err(QrError::InvalidFlowId));
        assert_eq!(QrPayload::decode(&with(9, 200)), Err(QrError::Truncated));
        for cut in 6..HEADER_LEN + 1 + 64 {
            assert!(QrPayload::decode(&good[..cut]).is_err(), "{cut}");
        }
        // A key that is not a curve point (rust-sdk's example, 32 × 0x41), and a small-order one.
        let mut bad_key = good.to_vec();
        bad_key[11..43].copy_from_slice(&[0x41; 32]);
        assert_eq!(QrPayload::decode(&bad_key), Err(QrError::InvalidKey));
        let mut identity = [0u8; 32];
        identity[0] = 1;
        bad_key[11..43].copy_from_slice(&identity);
        assert_eq!(QrPayload::decode(&bad_key), Err(QrError::InvalidKey));
        // Secrets: 7 bytes refused, 8 accepted.
        let seven = &good[..n - 9];
        assert_eq!(QrPayload::decode(seven), Err(QrError::InvalidSecretLength));
        let eight = &good[..n - 8];
        assert_eq!(QrPayload::decode(eight).unwrap().secret().len(), 8);
        assert_eq!(
            QrPayload::new(QrMode::VerifyingAnotherUser, "t", a, b, &[0; 7]),
            Err(QrError::InvalidSecretLength)
        );
        assert_eq!(
            QrPayload::new(QrMode::VerifyingAnotherUser, "", a, b, &[0; 8]),
            Err(QrError::InvalidFlowId)
        );
    }

    #[test]
    fn generated_secret_is_16_bytes_and_hidden() {
        let mut rng = ChaCha20Rng::from_seed([9; 32]);
        let s = QrSecret::generate(&mut rng);
        assert_eq!(s.as_bytes().len(), 16);
        assert_eq!(std::format!("{s:?}"), "QrSecret { .. }");
    }

    #[test]
    fn checks_by_mode() {
        let mut rng = ChaCha20Rng::from_seed([10; 32]);
        let mut key = || Ed25519SecretKey::generate(&mut rng).public_key();
        let (my_master, my_device, their_master, their_device, other) =
            (key(), key(), key(), key(), key());
        let secret = [5u8; 16];

        // 0x00: they show (their master, my master).
        let code = QrPayload::new(
            QrMode::VerifyingAnotherUser,
            "t",
            their_master,
            my_master,
            &secret,
        )
        .unwrap();
        let mine = ScannerKeys {
            own_master: Some(my_master),
            own_device: Some(my_device),
            other_master: Some(their_master),
            other_device: Some(their_device),
        };
        let v = code.check_scanned(&mine).unwrap();
        assert_eq!((v.master_key(), v.device_key()), (Some(their_master), None));
        let wrong = ScannerKeys {
            other_master: Some(other),
            ..mine
        };
        assert_eq!(code.check_scanned(&wrong), Err(QrError::KeyMismatch));
        let wrong = ScannerKeys {
            own_master: None,
            ..mine
        };
        assert_eq!(code.check_scanned(&wrong), Err(QrError::KeyMismatch));
        let back = code.check_reciprocation(&secret).unwrap();
        assert_eq!(back.master_key(), Some(my_master));
        assert_eq!(
            code.check_reciprocation(&[5; 15]),
            Err(QrError::SecretMismatch)
        );
        assert_eq!(
            code.check_reciprocation(&[6; 16]),
            Err(QrError::SecretMismatch)
        );

        // 0x01: our other device trusts the master key and shows (master, my device).
        let code = QrPayload::new(
            QrMode::SelfVerifyingMasterKeyTrusted,
            "t",
            my_master,
            my_device,
            &secret,
        )
        .unwrap();
        let v = code.check_scanned(&mine).unwrap();
        assert_eq!((v.master_key(), v.device_key()), (Some(my_master), None));
        let wrong = ScannerKeys {
            own_device: Some(other),
            ..mine
        };
        assert_eq!(code.check_scanned(&wrong), Err(QrError::KeyMismatch));
        assert_eq!(
            code.check_reciprocation(&secret).unwrap().device_key(),
            Some(my_device)
        );

        // 0x02: our other device does not trust the master key and shows (its key, master).
        let code = QrPayload::new(
            QrMode::SelfVerifyingMasterKeyUntrusted,
            "t",
            their_device,
            my_master,
            &secret,
        )
        .unwrap();
        let v = code.check_scanned(&mine).unwrap();
        assert_eq!((v.master_key(), v.device_key()), (None, Some(their_device)));
        let wrong = ScannerKeys {
            other_device: Some(other),
            ..mine
        };
        assert_eq!(code.check_scanned(&wrong), Err(QrError::KeyMismatch));
        assert_eq!(
            code.check_reciprocation(&secret).unwrap().master_key(),
            Some(my_master)
        );
    }
}

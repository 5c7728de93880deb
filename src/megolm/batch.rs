//! Decrypting many messages of one session at once, with one Ed25519 batch verification.

use alloc::vec::Vec;

use rand_core::CryptoRng;

use super::message::MegolmMessage;
use super::{DecryptedMessage, InboundGroupSession};
use crate::Error;
use crate::error::GroupError;
use crate::limits::MEGOLM_MAX_BATCH;
use crate::primitives::ed25519_batch::verify_batch;

impl InboundGroupSession {
    /// Decrypts `messages` (raw bytes) of this session, for loading history: the signatures of up to
    /// [`MEGOLM_MAX_BATCH`] messages are verified together with one batch equation
    /// ([`crate::primitives::ed25519_batch`]), which is several times faster than one by one. The
    /// results come in the order of `messages`, each exactly what
    /// [`InboundGroupSession::decrypt`] would return, except that a signature rejected only by the
    /// strict single-signature rules but made with the session's own signing key may be accepted
    /// (see the batch module). If any signature of a batch is bad, that batch falls back to verifying
    /// one by one, so every good message still decrypts. `rng` supplies the batch weights.
    pub fn decrypt_batch<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        messages: &[&[u8]],
    ) -> Vec<Result<DecryptedMessage, Error>> {
        let mut results = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(MEGOLM_MAX_BATCH) {
            let parsed: Vec<Result<MegolmMessage<'_>, Error>> =
                chunk.iter().map(|m| MegolmMessage::parse(m)).collect();
            let all_valid = verify_batch(
                rng,
                &self.signing_key,
                parsed
                    .iter()
                    .flatten()
                    .map(|p| (p.signed_bytes(), p.signature())),
            )
            .is_ok();
            for p in parsed {
                results.push(p.and_then(|p| {
                    if !all_valid {
                        self.signing_key
                            .verify(p.signed_bytes(), p.signature())
                            .map_err(|_| GroupError::InvalidSignature)?;
                    }
                    let mut out = alloc::vec![0u8; p.ciphertext().len()];
                    let got = self.decrypt_verified(&p, &mut out)?;
                    out.truncate(got.plaintext_len);
                    Ok(DecryptedMessage {
                        plaintext: out,
                        message_index: got.message_index,
                    })
                }));
            }
        }
        results
    }
}

//! Signed JSON (Matrix Appendices, "Signing JSON"): the signing input, adding a signature, and checking
//! one signature by its expected signer and key id.
//!
//! The signing input of an object is its canonical JSON with the top-level `signatures` and
//! `unsigned` members removed (nested ones stay). A signature is unpadded base64 under
//! `signatures[<signer>][<algorithm>:<key id>]`; other signatures are kept.

use alloc::string::String;

use crate::codec::base64;
use crate::codec::json::{Object, Value, write_canonical};
use crate::error::IdentityError;
use crate::limits::MAX_SIGNATURES_PER_OBJECT;
use crate::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};

/// The canonical JSON an object's signatures cover: the object without its top-level `signatures` and
/// `unsigned` members, keys sorted, no insignificant whitespace.
#[must_use]
pub fn signing_input(object: &Object) -> String {
    let mut out = String::new();
    write_signing_input(object, &mut out);
    out
}

/// Writes [`signing_input`] to the end of `out`, without copying the object.
pub fn write_signing_input(object: &Object, out: &mut String) {
    out.push('{');
    let mut first = true;
    for (key, value) in object {
        if key == "signatures" || key == "unsigned" {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        write_key(key, out);
        out.push(':');
        write_canonical(value, out);
    }
    out.push('}');
}

fn write_key(key: &str, out: &mut String) {
    crate::codec::json::write_string(key, out);
}

/// Signs `object` with `key` and stores the signature under `signatures[signer][key_id]`, keeping every
/// other signature. `key_id` is the full id, for example `ed25519:DEVICEID`.
///
/// # Errors
/// [`IdentityError::Malformed`] when `object` has a `signatures` member that is not an object of
/// objects.
pub fn sign(
    object: &mut Object,
    signer: &str,
    key_id: &str,
    key: &Ed25519SecretKey,
) -> Result<Ed25519Signature, IdentityError> {
    // Check the shape first, so that a failure leaves `object` as it was.
    if let Some(sigs) = object.get("signatures") {
        let sigs = sigs.as_object().ok_or(IdentityError::Malformed)?;
        if let Some(entity) = sigs.get(signer) {
            entity.as_object().ok_or(IdentityError::Malformed)?;
        }
    }
    let signature = key.sign(signing_input(object).as_bytes());
    let sigs = object
        .entry("signatures".into())
        .or_insert_with(|| Value::Object(Object::new()));
    if let Value::Object(sigs) = sigs {
        let entity = sigs
            .entry(signer.into())
            .or_insert_with(|| Value::Object(Object::new()));
        if let Value::Object(entity) = entity {
            entity.insert(
                key_id.into(),
                Value::String(base64::encode(signature.as_bytes())),
            );
            return Ok(signature);
        }
    }
    Err(IdentityError::Malformed)
}

/// Checks that the `signatures` member, if present, is an object of objects of strings, with at most
/// [`MAX_SIGNATURES_PER_OBJECT`] signatures in all.
///
/// # Errors
/// [`IdentityError::Malformed`] for another shape, [`IdentityError::TooLarge`] for too many signatures.
pub fn check_signatures_shape(object: &Object) -> Result<(), IdentityError> {
    let Some(sigs) = object.get("signatures") else {
        return Ok(());
    };
    let sigs = sigs.as_object().ok_or(IdentityError::Malformed)?;
    let mut count = 0usize;
    for entity in sigs.values() {
        let entity = entity.as_object().ok_or(IdentityError::Malformed)?;
        for sig in entity.values() {
            sig.as_str().ok_or(IdentityError::Malformed)?;
            count += 1;
        }
    }
    if count > MAX_SIGNATURES_PER_OBJECT {
        return Err(IdentityError::TooLarge);
    }
    Ok(())
}

/// The signature stored under `signatures[signer][key_id]`, if there is one.
///
/// # Errors
/// [`IdentityError::InvalidSignature`] when it is not base64 of 64 bytes.
pub fn find_signature(
    object: &Object,
    signer: &str,
    key_id: &str,
) -> Result<Option<Ed25519Signature>, IdentityError> {
    let Some(sig) = object
        .get("signatures")
        .and_then(|s| s.get(signer))
        .and_then(|e| e.get(key_id))
    else {
        return Ok(None);
    };
    let text = sig.as_str().ok_or(IdentityError::InvalidSignature)?;
    let mut bytes = [0u8; 64];
    base64::decode_array_into(text, &mut bytes).map_err(|_| IdentityError::InvalidSignature)?;
    Ok(Some(Ed25519Signature::from_bytes(bytes)))
}

/// Verifies the signature under `signatures[signer][key_id]` with `key`.
///
/// # Errors
/// [`IdentityError::MissingSignature`] when there is none; [`IdentityError::InvalidSignature`] when it
/// does not verify (over the signing input, strictly) or is not a 64-byte signature.
pub fn verify(
    object: &Object,
    signer: &str,
    key_id: &str,
    key: &Ed25519PublicKey,
) -> Result<(), IdentityError> {
    let signature =
        find_signature(object, signer, key_id)?.ok_or(IdentityError::MissingSignature)?;
    key.verify(signing_input(object).as_bytes(), &signature)
        .map_err(|_| IdentityError::InvalidSignature)
}

/// The key id of an Ed25519 key named by `name`: `ed25519:<name>`.
#[must_use]
pub fn ed25519_key_id(name: &str) -> String {
    let mut id = String::from("ed25519:");
    id.push_str(name);
    id
}

/// The unpadded base64 of a public key, which is also its name in cross-signing key ids.
#[must_use]
pub fn key_name(key: &Ed25519PublicKey) -> String {
    base64::encode(key.as_bytes())
}

//! Known-answer tests from the RFCs and NIST documents behind `safemeet::primitives`.
//!
//! Each `test-vectors/*.json` file read here names its source document and section; how each was
//! transcribed and cross-checked is in `test-vectors/README.md`. Every test runs the published values
//! through our public API only and prints what it checked.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

use common::{arr, hex};
use safemeet::CryptoError;
use safemeet::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey};
use safemeet::primitives::ed25519::{Ed25519PublicKey, Ed25519SecretKey, Ed25519Signature};
use safemeet::primitives::{aead, aes, array_ref, hkdf, hmac, pbkdf2};
use serde::Deserialize;

fn load<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> T {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every vector file carries its provenance.
#[derive(Deserialize)]
struct Sourced<T> {
    source: String,
    #[serde(flatten)]
    body: T,
}

// ---------------------------------------------------------------------------------------------------
// RFC 7748: X25519

#[derive(Deserialize)]
struct X25519File {
    scalar_mult: Vec<ScalarMult>,
    iterated: Iterated,
    diffie_hellman: AliceBob,
}

#[derive(Deserialize)]
struct ScalarMult {
    name: String,
    scalar: String,
    u: String,
    output: String,
}

#[derive(Deserialize)]
struct Iterated {
    k: String,
    after_1: String,
    after_1000: String,
}

#[derive(Deserialize)]
struct AliceBob {
    alice_private: String,
    alice_public: String,
    bob_private: String,
    bob_public: String,
    shared: String,
}

/// X25519(k, u) through our API.
fn x25519(k: &[u8; 32], u: [u8; 32]) -> [u8; 32] {
    *Curve25519SecretKey::from_bytes(k)
        .diffie_hellman(&Curve25519PublicKey::from_bytes(u))
        .unwrap()
        .as_bytes()
}

#[test]
fn rfc7748_x25519() {
    const NAME: &str = "rfc7748_x25519.json";
    let f: Sourced<X25519File> = load(NAME, include_str!("../test-vectors/rfc7748_x25519.json"));
    assert!(f.source.contains("RFC 7748"));
    let v = f.body;

    for t in &v.scalar_mult {
        assert_eq!(
            x25519(&arr(&t.scalar), arr(&t.u)),
            arr::<32>(&t.output),
            "{}",
            t.name
        );
    }

    // k = u = 9; (k, u) = (X25519(k, u), k), checked after 1 and 1,000 steps.
    let mut k: [u8; 32] = arr(&v.iterated.k);
    let mut u = k;
    for i in 1..=1000 {
        let next = x25519(&k, u);
        u = k;
        k = next;
        if i == 1 {
            assert_eq!(k, arr::<32>(&v.iterated.after_1), "after one iteration");
        }
    }
    assert_eq!(
        k,
        arr::<32>(&v.iterated.after_1000),
        "after 1,000 iterations"
    );

    let dh = &v.diffie_hellman;
    let alice = Curve25519SecretKey::from_bytes(&arr(&dh.alice_private));
    let bob = Curve25519SecretKey::from_bytes(&arr(&dh.bob_private));
    assert_eq!(alice.public_key().to_bytes(), arr::<32>(&dh.alice_public));
    assert_eq!(bob.public_key().to_bytes(), arr::<32>(&dh.bob_public));
    let alice_public = Curve25519PublicKey::from_slice(&hex(&dh.alice_public)).unwrap();
    let bob_public = Curve25519PublicKey::from_slice(&hex(&dh.bob_public)).unwrap();
    let k_a = alice.diffie_hellman(&bob_public).unwrap();
    let k_b = bob.diffie_hellman(&alice_public).unwrap();
    assert_eq!(k_a.as_bytes(), &arr::<32>(&dh.shared));
    assert_eq!(k_a, k_b);

    println!(
        "{NAME}: {} scalar multiplications, 1,000 iterations (2 checkpoints), Alice/Bob keys and shared secret: all ok",
        v.scalar_mult.len()
    );
}

// ---------------------------------------------------------------------------------------------------
// RFC 8032: Ed25519

#[derive(Deserialize)]
struct Ed25519File {
    tests: Vec<Ed25519Vector>,
}

#[derive(Deserialize)]
struct Ed25519Vector {
    name: String,
    secret_key: String,
    public_key: String,
    message: String,
    signature: String,
}

#[test]
fn rfc8032_ed25519() {
    const NAME: &str = "rfc8032_ed25519.json";
    let f: Sourced<Ed25519File> = load(NAME, include_str!("../test-vectors/rfc8032_ed25519.json"));
    assert!(f.source.contains("RFC 8032"));
    for t in &f.body.tests {
        let secret = Ed25519SecretKey::from_seed(&arr(&t.secret_key));
        let public = secret.public_key();
        assert_eq!(
            public.as_bytes(),
            &arr::<32>(&t.public_key),
            "{}: public key",
            t.name
        );
        let message = hex(&t.message);
        let signature = secret.sign(&message);
        assert_eq!(
            signature.to_bytes(),
            arr::<64>(&t.signature),
            "{}: signature",
            t.name
        );

        // The published key and signature, decoded from bytes, verify; a changed message does not.
        let public = Ed25519PublicKey::from_slice(&hex(&t.public_key)).unwrap();
        let signature = Ed25519Signature::from_slice(&hex(&t.signature)).unwrap();
        assert_eq!(
            public.verify(&message, &signature),
            Ok(()),
            "{}: verify",
            t.name
        );
        let mut other = message.clone();
        other.push(0);
        assert_eq!(
            public.verify(&other, &signature),
            Err(CryptoError::InvalidSignature),
            "{}: verify of a changed message",
            t.name
        );
    }
    println!(
        "{NAME}: {} vectors ({}): public key, signature and verification ok",
        f.body.tests.len(),
        f.body
            .tests
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

// ---------------------------------------------------------------------------------------------------
// RFC 8439: ChaCha20-Poly1305

#[derive(Deserialize)]
struct AeadFile {
    tests: Vec<AeadVector>,
}

#[derive(Deserialize)]
struct AeadVector {
    name: String,
    operation: String,
    key: String,
    nonce: String,
    aad: String,
    plaintext: String,
    ciphertext: String,
    tag: String,
}

#[test]
fn rfc8439_chacha20poly1305() {
    const NAME: &str = "rfc8439_chacha20poly1305.json";
    let f: Sourced<AeadFile> = load(
        NAME,
        include_str!("../test-vectors/rfc8439_chacha20poly1305.json"),
    );
    assert!(f.source.contains("RFC 8439"));
    for t in &f.body.tests {
        let key: [u8; aead::KEY_LEN] = arr(&t.key);
        let nonce = hex(&t.nonce);
        let nonce = array_ref::<{ aead::NONCE_LEN }>(&nonce).unwrap();
        let (aad, plaintext) = (hex(&t.aad), hex(&t.plaintext));
        let mut sealed = hex(&t.ciphertext);
        sealed.extend_from_slice(&hex(&t.tag));
        assert!(
            matches!(t.operation.as_str(), "seal" | "open"),
            "{}",
            t.name
        );

        // Both directions for both vectors: the RFC's direction is named in `operation`.
        let mut out = vec![0u8; aead::sealed_len(plaintext.len())];
        let n = aead::seal_into(&key, nonce, &aad, &plaintext, &mut out).unwrap();
        assert_eq!(&out[..n], &sealed[..], "{}: seal", t.name);

        let mut opened = vec![0u8; plaintext.len()];
        let n = aead::open_into(&key, nonce, &aad, &sealed, &mut opened).unwrap();
        assert_eq!(&opened[..n], &plaintext[..], "{}: open", t.name);

        let mut forged = sealed.clone();
        *forged.last_mut().unwrap() ^= 1;
        assert_eq!(
            aead::open_into(&key, nonce, &aad, &forged, &mut opened),
            Err(CryptoError::Authentication),
            "{}: a changed tag",
            t.name
        );
    }
    println!(
        "{NAME}: {} vectors (2.8.2 seal, A.5 open; each checked both ways, and with a changed tag): ok",
        f.body.tests.len()
    );
}

// ---------------------------------------------------------------------------------------------------
// RFC 5869: HKDF-SHA-256

#[derive(Deserialize)]
struct HkdfFile {
    tests: Vec<HkdfVector>,
}

#[derive(Deserialize)]
struct HkdfVector {
    name: String,
    ikm: String,
    salt: String,
    info: String,
    length: usize,
    prk: String,
    okm: String,
}

#[test]
fn rfc5869_hkdf_sha256() {
    const NAME: &str = "rfc5869_hkdf_sha256.json";
    let f: Sourced<HkdfFile> = load(
        NAME,
        include_str!("../test-vectors/rfc5869_hkdf_sha256.json"),
    );
    assert!(f.source.contains("RFC 5869"));
    for t in &f.body.tests {
        let (ikm, salt, info) = (hex(&t.ikm), hex(&t.salt), hex(&t.info));
        let mut okm = vec![0u8; t.length];
        hkdf::hkdf_sha256(&salt, &ikm, &info, &mut okm).unwrap();
        assert_eq!(okm, hex(&t.okm), "{}: hkdf_sha256", t.name);

        // There is no extract-only API; PRK = HMAC-SHA-256(salt, IKM), with an empty salt standing for
        // HashLen zero bytes, which HMAC's zero padding makes the same key.
        assert_eq!(
            hmac::hmac_sha256(&salt, &ikm)[..],
            hex(&t.prk)[..],
            "{}: PRK",
            t.name
        );

        let mut again = vec![0u8; t.length];
        hkdf::Hkdf::new(&salt, &ikm)
            .expand(&info, &mut again)
            .unwrap();
        assert_eq!(again, okm, "{}: Hkdf::new + expand", t.name);
    }
    println!(
        "{NAME}: {} test cases (OKM via hkdf_sha256 and Hkdf::expand; PRK as HMAC-SHA-256(salt, IKM), there is no extract-only API): ok",
        f.body.tests.len()
    );
}

// ---------------------------------------------------------------------------------------------------
// RFC 4231: HMAC-SHA-256

#[derive(Deserialize)]
struct HmacFile {
    tests: Vec<HmacVector>,
}

#[derive(Deserialize)]
struct HmacVector {
    case: u32,
    key: String,
    data: String,
    hmac_sha256: String,
    truncated_to_bits: Option<usize>,
}

#[test]
fn rfc4231_hmac_sha256() {
    const NAME: &str = "rfc4231_hmac_sha256.json";
    let f: Sourced<HmacFile> = load(
        NAME,
        include_str!("../test-vectors/rfc4231_hmac_sha256.json"),
    );
    assert!(f.source.contains("RFC 4231"));
    let mut truncated = 0;
    for t in &f.body.tests {
        let (key, data, tag) = (hex(&t.key), hex(&t.data), hex(&t.hmac_sha256));
        let computed = hmac::hmac_sha256(&key, &data);
        assert_eq!(&computed[..tag.len()], &tag[..], "case {}", t.case);
        match t.truncated_to_bits {
            None => {
                let tag = array_ref::<{ hmac::TAG_LEN }>(&tag).unwrap();
                assert_eq!(
                    hmac::verify_hmac_sha256(&key, &data, tag),
                    Ok(()),
                    "case {}",
                    t.case
                );
                let mut bad = *tag;
                bad[0] ^= 1;
                assert_eq!(
                    hmac::verify_hmac_sha256(&key, &data, &bad),
                    Err(CryptoError::Authentication),
                    "case {}: changed tag",
                    t.case
                );
            }
            Some(bits) => {
                truncated += 1;
                assert_eq!(tag.len() * 8, bits, "case {}", t.case);
                assert_eq!(
                    hmac::verify_hmac_sha256_truncated(&key, &data, &tag),
                    Ok(()),
                    "case {}: truncated verify",
                    t.case
                );
                let mut bad = tag.clone();
                *bad.last_mut().unwrap() ^= 1;
                assert_eq!(
                    hmac::verify_hmac_sha256_truncated(&key, &data, &bad),
                    Err(CryptoError::Authentication),
                    "case {}: changed truncated tag",
                    t.case
                );
            }
        }
    }
    println!(
        "{NAME}: {} test cases ({} full tags computed and verified, {truncated} truncated to 128 bits checked with verify_hmac_sha256_truncated): ok",
        f.body.tests.len(),
        f.body.tests.len() - truncated
    );
}

// ---------------------------------------------------------------------------------------------------
// NIST SP 800-38A: AES-256 in CBC and CTR mode

#[derive(Deserialize)]
struct NistFile {
    tests: Vec<NistVector>,
}

#[derive(Deserialize)]
struct NistVector {
    section: String,
    mode: String,
    operation: String,
    key: String,
    iv: Option<String>,
    initial_counter: Option<String>,
    input: String,
    output: String,
}

#[test]
fn nist_sp800_38a_aes256() {
    const NAME: &str = "nist_sp800_38a_aes256.json";
    let f: Sourced<NistFile> = load(
        NAME,
        include_str!("../test-vectors/nist_sp800_38a_aes256.json"),
    );
    assert!(f.source.contains("SP 800-38A"));
    let mut raw_blocks = 0;
    for t in &f.body.tests {
        let key: [u8; aes::KEY_LEN] = arr(&t.key);
        let (input, output) = (hex(&t.input), hex(&t.output));
        match (t.mode.as_str(), t.operation.as_str()) {
            ("CBC", op) => {
                let iv: [u8; aes::IV_LEN] = arr(t.iv.as_deref().unwrap());
                let (plaintext, ciphertext) = match op {
                    "encrypt" => (&input, &output),
                    "decrypt" => (&output, &input),
                    other => panic!("{}: operation {other}", t.section),
                };
                // Through the padded public API: CBC is prefix-preserving, so the first blocks of the
                // PKCS#7 ciphertext are the unpadded NIST ciphertext and one padding block follows.
                let mut padded = vec![0u8; aes::aes256_cbc_padded_len(plaintext.len())];
                let n = aes::aes256_cbc_encrypt_into(&key, &iv, plaintext, &mut padded).unwrap();
                assert_eq!(n, ciphertext.len() + aes::BLOCK_LEN, "{}", t.section);
                assert_eq!(
                    &padded[..ciphertext.len()],
                    &ciphertext[..],
                    "{}: padded encrypt",
                    t.section
                );
                // Decrypt the NIST blocks followed by that padding block.
                let mut with_pad = ciphertext.clone();
                with_pad.extend_from_slice(&padded[ciphertext.len()..n]);
                let mut pt = vec![0u8; with_pad.len()];
                let m = aes::aes256_cbc_decrypt_into(&key, &iv, &with_pad, &mut pt).unwrap();
                assert_eq!(&pt[..m], &plaintext[..], "{}: padded decrypt", t.section);
                // The raw whole-block functions, when the `hazmat` feature provides them.
                raw_blocks += cbc_raw_blocks(&t.section, op, &key, &iv, &input, &output);
            }
            ("CTR", "encrypt" | "decrypt") => {
                let counter: [u8; aes::IV_LEN] = arr(t.initial_counter.as_deref().unwrap());
                let mut buf = input.clone();
                aes::aes256_ctr_apply(&key, &counter, &mut buf);
                assert_eq!(buf, output, "{}: CTR", t.section);
            }
            (mode, op) => panic!("{}: unknown {mode} {op}", t.section),
        }
    }
    println!(
        "{NAME}: {} vectors (F.2.5/F.2.6 CBC through the PKCS#7 API, F.5.5/F.5.6 CTR): ok; raw CBC block functions checked on {raw_blocks} (needs the hazmat feature)",
        f.body.tests.len()
    );
}

#[cfg(feature = "hazmat")]
fn cbc_raw_blocks(
    section: &str,
    op: &str,
    key: &[u8; 32],
    iv: &[u8; 16],
    input: &[u8],
    output: &[u8],
) -> usize {
    let mut buf = input.to_vec();
    match op {
        "encrypt" => aes::aes256_cbc_encrypt_blocks(key, iv, &mut buf).unwrap(),
        _ => aes::aes256_cbc_decrypt_blocks(key, iv, &mut buf).unwrap(),
    }
    assert_eq!(buf, output, "{section}: raw blocks");
    let mut partial = input.to_vec();
    partial.pop();
    assert_eq!(
        aes::aes256_cbc_encrypt_blocks(key, iv, &mut partial),
        Err(CryptoError::InvalidLength),
        "{section}: a partial block"
    );
    1
}

#[cfg(not(feature = "hazmat"))]
fn cbc_raw_blocks(_: &str, _: &str, _: &[u8; 32], _: &[u8; 16], _: &[u8], _: &[u8]) -> usize {
    0
}

// ---------------------------------------------------------------------------------------------------
// PBKDF2-HMAC-SHA-512

#[derive(Deserialize)]
struct Pbkdf2File {
    tests: Vec<Pbkdf2Vector>,
}

#[derive(Deserialize)]
struct Pbkdf2Vector {
    password: String,
    salt: String,
    rounds: u32,
    dk: String,
    origin: String,
}

#[test]
fn pbkdf2_hmac_sha512() {
    const NAME: &str = "pbkdf2_hmac_sha512.json";
    let f: Sourced<Pbkdf2File> = load(
        NAME,
        include_str!("../test-vectors/pbkdf2_hmac_sha512.json"),
    );
    assert!(f.source.contains("PBKDF2-HMAC-SHA-512"));
    for t in &f.body.tests {
        let expected = hex(&t.dk);
        let mut out = vec![0u8; expected.len()];
        pbkdf2::pbkdf2_hmac_sha512(&hex(&t.password), &hex(&t.salt), t.rounds, &mut out).unwrap();
        assert_eq!(out, expected, "{} rounds ({})", t.rounds, t.origin);
    }
    println!(
        "{NAME}: {} vectors (rounds {}): ok",
        f.body.tests.len(),
        f.body
            .tests
            .iter()
            .map(|t| t.rounds.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

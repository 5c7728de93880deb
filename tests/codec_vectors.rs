//! Known-answer tests for the text codecs: `test-vectors/base64.json` and `test-vectors/base58.json`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use safemeet::CodecError;
use safemeet::codec::{base58, base64};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/test-vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Every group a case names must have its provenance in the top-level "source".
    let sources = value["source"].as_object().expect("a \"source\" object");
    for list in ["valid", "invalid", "lengths", "too_large"] {
        for case in value[list].as_array().into_iter().flatten() {
            let group = case["group"].as_str().expect("a group");
            assert!(
                sources.contains_key(group),
                "{name}: group {group} has no source"
            );
        }
    }
    value
}

fn cases<'a>(file: &'a Value, list: &str) -> &'a [Value] {
    file[list].as_array().map_or(&[], Vec::as_slice)
}

fn str_field<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing {key} in {case}"))
}

fn hex(case: &Value) -> Vec<u8> {
    let s = str_field(case, "hex");
    assert!(s.len().is_multiple_of(2), "odd hex length in {case}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn error(name: &str) -> CodecError {
    match name {
        "InvalidBase64" => CodecError::InvalidBase64,
        "NonCanonicalBase64" => CodecError::NonCanonicalBase64,
        "InvalidBase58" => CodecError::InvalidBase58,
        "TooLarge" => CodecError::TooLarge,
        other => panic!("unknown error name {other}"),
    }
}

fn b64_encode(bytes: &[u8]) -> String {
    let mut out = vec![0u8; base64::encoded_len(bytes.len())];
    let n = base64::encode_into(bytes, &mut out).unwrap();
    assert_eq!(n, out.len());
    String::from_utf8(out).unwrap()
}

fn b64_decode(text: &str) -> Result<Vec<u8>, CodecError> {
    let mut out = vec![0u8; base64::decoded_len_estimate(text.len())];
    let n = base64::decode_into(text, &mut out)?;
    assert_eq!(base64::decoded_len(text), Ok(n), "{text}");
    out.truncate(n);
    Ok(out)
}

#[test]
fn base64_vectors() {
    let file = load("base64.json");
    let (mut valid, mut invalid, mut lengths) = (0, 0, 0);
    for case in cases(&file, "valid") {
        let bytes = hex(case);
        if let Some(text) = case["text"].as_str() {
            assert_eq!(text.as_bytes(), bytes, "{case}");
        }
        let unpadded = str_field(case, "unpadded");
        assert_eq!(b64_encode(&bytes), unpadded, "{case}");
        assert_eq!(b64_decode(unpadded).unwrap(), bytes, "{case}");
        if let Some(padded) = case["padded"].as_str() {
            assert_eq!(padded.trim_end_matches('='), unpadded, "{case}");
            assert_eq!(b64_decode(padded).unwrap(), bytes, "{case}");
        }
        #[cfg(feature = "alloc")]
        {
            assert_eq!(base64::encode(&bytes), unpadded);
            assert_eq!(base64::decode(unpadded).unwrap(), bytes);
        }
        valid += 1;
    }
    for case in cases(&file, "lengths") {
        let n = usize::try_from(case["bytes"].as_u64().unwrap()).unwrap();
        let chars = usize::try_from(case["chars"].as_u64().unwrap()).unwrap();
        assert_eq!(base64::encoded_len(n), chars, "{case}");
        assert_eq!(b64_encode(&vec![0xa5; n]).len(), chars, "{case}");
        assert_eq!(base64::decoded_len_estimate(chars), n, "{case}");
        lengths += 1;
    }
    for case in cases(&file, "invalid") {
        let input = str_field(case, "input");
        let expected = error(str_field(case, "error"));
        assert_eq!(b64_decode(input), Err(expected), "{case}");
        #[cfg(feature = "alloc")]
        assert_eq!(base64::decode(input), Err(expected), "{case}");
        invalid += 1;
    }
    assert!(valid >= 14 && invalid >= 9 && lengths >= 4);
    println!("base64: {valid} valid, {invalid} invalid, {lengths} length cases passed");
}

#[test]
fn base58_vectors() {
    let file = load("base58.json");
    let (mut valid, mut invalid, mut too_large) = (0, 0, 0);
    for case in cases(&file, "valid") {
        let bytes = hex(case);
        if let Some(text) = case["text"].as_str() {
            assert_eq!(text.as_bytes(), bytes, "{case}");
        }
        let encoded = str_field(case, "encoded");

        let mut text = vec![0u8; base58::encoded_len_max(bytes.len())];
        let n = base58::encode_into(&bytes, &mut text).unwrap();
        assert_eq!(&text[..n], encoded.as_bytes(), "{case}");
        assert_eq!(base58::encoded_len(&bytes), Ok(n), "{case}");

        let mut out = vec![0u8; base58::decoded_len_max(encoded.len())];
        let m = base58::decode_into(encoded, &mut out).unwrap();
        assert_eq!(&out[..m], bytes, "{case}");
        assert_eq!(base58::decoded_len(encoded), Ok(m), "{case}");
        #[cfg(feature = "alloc")]
        {
            assert_eq!(base58::encode(&bytes).unwrap(), encoded);
            assert_eq!(base58::decode(encoded).unwrap(), bytes);
        }
        valid += 1;
    }
    for case in cases(&file, "too_large") {
        let bytes = hex(case);
        let encoded = str_field(case, "encoded");
        let mut buf = vec![0u8; 1024];
        assert_eq!(
            base58::encode_into(&bytes, &mut buf),
            Err(CodecError::TooLarge),
            "{case}"
        );
        assert_eq!(
            base58::decode_into(encoded, &mut buf),
            Err(CodecError::TooLarge),
            "{case}"
        );
        too_large += 1;
    }
    for case in cases(&file, "invalid") {
        let input = str_field(case, "input");
        let expected = error(str_field(case, "error"));
        let mut buf = vec![0u8; input.len()];
        assert_eq!(
            base58::decode_into(input, &mut buf),
            Err(expected),
            "{case}"
        );
        invalid += 1;
    }
    assert!(valid >= 14 && invalid >= 4 && too_large >= 1);
    println!("base58: {valid} valid, {too_large} too-large, {invalid} invalid cases passed");
}

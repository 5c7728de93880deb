//! Canonical JSON against an independent oracle: for random JSON values, `codec::json` parses
//! serde_json's pretty output (whitespace, any member order) and writes exactly what serde_json
//! writes for the same value with sorted keys. serde_json's map is a `BTreeMap` (byte order, which is
//! code-point order) and its string escaping is the canonical one (short escapes, `\u00xx` in
//! lowercase hex for other controls, everything else literal), so for integer-only values its compact
//! output is canonical JSON.
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use safemeet::codec::json::{self, MAX_SAFE_INTEGER, Value};

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
        "[\\x00-\\x20\"\\\\/\\x7f]{0,6}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn canonical_form_matches_serde_json(value in arb_json()) {
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let ours = json::parse(pretty.as_bytes()).unwrap();
        let canonical = ours.to_canonical();
        prop_assert_eq!(&canonical, &serde_json::to_string(&value).unwrap());
        // A fixed point.
        prop_assert_eq!(json::parse(canonical.as_bytes()).unwrap(), ours);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = json::parse(&bytes) {
            let c = v.to_canonical();
            prop_assert_eq!(json::parse(c.as_bytes()).unwrap(), v);
        }
    }
}

#[test]
fn escaped_input_matches_serde_json_decoding() {
    // serde_json escapes nothing beyond the minimum; `ensure_ascii`-style input must decode the same.
    let text = r#"{"\u00e9\u65e5\ud83d\ude00":"\u0000\u001F\u007f\/"}"#;
    let ours = json::parse(text.as_bytes()).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(ours.to_canonical(), serde_json::to_string(&theirs).unwrap());
    assert!(matches!(ours, Value::Object(_)));
}

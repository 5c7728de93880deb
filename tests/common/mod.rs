//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use safemeet::primitives::array_ref;

/// Decodes lowercase or uppercase hex; panics on anything else (test data only).
pub(crate) fn hex(s: &str) -> Vec<u8> {
    fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("bad hex digit {c:#04x}"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len().is_multiple_of(2), "odd-length hex string");
    b.chunks_exact(2)
        .map(|p| (nibble(p[0]) << 4) | nibble(p[1]))
        .collect()
}

/// Hex into a fixed-size array; panics when the length is wrong.
pub(crate) fn arr<const N: usize>(s: &str) -> [u8; N] {
    *array_ref::<N>(&hex(s)).unwrap_or_else(|_| panic!("expected {N} bytes: {s}"))
}

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

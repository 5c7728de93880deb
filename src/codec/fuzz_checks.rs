//! Round-trip checks over arbitrary bytes, shared by the `codec` fuzz target (`fuzz/fuzz_targets/codec.rs`)
//! and the corpus replay test (`tests/fuzz_corpus.rs`).
//!
//! Not part of the public API. Unlike the rest of the crate this module panics on purpose: a failed
//! `assert!` is how a fuzzer reports a decoder that accepted something it cannot reproduce, lost data, or
//! moved a reader on failure. It needs no allocator: all scratch space is on the stack, and inputs are
//! truncated to fit it.

use super::{CodecError, Reader, Writer, base58, base64, proto, varint_len};
use crate::limits::{MAX_BASE58_BYTES, MAX_BASE58_LEN, MAX_VARINT_LEN};

/// The most input bytes the base64 checks look at (libFuzzer's default `-max_len` is 4096).
const BASE64_MAX_INPUT: usize = 4096;

/// Scratch space for decoded base64 of [`BASE64_MAX_INPUT`] characters.
const BASE64_MAX_DECODED: usize = base64::decoded_len_estimate(BASE64_MAX_INPUT);

/// Scratch space for re-encoded base64 of [`BASE64_MAX_INPUT`] bytes.
const BASE64_MAX_ENCODED: usize = base64::encoded_len(BASE64_MAX_INPUT);

/// Runs every codec check on `data`; panics if any round trip or invariant fails.
pub fn check_codec(data: &[u8]) {
    check_varints(data);
    check_fields(data);
    check_base64_decode(data);
    check_base64_encode(data);
    check_base58_decode(data);
    check_base58_encode(data);
}

/// Reads varints until the end, skipping a byte after each error. Every accepted varint must re-encode
/// to exactly the bytes it was read from; a failed read must not move the reader.
fn check_varints(data: &[u8]) {
    let mut r = Reader::new(data);
    while !r.is_empty() {
        let before = r.clone();
        match r.read_varint() {
            Ok(v) => {
                let consumed = &before.rest()[..r.position() - before.position()];
                assert_eq!(consumed.len(), varint_len(v));
                let mut buf = [0u8; MAX_VARINT_LEN];
                let mut w = Writer::new(&mut buf);
                w.write_varint(v).expect("a varint fits in ten bytes");
                let n = w.finish();
                assert_eq!(
                    &buf[..n],
                    consumed,
                    "varint does not re-encode to its input"
                );

                // One byte short: refused, nothing written.
                let mut small = [0xa5u8; MAX_VARINT_LEN];
                let mut w = Writer::new(&mut small[..n - 1]);
                assert_eq!(
                    w.write_varint(v),
                    Err(CodecError::BufferTooSmall { needed: n })
                );
                assert_eq!(w.finish(), 0);
                assert_eq!(small, [0xa5; MAX_VARINT_LEN]);

                // The narrowing reads agree with the wide one.
                assert_eq!(before.clone().read_varint_u32().ok(), u32::try_from(v).ok());
                assert_eq!(
                    before.clone().read_varint_usize().ok(),
                    usize::try_from(v).ok()
                );
            }
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        CodecError::UnexpectedEnd
                            | CodecError::VarintOverflow
                            | CodecError::NonCanonicalVarint
                    ),
                    "unexpected varint error {e:?}"
                );
                assert_eq!(r.position(), before.position(), "failed read moved");
                r.read_u8().expect("not empty");
            }
        }
    }
}

/// Reads fields until the end or the first error. Every accepted field must re-encode to exactly the
/// bytes it was read from; the iterator must agree with [`Reader::read_field`].
fn check_fields(data: &[u8]) {
    let mut r = Reader::new(data);
    let mut fields = proto::FieldReader::new(data);
    loop {
        let before = r.clone();
        let result = r.read_field();
        assert_eq!(fields.next(), result.transpose(), "iterator disagrees");
        match result {
            Ok(None) => {
                assert!(r.is_empty());
                assert_eq!(r.finish(), Ok(()));
                break;
            }
            Ok(Some(field)) => {
                let consumed = &before.rest()[..r.position() - before.position()];
                assert_eq!(field.encoded_len(), consumed.len());
                assert!((1..=crate::limits::MAX_FIELD_NUMBER).contains(&field.number));
                let mut buf = [0u8; 2 * MAX_VARINT_LEN];
                let header_len = consumed.len()
                    - match field.value {
                        proto::FieldValue::Bytes(b) => b.len(),
                        proto::FieldValue::Varint(_) => 0,
                    };
                // Re-encode the key, and the length or value, and compare.
                let mut w = Writer::new(&mut buf);
                w.write_field_key(field.number, field.value.wire_type())
                    .expect("fits");
                match field.value {
                    proto::FieldValue::Varint(v) => w.write_varint(v).expect("fits"),
                    proto::FieldValue::Bytes(b) => {
                        w.write_varint(b.len() as u64).expect("fits");
                        assert_eq!(&consumed[header_len..], b);
                    }
                }
                let n = w.finish();
                assert_eq!(&buf[..n], &consumed[..header_len]);

                // A whole-field write into a buffer one byte short is refused and writes nothing.
                let mut small = [0xa5u8; 2 * MAX_VARINT_LEN];
                if let Some(dst) = small.get_mut(..consumed.len() - 1) {
                    let mut w = Writer::new(dst);
                    assert_eq!(
                        w.write_field(&field),
                        Err(CodecError::BufferTooSmall {
                            needed: consumed.len()
                        })
                    );
                    assert_eq!(w.finish(), 0);
                    assert!(small.iter().all(|&b| b == 0xa5));
                }
            }
            Err(_) => {
                assert_eq!(r.position(), before.position(), "failed read moved");
                assert_eq!(fields.next(), None, "iterator continued after an error");
                break;
            }
        }
    }
}

/// Decodes the input as base64. If it is accepted, re-encoding must give the input without its padding,
/// and the padding-free form must decode to the same bytes.
fn check_base64_decode(data: &[u8]) {
    let input = &data[..data.len().min(BASE64_MAX_INPUT)];
    let mut decoded = [0u8; BASE64_MAX_DECODED];
    match base64::decode_into(input, &mut decoded) {
        Ok(n) => {
            assert_eq!(base64::decoded_len(input), Ok(n));
            let decoded = &decoded[..n];
            let unpadded = input
                .strip_suffix(b"==")
                .or_else(|| input.strip_suffix(b"="))
                .unwrap_or(input);
            let mut text = [0u8; BASE64_MAX_ENCODED];
            let m = base64::encode_into(decoded, &mut text).expect("buffer is large enough");
            assert_eq!(
                &text[..m],
                unpadded,
                "base64 accepted a non-canonical input"
            );
            let mut again = [0u8; BASE64_MAX_DECODED];
            let k = base64::decode_into(&text[..m], &mut again).expect("canonical form decodes");
            assert_eq!(&again[..k], decoded);
        }
        Err(e) => assert!(
            matches!(
                e,
                CodecError::InvalidBase64 | CodecError::NonCanonicalBase64
            ),
            "unexpected base64 error {e:?}"
        ),
    }
}

/// Encodes the input as base64 (unpadded and padded), decodes it and compares; checks that a buffer one
/// byte short is refused untouched.
fn check_base64_encode(data: &[u8]) {
    let input = &data[..data.len().min(BASE64_MAX_INPUT)];
    let mut text = [0u8; BASE64_MAX_ENCODED + 2];
    let m = base64::encode_into(input, &mut text).expect("buffer is large enough");
    assert_eq!(m, base64::encoded_len(input.len()));
    assert!(!text[..m].contains(&b'='));
    let mut decoded = [0u8; BASE64_MAX_INPUT];
    let n = base64::decode_into(&text[..m], &mut decoded).expect("own output decodes");
    assert_eq!(&decoded[..n], input);

    // Padded to a whole group, it decodes the same.
    let padded = m.next_multiple_of(4);
    text[m..padded].fill(b'=');
    let n = base64::decode_into(&text[..padded], &mut decoded).expect("padded output decodes");
    assert_eq!(&decoded[..n], input);

    if let Some(short) = m.checked_sub(1) {
        let mut small = [0xa5u8; BASE64_MAX_ENCODED];
        assert_eq!(
            base64::encode_into(input, &mut small[..short]),
            Err(CodecError::BufferTooSmall { needed: m })
        );
        assert!(small.iter().all(|&b| b == 0xa5));
    }
}

/// Decodes the input as base58. If it is accepted, re-encoding must reproduce it exactly.
fn check_base58_decode(data: &[u8]) {
    if data.len() > MAX_BASE58_LEN {
        let mut out = [0u8; MAX_BASE58_LEN];
        assert_eq!(
            base58::decode_into(data, &mut out),
            Err(CodecError::TooLarge)
        );
    }
    let input = &data[..data.len().min(MAX_BASE58_LEN)];
    let mut decoded = [0u8; MAX_BASE58_LEN];
    match base58::decode_into(input, &mut decoded) {
        Ok(n) => {
            assert_eq!(base58::decoded_len(input), Ok(n));
            let ones = input.iter().take_while(|&&c| c == b'1').count();
            assert_eq!(decoded[..n].iter().take_while(|&&b| b == 0).count(), ones);
            if n <= MAX_BASE58_BYTES {
                let mut text = [0u8; MAX_BASE58_LEN];
                let m = base58::encode_into(&decoded[..n], &mut text).expect("fits");
                assert_eq!(&text[..m], input, "base58 does not re-encode to its input");
            }
        }
        Err(e) => assert_eq!(e, CodecError::InvalidBase58, "unexpected base58 error"),
    }
}

/// Encodes a prefix of the input as base58 and decodes it back; checks that a buffer one byte short is
/// refused untouched.
fn check_base58_encode(data: &[u8]) {
    if data.len() > MAX_BASE58_BYTES {
        let mut out = [0u8; MAX_BASE58_LEN];
        assert_eq!(
            base58::encode_into(data, &mut out),
            Err(CodecError::TooLarge)
        );
    }
    let input = &data[..data.len().min(MAX_BASE58_BYTES)];
    let mut text = [0u8; MAX_BASE58_LEN];
    let m = base58::encode_into(input, &mut text).expect("fits");
    assert!(m <= base58::encoded_len_max(input.len()));
    assert_eq!(base58::encoded_len(input), Ok(m));
    let mut decoded = [0u8; MAX_BASE58_LEN];
    let n = base58::decode_into(&text[..m], &mut decoded).expect("own output decodes");
    assert_eq!(&decoded[..n], input);

    if let Some(short) = m.checked_sub(1) {
        let mut small = [0xa5u8; MAX_BASE58_LEN];
        assert_eq!(
            base58::encode_into(input, &mut small[..short]),
            Err(CodecError::BufferTooSmall { needed: m })
        );
        assert!(small.iter().all(|&b| b == 0xa5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_pass_on_simple_inputs() {
        for input in [
            &b""[..],
            b"\x00",
            b"\x08\x96\x01\x12\x03abc",
            b"Zm9vYmFy",
            b"Zm9vYg==",
            b"2NEpo7TZRRrLZSi2U",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            &[0x80; 40],
            &[b'1'; 200],
            &[0xff; 5000],
        ] {
            check_codec(input);
        }
    }
}

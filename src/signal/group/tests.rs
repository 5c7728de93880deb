//! Unit tests of Signal sender keys: the strict decoders, the record's states and key store, the
//! forward-jump bound, and "a failed decrypt changes nothing".

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::vec::Vec;

use super::wire::write_message_head;
use super::*;
use crate::codec::Writer;
use crate::error::CodecError;
use crate::primitives::aes::aes256_cbc_encrypt_in_place;
use crate::primitives::xeddsa::{self, XEdDsaSignature};

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn group() -> DistributionId {
    DistributionId::from_bytes([0x11; 16])
}

fn pair(seed: u64) -> (ChaCha20Rng, OutboundSenderKey, SenderKeyRecord<16>) {
    let mut r = rng(seed);
    let out = OutboundSenderKey::new(&mut r, group());
    let skdm =
        SenderKeyDistributionMessage::decode(&out.distribution_message().to_bytes()).unwrap();
    let rec = SenderKeyRecord::from_distribution_message(&skdm);
    (r, out, rec)
}

/// A second sender with `sender`'s ids and signing key and the given chain.
fn copy_of(sender: &OutboundSenderKey, chain: ChainKey) -> OutboundSenderKey {
    OutboundSenderKey::from_state(
        sender.distribution_id,
        sender.chain_id,
        chain.iteration,
        &chain.key,
        &sender.signing.to_bytes(),
    )
}

fn err(e: impl Into<Error>) -> Result<Vec<u8>, Error> {
    Err(e.into())
}

#[test]
fn in_order_out_of_order_and_duplicates() {
    let (mut r, mut out, mut rec) = pair(1);
    let msgs: Vec<_> = (0..6u8)
        .map(|i| out.encrypt(&mut r, &[i; 20]).unwrap())
        .collect();
    assert_eq!(rec.decrypt(&msgs[0]).unwrap(), [0; 20]);
    assert_eq!(rec.decrypt(&msgs[3]).unwrap(), [3; 20]);
    assert_eq!(rec.stored_keys(), 2);
    assert_eq!(rec.decrypt(&msgs[1]).unwrap(), [1; 20]);
    assert_eq!(rec.stored_keys(), 1);
    for again in [0, 1, 3] {
        assert_eq!(
            rec.decrypt(&msgs[again]),
            err(SignalError::DuplicatedMessage)
        );
    }
    assert_eq!(rec.decrypt(&msgs[5]).unwrap(), [5; 20]);
    assert_eq!(rec.decrypt(&msgs[2]).unwrap(), [2; 20]);
    assert_eq!(rec.decrypt(&msgs[4]).unwrap(), [4; 20]);
    assert_eq!(rec.stored_keys(), 0);
    assert_eq!(rec.iteration(out.chain_id()), Some(6));
}

#[test]
fn empty_and_block_sized_plaintexts() {
    let (mut r, mut out, mut rec) = pair(2);
    for len in [0usize, 1, 15, 16, 17, 31, 32, 1000] {
        let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let m = out.encrypt(&mut r, &pt).unwrap();
        assert_eq!(
            m.len(),
            SenderKeyMessage::encoded_len(out.chain_id(), out.iteration() - 1, (len / 16 + 1) * 16)
        );
        assert_eq!(rec.decrypt(&m).unwrap(), pt);
    }
}

#[test]
fn encrypt_len_is_exact_and_small_buffers_change_nothing() {
    let (mut r, mut out, mut rec) = pair(3);
    let needed = out.encrypt_len(10);
    let mut small = std::vec![0u8; needed - 1];
    assert_eq!(
        out.encrypt_into(&mut r, &[1; 10], &mut small),
        Err(SignalError::BufferTooSmall { needed }.into())
    );
    assert!(small.iter().all(|&b| b == 0));
    assert_eq!(out.iteration(), 0);
    let mut buf = std::vec![0u8; needed + 5];
    assert_eq!(out.encrypt_into(&mut r, &[1; 10], &mut buf), Ok(needed));
    let m = &buf[..needed];
    let before = rec.digest();
    let mut pt = [0u8; 15];
    assert_eq!(
        rec.decrypt_into(m, &mut pt),
        Err(SignalError::BufferTooSmall { needed: 16 }.into())
    );
    assert_eq!(rec.digest(), before);
    let mut pt = [0u8; 16];
    let got = rec.decrypt_into(m, &mut pt).unwrap();
    assert_eq!(&pt[..got.plaintext_len], &[1; 10]);
    assert_eq!((got.chain_id, got.iteration), (out.chain_id(), 0));
}

/// A message at `iteration` of `out`'s chain whose ciphertext is `blocks` encrypted without padding
/// (so the padding check decides), signed with `out`'s key.
fn raw_message(out: &OutboundSenderKey, iteration: u32, blocks: &[u8]) -> Vec<u8> {
    let mut chain = out.chain.duplicate();
    while chain.iteration < iteration {
        chain.advance();
    }
    let key = MessageKey::derive(&chain.seed()).unwrap();
    // CBC without padding: encrypt with PKCS#7, then drop the padding block (CBC's first blocks do
    // not depend on later ones). The padding check then reads the last byte of `blocks`.
    let mut ct = blocks.to_vec();
    ct.extend_from_slice(&[0; 16]);
    aes256_cbc_encrypt_in_place(&key.cipher_key, &key.iv, &mut ct, blocks.len()).unwrap();
    ct.truncate(blocks.len());
    let len = SenderKeyMessage::encoded_len(out.chain_id, iteration, ct.len());
    let mut buf = std::vec![0u8; len];
    let mut w = Writer::new(&mut buf);
    let at = write_message_head(
        &mut w,
        &out.distribution_id,
        out.chain_id,
        iteration,
        ct.len(),
    )
    .unwrap();
    buf[at..at + ct.len()].copy_from_slice(&ct);
    let sig = xeddsa::sign(&out.signing, &buf[..len - 64], &mut rng(99));
    buf[len - 64..].copy_from_slice(sig.as_bytes());
    buf
}

#[test]
fn failures_change_nothing() {
    let (mut r, mut out, mut rec) = pair(4);
    let first = out.encrypt(&mut r, b"one").unwrap();
    assert_eq!(rec.decrypt(&first).unwrap(), b"one");
    let before = rec.digest();
    // Bad padding, correctly signed, three iterations ahead: the chain must not move, nothing stored.
    let bad = raw_message(&out, 4, &[0x42; 32]);
    assert_eq!(rec.decrypt(&bad), err(SignalError::Authentication));
    assert_eq!(rec.digest(), before);
    // A bit flip anywhere in a genuine message: refused, nothing changes.
    let m = out.encrypt(&mut r, b"two").unwrap();
    for i in 0..m.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = m.clone();
            bad[i] ^= bit;
            assert!(rec.decrypt(&bad).is_err(), "byte {i} bit {bit:#x}");
            assert_eq!(rec.digest(), before, "byte {i} bit {bit:#x}");
        }
    }
    // Truncations too.
    for n in 0..m.len() {
        assert!(rec.decrypt(&m[..n]).is_err());
    }
    assert_eq!(rec.digest(), before);
    assert_eq!(rec.decrypt(&m).unwrap(), b"two");
    // A stored key survives a failed attempt with bad padding at its iteration.
    let later = out.encrypt(&mut r, b"later").unwrap(); // iteration 2
    let skipped_over = out.encrypt(&mut r, b"three").unwrap(); // iteration 3
    assert_eq!(rec.decrypt(&skipped_over).unwrap(), b"three");
    assert_eq!(rec.stored_keys(), 1);
    let before = rec.digest();
    assert_eq!(
        rec.decrypt(&raw_message(&out, 2, &[0x42; 16])),
        err(SignalError::Authentication)
    );
    assert_eq!(rec.digest(), before);
    assert_eq!(rec.decrypt(&later).unwrap(), b"later");
}

#[test]
fn forward_jump_bound_is_exact() {
    let (mut r, out, rec0) = pair(5);
    let skdm = out.distribution_message();
    let mut far = copy_of(&out, out.chain.duplicate());
    for _ in 0..SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP {
        far.chain.advance();
    }
    let at_limit = far.encrypt(&mut r, b"edge").unwrap();
    let beyond = far.encrypt(&mut r, b"beyond").unwrap();
    drop(rec0);
    let mut rec = SenderKeyRecord::<16>::from_distribution_message(&skdm);
    let before = rec.digest();
    assert_eq!(rec.decrypt(&beyond), err(SignalError::TooFarAhead));
    assert_eq!(rec.digest(), before);
    assert_eq!(rec.decrypt(&at_limit).unwrap(), b"edge");
    // Only the last 16 skipped keys are kept: iterations 24,984..=24,999.
    assert_eq!(rec.stored_keys(), 16);
    let keep_from = SIGNAL_SENDER_KEY_MAX_FORWARD_JUMP - 16;
    assert_eq!(
        rec.decrypt(&raw_message(&out, keep_from - 1, &[0; 16])),
        err(SignalError::DuplicatedMessage)
    );
    let mut probe = raw_message(&out, keep_from, &[0; 16]);
    // The key is there: the message gets as far as the padding check.
    assert_eq!(rec.decrypt(&probe), err(SignalError::Authentication));
    probe.clear();
    assert_eq!(rec.decrypt(&beyond).unwrap(), b"beyond");
}

#[test]
fn key_store_evicts_oldest_and_zero_capacity_keeps_none() {
    let (mut r, mut out, _) = pair(6);
    let skdm = out.distribution_message();
    let msgs: Vec<_> = (0..12u8)
        .map(|i| out.encrypt(&mut r, &[i]).unwrap())
        .collect();
    let mut small = SenderKeyRecord::<4>::from_distribution_message(&skdm);
    assert_eq!(small.decrypt(&msgs[6]).unwrap(), [6]);
    // Skipped 0..=5, kept 2..=5.
    assert_eq!(small.stored_keys(), 4);
    assert_eq!(small.decrypt(&msgs[1]), err(SignalError::DuplicatedMessage));
    assert_eq!(small.decrypt(&msgs[11]).unwrap(), [11]);
    // Skipped 7..=10 evicted 2..=5.
    assert_eq!(small.decrypt(&msgs[5]), err(SignalError::DuplicatedMessage));
    for (i, m) in msgs.iter().enumerate().take(11).skip(7) {
        assert_eq!(small.decrypt(m).unwrap(), [i as u8]);
    }
    let mut none = SenderKeyRecord::<0>::from_distribution_message(&skdm);
    assert_eq!(none.decrypt(&msgs[3]).unwrap(), [3]);
    assert_eq!(none.stored_keys(), 0);
    assert_eq!(none.decrypt(&msgs[2]), err(SignalError::DuplicatedMessage));
    assert_eq!(none.decrypt(&msgs[4]).unwrap(), [4]);
}

#[test]
fn states_are_bounded_and_replaced_as_libsignal_does() {
    let mut r = rng(7);
    let senders: Vec<_> = (0..7)
        .map(|_| OutboundSenderKey::new(&mut r, group()))
        .collect();
    let mut rec = SenderKeyRecord::<16>::new(group());
    for s in &senders[..6] {
        rec.process_distribution_message(&s.distribution_message())
            .unwrap();
    }
    let ids: Vec<_> = rec.chain_ids().collect();
    let expected: Vec<_> = senders[1..6].iter().rev().map(|s| s.chain_id()).collect();
    assert_eq!(ids, expected, "newest first, the oldest dropped");
    let mut first = copy_of(&senders[0], senders[0].chain.duplicate());
    let m = first.encrypt(&mut r, b"x").unwrap();
    assert_eq!(rec.decrypt(&m), err(SignalError::NoSenderKeyState));

    // Re-processing a known chain moves it to the front and does not rewind it.
    let mut s1 = copy_of(&senders[1], senders[1].chain.duplicate());
    let a = s1.encrypt(&mut r, b"a").unwrap();
    let b = s1.encrypt(&mut r, b"b").unwrap();
    assert_eq!(rec.decrypt(&b).unwrap(), b"b");
    assert_eq!(rec.stored_keys(), 1);
    rec.process_distribution_message(&senders[1].distribution_message())
        .unwrap();
    assert_eq!(rec.chain_ids().next(), Some(senders[1].chain_id()));
    assert_eq!(rec.iteration(senders[1].chain_id()), Some(2));
    assert_eq!(rec.decrypt(&b), err(SignalError::DuplicatedMessage));
    assert_eq!(rec.decrypt(&a).unwrap(), b"a");

    // The same chain id with another signing key replaces the state and drops its stored keys.
    let c = s1.encrypt(&mut r, b"c").unwrap();
    let d = s1.encrypt(&mut r, b"d").unwrap();
    assert_eq!(rec.decrypt(&d).unwrap(), b"d");
    assert_eq!(rec.stored_keys(), 1);
    let mut impostor = OutboundSenderKey::new(&mut r, group());
    impostor.chain_id = senders[1].chain_id;
    rec.process_distribution_message(&impostor.distribution_message())
        .unwrap();
    assert_eq!(rec.stored_keys(), 0);
    assert_eq!(rec.chain_ids().count(), 5);
    assert_eq!(rec.decrypt(&c), err(SignalError::InvalidSignature));
    let e = impostor.encrypt(&mut r, b"e").unwrap();
    assert_eq!(rec.decrypt(&e).unwrap(), b"e");

    // Another distribution id is refused, by the record and by its messages.
    let other = OutboundSenderKey::new(&mut r, DistributionId::from_bytes([0x22; 16]));
    assert_eq!(
        rec.process_distribution_message(&other.distribution_message()),
        Err(SignalError::DistributionMismatch.into())
    );
    let mut other = other;
    let m = other.encrypt(&mut r, b"x").unwrap();
    assert_eq!(rec.decrypt(&m), err(SignalError::DistributionMismatch));
    let _ = &senders[6];
}

#[test]
fn the_last_iteration_is_never_used() {
    let (mut r, out, _) = pair(8);
    let mut last = copy_of(&out, ChainKey::new(&[3; 32], u32::MAX - 1));
    let mut rec = SenderKeyRecord::<4>::from_distribution_message(&last.distribution_message());
    let m = last.encrypt(&mut r, b"penultimate").unwrap();
    assert_eq!(
        last.encrypt(&mut r, b"last"),
        Err(SignalError::ChainExhausted.into())
    );
    assert_eq!(rec.decrypt(&m).unwrap(), b"penultimate");
    assert_eq!(
        rec.decrypt(&raw_message(&last, u32::MAX, &[0; 16])),
        err(SignalError::ChainExhausted)
    );
}

/// A protobuf from `(field, bytes-or-varint)` pairs after a version byte.
fn proto(version: u8, fields: &[(u32, Result<u64, &[u8]>)]) -> Vec<u8> {
    let mut buf = std::vec![0u8; 512];
    let mut w = Writer::new(&mut buf);
    w.write_u8(version).unwrap();
    for (n, v) in fields {
        match v {
            Ok(x) => w.write_varint_field(*n, *x).unwrap(),
            Err(b) => w.write_bytes_field(*n, b).unwrap(),
        }
    }
    let n = w.finish();
    buf.truncate(n);
    buf
}

#[test]
fn distribution_message_decoder_is_strict() {
    let key = crate::signal::keys::encode_public_key(
        &crate::primitives::curve25519::Curve25519SecretKey::from_bytes(&[5; 32]).public_key(),
    );
    let id = [0x11u8; 16];
    let ck = [0x22u8; 32];
    let good: [(u32, Result<u64, &[u8]>); 5] = [
        (1, Err(&id)),
        (2, Ok(7)),
        (3, Ok(0)),
        (4, Err(&ck)),
        (5, Err(&key)),
    ];
    let bytes = proto(0x33, &good);
    let skdm = SenderKeyDistributionMessage::decode(&bytes).unwrap();
    assert_eq!(skdm.to_bytes(), bytes, "re-encodes exactly");
    assert_eq!(skdm.encoded_len(), bytes.len());
    assert_eq!((skdm.chain_id(), skdm.iteration()), (7, 0));
    let decode = |b: &[u8]| SenderKeyDistributionMessage::decode(b).map(|_| ());
    assert_eq!(
        decode(&proto(0x23, &good)),
        Err(SignalError::LegacyMessageVersion.into())
    );
    assert_eq!(
        decode(&proto(0x43, &good)),
        Err(SignalError::UnknownMessageVersion.into())
    );
    assert_eq!(
        decode(&proto(0x34, &good)),
        Err(SignalError::InvalidVersionByte.into())
    );
    assert_eq!(decode(&[]), Err(CodecError::UnexpectedEnd.into()));
    for missing in 0..5 {
        let mut f = good.to_vec();
        let _ = f.remove(missing);
        assert_eq!(
            decode(&proto(0x33, &f)),
            Err(CodecError::MissingField.into())
        );
    }
    let mut swapped = good.to_vec();
    swapped.swap(1, 2);
    assert!(decode(&proto(0x33, &swapped)).is_err());
    let mut dup = good.to_vec();
    dup.insert(2, (2, Ok(7)));
    assert_eq!(
        decode(&proto(0x33, &dup)),
        Err(CodecError::UnexpectedField.into())
    );
    let mut extra = good.to_vec();
    extra.push((6, Ok(1)));
    assert_eq!(
        decode(&proto(0x33, &extra)),
        Err(CodecError::UnexpectedField.into())
    );
    let mut wide = good.to_vec();
    wide[1] = (2, Ok(1 << 32));
    assert_eq!(
        decode(&proto(0x33, &wide)),
        Err(CodecError::ValueOutOfRange.into())
    );
    let mut wrong_type = good.to_vec();
    wrong_type[2] = (3, Err(&[0]));
    assert_eq!(
        decode(&proto(0x33, &wrong_type)),
        Err(CodecError::UnexpectedField.into())
    );
    let short_id = [0u8; 15];
    let mut f = good.to_vec();
    f[0] = (1, Err(&short_id));
    assert_eq!(
        decode(&proto(0x33, &f)),
        Err(SignalError::InvalidDistributionId.into())
    );
    let short_ck = [0u8; 31];
    let mut f = good.to_vec();
    f[3] = (4, Err(&short_ck));
    assert_eq!(
        decode(&proto(0x33, &f)),
        Err(SignalError::InvalidChainKey.into())
    );
    let mut bad_key = key;
    bad_key[0] = 0x06;
    let mut f = good.to_vec();
    f[4] = (5, Err(&bad_key));
    assert_eq!(
        decode(&proto(0x33, &f)),
        Err(SignalError::InvalidKey.into())
    );
    let mut f = good.to_vec();
    f[4] = (5, Err(&key[1..]));
    assert_eq!(
        decode(&proto(0x33, &f)),
        Err(SignalError::InvalidKey.into())
    );
    // Trailing garbage is not a field.
    let mut t = bytes.clone();
    t.push(0);
    assert!(decode(&t).is_err());
}

#[test]
fn message_decoder_is_strict() {
    let (mut r, mut out, _) = pair(9);
    let m = out.encrypt(&mut r, b"strict").unwrap();
    let parsed = SenderKeyMessage::parse(&m).unwrap();
    assert_eq!(parsed.ciphertext().len(), 16);
    assert_eq!(parsed.signed_bytes(), &m[..m.len() - 64]);
    assert_eq!(
        parsed.signature(),
        &XEdDsaSignature::from_slice(&m[m.len() - 64..]).unwrap()
    );
    let id = [0x11u8; 16];
    let ct = [0u8; 32];
    let sig = [0u8; 64];
    let with_sig = |mut v: Vec<u8>| {
        v.extend_from_slice(&sig);
        v
    };
    let good: [(u32, Result<u64, &[u8]>); 4] =
        [(1, Err(&id)), (2, Ok(1)), (3, Ok(2)), (4, Err(&ct))];
    let parse = |b: &[u8]| SenderKeyMessage::parse(b).map(|_| ());
    assert_eq!(parse(&with_sig(proto(0x33, &good))), Ok(()));
    assert_eq!(
        parse(&with_sig(proto(0x13, &good))),
        Err(SignalError::LegacyMessageVersion.into())
    );
    assert_eq!(
        parse(&with_sig(proto(0x44, &good))),
        Err(SignalError::UnknownMessageVersion.into())
    );
    for missing in 0..4 {
        let mut f = good.to_vec();
        let _ = f.remove(missing);
        assert_eq!(
            parse(&with_sig(proto(0x33, &f))),
            Err(CodecError::MissingField.into())
        );
    }
    let mut extra = good.to_vec();
    extra.push((5, Ok(0)));
    assert_eq!(
        parse(&with_sig(proto(0x33, &extra))),
        Err(CodecError::UnexpectedField.into())
    );
    for bad_len in [0usize, 15, 17] {
        let c = std::vec![0u8; bad_len];
        let mut f = good.to_vec();
        f[3] = (4, Err(&c));
        assert_eq!(
            parse(&with_sig(proto(0x33, &f))),
            Err(SignalError::InvalidCiphertextLength.into())
        );
    }
    let huge = std::vec![0u8; SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN + 16];
    let mut f = good.to_vec();
    f[3] = (4, Err(&huge));
    let mut buf = std::vec![0u8; huge.len() + 128];
    let mut w = Writer::new(&mut buf);
    w.write_u8(0x33).unwrap();
    for (n, v) in &f {
        match v {
            Ok(x) => w.write_varint_field(*n, *x).unwrap(),
            Err(b) => w.write_bytes_field(*n, b).unwrap(),
        }
    }
    let n = w.finish();
    buf.truncate(n);
    assert_eq!(parse(&with_sig(buf)), Err(CodecError::TooLarge.into()));
    // Shorter than a signature, or only a signature.
    assert_eq!(parse(&m[..64]), Err(CodecError::UnexpectedEnd.into()));
    assert_eq!(parse(&[0x33]), Err(CodecError::UnexpectedEnd.into()));
    assert_eq!(parse(&[]), Err(CodecError::UnexpectedEnd.into()));
    // A too-long plaintext is refused by the sender before anything changes.
    let big = std::vec![0u8; SIGNAL_SENDER_KEY_MAX_CIPHERTEXT_LEN];
    assert_eq!(out.encrypt(&mut r, &big), Err(CodecError::TooLarge.into()));
    assert_eq!(out.iteration(), 1);
}

#[test]
fn debug_output_holds_no_secrets() {
    let (mut r, mut out, mut rec) = pair(10);
    let skdm = out.distribution_message();
    let ck_hex: std::string::String = skdm
        .chain_key
        .iter()
        .map(|b| std::format!("{b:02x}"))
        .collect();
    let m = out.encrypt(&mut r, b"x").unwrap();
    let m2 = out.encrypt(&mut r, b"y").unwrap();
    rec.decrypt(&m2).unwrap();
    for text in [
        std::format!("{skdm:?}"),
        std::format!("{out:?}"),
        std::format!("{rec:?}"),
    ] {
        assert!(!text.contains(&ck_hex), "{text}");
        assert!(!text.contains("chain_key:"), "{text}");
        assert!(!text.contains("seed"), "{text}");
    }
    assert!(std::format!("{rec:?}").contains("stored_keys: 1"));
    let _ = m;
}

//! The safemeet tour: what happens, step by step, when Alice (a phone and a laptop) and Bob (a phone) use
//! end-to-end encryption. Run it with `cargo run --example tour`.
//!
//! Each chapter shows one layer of the library at work. The random number generator is seeded so that
//! the tour prints the same story every time; an application passes an operating-system RNG instead
//! (`safemeet::primitives::rng::OsRng` with the `getrandom` feature).
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::codec::json::{Object, Value};
use safemeet::codec::{base58, base64};
use safemeet::group::{ReplayGuard, ReplayVerdict};
use safemeet::identity::{DeviceKeys, UserIdentity, Verified};
use safemeet::megolm::{GroupSession, InboundGroupSession, SessionKey};
use safemeet::olm;
use safemeet::primitives::curve25519::{Curve25519PublicKey, Curve25519SecretKey, EphemeralSecret};
use safemeet::primitives::ed25519::{Ed25519SecretKey, Ed25519Signature};
use safemeet::primitives::hash::sha256;
use safemeet::primitives::{CryptoRng, aead, hkdf};
use safemeet::session::{Account, PreKeyBundle, Session, SessionConfig};
use safemeet::{CryptoError, Error};

/// One device: the two long-term keys every Matrix-style device owns.
struct Device {
    name: &'static str,
    /// Identity key for key agreement.
    curve25519: Curve25519SecretKey,
    /// Signing key: vouches for the identity key and, later, for messages and other keys.
    ed25519: Ed25519SecretKey,
}

impl Device {
    fn new(name: &'static str, rng: &mut impl CryptoRng) -> Self {
        Self {
            name,
            curve25519: Curve25519SecretKey::generate(rng),
            ed25519: Ed25519SecretKey::generate(rng),
        }
    }

    /// The device's identity key, signed by its signing key, as it would be published.
    fn signed_identity(&self) -> (Curve25519PublicKey, Ed25519Signature) {
        let key = self.curve25519.public_key();
        (key, self.ed25519.sign(key.as_bytes()))
    }
}

fn chapter(title: &str) {
    println!("\n{title}\n{}", "=".repeat(title.chars().count()));
}

fn step(text: &str) {
    println!("\n* {text}");
}

fn main() -> Result<(), Error> {
    let mut rng = ChaCha20Rng::from_seed(*b"safemeet tour: alice, bob, 2026!");

    println!("safemeet tour");
    println!(
        "Alice has a phone and a laptop. Bob has a phone. The server between them is not trusted."
    );

    chapter("Chapter 1: the building blocks");

    step(
        "Every device owns long-term keys; here they are made by hand from the primitives. Only the public halves ever leave a device.",
    );
    let alice_phone = Device::new("Alice's phone", &mut rng);
    let alice_laptop = Device::new("Alice's laptop", &mut rng);
    let bob_phone = Device::new("Bob's phone", &mut rng);
    for d in [&alice_phone, &alice_laptop, &bob_phone] {
        println!(
            "  {:<15} curve25519 {}  ed25519 {}",
            d.name,
            base64::encode(d.curve25519.public_key().as_bytes()),
            base64::encode(d.ed25519.public_key().as_bytes()),
        );
    }
    println!(
        "  (Debug of a secret key shows only its public half: {:?})",
        alice_phone.ed25519
    );

    step(
        "Alice's phone publishes its identity key signed with its signing key; Bob's phone checks it.",
    );
    let (alice_identity, signature) = alice_phone.signed_identity();
    let alice_signing = alice_phone.ed25519.public_key();
    alice_signing.verify(alice_identity.as_bytes(), &signature)?;
    println!(
        "  signature {}…  verified",
        &base64::encode(signature.as_bytes())[..16]
    );
    let (laptop_identity, _) = alice_laptop.signed_identity();
    let swapped = alice_signing.verify(laptop_identity.as_bytes(), &signature);
    println!(
        "  the server swaps in another key under the same signature: {}",
        describe(swapped)
    );
    assert_eq!(swapped, Err(CryptoError::InvalidSignature));

    step(
        "Alice's phone agrees a secret with Bob's phone: a single-use key against Bob's identity key.",
    );
    let ephemeral = EphemeralSecret::generate(&mut rng);
    let ephemeral_public = ephemeral.public_key();
    // The exchange consumes the single-use secret: it cannot be used twice.
    let alice_secret = ephemeral.diffie_hellman(&bob_phone.curve25519.public_key())?;
    let bob_secret = bob_phone.curve25519.diffie_hellman(&ephemeral_public)?;
    println!(
        "  Alice sends only her single-use public key {}",
        base64::encode(ephemeral_public.as_bytes())
    );
    println!(
        "  both phones now hold the same 32 secret bytes: {} (compared in constant time; never printed)",
        alice_secret == bob_secret
    );
    assert_eq!(alice_secret, bob_secret);

    step("A malicious server sends Bob a key of small order instead, hoping to fix the secret.");
    let small_order = Curve25519PublicKey::from_bytes([0; 32]);
    let forced = bob_phone
        .curve25519
        .diffie_hellman(&small_order)
        .map(|_| ());
    println!("  Bob's phone: {}", describe(forced));
    assert_eq!(forced, Err(CryptoError::NonContributory));

    step(
        "HKDF turns the shared secret into a message key; Alice seals a message with ChaCha20-Poly1305.",
    );
    let mut alice_key = [0u8; 32];
    hkdf::hkdf_sha256(
        &[],
        alice_secret.as_bytes(),
        b"safemeet tour v1",
        &mut alice_key,
    )?;
    let header = ephemeral_public.to_bytes();
    let plaintext = b"Dinner at eight?";
    let mut sealed = [0u8; 64];
    let n = aead::seal_into(&alice_key, &[0; 12], &header, plaintext, &mut sealed)?;
    let sealed = &sealed[..n];
    println!("  on the wire: {}", base64::encode(sealed));

    let mut bob_key = [0u8; 32];
    hkdf::hkdf_sha256(
        &[],
        bob_secret.as_bytes(),
        b"safemeet tour v1",
        &mut bob_key,
    )?;
    let mut opened = [0u8; 64];
    let m = aead::open_into(&bob_key, &[0; 12], &header, sealed, &mut opened)?;
    println!(
        "  Bob's phone reads: {:?}",
        core::str::from_utf8(&opened[..m]).unwrap_or("?")
    );

    step("The server flips one bit of the message on its way to Bob.");
    let mut forged = sealed.to_vec();
    forged[3] ^= 0x01;
    let mut out = [0u8; 64];
    let result = aead::open_into(&bob_key, &[0; 12], &header, &forged, &mut out);
    println!(
        "  Bob's phone: {}; nothing was decrypted",
        describe(result.map(|_| ()))
    );
    assert_eq!(result, Err(CryptoError::Authentication));
    assert!(out.iter().all(|&b| b == 0));

    step("A buffer that is too small is an error that names the size needed, not a panic.");
    let mut tiny = [0u8; 8];
    let result = aead::seal_into(&alice_key, &[1; 12], &header, plaintext, &mut tiny);
    println!("  {}", describe(result.map(|_| ())));

    step(
        "Alice's laptop shows her what a recovery key looks like: 32 random bytes, base58, in groups of four.",
    );
    // The shape Matrix clients use: prefix 0x8B 0x01, the key, a parity byte (XOR of all before it).
    // The key-storage chapter will make such a key restore Alice's identity and history.
    let mut raw = [0u8; 35];
    raw[0] = 0x8B;
    raw[1] = 0x01;
    rng.fill_bytes(&mut raw[2..34]);
    raw[34] = raw[..34].iter().fold(0, |acc, b| acc ^ b);
    let encoded = base58::encode(raw)?;
    let grouped: Vec<&str> = encoded
        .as_bytes()
        .chunks(4)
        .map(|c| core::str::from_utf8(c).unwrap_or("?"))
        .collect();
    println!("  {}", grouped.join(" "));
    let decoded = base58::decode(&encoded)?;
    println!(
        "  decodes back to the same 35 bytes: {}",
        decoded[..] == raw[..]
    );
    assert_eq!(decoded[..], raw[..]);

    chapter2(&mut rng)?;
    chapter_olm(&mut rng)?;
    chapter_verification(&mut rng)?;
    chapter_room(&mut rng)?;
    chapter_identity(&mut rng)?;
    chapter_signal(&mut rng, &alice_phone)?;
    chapter_recovery(&mut rng)?;
    Ok(())
}

/// Chapter 2: the native profile. Alice's phone and Bob's phone establish a session and talk.
fn chapter2(rng: &mut ChaCha20Rng) -> Result<(), Error> {
    chapter("Chapter 2: Alice's phone and Bob's phone start a conversation");

    step(
        "From here on a device's keys live in an account, which also makes prekeys for others to use.",
    );
    let alice_phone = Account::new(rng);
    let mut bob_phone = Account::new(rng);
    let evicted = bob_phone.generate_one_time_prekeys(rng, 5);
    let published: Vec<u32> = bob_phone
        .unpublished_one_time_prekeys()
        .map(|(id, _)| id)
        .collect();
    bob_phone.mark_one_time_prekeys_published();
    println!(
        "  Bob's phone uploads its identity, a signed prekey and one-time prekeys {published:?} ({evicted} evicted)"
    );

    step("Alice's phone asks the server for Bob's keys; the server hands out one one-time prekey.");
    let bundle = bob_phone.prekey_bundle(published.first().copied())?;
    let bundle_bytes = bundle.to_bytes();
    println!("  prekey bundle: {} bytes", bundle_bytes.len());
    let bundle = PreKeyBundle::decode(&bundle_bytes)?;

    step(
        "X3DH: Alice checks the bundle's signatures, then agrees a secret and starts a Double Ratchet.",
    );
    let mut to_bob = alice_phone.create_outbound_session(rng, &bundle, SessionConfig::plain())?;
    let first = to_bob.encrypt(rng, b"Hi Bob, it's Alice.")?;
    println!(
        "  first message: {} bytes, a pre-key message carrying Alice's identity and single-use key",
        first.len()
    );

    step("Bob's phone builds its side from that message; the one-time prekey is used up.");
    let before = bob_phone.one_time_prekey_count();
    let (mut to_alice, plaintext) = bob_phone.create_inbound_session(&first)?;
    println!("  Bob reads: {:?}", String::from_utf8_lossy(&plaintext));
    println!(
        "  one-time prekeys: {before} before, {} after; both sides name the session {}…",
        bob_phone.one_time_prekey_count(),
        &base64::encode(to_alice.session_id())[..12]
    );
    assert_eq!(to_alice.session_id(), to_bob.session_id());

    step("The server replays Alice's first message to Bob's phone, hoping for a second session.");
    let replay = bob_phone.create_inbound_session(&first).map(|_| ());
    println!("  Bob's phone: {}", describe(replay));

    step("Bob replies. Once Alice reads it, her messages stop carrying the X3DH header.");
    let reply = to_alice.encrypt(rng, b"Hi Alice! Good to hear from you.")?;
    println!(
        "  Alice reads: {:?}",
        String::from_utf8_lossy(&to_bob.decrypt(&reply)?)
    );
    println!(
        "  Alice still sends pre-key messages: {}",
        to_bob.sends_pre_key_messages()
    );

    step("Alice sends three messages. The network delays the second one.");
    let texts: [&[u8]; 3] = [
        b"Are you free tonight?",
        b"(I'll be late)",
        b"Dinner at eight?",
    ];
    let sent: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| to_bob.encrypt(rng, t))
        .collect::<Result<_, _>>()?;
    for i in [0, 2, 1] {
        let pt = to_alice.decrypt(&sent[i])?;
        let note = if i == 1 {
            "  <- arrived last, still readable"
        } else {
            ""
        };
        println!(
            "  Bob reads message {}: {:?}{note}",
            i + 1,
            String::from_utf8_lossy(&pt)
        );
    }
    let again = to_alice.decrypt(&sent[1]).map(|_| ());
    println!("  the late message delivered twice: {}", describe(again));

    step("Every reply moves the ratchet forward: each direction change brings fresh keys.");
    for turn in 0..2 {
        let m = to_alice.encrypt(rng, b"ok")?;
        to_bob.decrypt(&m)?;
        let m = to_bob.encrypt(rng, b"ok")?;
        to_alice.decrypt(&m)?;
        println!("  turn {}: both sides ratcheted", turn + 1);
    }

    step(
        "Bob's phone also writes to Alice's laptop, this time with encrypted headers: an observer sees neither the ratchet keys nor the message numbers.",
    );
    let mut alice_laptop = Account::new(rng);
    alice_laptop.generate_one_time_prekeys(rng, 1);
    let laptop_bundle = alice_laptop.prekey_bundle(None)?;
    let mut to_laptop = bob_phone.create_outbound_session(
        rng,
        &laptop_bundle,
        SessionConfig::with_header_encryption(),
    )?;
    let m1 = to_laptop.encrypt(rng, b"Hello laptop")?;
    let (mut laptop_session, pt1) = alice_laptop.create_inbound_session(&m1)?;
    let m2 = to_laptop.encrypt(rng, b"Second message")?;
    let pt2 = laptop_session.decrypt(&m2)?;
    println!(
        "  {} and {} bytes on the wire; the laptop reads {:?} and {:?}",
        m1.len(),
        m2.len(),
        String::from_utf8_lossy(&pt1),
        String::from_utf8_lossy(&pt2)
    );

    step("Bob's phone saves the session to disk, encrypted under a key only the phone knows.");
    let storage_key = [0x5a; 32];
    let pickle = to_alice.pickle(rng, &storage_key);
    let mut restored = Session::from_pickle_bytes(&storage_key, &pickle)?;
    let m = to_bob.encrypt(rng, b"See you!")?;
    println!(
        "  {} bytes on disk; after restoring, Bob reads {:?}",
        pickle.len(),
        String::from_utf8_lossy(&restored.decrypt(&m)?)
    );
    let wrong = Session::from_pickle_bytes(&[0; 32], &pickle).map(|_| ());
    println!(
        "  the same file opened with another key: {}",
        describe(wrong)
    );
    Ok(())
}

/// A room: Alice's phone sends with Megolm; her laptop and Bob read. Bob joins late.
fn chapter_room(rng: &mut ChaCha20Rng) -> Result<(), Error> {
    chapter("Chapter 5: a room");

    step("Alice's phone opens a Megolm session for the room: one ratchet, one signing key.");
    let mut phone = GroupSession::new(rng);
    println!(
        "  session id {} (the signing key), next message index {}",
        phone.session_id(),
        phone.message_index()
    );

    step("It sends the signed session key to her laptop, over their pairwise session.");
    let key = phone.session_key().to_base64();
    let mut laptop = InboundGroupSession::new(&SessionKey::from_base64(&*key)?);
    println!(
        "  {} characters of base64; the laptop's copy is verified: {}",
        key.len(),
        laptop.is_verified()
    );

    step(
        "Alice writes twice. Each message is encrypted once for everyone, then the ratchet moves on.",
    );
    let early: Vec<Vec<u8>> = ["Welcome to the room", "Bob is joining soon"]
        .iter()
        .map(|text| phone.encrypt(text.as_bytes()))
        .collect::<Result<_, _>>()?;
    for m in &early {
        let got = laptop.decrypt(m)?;
        println!(
            "  {} bytes; the laptop reads #{}: {:?}",
            m.len(),
            got.message_index,
            String::from_utf8_lossy(&got.plaintext)
        );
    }

    step("Bob joins. Alice's phone shares the session key as it is now, at index 2.");
    let mut bob = InboundGroupSession::new(&phone.session_key());
    println!("  Bob's first known index: {}", bob.first_known_index());
    for m in &early {
        println!(
            "  Bob tries an earlier message: {}",
            describe(bob.decrypt(m).map(|_| ()))
        );
    }
    let hello = phone.encrypt(b"Hi Bob!")?;
    let got = bob.decrypt(&hello)?;
    println!(
        "  but reads the next one, #{}: {:?}",
        got.message_index,
        String::from_utf8_lossy(&got.plaintext)
    );

    step("Bob's client remembers which event it saw at each (session, index).");
    let mut guard: ReplayGuard = ReplayGuard::new();
    let session = *bob.signing_key().as_bytes();
    let event_id = sha256(b"$event-1:example.org");
    let verdict = guard.check(&session, got.message_index, &event_id);
    println!("  the real event: {verdict:?}");
    let again = bob.decrypt(&hello)?;
    let verdict = guard.check(&session, again.message_index, &event_id);
    println!("  the same event fetched again: {verdict:?}");
    assert_eq!(verdict, ReplayVerdict::Duplicate);

    step(
        "The server replays Alice's ciphertext inside a new event. It decrypts, but the guard objects.",
    );
    let replayed = bob.decrypt(&hello)?;
    let verdict = guard.check(
        &session,
        replayed.message_index,
        &sha256(b"$event-2:example.org"),
    );
    println!(
        "  a different event reusing index {}: {verdict:?}",
        replayed.message_index
    );
    assert_eq!(verdict, ReplayVerdict::Replay);

    step("Someone flips one bit of a message on the way.");
    let mut tampered = hello.clone();
    tampered[10] ^= 1;
    println!("  {}", describe(laptop.decrypt(&tampered).map(|_| ())));
    Ok(())
}

fn describe<E: core::fmt::Display>(result: Result<(), E>) -> String {
    match result {
        Ok(()) => "accepted".to_owned(),
        Err(e) => format!("rejected ({e})"),
    }
}

/// Chapter 3: Matrix Olm. Alice's laptop and Bob's phone talk the way every Matrix client does, and the
/// tour prints the `m.room.encrypted` bodies the server would carry.
fn chapter_olm(rng: &mut ChaCha20Rng) -> Result<(), Error> {
    chapter("Chapter 3: Olm, as a Matrix client speaks it");

    step(
        "Bob's phone publishes its identity keys, a signed batch of one-time keys and a fallback key (here: the first of five).",
    );
    let laptop = olm::Account::<100>::new(rng);
    let mut phone = olm::Account::<100>::new(rng);
    phone.generate_one_time_keys_with(rng, 5, |_, _| {});
    phone.generate_fallback_key(rng);
    let (key_id, one_time_key) = phone
        .one_time_keys()
        .next()
        .ok_or(CryptoError::InvalidLength)?;
    let signed = format!(
        "{{\"key\":\"{}\"}}",
        base64::encode(one_time_key.as_bytes())
    );
    let signature = phone.sign(signed.as_bytes());
    println!(
        "  \"signed_curve25519:{key_id}\": {{\"key\": \"{}\", \"signatures\": {{… \"{}…\"}}}}",
        base64::encode(one_time_key.as_bytes()),
        &base64::encode(signature.as_bytes())[..16]
    );
    phone.ed25519_key().verify(signed.as_bytes(), &signature)?;
    println!("  the signature over the canonical JSON verifies with the phone's ed25519 key");
    phone.mark_keys_as_published();

    step(
        "Alice's laptop claims that one-time key and opens a session: no round trip needed, the first message is a pre-key message (type 0).",
    );
    let mut to_phone =
        laptop.create_outbound_session(rng, &phone.curve25519_key(), &one_time_key)?;
    let mut message = [0u8; 512];
    let text = br#"{"type":"m.room_key_request","content":{}}"#;
    let (kind, n) = to_phone.encrypt_into(rng, text, &mut message)?;
    let body = base64::encode(&message[..n]);
    println!(
        "  {{\"algorithm\": \"m.olm.v1.curve25519-aes-sha2\", \"sender_key\": \"{}\",",
        base64::encode(laptop.curve25519_key().as_bytes())
    );
    println!(
        "   \"ciphertext\": {{\"{}\": {{\"type\": {}, \"body\": \"{}…\"}}}}}}  ({} bytes of base64)",
        base64::encode(phone.curve25519_key().as_bytes()),
        kind.as_u8(),
        &body[..40],
        body.len()
    );

    step(
        "Bob's phone creates its side from that message; the one-time key is used up only now that it decrypted.",
    );
    let mut plaintext = [0u8; 512];
    let wire = base64::decode(&body)?;
    let inbound =
        phone.create_inbound_session_into(&laptop.curve25519_key(), &wire, &mut plaintext)?;
    let mut from_laptop = inbound.session;
    println!(
        "  decrypted: {}",
        String::from_utf8_lossy(&plaintext[..inbound.plaintext_len])
    );
    println!(
        "  both sides name the session {} ; one-time keys left on the phone: {}",
        from_laptop.session_id(),
        phone.stored_one_time_key_count()
    );
    assert_eq!(from_laptop.session_id(), to_phone.session_id());

    step(
        "The phone replies with a normal message (type 1); from then on the laptop sends normal messages too.",
    );
    for phone_speaks in [true, false] {
        let (sender, receiver, who, text) = if phone_speaks {
            (
                &mut from_laptop,
                &mut to_phone,
                "phone",
                &b"reply from the phone"[..],
            )
        } else {
            (
                &mut to_phone,
                &mut from_laptop,
                "laptop",
                &b"and back from the laptop"[..],
            )
        };
        let (kind, n) = sender.encrypt_into(rng, text, &mut message)?;
        let len = receiver.decrypt_into(kind, &message[..n], &mut plaintext)?;
        println!(
            "  {who:<6} sends type {} ({n} bytes): {}",
            kind.as_u8(),
            String::from_utf8_lossy(&plaintext[..len])
        );
    }

    step("The same base64 body, delivered twice, is refused the second time: its key is gone.");
    let (kind, n) = to_phone.encrypt_into(rng, b"only once", &mut message)?;
    from_laptop.decrypt_into(kind, &message[..n], &mut plaintext)?;
    let again = from_laptop.decrypt_into(kind, &message[..n], &mut plaintext);
    println!(
        "  second delivery: {}",
        again.map_or_else(|e| e.to_string(), |_| "decrypted?!".into())
    );
    assert!(again.is_err());
    Ok(())
}

/// Delivers `first` to `y`, then every answer back and forth between `x` and `y` until both are quiet.
fn converse(
    x: &mut safemeet::verification::flow::Verification,
    y: &mut safemeet::verification::flow::Verification,
    first: Vec<safemeet::verification::flow::Outgoing>,
    now: u64,
) {
    let (mut to_y, mut to_x) = (first, Vec::new());
    while !to_y.is_empty() || !to_x.is_empty() {
        for e in core::mem::take(&mut to_y) {
            println!("    -> {}", e.event_type.name());
            to_x.extend(y.receive(e.event_type.name(), &e.content_json(), now));
        }
        for e in core::mem::take(&mut to_x) {
            println!("    <- {}", e.event_type.name());
            to_y.extend(x.receive(e.event_type.name(), &e.content_json(), now));
        }
    }
}

fn show_emoji(who: &str, flow: &safemeet::verification::flow::Verification) {
    let line: Vec<String> = flow
        .emoji()
        .map(|e| {
            e.iter()
                .map(|e| format!("{} {}", e.symbol, e.name))
                .collect()
        })
        .unwrap_or_default();
    println!("  {who:<14} {}", line.join(" | "));
}

/// Chapter 4: emoji verification. Alice's phone verifies Bob's phone; then Mallory sits in the middle.
fn chapter_verification(rng: &mut ChaCha20Rng) -> Result<(), Error> {
    use safemeet::verification::flow::{DeviceInfo, State, Verification};

    chapter("Chapter 4: Alice's phone verifies Bob's phone");
    let now = 1_790_000_000_000; // milliseconds since 1970: the flow never reads a clock itself
    let alice = DeviceInfo::new(
        "@alice:example.org",
        "ALICEPHONE",
        Ed25519SecretKey::generate(rng).public_key(),
        Some(Ed25519SecretKey::generate(rng).public_key()),
    );
    let bob = DeviceInfo::new(
        "@bob:example.org",
        "BOBPHONE",
        Ed25519SecretKey::generate(rng).public_key(),
        Some(Ed25519SecretKey::generate(rng).public_key()),
    );

    step(
        "Alice asks to verify Bob; Bob taps \"accept\". The events go through the (untrusted) server.",
    );
    let (mut a, request) = Verification::request(rng, alice.clone(), bob.clone(), "tour-1", now);
    println!("    -> {}", request.event_type.name());
    let mut b = Verification::from_request(
        rng,
        bob.clone(),
        alice.clone(),
        &request.content_json(),
        now,
    )
    .map_err(|_| safemeet::VerificationError::InvalidEncoding)?;
    let ready = b.accept_request(now).into_iter().collect();
    converse(&mut b, &mut a, ready, now);
    step(
        "Alice's phone starts SAS. Bob's phone commits to its ephemeral key before it sees Alice's.",
    );
    let start = a.start_sas(now).into_iter().collect();
    converse(&mut a, &mut b, start, now);
    step(
        "Both phones now show seven emoji. Alice and Bob compare them, side by side or on a call:",
    );
    show_emoji("Alice's phone:", &a);
    show_emoji("Bob's phone:", &b);
    println!("  same on both screens: {}", a.emoji() == b.emoji());
    assert_eq!(a.emoji(), b.emoji());

    step(
        "They match, so both tap \"they match\": each phone MACs its keys, checks the other's, and is done.",
    );
    let macs = a.confirm(now);
    converse(&mut a, &mut b, macs, now);
    let macs = b.confirm(now);
    converse(&mut b, &mut a, macs, now);
    let verified = a.verified_keys();
    println!(
        "  Alice's phone: {:?}; it verified Bob's device key: {}, and his master key: {}",
        a.state(),
        verified.and_then(|k| k.device_key()) == Some(bob.device_key),
        verified.and_then(|k| k.master_key()) == bob.master_key,
    );
    assert_eq!((a.state(), b.state()), (State::Done, State::Done));

    step(
        "Now Mallory, who runs the server, sits in the middle: to Alice she plays Bob, to Bob Alice.",
    );
    let (mut a, request) = Verification::request(rng, alice.clone(), bob.clone(), "tour-2", now);
    // Mallory answers Alice as "Bob" and asks Bob as "Alice", with her own ephemeral keys on each side.
    let mut m_as_bob = Verification::from_request(
        rng,
        bob.clone(),
        alice.clone(),
        &request.content_json(),
        now,
    )
    .map_err(|_| safemeet::VerificationError::InvalidEncoding)?;
    let (mut m_as_alice, request2) =
        Verification::request(rng, alice.clone(), bob.clone(), "tour-2", now);
    let mut b = Verification::from_request(
        rng,
        bob.clone(),
        alice.clone(),
        &request2.content_json(),
        now,
    )
    .map_err(|_| safemeet::VerificationError::InvalidEncoding)?;
    let ready = m_as_bob.accept_request(now).into_iter().collect();
    converse(&mut m_as_bob, &mut a, ready, now);
    let ready = b.accept_request(now).into_iter().collect();
    converse(&mut b, &mut m_as_alice, ready, now);
    let start = a.start_sas(now).into_iter().collect();
    converse(&mut a, &mut m_as_bob, start, now);
    let start = m_as_alice.start_sas(now).into_iter().collect();
    converse(&mut m_as_alice, &mut b, start, now);
    show_emoji("Alice's phone:", &a);
    show_emoji("Bob's phone:", &b);
    println!(
        "  same on both screens: {} -- each phone agreed a key with Mallory, not with the other",
        a.emoji() == b.emoji()
    );
    assert_ne!(a.emoji(), b.emoji());
    step(
        "Alice sees the difference and taps \"they don't match\": the flow is cancelled, nothing is trusted.",
    );
    let cancel = a.mismatch().into_iter().collect();
    converse(&mut a, &mut m_as_bob, cancel, now);
    println!("  Alice's phone: {:?}", a.state());
    println!(
        "  (Mallory could not have fixed this: she must pick her keys before she sees the other side's.)"
    );
    Ok(())
}

/// Chapter 7: the same Alice talks to Carol, whose app speaks the classic Signal protocol.
fn chapter_signal(rng: &mut ChaCha20Rng, alice_phone: &Device) -> Result<(), Error> {
    use safemeet::signal::{self, keys::encode_public_key};

    chapter("Chapter 7: Alice writes to Carol, who uses a classic Signal-protocol app");
    // Both sides here are safemeet's `signal` profile. The interop tests
    // (tests/interop_signal_pairwise.rs) prove the same bytes work with npm `libsignal`, the library of
    // the WhatsApp-lineage clients, in both directions.

    step("Carol's app publishes a bundle: identity key, signed prekey (XEdDSA), one-time prekey.");
    let mut carol: signal::Account = signal::Account::new(rng);
    carol.generate_one_time_pre_keys(rng, 10);
    let (pre_key_id, _) = carol
        .one_time_pre_keys()
        .next()
        .ok_or(CryptoError::InvalidKey)?;
    let bundle = carol.bundle(Some(pre_key_id))?;
    println!(
        "  registration id {}, identity key {}…, signed prekey #{}",
        bundle.registration_id,
        &base64::encode(encode_public_key(&bundle.identity_key))[..12],
        bundle.signed_pre_key_id
    );

    step("Alice's phone uses the identity key from chapter 1 as its Signal identity.");
    let identity = Curve25519SecretKey::from_bytes(&alice_phone.curve25519.to_bytes());
    let alice: signal::Account = signal::Account::from_identity_key(rng, identity);
    assert_eq!(alice.identity_key(), alice_phone.curve25519.public_key());
    println!(
        "  same key as chapter 1: {}",
        alice.identity_key() == alice_phone.curve25519.public_key()
    );

    step("She checks the signature, runs X3DH and sends a PreKeySignalMessage.");
    let mut to_carol: signal::Session = alice.create_outbound_session(rng, &bundle)?;
    let (kind, first) = to_carol.encrypt(rng, b"Hi Carol, it's Alice!")?;
    println!(
        "  {kind:?} message, {} bytes, version byte {:#04x}, carrying Alice's registration id {}",
        first.len(),
        first[0],
        alice.registration_id()
    );

    step("Carol's app opens the session from it; her one-time prekey is used up.");
    let (mut to_alice, plaintext): (signal::Session, _) = carol.create_inbound_session(&first)?;
    println!(
        "  Carol reads {:?}; {} one-time prekeys left",
        String::from_utf8_lossy(&plaintext),
        carol.one_time_pre_keys().count()
    );

    step("Carol replies; from now on Alice sends plain SignalMessages.");
    let (kind, reply) = to_alice.encrypt(rng, b"Hey Alice!")?;
    let read = to_carol.decrypt(kind, &reply)?;
    println!(
        "  Alice reads {:?}; her next message is a {:?} message",
        String::from_utf8_lossy(&read),
        to_carol.next_message_type()
    );

    step("A flipped bit in a message fails its MAC, and the session is unchanged.");
    let (kind, mut message) = to_carol.encrypt(rng, b"see you tomorrow")?;
    let last = message.len() - 1;
    message[last] ^= 1;
    println!(
        "  tampered: {}",
        describe(to_alice.decrypt(kind, &message).map(|_| ()))
    );
    message[last] ^= 1;
    println!(
        "  genuine: {:?}",
        String::from_utf8_lossy(&to_alice.decrypt(kind, &message)?)
    );
    Ok(())
}

/// Runs a whole SAS verification between two devices whose users compare matching emoji; returns what
/// each side proved about the other (`None` if the flow did not finish).
fn sas_verify(
    rng: &mut ChaCha20Rng,
    x: safemeet::verification::flow::DeviceInfo,
    y: safemeet::verification::flow::DeviceInfo,
    transaction: &str,
) -> Option<(
    safemeet::verification::VerifiedKeys,
    safemeet::verification::VerifiedKeys,
)> {
    use safemeet::verification::flow::Verification;
    let now = 1_790_000_100_000;
    let quiet = |x: &mut Verification, y: &mut Verification, first: Vec<_>| {
        let (mut to_y, mut to_x): (Vec<safemeet::verification::flow::Outgoing>, Vec<_>) =
            (first, Vec::new());
        while !to_y.is_empty() || !to_x.is_empty() {
            for e in core::mem::take(&mut to_y) {
                to_x.extend(y.receive(e.event_type.name(), &e.content_json(), now));
            }
            for e in core::mem::take(&mut to_x) {
                to_y.extend(x.receive(e.event_type.name(), &e.content_json(), now));
            }
        }
    };
    let (mut a, request) = Verification::request(rng, x.clone(), y.clone(), transaction, now);
    let mut b = Verification::from_request(rng, y, x, &request.content_json(), now).ok()?;
    let ready = b.accept_request(now).into_iter().collect();
    quiet(&mut b, &mut a, ready);
    let start = a.start_sas(now).into_iter().collect();
    quiet(&mut a, &mut b, start);
    println!(
        "    the emoji match on both screens: {}",
        a.emoji() == b.emoji()
    );
    let macs = a.confirm(now);
    quiet(&mut a, &mut b, macs);
    let macs = b.confirm(now);
    quiet(&mut b, &mut a, macs);
    Some((a.verified_keys()?, b.verified_keys()?))
}

/// What the server answers to a `/keys/query` for these identities and devices.
fn server_view(identities: &[(&UserIdentity, bool)], devices: &[&Verified<DeviceKeys>]) -> Value {
    let mut response = Object::new();
    let mut put = |field: &str, user: &str, v: Value| {
        let entry = response
            .entry(field.into())
            .or_insert_with(|| Value::Object(Object::new()));
        if let Value::Object(m) = entry {
            m.insert(user.into(), v);
        }
    };
    for (identity, with_usk) in identities {
        put(
            "master_keys",
            identity.user_id(),
            identity.master_key().to_json(),
        );
        put(
            "self_signing_keys",
            identity.user_id(),
            identity.self_signing_key().to_json(),
        );
        if let (true, Some(usk)) = (with_usk, identity.user_signing_key()) {
            put("user_signing_keys", identity.user_id(), usk.to_json());
        }
    }
    let mut by_user = Object::new();
    for d in devices {
        if let Value::Object(m) = by_user
            .entry(d.user_id().into())
            .or_insert_with(|| Value::Object(Object::new()))
        {
            m.insert(d.device_id().into(), d.to_json());
        }
    }
    response.insert("device_keys".into(), Value::Object(by_user));
    Value::Object(response)
}

/// Chapter 6: cross-signing. Alice signs her laptop from her phone, Bob verifies Alice once for all
/// her devices, then Alice resets her identity and Bob's phone raises the alarm.
fn chapter_identity(rng: &mut ChaCha20Rng) -> Result<(), Error> {
    use safemeet::identity::{IdentityStatus, IdentityStore};
    use safemeet::verification::flow::DeviceInfo;

    const ALICE: &str = "@alice:example.org";
    const BOB: &str = "@bob:example.org";
    chapter("Chapter 6: cross-signing, and what happens when an identity is reset");
    let alice_phone = olm::Account::<8>::new(rng);
    let alice_laptop = olm::Account::<8>::new(rng);
    let bob_phone = olm::Account::<8>::new(rng);

    step(
        "Alice creates her cross-signing identity on her phone: a master key that signs a self-signing key (for her devices) and a user-signing key (for other people).",
    );
    let mut phone = IdentityStore::new(ALICE, "ALICEPHONE")?;
    let (alice_keys, requests) = phone.reset_identity(rng, &alice_phone)?;
    let alice_identity = phone
        .own_identity()
        .cloned()
        .ok_or(safemeet::IdentityError::UnknownUser)?;
    println!("  master key:       {}", alice_identity.master_key().name());
    println!(
        "  self-signing key: {}",
        alice_identity.self_signing_key().name()
    );
    println!(
        "  uploaded to the server: {}",
        requests
            .device_signing_upload
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    );
    let phone_keys = phone
        .device(ALICE, "ALICEPHONE")
        .cloned()
        .ok_or(safemeet::IdentityError::UnknownDevice)?;
    let laptop_keys = DeviceKeys::from_account(ALICE, "ALICELAPTOP", &alice_laptop)?;

    step(
        "The laptop sees Alice's identity on the server, but does not trust it yet: the server could have made it up.",
    );
    let mut laptop = IdentityStore::new(ALICE, "ALICELAPTOP")?;
    laptop.receive_keys_query(&server_view(
        &[(&alice_identity, true)],
        &[&phone_keys, &laptop_keys],
    ))?;
    phone.receive_keys_query(&server_view(
        &[(&alice_identity, true)],
        &[&phone_keys, &laptop_keys],
    ))?;
    println!(
        "  laptop trusts Alice's identity: {}",
        laptop.is_own_identity_trusted()
    );

    step("Phone and laptop verify each other with emoji. The phone MACs Alice's master key too.");
    let master = alice_identity.master_key().public_key();
    let (phone_saw, laptop_saw) = sas_verify(
        rng,
        DeviceInfo::new(ALICE, "ALICEPHONE", phone_keys.ed25519_key(), Some(master)),
        DeviceInfo::new(
            ALICE,
            "ALICELAPTOP",
            laptop_keys.ed25519_key(),
            Some(master),
        ),
        "tour-xs-1",
    )
    .ok_or(safemeet::VerificationError::Authentication)?;
    let upload = phone.verify_own_device(&alice_keys, "ALICELAPTOP", Some(&phone_saw))?;
    laptop.trust_own_identity(&laptop_saw)?;
    let laptop_keys = phone
        .device(ALICE, "ALICELAPTOP")
        .cloned()
        .ok_or(safemeet::IdentityError::UnknownDevice)?;
    println!(
        "  the phone's self-signing key signed the laptop; /keys/signatures/upload: {} bytes",
        upload.to_canonical().len()
    );
    laptop.receive_keys_query(&server_view(
        &[(&alice_identity, true)],
        &[&phone_keys, &laptop_keys],
    ))?;
    println!(
        "  laptop trusts Alice's identity: {}",
        laptop.is_own_identity_trusted()
    );
    println!(
        "  laptop sees the laptop as:  {:?}",
        laptop.device_trust(ALICE, "ALICELAPTOP")
    );

    step(
        "Bob's phone makes its own identity, and sees Alice's for the first time: it pins her master key.",
    );
    let mut bob = IdentityStore::new(BOB, "BOBPHONE")?;
    let (bob_keys, _) = bob.reset_identity(rng, &bob_phone)?;
    let events = bob.receive_keys_query(&server_view(
        &[(&alice_identity, false)],
        &[&phone_keys, &laptop_keys],
    ))?;
    println!("  events: {events:?}");
    println!(
        "  Alice is {:?}; her laptop is {:?}",
        bob.user_status(ALICE),
        bob.device_trust(ALICE, "ALICELAPTOP")
    );

    step(
        "Bob verifies Alice once, with emoji between his phone and hers. His user-signing key signs her master key, and every device she cross-signed is trusted.",
    );
    let bob_identity = bob
        .own_identity()
        .cloned()
        .ok_or(safemeet::IdentityError::UnknownUser)?;
    let (bob_saw, _) = sas_verify(
        rng,
        DeviceInfo::new(
            BOB,
            "BOBPHONE",
            bob_phone.ed25519_key(),
            Some(bob_identity.master_key().public_key()),
        ),
        DeviceInfo::new(ALICE, "ALICEPHONE", phone_keys.ed25519_key(), Some(master)),
        "tour-xs-2",
    )
    .ok_or(safemeet::VerificationError::Authentication)?;
    bob.verify_user(&bob_keys, ALICE, &bob_saw)?;
    println!(
        "  Alice is {:?}; her laptop is {:?}",
        bob.user_status(ALICE),
        bob.device_trust(ALICE, "ALICELAPTOP")
    );
    println!("  Bob may send to Alice: {}", bob.check_send(ALICE).is_ok());

    step("Later Alice loses both devices and resets her identity from a new phone.");
    let new_phone = olm::Account::<8>::new(rng);
    let mut fresh = IdentityStore::new(ALICE, "ALICENEWPHONE")?;
    let _ = fresh.reset_identity(rng, &new_phone)?;
    let new_identity = fresh
        .own_identity()
        .cloned()
        .ok_or(safemeet::IdentityError::UnknownUser)?;
    let new_phone_keys = fresh
        .device(ALICE, "ALICENEWPHONE")
        .cloned()
        .ok_or(safemeet::IdentityError::UnknownDevice)?;
    let events =
        bob.receive_keys_query(&server_view(&[(&new_identity, false)], &[&new_phone_keys]))?;
    for e in &events {
        if let safemeet::identity::IdentityEvent::Reset {
            user_id,
            previously_verified,
        } = e
        {
            println!(
                "  Bob's phone shows: \"{user_id}'s identity was reset\" (Bob had verified it: {previously_verified})"
            );
        }
    }
    println!("  Alice is {:?}", bob.user_status(ALICE));
    println!("  Bob may send to Alice: {:?}", bob.check_send(ALICE));
    assert_eq!(
        bob.user_status(ALICE),
        IdentityStatus::VerificationViolation
    );
    println!(
        "  (a server that swapped Alice's keys would look exactly like this: it is never shown as verified)"
    );

    step(
        "Bob calls Alice and they compare emoji again, her new phone with his. Bob's phone signs her new master key and sending is unblocked.",
    );
    let new_master = new_identity.master_key().public_key();
    let (bob_saw, _) = sas_verify(
        rng,
        DeviceInfo::new(
            BOB,
            "BOBPHONE",
            bob_phone.ed25519_key(),
            Some(bob_identity.master_key().public_key()),
        ),
        DeviceInfo::new(
            ALICE,
            "ALICENEWPHONE",
            new_phone_keys.ed25519_key(),
            Some(new_master),
        ),
        "tour-xs-3",
    )
    .ok_or(safemeet::VerificationError::Authentication)?;
    bob.verify_user(&bob_keys, ALICE, &bob_saw)?;
    println!(
        "  Alice is {:?}; Bob may send to Alice: {}",
        bob.user_status(ALICE),
        bob.check_send(ALICE).is_ok()
    );
    assert!(bob.check_send(ALICE).is_ok());
    Ok(())
}

/// The server as key storage sees it: account data, one backup, and the room's timeline. It keeps
/// whatever it is sent; everything in it is ciphertext or public.
#[derive(Default)]
struct KeyServer {
    account_data: Object,
    backup: Option<Value>,
    /// `rooms → sessions → KeyBackupData`, as `GET /room_keys/keys` returns it.
    room_keys: Object,
    timeline: Vec<Vec<u8>>,
    /// Everything it was sent, as text: to look for keys in it.
    log: String,
}

impl KeyServer {
    fn apply(&mut self, uploads: Vec<safemeet::backup::policy::Upload>) {
        use safemeet::backup::policy::Upload;
        for upload in uploads {
            self.log.push_str(&format!("{upload:?}"));
            match upload {
                Upload::AccountData {
                    event_type,
                    content,
                } => {
                    println!(
                        "    PUT account_data/{event_type}: {} bytes",
                        content.to_canonical().len()
                    );
                    self.account_data.insert(event_type, content);
                }
                Upload::CreateBackupVersion { body } => {
                    let signers = body
                        .get("auth_data")
                        .and_then(|a| a.get("signatures"))
                        .and_then(|s| s.get("@alice:example.org"))
                        .and_then(Value::as_object)
                        .map_or(0, Object::len);
                    println!(
                        "    POST room_keys/version: a backup for a new public key, signed {signers} times"
                    );
                    if let Value::Object(mut b) = body {
                        b.insert("version".into(), "1".into());
                        self.backup = Some(Value::Object(b));
                    }
                }
                Upload::DeleteBackupVersion { version } => {
                    println!("    DELETE room_keys/version/{version}");
                    self.backup = None;
                }
                Upload::RoomKey {
                    room_id,
                    session_id,
                    data,
                    ..
                } => {
                    println!(
                        "    PUT room_keys/keys/{room_id}/{}…: {} characters of base64 ciphertext",
                        &session_id[..8],
                        data.get("session_data")
                            .and_then(|d| d.get("ciphertext"))
                            .and_then(Value::as_str)
                            .map_or(0, str::len)
                    );
                    let room = self
                        .room_keys
                        .entry(room_id)
                        .or_insert_with(|| Value::Object(Object::new()));
                    if let Value::Object(room) = room
                        && let Value::Object(sessions) = room
                            .entry("sessions".into())
                            .or_insert_with(|| Value::Object(Object::new()))
                    {
                        sessions.insert(session_id, data);
                    }
                }
            }
        }
    }

    fn all_room_keys(&self) -> Value {
        let mut response = Object::new();
        response.insert("rooms".into(), Value::Object(self.room_keys.clone()));
        Value::Object(response)
    }
}

/// Reads the room's timeline with the sessions held.
fn read_timeline(server: &KeyServer, sessions: &mut [InboundGroupSession]) -> Vec<String> {
    server
        .timeline
        .iter()
        .filter_map(|m| {
            sessions
                .iter_mut()
                .find_map(|s| s.decrypt(m).ok())
                .map(|d| String::from_utf8_lossy(&d.plaintext).into_owned())
        })
        .collect()
}

/// Chapter 8: key storage. Alice turns it on with recovery. She loses her phone and her laptop; on a
/// new laptop her recovery key brings back her identity and the room's history, and Bob's phone sees
/// nothing change.
fn chapter_recovery(rng: &mut ChaCha20Rng) -> Result<(), Error> {
    use safemeet::backup::export;
    use safemeet::backup::policy::{KeyStorage, KeyStorageMode};
    use safemeet::backup::room_key::RoomKey;
    use safemeet::identity::{IdentityEvent, IdentityStatus, IdentityStore};
    use safemeet::verification::flow::DeviceInfo;
    use safemeet::{BackupError, IdentityError};

    const ALICE: &str = "@alice:example.org";
    const BOB: &str = "@bob:example.org";
    const ROOM: &str = "!lunch:example.org";
    chapter(
        "Chapter 8: Alice loses her phone and her laptop; her recovery key brings everything back",
    );
    let mut server = KeyServer::default();

    step(
        "Alice's phone creates her identity and turns key storage on, with recovery. What it sends the server:",
    );
    let phone = olm::Account::<8>::new(rng);
    let mut phone_store = IdentityStore::new(ALICE, "ALICEPHONE")?;
    let (secrets, _) = phone_store.reset_identity(rng, &phone)?;
    let alice_identity = phone_store
        .own_identity()
        .cloned()
        .ok_or(IdentityError::UnknownUser)?;
    let phone_keys = phone_store
        .device(ALICE, "ALICEPHONE")
        .cloned()
        .ok_or(IdentityError::UnknownDevice)?;
    let (mut storage, turned_on) = KeyStorage::turn_on(
        rng,
        KeyStorageMode::WithRecovery,
        &phone,
        ALICE,
        "ALICEPHONE",
        &secrets,
        None,
    )?;
    server.apply(turned_on.uploads);
    storage.backup_created("1")?;
    let recovery_key = turned_on.recovery_key.ok_or(BackupError::NoSecretStorage)?;
    println!("  Her recovery key, shown once; she writes it down:");
    println!("    {}", recovery_key.as_str());

    step(
        "Bob verifies Alice with emoji (as in chapter 6): his phone pins and signs her master key.",
    );
    let bob_phone = olm::Account::<8>::new(rng);
    let mut bob = IdentityStore::new(BOB, "BOBPHONE")?;
    let (bob_secrets, _) = bob.reset_identity(rng, &bob_phone)?;
    bob.receive_keys_query(&server_view(&[(&alice_identity, false)], &[&phone_keys]))?;
    let bob_master = bob
        .own_identity()
        .map(|i| i.master_key().public_key())
        .ok_or(IdentityError::UnknownUser)?;
    let (bob_saw, _) = sas_verify(
        rng,
        DeviceInfo::new(BOB, "BOBPHONE", bob_phone.ed25519_key(), Some(bob_master)),
        DeviceInfo::new(
            ALICE,
            "ALICEPHONE",
            phone_keys.ed25519_key(),
            Some(alice_identity.master_key().public_key()),
        ),
        "tour-ks-1",
    )
    .ok_or(safemeet::VerificationError::Authentication)?;
    bob.verify_user(&bob_secrets, ALICE, &bob_saw)?;
    println!("  Alice is {:?} on Bob's phone", bob.user_status(ALICE));

    step("Alice and Bob talk in a room. Her phone backs up both room keys: hers and Bob's.");
    let mut alice_out = GroupSession::new(rng);
    let mut bob_out = GroupSession::new(rng);
    let alice_in = InboundGroupSession::new(&alice_out.session_key());
    let bob_in = InboundGroupSession::new(&bob_out.session_key());
    for (i, text) in [
        "Lunch on Friday?",
        "Yes! The usual place?",
        "12:30, I'll book",
        "See you there",
    ]
    .iter()
    .enumerate()
    {
        let sender = if i % 2 == 0 {
            &mut alice_out
        } else {
            &mut bob_out
        };
        server.timeline.push(sender.encrypt(text.as_bytes())?);
    }
    let alice_keys = phone.identity_keys();
    let bob_keys = bob_phone.identity_keys();
    let room_keys = [
        RoomKey::from_inbound(
            &alice_in,
            ROOM,
            alice_keys.curve25519,
            Some(alice_keys.ed25519),
            false,
        ),
        RoomKey::from_inbound(
            &bob_in,
            ROOM,
            bob_keys.curve25519,
            Some(bob_keys.ed25519),
            false,
        ),
    ];
    for key in &room_keys {
        let upload = storage.back_up(rng, ROOM, key, 0, 0, true)?;
        server.apply(upload.into_iter().collect());
    }
    let leaked = secrets
        .to_secret_storage()
        .iter()
        .flatten()
        .any(|s| server.log.contains(s.as_str()))
        || storage
            .share_backup_key()
            .is_some_and(|k| server.log.contains(k.as_str()))
        || room_keys
            .iter()
            .any(|k| server.log.contains(k.session_key.to_base64().as_str()));
    println!("  a private key or room key anywhere in what the server holds: {leaked}");
    assert!(!leaked);

    step(
        "She also saves a key-export file, the manual backup, protected by a passphrase (PBKDF2, 500,000 rounds).",
    );
    let file = export::export_room_keys(
        rng,
        &room_keys,
        "correct horse battery staple",
        export::DEFAULT_ROUNDS,
    )?;
    println!(
        "  {} lines, starting {}",
        file.lines().count(),
        file.lines().next().unwrap_or_default()
    );

    step("Alice loses her phone, then her laptop. On a new laptop she signs in with her password.");
    drop((phone, phone_store, storage));
    let laptop = olm::Account::<8>::new(rng);
    let mut laptop_store = IdentityStore::new(ALICE, "ALICENEWLAPTOP")?;
    laptop_store.add_own_device(DeviceKeys::from_account(ALICE, "ALICENEWLAPTOP", &laptop)?)?;
    laptop_store.receive_keys_query(&server_view(&[(&alice_identity, true)], &[]))?;
    let mut sessions: Vec<InboundGroupSession> = Vec::new();
    println!(
        "  the server still has her identity, her secret storage and her backup; the laptop trusts her identity: {}; it reads {} of {} messages",
        laptop_store.is_own_identity_trusted(),
        read_timeline(&server, &mut sessions).len(),
        server.timeline.len()
    );

    step("She types her recovery key with one character wrong.");
    let mut typo: Vec<char> = recovery_key.chars().collect();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == 'x' { 'y' } else { 'x' };
    let typo: String = typo.into_iter().collect();
    let backup_version = server.backup.clone().ok_or(BackupError::NoBackup)?;
    let attempt = KeyStorage::recover(&typo, |t| server.account_data.get(t), &backup_version);
    println!(
        "  {} (the error names the check that failed, never the key)",
        describe(attempt.map(|_| ()))
    );

    step(
        "She types it right. The key check passes, and secret storage gives back her cross-signing keys and the backup key.",
    );
    let recovered = KeyStorage::recover(
        recovery_key.as_str(),
        |t| server.account_data.get(t),
        &backup_version,
    )?;
    let restored_master = recovered
        .cross_signing
        .master_public()
        .ok_or(IdentityError::MissingPrivateKey)?;
    println!(
        "  master key {} — the same as before: {}",
        base64::encode(restored_master.as_bytes()),
        restored_master == alice_identity.master_key().public_key()
    );
    laptop_store.trust_own_identity_with_secrets(&recovered.cross_signing)?;
    let signature =
        laptop_store.verify_own_device(&recovered.cross_signing, "ALICENEWLAPTOP", None)?;
    println!(
        "  the laptop trusts her identity: {}; her self-signing key signs the laptop ({} bytes to /keys/signatures/upload)",
        laptop_store.is_own_identity_trusted(),
        signature.to_canonical().len()
    );
    let storage = recovered.storage;
    println!(
        "  the backup: {:?}",
        storage.trusts(&backup_version, &laptop_store, Some(&laptop.ed25519_key()))?
    );

    step("The laptop downloads the backup and reads the room's history.");
    let restored = storage.restore(&server.all_room_keys())?;
    println!(
        "  {} room keys restored, {} rejected",
        restored.keys.len(),
        restored.rejected
    );
    for k in &restored.keys {
        sessions.push(k.key.to_inbound()?);
    }
    for line in read_timeline(&server, &mut sessions) {
        println!("  {line:?}");
    }
    let imported = export::import_room_keys(&file, "correct horse battery staple")?;
    println!(
        "  (the export file would have done too: {} room keys, {} rejected)",
        imported.keys.len(),
        imported.rejected
    );

    step("Bob's phone fetches Alice's keys: the same identity, and a new laptop signed by it.");
    let bob_view = bob
        .identity(ALICE)
        .cloned()
        .ok_or(IdentityError::UnknownUser)?;
    let new_laptop_keys = laptop_store
        .device(ALICE, "ALICENEWLAPTOP")
        .cloned()
        .ok_or(IdentityError::UnknownDevice)?;
    // The server publishes Alice's master key with Bob's signature on it, as Bob uploaded it.
    let events =
        bob.receive_keys_query(&server_view(&[(&bob_view, false)], &[&new_laptop_keys]))?;
    let reset = events
        .iter()
        .any(|e| matches!(e, IdentityEvent::Reset { .. }));
    println!(
        "  identity reset: {reset}; Alice is {:?}; her new laptop is {:?}; Bob may send: {}",
        bob.user_status(ALICE),
        bob.device_trust(ALICE, "ALICENEWLAPTOP"),
        bob.check_send(ALICE).is_ok()
    );
    assert!(!reset);
    assert_eq!(bob.user_status(ALICE), IdentityStatus::Verified);

    step(
        "Had key storage been off, nothing would have left her phone, and nothing would come back.",
    );
    let off = KeyStorage::off();
    let nothing = off.back_up(rng, ROOM, &room_keys[0], 0, 0, true)?;
    let empty = Object::new().into();
    let attempt = KeyStorage::recover(recovery_key.as_str(), |_| None, &empty);
    println!(
        "  backing up a room key sends: {nothing:?}; recovering: {}",
        describe(attempt.map(|_| ()))
    );
    println!("  (a new laptop could only reset her identity: what Bob saw in chapter 6)");
    Ok(())
}

//! The safemeet tour: what happens, step by step, when Alice (a phone and a laptop) and Bob (a phone) use
//! end-to-end encryption. Run it with `cargo run --example tour`.
//!
//! Each chapter shows one layer of the library at work. The random number generator is seeded so that
//! the tour prints the same story every time; an application passes an operating-system RNG instead
//! (`safemeet::primitives::rng::OsRng` with the `getrandom` feature).
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use safemeet::codec::{base58, base64};
use safemeet::group::{ReplayGuard, ReplayVerdict};
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
    chapter_signal(&mut rng, &alice_phone)?;

    chapter("Still to come");
    println!(
        "  Later chapters arrive with the layers they show: cross-signing and identity resets, and"
    );
    println!("  recovering everything on a new laptop with the recovery key.");
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

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
    chapter_room(&mut rng)?;

    chapter("Still to come");
    println!(
        "  Later chapters arrive with the layers they show: Olm messages as a Matrix client sends"
    );
    println!("  them, emoji verification, cross-signing and identity resets, and");
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
    chapter("Chapter 3: a room");

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

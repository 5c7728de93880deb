//! vodozemac sessions set up the same way for every bench that compares against it.

use vodozemac::olm;

/// The pre-key message a fresh Olm session sends first.
pub(crate) fn vz_pre_key(message: olm::OlmMessage) -> olm::PreKeyMessage {
    match message {
        olm::OlmMessage::PreKey(m) => Some(m),
        olm::OlmMessage::Normal(_) => None,
    }
    .expect("the first message is a pre-key message")
}

/// Bob's vodozemac account with one one-time key, and that key.
pub(crate) fn vz_bob_account() -> (olm::Account, vodozemac::Curve25519PublicKey) {
    let mut bob = olm::Account::new();
    bob.generate_one_time_keys(1);
    let otk = *bob.one_time_keys().values().next().unwrap();
    bob.mark_keys_as_published();
    (bob, otk)
}

pub(crate) fn vz_established() -> (olm::Session, olm::Session) {
    let alice = olm::Account::new();
    let (mut bob, otk) = vz_bob_account();
    let mut to_bob = alice
        .create_outbound_session(olm::SessionConfig::version_1(), bob.curve25519_key(), otk)
        .unwrap();
    let first = vz_pre_key(to_bob.encrypt(b"hello").unwrap());
    let mut to_alice = bob
        .create_inbound_session(
            olm::SessionConfig::version_1(),
            alice.curve25519_key(),
            &first,
        )
        .unwrap()
        .session;
    let reply = to_alice.encrypt(b"hi").unwrap();
    to_bob.decrypt(&reply).unwrap();
    (to_bob, to_alice)
}

//! Properties of group sessions under arbitrary delivery: for any order of delivery, any starting
//! index of a shared key and any interleaving of tampered copies, an inbound session (Megolm and
//! native) decrypts exactly the genuine messages at or after its first known index, each to its own
//! plaintext and index; merging copies keeps the lower index; the ratchet's jump equals single steps.
#![cfg(all(feature = "alloc", feature = "hazmat"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::group::Ratchet;
use safemeet::megolm::{GroupSession, InboundGroupSession, SessionOrdering};
use safemeet::session::group as native;
use safemeet::{Error, GroupError};

fn config() -> Config {
    Config {
        cases: 64,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x006e_601d),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_delivery_order_decrypts_exactly_the_shared_range(
        seed in any::<[u8; 32]>(),
        count in 1usize..24,
        first in 0usize..24,
        order in any::<Vec<prop::sample::Index>>(),
        tamper in any::<Vec<(prop::sample::Index, u16, u8)>>(),
    ) {
        let first = first.min(count);
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut out = GroupSession::new(&mut rng);
        let mut nout = native::GroupSession::new(&mut rng);
        let full = InboundGroupSession::new(&out.session_key());
        let nfull = native::InboundGroupSession::new(&nout.sender_key());
        let sent: Vec<_> = (0..count).map(|i| out.encrypt(format!("m{i}").as_bytes()).unwrap()).collect();
        let nsent: Vec<_> = (0..count).map(|i| nout.encrypt(format!("n{i}").as_bytes()).unwrap()).collect();
        let mut late = InboundGroupSession::import(&full.export_at(first as u32).unwrap());
        let mut nlate = native::InboundGroupSession::import(&nfull.export_at(first as u32).unwrap());

        // A delivery schedule: the given picks, then everything once more in order.
        let mut schedule: Vec<usize> = order.iter().map(|i| i.index(count)).collect();
        schedule.extend(0..count);
        for (step, &i) in schedule.iter().enumerate() {
            if let Some((_, pos, bit)) = tamper.iter().find(|(at, _, _)| at.index(schedule.len()) == step) {
                let mut bad = sent[i].clone();
                let p = usize::from(*pos) % bad.len();
                bad[p] ^= 1 << (bit % 8);
                prop_assert!(late.decrypt(&bad).is_err());
                let mut bad = nsent[i].clone();
                let p = usize::from(*pos) % bad.len();
                bad[p] ^= 1 << (bit % 8);
                prop_assert!(nlate.decrypt(&bad).is_err());
            }
            let got = late.decrypt(&sent[i]);
            let ngot = nlate.decrypt(&nsent[i]);
            if i >= first {
                let got = got.unwrap();
                prop_assert_eq!(got.message_index as usize, i);
                prop_assert_eq!(got.plaintext, format!("m{i}").into_bytes());
                let (pt, index) = ngot.unwrap();
                prop_assert_eq!(index as usize, i);
                prop_assert_eq!(pt, format!("n{i}").into_bytes());
            } else {
                let unknown = Error::Group(GroupError::UnknownMessageIndex { first_known_index: first as u32 });
                prop_assert_eq!(got.unwrap_err(), unknown);
                prop_assert_eq!(ngot.unwrap_err(), unknown);
            }
        }
        // Merging the late copy with the full one keeps index 0 and the verified flag.
        let expected = if first == 0 { SessionOrdering::Equal } else { SessionOrdering::Worse };
        prop_assert_eq!(late.compare(&full), expected);
        let merged = late.merge(&full).unwrap();
        prop_assert_eq!(merged.first_known_index(), 0);
        prop_assert!(merged.is_verified());
    }

    #[test]
    fn advance_to_equals_single_steps(
        bytes in prop::collection::vec(any::<u8>(), 128),
        start in any::<u32>(),
        steps in 0u32..600,
    ) {
        let bytes: [u8; 128] = bytes.try_into().unwrap();
        let mut stepped = Ratchet::from_bytes(&bytes, start);
        for _ in 0..steps {
            stepped.advance();
        }
        let mut jumped = Ratchet::from_bytes(&bytes, start);
        jumped.advance_to(start.wrapping_add(steps));
        prop_assert_eq!(stepped.index(), start.wrapping_add(steps));
        prop_assert!(stepped == jumped);
    }
}

//! Properties of Signal sender-key records under arbitrary delivery: for any sequence of deliveries
//! (repeats included) of one sender's messages, a record with a small key store decrypts exactly what
//! a model of libsignal's rules says (forward messages always, within the jump bound; a late message
//! while its key is among the `K` most recently stored; everything else is `DuplicatedMessage`), each
//! to its own plaintext and iteration, and a tampered copy never decrypts or changes the outcome of
//! what follows.
#![cfg(feature = "alloc")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_alloc
)]

use std::collections::VecDeque;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::signal::group::{DistributionId, OutboundSenderKey, SenderKeyRecord};
use safemeet::{Error, SignalError};

const K: usize = 6;

fn config() -> Config {
    Config {
        cases: 96,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5167_0a11),
        ..Config::default()
    }
}

/// libsignal's receiving rules, with the store bounded at `K` (oldest evicted first).
struct Model {
    next: u32,
    stored: VecDeque<u32>,
}

impl Model {
    fn deliver(&mut self, i: u32) -> bool {
        if i >= self.next {
            for skipped in self.next..i {
                self.stored.push_back(skipped);
                if self.stored.len() > K {
                    self.stored.pop_front();
                }
            }
            self.next = i + 1;
            true
        } else if let Some(at) = self.stored.iter().position(|&s| s == i) {
            self.stored.remove(at);
            true
        } else {
            false
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_delivery_sequence_matches_the_model(
        seed in any::<[u8; 32]>(),
        count in 1usize..30,
        deliveries in prop::collection::vec((any::<prop::sample::Index>(), any::<Option<(u16, u8)>>()), 1..60),
    ) {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let id = DistributionId::random(&mut rng);
        let mut out = OutboundSenderKey::new(&mut rng, id);
        let mut record =
            SenderKeyRecord::<K>::from_distribution_message(&out.distribution_message());
        let msgs: Vec<(Vec<u8>, Vec<u8>)> = (0..count)
            .map(|i| {
                let pt = format!("message {i}").into_bytes();
                (out.encrypt(&mut rng, &pt).unwrap(), pt)
            })
            .collect();
        let mut model = Model { next: 0, stored: VecDeque::new() };
        for (pick, tamper) in deliveries {
            let i = pick.index(count);
            let (m, pt) = &msgs[i];
            if let Some((at, bit)) = tamper {
                let mut bad = m.clone();
                let at = usize::from(at) % bad.len();
                bad[at] ^= bit.max(1);
                prop_assert!(record.decrypt(&bad).is_err(), "a tampered copy decrypted");
            }
            let got = record.decrypt(m);
            if model.deliver(i as u32) {
                prop_assert_eq!(got.unwrap(), pt.clone());
            } else {
                prop_assert_eq!(got, Err(Error::Signal(SignalError::DuplicatedMessage)));
            }
            prop_assert_eq!(record.stored_keys(), model.stored.len());
        }
    }
}

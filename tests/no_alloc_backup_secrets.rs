//! Recovery keys, passphrase derivation and secret storage make no heap allocation in their core
//! calls: recovery-key encode and decode (valid and each failure), `derive_key`, secret encryption
//! and decryption (and a failed MAC check), and the key check (compute, verify, fail). The
//! `allocation-counter` dev-dependency counts this thread's allocations; the `alloc` wrapper
//! `to_base58` is the control that the counter counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

#[path = "common/no_alloc.rs"]
mod no_alloc_check;
use no_alloc_check::no_alloc;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use safemeet::BackupError;
use safemeet::backup::passphrase::derive_key;
use safemeet::backup::recovery_key::{ENCODED_LEN, RecoveryKey};
use safemeet::backup::secret_storage::{
    MEGOLM_BACKUP_V1, compute_key_check, decrypt_secret_into, encrypt_secret_into, verify_key_check,
};

#[test]
fn backup_secret_core_calls_do_not_allocate() {
    let mut rng = ChaCha20Rng::from_seed([31; 32]);
    let key = no_alloc("RecoveryKey::generate", || RecoveryKey::generate(&mut rng));

    let mut text = [0u8; ENCODED_LEN];
    no_alloc("encode_into", || key.encode_into(&mut text).unwrap());
    let text = core::str::from_utf8(&text).unwrap();
    let back = no_alloc("decode", || RecoveryKey::decode(text).unwrap());
    assert_eq!(back, key);
    for (bad, err) in [
        (
            "EsTZ 4us6 nh29 89jk U1uH Zbae 4PuS QQC1 86pt em8o R8nb bdw0",
            BackupError::InvalidBase58,
        ),
        ("EsTZ 4us6", BackupError::InvalidLength),
        (
            "AATpRvZTnjck8YrhRAtwXLS84Nr2r9S9LGAWDaExVAPBvLRk",
            BackupError::InvalidPrefix,
        ),
        (
            "EsTZ 4us6 nh29 89jk U1uH Zbae 4PuS QQC1 86pt em8o R8nb bdwR",
            BackupError::InvalidParity,
        ),
    ] {
        assert_eq!(
            no_alloc("decode (bad)", || RecoveryKey::decode(bad)),
            Err(err)
        );
    }

    let derived = no_alloc("derive_key", || {
        derive_key(b"correct horse", b"salt", 10).unwrap()
    });
    assert_ne!(derived.as_bytes(), &[0; 32]);

    let secret = b"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo";
    let mut ct = [0u8; 64];
    let sealed = no_alloc("encrypt_secret_into", || {
        encrypt_secret_into(&key, MEGOLM_BACKUP_V1, [9; 16], secret, &mut ct).unwrap()
    });
    let mut pt = [0u8; 64];
    let n = no_alloc("decrypt_secret_into", || {
        decrypt_secret_into(
            &key,
            MEGOLM_BACKUP_V1,
            &sealed.iv,
            &ct[..sealed.len],
            &sealed.mac,
            &mut pt,
        )
        .unwrap()
    });
    assert_eq!(&pt[..n], secret);
    let mut bad_mac = sealed.mac;
    bad_mac[0] ^= 1;
    assert_eq!(
        no_alloc("decrypt_secret_into (bad MAC)", || {
            decrypt_secret_into(
                &key,
                MEGOLM_BACKUP_V1,
                &sealed.iv,
                &ct[..sealed.len],
                &bad_mac,
                &mut pt,
            )
        }),
        Err(BackupError::Authentication)
    );

    let (iv, mac) = no_alloc("compute_key_check", || {
        compute_key_check(&key, [3; 16]).unwrap()
    });
    no_alloc("verify_key_check", || {
        verify_key_check(&key, &iv, &mac).unwrap()
    });
    assert_eq!(
        no_alloc("verify_key_check (wrong key)", || verify_key_check(
            &derived, &iv, &mac
        )),
        Err(BackupError::KeyCheckFailed)
    );
}

#[cfg(feature = "alloc")]
#[test]
fn the_counter_counts() {
    let key = RecoveryKey::from_bytes(&[1; 32]);
    let info = allocation_counter::measure(|| drop(key.to_base58()));
    assert!(info.count_total > 0);
}

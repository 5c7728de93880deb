//! Server-side key backup's core calls make no heap allocation: key generation and the base64 forms,
//! `encrypt_into` and `decrypt_into` (succeeding and failing), and the server's replacement rule. The
//! `allocation-counter` dev-dependency counts this thread's allocations; the `alloc` JSON wrapper is
//! the control that the counter counts.
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
use safemeet::backup::key_backup::{
    BackupDecryptionKey, BackupPublicKey, KeyBackupMeta, decrypt_len, encrypt_len,
};

const BUF: usize = 1024;

#[test]
fn backup_encryption_and_decryption_do_not_allocate() {
    let mut rng = ChaCha20Rng::from_seed([41; 32]);
    let key = no_alloc("BackupDecryptionKey::generate", || {
        BackupDecryptionKey::generate(&mut rng)
    });
    let (public, text_len, text) = no_alloc("base64 forms", || {
        let mut text = [0u8; 43];
        let n = key.to_base64_into(&mut text).unwrap();
        let again =
            BackupDecryptionKey::from_base64(core::str::from_utf8(&text[..n]).unwrap()).unwrap();
        assert_eq!(*again.to_bytes(), *key.to_bytes());
        let mut ptext = [0u8; 43];
        let m = key.public_key().to_base64_into(&mut ptext).unwrap();
        let public =
            BackupPublicKey::from_base64(core::str::from_utf8(&ptext[..m]).unwrap()).unwrap();
        (public, n, text)
    });
    assert_eq!(text_len, 43);
    assert_eq!(text.len(), 43);
    assert_eq!(public, key.public_key());

    for len in [0usize, 1, 16, 600, 1000] {
        let pt: [u8; BUF] = core::array::from_fn(|i| i as u8);
        let pt = &pt[..len];
        let (ct, ct_len, header) = no_alloc("encrypt_into", || {
            let mut ct = [0u8; BUF + 16];
            let (n, header) = public.encrypt_into(&mut rng, pt, &mut ct).unwrap();
            assert_eq!(n, encrypt_len(len));
            (ct, n, header)
        });
        no_alloc("decrypt_into", || {
            let mut out = [0u8; BUF + 16];
            assert!(out.len() >= decrypt_len(ct_len));
            let n = key
                .decrypt_into(&header.ephemeral, &header.mac, &ct[..ct_len], &mut out)
                .unwrap();
            assert_eq!(&out[..n], pt);
        });
        no_alloc("decrypt_into failing", || {
            let mut out = [0u8; BUF + 16];
            let mut mac = header.mac;
            mac[0] ^= 1;
            assert_eq!(
                key.decrypt_into(&header.ephemeral, &mac, &ct[..ct_len], &mut out),
                Err(BackupError::Authentication)
            );
            assert_eq!(
                key.decrypt_into(&header.ephemeral, &header.mac, &ct[..ct_len], &mut out[..1]),
                Err(BackupError::BufferTooSmall { needed: ct_len })
            );
        });
    }
    no_alloc("replacement rule", || {
        let a = KeyBackupMeta {
            first_message_index: 0,
            forwarded_count: 1,
            is_verified: false,
        };
        let b = KeyBackupMeta {
            is_verified: true,
            ..a
        };
        assert!(b.replaces(&a) && !a.replaces(&b));
    });
}

/// The control: the JSON wrapper allocates, so the counter is counting.
#[cfg(feature = "alloc")]
#[test]
fn the_counter_counts() {
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let key = BackupDecryptionKey::generate(&mut rng);
    let info = allocation_counter::measure(|| {
        let _ = key
            .public_key()
            .encrypt_session_data(&mut rng, b"{}")
            .unwrap();
    });
    assert!(info.count_total > 0);
}

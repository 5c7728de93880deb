//! The key-export core makes no heap allocation: `encrypt_into`, `decrypt_into`, `decrypted_len` and
//! `encrypted_len`, on success and on every failure (wrong passphrase, tampering, short buffer). The
//! `allocation-counter` dev-dependency replaces the global allocator in this test binary; the `alloc`
//! wrapper serves as a control that the counter counts.
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
use safemeet::backup::export;

const PLAINTEXT: &[u8] = br#"[{"algorithm":"m.megolm.v1.aes-sha2","room_id":"!r:example.org"}]"#;

#[test]
fn export_core_does_not_allocate() {
    let mut rng = ChaCha20Rng::from_seed([8; 32]);
    let mut file = [0u8; 1024];
    let n = no_alloc("encrypt_into", || {
        let needed = export::encrypted_len(PLAINTEXT.len());
        assert!(needed <= file.len());
        export::encrypt_into(&mut rng, "pässword".as_bytes(), 1000, PLAINTEXT, &mut file).unwrap()
    });
    let file = &file[..n];

    no_alloc("decrypt_into", || {
        let len = export::decrypted_len(file).unwrap();
        let mut out = [0u8; 256];
        let m = export::decrypt_into(file, "pässword".as_bytes(), &mut out).unwrap();
        assert_eq!(m, len);
        assert_eq!(&out[..m], PLAINTEXT);
    });
    no_alloc("decrypt_into, wrong passphrase", || {
        let mut out = [0u8; 256];
        assert_eq!(
            export::decrypt_into(file, b"password", &mut out),
            Err(BackupError::Authentication)
        );
    });
    no_alloc("decrypt_into, tampered", || {
        let mut copy = [0u8; 1024];
        copy[..file.len()].copy_from_slice(file);
        copy[60] = if copy[60] == b'A' { b'B' } else { b'A' };
        let mut out = [0u8; 256];
        assert!(
            export::decrypt_into(&copy[..file.len()], "pässword".as_bytes(), &mut out).is_err()
        );
    });
    no_alloc("decrypt_into, short buffer", || {
        let mut out = [0u8; 8];
        assert_eq!(
            export::decrypt_into(file, "pässword".as_bytes(), &mut out),
            Err(BackupError::BufferTooSmall {
                needed: PLAINTEXT.len()
            })
        );
    });
    no_alloc("encrypt_into, short buffer", || {
        let mut out = [0u8; 16];
        assert!(matches!(
            export::encrypt_into(&mut rng, b"pw", 1, PLAINTEXT, &mut out),
            Err(BackupError::BufferTooSmall { .. })
        ));
    });
}

#[cfg(feature = "alloc")]
#[test]
fn the_counter_counts() {
    let mut rng = ChaCha20Rng::from_seed([8; 32]);
    let info = allocation_counter::measure(|| {
        export::encrypt(&mut rng, b"pw", 1, PLAINTEXT).unwrap();
    });
    assert!(info.count_total > 0);
}

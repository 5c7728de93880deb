//! Replays the committed fuzz seed corpora through the same checks the fuzz targets run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Runs `check` on every seed of `target`; reports every file that fails, then fails if any did.
#[cfg(feature = "alloc")]
fn replay(target: &str, check: fn(&[u8])) {
    let files = corpus(target);
    assert!(!files.is_empty(), "the {target} seed corpus is empty");
    let failed: Vec<_> = files
        .iter()
        .filter(|(_, bytes)| std::panic::catch_unwind(|| check(bytes)).is_err())
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} seeds failed: {failed:#?}",
        failed.len(),
        files.len()
    );
    println!("{target} corpus: {} files passed", files.len());
}

#[cfg(feature = "alloc")]
#[test]
fn native_decode_corpus() {
    replay(
        "native_decode",
        safemeet::session::fuzz_checks::check_decode,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn native_decrypt_corpus() {
    replay(
        "native_decrypt",
        safemeet::session::fuzz_checks::check_decrypt,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn native_interaction_corpus() {
    replay(
        "native_interaction",
        safemeet::session::fuzz_checks::check_interaction,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn megolm_message_corpus() {
    replay(
        "megolm_message",
        safemeet::megolm::fuzz_checks::check_message,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn megolm_keys_corpus() {
    replay("megolm_keys", safemeet::megolm::fuzz_checks::check_keys);
}

#[cfg(feature = "alloc")]
#[test]
fn megolm_decrypt_corpus() {
    replay(
        "megolm_decrypt",
        safemeet::megolm::fuzz_checks::check_decrypt,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn olm_decode_corpus() {
    replay("olm_decode", safemeet::olm::fuzz_checks::check_decode);
}

#[cfg(feature = "alloc")]
#[test]
fn olm_decrypt_corpus() {
    replay("olm_decrypt", safemeet::olm::fuzz_checks::check_decrypt);
}

#[cfg(feature = "alloc")]
#[test]
fn olm_interaction_corpus() {
    replay(
        "olm_interaction",
        safemeet::olm::fuzz_checks::check_interaction,
    );
}

#[test]
fn codec_corpus() {
    let files = corpus("codec");
    assert!(!files.is_empty(), "the codec seed corpus is empty");
    for (path, bytes) in &files {
        let result = std::panic::catch_unwind(|| {
            safemeet::codec::fuzz_checks::check_codec(bytes);
        });
        assert!(result.is_ok(), "{} failed the codec checks", path.display());
    }
    println!("codec corpus: {} files passed", files.len());
}

#[cfg(feature = "alloc")]
#[test]
fn qr_decode_corpus() {
    replay("qr_decode", safemeet::verification::fuzz_checks::check_qr);
}

#[cfg(feature = "alloc")]
#[test]
fn verification_event_corpus() {
    replay(
        "verification_event",
        safemeet::verification::fuzz_checks::check_event,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn verification_flow_corpus() {
    replay(
        "verification_flow",
        safemeet::verification::fuzz_checks::check_flow,
    );
    // The seeds do what their names say.
    use safemeet::verification::flow::{CancelCode, State};
    use safemeet::verification::fuzz_checks::run_flow;
    let seed = |name: &str| {
        std::fs::read(format!(
            "{}/fuzz/corpus/verification_flow/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    assert_eq!(
        run_flow(&seed("seed-happy-path")),
        (State::Done, State::Done)
    );
    assert!(matches!(
        run_flow(&seed("seed-timeout")).0,
        State::Cancelled {
            code: CancelCode::Timeout,
            by_us: true
        }
    ));
    assert!(matches!(
        run_flow(&seed("seed-cancel")).1,
        State::Cancelled {
            code: CancelCode::User,
            by_us: false
        }
    ));
}

#[cfg(feature = "alloc")]
#[test]
fn signal_decode_corpus() {
    replay(
        "signal_decode",
        safemeet::signal::pairwise_fuzz_checks::check_decode,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn signal_decrypt_corpus() {
    replay(
        "signal_decrypt",
        safemeet::signal::pairwise_fuzz_checks::check_decrypt,
    );
}

/// The signal seeds include the genuine messages of the decrypt fixture, and each decrypts there.
#[cfg(feature = "alloc")]
#[test]
fn signal_decrypt_seeds_are_the_fixtures_messages() {
    let seeds = safemeet::signal::pairwise_fuzz_checks::decrypt_seeds();
    if std::env::var_os("SAFEMEET_WRITE_SEEDS").is_some() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for target in ["signal_decode", "signal_decrypt"] {
            std::fs::create_dir_all(root.join(target)).unwrap();
            for (name, bytes) in &seeds {
                std::fs::write(root.join(target).join(format!("seed-{name}")), bytes).unwrap();
            }
        }
    }
    let files = corpus("signal_decrypt");
    for (name, bytes) in &seeds {
        assert!(
            files.iter().any(|(_, b)| b == bytes),
            "seed {name} is not in fuzz/corpus/signal_decrypt (regenerate with SAFEMEET_WRITE_SEEDS=1)"
        );
    }
}

#[cfg(feature = "alloc")]
#[test]
fn identity_keys_corpus() {
    replay("identity_keys", safemeet::identity::fuzz_checks::check_keys);
}

#[cfg(feature = "alloc")]
#[test]
fn identity_query_corpus() {
    replay(
        "identity_query",
        safemeet::identity::fuzz_checks::check_keys_query,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn identity_canonical_corpus() {
    replay(
        "identity_canonical",
        safemeet::identity::fuzz_checks::check_canonical,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn signal_sender_key_corpus() {
    replay(
        "signal_sender_key",
        safemeet::signal::group::fuzz_checks::check_sender_key,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn backup_recovery_key_corpus() {
    replay(
        "backup_recovery_key",
        safemeet::backup::secret_storage::fuzz_checks::check_recovery_key,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn backup_secret_storage_corpus() {
    replay(
        "backup_secret_storage",
        safemeet::backup::secret_storage::fuzz_checks::check_secret_storage,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn backup_key_backup_corpus() {
    replay(
        "backup_key_backup",
        safemeet::backup::key_backup::fuzz_checks::check_backup,
    );
}

#[cfg(feature = "alloc")]
#[test]
fn backup_export_corpus() {
    replay(
        "backup_export",
        safemeet::backup::export::fuzz_checks::check,
    );
}

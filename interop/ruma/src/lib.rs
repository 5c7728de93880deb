//! Test-only crate: safemeet's signed JSON (`safemeet::identity::signed`) against ruma-signatures 0.22.1.
//! The tests are in `tests/signed_json.rs`, the side-by-side benchmarks in `benches/signed_json.rs`.
//! Run them with `cargo test` and `cargo bench` in this directory.

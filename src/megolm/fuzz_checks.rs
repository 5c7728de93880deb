//! Checks over arbitrary bytes for Megolm, shared by the fuzz targets and the corpus replay test.
#![cfg(feature = "alloc")]

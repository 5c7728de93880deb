//! Helpers shared by the benches (included with `mod common;`).
#![allow(dead_code)]

pub(crate) mod vodozemac;

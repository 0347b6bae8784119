//! Explaining an index: what moves it and why. Each analysis re-uses the library's evaluation
//! and the pure statistics in [`crate::stats`]; none touches files.

pub mod audit;

pub use audit::{Audit, audit};

//! kapok's integration tests: one binary, one module per concern.
//!
//! Golden files and CLI snapshots are rewritten with `KAPOK_BLESS=1 cargo test`; a missing
//! expectation fails the test.

mod audit;
mod bod;
mod browser;
mod build;
mod catalogue;
mod charts;
mod cli;
mod coinr_asem;
mod columns;
mod contract;
mod data_errors;
mod diagnostics;
mod formats;
mod fuzz_regressions;
mod gender;
mod generator;
mod golden;
mod hdi;
mod intake;
mod lang;
mod outputs;
mod panel_impute;
mod periods;
mod print;
mod properties;
mod readme;
mod reference;
mod report;
mod robustness;
mod rollup;
mod serve;
mod server;
mod sql;
mod trend;
mod uncertainty;
mod util;
mod weights;
mod workbook;

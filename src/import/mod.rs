//! Importers that turn other tools' formats into kapok frameworks.

pub mod coinr;

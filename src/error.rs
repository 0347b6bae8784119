//! The library's error type. Each variant says what the user can act on; [`Error::exit_code`]
//! maps it to the command-line contract (1 data or evaluation error, 2 invalid framework or usage).

use std::path::{Path, PathBuf};

use crate::framework::Diagnostics;

/// Everything that can go wrong in kapok.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The framework file is invalid; every problem is listed.
    #[error("{0}")]
    Framework(Diagnostics),
    /// Wrong command-line use (unknown node in `--weight`, bad option value).
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// Input data are unusable (missing column, duplicate unit, unreadable file).
    #[error("{0}")]
    Data(String),
    /// The index cannot be computed from these data (zero variance, non-positive value under a
    /// geometric mean, non-finite expression result).
    #[error("{0}")]
    Eval(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Framework(_) | Self::Usage(_) => 2,
            Self::Io { .. } | Self::Data(_) | Self::Eval(_) => 1,
        }
    }
}

/// Result with kapok's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

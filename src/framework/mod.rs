//! Framework files: spanned TOML ([`read`]) → checked [`Framework`] ([`check`]), with
//! diagnostics that point at the line to fix ([`diag`]).

pub mod check;
pub mod diag;
pub mod expr;
pub mod methods;
pub mod model;
pub mod read;

use std::path::Path;

pub use check::check;
pub use diag::{Diagnostic, Diagnostics, Severity, SourceFile};
pub use model::*;

use crate::error::Error;

/// Reads and checks a framework file.
pub fn load(path: &Path) -> Result<Framework, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let file = SourceFile::new(path.display().to_string(), text);
    check(file, &check::base_dir(path)).map_err(Error::Framework)
}

impl Framework {
    /// Overrides a node's weight for one run (`--weight ID=W`).
    pub fn set_weight(&mut self, id: &str, weight: f64) -> Result<(), Error> {
        if !weight.is_finite() || weight < 0.0 {
            return Err(Error::Usage(format!(
                "--weight {id}={weight}: a weight must be a finite number ≥ 0"
            )));
        }
        let Some(i) = self.node_by_id(id) else {
            let hint = diag::did_you_mean(id, self.nodes.iter().map(|n| n.id.as_str()))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "--weight {id}={weight}: no node has the id `{id}`{hint}"
            )));
        };
        let Some(p) = self.nodes[i].parent else {
            return Err(Error::Usage(format!(
                "--weight {id}={weight}: `{id}` is the index, which has no weight"
            )));
        };
        self.nodes[i].weight = weight;
        if self.nodes[p]
            .children
            .iter()
            .all(|&c| self.nodes[c].weight == 0.0)
        {
            return Err(Error::Usage(format!(
                "--weight {id}={weight}: every weight under `{}` would be zero",
                self.nodes[p].id
            )));
        }
        Ok(())
    }
}

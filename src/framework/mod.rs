//! Framework files: spanned TOML ([`read`]) → checked [`Framework`] ([`mod@check`]), with
//! diagnostics that point at the line to fix ([`diag`]).

pub mod check;
pub mod diag;
pub mod expr;
pub mod formula;
pub mod header;
pub mod methods;
pub mod model;
pub mod overrides;
pub mod read;
pub mod rollup;
pub mod trend;
pub mod uncertainty;

use std::path::Path;

pub use check::check;
pub use diag::{Diagnostic, Diagnostics, Severity, SourceFile};
pub use header::ReportHeader;
pub use model::*;

use crate::error::Error;

/// Reads and checks a framework file.
pub fn load(path: &Path) -> Result<Framework, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = utf8(path, bytes)?;
    let file = SourceFile::new(path.display().to_string(), text);
    check(file, &check::base_dir(path)).map_err(Error::Framework)
}

/// A framework file's text: UTF-8 (a byte-order mark is dropped). Other bytes are a framework
/// error at the line and column of the first one, with how to fix it.
fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, Error> {
    match String::from_utf8(bytes) {
        Ok(t) => Ok(match t.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => t,
        }),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let bad = e_bytes(&bytes[at..]);
            let gbk = encoding_rs::GBK
                .decode_without_bom_handling_and_without_replacement(&bytes)
                .is_some();
            // The lossy text equals the file up to `at`, then holds U+FFFD (3 bytes).
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let d = Diagnostic::error(
                at..at + 3,
                format!("the framework file is not UTF-8 (byte {bad})"),
            )
            .with_label("not UTF-8")
            .with_hint(if gbk {
                "it reads as GBK/GB18030: save it as UTF-8 (in Notepad: Save as → Encoding UTF-8)"
            } else {
                "save it as UTF-8"
            });
            Err(Error::Framework(Diagnostics {
                file: SourceFile::new(path.display().to_string(), text),
                items: vec![d],
            }))
        }
    }
}

/// The first byte of an undecodable sequence, as `0xB2`.
fn e_bytes(rest: &[u8]) -> String {
    rest.first().map_or(String::new(), |b| format!("0x{b:02X}"))
}

impl Framework {
    /// Overrides a node's weight for one run (`--weight ID=W`).
    pub fn set_weight(&mut self, id: &str, weight: f64) -> Result<(), Error> {
        let usage = |m: String| Error::Usage(format!("--weight {id}={weight}: {m}"));
        if !weight.is_finite() || weight < 0.0 {
            return Err(usage("a weight must be a finite number ≥ 0".into()));
        }
        let i = self.node_named(id).map_err(usage)?;
        let mut w: Vec<f64> = self.nodes.iter().map(|n| n.weight).collect();
        self.set_weight_in(&mut w, i, weight).map_err(usage)?;
        self.nodes[i].weight = weight;
        Ok(())
    }

    /// The node with identifier `id`, or why there is none: "no node has the id `x` (did you
    /// mean `y`?)".
    pub fn node_named(&self, id: &str) -> Result<usize, String> {
        self.node_by_id(id).ok_or_else(|| {
            let hint = diag::did_you_mean(id, self.nodes.iter().map(|n| n.id.as_str()))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            format!("no node has the id `{id}`{hint}")
        })
    }

    /// Sets node `i`'s entry of `weights` (one weight per node) to `w`, checked as every weight
    /// change is: a finite number ≥ 0 and at most [`check::MAX_WEIGHT`], never the index's, and never the last non-zero weight
    /// under a parent. A node taken out with [`Framework::exclude`] takes any weight. The
    /// error is the reason, for the caller to prefix with the option or cell.
    pub fn set_weight_in(&self, weights: &mut [f64], i: usize, w: f64) -> Result<(), String> {
        if !w.is_finite() || w < 0.0 {
            return Err("a weight must be a finite number ≥ 0".into());
        }
        if w > check::MAX_WEIGHT {
            return Err(format!(
                "weights are relative within a parent; at most {:e} is accepted",
                check::MAX_WEIGHT
            ));
        }
        let Some(p) = self.nodes[i].parent else {
            if i == 0 {
                return Err(format!(
                    "`{}` is the index, which has no weight",
                    self.nodes[i].id
                ));
            }
            weights[i] = w; // excluded: its weight no longer counts
            return Ok(());
        };
        weights[i] = w;
        if self.nodes[p].children.iter().all(|&c| weights[c] == 0.0) {
            return Err(format!(
                "every weight under `{}` would be zero",
                self.nodes[p].id
            ));
        }
        Ok(())
    }
}

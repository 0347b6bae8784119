//! Weights from the data: every aggregate node's children weighted by what their scores say.
//!
//! [`derive()`] takes the normalised indicator values of one period (as [`mod@crate::evaluate`]
//! computes them) and walks the tree bottom-up: a node's weights come from its children's
//! scores, and a child that is itself an aggregate is scored first with the weights already
//! derived below it (and its own aggregation method). Methods ([`Method`]):
//!
//! - `equal`: every child weight 1;
//! - `pca`: the squared loadings of the children's first principal component ([`pca`]);
//! - `balance`: the weights that make the children's correlations with the node's score as
//!   equal as possible, COINr's `get_opt_weights(optype = "balance")` ([`balance`]).
//!
//! `pca` and `balance` use the units with every child present (complete cases) and need at
//! least as many of them as the node has children, and at least 3; every child must vary over
//! them. A node with one child gives it weight 1. `pca` and `balance` weights sum to 1 within
//! each node and are rounded to six decimals
//! before the node is scored, so that the weights written ([`Derived::to_toml`]) are the
//! weights applied ([`Derived::apply`]). Deterministic.

pub mod balance;
pub mod pca;

use ndarray::{Array2, ArrayView2, Axis};

use crate::data::Panel;
use crate::error::Error;
use crate::evaluate::{NormalisedPeriod, aggregation_error};
use crate::framework::Framework;
use crate::pipeline::{self, StageError};

pub use balance::Balanced;
pub use pca::PcaWeights;

/// How weights are derived from the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Every child weight 1.
    Equal,
    /// Squared loadings of the children's first principal component (OECD/JRC Handbook).
    Pca,
    /// Children's correlations with their parent made as equal as possible (COINr's
    /// `get_opt_weights(optype = "balance")`).
    Balance,
}

impl Method {
    /// The name as typed.
    pub fn name(self) -> &'static str {
        match self {
            Method::Equal => "equal",
            Method::Pca => "pca",
            Method::Balance => "balance",
        }
    }

    /// What the method does, in a sentence (for the header of the weights written).
    pub fn describe(self) -> &'static str {
        match self {
            Method::Equal => "every child of every node weight 1.",
            Method::Pca => {
                "per node, the first principal component of its children's scores (correlation matrix, units with every child present); weight = squared loading (the OECD/JRC Handbook's squared loadings scaled to sum 1), summing to 1 within the node, to six decimals."
            }
            Method::Balance => {
                "per node, the weights (summing to 1) that make the children's Pearson correlations with the node's score as equal as possible (COINr's get_opt_weights, optype = \"balance\"): Nelder-Mead from equal weights over the units with every child present; six decimals."
            }
        }
    }
}

/// Why a node's weights cannot be derived from its children's scores (children counted from 0).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Problem {
    /// A child has no score for any unit.
    #[error("child `{child}` has no value for any unit")]
    NoValues {
        /// The child.
        child: usize,
    },
    /// Too few units have a score for every child.
    #[error(
        "only {complete} unit(s) have a score for every child; the method needs at least {needed} (as many as the node has children, and 3)"
    )]
    TooFewUnits {
        /// Units with every child present.
        complete: usize,
        /// Units needed.
        needed: usize,
    },
    /// A child has the same score for every unit, so its correlations are undefined.
    #[error(
        "child `{child}` has the same score for every unit with every child present, so its correlations are undefined"
    )]
    Constant {
        /// The child.
        child: usize,
    },
    /// The children cannot be aggregated with equal weights.
    #[error("{0}")]
    Aggregation(StageError),
    /// The statistic is undefined for these scores (e.g. the node's score does not vary).
    #[error("the children's correlations are undefined for these scores")]
    Undefined,
}

/// The complete rows of `children` (rows with every column present), checked for what `pca` and
/// `balance` need (see [`Problem`]).
pub fn complete(children: ArrayView2<f64>) -> Result<Array2<f64>, Problem> {
    let k = children.ncols();
    if let Some(child) = (0..k).find(|&j| children.column(j).iter().all(|v| v.is_nan())) {
        return Err(Problem::NoValues { child });
    }
    let x = crate::stats::complete_rows(children);
    let needed = k.max(3);
    if x.nrows() < needed {
        return Err(Problem::TooFewUnits {
            complete: x.nrows(),
            needed,
        });
    }
    if let Some(child) = (0..k).find(|&j| {
        let c = x.column(j);
        c.iter().all(|v| *v == c[0])
    }) {
        return Err(Problem::Constant { child });
    }
    Ok(x)
}

/// How one node's weights were derived.
#[derive(Clone, Debug, PartialEq)]
pub enum How {
    /// Equal weights.
    Equal,
    /// The node has one child: weight 1.
    OneChild,
    /// From the first principal component.
    Pca(PcaWeights),
    /// By balancing the correlations.
    Balance(Balanced),
    /// The node's method takes no weights (a formula, the benefit of the doubt): the children
    /// keep the framework's weights.
    Formula,
}

/// The derived weights of one aggregate node's children.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeWeights {
    /// The aggregate node.
    pub node: usize,
    /// Its children, in order.
    pub children: Vec<usize>,
    /// One weight per child (`pca`, `balance`: summing to 1, rounded to six decimals).
    pub weights: Vec<f64>,
    /// How they were found.
    pub how: How,
}

/// The weights of every node, derived from one period's data.
#[derive(Clone, Debug, PartialEq)]
pub struct Derived {
    /// The method.
    pub method: Method,
    /// The period (empty when the framework has none).
    pub period: String,
    /// Units scored in the period (kept by screening).
    pub units: usize,
    /// Every aggregate node, in pre-order (the index first).
    pub nodes: Vec<NodeWeights>,
}

/// `x` rounded to six decimals (weights that sum to 1 within their node), with no `-0`.
pub fn round6(x: f64) -> f64 {
    crate::format::no_negative_zero((x * 1e6).round() / 1e6)
}

/// Derives the weights of every node of `fw` by `method` from period `p` of `panel` (see the
/// module docs).
///
/// # Errors
/// The evaluation's errors up to normalisation; a node whose weights cannot be derived (an
/// [`Error::Eval`] naming node, child and period); an aggregation error.
pub fn derive(fw: &Framework, panel: &Panel, p: usize, method: Method) -> Result<Derived, Error> {
    // A `[weights]` table gives a node one weight, under its first parent.
    if let Some(n) = fw.nodes.iter().find(|n| !n.shared.is_empty()) {
        let parents: Vec<String> = std::iter::once(n.parent)
            .flatten()
            .chain(n.shared.iter().map(|e| e.parent))
            .map(|p| format!("`{}`", fw.nodes[p].id))
            .collect();
        return Err(Error::Usage(format!(
            "`{}` counts under several parents ({}): weights from the data are written one per node and cannot say its weight under each",
            n.id,
            parents.join(", ")
        )));
    }
    let np = crate::evaluate::normalised_period(fw, panel, p)?;
    derive_from(fw, &np, method)
        .map_err(|(node, e)| match e {
            NodeError::Stage(e) => aggregation_error(fw, panel, &np.rows, p, node, &e),
            NodeError::Problem(e) => {
                let period = &panel.periods[p];
                let period = if period.is_empty() {
                    String::new()
                } else {
                    format!(", period {period}")
                };
                let mut msg = format!(
                    "deriving {} weights of `{}`{period}: {e}",
                    method.name(),
                    fw.nodes[node].id
                );
                for (c, &child) in fw.nodes[node].children.iter().enumerate() {
                    msg = msg.replace(
                        &format!("child `{c}`"),
                        &format!("child `{}`", fw.nodes[child].id),
                    );
                }
                if matches!(e, Problem::TooFewUnits { .. } | Problem::Constant { .. }) {
                    msg.push_str(
                        "\nhint: derive from another period (--period) or use --method equal",
                    );
                }
                Error::Eval(msg)
            }
        })
        .map(|nodes| Derived {
            method,
            period: panel.periods[p].clone(),
            units: np.rows.len(),
            nodes,
        })
}

/// What stopped the derivation at a node.
enum NodeError {
    Stage(StageError),
    Problem(Problem),
}

/// The derivation over a normalised period: bottom-up, each node's weights, then its scores.
fn derive_from(
    fw: &Framework,
    np: &NormalisedPeriod,
    method: Method,
) -> Result<Vec<NodeWeights>, (usize, NodeError)> {
    let mut s = np.scores.clone();
    let mut out = Vec::new();
    for node in fw.aggregates_bottom_up() {
        let children = fw.nodes[node].children.clone();
        let agg = fw.aggregate_of(&fw.nodes[node]);
        let mat = s.select(Axis(1), &children);
        let how = match method {
            _ if !agg.method.uses_weights() => How::Formula,
            _ if children.len() == 1 => How::OneChild,
            Method::Equal => How::Equal,
            Method::Pca => {
                How::Pca(pca::pca_weights(mat.view()).map_err(|e| (node, NodeError::Problem(e)))?)
            }
            Method::Balance => How::Balance(
                balance::balance_weights(mat.view(), &agg)
                    .map_err(|e| (node, NodeError::Problem(e)))?,
            ),
        };
        let weights: Vec<f64> = match &how {
            How::Equal | How::OneChild => vec![1.0; children.len()],
            How::Formula => children.iter().map(|&c| fw.nodes[c].weight).collect(),
            How::Pca(p) => p.weights.iter().map(|&w| round6(w)).collect(),
            How::Balance(b) => b.weights.iter().map(|&w| round6(w)).collect(),
        };
        let col = pipeline::aggregate(mat.view(), &weights, &agg.method, agg.min_share)
            .map_err(|e| (node, NodeError::Stage(e)))?;
        s.column_mut(node).assign(&col);
        out.push(NodeWeights {
            node,
            children,
            weights,
            how,
        });
    }
    out.reverse();
    Ok(out)
}

impl Derived {
    /// Every node but the index with its derived weight, in the framework's node order.
    pub fn weights(&self, fw: &Framework) -> Vec<(usize, f64)> {
        let mut w: Vec<(usize, f64)> = self
            .nodes
            .iter()
            .flat_map(|n| n.children.iter().copied().zip(n.weights.iter().copied()))
            .collect();
        w.sort_by_key(|&(node, _)| node);
        debug_assert_eq!(w.len(), fw.nodes.len() - 1);
        w
    }

    /// Sets the weights of `fw`'s nodes to the derived ones.
    pub fn apply(&self, fw: &mut Framework) {
        for (node, w) in self.weights(fw) {
            fw.nodes[node].weight = w;
        }
    }

    /// Notes for the user: children that load negatively on their node's first component, and
    /// searches that stopped before their tolerance.
    pub fn notes(&self, fw: &Framework) -> Vec<String> {
        let id = |i: usize| fw.nodes[i].id.as_str();
        let mut out = Vec::new();
        for n in &self.nodes {
            match &n.how {
                How::Pca(p) => {
                    for j in p.negative() {
                        out.push(format!(
                            "pca weights of `{}`: `{}` loads negatively ({:.3}) on the first component — it runs against its siblings; its weight {} is its share of the component's variance",
                            id(n.node),
                            id(n.children[j]),
                            p.loadings[j],
                            n.weights[j]
                        ));
                    }
                }
                How::Balance(b) if !b.converged => out.push(format!(
                    "balance weights of `{}`: the search stopped after {} evaluations before meeting its tolerance (cost {:.3e})",
                    id(n.node),
                    b.evaluations,
                    b.cost
                )),
                _ => {}
            }
        }
        out
    }

    /// The weights as a `[weights]` table to append to the framework, after comment lines
    /// saying how they were derived: from which framework (`framework`, a file name), data
    /// (`data`, as the user should read it) and period, by which method, and per node what
    /// the method found.
    pub fn to_toml(&self, fw: &Framework, framework: &str, data: &str) -> String {
        let id = |i: usize| fw.nodes[i].id.as_str();
        let period = if self.period.is_empty() {
            "the whole table (the framework has no period)".to_string()
        } else {
            format!("period {}", self.period)
        };
        let head = format!(
            "Weights of {framework} derived from its data by `kapok weights --method {}`.\n\
             Append to the framework (in place of any [weights] table it has) to make them its own.\n\
             data: {data}; {period}: the normalised indicator values of {} unit(s).\n\
             method: {} — {}",
            self.method.name(),
            self.units,
            self.method.name(),
            self.method.describe(),
        );
        let mut out: String = head.lines().map(comment).collect();
        for n in &self.nodes {
            let line = match &n.how {
                How::Equal | How::OneChild => continue,
                How::Formula => match fw.nodes[n.node].formula() {
                    Some(f) => format!(
                        "{}: a formula ({}), which weights do not enter; its children keep their weights",
                        id(n.node),
                        f.text
                    ),
                    None => format!(
                        "{}: the benefit of the doubt, which chooses each unit's weights; its children keep theirs",
                        id(n.node)
                    ),
                },
                How::Pca(p) => format!(
                    "{} ({} units): first component {:.1}% of the variance; loadings {}",
                    id(n.node),
                    p.units,
                    100.0 * p.variance_share,
                    listed(&n.children, &p.loadings, id)
                ),
                How::Balance(b) => format!(
                    "{} ({} units): correlations with {} at equal weights {} (cost {:.2e}); now {} (cost {:.2e}, {} evaluations{})",
                    id(n.node),
                    b.units,
                    id(n.node),
                    listed(&n.children, &b.equal_correlations, id),
                    balance::cost_of(&b.equal_correlations).unwrap_or(f64::NAN),
                    listed(&n.children, &b.correlations, id),
                    b.cost,
                    b.evaluations,
                    if b.converged {
                        ""
                    } else {
                        ", stopped before its tolerance"
                    }
                ),
            };
            out.push_str(&comment(&line));
        }
        out.push_str("[weights]\n");
        for (node, w) in self.weights(fw) {
            out.push_str(&format!("{} = {w}\n", id(node)));
        }
        out
    }
}

/// `text` as TOML comment lines of at most 100 characters, broken at spaces; continuation
/// lines are indented.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split(' ') {
        if line.chars().count() + 1 + word.chars().count() > 100 && line.len() > 4 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#  ");
        }
        line.push(' ');
        line.push_str(&word.replace('\u{a0}', " "));
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// `a 0.612, b 0.551`: ids with values at 3 decimals.
fn listed<'a>(children: &[usize], values: &[f64], id: impl Fn(usize) -> &'a str) -> String {
    children
        .iter()
        .zip(values)
        .map(|(&c, v)| {
            // A no-break space keeps an id and its value on one comment line.
            format!("{}\u{a0}{:.3}", id(c), crate::format::no_negative_zero(*v))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

//! A run that hands each period to its caller as it is merged, in period order
//! ([`evaluate_streaming`]): a table written as the run goes holds one period's scores of every
//! node at a time, and the results keep only the nodes asked for, not every node's scores over
//! the whole panel.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::period::Scored;
use super::{Keep, Ranks, Record, Results, Status};
use crate::data::Panel;
use crate::error::Error;
use crate::evaluate::{Provenance, Scores};
use crate::framework::Framework;

/// A period as a run merges it (see [`evaluate_streaming`]): its scores of every node, with
/// what the run has recorded of this period and the earlier ones.
pub struct Merged<'a> {
    /// The period's index.
    pub p: usize,
    /// The panel being evaluated.
    pub panel: &'a Panel,
    /// The scores of the nodes the run keeps, of the periods merged so far (this one included;
    /// later periods have none yet).
    pub scores: &'a Scores,
    /// Ranks within the unit's group, of the periods merged so far (with groups).
    pub group_ranks: Option<&'a ndarray::Array3<u32>>,
    /// How imputed cells were filled, of the periods merged so far.
    pub provenance: &'a Provenance,
    /// The period's indicator values as read, `[[unit, indicator column]]` (NaN = missing):
    /// the panel's, or those bound for this period when the run takes them as they are bound.
    pub values: ArrayView2<'a, f64>,
    status: ArrayView1<'a, Status>,
    scored: &'a Scored,
    /// Per unit: its row in `scored`, or `u32::MAX` when the unit was not kept.
    row_of: Vec<u32>,
    /// The rule ranks are computed by, and the kept nodes' ranks of the periods so far.
    ranks: &'a Ranks,
    history: &'a [Option<Array2<u32>>],
}

impl Merged<'_> {
    /// The period's rows `(period, unit)`: its units with a row in the data, in unit order (as
    /// [`Results::rows`] gives them).
    pub fn rows(&self) -> Vec<(usize, usize)> {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, s)| **s != Status::Absent)
            .map(|(u, _)| (self.p, u))
            .collect()
    }

    /// Unit `u`'s score in node `node` this period (NaN = none), as the results record it.
    ///
    /// # Panics
    /// For a node the run neither keeps nor hands on (see [`evaluate_streaming`]).
    pub fn score(&self, u: usize, node: usize) -> f64 {
        self.node_scores(node)(u)
    }

    /// Node `node`'s scores this period, read by unit as [`Merged::score`] reads them (the
    /// node's column found once, not per unit); panics as [`Merged::score`].
    pub fn node_scores(&self, node: usize) -> impl Fn(usize) -> f64 + '_ {
        let column = self.scored.column(node);
        move |u| match self.row_of[u] {
            u32::MAX => f64::NAN,
            k => crate::format::no_negative_zero(column[k as usize]),
        }
    }

    /// Node `node`'s ranks this period, one per unit (0 = no rank), as
    /// [`Results::period_ranks`] gives them; panics as [`Merged::score`].
    pub fn ranks(&self, node: usize) -> Array1<u32> {
        if let Some(all) = self.node_ranks(node) {
            return all.row(self.p).to_owned();
        }
        // From the scored units' column: a unit without a row has no score, so no rank.
        let mut out = Array1::zeros(self.row_of.len());
        let column = self.scored.column(node);
        let scores = self.scored.rows.iter().copied().zip(column.iter().copied());
        self.ranks.fill_from(
            node,
            self.p,
            scores,
            self.panel.ranked.as_ref(),
            out.view_mut(),
        );
        out
    }

    /// The ranks of a node the run keeps, `[[period, unit]]`, filled for the periods merged
    /// so far (rank 0 after them); `None` for a node not kept.
    pub fn node_ranks(&self, node: usize) -> Option<&Array2<u32>> {
        self.history.get(node).and_then(Option::as_ref)
    }
}

/// What a streaming run hands its periods to, and the ranks it computes as it goes.
pub(super) struct Stream<'f> {
    each: &'f mut dyn FnMut(&Merged) -> Result<(), Error>,
    /// Per node: whether each period hands its scores on.
    pub(super) handed: Vec<bool>,
    ranks: Ranks,
    /// Per node the run keeps: its ranks of the periods merged so far.
    history: Vec<Option<Array2<u32>>>,
}

impl<'f> Stream<'f> {
    fn new(
        fw: &Framework,
        panel: &Panel,
        keep: &Keep,
        handed: Vec<bool>,
        each: &'f mut dyn FnMut(&Merged) -> Result<(), Error>,
    ) -> Self {
        let (np, nu) = (panel.periods.len(), panel.units.len());
        Self {
            each,
            handed,
            ranks: Ranks::new(fw),
            history: keep
                .nodes(fw)
                .into_iter()
                .map(|kept| kept.then(|| Array2::zeros((np, nu))))
                .collect(),
        }
    }

    /// Ranks the kept nodes in period `p`, just recorded, and hands the period on.
    pub(super) fn merged(
        &mut self,
        panel: &Panel,
        p: usize,
        record: &Record,
        scored: &Scored,
        values: ArrayView2<f64>,
    ) -> Result<(), Error> {
        for (node, all) in self.history.iter_mut().enumerate() {
            if let Some(all) = all {
                let ranked = panel.ranked.as_ref();
                self.ranks
                    .fill(node, p, &record.scores, ranked, all.row_mut(p));
            }
        }
        let mut row_of = vec![u32::MAX; panel.units.len()];
        for (k, &u) in scored.rows.iter().enumerate() {
            row_of[u] = k as u32;
        }
        let merged = Merged {
            p,
            panel,
            scores: &record.scores,
            group_ranks: record.group_ranks.as_ref(),
            provenance: &record.provenance,
            values,
            status: record.status.row(p),
            scored,
            row_of,
            ranks: &self.ranks,
            history: &self.history,
        };
        (self.each)(&merged)
    }

    /// The ranks computed, for the results: every period of the kept nodes has been merged.
    pub(super) fn into_ranks(self) -> Ranks {
        for (node, all) in self.history.into_iter().enumerate() {
            if let Some(all) = all {
                self.ranks.set(node, all);
            }
        }
        self.ranks
    }
}

/// [`super::evaluate_keeping`], handing each period to `each` as soon as it is scored, in
/// period order, with its scores of the nodes `handed` says (see [`Merged`]; `None`: every
/// node); the results keep the scores of the nodes `keep` says, and their ranks. The first
/// error, of the run or of `each`, stops the run. The results are those
/// [`super::evaluate_keeping`] gives.
pub fn evaluate_streaming(
    fw: &Framework,
    panel: Panel,
    keep: Keep,
    handed: Option<Vec<usize>>,
    mut each: impl FnMut(&Merged) -> Result<(), Error>,
) -> Result<Results, Error> {
    streaming(fw, panel, super::Values::Panel, keep, handed, &mut each)
}

/// [`evaluate_streaming`] of a panel that holds no values: each period's values
/// (units × indicators) come from `periods`, in period order, as the data are bound, and are
/// dropped once the period is handed on. Only for a framework whose every step works on one
/// period at a time ([`super::streams_periods`]). When `periods` ends early, so does the run
/// (the caller, which binds them, knows why).
pub(crate) fn evaluate_bound<'v>(
    fw: &Framework,
    panel: Panel,
    periods: Box<dyn Iterator<Item = Array2<f64>> + 'v>,
    keep: Keep,
    handed: Option<Vec<usize>>,
    mut each: impl FnMut(&Merged) -> Result<(), Error>,
) -> Result<Results, Error> {
    let values = super::Values::Bound(periods);
    streaming(fw, panel, values, keep, handed, &mut each)
}

/// The run of [`evaluate_streaming`] and [`evaluate_bound`], its periods' values from `values`.
fn streaming(
    fw: &Framework,
    panel: Panel,
    values: super::Values<'_>,
    keep: Keep,
    handed: Option<Vec<usize>>,
    each: &mut dyn FnMut(&Merged) -> Result<(), Error>,
) -> Result<Results, Error> {
    let handed = handed.map_or(Keep::Scores, Keep::Nodes).nodes(fw);
    let stream = Stream::new(fw, &panel, &keep, handed, each);
    super::run(fw, panel, None, keep, Some(stream), values)
}

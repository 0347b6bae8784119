//! [`Scores`]: every node's scores per period and unit, held node by node, so that a run
//! that writes some nodes keeps only theirs (see [`super::Keep::Nodes`]), and a run that
//! reports one period keeps the other nodes of that period only (see [`super::Keep::Period`]).

use std::ops::Index;

use ndarray::{Array2, Array3, ArrayView1, ArrayView2};

/// Scores per period, unit and node, read as `scores[[period, unit, node]]`; NaN = no score.
/// Indicator nodes hold normalised values. Each node's scores are one `[period, unit]` array,
/// and a run may keep some nodes only, or some nodes in some periods only: reading a score
/// that was not kept is a bug of the caller and panics, naming the node and the period (it
/// never reads as a silent NaN).
#[derive(Clone, Debug)]
pub struct Scores {
    periods: usize,
    units: usize,
    /// Per node: its scores, one row per period it is kept in, or `None` when the run did not
    /// keep the node.
    nodes: Vec<Option<Array2<f64>>>,
    /// Per node: whether its array holds every period (else the periods of `slots`).
    whole: Vec<bool>,
    /// Per period: its row in the array of a node kept in some periods only.
    slots: Vec<Option<usize>>,
}

impl Scores {
    /// No score yet for `periods × units` of the nodes `kept` says (one flag per node).
    pub fn new(periods: usize, units: usize, kept: &[bool]) -> Self {
        Self::keeping(periods, units, kept, &[])
    }

    /// No score yet for `periods × units` of the nodes `whole` says (one flag per node), and
    /// of every other node in the periods `at` only.
    pub fn keeping(periods: usize, units: usize, whole: &[bool], at: &[usize]) -> Self {
        let slots: Vec<Option<usize>> = (0..periods)
            .map(|p| at.iter().position(|&q| q == p))
            .collect();
        let held = slots.iter().flatten().count();
        Self {
            periods,
            units,
            nodes: whole
                .iter()
                .map(|&w| match (w, held) {
                    (true, _) => Some(Array2::from_elem((periods, units), f64::NAN)),
                    (false, 0) => None,
                    (false, n) => Some(Array2::from_elem((n, units), f64::NAN)),
                })
                .collect(),
            whole: whole.to_vec(),
            slots,
        }
    }

    /// `(periods, units, nodes)`.
    pub fn dim(&self) -> (usize, usize, usize) {
        (self.periods, self.units, self.nodes.len())
    }

    /// Whether the run kept node `node`'s scores in every period.
    pub fn is_kept(&self, node: usize) -> bool {
        self.nodes.get(node).is_some_and(Option::is_some) && self.whole[node]
    }

    /// Whether the run kept node `node`'s score in period `p`.
    pub fn holds(&self, p: usize, node: usize) -> bool {
        self.row(p, node).is_some()
    }

    /// Where node `node`'s scores of period `p` are in its array, if they were kept.
    fn row(&self, p: usize, node: usize) -> Option<usize> {
        match self.nodes.get(node) {
            Some(Some(_)) if self.whole[node] => (p < self.periods).then_some(p),
            Some(Some(_)) => self.slots.get(p).copied().flatten(),
            _ => None,
        }
    }

    /// The periods node `node` is kept in, each with its row in the node's array.
    pub(super) fn held(&self, node: usize) -> Vec<(usize, usize)> {
        (0..self.periods)
            .filter_map(|p| self.row(p, node).map(|row| (p, row)))
            .collect()
    }

    /// The row of node `node`'s array that holds period `p` (as its ranks are held too);
    /// panics when the period was not kept.
    pub(super) fn place(&self, p: usize, node: usize) -> usize {
        self.at(p, node).1
    }

    /// Node `node`'s array and its row of period `p`; panics when they were not kept.
    fn at(&self, p: usize, node: usize) -> (&Array2<f64>, usize) {
        match (self.row(p, node), self.nodes.get(node)) {
            (Some(row), Some(Some(a))) => (a, row),
            _ => panic!("the scores of node {node} in period {p} were not kept by this evaluation"),
        }
    }

    /// Node `node`'s scores, `[[period, unit]]`.
    ///
    /// # Panics
    /// When the run did not keep the node's scores in every period (see [`super::Keep`]).
    pub fn node(&self, node: usize) -> ArrayView2<'_, f64> {
        match self.nodes.get(node) {
            Some(Some(a)) if self.whole[node] => a.view(),
            _ => panic!("the scores of node {node} were not kept by this evaluation"),
        }
    }

    /// Node `node`'s scores in period `p`, one per unit; panics as [`Scores::node`] when they
    /// were not kept in that period.
    pub fn of(&self, p: usize, node: usize) -> ArrayView1<'_, f64> {
        let (a, row) = self.at(p, node);
        a.row(row)
    }

    /// Every kept score of period `p` (units of each node kept there in turn).
    pub fn period(&self, p: usize) -> impl Iterator<Item = f64> + '_ {
        (0..self.nodes.len())
            .filter(move |&node| self.holds(p, node))
            .flat_map(move |node| self.of(p, node).into_iter().copied())
    }

    /// Every score of the nodes kept in every period, in `[[period, unit, node]]` order.
    pub fn iter(&self) -> impl Iterator<Item = &f64> + '_ {
        let kept: Vec<&Array2<f64>> = (0..self.nodes.len())
            .filter(|&node| self.is_kept(node))
            .filter_map(|node| self.nodes[node].as_ref())
            .collect();
        let (nu, nk) = (self.units, kept.len());
        (0..self.periods * nu * nk).map(move |i| {
            let a: &Array2<f64> = kept[i % nk];
            &a[[i / nk / nu, i / nk % nu]]
        })
    }

    /// The scores as one `[[period, unit, node]]` array (NaN where they were not kept).
    pub fn to_array(&self) -> Array3<f64> {
        Array3::from_shape_fn(
            (self.periods, self.units, self.nodes.len()),
            |(p, u, n)| match self.row(p, n) {
                Some(row) => self.nodes[n].as_ref().map_or(f64::NAN, |a| a[[row, u]]),
                None => f64::NAN,
            },
        )
    }

    /// Records period `p`'s scores of every node kept there: `column(node)[k]` is the score
    /// of unit `rows[k]` (negative zeros made positive).
    pub(super) fn record<'a>(
        &mut self,
        p: usize,
        rows: &[usize],
        column: impl Fn(usize) -> ArrayView1<'a, f64>,
    ) {
        for node in 0..self.nodes.len() {
            let Some(row) = self.row(p, node) else {
                continue;
            };
            let kept = self.nodes[node]
                .as_mut()
                .expect("a node with a row is kept");
            let mut out = kept.row_mut(row);
            for (&u, &v) in rows.iter().zip(column(node)) {
                out[u] = crate::format::no_negative_zero(v);
            }
        }
    }
}

impl Index<[usize; 3]> for Scores {
    type Output = f64;

    /// `scores[[period, unit, node]]`; panics for a score the run did not keep.
    fn index(&self, [p, u, node]: [usize; 3]) -> &f64 {
        let (a, row) = self.at(p, node);
        &a[[row, u]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn scores_are_recorded_per_node_and_read_by_cell() {
        let mut s = Scores::new(2, 3, &[true, false, true]);
        // Period 1, units 2 and 0: two nodes' columns (the middle one not kept).
        let period = array![[1.0, 9.0, -0.0], [2.0, 9.0, 4.0]];
        s.record(1, &[2, 0], |node| period.column(node));
        assert_eq!(s[[1, 2, 0]], 1.0);
        assert_eq!(s[[1, 0, 0]], 2.0);
        assert_eq!(s[[1, 0, 2]], 4.0);
        assert!(s[[1, 2, 2]].is_sign_positive() && s[[1, 2, 2]] == 0.0);
        assert!(s[[0, 1, 0]].is_nan() && s[[1, 1, 2]].is_nan());
        assert!(s.is_kept(0) && !s.is_kept(1) && !s.is_kept(7));
        assert_eq!(s.dim(), (2, 3, 3));
        // In [[period, unit, node]] order over the kept nodes: 2 × 3 × 2 values.
        let all: Vec<f64> = s.iter().copied().collect();
        assert_eq!(all.len(), 12);
        assert_eq!(all[6..8], [2.0, 4.0]);
        let whole = s.to_array();
        assert!(whole[[1, 0, 1]].is_nan());
        assert_eq!(whole[[1, 0, 2]], 4.0);
        assert_eq!(s.of(1, 2).to_vec()[0], 4.0);
        assert_eq!(s.period(1).filter(|v| v.is_finite()).count(), 4);
    }

    #[test]
    fn a_node_kept_in_some_periods_is_read_there_only() {
        // Node 0 in every period of three, node 1 in periods 2 and 0 only (in that order).
        let mut s = Scores::keeping(3, 2, &[true, false], &[2, 0]);
        for p in 0..3 {
            let period = array![[p as f64, 10.0 + p as f64], [-1.0, -0.0]];
            s.record(p, &[1, 0], |node| period.column(node));
        }
        assert_eq!((s[[0, 1, 0]], s[[1, 1, 0]], s[[2, 1, 0]]), (0.0, 1.0, 2.0));
        assert_eq!((s[[0, 1, 1]], s[[2, 1, 1]]), (10.0, 12.0));
        assert!(s[[2, 0, 1]] == 0.0 && s[[2, 0, 1]].is_sign_positive());
        assert!(s.holds(0, 1) && !s.holds(1, 1) && s.holds(2, 1) && s.holds(1, 0));
        assert!(s.is_kept(0) && !s.is_kept(1));
        assert_eq!(s.of(2, 1).to_vec(), vec![0.0, 12.0]);
        // Period 1 holds node 0 only; period 2 both nodes.
        assert_eq!(s.period(1).count(), 2);
        assert_eq!(s.period(2).count(), 4);
        let whole = s.to_array();
        assert!(whole[[1, 1, 1]].is_nan());
        assert_eq!(whole[[2, 1, 1]], 12.0);
        // Only the node kept in every period is iterated over the panel.
        assert_eq!(s.iter().count(), 6);
    }

    #[test]
    #[should_panic(expected = "node 1 in period 1 were not kept")]
    fn a_node_kept_in_some_periods_is_never_read_in_another() {
        let s = Scores::keeping(2, 1, &[true, false], &[0]);
        let _ = s[[1, 0, 1]];
    }

    #[test]
    #[should_panic(expected = "node 1 in period 0 were not kept")]
    fn a_node_not_kept_is_never_read_as_missing() {
        let s = Scores::new(1, 1, &[true, false]);
        let _ = s[[0, 0, 1]];
    }
}

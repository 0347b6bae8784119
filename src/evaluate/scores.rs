//! [`Scores`]: every node's scores per period and unit, held node by node, so that a run
//! that writes some nodes keeps only theirs (see [`super::Keep::Nodes`]).

use std::ops::Index;

use ndarray::{Array2, Array3, ArrayView1, ArrayView2};

/// Scores per period, unit and node, read as `scores[[period, unit, node]]`; NaN = no score.
/// Indicator nodes hold normalised values. Each node's scores are one `[period, unit]` array,
/// and a run may keep some nodes only: reading a node that was not kept is a bug of the
/// caller and panics, naming the node (it never reads as a silent NaN).
#[derive(Clone, Debug)]
pub struct Scores {
    periods: usize,
    units: usize,
    /// Per node: `[[period, unit]]`, or `None` when the run did not keep the node.
    nodes: Vec<Option<Array2<f64>>>,
}

impl Scores {
    /// No score yet for `periods × units` of the nodes `kept` says (one flag per node).
    pub fn new(periods: usize, units: usize, kept: &[bool]) -> Self {
        Self {
            periods,
            units,
            nodes: kept
                .iter()
                .map(|&k| k.then(|| Array2::from_elem((periods, units), f64::NAN)))
                .collect(),
        }
    }

    /// `(periods, units, nodes)`.
    pub fn dim(&self) -> (usize, usize, usize) {
        (self.periods, self.units, self.nodes.len())
    }

    /// Whether the run kept node `node`'s scores.
    pub fn is_kept(&self, node: usize) -> bool {
        self.nodes.get(node).is_some_and(Option::is_some)
    }

    /// Node `node`'s scores, `[[period, unit]]`.
    ///
    /// # Panics
    /// When the run did not keep the node's scores (see [`super::Keep::Nodes`]).
    pub fn node(&self, node: usize) -> ArrayView2<'_, f64> {
        match self.nodes.get(node) {
            Some(Some(a)) => a.view(),
            _ => panic!("the scores of node {node} were not kept by this evaluation"),
        }
    }

    /// Node `node`'s scores in period `p`, one per unit.
    pub fn of(&self, p: usize, node: usize) -> ArrayView1<'_, f64> {
        self.node(node).index_axis_move(ndarray::Axis(0), p)
    }

    /// Every kept score of period `p` (units of each kept node in turn).
    pub fn period(&self, p: usize) -> impl Iterator<Item = f64> + '_ {
        self.nodes
            .iter()
            .flatten()
            .flat_map(move |a| a.row(p).into_iter().copied())
    }

    /// Every kept score in `[[period, unit, node]]` order.
    pub fn iter(&self) -> impl Iterator<Item = &f64> + '_ {
        let kept: Vec<&Array2<f64>> = self.nodes.iter().flatten().collect();
        let (nu, nk) = (self.units, kept.len());
        (0..self.periods * nu * nk).map(move |i| {
            let a: &Array2<f64> = kept[i % nk];
            &a[[i / nk / nu, i / nk % nu]]
        })
    }

    /// The scores as one `[[period, unit, node]]` array (NaN for nodes not kept).
    pub fn to_array(&self) -> Array3<f64> {
        Array3::from_shape_fn((self.periods, self.units, self.nodes.len()), |(p, u, n)| {
            self.nodes[n].as_ref().map_or(f64::NAN, |a| a[[p, u]])
        })
    }

    /// Records period `p`'s scores of every kept node: `column(node)[k]` is the score of
    /// unit `rows[k]` (negative zeros made positive).
    pub(super) fn record<'a>(
        &mut self,
        p: usize,
        rows: &[usize],
        column: impl Fn(usize) -> ArrayView1<'a, f64>,
    ) {
        for (node, kept) in self.nodes.iter_mut().enumerate() {
            let Some(kept) = kept else { continue };
            let mut out = kept.row_mut(p);
            for (&u, &v) in rows.iter().zip(column(node)) {
                out[u] = crate::format::no_negative_zero(v);
            }
        }
    }
}

impl Index<[usize; 3]> for Scores {
    type Output = f64;

    /// `scores[[period, unit, node]]`; panics for a node the run did not keep.
    fn index(&self, [p, u, node]: [usize; 3]) -> &f64 {
        match self.nodes.get(node) {
            Some(Some(a)) => &a[[p, u]],
            _ => panic!("the scores of node {node} were not kept by this evaluation"),
        }
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
    #[should_panic(expected = "node 1 were not kept")]
    fn a_node_not_kept_is_never_read_as_missing() {
        let s = Scores::new(1, 1, &[true, false]);
        let _ = s[[0, 0, 1]];
    }
}

//! Ranking of scores: rank 1 is the highest score, ties share the minimum rank
//! (R's `rank(-score, ties.method = "min")`), missing scores (`NaN`) have no rank.

use ndarray::ArrayView1;

/// Ranks the rows whose index is yielded by `rows` among themselves.
fn rank_subset(
    scores: &ArrayView1<f64>,
    rows: impl Iterator<Item = usize>,
    out: &mut [Option<u32>],
) {
    // (key, row) pairs sorted in place: no lookup through the row on every comparison. Equal
    // scores share a rank whatever their order, so an unstable sort gives the same ranks.
    let mut pairs: Vec<(u64, usize)> = rows
        .filter(|&i| !scores[i].is_nan())
        .map(|i| (descending_key(scores[i]), i))
        .collect();
    sorted_ranks(&mut pairs, |i, rank| out[i] = Some(rank));
}

/// Sorts (key, row) pairs by [`descending_key`] and hands each row its rank: 1 for the first,
/// ties sharing the lower rank. The one place of the tie rule.
fn sorted_ranks<R: Copy>(pairs: &mut [(u64, R)], mut put: impl FnMut(R, u32)) {
    pairs.sort_unstable_by_key(|p| p.0);
    let mut rank = 0u32;
    for pos in 0..pairs.len() {
        let (key, row) = pairs[pos];
        if pos == 0 || pairs[pos - 1].0 != key {
            rank = u32::try_from(pos + 1).unwrap_or(u32::MAX);
        }
        put(row, rank);
    }
}

/// A whole number that orders scores highest first, equal exactly when the scores are equal
/// (−0 and 0 included; `x` is not NaN). Sorting these is faster than comparing floats.
fn descending_key(x: f64) -> u64 {
    // + 0.0 turns −0 into 0; then the bits of a float, with the sign bit flipped for positive
    // numbers and every bit for negative ones, order as the floats do.
    let bits = (x + 0.0).to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    !ascending
}

/// Ranks `scores` (one per row) into `out`, as [`rank_desc`] ranks them, with 0 for no rank:
/// the sort is done in `pairs`, a buffer reused from call to call (a fresh one the size of a
/// large period is fresh memory to fault in, every time).
pub fn rank_desc_into(
    scores: impl Iterator<Item = f64>,
    out: ndarray::ArrayViewMut1<u32>,
    pairs: &mut Vec<(u64, u32)>,
) {
    rank_rows_into(scores.enumerate(), out, pairs);
}

/// [`rank_desc_into`] of the rows `scored` yields, each with its score: rows it does not yield
/// get no rank (0), as do NaN scores. A period's scores held for its scored units only are
/// ranked from them, with no score looked up for every unit of the panel.
pub fn rank_rows_into(
    scored: impl Iterator<Item = (usize, f64)>,
    mut out: ndarray::ArrayViewMut1<u32>,
    pairs: &mut Vec<(u64, u32)>,
) {
    pairs.clear();
    for (row, x) in scored {
        if !x.is_nan() {
            pairs.push((descending_key(x), row as u32));
        }
    }
    out.fill(0);
    sorted_ranks(pairs, |i, rank| out[i as usize] = rank);
}

/// Ranks all rows: 1 = highest score, ties = minimum rank, `NaN` → `None`.
pub fn rank_desc(scores: ArrayView1<f64>) -> Vec<Option<u32>> {
    let mut out = vec![None; scores.len()];
    rank_subset(&scores, 0..scores.len(), &mut out);
    out
}

/// Ranks rows within their group (`groups[i]` is the group id of row `i`): 1 = highest score
/// of the group, ties = minimum rank, `NaN` → `None`. Rows without a group entry (index
/// beyond `groups`) get `None`.
pub fn rank_desc_within(scores: ArrayView1<f64>, groups: &[usize]) -> Vec<Option<u32>> {
    let mut out = vec![None; scores.len()];
    let n = scores.len().min(groups.len());
    let mut ids: Vec<usize> = groups[..n].to_vec();
    ids.sort_unstable();
    ids.dedup();
    for g in ids {
        rank_subset(&scores, (0..n).filter(|&i| groups[i] == g), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ranks_by_hand() {
        // 5 is highest -> 1; the two 3s share rank 2; 1 is then rank 4; NaN unranked
        let s = array![3.0, 5.0, f64::NAN, 3.0, 1.0];
        assert_eq!(
            rank_desc(s.view()),
            vec![Some(2), Some(1), None, Some(2), Some(4)]
        );
        assert_eq!(rank_desc(array![].view()), vec![]);
    }

    #[test]
    fn ranks_into_a_buffer_are_those_of_rank_desc() {
        let s = array![3.0, 5.0, f64::NAN, 3.0, 1.0, -0.0, 0.0];
        let mut out = ndarray::Array1::from_elem(s.len(), 9u32);
        // A buffer holding an earlier call's pairs.
        let mut pairs = vec![(1, 1); 20];
        rank_desc_into(s.iter().copied(), out.view_mut(), &mut pairs);
        let want: Vec<u32> = rank_desc(s.view()).iter().map(|r| r.unwrap_or(0)).collect();
        assert_eq!(want, vec![2, 1, 0, 2, 4, 5, 5]);
        assert_eq!(out.to_vec(), want);
    }

    #[test]
    fn ranks_within_groups() {
        // group 0: 3, 3, 1 -> 1, 1, 3; group 4: 5, NaN -> 1, None; row 5 has no group
        let s = array![3.0, 5.0, f64::NAN, 3.0, 1.0, 9.0];
        let g = [0, 4, 4, 0, 0];
        assert_eq!(
            rank_desc_within(s.view(), &g),
            vec![Some(1), Some(1), None, Some(1), Some(3), None]
        );
    }

    proptest::proptest! {
        /// Against the definition: a unit's rank is 1 + the number of units scoring higher
        /// (ties share the minimum rank), among the present ones; within groups likewise.
        #[test]
        fn ranks_are_one_plus_the_units_above(
            cells in proptest::collection::vec((0usize..9, proptest::bool::weighted(0.1), 0usize..3), 0..40)
        ) {
            // Ties, both zeros (equal, though they differ in sign) and both infinities.
            const VALUES: [f64; 9] =
                [f64::NEG_INFINITY, -2.5, -1.0, -0.0, 0.0, 1.0, 2.5, 1e300, f64::INFINITY];
            let scores: ndarray::Array1<f64> = cells
                .iter()
                .map(|&(v, missing, _)| if missing { f64::NAN } else { VALUES[v] })
                .collect();
            let groups: Vec<usize> = cells.iter().map(|c| c.2).collect();
            let naive = |i: usize, same: &dyn Fn(usize) -> bool| -> Option<u32> {
                (!scores[i].is_nan()).then(|| {
                    1 + (0..scores.len()).filter(|&j| same(j) && scores[j] > scores[i]).count() as u32
                })
            };
            let all = rank_desc(scores.view());
            let within = rank_desc_within(scores.view(), &groups);
            for i in 0..scores.len() {
                proptest::prop_assert_eq!(all[i], naive(i, &|_| true));
                proptest::prop_assert_eq!(within[i], naive(i, &|j| groups[j] == groups[i]));
            }
            // The rows of group 0 alone, in reverse order, into a used buffer: the other rows
            // get no rank (0).
            let mut out = ndarray::Array1::from_elem(scores.len(), 7u32);
            let mut pairs = vec![(3, 3); 5];
            let rows = (0..scores.len()).rev().filter(|&i| groups[i] == 0);
            rank_rows_into(rows.map(|i| (i, scores[i])), out.view_mut(), &mut pairs);
            for i in 0..scores.len() {
                let want = match groups[i] {
                    0 => naive(i, &|j| groups[j] == 0).unwrap_or(0),
                    _ => 0,
                };
                proptest::prop_assert_eq!(out[i], want);
            }
        }
    }
}

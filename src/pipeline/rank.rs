//! Ranking of scores: rank 1 is the highest score, ties share the minimum rank
//! (R's `rank(-score, ties.method = "min")`), missing scores (`NaN`) have no rank.

use ndarray::ArrayView1;

/// Ranks the rows whose index is yielded by `rows` among themselves.
fn rank_subset(
    scores: &ArrayView1<f64>,
    rows: impl Iterator<Item = usize>,
    out: &mut [Option<u32>],
) {
    let mut idx: Vec<usize> = rows.filter(|&i| !scores[i].is_nan()).collect();
    // descending; total_cmp is a total order so sorting never panics
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    for (pos, &i) in idx.iter().enumerate() {
        let r = if pos > 0 && scores[idx[pos - 1]] == scores[i] {
            out[idx[pos - 1]]
        } else {
            Some(u32::try_from(pos + 1).unwrap_or(u32::MAX))
        };
        out[i] = r;
    }
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
    fn ranks_within_groups() {
        // group 0: 3, 3, 1 -> 1, 1, 3; group 4: 5, NaN -> 1, None; row 5 has no group
        let s = array![3.0, 5.0, f64::NAN, 3.0, 1.0, 9.0];
        let g = [0, 4, 4, 0, 0];
        assert_eq!(
            rank_desc_within(s.view(), &g),
            vec![Some(1), Some(1), None, Some(1), Some(3), None]
        );
    }
}

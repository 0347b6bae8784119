//! PCA weights of one node: the first principal component of its children's scores.
//!
//! Over the units with every child present, the children are standardised (PCA of the
//! correlation matrix, R's `prcomp(scale. = TRUE)`) and the first component is taken with
//! [`crate::stats::first_component`]. A child's weight is its **squared loading**: the OECD/JRC
//! Handbook's "squared factor loadings scaled to unity sum" for one factor (the loadings are a
//! unit vector, so the squares already sum to 1). Squared loadings do not depend on the sign of
//! the eigenvector; the loadings reported are signed to sum positive, so all-negative loadings
//! are flipped. A child that loads negatively runs against the others: it still gets its
//! squared loading (its share of the component's variance), and [`PcaWeights::negative`] names
//! it so that the caller can say so.
//!
//! COINr's `get_PCA` returns the loadings themselves (`rotation[, 1]`), signed as the SVD
//! returns them, as weights; see the README for why kapok follows the Handbook.

use ndarray::ArrayView2;

use super::{Problem, complete};

/// The PCA weights of one node's children.
#[derive(Clone, Debug, PartialEq)]
pub struct PcaWeights {
    /// Loadings of the first component (a unit vector, signed to sum positive).
    pub loadings: Vec<f64>,
    /// Weights: the squared loadings, summing to 1.
    pub weights: Vec<f64>,
    /// Share of the standardised variance the first component explains.
    pub variance_share: f64,
    /// Units with every child present, over which the component was computed.
    pub units: usize,
}

impl PcaWeights {
    /// The children (positions) whose loading is negative.
    pub fn negative(&self) -> Vec<usize> {
        (0..self.loadings.len())
            .filter(|&j| self.loadings[j] < -1e-12)
            .collect()
    }
}

/// The PCA weights of the columns of `children` (rows are units, `NaN` missing) over its
/// complete rows; at least two columns.
///
/// # Errors
/// The [`Problem`]s of [`complete`]: a child without values, too few complete units, a child
/// that does not vary.
pub fn pca_weights(children: ArrayView2<f64>) -> Result<PcaWeights, Problem> {
    let x = complete(children)?;
    let pc = crate::stats::first_component(x.view()).ok_or(Problem::Undefined)?;
    let weights: Vec<f64> = pc.loadings.iter().map(|l| l * l).collect();
    let total: f64 = weights.iter().sum();
    Ok(PcaWeights {
        weights: weights.iter().map(|w| w / total).collect(),
        loadings: pc.loadings,
        variance_share: pc.variance_share,
        units: pc.n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn two_children_weigh_the_same_whatever_their_correlation() {
        // R = [[1, r], [r, 1]]: eigenvalues 1 ± r, first eigenvector (1, ±1)/√2 — squared
        // loadings ½, ½ for any r ≠ 0; variance share (1 + |r|)/2, r = 11/√130.
        let m = array![[1.0, 2.0], [2.0, 4.0], [3.0, 5.0], [4.0, 9.0]];
        let p = pca_weights(m.view()).unwrap();
        assert!(close(p.weights[0], 0.5) && close(p.weights[1], 0.5));
        let r = 11.0 / 130f64.sqrt();
        assert!(close(p.variance_share, (1.0 + r) / 2.0));
        // Negatively related: loadings (1, −1)/√2, the second negative, the same weights.
        let m = array![[1.0, -2.0], [2.0, -4.0], [3.0, -5.0], [4.0, -9.0]];
        let p = pca_weights(m.view()).unwrap();
        assert!(close(p.weights[0], 0.5) && close(p.weights[1], 0.5));
        assert_eq!(p.negative(), vec![1]);
    }

    #[test]
    fn three_children_by_hand() {
        // b = (1, 1, −1, −1), c = (1, −1, 1, −1) are uncorrelated; a = b + c correlates 1/√2
        // with each. R = [[1, h, h], [h, 1, 0], [h, 0, 1]], h = 1/√2: R v = λ v with
        // v = (x, y, y) gives (λ − 1)² = 2h² = 1, λ₁ = 2, y = x/√2, so
        // v = (1/√2, ½, ½) and the weights are ½, ¼, ¼; variance share 2/3.
        let m = array![
            [2.0, 1.0, 1.0],
            [0.0, 1.0, -1.0],
            [0.0, -1.0, 1.0],
            [-2.0, -1.0, -1.0],
            [f64::NAN, 5.0, 0.0],
        ];
        let p = pca_weights(m.view()).unwrap();
        assert!(close(p.weights[0], 0.5), "{:?}", p.weights);
        assert!(close(p.weights[1], 0.25) && close(p.weights[2], 0.25));
        assert!(close(p.loadings[0], 0.5f64.sqrt()) && close(p.loadings[1], 0.5));
        assert!(close(p.variance_share, 2.0 / 3.0));
        assert_eq!(p.units, 4);
        assert!(p.negative().is_empty());
    }

    #[test]
    fn an_uncorrelated_child_gets_no_weight() {
        // a and c perfectly correlated, b uncorrelated with both: v = (1, 0, 1)/√2.
        let m = array![
            [1.0, 1.0, 3.0],
            [2.0, -1.0, 5.0],
            [3.0, -1.0, 7.0],
            [4.0, 1.0, 9.0]
        ];
        let p = pca_weights(m.view()).unwrap();
        assert!(close(p.weights[0], 0.5) && p.weights[1].abs() < 1e-12);
        assert!(close(p.weights[2], 0.5));
    }

    /// The first eigenvector of the correlation matrix by power iteration (a method independent
    /// of nalgebra's symmetric eigen-solver).
    fn power_iteration(x: &Array2<f64>) -> Vec<f64> {
        let (n, k) = x.dim();
        let mean: Vec<f64> = (0..k).map(|j| x.column(j).sum() / n as f64).collect();
        let sd: Vec<f64> = (0..k)
            .map(|j| {
                let s: f64 = x.column(j).iter().map(|v| (v - mean[j]).powi(2)).sum();
                (s / (n as f64 - 1.0)).sqrt()
            })
            .collect();
        let z = Array2::from_shape_fn((n, k), |(i, j)| (x[[i, j]] - mean[j]) / sd[j]);
        let r = z.t().dot(&z) / (n as f64 - 1.0);
        let mut v = vec![1.0; k];
        for _ in 0..2000 {
            let w: Vec<f64> = (0..k)
                .map(|i| (0..k).map(|j| r[[i, j]] * v[j]).sum())
                .collect();
            let norm = w.iter().map(|a| a * a).sum::<f64>().sqrt();
            v = w.iter().map(|a| a / norm).collect();
        }
        v
    }

    #[test]
    fn weights_agree_with_power_iteration() {
        // Five children, twelve units of a fixed pseudo-random design with a common factor.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let factor: Vec<f64> = (0..12).map(|_| next()).collect();
        let x = Array2::from_shape_fn((12, 5), |(i, j)| {
            factor[i] * (j as f64 + 1.0) + next() * (5.0 - j as f64)
        });
        let p = pca_weights(x.view()).unwrap();
        let v = power_iteration(&x);
        for j in 0..5 {
            assert!(
                (p.weights[j] - v[j] * v[j]).abs() < 1e-9,
                "{j}: {:?} vs {v:?}",
                p.weights
            );
        }
        assert!((p.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

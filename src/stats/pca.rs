//! Principal components of standardised variables (the correlation matrix).
//!
//! [`first_component`] takes the **complete rows** of a matrix (units × variables), forms the
//! Pearson correlation matrix `R` of its columns (i.e. PCA of standardised variables, R's
//! `prcomp(scale. = TRUE)`), and decomposes it with `nalgebra`'s symmetric eigen-solver.
//!
//! - **Loadings** are the entries of the unit-length eigenvector of the largest eigenvalue (R's
//!   `rotation[, 1]`, which COINr uses as PCA weights). The correlation of variable `j` with the
//!   component is `loading_j · √λ₁`.
//! - **Variance share** is `λ₁ / trace(R) = λ₁ / k`, in `[1/k, 1]`.
//! - **Sign convention**: an eigenvector is defined up to sign. kapok flips it so that the
//!   loadings sum to a positive number; when the sum is zero (within `1e-9`), so that the first
//!   non-zero loading is positive.

use nalgebra::{DMatrix, SymmetricEigen};
use ndarray::ArrayView2;

use super::correlation::{complete_rows, covariance};

/// The first principal component of standardised variables.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Unit-length eigenvector of the largest eigenvalue, one entry per variable (column).
    pub loadings: Vec<f64>,
    /// The largest eigenvalue `λ₁` of the correlation matrix.
    pub eigenvalue: f64,
    /// `λ₁ / k`: the share of the total (standardised) variance it explains.
    pub variance_share: f64,
    /// Number of complete rows used.
    pub n: usize,
}

/// The first principal component of the columns of `m` over its complete rows (module docs).
///
/// `None` with fewer than 2 columns, fewer than 3 complete rows, or a constant column.
pub fn first_component(m: ArrayView2<f64>) -> Option<Pca> {
    let k = m.ncols();
    let n = complete_rows(m).nrows();
    if k < 2 || n < 3 {
        return None;
    }
    let c = covariance(m)?;
    let sd: Vec<f64> = (0..k).map(|i| c[[i, i]].sqrt()).collect();
    if sd.iter().any(|s| s.is_nan() || *s <= 0.0) {
        return None;
    }
    let r = DMatrix::from_fn(k, k, |i, j| {
        if i == j {
            1.0
        } else {
            (c[[i, j]] / (sd[i] * sd[j])).clamp(-1.0, 1.0)
        }
    });
    let eig = SymmetricEigen::new(r);
    let top = (0..k).max_by(|&a, &b| {
        eig.eigenvalues[a]
            .total_cmp(&eig.eigenvalues[b])
            .then(b.cmp(&a))
    })?;
    let mut v: Vec<f64> = eig.eigenvectors.column(top).iter().copied().collect();
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm.is_nan() || norm <= 0.0 {
        return None;
    }
    let sum: f64 = v.iter().sum();
    let flip = if sum.abs() > 1e-9 {
        sum < 0.0
    } else {
        v.iter().find(|x| x.abs() > 1e-9).is_some_and(|x| *x < 0.0)
    };
    for x in &mut v {
        *x /= if flip { -norm } else { norm };
    }
    let eigenvalue = eig.eigenvalues[top];
    Some(Pca {
        loadings: v,
        eigenvalue,
        variance_share: (eigenvalue / k as f64).clamp(0.0, 1.0),
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn two_variables_eigenvalues_one_plus_minus_r() {
        // x = 1 2 3 4, y = 2 4 5 9: r = 11/√130 (see the correlation tests).
        // R = [[1, r], [r, 1]] has eigenvalues 1 ± r; the first eigenvector is (1, 1)/√2.
        let r = 11.0 / 130f64.sqrt();
        let m = array![[1.0, 2.0], [2.0, 4.0], [3.0, 5.0], [4.0, 9.0]];
        let p = first_component(m.view()).unwrap();
        assert!(close(p.eigenvalue, 1.0 + r));
        assert!(close(p.variance_share, (1.0 + r) / 2.0));
        let h = 0.5f64.sqrt();
        assert!(close(p.loadings[0], h) && close(p.loadings[1], h));
        assert_eq!(p.n, 4);

        // negatively related: λ₁ = 1 + |r| with eigenvector (1, −1)/√2; the loadings sum to 0,
        // so the sign convention makes the first one positive.
        let m = array![[1.0, -2.0], [2.0, -4.0], [3.0, -5.0], [4.0, -9.0]];
        let p = first_component(m.view()).unwrap();
        assert!(close(p.eigenvalue, 1.0 + r));
        assert!(close(p.loadings[0], h) && close(p.loadings[1], -h));
    }

    #[test]
    fn three_variables_by_hand() {
        // a = 1 2 3 4, c = 2a + 1 (correlation 1 with a), b = 1 −1 −1 1 (mean 0, uncorrelated
        // with a: Σ(a − 2.5)·b = −1.5 + 0.5 − 0.5 + 1.5 = 0).
        // R = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]: eigenvalues 2, 1, 0; first eigenvector
        // (1, 0, 1)/√2; variance share 2/3. A row with a missing value is dropped.
        let m = array![
            [1.0, 1.0, 3.0],
            [2.0, -1.0, 5.0],
            [f64::NAN, 0.0, 0.0],
            [3.0, -1.0, 7.0],
            [4.0, 1.0, 9.0],
        ];
        let p = first_component(m.view()).unwrap();
        assert!(close(p.eigenvalue, 2.0));
        assert!(close(p.variance_share, 2.0 / 3.0));
        let h = 0.5f64.sqrt();
        assert!(close(p.loadings[0], h) && close(p.loadings[1], 0.0) && close(p.loadings[2], h));
        assert_eq!(p.n, 4);
        let norm: f64 = p.loadings.iter().map(|x| x * x).sum();
        assert!(close(norm, 1.0));
    }

    #[test]
    fn undefined_cases_are_none() {
        // one variable, too few complete rows, a constant variable
        assert_eq!(first_component(array![[1.0], [2.0], [3.0]].view()), None);
        assert_eq!(
            first_component(array![[1.0, 2.0], [2.0, 1.0], [f64::NAN, 3.0]].view()),
            None
        );
        assert_eq!(
            first_component(array![[1.0, 2.0], [2.0, 2.0], [3.0, 2.0]].view()),
            None
        );
    }
}

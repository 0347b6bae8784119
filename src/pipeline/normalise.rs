//! Normalisation of one indicator column onto a common, higher-is-better scale.
//!
//! For every method except `Goalposts`, `Dist2Targ` and `FracMax`, the values are first
//! multiplied by the direction sign (`x · dir`, as COINr), then (min, max, mean, sd and
//! ranks over the present values):
//!
//! | method | formula |
//! |---|---|
//! | `None` | `x` |
//! | `MinMax { lo, hi }` | `(x − min)/(max − min) · (hi − lo) + lo` |
//! | `ZScore { mean, sd }` | `(x − mean(x))/sd(x) · sd + mean` (sample sd, `n − 1`) |
//! | `Scaled { a, b, factor }` | `(x − a)/(b − a) · factor` |
//! | `Rank` | rank, ties = min, best unit = `n` |
//! | `Borda` | `rank − 1` |
//! | `PercentRank` | `(rank − 1)/(n − 1)` |
//! | `Dist2Max` | `1 − (max − x)/(max − min)` |
//! | `Dist2Ref { row }` | `1 − (x_row − x)/(x_row − min)` |
//!
//! Methods whose parameters are in the indicator's own units use the raw values:
//!
//! | method | higher is better | lower is better |
//! |---|---|---|
//! | `Goalposts { min, max, scale, cap }` | `(x − min)/(max − min)` | `(x − max)/(min − max)` |
//! | `Dist2Targ { target, cap }` | `(x − min(x))/(target − min(x))` | `(max(x) − x)/(max(x) − target)` |
//! | `FracMax` | `x / max(x)` | `min(x) / x` |
//!
//! then `Goalposts` is clipped to `[0, 1]` when `cap` and multiplied by `scale`, and
//! `Dist2Targ` is capped at 1 when `cap`.
//!
//! `FracMax` deliberately differs from COINr, which divides `x · dir` by its maximum (so a
//! lower-is-better indicator gets negative or infinite scores): here the best unit always
//! scores 1 and every score lies in `[0, 1]`. A higher-is-better indicator must have values
//! `≥ 0` (and not all zero); a lower-is-better one must have values `> 0`.
//!
//! Missing values (`NaN`) stay missing. Degenerate data is an error rather than `NaN`/`Inf`
//! (see [`StageError`]).
//!
//! # Bounds from other values
//!
//! [`normalise`] takes min, max, mean, sd and ranks from the column itself (one period).
//! [`normalise_against`] takes them from [`Bounds`] computed over other values — the whole
//! panel, a base period or range, or a frozen file — so that scores of different periods are on
//! one scale. The formulas are the same with the bounds' statistics in place of the column's;
//! ranks are ranks among the bound's values (`1 +` how many are lower, ties = min; `prank`
//! divides by the bound's count − 1). A value beyond the bounds (possible for base or frozen
//! bounds) is counted and, under [`Outside::Cap`], clipped to them before scoring, so that its
//! score is the score of the bound (e.g. `hi` of min-max); under [`Outside::Extend`] it is scored
//! on the same line. Only the sides the method takes from the data count: both for `minmax`,
//! `dist2max` and `zscore`, the best side for `fracmax` (scores stay ≤ 1), the worst side for
//! `dist2targ` (its best side is the target and its own `cap`).

use ndarray::{Array1, ArrayView1};

use super::StageError;
use super::methods::{Direction, Normalise};
use crate::framework::Outside;
use crate::stats;

/// Statistics of a normalisation's reference values, in `x · dir` (higher is better).
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    /// How many values the bounds were computed from.
    pub n: usize,
    /// Minimum of `x · dir`.
    pub min: f64,
    /// Maximum of `x · dir`.
    pub max: f64,
    /// Mean of `x · dir` (`NaN` when unknown).
    pub mean: f64,
    /// Sample standard deviation (`n − 1`; `NaN` when fewer than two values or unknown).
    pub sd: f64,
    /// The present values of `x · dir`, sorted ascending, for rank-type methods (empty for
    /// frozen bounds).
    pub sorted: Vec<f64>,
}

impl Bounds {
    /// The bounds of raw values `values` (any order; `NaN` skipped) of an indicator with
    /// `direction`; `None` when no value is present. Sums run in the given order, so bounds of
    /// one period's column equal the statistics [`normalise`] computes from it.
    pub fn of<'a>(values: impl IntoIterator<Item = &'a f64>, direction: Direction) -> Option<Self> {
        let x: Vec<f64> = values
            .into_iter()
            .map(|v| v * direction.sign())
            .filter(|v| !v.is_nan())
            .collect();
        let (min, max) = stats::min_max(&x)?;
        let mut sorted = x.clone();
        sorted.sort_by(f64::total_cmp);
        Some(Self {
            n: x.len(),
            min,
            max,
            mean: stats::mean(&x).unwrap_or(f64::NAN),
            sd: stats::sd(&x).unwrap_or(f64::NAN),
            sorted,
        })
    }

    /// Bounds given in the indicator's own units (as a frozen bounds file holds them): lowest
    /// and highest value, mean and sd (`NaN` when not needed).
    pub fn from_raw(n: usize, [low, high, mean, sd]: [f64; 4], direction: Direction) -> Self {
        let (min, max, mean) = match direction {
            Direction::Higher => (low, high, mean),
            Direction::Lower => (-high, -low, -mean),
        };
        Self {
            n,
            min,
            max,
            mean,
            sd,
            sorted: Vec::new(),
        }
    }

    /// Lowest and highest value and mean in the indicator's own units.
    pub fn raw(&self, direction: Direction) -> [f64; 3] {
        match direction {
            Direction::Higher => [self.min, self.max, self.mean],
            Direction::Lower => [-self.max, -self.min, -self.mean],
        }
    }
}

/// Scores of one column against shared bounds, and how many values lay beyond them.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalised {
    /// The scores.
    pub scores: Array1<f64>,
    /// Values worse than the bounds (below their low end in `x · dir`).
    pub below: usize,
    /// Values better than the bounds.
    pub above: usize,
}

/// Normalises `col` with bounds from the column itself (see the module docs for every formula).
///
/// # Errors
/// [`StageError::TooFewValues`] when no value is present (or one, for `PercentRank`);
/// [`StageError::ZeroRange`], [`StageError::ZeroSd`], [`StageError::ZeroScale`],
/// [`StageError::EqualGoalposts`], [`StageError::MissingReference`],
/// [`StageError::ReferenceAtMinimum`], [`StageError::DegenerateTarget`],
/// [`StageError::NegativeValue`], [`StageError::NonPositiveValue`] for degenerate data.
pub fn normalise(
    col: ArrayView1<f64>,
    direction: Direction,
    method: &Normalise,
) -> Result<Array1<f64>, StageError> {
    let x = col.mapv(|v| v * direction.sign());
    let found = x.iter().filter(|v| !v.is_nan()).count();
    let (min, max) = stats::min_max(&x).ok_or(StageError::TooFewValues { needed: 1, found })?;
    let own = Own { x: &x, min, max };
    score(col, x.view(), direction, method, &own, found)
}

/// Normalises `col` with `bounds` computed over other values (see "Bounds from other values" in
/// the module docs), applying the `outside` rule to values beyond them.
///
/// # Errors
/// As [`normalise`], judged on the bounds (e.g. [`StageError::ZeroRange`] when the bounds' min
/// equals their max).
pub fn normalise_against(
    col: ArrayView1<f64>,
    direction: Direction,
    method: &Normalise,
    bounds: &Bounds,
    outside: Outside,
) -> Result<Normalised, StageError> {
    let sign = direction.sign();
    let mut x = col.mapv(|v| v * sign);
    let (check_low, check_high) = match method {
        Normalise::MinMax { .. } | Normalise::Dist2Max | Normalise::ZScore { .. } => (true, true),
        Normalise::FracMax => (false, true),
        Normalise::Dist2Targ { .. } => (true, false),
        _ => (false, false),
    };
    let below = x.iter().filter(|&&v| check_low && v < bounds.min).count();
    let above = x.iter().filter(|&&v| check_high && v > bounds.max).count();
    if outside == Outside::Cap && below + above > 0 {
        x.mapv_inplace(|v| match v {
            v if check_low && v < bounds.min => bounds.min,
            v if check_high && v > bounds.max => bounds.max,
            v => v,
        });
    }
    let raw = x.mapv(|v| v * sign);
    let found = bounds.n;
    let scores = score(raw.view(), x.view(), direction, method, bounds, found)?;
    Ok(Normalised {
        scores,
        below,
        above,
    })
}

/// Where a method's statistics come from: the column itself or shared [`Bounds`].
trait Stats {
    fn min(&self) -> f64;
    fn max(&self) -> f64;
    /// `(mean, sd)`; `None` for the sd when undefined (fewer than two values).
    fn mean_sd(&self) -> (f64, Option<f64>);
    /// Ascending ranks of `x` among the reference values (ties = min).
    fn ranks(&self, x: ArrayView1<f64>) -> Array1<f64>;
}

/// Statistics of the column being normalised.
struct Own<'a> {
    x: &'a Array1<f64>,
    min: f64,
    max: f64,
}

impl Stats for Own<'_> {
    fn min(&self) -> f64 {
        self.min
    }
    fn max(&self) -> f64 {
        self.max
    }
    fn mean_sd(&self) -> (f64, Option<f64>) {
        (stats::mean(self.x).unwrap_or(self.min), stats::sd(self.x))
    }
    fn ranks(&self, _: ArrayView1<f64>) -> Array1<f64> {
        rank_asc(self.x)
    }
}

impl Stats for Bounds {
    fn min(&self) -> f64 {
        self.min
    }
    fn max(&self) -> f64 {
        self.max
    }
    fn mean_sd(&self) -> (f64, Option<f64>) {
        (self.mean, (!self.sd.is_nan()).then_some(self.sd))
    }
    fn ranks(&self, x: ArrayView1<f64>) -> Array1<f64> {
        x.mapv(|v| {
            if v.is_nan() {
                v
            } else {
                self.sorted.partition_point(|&r| r < v) as f64 + 1.0
            }
        })
    }
}

/// Applies `method` to raw values `raw` (and `x = raw · dir`) with statistics from `st`, of
/// `found` reference values.
fn score(
    raw: ArrayView1<f64>,
    x: ArrayView1<f64>,
    direction: Direction,
    method: &Normalise,
    st: &dyn Stats,
    found: usize,
) -> Result<Array1<f64>, StageError> {
    let (min, max) = (st.min(), st.max());
    let range = |f: &dyn Fn(f64) -> f64| -> Result<Array1<f64>, StageError> {
        if max > min {
            Ok(x.mapv(f))
        } else {
            Err(StageError::ZeroRange)
        }
    };
    match *method {
        Normalise::None => Ok(x.to_owned()),
        Normalise::MinMax { lo, hi } => range(&|v| (v - min) / (max - min) * (hi - lo) + lo),
        Normalise::ZScore { mean, sd } => match st.mean_sd() {
            (m, Some(s)) if s > 0.0 => Ok(x.mapv(|v| (v - m) / s * sd + mean)),
            (_, Some(_)) => Err(StageError::ZeroSd),
            (_, None) => Err(StageError::TooFewValues { needed: 2, found }),
        },
        Normalise::Scaled { a, b, factor } => {
            if a == b {
                return Err(StageError::ZeroScale { value: a });
            }
            Ok(x.mapv(|v| (v - a) / (b - a) * factor))
        }
        Normalise::Rank | Normalise::Borda | Normalise::PercentRank => {
            let ranks = st.ranks(x);
            match method {
                Normalise::Rank => Ok(ranks),
                Normalise::Borda => Ok(ranks.mapv(|r| r - 1.0)),
                _ if found < 2 => Err(StageError::TooFewValues { needed: 2, found }),
                _ => Ok(ranks.mapv(|r| (r - 1.0) / (found as f64 - 1.0))),
            }
        }
        Normalise::Goalposts {
            min: l,
            max: u,
            scale,
            cap,
        } => {
            if l == u {
                return Err(StageError::EqualGoalposts { value: l });
            }
            Ok(raw.mapv(|v| {
                let y = match direction {
                    Direction::Higher => (v - l) / (u - l),
                    Direction::Lower => (v - u) / (l - u),
                };
                let y = if cap { y.clamp(0.0, 1.0) } else { y };
                y * scale
            }))
        }
        Normalise::Dist2Max => range(&|v| 1.0 - (max - v) / (max - min)),
        Normalise::Dist2Ref { row } => {
            let xr = x.get(row).copied().unwrap_or(f64::NAN);
            if xr.is_nan() {
                return Err(StageError::MissingReference { row });
            }
            if xr <= min {
                return Err(StageError::ReferenceAtMinimum { row });
            }
            Ok(x.mapv(|v| 1.0 - (xr - v) / (xr - min)))
        }
        Normalise::Dist2Targ { target, cap } => {
            // raw units: min/max of the raw values
            let (rmin, rmax) = match direction {
                Direction::Higher => (min, max),
                Direction::Lower => (-max, -min),
            };
            let y = match direction {
                Direction::Higher if target > rmin => raw.mapv(|v| (v - rmin) / (target - rmin)),
                Direction::Lower if target < rmax => raw.mapv(|v| (rmax - v) / (rmax - target)),
                _ => return Err(StageError::DegenerateTarget),
            };
            Ok(if cap { y.mapv(|v| v.min(1.0)) } else { y })
        }
        Normalise::FracMax => frac_max(raw, direction, max),
    }
}

/// Ascending ranks over the present values (ties = min), `NaN` stays `NaN`.
fn rank_asc(x: &Array1<f64>) -> Array1<f64> {
    let mut idx: Vec<usize> = (0..x.len()).filter(|&i| !x[i].is_nan()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut out = Array1::from_elem(x.len(), f64::NAN);
    for (pos, &i) in idx.iter().enumerate() {
        let r = if pos > 0 && x[idx[pos - 1]] == x[i] {
            out[idx[pos - 1]]
        } else {
            pos as f64 + 1.0
        };
        out[i] = r;
    }
    out
}

/// `x / max` (higher is better) or `min / x` (lower), where `best` is the reference's maximum of
/// `x · dir` (the raw maximum, or minus the raw minimum).
fn frac_max(
    raw: ArrayView1<f64>,
    direction: Direction,
    best: f64,
) -> Result<Array1<f64>, StageError> {
    let present = || raw.iter().enumerate().filter(|(_, v)| !v.is_nan());
    match direction {
        Direction::Higher => {
            if let Some((row, &value)) = present().find(|(_, v)| **v < 0.0) {
                return Err(StageError::NegativeValue { row, value });
            }
            let max = best.max(0.0);
            if max <= 0.0 {
                return Err(StageError::ZeroRange);
            }
            Ok(raw.mapv(|v| v / max))
        }
        Direction::Lower => {
            if let Some((row, &value)) = present().find(|(_, v)| **v <= 0.0) {
                return Err(StageError::NonPositiveValue { row, value });
            }
            let min = -best;
            if min <= 0.0 {
                return Err(StageError::NonPositiveValue { row: 0, value: min });
            }
            Ok(raw.mapv(|v| min / v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const NA: f64 = f64::NAN;
    const H: Direction = Direction::Higher;
    const L: Direction = Direction::Lower;

    fn n(x: &[f64], d: Direction, m: Normalise) -> Result<Vec<f64>, StageError> {
        normalise(ArrayView1::from(x), d, &m).map(|a| a.to_vec())
    }

    fn same(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            assert!(
                (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-12,
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn minmax_zscore_scaled() {
        let mm = Normalise::MinMax { lo: 0.0, hi: 100.0 };
        // min 1, max 5: (x − 1)/4 · 100
        same(
            &n(&[1.0, 2.0, NA, 5.0], H, mm.clone()).unwrap(),
            &[0.0, 25.0, NA, 100.0],
        );
        // lower: −x = −1 −2 −5, min −5 max −1: (−1 + 5)/4 = 1, (−2 + 5)/4 = 0.75, 0
        same(
            &n(&[1.0, 2.0, NA, 5.0], L, mm).unwrap(),
            &[100.0, 75.0, NA, 0.0],
        );
        // mean 8/3, d = −5/3 −2/3 7/3, Σd² = 78/9, sd = sqrt(78/18) = sqrt(13/3)
        let s = (13.0f64 / 3.0).sqrt();
        let z = n(
            &[1.0, 2.0, 5.0],
            H,
            Normalise::ZScore { mean: 0.0, sd: 1.0 },
        )
        .unwrap();
        same(&z, &[-5.0 / 3.0 / s, -2.0 / 3.0 / s, 7.0 / 3.0 / s]);
        let z = n(
            &[1.0, 2.0, 5.0],
            H,
            Normalise::ZScore {
                mean: 10.0,
                sd: 2.0,
            },
        )
        .unwrap();
        assert!((z[0] - (10.0 - 2.0 * 5.0 / 3.0 / s)).abs() < 1e-12);
        // (x − 1)/(5 − 1) · 10
        let sc = Normalise::Scaled {
            a: 1.0,
            b: 5.0,
            factor: 10.0,
        };
        same(
            &n(&[1.0, 2.0, NA, 5.0], H, sc).unwrap(),
            &[0.0, 2.5, NA, 10.0],
        );
        same(&n(&[1.0, NA], L, Normalise::None).unwrap(), &[-1.0, NA]);
    }

    #[test]
    fn ranks() {
        // ascending: 1 -> 1, 2 -> 2, 3,3 -> 3 (ties = min)
        let x = [3.0, 1.0, 3.0, NA, 2.0];
        same(
            &n(&x, H, Normalise::Rank).unwrap(),
            &[3.0, 1.0, 3.0, NA, 2.0],
        );
        same(
            &n(&x, H, Normalise::Borda).unwrap(),
            &[2.0, 0.0, 2.0, NA, 1.0],
        );
        // n = 4 present: (r − 1)/3
        same(
            &n(&x, H, Normalise::PercentRank).unwrap(),
            &[2.0 / 3.0, 0.0, 2.0 / 3.0, NA, 1.0 / 3.0],
        );
        // lower is better: −x = −3 −1 −3 −2 -> ranks 1 4 1 3
        same(
            &n(&x, L, Normalise::Rank).unwrap(),
            &[1.0, 4.0, 1.0, NA, 3.0],
        );
    }

    #[test]
    fn goalposts() {
        let g = |cap| Normalise::Goalposts {
            min: 0.0,
            max: 10.0,
            scale: 100.0,
            cap,
        };
        let x = [-5.0, 5.0, 12.0];
        // (x − 0)/10: −0.5 -> 0, 0.5, 1.2 -> 1
        same(&n(&x, H, g(true)).unwrap(), &[0.0, 50.0, 100.0]);
        same(&n(&x, H, g(false)).unwrap(), &[-50.0, 50.0, 120.0]);
        // lower: (x − 10)/(0 − 10): 1.5, 0.5, −0.2
        same(&n(&x, L, g(true)).unwrap(), &[100.0, 50.0, 0.0]);
        same(&n(&x, L, g(false)).unwrap(), &[150.0, 50.0, -20.0]);
    }

    #[test]
    fn distances() {
        let x = [1.0, 2.0, 5.0];
        // 1 − (5 − x)/4
        same(&n(&x, H, Normalise::Dist2Max).unwrap(), &[0.0, 0.25, 1.0]);
        // x_ref = 2, min = 1: 1 − (2 − x)/1
        same(
            &n(&x, H, Normalise::Dist2Ref { row: 1 }).unwrap(),
            &[0.0, 1.0, 4.0],
        );
        // higher, target 4: (x − 1)/3 = 0, 1/3, 4/3 (capped to 1)
        let t = |target, cap| Normalise::Dist2Targ { target, cap };
        same(&n(&x, H, t(4.0, true)).unwrap(), &[0.0, 1.0 / 3.0, 1.0]);
        same(
            &n(&x, H, t(4.0, false)).unwrap(),
            &[0.0, 1.0 / 3.0, 4.0 / 3.0],
        );
        // lower, target 2: (5 − x)/3 = 4/3 (capped to 1), 1, 0
        same(&n(&x, L, t(2.0, true)).unwrap(), &[1.0, 1.0, 0.0]);
    }

    #[test]
    fn frac_max_both_directions() {
        same(
            &n(&[0.0, 2.0, NA, 4.0], H, Normalise::FracMax).unwrap(),
            &[0.0, 0.5, NA, 1.0],
        );
        // lower: min/x = 1/1, 1/2, 1/4
        same(
            &n(&[1.0, 2.0, 4.0], L, Normalise::FracMax).unwrap(),
            &[1.0, 0.5, 0.25],
        );
    }

    #[test]
    fn errors() {
        use StageError::*;
        let mm = Normalise::MinMax { lo: 0.0, hi: 1.0 };
        assert_eq!(n(&[3.0, 3.0, NA], H, mm.clone()), Err(ZeroRange));
        assert_eq!(
            n(&[NA, NA], H, mm),
            Err(TooFewValues {
                needed: 1,
                found: 0
            })
        );
        assert_eq!(n(&[3.0, 3.0], H, Normalise::Dist2Max), Err(ZeroRange));
        let z = Normalise::ZScore { mean: 0.0, sd: 1.0 };
        assert_eq!(n(&[3.0, 3.0], H, z.clone()), Err(ZeroSd));
        assert_eq!(
            n(&[3.0], H, z),
            Err(TooFewValues {
                needed: 2,
                found: 1
            })
        );
        let sc = Normalise::Scaled {
            a: 2.0,
            b: 2.0,
            factor: 1.0,
        };
        assert_eq!(n(&[1.0], H, sc), Err(ZeroScale { value: 2.0 }));
        assert_eq!(
            n(&[5.0, NA], H, Normalise::PercentRank),
            Err(TooFewValues {
                needed: 2,
                found: 1
            })
        );
        let g = Normalise::Goalposts {
            min: 1.0,
            max: 1.0,
            scale: 1.0,
            cap: false,
        };
        assert_eq!(n(&[1.0], H, g), Err(EqualGoalposts { value: 1.0 }));
        let x = [1.0, NA, 5.0];
        assert_eq!(
            n(&x, H, Normalise::Dist2Ref { row: 1 }),
            Err(MissingReference { row: 1 })
        );
        assert_eq!(
            n(&x, H, Normalise::Dist2Ref { row: 9 }),
            Err(MissingReference { row: 9 })
        );
        assert_eq!(
            n(&x, H, Normalise::Dist2Ref { row: 0 }),
            Err(ReferenceAtMinimum { row: 0 })
        );
        // lower: −5 is the minimum of −x
        assert_eq!(
            n(&x, L, Normalise::Dist2Ref { row: 2 }),
            Err(ReferenceAtMinimum { row: 2 })
        );
        let t = |target| Normalise::Dist2Targ { target, cap: false };
        assert_eq!(n(&x, H, t(1.0)), Err(DegenerateTarget));
        assert_eq!(n(&x, L, t(5.0)), Err(DegenerateTarget));
        let f = Normalise::FracMax;
        assert_eq!(
            n(&[-1.0, 2.0], H, f.clone()),
            Err(NegativeValue {
                row: 0,
                value: -1.0
            })
        );
        assert_eq!(n(&[0.0, 0.0], H, f.clone()), Err(ZeroRange));
        assert_eq!(
            n(&[1.0, 0.0], L, f),
            Err(NonPositiveValue { row: 1, value: 0.0 })
        );
        // ndarray views of any layout work
        let a = array![[1.0, 9.0], [2.0, 9.0]];
        assert!(normalise(a.column(0), H, &Normalise::Dist2Max).is_ok());
    }

    /// `normalise_against` with bounds of `reference` (raw values).
    fn against(
        x: &[f64],
        reference: &[f64],
        d: Direction,
        m: Normalise,
        o: Outside,
    ) -> (Vec<f64>, usize, usize) {
        let b = Bounds::of(reference, d).unwrap();
        let n = normalise_against(ArrayView1::from(x), d, &m, &b, o).unwrap();
        (n.scores.to_vec(), n.below, n.above)
    }

    const MM: Normalise = Normalise::MinMax { lo: 0.0, hi: 100.0 };
    const Z: Normalise = Normalise::ZScore { mean: 0.0, sd: 1.0 };

    #[test]
    fn panel_bounds_span_every_period() {
        // Periods [1, 2, 3] and [3, 5]: panel min 1, max 5.
        let panel = [1.0, 2.0, 3.0, 3.0, 5.0];
        let (s, below, above) = against(&[1.0, 2.0, 3.0], &panel, H, MM, Outside::Cap);
        same(&s, &[0.0, 25.0, 50.0]);
        assert_eq!((below, above), (0, 0));
        same(
            &against(&[3.0, NA, 5.0], &panel, H, MM, Outside::Cap).0,
            &[50.0, NA, 100.0],
        );
        // mean 14/5 = 2.8, Σd² = 3.24 + 0.64 + 0.04 + 0.04 + 4.84 = 8.8, sd = sqrt(8.8/4)
        let sd = 2.2f64.sqrt();
        same(
            &against(&[5.0, 1.0], &panel, H, Z, Outside::Cap).0,
            &[2.2 / sd, -1.8 / sd],
        );
        // Ranks among the five panel values (ties = min): 3 is third, 5 fifth; prank = (r − 1)/4.
        same(
            &against(&[3.0, 5.0], &panel, H, Normalise::Rank, Outside::Cap).0,
            &[3.0, 5.0],
        );
        same(
            &against(
                &[1.0, 3.0, 5.0],
                &panel,
                H,
                Normalise::PercentRank,
                Outside::Cap,
            )
            .0,
            &[0.0, 0.5, 1.0],
        );
        // Lower is better: −x ranks 5 → 1st, 1 → 5th.
        same(
            &against(&[5.0, 1.0], &panel, L, Normalise::Borda, Outside::Cap).0,
            &[0.0, 4.0],
        );
    }

    #[test]
    fn base_bounds_cap_or_extend_later_values() {
        let base = [1.0, 2.0, 3.0];
        // min 1, max 3: 5 is beyond; capped it scores as 3 (100), extended (5 − 1)/2 · 100.
        let (s, below, above) = against(&[3.0, 5.0, 0.0], &base, H, MM, Outside::Cap);
        same(&s, &[100.0, 100.0, 0.0]);
        assert_eq!((below, above), (1, 1));
        same(
            &against(&[3.0, 5.0, 0.0], &base, H, MM, Outside::Extend).0,
            &[100.0, 200.0, -50.0],
        );
        // Lower is better: x·dir of the base −3..−1; 0.5 (−0.5) is better than the best.
        let (s, below, above) = against(&[0.5, 3.0], &base, L, MM, Outside::Cap);
        same(&s, &[100.0, 0.0]);
        assert_eq!((below, above), (0, 1));
        same(&against(&[0.5], &base, L, MM, Outside::Extend).0, &[125.0]);
        // z-scores against mean 2, sd 1: capped, 5 scores as 3 (z = 1); extended, z = 3.
        same(
            &against(&[3.0, 5.0], &base, H, Z, Outside::Cap).0,
            &[1.0, 1.0],
        );
        same(
            &against(&[3.0, 5.0], &base, H, Z, Outside::Extend).0,
            &[1.0, 3.0],
        );
        // fracmax: x / 4; only the best side is a bound (scores stay ≤ 1 when capped).
        let base = [2.0, 4.0];
        let (s, below, above) = against(&[5.0, 1.0], &base, H, Normalise::FracMax, Outside::Cap);
        same(&s, &[1.0, 0.25]);
        assert_eq!((below, above), (0, 1));
        same(
            &against(&[5.0, 1.0], &base, H, Normalise::FracMax, Outside::Extend).0,
            &[1.25, 0.25],
        );
    }

    #[test]
    fn frozen_bounds_are_in_the_indicators_own_units() {
        // Lower is better, raw min 0, max 10, mean 5, sd 2.
        let b = Bounds::from_raw(10, [0.0, 10.0, 5.0, 2.0], L);
        assert_eq!((b.min, b.max, b.mean, b.sd), (-10.0, 0.0, -5.0, 2.0));
        assert_eq!(b.raw(L), [0.0, 10.0, 5.0]);
        let run = |m: &Normalise, o| {
            normalise_against(ArrayView1::from(&[4.0, 12.0][..]), L, m, &b, o).unwrap()
        };
        // 4: (−4 + 10)/10 · 100 = 60; 12 is worse than the worst (10): 0 capped, −20 extended.
        let capped = run(&MM, Outside::Cap);
        same(&capped.scores.to_vec(), &[60.0, 0.0]);
        assert_eq!((capped.below, capped.above), (1, 0));
        same(&run(&MM, Outside::Extend).scores.to_vec(), &[60.0, -20.0]);
        // z: (−4 + 5)/2 = 0.5; 12 capped to 10: (−10 + 5)/2 = −2.5; extended (−12 + 5)/2.
        same(&run(&Z, Outside::Cap).scores.to_vec(), &[0.5, -2.5]);
        same(&run(&Z, Outside::Extend).scores.to_vec(), &[0.5, -3.5]);
    }

    #[test]
    fn bounds_of_the_column_itself_give_the_same_bits_as_per_period() {
        let x = [0.1, 0.7, NA, 2.9, 1.3, 0.7, 5.5, 3.3];
        let methods = [
            MM,
            Z,
            Normalise::ZScore {
                mean: 100.0,
                sd: 10.0,
            },
            Normalise::Rank,
            Normalise::Borda,
            Normalise::PercentRank,
            Normalise::Dist2Max,
            Normalise::FracMax,
            Normalise::Dist2Targ {
                target: 6.0,
                cap: true,
            },
        ];
        for d in [H, L] {
            for m in &methods {
                let m = match (m, d) {
                    (Normalise::Dist2Targ { .. }, L) => Normalise::Dist2Targ {
                        target: 0.0,
                        cap: true,
                    },
                    _ => m.clone(),
                };
                let own = n(&x, d, m.clone()).unwrap();
                let (shared, below, above) = against(&x, &x, d, m.clone(), Outside::Cap);
                assert_eq!((below, above), (0, 0));
                for (a, b) in own.iter().zip(&shared) {
                    assert!(
                        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                        "{m:?} {d:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn degenerate_bounds_are_errors() {
        let b = Bounds::of(&[2.0, 2.0], H).unwrap();
        let col = [1.0, 3.0];
        let run =
            |m: &Normalise| normalise_against(ArrayView1::from(&col[..]), H, m, &b, Outside::Cap);
        assert_eq!(run(&MM), Err(StageError::ZeroRange));
        assert_eq!(run(&Z), Err(StageError::ZeroSd));
        let one = Bounds::of(&[2.0], H).unwrap();
        assert_eq!(
            normalise_against(ArrayView1::from(&col[..]), H, &Z, &one, Outside::Cap),
            Err(StageError::TooFewValues {
                needed: 2,
                found: 1
            })
        );
        assert!(Bounds::of(&[NA], H).is_none());
    }
}

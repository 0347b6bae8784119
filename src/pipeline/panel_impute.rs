//! Panel imputation: a missing value of a unit is filled from the **same unit's observed values
//! in other periods** (COINr `impute_panel`).
//!
//! - `carry_forward` ([`Impute::CarryForward`]): the unit's latest earlier observed value, at
//!   most `max_periods` calendar periods back (COINr `latest` with `max_time`). Leading gaps
//!   (no earlier observation) stay missing unless `ends = "nearest"`, which fills them with the
//!   unit's first observation (COINr `constant`, which is R's `approx(method = "constant",
//!   rule = 2)`); `max_periods` then also bounds how far ahead that first observation may be.
//! - `carry_backward` ([`Impute::CarryBackward`]): the unit's next later observed value, at most
//!   `max_periods` calendar periods ahead.
//! - `interpolate` ([`Impute::Interpolate`]): linear in calendar time between the unit's nearest
//!   observed values before and after, `a + (b − a)·(t − tₐ)/(t_b − tₐ)`. Gaps with a neighbour
//!   on one side only stay missing unless `ends = "nearest"`, which fills them with that
//!   neighbour (COINr `linear`, R's `approx(rule = 2)`).
//!
//! Donors are **observed** values only — never a value this or another step imputed — so the
//! result does not depend on the order in which periods are filled (COINr takes `latest` donors
//! from the data as read, too). Only cells of units present in a period (having a row) are
//! filled; an absent unit stays absent and is no donor.
//!
//! `max_periods` counts **calendar** periods (months, quarters or years, as the data's periods
//! are): with monthly data and `max_periods = 2`, a value missing in 2024-01 may come from
//! 2023-12 or 2023-11, and never from 2023-10 even when the data have no 2023-11 or 2023-12 at
//! all. COINr counts the time points present in the data; for data without missing periods
//! (COINr's yearly examples) the two agree.

use ndarray::{Array2, ArrayView2, ArrayView3, Axis};

use super::methods::{Ends, Impute};
use crate::period::Period;

/// A value found for a missing cell in other periods of the same unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Donor {
    /// The value.
    pub value: f64,
    /// Period index the value came from (for interpolation: the earlier neighbour).
    pub from: usize,
    /// For interpolation between two neighbours: the later neighbour's period index.
    pub to: Option<usize>,
}

/// How one missing cell was filled: the step of the imputation that filled it and the periods
/// its value came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Filled {
    /// The imputation step that filled the cell (never a chain).
    pub method: Impute,
    /// The periods the value came from (canonical texts), in time order: one for carrying
    /// forward or backward, two for interpolation between neighbours, none for cross-section
    /// methods (mean, median and group methods take values of other units in the same period).
    pub from: Vec<String>,
}

impl Filled {
    /// The provenance of a value found by a panel step.
    /// `periods` are the texts of the periods `d` indexes.
    pub fn panel(method: &Impute, d: &Donor, periods: &[String]) -> Self {
        Self {
            method: method.clone(),
            from: std::iter::once(d.from)
                .chain(d.to)
                .map(|q| periods[q].clone())
                .collect(),
        }
    }

    /// The provenance of a value filled by a cross-section step.
    pub fn cross_section(method: &Impute) -> Self {
        Self {
            method: method.clone(),
            from: Vec::new(),
        }
    }
}

/// Fills of the panel steps of every indicator, computed once from the raw panel.
#[derive(Clone, Debug, Default)]
pub struct PanelFills {
    /// `steps[indicator][step]`: `fill[[period, unit]]` for a panel step of the indicator's
    /// imputation, `None` for a cross-section step.
    pub steps: Vec<Vec<Option<Array2<Option<Donor>>>>>,
    /// The texts of the periods a [`Donor`] indexes (the whole panel's).
    pub periods: Vec<String>,
}

impl PanelFills {
    /// The fills of period `p` alone, as a one-period panel taken out of the whole (see
    /// `Panel::select_period`) needs them: donors still name the whole panel's periods.
    pub fn period(&self, p: usize) -> Self {
        let steps = self
            .steps
            .iter()
            .map(|ind| {
                ind.iter()
                    .map(|step| {
                        step.as_ref()
                            .map(|a| a.slice(ndarray::s![p..p + 1, ..]).to_owned())
                    })
                    .collect()
            })
            .collect();
        Self {
            steps,
            periods: self.periods.clone(),
        }
    }

    /// The value step `step` of indicator `j` found for unit `u` in period `p`, if any.
    pub fn get(&self, j: usize, step: usize, p: usize, u: usize) -> Option<&Donor> {
        self.steps
            .get(j)?
            .get(step)?
            .as_ref()?
            .get((p, u))?
            .as_ref()
    }
}

/// Each period's position on the calendar, in periods since the first (`2023-11`, `2024-01` →
/// `0`, `2`); `None` when the periods are not calendar periods of one granularity (the one
/// empty period of cross-sectional data).
pub fn calendar(periods: &[String]) -> Option<Vec<i64>> {
    let parsed: Vec<Period> = periods
        .iter()
        .map(|p| Period::parse(p).ok())
        .collect::<Option<_>>()?;
    let first = *parsed.first()?;
    parsed.iter().map(|&p| first.steps_to(p)).collect()
}

/// Computes the panel steps of every indicator's imputation over the raw panel:
/// `values[[period, unit, indicator]]` (NaN = missing), `present[[period, unit]]`, `time[p]` =
/// period `p`'s position on the calendar (strictly increasing, e.g. months since the first),
/// `methods[j]` = indicator `j`'s imputation.
pub fn prepass(
    values: ArrayView3<f64>,
    present: ArrayView2<bool>,
    time: &[i64],
    methods: &[Impute],
) -> PanelFills {
    let steps = methods
        .iter()
        .enumerate()
        .map(|(j, m)| {
            m.steps()
                .iter()
                .map(|step| {
                    step.is_panel()
                        .then(|| fill(values.index_axis(Axis(2), j), present, time, step))
                })
                .collect()
        })
        .collect();
    PanelFills {
        steps,
        periods: Vec::new(),
    }
}

/// The values a panel method finds for the missing cells of one indicator,
/// `values[[period, unit]]`: `out[[period, unit]]` is `Some` for a cell of a present unit that
/// is missing and that the method can fill, `None` otherwise (observed, absent, or no donor).
/// A cross-section method (or a chain) finds nothing here.
pub fn fill(
    values: ArrayView2<f64>,
    present: ArrayView2<bool>,
    time: &[i64],
    method: &Impute,
) -> Array2<Option<Donor>> {
    let (np, nu) = values.dim();
    let mut out = Array2::from_elem((np, nu), None);
    for u in 0..nu {
        // The unit's observed values, in time order.
        let obs: Vec<(usize, f64)> = (0..np)
            .filter(|&p| present[[p, u]] && !values[[p, u]].is_nan())
            .map(|p| (p, values[[p, u]]))
            .collect();
        if obs.is_empty() {
            continue;
        }
        for p in 0..np {
            if !present[[p, u]] || !values[[p, u]].is_nan() {
                continue;
            }
            // Observations before and after p.
            let split = obs.partition_point(|&(q, _)| q < p);
            let before = split.checked_sub(1).map(|i| obs[i]);
            let after = obs.get(split).copied();
            let within = |q: usize, max: Option<u32>| {
                max.is_none_or(|m| (time[p] - time[q]).unsigned_abs() <= u64::from(m))
            };
            let carry = |(q, v): (usize, f64)| Donor {
                value: v,
                from: q,
                to: None,
            };
            out[[p, u]] = match *method {
                Impute::CarryForward { max_periods, ends } => match before {
                    Some(b) => within(b.0, max_periods).then(|| carry(b)),
                    None if ends == Ends::Nearest => {
                        after.filter(|a| within(a.0, max_periods)).map(carry)
                    }
                    None => None,
                },
                Impute::CarryBackward { max_periods } => {
                    after.filter(|a| within(a.0, max_periods)).map(carry)
                }
                Impute::Interpolate { ends } => match (before, after) {
                    (Some((a, va)), Some((b, vb))) => {
                        let share = (time[p] - time[a]) as f64 / (time[b] - time[a]) as f64;
                        Some(Donor {
                            value: va + (vb - va) * share,
                            from: a,
                            to: Some(b),
                        })
                    }
                    (Some(one), None) | (None, Some(one)) if ends == Ends::Nearest => {
                        Some(carry(one))
                    }
                    _ => None,
                },
                _ => None,
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    const NA: f64 = f64::NAN;

    /// One unit's series over periods at calendar positions `time`.
    fn series(x: &[f64], time: &[i64], m: &Impute) -> Vec<Option<(f64, usize, Option<usize>)>> {
        let values = Array2::from_shape_vec((x.len(), 1), x.to_vec()).unwrap();
        let present = Array2::from_elem((x.len(), 1), true);
        fill(values.view(), present.view(), time, m)
            .column(0)
            .iter()
            .map(|d| d.map(|d| (d.value, d.from, d.to)))
            .collect()
    }

    fn cf(max_periods: Option<u32>, ends: Ends) -> Impute {
        Impute::CarryForward { max_periods, ends }
    }

    #[test]
    fn carry_forward_without_limit_leaves_leading_gaps() {
        // periods 0..5: NA 2 NA NA 5 NA
        let x = [NA, 2.0, NA, NA, 5.0, NA];
        let t = [0, 1, 2, 3, 4, 5];
        let got = series(&x, &t, &cf(None, Ends::None));
        assert_eq!(
            got,
            vec![
                None,
                None,
                Some((2.0, 1, None)),
                Some((2.0, 1, None)),
                None,
                Some((5.0, 4, None)),
            ]
        );
    }

    #[test]
    fn carry_forward_limit_counts_calendar_periods() {
        // observed at 1 only; max 2 reaches periods 2 and 3, not 4
        let x = [NA, 7.0, NA, NA, NA];
        let t = [0, 1, 2, 3, 4];
        let got = series(&x, &t, &cf(Some(2), Ends::None));
        assert_eq!(
            got,
            vec![None, None, Some((7.0, 1, None)), Some((7.0, 1, None)), None]
        );
        // The same data with a calendar gap: the panel has months 0, 1, 4 (2 and 3 absent
        // from the data): month 4 is 3 months after month 1, beyond max 2.
        let got = series(&[NA, 7.0, NA], &[0, 1, 4], &cf(Some(2), Ends::None));
        assert_eq!(got, vec![None, None, None]);
        let got = series(&[NA, 7.0, NA], &[0, 1, 4], &cf(Some(3), Ends::None));
        assert_eq!(got[2], Some((7.0, 1, None)));
        // max 1 = only the period just before
        let got = series(&x, &t, &cf(Some(1), Ends::None));
        assert_eq!(got[2], Some((7.0, 1, None)));
        assert_eq!(got[3], None);
    }

    #[test]
    fn carry_forward_ends_nearest_fills_leading_gaps_from_the_first_observation() {
        // COINr constant: approx(method = "constant", rule = 2)
        let x = [NA, NA, 3.0, NA, 9.0, NA];
        let t = [0, 1, 2, 3, 4, 5];
        let got = series(&x, &t, &cf(None, Ends::Nearest));
        assert_eq!(
            got,
            vec![
                Some((3.0, 2, None)),
                Some((3.0, 2, None)),
                None,
                Some((3.0, 2, None)),
                None,
                Some((9.0, 4, None)),
            ]
        );
        // with a limit, the first observation must be near enough too
        let got = series(&x, &t, &cf(Some(1), Ends::Nearest));
        assert_eq!(got[0], None);
        assert_eq!(got[1], Some((3.0, 2, None)));
    }

    #[test]
    fn carry_backward_takes_the_next_observation() {
        let x = [NA, NA, 3.0, NA, NA, 9.0, NA];
        let t = [0, 1, 2, 3, 4, 5, 6];
        let m = Impute::CarryBackward { max_periods: None };
        let got = series(&x, &t, &m);
        assert_eq!(
            got,
            vec![
                Some((3.0, 2, None)),
                Some((3.0, 2, None)),
                None,
                Some((9.0, 5, None)),
                Some((9.0, 5, None)),
                None,
                None,
            ]
        );
        let m = Impute::CarryBackward {
            max_periods: Some(1),
        };
        let got = series(&x, &t, &m);
        assert_eq!(got[0], None);
        assert_eq!(got[1], Some((3.0, 2, None)));
        assert_eq!(got[3], None);
        assert_eq!(got[4], Some((9.0, 5, None)));
    }

    #[test]
    fn interpolation_is_linear_in_calendar_time() {
        // 10 at t=0, 40 at t=3: t=1 → 20, t=2 → 30
        let x = [NA, 10.0, NA, NA, 40.0, NA];
        let t = [-1, 0, 1, 2, 3, 4];
        let m = Impute::Interpolate { ends: Ends::None };
        let got = series(&x, &t, &m);
        assert_eq!(got[0], None);
        assert_eq!(got[2], Some((20.0, 1, Some(4))));
        assert_eq!(got[3], Some((30.0, 1, Some(4))));
        assert_eq!(got[5], None);
        // calendar gap: periods at months 0, 1, 4 with 1 missing: 0 → 4 gives 1/4 of the way
        let got = series(&[0.0, NA, 8.0], &[0, 1, 4], &m);
        assert_eq!(got[1], Some((2.0, 0, Some(2))));
        // ends = nearest (COINr linear): the ends take the nearest observation
        let m = Impute::Interpolate {
            ends: Ends::Nearest,
        };
        let got = series(&x, &t, &m);
        assert_eq!(got[0], Some((10.0, 1, None)));
        assert_eq!(got[5], Some((40.0, 4, None)));
        assert_eq!(got[2], Some((20.0, 1, Some(4))));
    }

    #[test]
    fn donors_are_observed_values_only_and_absent_units_stay_absent() {
        // two units over 4 periods; unit 1 is absent in period 2
        let values =
            Array2::from_shape_vec((4, 2), vec![5.0, 1.0, NA, NA, NA, NA, NA, NA]).unwrap();
        let mut present = Array2::from_elem((4, 2), true);
        present[[2, 1]] = false;
        let t = [0, 1, 2, 3];
        // max 1: period 1 is filled from 0; period 2 is NOT filled from period 1's imputed
        // value (a chain of carried values would reach back 2 periods)
        let out = fill(values.view(), present.view(), &t, &cf(Some(1), Ends::None));
        assert_eq!(out[[1, 0]].map(|d| d.value), Some(5.0));
        assert_eq!(out[[2, 0]], None);
        assert_eq!(out[[3, 0]], None);
        // unit 1: absent in period 2 → nothing there; period 3 is 3 periods after its value
        let out = fill(values.view(), present.view(), &t, &cf(None, Ends::None));
        assert_eq!(out[[2, 1]], None);
        assert_eq!(out[[3, 1]].map(|d| (d.value, d.from)), Some((1.0, 0)));
        // an observed value is never replaced
        assert_eq!(out[[0, 0]], None);
        // a value in a period where the unit is absent is no donor
        let mut present = Array2::from_elem((4, 2), true);
        present[[0, 0]] = false;
        let out = fill(values.view(), present.view(), &t, &cf(None, Ends::None));
        assert_eq!(out[[1, 0]], None);
    }

    #[test]
    fn cross_section_methods_find_nothing_here() {
        let got = series(&[1.0, NA], &[0, 1], &Impute::Median);
        assert_eq!(got, vec![None, None]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A panel of up to 8 periods × 4 units: values (NaN = missing), presence, and calendar
        /// positions with gaps of 1–3 periods.
        fn panel() -> impl Strategy<Value = (Array2<f64>, Array2<bool>, Vec<i64>)> {
            (1usize..8, 1usize..4).prop_flat_map(|(np, nu)| {
                (
                    proptest::collection::vec(
                        prop_oneof![Just(f64::NAN), (-100i32..100).prop_map(f64::from)],
                        np * nu,
                    ),
                    proptest::collection::vec(proptest::bool::weighted(0.85), np * nu),
                    proptest::collection::vec(1i64..4, np),
                )
                    .prop_map(move |(v, pr, steps)| {
                        let time = steps
                            .iter()
                            .scan(0, |t, s| {
                                *t += s;
                                Some(*t)
                            })
                            .collect();
                        (
                            Array2::from_shape_vec((np, nu), v).unwrap(),
                            Array2::from_shape_vec((np, nu), pr).unwrap(),
                            time,
                        )
                    })
            })
        }

        proptest! {
            /// Carry forward is the newest observed value at most `max` calendar periods
            /// back, found by a plain backward search; only missing cells of present units are
            /// filled; and appending later periods changes no earlier fill.
            #[test]
            fn carry_forward_is_the_newest_observation_within_reach(
                (v, pr, time) in panel(),
                max in proptest::option::of(1u32..5),
            ) {
                let m = Impute::CarryForward { max_periods: max, ends: Ends::None };
                let out = fill(v.view(), pr.view(), &time, &m);
                let (np, nu) = v.dim();
                for p in 0..np {
                    for u in 0..nu {
                        let missing = pr[[p, u]] && v[[p, u]].is_nan();
                        let want = if missing {
                            (0..p)
                                .rev()
                                .find(|&q| pr[[q, u]] && !v[[q, u]].is_nan())
                                .filter(|&q| max.is_none_or(|m| time[p] - time[q] <= i64::from(m)))
                                .map(|q| (v[[q, u]], q))
                        } else {
                            None
                        };
                        prop_assert_eq!(out[[p, u]].map(|d| (d.value, d.from)), want);
                    }
                }
                for k in 1..np {
                    let head = fill(
                        v.slice(ndarray::s![..k, ..]),
                        pr.slice(ndarray::s![..k, ..]),
                        &time[..k],
                        &m,
                    );
                    prop_assert_eq!(head, out.slice(ndarray::s![..k, ..]).to_owned());
                }
            }

            /// Interpolated values lie between their two neighbours' values, which are the
            /// nearest observations before and after.
            #[test]
            fn interpolation_stays_between_the_neighbours((v, pr, time) in panel()) {
                let out = fill(v.view(), pr.view(), &time, &Impute::Interpolate { ends: Ends::None });
                for ((p, u), d) in out.indexed_iter() {
                    let Some(d) = d else { continue };
                    let b = d.to.expect("two neighbours");
                    prop_assert!(d.from < p && p < b);
                    prop_assert!((d.from + 1..b).all(|q| !pr[[q, u]] || v[[q, u]].is_nan()));
                    let (lo, hi) = (v[[d.from, u]].min(v[[b, u]]), v[[d.from, u]].max(v[[b, u]]));
                    prop_assert!(lo - 1e-9 <= d.value && d.value <= hi + 1e-9);
                }
            }
        }
    }
}

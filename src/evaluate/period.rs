//! The work on one period, as pure functions of the panel: pass 1 (screen → impute → treat)
//! and pass 2 (normalise → aggregate → rank). Each returns what it found instead of writing
//! into the results, so that periods run in parallel and are merged in period order (see
//! [`super::in_period_order`]), identical to a sequential run.

use std::collections::HashMap;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, ShapeBuilder};

use super::{OutsideCount, Prepared, Scorer, Setup, Treatment, rank_keys, stage_error};
use crate::bounds::Reference;
use crate::data::Panel;
use crate::error::Error;
use crate::framework::{Framework, NodeKind};
use crate::pipeline::panel_impute::{Filled, PanelFills};
use crate::pipeline::{self, Normalise, StageError};

/// What pass 1 found in one period.
pub(super) struct Pass1 {
    /// The kept units and their values after imputation and treatment.
    pub prepared: Prepared,
    /// The units with a row in the period.
    pub present: Vec<usize>,
    /// Cells filled by imputation, per indicator column.
    pub imputed: Vec<usize>,
    /// How each filled cell of a kept unit was filled.
    pub filled: PeriodFills,
    /// The kept units' values after imputation, before treatment (one row per kept unit),
    /// when the run keeps them ([`super::Keep::Stages`]).
    pub imputed_x: Option<Array2<f64>>,
    /// Outlier treatment of the indicators whose method is not `none`.
    pub treatments: Vec<Treatment>,
}

impl Pass1 {
    /// Drops the period's values after imputation and treatment, once the period is scored in
    /// a run that does not record them (see [`super::Keep::records_values`]): a large period's
    /// values then do not wait for their turn to be merged. The kept units stay.
    pub fn drop_values(&mut self, reuse: &Reuse) {
        let x = std::mem::replace(
            &mut self.prepared.x,
            Array2::zeros((self.prepared.rows.len(), 0)),
        );
        reuse.give(x);
        self.imputed_x = None;
    }
}

/// How one period's cells were filled: each filled cell names one of the few ways its column's
/// cells were filled (a method and the periods its value came from), so that no cell holds a
/// description of its own.
#[derive(Default)]
pub(super) struct PeriodFills {
    /// `ways[j]`: the distinct ways cells of indicator column `j` were filled.
    pub ways: Vec<Vec<Filled>>,
    /// The filled cells: (unit, indicator column, way in `ways[column]`).
    pub cells: Vec<(usize, usize, usize)>,
}

/// Arrays of values reused from period to period. A period's values and its normalised
/// scores are arrays the size of a period; freed, the allocator hands memory of that size back
/// to the system, and each new period's array would fault every page in again (at 4× the grid,
/// 40–45 MB a period). What a period gives back, a later one takes. Every value is written
/// before it is read, so a reused array gives the same results as a new one.
#[derive(Debug, Default)]
pub(super) struct Reuse {
    /// Arrays given back: their number of columns and their memory.
    free: std::sync::Mutex<Vec<(usize, Vec<f64>)>>,
}

impl Reuse {
    /// A column-major `rows × cols` array with every value `fill`, in the memory of an array
    /// of as many columns given back (the values and the scores of a period each reuse their
    /// own kind, so that neither grows to the other's size), else new.
    pub fn array(&self, rows: usize, cols: usize, fill: f64) -> Array2<f64> {
        let len = rows * cols;
        let mut v = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let pick = free.iter().position(|(c, _)| *c == cols);
            pick.map(|i| free.swap_remove(i).1).unwrap_or_default()
        };
        v.clear();
        v.resize(len, fill);
        Array2::from_shape_vec((rows, cols).f(), v).expect("rows × cols values")
    }

    /// Gives `a`'s memory back for a later period, `a` being an array a period uses while it
    /// is worked on: of each number of columns, at most one array per thread is kept, as many
    /// as are in use at a time, so that none is held idle.
    pub fn give(&self, a: Array2<f64>) {
        self.keep(a, rayon::current_num_threads().max(1));
    }

    /// Gives back the scores of a period merged: a scored period holds them until it is
    /// merged, so as many are in use at a time as periods are worked on (see `in_flight`),
    /// and as many are kept.
    pub fn give_merged(&self, a: Array2<f64>) {
        self.keep(a, super::in_flight());
    }

    /// Keeps `a`'s memory unless `most` arrays of its number of columns are kept.
    fn keep(&self, a: Array2<f64>, most: usize) {
        let cols = a.ncols();
        let (v, _) = a.into_raw_vec_and_offset();
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if v.capacity() > 0 && free.iter().filter(|(c, _)| *c == cols).count() < most {
            free.push((cols, v));
        }
    }
}

/// What tells the ways of filling a cell apart: the imputation step and, for a panel step, the
/// periods its value came from (`from`, and `to` when interpolated).
type WayKey = (usize, Option<(usize, Option<usize>)>);

/// Pass 1 for period `p`, whose indicator values are `values` (units × indicators): screen →
/// impute → treat (imputation first when the framework screens the imputed data).
pub(super) fn prepare(
    fw: &Framework,
    panel: &Panel,
    values: ArrayView2<f64>,
    setup: &Setup,
    p: usize,
) -> Result<Pass1, Error> {
    let nu = panel.units.len();
    let screen = &fw.defaults.screen;
    let present: Vec<usize> = (0..nu).filter(|&u| panel.present[[p, u]]).collect();
    let mut x_present = columns_of(values, &present, &setup.reuse);
    let mut imputed = vec![0; panel.indicators.len()];
    let mut filled = PeriodFills {
        ways: vec![Vec::new(); panel.indicators.len()],
        cells: Vec::new(),
    };
    // Imputation runs before screening when the framework screens the imputed data.
    if screen.after_impute {
        let groups = setup.groups(&present);
        let cells = Cells {
            rows: &present,
            groups: groups.as_deref(),
            p,
            fills: &setup.fills,
        };
        impute_all(fw, panel, &mut x_present, &cells, &mut imputed, &mut filled)?;
    }
    let forced: Vec<Option<bool>> = present.iter().map(|&u| setup.forced_all[u]).collect();
    let outcome = pipeline::screen(x_present.view(), &screen.method, &forced);
    let kept: Vec<usize> = (0..present.len()).filter(|&k| outcome.kept[k]).collect();
    let rows: Vec<usize> = kept.iter().map(|&k| present[k]).collect();
    if rows.is_empty() {
        return Err(Error::Eval(format!(
            "period {}: no unit is left after screening ({} present)",
            panel.periods[p],
            present.len()
        )));
    }
    if kept.len() < present.len() {
        // The cells of a unit screening dropped are not in the results.
        let mut dropped = vec![false; nu];
        for (k, &u) in present.iter().enumerate() {
            dropped[u] = !outcome.kept[k];
        }
        filled.cells.retain(|(u, _, _)| !dropped[*u]);
    }
    let mut x = if kept.len() == present.len() {
        x_present
    } else {
        let x = columns_of(x_present.view(), &kept, &setup.reuse);
        setup.reuse.give(x_present);
        x
    };
    let groups = setup.groups(&rows);
    if !screen.after_impute {
        let cells = Cells {
            rows: &rows,
            groups: groups.as_deref(),
            p,
            fills: &setup.fills,
        };
        impute_all(fw, panel, &mut x, &cells, &mut imputed, &mut filled)?;
    }
    let imputed_x = setup.keep.records_values().then(|| x.clone());
    let measure_untreated = setup.keep.records_values();
    let treatments = treat_period(fw, panel, (p, &rows), &mut x, measure_untreated)?;
    Ok(Pass1 {
        prepared: Prepared { rows, x, groups },
        present,
        imputed,
        filled,
        imputed_x,
        treatments,
    })
}

/// Rows `rows` of `values` (units × indicators), laid out column by column: every stage
/// works an indicator column at a time, which then reads and writes contiguous memory.
fn columns_of(values: ArrayView2<f64>, rows: &[usize], reuse: &Reuse) -> Array2<f64> {
    let mut out = reuse.array(rows.len(), values.ncols(), 0.0);
    // Row by row: each source row is read once, in order (a period of a large panel is larger
    // than the caches, and reading it column by column would fetch every row once per column).
    for (mut to, &r) in out.rows_mut().into_iter().zip(rows) {
        to.assign(&values.row(r));
    }
    out
}

/// The cells one imputation works on: the panel units `rows` (one per row of the values) of
/// period `p`, their groups, and the panel steps' fills.
struct Cells<'a> {
    rows: &'a [usize],
    groups: Option<&'a [usize]>,
    p: usize,
    fills: &'a PanelFills,
}

/// Imputes every indicator column of `x` in place: each missing cell takes the first value the
/// imputation's steps offer, in order — a panel step's from the fills, a cross-section step's
/// from the period's observed values. Counts the filled cells per column in `imputed` and
/// records how each was filled in `filled`.
fn impute_all(
    fw: &Framework,
    panel: &Panel,
    x: &mut Array2<f64>,
    cells: &Cells,
    imputed: &mut [usize],
    filled: &mut PeriodFills,
) -> Result<(), Error> {
    let Cells {
        rows,
        groups,
        p,
        fills,
    } = *cells;
    for (j, &node) in panel.indicators.iter().enumerate() {
        let NodeKind::Indicator(spec) = &fw.nodes[node].kind else {
            continue;
        };
        let what = format!("imputing `{}`", fw.nodes[node].id);
        let method = fw.impute_of(spec);
        if !x.column(j).iter().any(|v| v.is_nan()) {
            // Nothing to fill: the steps only check what they are given.
            for step in method.steps().iter().filter(|s| !s.is_panel()) {
                pipeline::impute(x.column_mut(j), step, groups)
                    .map_err(|e| stage_error(panel, rows, p, &what, &e))?;
            }
            imputed[j] = 0;
            continue;
        }
        let observed = x.column(j).to_owned();
        let mut count = 0;
        // Each way once: its number in `filled.ways[j]`.
        let mut ways: HashMap<WayKey, usize> = HashMap::new();
        for (s, step) in method.steps().iter().enumerate() {
            let mut found = observed.clone();
            if !step.is_panel() {
                pipeline::impute(found.view_mut(), step, groups)
                    .map_err(|e| stage_error(panel, rows, p, &what, &e))?;
            }
            for (k, &u) in rows.iter().enumerate() {
                if !x[[k, j]].is_nan() {
                    continue;
                }
                let donor = fills.get(j, s, p, u);
                let value = match donor {
                    Some(d) => d.value,
                    None if !found[k].is_nan() => found[k],
                    None => continue,
                };
                let key = (s, donor.map(|d| (d.from, d.to)));
                let way = *ways.entry(key).or_insert_with(|| {
                    let column = &mut filled.ways[j];
                    column.push(match donor {
                        Some(d) => Filled::panel(step, d, &fills.periods),
                        None => Filled::cross_section(step),
                    });
                    column.len() - 1
                });
                x[[k, j]] = value;
                filled.cells.push((u, j, way));
                count += 1;
            }
        }
        imputed[j] = count;
    }
    Ok(())
}

/// Outlier treatment of every indicator column of period `p` (rows are the kept units `rows`):
/// the treatments that did something or measured skew. A column with no treatment is only
/// measured (its skew and kurtosis, for the audit) when `measure_untreated`; a run that keeps
/// scores only skips it, since nothing it keeps reads the measure.
fn treat_period(
    fw: &Framework,
    panel: &Panel,
    (p, rows): (usize, &[usize]),
    x: &mut Array2<f64>,
    measure_untreated: bool,
) -> Result<Vec<Treatment>, Error> {
    let mut treatments = Vec::new();
    for (j, &node) in panel.indicators.iter().enumerate() {
        let NodeKind::Indicator(spec) = &fw.nodes[node].kind else {
            continue;
        };
        let method = fw.treat_of(spec);
        if method == pipeline::Treat::None && !measure_untreated {
            continue;
        }
        let what = format!("indicator `{}`", fw.nodes[node].id);
        let report = pipeline::treat(x.column_mut(j), &method)
            .map_err(|e| stage_error(panel, rows, p, &what, &e))?;
        if report.outcome != pipeline::TreatOutcome::Untouched || report.skew_before.is_some() {
            treatments.push(Treatment {
                period: p,
                indicator: j,
                report,
            });
        }
    }
    Ok(treatments)
}

/// One period's normalised indicator columns.
pub(super) struct Normalised {
    /// One row per kept unit, one column per node; aggregate columns still `NaN`.
    pub s: Array2<f64>,
    /// Indicator nodes with no value in the period, left out of its aggregation.
    pub empty: Vec<usize>,
    /// Values beyond base or frozen bounds.
    pub outside: Vec<OutsideCount>,
}

/// Pass 2, first step: the normalised indicator columns of period `p`, against each
/// indicator's reference (`references`, per indicator column) or the period itself.
pub(super) fn normalise(
    fw: &Framework,
    panel: &Panel,
    references: &[Option<Reference>],
    p: usize,
    prep: &Prepared,
    reuse: &Reuse,
) -> Result<Normalised, Error> {
    let (rows, x) = (&prep.rows, &prep.x);
    let mut out = Normalised {
        s: reuse.array(rows.len(), fw.nodes.len(), f64::NAN),
        empty: Vec::new(),
        outside: Vec::new(),
    };
    for (j, &node) in panel.indicators.iter().enumerate() {
        if fw.nodes[node].indicator().is_none() {
            continue;
        }
        if x.column(j).iter().all(|v| v.is_nan()) {
            // Declared outcome: an indicator with no value in a period (e.g. a lag in the
            // first period) is left out of that period's aggregation, with a note.
            out.empty.push(node);
            continue;
        }
        let reference = references.get(j).and_then(Option::as_ref);
        let (col, outside) = normalise_column(fw, panel, reference, p, j, rows, x.column(j))?;
        out.outside.extend(outside);
        out.s.column_mut(node).assign(&col);
    }
    Ok(out)
}

/// Normalises indicator column `j` of period `p` (values `col` of the kept units `rows`)
/// against its reference, or against the period itself; with how many values lay beyond base
/// or frozen bounds.
fn normalise_column(
    fw: &Framework,
    panel: &Panel,
    reference: Option<&Reference>,
    p: usize,
    j: usize,
    rows: &[usize],
    col: ArrayView1<f64>,
) -> Result<(Array1<f64>, Option<OutsideCount>), Error> {
    let node = &fw.nodes[panel.indicators[j]];
    let Some(spec) = node.indicator() else {
        return Ok((Array1::from_elem(col.len(), f64::NAN), None));
    };
    let what = format!("indicator `{}`", node.id);
    let err = |e: StageError| stage_error(panel, rows, p, &what, &e);
    let norm = fw.normalise_of(spec);
    if let Some(r) = reference {
        let n = pipeline::normalise::normalise_against(
            col,
            spec.direction,
            &norm.method,
            &r.bounds,
            r.outside,
        )
        .map_err(|e| {
            let Error::Eval(m) = err(e) else {
                unreachable!("stage errors are evaluation errors")
            };
            Error::Eval(format!("{m} (bounds over {})", r.periods))
        })?;
        let outside = (n.below + n.above > 0).then_some(OutsideCount {
            period: p,
            indicator: j,
            below: n.below,
            above: n.above,
        });
        return Ok((n.scores, outside));
    }
    let method = match (&norm.method, &norm.reference) {
        (Normalise::Dist2Ref { .. }, Some(r)) => {
            let row = rows
                .iter()
                .position(|&u| &panel.units[u] == r)
                .ok_or_else(|| {
                    Error::Eval(format!(
                        "{what}, period {}: reference unit `{r}` is not among the scored units",
                        panel.periods[p]
                    ))
                })?;
            Normalise::Dist2Ref { row }
        }
        (m, _) => m.clone(),
    };
    let scores = pipeline::normalise(col, spec.direction, &method).map_err(err)?;
    Ok((scores, None))
}

/// One period scored: pass 2 done.
pub(super) struct Scored {
    /// The kept units, one per row.
    pub rows: Vec<usize>,
    /// The scores of the nodes the run keeps, and of the index (which tells a scored unit from
    /// one left without a score): one row per kept unit, node `node`'s in column `at[node]`.
    /// A period's other nodes are dropped as soon as it is scored, so that periods waiting to
    /// be merged hold only what is recorded.
    pub s: Array2<f64>,
    /// Per node, its column in `s` (`None`: not kept).
    pub at: Vec<Option<usize>>,
    /// Indicator nodes with no value in the period, left out of its aggregation.
    pub empty: Vec<usize>,
    /// Values beyond base or frozen bounds.
    pub outside: Vec<OutsideCount>,
    /// Ranks within the unit's group (when the framework has groups).
    pub group_ranks: Option<Array2<u32>>,
}

impl Scored {
    /// Node `node`'s scores, one per kept unit.
    ///
    /// # Panics
    /// When the run does not keep the node.
    pub fn column(&self, node: usize) -> ArrayView1<'_, f64> {
        let k = self.at[node].expect("only kept nodes are read from a scored period");
        self.s.column(k)
    }
}

/// Pass 2 of period `p`: normalises, aggregates up the tree with the framework's weights,
/// and ranks every node within its group when the framework has groups (ranks over all units
/// are computed from the results when asked for). Keeps the scores of the nodes the run
/// keeps (`setup.kept`) and of the index; its arrays come from `setup.reuse`.
pub(super) fn score(
    fw: &Framework,
    panel: &Panel,
    references: &[Option<Reference>],
    p: usize,
    prep: &Prepared,
    scorer: &Scorer,
    setup: &Setup,
) -> Result<Scored, Error> {
    let reuse = &setup.reuse;
    let mut normalised = normalise(fw, panel, references, p, prep, reuse)?;
    let rows = prep.rows.clone();
    let weights: Vec<f64> = fw.nodes.iter().map(|n| n.weight).collect();
    scorer
        .aggregate(&mut normalised.s, &weights)
        .map_err(|(node, e)| super::aggregation_error(fw, panel, &rows, p, node, &e))?;
    let s = &normalised.s;
    let group_ranks = prep.groups.as_ref().map(|g| {
        let ranked: Vec<bool> = rows
            .iter()
            .map(|&u| panel.ranked.as_ref().is_none_or(|r| r[[p, u]]))
            .collect();
        let mut out = Array2::zeros(s.dim());
        for node in 0..fw.nodes.len() {
            let keys = rank_keys(fw, node, s.column(node), &ranked);
            let gr = pipeline::rank_desc_within(keys.view(), g);
            out.column_mut(node)
                .assign(&Array1::from_iter(gr.iter().map(|r| r.unwrap_or(0))));
        }
        out
    });
    let Normalised { s, empty, outside } = normalised;
    let every = setup.keep.every_node_in() == Some(p);
    let (s, at) = keep_columns(s, &setup.kept, every, reuse);
    Ok(Scored {
        rows,
        s,
        at,
        empty,
        outside,
        group_ranks,
    })
}

/// The columns of `s` (one per node) that `kept` says, and the index's (node 0), or all of them
/// when `every`: `s` itself when every node is kept, else a copy of those columns (and `s`
/// given back to `reuse`); with each node's column in it.
fn keep_columns(
    s: Array2<f64>,
    kept: &[bool],
    every: bool,
    reuse: &Reuse,
) -> (Array2<f64>, Vec<Option<usize>>) {
    let wanted = |node: usize| every || node == 0 || kept.get(node).copied().unwrap_or(false);
    let nodes: Vec<usize> = (0..s.ncols()).filter(|&n| wanted(n)).collect();
    let mut at = vec![None; s.ncols()];
    for (k, &node) in nodes.iter().enumerate() {
        at[node] = Some(k);
    }
    if nodes.len() == s.ncols() {
        return (s, at);
    }
    let out = s.select(Axis(1), &nodes);
    reuse.give(s);
    (out, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn reused_arrays_are_of_their_kind_and_filled_anew() {
        let reuse = Reuse::default();
        let mut a = reuse.array(3, 2, f64::NAN);
        assert_eq!(a.dim(), (3, 2));
        assert!(a.iter().all(|v| v.is_nan()));
        // Column by column, as every stage reads it.
        assert_eq!(a.strides(), &[1, 3]);
        a.fill(7.0);
        let memory = a.as_ptr();
        reuse.give(a);
        // An array of another number of columns does not take it.
        let other = reuse.array(4, 3, 0.0);
        assert_ne!(other.as_ptr(), memory);
        // One of as many columns does (here with fewer rows), every value written anew.
        let again = reuse.array(2, 2, 0.5);
        assert_eq!(again.as_ptr(), memory);
        assert_eq!(again.dim(), (2, 2));
        assert_eq!(again.strides(), &[1, 2]);
        assert!(again.iter().all(|&v| v == 0.5));
        // More rows than it holds: grown, still filled.
        reuse.give(again);
        let grown = reuse.array(5, 2, -1.0);
        assert_eq!(grown.dim(), (5, 2));
        assert!(grown.iter().all(|&v| v == -1.0));
        // Of each kind, one array per thread is kept, no more; of merged scores, one per
        // period in the works.
        let most = rayon::current_num_threads();
        for _ in 0..most + 2 {
            reuse.give(Array2::zeros((2, 2)));
        }
        reuse.give(other);
        let merged = super::super::in_flight();
        assert!(merged > most);
        for _ in 0..merged + 2 {
            reuse.give_merged(Array2::zeros((2, 4)));
        }
        let free = reuse.free.lock().unwrap();
        assert_eq!(free.iter().filter(|(c, _)| *c == 2).count(), most);
        assert_eq!(free.iter().filter(|(c, _)| *c == 3).count(), 1);
        assert_eq!(free.iter().filter(|(c, _)| *c == 4).count(), merged);
    }

    #[test]
    fn a_scored_period_keeps_the_kept_nodes_and_the_index() {
        // Two units, four nodes; node 0 is the index.
        let s = array![[10.0, 1.0, 2.0, 3.0], [20.0, 4.0, 5.0, 6.0]];
        let some = [false, false, true, false];
        let (kept, at) = keep_columns(s.clone(), &some, false, &Reuse::default());
        assert_eq!(kept, array![[10.0, 2.0], [20.0, 5.0]]);
        assert_eq!(at, vec![Some(0), None, Some(1), None]);
        // Every node kept, or every node of this period: the same array, each node in its
        // own column.
        for (kept, every) in [([true; 4], false), (some, true)] {
            let (all, at) = keep_columns(s.clone(), &kept, every, &Reuse::default());
            assert_eq!(all, s);
            assert_eq!(at, vec![Some(0), Some(1), Some(2), Some(3)]);
        }
        let scored = Scored {
            rows: vec![1, 0],
            s: kept,
            at: vec![Some(0), None, Some(1), None],
            empty: Vec::new(),
            outside: Vec::new(),
            group_ranks: None,
        };
        assert_eq!(scored.column(2).to_vec(), vec![2.0, 5.0]);
        assert_eq!(scored.column(0).to_vec(), vec![10.0, 20.0]);
    }
}

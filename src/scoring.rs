//! [`Scoring`]: a run of `kapok score` or `kapok rank` that binds each period's values as the
//! data are read and scores each period as soon as it is bound, when the framework and the
//! rows' order allow.

use std::path::Path;

use ndarray::Array2;

use crate::Result;
use crate::data::{self, DataStage, Panel};
use crate::evaluate::{self, Keep, Results, evaluate_streaming};
use crate::framework::Framework;
use crate::messages::Warning;

/// A run of `kapok score` or `kapok rank` over a framework's data that hands on each period as
/// soon as it is scored ([`evaluate_streaming`]). When every step of the framework works on one
/// period at a time ([`evaluate::streams_periods`]), the data can be bound a period at a time
/// too: the panel is first bound without its values ([`DataStage::bind_layout`]), then each
/// period's values are bound while the periods before it are scored, and dropped once it is
/// handed on, so the run holds a few periods' values, not the panel's. That needs rows that
/// come a period after another (a table sorted by period, as monthly files appended to one
/// another are): at most half the periods ever open at once. Rows that interleave the periods
/// (a table sorted by unit) are bound whole first: into a temporary file when the panel's
/// values are large (see [`Scoring::open`]), from which the run reads one period at a time
/// (see [`data::spill`]), else into the panel. Either way, the periods handed on, the results
/// and the errors are the same.
pub struct Scoring<'f> {
    fw: &'f Framework,
    panel: Panel,
    /// The data stage still to bind the values, with what its checks need; `None` when the
    /// panel holds them or they are in `spill`.
    stage: Option<(DataStage, data::Layout)>,
    /// The values, bound into a temporary file.
    spill: Option<data::spill::Spill>,
    warnings: Vec<Warning>,
}

impl<'f> Scoring<'f> {
    /// Reads the data of `fw` (or the single table `data`) and binds the panel, without its
    /// values when the run can take them a period at a time; those of rows that interleave
    /// the periods go to a temporary file when they take more than 64 MiB, or
    /// `KAPOK_SPILL_BYTES` (the threshold above which CSV and Excel tables go to one too).
    pub fn open(fw: &'f Framework, data: Option<&Path>) -> Result<Self> {
        Self::open_spilling(fw, data, data::spill_bytes())
    }

    /// [`Scoring::open`], keeping the values of rows that interleave the periods in a
    /// temporary file when they take more than `above` bytes and there is more than one
    /// period.
    pub fn open_spilling(fw: &'f Framework, data: Option<&Path>, above: usize) -> Result<Self> {
        let mut stage = DataStage::open(fw, data)?;
        let whole = |panel, warnings| Self {
            fw,
            panel,
            stage: None,
            spill: None,
            warnings,
        };
        // A large panel whose rows interleave the periods is bound into a file, after its
        // layout (a query of the keys); a small one into memory in one query.
        let spills = stage.spills(fw, above);
        if !evaluate::streams_periods(fw) || (stage.interleaves() && !spills) {
            let panel = stage.bind(fw)?;
            return Ok(whole(panel, stage.warnings));
        }
        let layout = stage.bind_layout(fw)?;
        let warnings = std::mem::take(&mut stage.warnings);
        if stage.interleaves()
            || data::bind::interleaves(layout.most_open, layout.panel.periods.len())
        {
            // The rows interleave periods (a table sorted by unit): every period would be
            // open until the last rows, so they are bound whole, as they are read.
            let p = &layout.panel;
            let spill = spills.then(|| {
                data::spill::Spill::new(p.periods.len(), p.units.len(), p.indicators.len())
            });
            // Without a temporary file to be had, the values stay in memory, as a small
            // panel's do.
            let Some(Ok(spill)) = spill else {
                return Ok(whole(stage.bind_whole(fw, layout)?, warnings));
            };
            let (panel, spill) = stage.bind_spilled(fw, layout, spill)?;
            return Ok(Self {
                spill: Some(spill),
                ..whole(panel, warnings)
            });
        }
        let panel = layout.panel.clone();
        Ok(Self {
            stage: Some((stage, layout)),
            ..whole(panel, warnings)
        })
    }

    /// The panel: its units, periods, names and groups (and its values, unless the run binds
    /// them a period at a time).
    pub fn panel(&self) -> &Panel {
        &self.panel
    }

    /// Whether the panel holds no values: the run binds each period's values as it scores the
    /// periods before it, or reads each back from the temporary file they were bound into.
    pub fn binds_periods(&self) -> bool {
        self.stage.is_some() || self.spill.is_some()
    }

    /// Scores every period, handing each to `each` as [`evaluate_streaming`] does; returns the
    /// results (whose panel holds no values when they were bound a period at a time) and every
    /// warning. A data error comes first, as when the panel is bound before the run.
    pub fn evaluate(
        self,
        keep: Keep,
        handed: Option<Vec<usize>>,
        each: impl FnMut(&evaluate::Merged) -> Result<()>,
    ) -> Result<(Results, Vec<Warning>)> {
        let Self {
            fw,
            panel,
            stage,
            spill,
            mut warnings,
        } = self;
        let results = match (stage, spill) {
            (None, None) => evaluate_streaming(fw, panel, keep, handed, each)?,
            (None, Some(spill)) => {
                // Read back a period at a time; a failed read ends the periods, and the run.
                let failed = std::cell::Cell::new(None);
                let periods = (0..panel.periods.len())
                    .map_while(|p| spill.period(p).map_err(|e| failed.set(Some(e))).ok());
                let run =
                    evaluate::evaluate_bound(fw, panel, Box::new(periods), keep, handed, each);
                if let Some(e) = failed.take() {
                    return Err(e);
                }
                run?
            }
            (Some((stage, layout)), _) => {
                let np = panel.periods.len();
                // Handed over, not queued: binding waits while the run has its periods in the
                // works, so it holds those and the period being bound.
                let (tx, rx) = std::sync::mpsc::sync_channel(0);
                std::thread::scope(|s| {
                    let binding = s.spawn(|| {
                        // A run stopped by an error takes no more periods: binding goes on,
                        // so that a data error is the one reported, as it would be first.
                        stage.bind_periods(fw, layout, move |p, values| {
                            let _ = tx.send((p, values));
                        })
                    });
                    let periods = Box::new(InPeriodOrder::new(rx, np));
                    let run = evaluate::evaluate_bound(fw, panel, periods, keep, handed, each);
                    binding
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                    run
                })?
            }
        };
        warnings.extend(results.warnings());
        Ok((results, warnings))
    }

    /// [`Scoring::evaluate`] handing no period on: the results of the nodes `keep` says, and
    /// every warning (what [`crate::score_keeping`] gives, but for a panel that holds no values:
    /// they were bound a period at a time, or are given back once scored).
    pub fn keeping(self, keep: Keep) -> Result<(Results, Vec<Warning>)> {
        if self.binds_periods() {
            return self.evaluate(keep, Some(Vec::new()), |_| Ok(()));
        }
        // The panel is whole: nothing to hand on, nor to rank as the periods are merged.
        let mut results = evaluate::evaluate_keeping(self.fw, self.panel, keep)?;
        // Its values are read no more, as when they are bound a period at a time: given back
        // before the caller makes what it shows of the scores.
        results.panel.drop_values();
        let mut warnings = self.warnings;
        warnings.extend(results.warnings());
        Ok((results, warnings))
    }
}

/// The periods a binder hands on as each is complete, in period order: a period that comes
/// before its turn waits (rows in period order make none wait). Ends when the binder stops.
struct InPeriodOrder {
    from: std::sync::mpsc::Receiver<(usize, Array2<f64>)>,
    waiting: std::collections::BTreeMap<usize, Array2<f64>>,
    next: usize,
    periods: usize,
}

impl InPeriodOrder {
    fn new(from: std::sync::mpsc::Receiver<(usize, Array2<f64>)>, periods: usize) -> Self {
        Self {
            from,
            waiting: Default::default(),
            next: 0,
            periods,
        }
    }
}

impl Iterator for InPeriodOrder {
    type Item = Array2<f64>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.periods {
            return None;
        }
        while !self.waiting.contains_key(&self.next) {
            let (p, values) = self.from.recv().ok()?;
            self.waiting.insert(p, values);
        }
        self.next += 1;
        self.waiting.remove(&(self.next - 1))
    }
}

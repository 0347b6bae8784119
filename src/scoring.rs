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
/// another are): at most half the periods ever open at once. Otherwise the whole panel is
/// bound first. Either way, the periods handed on, the results and the errors are the same.
pub struct Scoring<'f> {
    fw: &'f Framework,
    panel: Panel,
    /// The data stage still to bind the values, with what its checks need; `None` when the
    /// panel holds them.
    stage: Option<(DataStage, data::Layout)>,
    warnings: Vec<Warning>,
}

impl<'f> Scoring<'f> {
    /// Reads the data of `fw` (or the single table `data`) and binds the panel, without its
    /// values when the run can take them a period at a time.
    pub fn open(fw: &'f Framework, data: Option<&Path>) -> Result<Self> {
        let mut stage = DataStage::open(fw, data)?;
        if !evaluate::streams_periods(fw) || stage.interleaves() {
            let panel = stage.bind(fw)?;
            return Ok(Self {
                fw,
                panel,
                stage: None,
                warnings: stage.warnings,
            });
        }
        let layout = stage.bind_layout(fw)?;
        let warnings = std::mem::take(&mut stage.warnings);
        if data::bind::interleaves(layout.most_open, layout.panel.periods.len()) {
            // The rows interleave periods (a table sorted by unit): every period would be
            // open until the last rows, so they are bound into one array, as they are read.
            return Ok(Self {
                fw,
                panel: stage.bind_whole(fw, layout)?,
                stage: None,
                warnings,
            });
        }
        Ok(Self {
            fw,
            panel: layout.panel.clone(),
            warnings,
            stage: Some((stage, layout)),
        })
    }

    /// The panel: its units, periods, names and groups (and its values, unless the run binds
    /// them a period at a time).
    pub fn panel(&self) -> &Panel {
        &self.panel
    }

    /// Whether the run binds each period's values as it scores the periods before it (the
    /// panel then holds none).
    pub fn binds_periods(&self) -> bool {
        self.stage.is_some()
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
            mut warnings,
        } = self;
        let results = match stage {
            None => evaluate_streaming(fw, panel, keep, handed, each)?,
            Some((stage, layout)) => {
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
        if self.stage.is_some() {
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

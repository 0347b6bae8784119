//! Method specifications (`"median"` or `{ method = "minmax", range = [0, 100] }`) checked into
//! the pipeline's closed method enums, with every unknown method or parameter reported.

use toml::Spanned;
use toml::de::DeValue;

use super::diag::{Diagnostic, did_you_mean};
use super::model::{AggSpec, NormSpec, Outside, Over, ScreenSpec};
use super::read::{Sink, Sp, TableReader, type_name};
use crate::period::Period;
use crate::pipeline::methods::{Aggregate, Ends, Impute, Normalise, Penalty, ScreenMethod, Treat};

/// Where a method is declared: goalposts and targets only make sense per indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// In `[defaults]` or on the command line.
    Defaults,
    /// On one indicator or node.
    Own,
}

/// Method names kapok knows, per kind (for hints and documentation).
pub const NORMALISE_METHODS: &[&str] = &[
    "minmax",
    "zscore",
    "scaled",
    "rank",
    "borda",
    "prank",
    "goalposts",
    "dist2max",
    "dist2ref",
    "dist2targ",
    "fracmax",
    "none",
];
/// Aggregation method names.
pub const AGGREGATE_METHODS: &[&str] = &[
    "arithmetic",
    "geometric",
    "harmonic",
    "generalised",
    "copeland",
    "mpi",
    "ampi",
    "bod",
];
/// Imputation method names.
pub const IMPUTE_METHODS: &[&str] = &[
    "none",
    "mean",
    "median",
    "group_mean",
    "group_median",
    "carry_forward",
    "carry_backward",
    "interpolate",
];
/// Treatment method names.
pub const TREAT_METHODS: &[&str] = &["none", "winsorise", "log", "log_ct"];
/// Screening method names.
pub const SCREEN_METHODS: &[&str] = &["none", "byNA", "byzeros", "both"];

/// Splits a method value into its name and, for the table form, a reader of its parameters.
fn method_and_params<'a, 'i>(
    v: &'a Spanned<DeValue<'i>>,
    sink: &mut Sink,
    key: &str,
    known: &[&str],
) -> Option<(Sp<String>, Option<TableReader<'a, 'i>>)> {
    let (name, reader) = match v.get_ref() {
        DeValue::String(s) => (Sp::new(s.to_string(), v.span()), None),
        DeValue::Table(t) => {
            let mut r = TableReader::new(t, v.span(), format!("`{key}`"));
            let name = r.req_str(sink, "method")?;
            (name, Some(r))
        }
        other => {
            sink.push(
                Diagnostic::error(
                    v.span(),
                    format!(
                        "`{key}` must be a method name or a table like {{ method = \"{}\" }}, not {}",
                        known[0],
                        type_name(other)
                    ),
                )
                .with_label("expected a method"),
            );
            return None;
        }
    };
    // Accept American spellings and a few COINr names as aliases.
    let canonical = match name.value.as_str() {
        "winsorize" => "winsorise",
        "log_CT" | "logct" => "log_ct",
        "generalized" | "generalised_mean" | "power" => "generalised",
        "percentile" | "percent_rank" => "prank",
        "mean_grp" => "group_mean",
        "median_grp" => "group_median",
        "bylna" | "byna" => "byNA",
        other => other,
    };
    if !known.contains(&canonical) {
        sink.push(
            Diagnostic::error(
                name.span.clone(),
                format!("unknown {key} method `{}`", name.value),
            )
            .with_label("not a known method")
            .with_hint(
                did_you_mean(&name.value, known.iter().copied())
                    .unwrap_or_else(|| format!("known methods: {}", known.join(", "))),
            ),
        );
        return None;
    }
    Some((Sp::new(canonical.to_string(), name.span), reader))
}

/// A number parameter with a default and an allowed range check.
fn param(
    r: &mut Option<TableReader<'_, '_>>,
    sink: &mut Sink,
    key: &str,
    default: f64,
    valid: impl Fn(f64) -> bool,
    rule: &str,
) -> f64 {
    let Some(reader) = r.as_mut() else {
        return default;
    };
    match reader.constant(sink, key) {
        Some(v) if valid(v.value) => v.value,
        Some(v) => {
            sink.push(
                Diagnostic::error(v.span, format!("`{key}` = {} is invalid: {rule}", v.value))
                    .with_label(rule.to_string()),
            );
            default
        }
        None => default,
    }
}

/// A required number parameter.
fn req_param(
    r: &mut Option<TableReader<'_, '_>>,
    sink: &mut Sink,
    method: &Sp<String>,
    key: &str,
) -> Option<Sp<f64>> {
    let got = r.as_mut().and_then(|reader| {
        if reader.get(key).is_none() {
            None
        } else {
            reader.constant(sink, key)
        }
    });
    if got.is_none()
        && r.as_ref()
            .is_none_or(|reader| reader.key_span(key).is_none())
    {
        sink.push(
            Diagnostic::error(
                method.span.clone(),
                format!("method `{}` needs the parameter `{key}`", method.value),
            )
            .with_label(format!("`{key}` missing"))
            .with_hint(format!(
                "write {{ method = \"{}\", {key} = ... }}",
                method.value
            )),
        );
    }
    got
}

fn finish(r: Option<TableReader<'_, '_>>, sink: &mut Sink) {
    if let Some(r) = r {
        r.finish(sink);
    }
}

fn not_here(sink: &mut Sink, method: &Sp<String>, why: &str) {
    sink.push(
        Diagnostic::error(
            method.span.clone(),
            format!("`{}` cannot be a default: {why}", method.value),
        )
        .with_label("set it on each indicator instead"),
    );
}

/// Parses an imputation method: a method name, a table with its parameters, or an array of
/// them (a fallback chain: each step fills what the previous ones left).
pub fn impute(v: &Spanned<DeValue<'_>>, sink: &mut Sink) -> Option<Impute> {
    let DeValue::Array(items) = v.get_ref() else {
        return impute_step(v, sink);
    };
    if items.is_empty() {
        sink.push(
            Diagnostic::error(v.span(), "an imputation chain needs at least one method")
                .with_label("empty chain")
                .with_hint("write impute = \"none\" for no imputation"),
        );
        return None;
    }
    let mut steps = Vec::new();
    let mut ok = true;
    for item in items.iter() {
        if let DeValue::Array(_) = item.get_ref() {
            sink.push(
                Diagnostic::error(item.span(), "an imputation chain cannot hold another chain")
                    .with_label("nested array")
                    .with_hint("list every step in one array"),
            );
            ok = false;
            continue;
        }
        match impute_step(item, sink) {
            Some(Impute::None) if items.len() > 1 => {
                sink.push(
                    Diagnostic::error(item.span(), "`none` cannot be a step of a chain")
                        .with_label("fills nothing")
                        .with_hint("drop it: cells no step fills stay missing anyway"),
                );
                ok = false;
            }
            Some(step) => {
                if steps.contains(&step) {
                    sink.push(
                        Diagnostic::error(item.span(), "this step repeats an earlier one")
                            .with_label("fills nothing the earlier one left"),
                    );
                    ok = false;
                }
                steps.push(step);
            }
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    Some(if steps.len() == 1 {
        steps.remove(0)
    } else {
        Impute::Chain(steps)
    })
}

/// COINr's `impute_panel` types, with the kapok spelling that does the same.
const COINR_PANEL: &[(&str, &str)] = &[
    (
        "latest",
        "{ method = \"carry_forward\", max_periods = N } (COINr's max_time = N)",
    ),
    (
        "constant",
        "{ method = \"carry_forward\", ends = \"nearest\" }",
    ),
    ("linear", "{ method = \"interpolate\", ends = \"nearest\" }"),
];

/// One imputation method (not a chain).
fn impute_step(v: &Spanned<DeValue<'_>>, sink: &mut Sink) -> Option<Impute> {
    let name = match v.get_ref() {
        DeValue::String(s) => Some((s.to_string(), v.span())),
        DeValue::Table(t) => t.get("method").and_then(|m| match m.get_ref() {
            DeValue::String(s) => Some((s.to_string(), m.span())),
            _ => None,
        }),
        _ => None,
    };
    if let Some((name, span)) = name
        && let Some((_, kapok)) = COINR_PANEL.iter().find(|(c, _)| *c == name)
    {
        sink.push(
            Diagnostic::error(span, format!("unknown impute method `{name}`"))
                .with_label("COINr's name")
                .with_hint(format!("COINr's `{name}` is written {kapok}")),
        );
        return None;
    }
    let (m, mut r) = method_and_params(v, sink, "impute", IMPUTE_METHODS)?;
    let out = match m.value.as_str() {
        "mean" => Impute::Mean,
        "median" => Impute::Median,
        "group_mean" => Impute::GroupMean,
        "group_median" => Impute::GroupMedian,
        "carry_forward" => Impute::CarryForward {
            max_periods: max_periods(&mut r, sink),
            ends: ends(&mut r, sink),
        },
        "carry_backward" => Impute::CarryBackward {
            max_periods: max_periods(&mut r, sink),
        },
        "interpolate" => Impute::Interpolate {
            ends: ends(&mut r, sink),
        },
        _ => Impute::None,
    };
    finish(r, sink);
    Some(out)
}

/// `max_periods`: a whole number ≥ 1 of calendar periods (absent: no limit).
fn max_periods(r: &mut Option<TableReader<'_, '_>>, sink: &mut Sink) -> Option<u32> {
    let v = r.as_mut()?.number(sink, "max_periods")?;
    if v.value >= 1.0 && v.value.fract() == 0.0 && v.value <= f64::from(u32::MAX) {
        return Some(v.value as u32);
    }
    sink.push(
        Diagnostic::error(
            v.span,
            format!("`max_periods` = {} is invalid: a whole number ≥ 1", v.value),
        )
        .with_label("a whole number ≥ 1")
        .with_hint(
            "how many periods back (or ahead) a value may be taken from; leave it out for no limit",
        ),
    );
    None
}

/// `ends`: `"none"` (default) or `"nearest"`.
fn ends(r: &mut Option<TableReader<'_, '_>>, sink: &mut Sink) -> Ends {
    match r.as_mut().and_then(|reader| reader.str(sink, "ends")) {
        None => Ends::None,
        Some(e) if e.value == "none" => Ends::None,
        Some(e) if e.value == "nearest" => Ends::Nearest,
        Some(e) => {
            sink.push(
                Diagnostic::error(e.span, "`ends` must be \"none\" or \"nearest\"")
                    .with_label("unknown ends rule")
                    .with_hint_opt(did_you_mean(&e.value, ["none", "nearest"])),
            );
            Ends::None
        }
    }
}

/// Parses an outlier treatment method.
pub fn treat(v: &Spanned<DeValue<'_>>, sink: &mut Sink) -> Option<Treat> {
    let (m, mut r) = method_and_params(v, sink, "treat", TREAT_METHODS)?;
    let out = match m.value.as_str() {
        "winsorise" => {
            let winmax = param(
                &mut r,
                sink,
                "winmax",
                5.0,
                |x| x >= 0.0 && x.fract() == 0.0,
                "a whole number ≥ 0",
            );
            let skew = param(&mut r, sink, "skew", 2.0, |x| x > 0.0, "must be > 0");
            let kurt = param(
                &mut r,
                sink,
                "kurt",
                3.5,
                |x| x.is_finite(),
                "must be finite",
            );
            let log_fallback = r
                .as_mut()
                .and_then(|reader| reader.bool(sink, "log_fallback"))
                .is_none_or(|b| b.value);
            Treat::Winsorise {
                winmax: winmax as usize,
                skew,
                kurt,
                log_fallback,
            }
        }
        "log" => Treat::Log,
        "log_ct" => Treat::LogCt,
        _ => Treat::None,
    };
    finish(r, sink);
    Some(out)
}

/// Parses a normalisation method.
pub fn normalise(v: &Spanned<DeValue<'_>>, sink: &mut Sink, scope: Scope) -> Option<NormSpec> {
    let (m, mut r) = method_and_params(v, sink, "normalize", NORMALISE_METHODS)?;
    let mut reference = None;
    let method = match m.value.as_str() {
        "minmax" => {
            let range = r.as_mut().and_then(|reader| reader.pair(sink, "range"));
            let [lo, hi] = range.as_ref().map_or([0.0, 100.0], |p| p.value);
            if let Some(p) = &range
                && lo >= hi
            {
                sink.push(
                    Diagnostic::error(p.span.clone(), "`range` must be increasing: [low, high]")
                        .with_label(format!("{lo} ≥ {hi}")),
                );
            }
            Normalise::MinMax { lo, hi }
        }
        "zscore" => {
            let mean = param(&mut r, sink, "mean", 0.0, f64::is_finite, "must be finite");
            let sd = param(&mut r, sink, "sd", 1.0, |x| x > 0.0, "must be > 0");
            Normalise::ZScore { mean, sd }
        }
        "scaled" => {
            let a = req_param(&mut r, sink, &m, "a");
            let b = req_param(&mut r, sink, &m, "b");
            let factor = param(&mut r, sink, "factor", 1.0, |x| x != 0.0, "must not be 0");
            if let (Some(a), Some(b)) = (&a, &b)
                && a.value == b.value
            {
                sink.push(
                    Diagnostic::error(b.span.clone(), "`b` must differ from `a`")
                        .with_label("same as `a`"),
                );
            }
            Normalise::Scaled {
                a: a.map_or(0.0, |x| x.value),
                b: b.map_or(1.0, |x| x.value),
                factor,
            }
        }
        "rank" => Normalise::Rank,
        "borda" => Normalise::Borda,
        "prank" => Normalise::PercentRank,
        "dist2max" => Normalise::Dist2Max,
        "fracmax" => Normalise::FracMax,
        "none" => Normalise::None,
        "goalposts" => {
            if scope == Scope::Defaults {
                not_here(sink, &m, "its goalposts are in each indicator's own units");
            }
            let min = req_param(&mut r, sink, &m, "min");
            let max = req_param(&mut r, sink, &m, "max");
            let scale = param(&mut r, sink, "scale", 1.0, |x| x > 0.0, "must be > 0");
            let cap = r
                .as_mut()
                .and_then(|reader| reader.bool(sink, "cap"))
                .is_none_or(|b| b.value);
            if let (Some(lo), Some(hi)) = (&min, &max)
                && lo.value >= hi.value
            {
                sink.push(
                    Diagnostic::error(
                        // `max` may be written before `min`.
                        lo.span.start.min(hi.span.start)..lo.span.end.max(hi.span.end),
                        format!(
                            "goalposts need min < max, got min = {} and max = {}",
                            lo.value, hi.value
                        ),
                    )
                    .with_label("min ≥ max")
                    .with_hint(
                        "min and max are in the indicator's own units, whatever its direction",
                    ),
                );
            }
            Normalise::Goalposts {
                min: min.map_or(0.0, |x| x.value),
                max: max.map_or(1.0, |x| x.value),
                scale,
                cap,
            }
        }
        "dist2ref" => {
            // A default too: every indicator is measured against the same reference unit.
            let unit = r.as_mut().and_then(|reader| reader.str(sink, "reference"));
            if unit.is_none() && r.as_ref().is_none_or(|x| x.key_span("reference").is_none()) {
                sink.push(
                    Diagnostic::error(
                        m.span.clone(),
                        "method `dist2ref` needs `reference` (a unit key)",
                    )
                    .with_label("`reference` missing"),
                );
            }
            reference = unit.map(|u| u.value);
            Normalise::Dist2Ref { row: 0 }
        }
        "dist2targ" => {
            if scope == Scope::Defaults {
                not_here(sink, &m, "its target is in each indicator's own units");
            }
            let target = req_param(&mut r, sink, &m, "target");
            let cap = r
                .as_mut()
                .and_then(|reader| reader.bool(sink, "cap"))
                .is_some_and(|b| b.value);
            Normalise::Dist2Targ {
                target: target.map_or(0.0, |x| x.value),
                cap,
            }
        }
        _ => Normalise::None,
    };
    let (over, outside) = reference_of(&mut r, sink, &m, &method);
    // Goalposts: `outside` is their `cap` (capped by default, as every reference).
    let mut method = method;
    if let Normalise::Goalposts { cap, .. } = &mut method
        && r.as_ref().is_some_and(|x| x.key_span("outside").is_some())
    {
        *cap = outside == Outside::Cap;
    }
    let outside = match method {
        Normalise::Goalposts { cap: false, .. } => Outside::Extend,
        _ => outside,
    };
    finish(r, sink);
    Some(NormSpec {
        reference,
        over,
        outside,
        ..NormSpec::per_period(method)
    })
}

/// Reads a normalisation's `over`, `bounds` and `outside` (see `indicators/README.md`): which
/// values its bounds come from and what happens to a value beyond base or frozen bounds.
fn reference_of(
    r: &mut Option<TableReader<'_, '_>>,
    sink: &mut Sink,
    m: &Sp<String>,
    method: &Normalise,
) -> (Over, Outside) {
    let Some(reader) = r.as_mut() else {
        return (Over::Period, Outside::Cap);
    };
    let over_text = reader.str(sink, "over");
    let bounds = reader.str(sink, "bounds");
    let outside_text = reader.str(sink, "outside");
    let mut over = match &over_text {
        None => Over::Period,
        Some(o) => match over_value(&o.value) {
            Ok(v) => v,
            Err(why) => {
                sink.push(
                    Diagnostic::error(o.span.clone(), format!("`over` = \"{}\": {why}", o.value))
                        .with_label("not a reference")
                        .with_hint(
                            did_you_mean(&o.value, ["period", "panel"]).unwrap_or_else(|| {
                                "write \"period\", \"panel\", a base period such as \"2022\" or a range such as \"2022-01..2022-06\"".into()
                            }),
                        ),
                );
                Over::Period
            }
        },
    };
    if let Some(b) = &bounds {
        if let Some(o) = &over_text {
            sink.push(
                Diagnostic::error(
                    o.span.start.min(b.span.start)..o.span.end.max(b.span.end),
                    "`bounds` and `over` cannot be used together",
                )
                .with_label("both given")
                .with_hint("frozen bounds come from the file; drop `over`"),
            );
        } else if b.value.trim().is_empty() {
            sink.push(
                Diagnostic::error(b.span.clone(), "`bounds` must name a file")
                    .with_label("empty path"),
            );
        } else {
            over = Over::Frozen(b.value.clone().into());
        }
    }
    let outside = match &outside_text {
        None => Outside::Cap,
        Some(o) if o.value == "cap" => Outside::Cap,
        Some(o) if o.value == "extend" => Outside::Extend,
        Some(o) => {
            sink.push(
                Diagnostic::error(o.span.clone(), "`outside` must be \"cap\" or \"extend\"")
                    .with_label("unknown rule")
                    .with_hint_opt(did_you_mean(&o.value, ["cap", "extend"])),
            );
            Outside::Cap
        }
    };
    // The key that set the reference, for the diagnostics below.
    let at = over_text
        .as_ref()
        .or(bounds.as_ref())
        .map_or(m.span.clone(), |s| s.span.clone());
    let refuse = |sink: &mut Sink, why: &str, hint: &str| {
        sink.push(
            Diagnostic::error(
                at.clone(),
                format!("method `{}` cannot take this reference: {why}", m.value),
            )
            .with_label("not for this method")
            .with_hint(hint.to_string()),
        );
    };
    match (method, &over) {
        (_, Over::Period) => {}
        (Normalise::Goalposts { .. } | Normalise::Scaled { .. } | Normalise::None, _) => refuse(
            sink,
            "its scores do not depend on the data, so they are comparable across periods already",
            "drop `over`/`bounds` (for goalposts, `outside` or `cap` says what happens beyond them)",
        ),
        (Normalise::Dist2Ref { .. }, _) => refuse(
            sink,
            "distances are measured to the reference unit within each period",
            "drop `over`/`bounds`, or use minmax or zscore with `over`",
        ),
        (
            Normalise::Rank | Normalise::Borda | Normalise::PercentRank,
            Over::Base { .. } | Over::Frozen(_),
        ) => refuse(
            sink,
            "ranks are among the values they are compared with; base or frozen bounds hold no such values",
            "use over = \"panel\" (ranks among every period's values) or minmax/zscore with a base",
        ),
        _ => {}
    }
    // Goalposts: `outside` is the same rule as `cap` (cap = true is outside = "cap").
    if matches!(method, Normalise::Goalposts { .. })
        && let Some(o) = &outside_text
        && reader.key_span("cap").is_some()
    {
        sink.push(
            Diagnostic::error(
                o.span.clone(),
                "`outside` and `cap` say the same thing: give one",
            )
            .with_label("both given")
            .with_hint("outside = \"cap\" is cap = true; outside = \"extend\" is cap = false"),
        );
    }
    (over, outside)
}

/// `"period"`, `"panel"`, a base period (`"2022"`, `"2022-Q1"`) or a range of periods
/// (`"2022-01..2022-06"`), with the base's periods in canonical form.
pub fn over_value(text: &str) -> Result<Over, String> {
    match text.trim() {
        "period" => return Ok(Over::Period),
        "panel" => return Ok(Over::Panel),
        _ => {}
    }
    let (a, b) = text.split_once("..").unwrap_or((text, text));
    let first = Period::parse(a)?;
    let last = Period::parse(b)?;
    if crate::bounds::months(last).1 < crate::bounds::months(first).0 {
        return Err(format!(
            "the range ends ({last}) before it starts ({first})"
        ));
    }
    Ok(Over::Base {
        first: first.to_string(),
        last: last.to_string(),
    })
}

/// Largest `|p|` of a generalised mean: `x^p` of scores up to 1000 stays finite.
pub const MAX_P: f64 = 100.0;

/// Parses an aggregation method.
pub fn aggregate(v: &Spanned<DeValue<'_>>, sink: &mut Sink) -> Option<AggSpec> {
    let (m, mut r) = method_and_params(v, sink, "aggregate", AGGREGATE_METHODS)?;
    if m.value == "bod"
        && let Some(span) = r.as_ref().and_then(|reader| reader.key_span("min_share"))
    {
        sink.push(
            Diagnostic::error(span, "`bod` takes no `min_share`")
                .with_label("not a parameter of bod")
                .with_hint("benefit of the doubt scores only the units with every child present"),
        );
    }
    let min_share = param(
        &mut r,
        sink,
        "min_share",
        0.0,
        |x| (0.0..=1.0).contains(&x),
        "a share between 0 and 1",
    );
    let penalty = |r: &mut Option<TableReader<'_, '_>>, sink: &mut Sink| match r
        .as_mut()
        .and_then(|reader| reader.str(sink, "penalty"))
    {
        None => Penalty::Negative,
        Some(p) if p.value == "negative" => Penalty::Negative,
        Some(p) if p.value == "positive" => Penalty::Positive,
        Some(p) => {
            sink.push(
                Diagnostic::error(p.span, "`penalty` must be \"negative\" or \"positive\"")
                    .with_label("unknown penalty"),
            );
            Penalty::Negative
        }
    };
    let method = match m.value.as_str() {
        "geometric" => Aggregate::Geometric,
        "harmonic" => Aggregate::Harmonic,
        "generalised" => {
            let p = req_param(&mut r, sink, &m, "p");
            if let Some(p) = &p
                && p.value == 0.0
            {
                sink.push(
                    Diagnostic::error(p.span.clone(), "`p` must not be 0")
                        .with_label("p = 0")
                        .with_hint("p = 0 is the geometric mean: use method = \"geometric\""),
                );
            } else if let Some(p) = &p
                && p.value.abs() > MAX_P
            {
                sink.push(
                    Diagnostic::error(p.span.clone(), format!("`p` = {} is too large", p.value))
                        .with_label(format!("p must be between -{MAX_P} and {MAX_P}"))
                        .with_hint("scores raised to such a power overflow (100^200 is beyond any floating-point number); |p| ≤ 100 already ranks like the minimum or maximum"),
                );
            }
            Aggregate::Generalised {
                p: p.map_or(1.0, |x| x.value),
            }
        }
        "copeland" => Aggregate::Copeland,
        "mpi" => Aggregate::Mpi {
            penalty: penalty(&mut r, sink),
        },
        "ampi" => Aggregate::Ampi {
            penalty: penalty(&mut r, sink),
        },
        "bod" => bod(&mut r, sink),
        _ => Aggregate::Arithmetic,
    };
    finish(r, sink);
    Some(AggSpec { method, min_share })
}

/// The share bounds of `bod`: `lower` (default 0) and `upper` (default 1), each a share between
/// 0 and 1, `lower ≤ upper`.
fn bod(r: &mut Option<TableReader<'_, '_>>, sink: &mut Sink) -> Aggregate {
    let share = |r: &mut Option<TableReader<'_, '_>>, sink: &mut Sink, key, default| {
        let at = r.as_ref().and_then(|reader| reader.key_span(key));
        let v = param(
            r,
            sink,
            key,
            default,
            |x| (0.0..=1.0).contains(&x),
            "a share between 0 and 1",
        );
        (v, at)
    };
    let (lower, _) = share(r, sink, "lower", 0.0);
    let (upper, at) = share(r, sink, "upper", 1.0);
    if lower > upper {
        sink.push(
            Diagnostic::error(
                at.unwrap_or_default(),
                format!("`upper` = {upper} is below `lower` = {lower}"),
            )
            .with_label("must be at least `lower`")
            .with_hint("`lower` and `upper` bound each child's share of a unit's score"),
        );
    }
    Aggregate::Bod { lower, upper }
}

/// Parses a screening method.
pub fn screen(v: &Spanned<DeValue<'_>>, sink: &mut Sink) -> Option<ScreenSpec> {
    let (m, mut r) = method_and_params(v, sink, "screen", SCREEN_METHODS)?;
    let share = |r: &mut Option<TableReader<'_, '_>>, sink: &mut Sink, key, default| {
        param(
            r,
            sink,
            key,
            default,
            |x| (0.0..=1.0).contains(&x),
            "a share between 0 and 1",
        )
    };
    let method = match m.value.as_str() {
        "byNA" => ScreenMethod::ByNa {
            min_availability: share(&mut r, sink, "min_availability", 0.5),
        },
        "byzeros" => ScreenMethod::ByZeros {
            min_nonzero: share(&mut r, sink, "min_nonzero", 0.05),
        },
        "both" => ScreenMethod::Both {
            min_availability: share(&mut r, sink, "min_availability", 0.5),
            min_nonzero: share(&mut r, sink, "min_nonzero", 0.05),
        },
        _ => ScreenMethod::None,
    };
    let mut list = |key| {
        r.as_mut()
            .and_then(|reader| reader.str_list(sink, key))
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.value)
            .collect::<Vec<_>>()
    };
    let force_in = list("force_in");
    let force_out = list("force_out");
    let after_impute = match r.as_mut().and_then(|reader| reader.str(sink, "stage")) {
        None => false,
        Some(s) if s.value == "before_impute" => false,
        Some(s) if s.value == "after_impute" => true,
        Some(s) => {
            sink.push(
                Diagnostic::error(
                    s.span,
                    "`stage` must be \"before_impute\" or \"after_impute\"",
                )
                .with_label("unknown stage")
                .with_hint_opt(did_you_mean(&s.value, ["before_impute", "after_impute"])),
            );
            false
        }
    };
    finish(r, sink);
    Some(ScreenSpec {
        method,
        force_in,
        force_out,
        after_impute,
    })
}

/// Parses a method given on the command line (`--normalize zscore`, `--aggregate geometric`) by
/// wrapping it as a TOML value, so that it is checked exactly like one in a file.
pub fn parse_cli(kind: &str, text: &str) -> Result<CliMethod, String> {
    let doc = format!("{kind} = {}", cli_value(text));
    let table =
        toml::de::DeTable::parse(&doc).map_err(|e| format!("--{kind} {text}: {}", e.message()))?;
    let Some(v) = table.get_ref().get(kind) else {
        return Err(format!("--{kind} {text}: no value"));
    };
    let mut sink = Sink::default();
    let out = match kind {
        "impute" => impute(v, &mut sink).map(CliMethod::Impute),
        "treat" => treat(v, &mut sink).map(CliMethod::Treat),
        "normalize" => normalise(v, &mut sink, Scope::Defaults).map(CliMethod::Normalise),
        "aggregate" => aggregate(v, &mut sink).map(CliMethod::Aggregate),
        "screen" => screen(v, &mut sink).map(CliMethod::Screen),
        _ => None,
    };
    match (out, sink.diags.first()) {
        (Some(m), None) => Ok(m),
        (_, Some(d)) => Err(format!(
            "--{kind} {text}: {}{}",
            d.message,
            d.hint
                .as_ref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        )),
        (None, None) => Err(format!("--{kind} {text}: not a method")),
    }
}

/// `zscore` → `"zscore"`; `{ method = "minmax", range = [1, 10] }` and arrays (an imputation
/// chain) stay as written.
fn cli_value(text: &str) -> String {
    let t = text.trim();
    if t.starts_with('{') || t.starts_with('"') || t.starts_with('[') {
        t.to_string()
    } else {
        format!("{t:?}")
    }
}

/// A method given on the command line.
#[derive(Clone, Debug, PartialEq)]
pub enum CliMethod {
    /// `--impute`.
    Impute(Impute),
    /// `--treat`.
    Treat(Treat),
    /// `--normalize`.
    Normalise(NormSpec),
    /// `--aggregate`.
    Aggregate(AggSpec),
    /// `--screen`.
    Screen(ScreenSpec),
}

/// The built-in default of each method kind, as it would be written.
pub fn builtin_default(kind: &str) -> &'static str {
    match kind {
        "normalize" => "{ method = \"minmax\", range = [0, 100] }",
        "aggregate" => "\"arithmetic\"",
        _ => "\"none\"",
    }
}

/// Applies `--set KIND.PARAM=VALUE` to a method written as `current` (a method name or an
/// inline table) and returns the new method text, e.g. `"zscore"` + `sd=10` →
/// `{ method = "zscore", sd = 10 }`. VALUE is a TOML value (`10`, `[1, 100]`, `"ln(100)"`); a
/// bare word is taken as a string.
pub fn set_param(current: &str, param: &str, value: &str) -> Result<String, String> {
    let parse = |text: &str| -> Option<toml::Value> {
        toml::from_str::<toml::Table>(&format!("v = {text}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
    };
    let bare = !current.trim_start().starts_with(['{', '[', '"', '\'']);
    let current = if bare {
        format!("{:?}", current.trim())
    } else {
        current.to_string()
    };
    let mut table = match parse(&current) {
        Some(toml::Value::Table(t)) => t,
        Some(toml::Value::String(name)) => {
            let mut t = toml::Table::new();
            t.insert("method".into(), toml::Value::String(name));
            t
        }
        Some(toml::Value::Array(_)) => {
            return Err(format!(
                "`{current}` is a chain of methods; --set changes a parameter of one method: write the whole chain with --impute '[...]'"
            ));
        }
        _ => return Err(format!("cannot read the method `{current}`")),
    };
    let value = parse(value).unwrap_or_else(|| toml::Value::String(value.to_string()));
    table.insert(param.to_string(), value);
    let items: Vec<String> = table.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    Ok(format!("{{ {} }}", items.join(", ")))
}

/// `--set KIND.method=VALUE`: the method of kind `kind` written as `current` switched to
/// `value`, keeping those of its parameters the new method takes too (`force_in` and `stage`
/// of a screen, say) and dropping the others (`min_availability` switching to `none`).
pub fn switch_method(kind: &str, current: &str, value: &str) -> Result<String, String> {
    let full = set_param(current, "method", value)?;
    let table: toml::Table = toml::from_str(&format!("v = {full}"))
        .ok()
        .and_then(|mut t: toml::Table| t.remove("v"))
        .and_then(|v| v.as_table().cloned())
        .ok_or_else(|| format!("cannot read the method `{full}`"))?;
    let text = |t: &toml::Table| {
        let items: Vec<String> = t.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        format!("{{ {} }}", items.join(", "))
    };
    let mut kept = toml::Table::new();
    kept.insert("method".into(), table["method"].clone());
    for (k, v) in table.iter().filter(|(k, _)| k.as_str() != "method") {
        let mut with = kept.clone();
        with.insert(k.clone(), v.clone());
        if parse_cli(kind, &text(&with)).is_ok() {
            kept = with;
        }
    }
    Ok(text(&kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switching_a_method_keeps_the_parameters_it_takes() {
        let now = "{ method = \"byNA\", min_availability = 0.9, stage = \"after_impute\", force_in = [\"A\"] }";
        let new = switch_method("screen", now, "none").unwrap();
        assert_eq!(
            new,
            "{ method = \"none\", stage = \"after_impute\", force_in = [\"A\"] }"
        );
        assert!(parse_cli("screen", &new).is_ok());
        // A parameter both take is kept.
        let z = switch_method(
            "normalize",
            "{ method = \"minmax\", range = [0, 100] }",
            "zscore",
        )
        .unwrap();
        assert_eq!(z, "{ method = \"zscore\" }");
    }

    #[test]
    fn bod_and_its_share_bounds() {
        let bod = |text: &str| match parse_cli("aggregate", text) {
            Ok(CliMethod::Aggregate(a)) => Ok(a.method),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        assert_eq!(
            bod("bod"),
            Ok(Aggregate::Bod {
                lower: 0.0,
                upper: 1.0
            })
        );
        assert_eq!(
            bod("{ method = \"bod\", lower = 0.05, upper = 0.5 }"),
            Ok(Aggregate::Bod {
                lower: 0.05,
                upper: 0.5
            })
        );
        let err = bod("{ method = \"bod\", lower = 0.5, upper = 0.2 }").unwrap_err();
        assert!(
            err.contains("`upper` = 0.2 is below `lower` = 0.5"),
            "{err}"
        );
        let err = bod("{ method = \"bod\", upper = 1.5 }").unwrap_err();
        assert!(err.contains("a share between 0 and 1"), "{err}");
        let err = bod("{ method = \"bod\", min_share = 0.5 }").unwrap_err();
        assert!(err.contains("`bod` takes no `min_share`"), "{err}");
        let err = bod("{ method = \"bod\", low_w = 0.1 }").unwrap_err();
        assert!(err.contains("low_w"), "{err}");
    }

    #[test]
    fn set_param_keeps_other_parameters() {
        assert_eq!(
            set_param("{ method = \"zscore\", mean = 100 }", "sd", "10").unwrap(),
            "{ method = \"zscore\", mean = 100, sd = 10 }"
        );
        assert_eq!(
            set_param("\"minmax\"", "range", "[1, 10]").unwrap(),
            "{ method = \"minmax\", range = [1, 10] }"
        );
        assert_eq!(
            set_param("\"generalised\"", "p", "2").unwrap(),
            "{ method = \"generalised\", p = 2 }"
        );
        let text = set_param(builtin_default("normalize"), "range", "[1,100]").unwrap();
        assert_eq!(
            parse_cli("normalize", &text).unwrap(),
            CliMethod::Normalise(NormSpec::per_period(Normalise::MinMax {
                lo: 1.0,
                hi: 100.0
            }))
        );
        assert!(
            parse_cli(
                "normalize",
                &set_param("\"minmax\"", "rnage", "[1, 2]").unwrap()
            )
            .unwrap_err()
            .contains("rnage")
        );
    }
}

//! Plain-language descriptions of the methods a framework uses, in Chinese or English, for the
//! report's methodology section and sheet.

use crate::framework::model::{AggSpec, NormSpec, ScreenSpec};
use crate::framework::{Framework, Lang};
use crate::pipeline::methods::{
    Aggregate, Direction, Ends, Impute, Normalise, Penalty, ScreenMethod, Treat,
};

/// A number as written in a framework: `100`, `0.5`, `2.25`.
pub fn num(x: f64) -> String {
    format!("{x}")
}

/// A share as a percentage: `0.65` → `65%`.
fn pct(x: f64) -> String {
    format!("{}%", num((x * 1e4).round() / 1e2))
}

/// Higher or lower is better.
pub fn direction(d: Direction, lang: Lang) -> &'static str {
    match (d, lang) {
        (Direction::Higher, Lang::Zh) => "正向（越高越好）",
        (Direction::Lower, Lang::Zh) => "逆向（越低越好）",
        (Direction::Higher, Lang::En) => "higher is better",
        (Direction::Lower, Lang::En) => "lower is better",
    }
}

/// Imputation of missing values.
pub fn impute(m: &Impute, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match m {
        Impute::None => {
            if zh {
                "不插补（缺失值保持缺失）"
            } else {
                "none (missing values stay missing)"
            }
        }
        Impute::Mean => {
            if zh {
                "均值插补"
            } else {
                "mean of the period"
            }
        }
        Impute::Median => {
            if zh {
                "中位数插补"
            } else {
                "median of the period"
            }
        }
        Impute::GroupMean => {
            if zh {
                "组内均值插补"
            } else {
                "mean of the unit's group"
            }
        }
        Impute::GroupMedian => {
            if zh {
                "组内中位数插补"
            } else {
                "median of the unit's group"
            }
        }
        Impute::CarryForward { max_periods, ends } => {
            let limit = match (max_periods, zh) {
                (Some(n), true) => format!("（最多向前 {n} 期）"),
                (Some(n), false) => format!(" (at most {n} period(s) back)"),
                (None, _) => String::new(),
            };
            let ends = match (ends, zh) {
                (Ends::Nearest, true) => "；序列开头的缺失用首个观测值",
                (Ends::Nearest, false) => "; gaps before the first observation take the first one",
                (Ends::None, _) => "",
            };
            return if zh {
                format!("沿用本单位最近一期观测值{limit}{ends}")
            } else {
                format!("the unit's latest earlier observed value carried forward{limit}{ends}")
            };
        }
        Impute::CarryBackward { max_periods } => {
            let limit = match (max_periods, zh) {
                (Some(n), true) => format!("（最多向后 {n} 期）"),
                (Some(n), false) => format!(" (at most {n} period(s) ahead)"),
                (None, _) => String::new(),
            };
            return if zh {
                format!("采用本单位其后最近一期观测值{limit}")
            } else {
                format!("the unit's next later observed value carried backward{limit}")
            };
        }
        Impute::Interpolate { ends } => match (ends, zh) {
            (Ends::None, true) => "按本单位前后两期观测值线性插值",
            (Ends::None, false) => {
                "linear interpolation in time between the unit's observed values before and after"
            }
            (Ends::Nearest, true) => "按本单位前后两期观测值线性插值，序列两端用最近观测值",
            (Ends::Nearest, false) => {
                "linear interpolation in time between the unit's observed values, the ends taking the nearest observation"
            }
        },
        Impute::Chain(steps) => {
            let parts: Vec<String> = steps.iter().map(|s| impute(s, lang)).collect();
            return parts.join(if zh { "；否则" } else { "; else " });
        }
    }
    .into()
}

/// Outlier treatment.
pub fn treat(m: &Treat, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match m {
        Treat::None => if zh { "不处理" } else { "none" }.into(),
        Treat::Winsorise {
            winmax,
            skew,
            kurt,
            log_fallback,
        } => {
            let (skew, kurt) = (num(*skew), num(*kurt));
            match (zh, log_fallback) {
                (true, true) => format!(
                    "缩尾处理：至多 {winmax} 个点，直至 |偏度| < {skew} 或 峰度 < {kurt}；仍不满足时改为对数变换"
                ),
                (true, false) => {
                    format!("缩尾处理：至多 {winmax} 个点，直至 |偏度| < {skew} 或 峰度 < {kurt}")
                }
                (false, true) => format!(
                    "winsorise up to {winmax} points until |skew| < {skew} or kurtosis < {kurt}; log transform if that fails"
                ),
                (false, false) => format!(
                    "winsorise up to {winmax} points until |skew| < {skew} or kurtosis < {kurt}"
                ),
            }
        }
        Treat::Log => if zh {
            "自然对数变换 ln(x)"
        } else {
            "natural log ln(x)"
        }
        .into(),
        Treat::LogCt => if zh {
            "对数变换 ln(x − 最小值 + 0.01·(最大值 − 最小值))"
        } else {
            "log transform ln(x − min + 0.01·(max − min)) (COINr log_CT)"
        }
        .into(),
    }
}

/// Normalisation of an indicator.
pub fn normalise(spec: &NormSpec, lang: Lang) -> String {
    let method = normalise_method(spec, lang);
    let zh = lang == Lang::Zh;
    let capped = spec.outside == crate::framework::Outside::Cap;
    let beyond = match (zh, capped) {
        (true, true) => "超出者按上下限计",
        (true, false) => "超出者按同一标尺延伸",
        (false, true) => "values beyond capped",
        (false, false) => "values beyond extended",
    };
    match (&spec.over, zh) {
        (crate::framework::Over::Period, _) => method,
        (crate::framework::Over::Panel, true) => format!("{method}，上下限取自全部期间"),
        (crate::framework::Over::Panel, false) => format!("{method}, bounds over every period"),
        (crate::framework::Over::Base { first, last }, _) => {
            let base = if first == last {
                first.clone()
            } else {
                format!("{first}..{last}")
            };
            if zh {
                format!("{method}，上下限取自基期 {base}（{beyond}）")
            } else {
                format!("{method}, bounds from the base {base} ({beyond})")
            }
        }
        (crate::framework::Over::Frozen(_), true) => format!("{method}，上下限固定（{beyond}）"),
        (crate::framework::Over::Frozen(_), false) => {
            format!("{method}, frozen bounds ({beyond})")
        }
    }
}

/// The method part of [`normalise`].
fn normalise_method(spec: &NormSpec, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match &spec.method {
        Normalise::None => if zh {
            "不标准化（仅按方向取号）"
        } else {
            "none (direction sign only)"
        }
        .into(),
        Normalise::MinMax { lo, hi } => {
            let (lo, hi) = (num(*lo), num(*hi));
            if zh {
                format!("极差标准化至 [{lo}, {hi}]")
            } else {
                format!("min-max to [{lo}, {hi}]")
            }
        }
        Normalise::ZScore { mean, sd } => {
            let (mean, sd) = (num(*mean), num(*sd));
            if zh {
                format!("Z 分数标准化（均值 {mean}，标准差 {sd}）")
            } else {
                format!("z-score (mean {mean}, sd {sd})")
            }
        }
        Normalise::Scaled { a, b, factor } => {
            let (a, b, f) = (num(*a), num(*b), num(*factor));
            if zh {
                format!("线性缩放 (x − {a}) / ({b} − {a}) × {f}")
            } else {
                format!("scaled (x − {a}) / ({b} − {a}) × {f}")
            }
        }
        Normalise::Rank => if zh {
            "名次（最优者得 n）"
        } else {
            "rank (the best unit gets n)"
        }
        .into(),
        Normalise::Borda => if zh {
            "Borda 计分（名次 − 1）"
        } else {
            "Borda score (rank − 1)"
        }
        .into(),
        Normalise::PercentRank => if zh {
            "百分位名次"
        } else {
            "percent rank"
        }
        .into(),
        Normalise::Goalposts {
            min,
            max,
            scale,
            cap,
        } => {
            let (min, max, scale) = (num(*min), num(*max), num(*scale));
            match (zh, cap) {
                (true, true) => {
                    format!("阈值法（下限 {min}，上限 {max}，截断至 [0, 1]，× {scale}）")
                }
                (true, false) => format!("阈值法（下限 {min}，上限 {max}，× {scale}）"),
                (false, true) => {
                    format!("goalposts (min {min}, max {max}, capped to [0, 1], × {scale})")
                }
                (false, false) => format!("goalposts (min {min}, max {max}, × {scale})"),
            }
        }
        Normalise::Dist2Max => if zh {
            "与最大值的距离"
        } else {
            "distance to the maximum"
        }
        .into(),
        Normalise::Dist2Ref { .. } => {
            let r = spec.reference.as_deref().unwrap_or("?");
            if zh {
                format!("与参照单位 {r} 的距离")
            } else {
                format!("distance to reference unit {r}")
            }
        }
        Normalise::Dist2Targ { target, cap } => {
            let t = num(*target);
            match (zh, cap) {
                (true, true) => format!("与目标值 {t} 的距离（超过目标记为 1）"),
                (true, false) => format!("与目标值 {t} 的距离"),
                (false, true) => format!("distance to target {t} (capped at 1)"),
                (false, false) => format!("distance to target {t}"),
            }
        }
        Normalise::FracMax => if zh {
            "占最优值的比例"
        } else {
            "fraction of the best value"
        }
        .into(),
    }
}

/// How node `node` of `fw` gets its score, in words: its aggregation, or its formula written
/// with the children's names (`formula: Human Development Index (female) ÷ …`), and whether
/// lower is better.
pub fn node_score(fw: &Framework, node: usize, lang: Lang) -> String {
    let n = &fw.nodes[node];
    let mut s = match n.formula() {
        Some(f) => {
            let names = |k: usize| fw.nodes[n.children[k]].name.get(lang).to_string();
            match lang {
                Lang::Zh => format!("公式：{}", f.render(&names)),
                Lang::En => format!("formula: {}", f.render(&names)),
            }
        }
        None => aggregate(&fw.aggregate_of(n), lang),
    };
    if n.lower_is_better {
        s.push_str(match lang {
            Lang::Zh => "；越低越好，由低到高排名",
            Lang::En => "; lower is better, ranked lowest first",
        });
    }
    s
}

/// Aggregation of a node's children.
pub fn aggregate(spec: &AggSpec, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let pen = |p: &Penalty| match p {
        Penalty::Negative => "MPI⁻",
        Penalty::Positive => "MPI⁺",
    };
    let mut s: String = match &spec.method {
        Aggregate::Arithmetic => if zh {
            "加权算术平均"
        } else {
            "weighted arithmetic mean"
        }
        .into(),
        Aggregate::Geometric => if zh {
            "加权几何平均"
        } else {
            "weighted geometric mean"
        }
        .into(),
        Aggregate::Harmonic => if zh {
            "加权调和平均"
        } else {
            "weighted harmonic mean"
        }
        .into(),
        Aggregate::Generalised { p } => {
            if zh {
                format!("加权幂平均（p = {}）", num(*p))
            } else {
                format!("weighted power mean (p = {})", num(*p))
            }
        }
        Aggregate::Copeland => if zh {
            "Copeland 两两比较计分"
        } else {
            "Copeland pairwise score"
        }
        .into(),
        Aggregate::Mpi { penalty } => {
            if zh {
                format!("Mazziotta–Pareto 指数（{}）", pen(penalty))
            } else {
                format!("Mazziotta–Pareto index ({})", pen(penalty))
            }
        }
        Aggregate::Ampi { penalty } => {
            if zh {
                format!("调整 Mazziotta–Pareto 指数（{}）", pen(penalty))
            } else {
                format!("adjusted Mazziotta–Pareto index ({})", pen(penalty))
            }
        }
        // Written out with the children's names by `formula` below.
        Aggregate::Formula(f) => {
            return if zh {
                format!("公式 {}", f.text)
            } else {
                format!("formula {}", f.text)
            };
        }
        Aggregate::Bod { lower, upper } => {
            let bounds = *lower > 0.0 || *upper < 1.0;
            match (zh, bounds) {
                (true, false) => "“有利假设”（BoD）：每个单位取对自己最有利的权重".into(),
                (false, false) => {
                    "benefit of the doubt: each unit scored with the weights most favourable to it"
                        .into()
                }
                (true, true) => format!(
                    "“有利假设”（BoD）：每个单位取对自己最有利的权重，每个子项占得分的 {}–{}",
                    pct(*lower),
                    pct(*upper)
                ),
                (false, true) => format!(
                    "benefit of the doubt: each unit scored with the weights most favourable to it, each child taking {}–{} of its score",
                    pct(*lower),
                    pct(*upper)
                ),
            }
        }
    };
    if spec.min_share > 0.0 {
        if zh {
            s.push_str(&format!("；至少 {} 的子项有值", pct(spec.min_share)));
        } else {
            s.push_str(&format!(
                "; needs at least {} of the children",
                pct(spec.min_share)
            ));
        }
    }
    s
}

/// Unit screening.
pub fn screen(spec: &ScreenSpec, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    let mut s: String = match &spec.method {
        ScreenMethod::None => if zh {
            "不筛除单位"
        } else {
            "no unit is screened out"
        }
        .into(),
        ScreenMethod::ByNa { min_availability } => {
            if zh {
                format!("数据可得率不低于 {} 的单位参与评价", pct(*min_availability))
            } else {
                format!(
                    "units with at least {} of their indicators present are scored",
                    pct(*min_availability)
                )
            }
        }
        ScreenMethod::ByZeros { min_nonzero } => {
            if zh {
                format!("非零值占比不低于 {} 的单位参与评价", pct(*min_nonzero))
            } else {
                format!(
                    "units with at least {} non-zero values are scored",
                    pct(*min_nonzero)
                )
            }
        }
        ScreenMethod::Both {
            min_availability,
            min_nonzero,
        } => {
            if zh {
                format!(
                    "数据可得率不低于 {} 且非零值占比不低于 {} 的单位参与评价",
                    pct(*min_availability),
                    pct(*min_nonzero)
                )
            } else {
                format!(
                    "units with at least {} of their indicators present and {} non-zero values are scored",
                    pct(*min_availability),
                    pct(*min_nonzero)
                )
            }
        }
    };
    if spec.after_impute {
        s.push_str(if zh {
            "（按插补后的数据筛选）"
        } else {
            " (screened after imputation)"
        });
    }
    if !spec.force_in.is_empty() {
        let list = spec.force_in.join(", ");
        s.push_str(&if zh {
            format!("；始终纳入：{list}")
        } else {
            format!("; always kept: {list}")
        });
    }
    if !spec.force_out.is_empty() {
        let list = spec.force_out.join(", ");
        s.push_str(&if zh {
            format!("；始终排除：{list}")
        } else {
            format!("; always excluded: {list}")
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_methods_read_as_written() {
        assert_eq!(num(100.0), "100");
        assert_eq!(num(0.5), "0.5");
        let spec = NormSpec::per_period(Normalise::MinMax { lo: 0.0, hi: 100.0 });
        assert_eq!(normalise(&spec, Lang::Zh), "极差标准化至 [0, 100]");
        assert_eq!(normalise(&spec, Lang::En), "min-max to [0, 100]");
        let agg = AggSpec {
            method: Aggregate::Generalised { p: 2.0 },
            min_share: 0.5,
        };
        assert_eq!(
            aggregate(&agg, Lang::En),
            "weighted power mean (p = 2); needs at least 50% of the children"
        );
        assert_eq!(
            treat(&Treat::coinr_default(), Lang::Zh),
            "缩尾处理：至多 5 个点，直至 |偏度| < 2 或 峰度 < 3.5；仍不满足时改为对数变换"
        );
    }
}

//! Properties of the whole pipeline on random panels (proptest).

use ndarray::{Array2, Array3};
use proptest::prelude::*;

use kapok::framework::{Framework, SourceFile, Text, check};
use kapok::{Panel, evaluate};

const TOML: &str = r#"
[index]
id = "idx"
name = { zh = "指数", en = "Index" }
aggregate = "AGG"
[units]
key = "code"
[[source]]
name = "d"
path = "d.csv"
[[dimension]]
id = "a"
name = { zh = "甲", en = "A" }
weight = WA
[[dimension]]
id = "b"
name = { zh = "乙", en = "B" }
weight = WB
[[indicator]]
id = "x1"
name = { zh = "x1", en = "x1" }
parent = "a"
direction = "higher"
weight = W1
[[indicator]]
id = "x2"
name = { zh = "x2", en = "x2" }
parent = "a"
direction = "lower"
weight = W2
[[indicator]]
id = "x3"
name = { zh = "x3", en = "x3" }
parent = "b"
direction = "higher"
"#;

fn framework(agg: &str, w: [f64; 4]) -> Framework {
    let text = TOML
        .replace("AGG", agg)
        .replace("WA", &w[0].to_string())
        .replace("WB", &w[1].to_string())
        .replace("W1", &w[2].to_string())
        .replace("W2", &w[3].to_string());
    check(
        SourceFile::new("prop.toml", text),
        std::path::Path::new("."),
    )
    .unwrap()
}

fn panel(fw: &Framework, values: &[[f64; 3]], order: &[usize]) -> Panel {
    let n = values.len();
    let mut v = Array3::from_elem((1, n, 3), f64::NAN);
    for (row, &u) in order.iter().enumerate() {
        for j in 0..3 {
            v[[0, row, j]] = values[u][j];
        }
    }
    Panel {
        units: order.iter().map(|u| format!("u{u}")).collect(),
        names: order
            .iter()
            .map(|u| Text::same(format!("unit {u}")))
            .collect(),
        groups: None,
        group_names: None,
        periods: vec![String::new()],
        indicators: fw.indicators(),
        values: v,
        present: Array2::from_elem((1, n), true),
        ranked: None,
    }
}

/// Index score per unit key.
fn index_by_unit(fw: &Framework, p: Panel) -> Option<Vec<(String, f64, u32)>> {
    let r = evaluate(fw, p).ok()?;
    let mut out: Vec<_> = (0..r.panel.units.len())
        .map(|u| {
            (
                r.panel.units[u].clone(),
                r.scores[[0, u, 0]],
                r.rank(0, u, 0),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

fn values() -> impl Strategy<Value = Vec<[f64; 3]>> {
    prop::collection::vec(prop::array::uniform3(1.0f64..100.0), 3..12)
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shuffling_units_changes_no_score(vals in values(), seed in any::<u64>(), agg in prop::sample::select(vec!["arithmetic", "geometric", "harmonic"])) {
        let fw = framework(agg, [1.0, 1.0, 1.0, 1.0]);
        let n = vals.len();
        let mut order: Vec<usize> = (0..n).collect();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        let a = index_by_unit(&fw, panel(&fw, &vals, &(0..n).collect::<Vec<_>>()));
        let b = index_by_unit(&fw, panel(&fw, &vals, &order));
        match (a, b) {
            (Some(a), Some(b)) => for (x, y) in a.iter().zip(&b) {
                prop_assert_eq!(&x.0, &y.0);
                prop_assert!(close(x.1, y.1));
                prop_assert_eq!(x.2, y.2);
            },
            (None, None) => {}
            _ => prop_assert!(false, "one order failed and the other did not"),
        }
    }

    #[test]
    fn improving_a_higher_is_better_value_never_lowers_the_index(vals in values(), pick in any::<prop::sample::Index>(), gain in 0.0f64..50.0) {
        let fw = framework("arithmetic", [1.0, 2.0, 1.0, 3.0]);
        let n = vals.len();
        let u = pick.index(n);
        let order: Vec<usize> = (0..n).collect();
        let mut better = vals.clone();
        better[u][0] += gain; // x1 is higher-is-better
        let mut worse_lower = vals.clone();
        worse_lower[u][1] -= gain.min(vals[u][1] - 0.5); // x2 is lower-is-better: less is better
        let base = index_by_unit(&fw, panel(&fw, &vals, &order));
        prop_assume!(base.is_some());
        let key = format!("u{u}");
        let of = |v: &[(String, f64, u32)]| v.iter().find(|r| r.0 == key).map(|r| r.1).unwrap();
        let before = of(&base.unwrap());
        for changed in [better, worse_lower] {
            if let Some(after) = index_by_unit(&fw, panel(&fw, &changed, &order)) {
                prop_assert!(of(&after) >= before - 1e-9, "{} → {}", before, of(&after));
            }
        }
    }

    #[test]
    fn scaling_weights_within_a_node_changes_nothing(vals in values(), c in 0.01f64..100.0, agg in prop::sample::select(vec!["arithmetic", "geometric"])) {
        let fw1 = framework(agg, [1.0, 2.0, 1.0, 3.0]);
        let fw2 = framework(agg, [c, 2.0 * c, 1.0 * c, 3.0 * c]);
        let order: Vec<usize> = (0..vals.len()).collect();
        let a = index_by_unit(&fw1, panel(&fw1, &vals, &order));
        let b = index_by_unit(&fw2, panel(&fw2, &vals, &order));
        match (a, b) {
            (Some(a), Some(b)) => for (x, y) in a.iter().zip(&b) {
                prop_assert!(close(x.1, y.1), "{} vs {}", x.1, y.1);
                prop_assert_eq!(x.2, y.2);
            },
            (None, None) => {}
            _ => prop_assert!(false, "one weighting failed and the other did not"),
        }
    }

    #[test]
    fn ranks_are_one_to_n_with_ties_at_the_minimum(vals in prop::collection::vec(prop::array::uniform3(prop::sample::select(vec![1.0, 2.0, 3.0, 5.0])), 3..12)) {
        let fw = framework("arithmetic", [1.0, 1.0, 1.0, 1.0]);
        let order: Vec<usize> = (0..vals.len()).collect();
        if let Ok(r) = evaluate(&fw, panel(&fw, &vals, &order)) {
            for node in 0..fw.nodes.len() {
                let s: Vec<f64> = (0..vals.len()).map(|u| r.scores[[0, u, node]]).collect();
                for u in 0..vals.len() {
                    let better = s.iter().filter(|&&v| v > s[u]).count() as u32;
                    prop_assert_eq!(r.rank(0, u, node), better + 1);
                }
            }
        }
    }
}

proptest! {
    /// Every way a department writes a month means that month; the canonical text reads back
    /// as the same period and sorts like the calendar.
    #[test]
    fn every_written_form_of_a_month_is_that_month(year in 1000i32..=9999, month in 1u32..=12, day in 1u32..=28, other in 0i64..240) {
        use kapok::period::Period;
        let p = Period::month(year, month).unwrap();
        let forms = [
            format!("{year}-{month:02}"),
            format!("{year}-{month}"),
            format!("{year}/{month}"),
            format!("{year}.{month}"),
            format!("{year}{month:02}"),
            format!("{year}年{month}月"),
            format!("{year}M{month:02}"),
            format!("{year}-{month:02}-{day:02}"),
            format!(" {year}/{month}/{day} "),
        ];
        for f in &forms {
            prop_assert_eq!(Period::parse(f), Ok(p), "{}", f);
        }
        prop_assert_eq!(Period::parse(&p.to_string()), Ok(p));
        let q = p.offset(other - 120);
        if let Some(q) = q {
            prop_assert_eq!(q.cmp(&p), q.to_string().cmp(&p.to_string()));
            prop_assert_eq!(p.steps_to(q), Some(other - 120));
        } else {
            prop_assert!(!(1000..=9999).contains(&(year + ((month as i64 - 1 + other - 120).div_euclid(12)) as i32)));
        }
    }
}

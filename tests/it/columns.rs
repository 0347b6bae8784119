//! `kapok score --columns … --nodes …`: the columns chosen are exactly those asked for, in the
//! full table's order, with the full table's values; unknown names are usage errors.

use std::path::Path;

use super::util::{Csv, kapok, tempdir, texts};

const STREETS: &str = "indicators/hongmian-streets.toml";

/// Runs `kapok score FRAMEWORK -o OUT extra…` and reads the CSV written.
fn score(framework: &str, out: &Path, extra: &[&str]) -> Csv {
    let mut args = vec!["score", framework, "-o", out.to_str().unwrap()];
    args.extend(extra);
    let run = kapok(&args);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{extra:?}: {err}");
    Csv::read(out)
}

/// Checks that `part` holds exactly the columns `want` (in that order) and that each equals
/// the full table's column of that name, row for row.
fn same_as_full(full: &Csv, part: &Csv, want: &[&str], what: &str) {
    assert_eq!(part.header, want, "{what}: columns");
    assert_eq!(part.rows.len(), full.rows.len(), "{what}: rows");
    for (c, name) in want.iter().enumerate() {
        let f = full.col(name);
        for (pr, fr) in part.rows.iter().zip(&full.rows) {
            assert_eq!(pr[c], fr[f], "{what}: column {name}");
        }
    }
}

#[test]
fn chosen_columns_are_those_of_the_full_table() {
    let dir = tempdir();
    let full = score(STREETS, &dir.path().join("full.csv"), &[]);
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--columns", "index"],
            vec![
                "unit",
                "period",
                "score.hongmian_streets",
                "rank.hongmian_streets",
            ],
        ),
        (
            // Order of the full table, whatever the order typed; repeated and comma-separated.
            vec![
                "--columns",
                "rank,group",
                "--columns",
                "score",
                "--nodes",
                "public_safety,hongmian_streets",
            ],
            vec![
                "unit",
                "period",
                "group",
                "score.hongmian_streets",
                "rank.hongmian_streets",
                "score.public_safety",
                "rank.public_safety",
            ],
        ),
        (
            vec![
                "--columns",
                "name,raw,trend,group_rank",
                "--nodes",
                "theft_rate,public_safety",
            ],
            vec![
                "unit",
                "name",
                "period",
                "group_rank.public_safety",
                "raw.theft_rate",
                "trend.public_safety",
            ],
        ),
    ];
    for (i, (args, want)) in cases.iter().enumerate() {
        let part = score(STREETS, &dir.path().join(format!("part{i}.csv")), args);
        same_as_full(&full, &part, want, &format!("{args:?}"));
    }
    // --nodes alone: every column of that node, and the key columns.
    let part = score(
        STREETS,
        &dir.path().join("node.csv"),
        &["--nodes", "public_safety"],
    );
    let want: Vec<&str> = full
        .header
        .iter()
        .map(String::as_str)
        .filter(|h| {
            ["unit", "name", "period", "group"].contains(h) || h.ends_with(".public_safety")
        })
        .collect();
    assert!(want.len() > 10, "{want:?}");
    same_as_full(&full, &part, &want, "--nodes public_safety");
    // --columns all is the default table, byte for byte.
    let all = dir.path().join("all.csv");
    score(STREETS, &all, &["--columns", "all"]);
    assert_eq!(
        std::fs::read(&all).unwrap(),
        std::fs::read(dir.path().join("full.csv")).unwrap()
    );
}

#[test]
fn unknown_or_impossible_choices_are_usage_errors() {
    let dir = tempdir();
    let out = dir.path().join("x.csv");
    let o = out.to_str().unwrap();
    for (args, expect) in [
        (
            vec!["--columns", "scor"],
            "--columns scor: no such kind of column (did you mean `score`?)",
        ),
        (
            vec!["--nodes", "public_safty"],
            "--nodes public_safty: no node has the id `public_safty` (did you mean `public_safety`?)",
        ),
        (
            vec!["--columns", "index", "--nodes", "public_safety"],
            "use --columns score,rank --nodes",
        ),
        (
            vec!["--columns", "raw", "--nodes", "public_safety"],
            "--columns raw: writes no column here: raw.<id> is written for indicators, and the nodes chosen (public_safety) have none",
        ),
        (
            vec!["--columns", "score", "--stage", "treated"],
            "cannot be used with",
        ),
    ] {
        let mut a = vec!["score", STREETS, "-o", o];
        a.extend(&args);
        let run = kapok(&a);
        let (_, err) = texts(&run);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        // Refused before the data are read and scored (which warn about this sample).
        assert!(!err.contains("warning:"), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
    // Without -o there is nothing to choose columns of.
    let run = kapok(&["score", STREETS, "--columns", "index"]);
    assert_eq!(run.status.code(), Some(2));
    // A framework without groups has no group column to choose.
    let run = kapok(&[
        "score",
        "indicators/hongmian.toml",
        "-o",
        o,
        "--columns",
        "score,group",
    ]);
    let (_, err) = texts(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--columns group: writes no column here: the framework has no groups"),
        "{err}"
    );
    assert!(!out.exists());
}

/// Reads a Parquet file into one batch.
fn read_parquet(path: &Path) -> datafusion::arrow::array::RecordBatch {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let b = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    let schema = b.schema().clone();
    let batches: Vec<_> = b.build().unwrap().map(Result::unwrap).collect();
    datafusion::arrow::compute::concat_batches(&schema, &batches).unwrap()
}

#[test]
fn parquet_written_a_period_at_a_time_is_the_full_table() {
    let fw = kapok::load(&super::util::root().join(STREETS)).unwrap();
    let (r, _) = kapok::score(&fw, None).unwrap();
    let want = r.to_batch(&fw, None).unwrap();
    let dir = tempdir();
    let full = dir.path().join("full.parquet");
    let idx = dir.path().join("idx.parquet");
    for (out, extra) in [(&full, &[][..]), (&idx, &["--columns", "index"][..])] {
        let mut args = vec!["score", STREETS, "-o", out.to_str().unwrap()];
        args.extend(extra);
        let run = kapok(&args);
        assert_eq!(run.status.code(), Some(0), "{}", texts(&run).1);
    }
    assert_eq!(read_parquet(&full), want);
    let schema = want.schema();
    let cols: Vec<usize> = [
        "unit",
        "period",
        "score.hongmian_streets",
        "rank.hongmian_streets",
    ]
    .iter()
    .map(|c| schema.index_of(c).unwrap())
    .collect();
    assert_eq!(read_parquet(&idx), want.project(&cols).unwrap());
}

/// The tables of `sel`, written as the run scores each period ([`kapok::evaluate_streaming`]),
/// and built from the whole run's results; and the two runs' results, for the nodes the
/// streaming run keeps.
///
/// `from` is the panel bound whole, with the data stage's warnings, or `None`: a
/// [`kapok::Scoring`] of the framework's data, which binds each period's values as the run
/// scores the periods before it when the framework's every step works on one period (or,
/// rows interleaving the periods, binds values of more than `spill_above` bytes into a
/// temporary file, read back a period at a time).
fn streamed_and_whole(
    fw: &kapok::Framework,
    sel: &kapok::columns::Selection,
    from: Result<(kapok::Panel, Vec<kapok::Warning>), usize>,
    (whole, whole_warnings): &(kapok::Results, Vec<kapok::Warning>),
    binds: &mut Vec<bool>,
) {
    use datafusion::arrow::compute::concat_batches;
    use kapok::columns::Table;
    let what = &fw.index().id;
    let table = Table::new(fw, &whole.panel, sel).unwrap();
    let want: Vec<_> = table.batches(whole, None).map(Result::unwrap).collect();
    let want = concat_batches(&table.schema(), &want).unwrap();
    let np = whole.panel.periods.len();
    let kept = sel.streamed_nodes(fw);
    let mut got = Vec::new();
    let mut order = Vec::new();
    let keep = kapok::Keep::Nodes(kept.clone());
    let each = |m: &kapok::evaluate::Merged| -> kapok::Result<()> {
        order.push(m.p);
        got.push(table.merged_batch(m)?);
        Ok(())
    };
    let (streamed, warnings) = match from {
        Ok((panel, mut warnings)) => {
            let r = kapok::evaluate_streaming(fw, panel, keep, sel.handed_nodes(), each).unwrap();
            warnings.extend(r.warnings());
            (r, warnings)
        }
        Err(spill_above) => {
            let scoring = kapok::Scoring::open_spilling(fw, None, spill_above).unwrap();
            // Bound a period at a time, the panel holds no values; only a framework of
            // per-period steps is.
            let bound = scoring.binds_periods();
            assert_eq!(scoring.panel().values.dim().2 == 0, bound, "{what}");
            assert!(!bound || kapok::evaluate::streams_periods(fw), "{what}");
            binds.push(bound);
            assert_eq!(scoring.panel().units, whole.panel.units, "{what}: units");
            assert_eq!(scoring.panel().names, whole.panel.names, "{what}: names");
            scoring.evaluate(keep, sel.handed_nodes(), each).unwrap()
        }
    };
    assert_eq!(
        order,
        (0..np).collect::<Vec<_>>(),
        "{what}: periods in order"
    );
    let got = concat_batches(&table.schema(), &got).unwrap();
    assert_eq!(got.num_rows(), want.num_rows(), "{what}");
    for (i, f) in table.schema().fields().iter().enumerate() {
        assert_eq!(got.column(i), want.column(i), "{what}: column {}", f.name());
    }
    // The results keep the index (and, with trend columns, the dimensions): the same scores,
    // to the bit, and ranks; and the same warnings.
    for &n in &kept {
        let bits = |r: &kapok::Results| -> Vec<u64> {
            r.scores.node(n).iter().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(&streamed), bits(whole), "{what}: scores of node {n}");
        assert_eq!(
            streamed.node_ranks(n),
            whole.node_ranks(n),
            "{what}: ranks of {n}"
        );
    }
    // And no other node's scores over the panel.
    for n in (0..fw.nodes.len()).filter(|n| !kept.contains(n)) {
        assert!(!streamed.scores.is_kept(n), "{what}: node {n} kept");
    }
    assert_eq!(streamed.status, whole.status, "{what}");
    assert_eq!(&warnings, whole_warnings, "{what}");
}

#[test]
fn a_table_written_as_the_run_scores_is_the_table_of_the_whole_run() {
    use kapok::columns::Selection;
    let root = super::util::root();
    let mut frameworks: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("indicators"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    frameworks.sort();
    // Base bounds (two passes), groups, `[rank] only`, one period and many: the shipped
    // frameworks. Imputation from other periods, ranks on rounded scores, groups: a small
    // panel of its own.
    assert!(frameworks.len() >= 6, "{frameworks:?}");
    let dir = tempdir();
    std::fs::write(
        dir.path().join("monthly.csv"),
        "code,month,g,x,y\na,2023-01,g1,10,1\nb,2023-01,g1,20,2\nc,2023-01,g2,30,3\n\
         a,2023-02,g1,,4\nb,2023-02,g1,22,5\nc,2023-02,g2,33,-6\nc,2023-03,g2,36,7\n\
         a,2023-03,g1,,8\nb,2023-04,g1,24.04,9\na,2023-04,g1,24.01,9\nc,2023-04,g2,,9\n",
    )
    .unwrap();
    let head = "group = \"g\"\n[defaults]\nimpute = { method = \"carry_forward\", max_periods = 1 }\n\
                normalize = \"none\"\n[rank]\ndigits = 1";
    std::fs::write(
        dir.path().join("f.toml"),
        two_indicators(head, "monthly.csv", "lower"),
    )
    .unwrap();
    frameworks.push(dir.path().join("f.toml"));
    let mut binds = Vec::new();
    for path in &frameworks {
        let fw = kapok::load(path).unwrap();
        let read = kapok::read_panel(&fw, None).unwrap();
        let whole = kapok::score(&fw, None).unwrap();
        let index: Vec<String> = vec!["index".into()];
        // Every column of the index's first child: the period hands on one node.
        let child = vec![fw.nodes[fw.nodes[0].children[0]].id.clone()];
        for sel in [
            Selection::all(),
            Selection::parse(&fw, &index, &[]).unwrap(),
            Selection::parse(&fw, &[], &child).unwrap(),
        ] {
            streamed_and_whole(&fw, &sel, Ok(read.clone()), &whole, &mut binds);
            streamed_and_whole(&fw, &sel, Err(usize::MAX), &whole, &mut binds);
            let mut spilled = Vec::new();
            streamed_and_whole(&fw, &sel, Err(0), &whole, &mut spilled);
            // What was bound as it came still is; what was bound whole may be bound into a
            // file (a framework of per-period steps over more than one period).
            assert!(spilled[0] >= binds[binds.len() - 1], "{}", path.display());
        }
    }
}

#[test]
fn periods_bound_as_their_rows_come_are_scored_as_the_whole_panel() {
    use kapok::columns::Selection;
    // Per-period steps only (median imputation, min-max), so each period's values are bound
    // as its rows come and scored while later rows are read. Unit c has no row in 2023-02,
    // its name only from 2023-03 on, and is outside `[rank] only` in 2023-01; b's name
    // changes (the earliest is kept); groups; raw values written.
    let rows = [
        "a,Alpha,2023-01,g1,10,1,1",
        "b,Beta,2023-01,g1,20,2,1",
        "c,,2023-01,g2,30,3,0",
        "a,Alpha,2023-02,g1,,4,1",
        "b,Beta2,2023-02,g1,22,5,1",
        "d,,2023-02,g2,5,9,1",
        "a,Alpha,2023-03,g1,11,5,1",
        "b,,2023-03,g1,24,6,1",
        "c,Gamma,2023-03,g2,,6,1",
        "d,Delta,2023-03,g2,5,9,1",
        "a,Alpha,2023-04,g1,12,5,1",
        "c,Gamma,2023-04,g2,13,7,1",
        "d,Delta,2023-04,g2,14,1,1",
    ];
    let head = "name = \"name\"\ngroup = \"g\"\n[defaults]\nimpute = \"median\"\n\
                normalize = { method = \"minmax\", range = [0, 100] }\n[rank]\nonly = \"ok = 1\"";
    let dir = tempdir();
    std::fs::write(
        dir.path().join("f.toml"),
        two_indicators(head, "monthly.csv", "lower"),
    )
    .unwrap();
    // The rows in file order, reversed (every period completes last first) and shuffled.
    let mut interleaved = false;
    let mut terminal: Option<Vec<(String, String)>> = None;
    let mut orders: Vec<Vec<usize>> = vec![(0..rows.len()).collect()];
    orders.push((0..rows.len()).rev().collect());
    let mut state = 7u64;
    for _ in 0..4 {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        for i in (1..order.len()).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (state >> 33) as usize % (i + 1));
        }
        orders.push(order);
    }
    for (o, order) in orders.into_iter().enumerate() {
        let mut csv = String::from("code,name,month,g,x,y,ok\n");
        for &r in &order {
            csv.push_str(rows[r]);
            csv.push('\n');
        }
        std::fs::write(dir.path().join("monthly.csv"), csv).unwrap();
        let fw = kapok::load(&dir.path().join("f.toml")).unwrap();
        assert!(kapok::evaluate::streams_periods(&fw));
        let whole = kapok::score(&fw, None).unwrap();
        let index: Vec<String> = vec!["index".into()];
        let mut binds = Vec::new();
        for sel in [
            Selection::all(),
            Selection::parse(&fw, &index, &[]).unwrap(),
        ] {
            streamed_and_whole(&fw, &sel, Err(usize::MAX), &whole, &mut binds);
            // Bound into a temporary file when they interleave the periods: the panel holds no
            // values either way.
            let mut spilled = Vec::new();
            streamed_and_whole(&fw, &sel, Err(0), &whole, &mut spilled);
            assert_eq!(spilled, [true], "order {order:?}");
        }
        // The terminal's ranking and `kapok rank`, bound either way, print the same.
        let f = dir.path().join("f.toml");
        let f = f.to_str().unwrap();
        let commands = [
            vec!["score", f],
            vec!["rank", f],
            vec!["rank", f, "--period", "2023-03"],
        ];
        let printed: Vec<(String, String)> = commands
            .iter()
            .map(|args| {
                let run = kapok(args);
                assert_eq!(run.status.code(), Some(0), "{args:?}");
                texts(&run)
            })
            .collect();
        // Every panel above 0 bytes bound into a temporary file, or, with no temporary
        // directory to write it in, into memory: the same ranking and table.
        let table = dir.path().join("t.csv");
        let t = table.to_str().unwrap();
        for env in [vec![], vec![("TMPDIR", "/nonexistent-kapok-tmp")]] {
            let run = |args: &[&str]| {
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_kapok"))
                    .args(args)
                    .env("KAPOK_SPILL_BYTES", "0")
                    .envs(env.iter().copied())
                    .output()
                    .unwrap();
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{args:?} {env:?}: {:?}",
                    texts(&out)
                );
                out
            };
            assert_eq!(
                texts(&run(&["score", f])),
                printed[0],
                "order {order:?} {env:?}"
            );
            run(&["score", f, "-o", t]);
            let plain = dir.path().join("plain.csv");
            kapok(&["score", f, "-o", plain.to_str().unwrap()]);
            assert_eq!(
                std::fs::read(&table).unwrap(),
                std::fs::read(&plain).unwrap(),
                "order {order:?} {env:?}"
            );
        }
        match &terminal {
            None => terminal = Some(printed),
            Some(first) => assert_eq!(&printed, first, "order {order:?}"),
        }
        // In period order, and in reverse (every period waits for the one before), the
        // periods are bound one at a time; shuffled, they are bound whole or not.
        if o < 2 {
            assert_eq!(binds, [true, true], "order {order:?}");
        }
        interleaved |= binds.contains(&false);
    }
    assert!(interleaved, "no shuffled order was bound whole");
}

#[test]
fn values_bound_into_a_file_give_the_errors_of_values_bound_in_memory() {
    // Rows sorted by unit (every period open until the last rows), bound into a temporary file
    // or into memory: a value that is not finite (before the run's own error, a geometric
    // mean of -3 in 2023-01), a unit without a group; the same error either way.
    let dir = tempdir();
    let cases = [
        (
            "code,month,g,x,y\na,2023-01,g,1,2\na,2023-02,g,1,2\na,2023-03,g,1,2\n\
             b,2023-01,g,-3,4\nb,2023-02,g,3,4\nb,2023-03,g,0,4\n",
            "y / (x * 1.0)",
            "not finite",
        ),
        (
            "code,month,g,x,y\na,2023-01,g,1,2\na,2023-02,g,1,2\na,2023-03,g,1,2\n\
             b,2023-01,g,3,4\nb,2023-02,g,3,4\nc,2023-02,,5,6\nc,2023-03,,5,6\n",
            "y",
            "no value in the group column",
        ),
    ];
    for (csv, y, want) in cases {
        std::fs::write(dir.path().join("m.csv"), csv).unwrap();
        let head = "group = \"g\"\n[defaults]\nnormalize = \"none\"\naggregate = \"geometric\"";
        let text = two_indicators(head, "m.csv", "higher")
            .replace("expr = \"y\"", &format!("expr = \"{y}\""));
        std::fs::write(dir.path().join("f.toml"), text).unwrap();
        let fw = kapok::load(&dir.path().join("f.toml")).unwrap();
        let error = |above| {
            kapok::Scoring::open_spilling(&fw, None, above)
                .and_then(|s| s.keeping(kapok::Keep::Scores))
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        let in_memory = error(usize::MAX);
        assert!(in_memory.contains(want), "{in_memory}");
        assert_eq!(error(0), in_memory);
    }
}

#[test]
fn a_data_error_comes_first_when_periods_are_bound_as_the_run_scores() {
    // 2023-01 cannot be aggregated (a geometric mean of -3), and a value of 2023-03 is not
    // finite, or a unit has no group: the data error is the one reported, as when the whole
    // panel is bound before the run (`kapok score` without -o), though the run meets its
    // own error first.
    let dir = tempdir();
    let cases = [
        (
            "code,month,g,x,y\na,2023-01,g,1,2\nb,2023-01,g,-3,4\na,2023-02,g,1,2\nb,2023-02,g,3,4\n\
          a,2023-03,g,1,2\nb,2023-03,g,0,4\n",
            "y / (x * 1.0)",
            "not finite",
        ),
        (
            "code,month,g,x,y\na,2023-01,g,1,2\nb,2023-01,g,-3,4\na,2023-02,g,1,2\nb,2023-02,g,3,4\n\
          c,2023-02,,5,6\n",
            "y",
            "no value in the group column",
        ),
    ];
    for (csv, y, want) in cases {
        std::fs::write(dir.path().join("m.csv"), csv).unwrap();
        let head = "group = \"g\"\n[defaults]\nnormalize = \"none\"\naggregate = \"geometric\"";
        let fw = dir.path().join("f.toml");
        let text = two_indicators(head, "m.csv", "higher")
            .replace("expr = \"y\"", &format!("expr = \"{y}\""));
        std::fs::write(&fw, text).unwrap();
        let out = dir.path().join("out.csv");
        let streamed = kapok(&["score", fw.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        let whole = kapok(&["score", fw.to_str().unwrap()]);
        let ((_, err), (_, whole_err)) = (texts(&streamed), texts(&whole));
        assert_eq!(streamed.status.code(), Some(1), "{err}");
        assert!(err.contains(want), "{err}");
        assert_eq!(err, whole_err);
        assert!(!out.exists());
    }
}

#[test]
fn a_run_failing_after_some_periods_are_written_leaves_the_output_as_it_was() {
    // 2023-01 scores, and is written as it is merged; 2023-02 cannot be aggregated.
    let dir = tempdir();
    std::fs::write(
        dir.path().join("m.csv"),
        "code,month,x,y\na,2023-01,1,2\nb,2023-01,3,4\na,2023-02,1,2\nb,2023-02,-3,4\n",
    )
    .unwrap();
    let fw = dir.path().join("f.toml");
    let head = "[defaults]\nnormalize = \"none\"\naggregate = \"geometric\"";
    std::fs::write(&fw, two_indicators(head, "m.csv", "higher")).unwrap();
    for name in ["out.csv", "out.parquet"] {
        let out = dir.path().join(name);
        std::fs::write(&out, "kept").unwrap();
        let run = kapok(&["score", fw.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        let (_, err) = texts(&run);
        assert_eq!(run.status.code(), Some(1), "{err}");
        assert!(
            err.contains("aggregating `d`, period 2023-02: unit b (b), child `x` = -3"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "kept", "{name}");
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".kapok"))
            .collect();
        assert!(left.is_empty(), "{name}: temporary files left: {left:?}");
    }
}

/// A framework of units `code` by `month`, one dimension `d` of indicators `x` (higher is
/// better) and `y` (`y_direction`), read from the file `source`; `head` follows `[units]`'s
/// keys (more keys, then `[defaults]` and other tables).
fn two_indicators(head: &str, source: &str, y_direction: &str) -> String {
    format!(
        r#"
[index]
id = "idx"
name = {{ zh = "指数", en = "Index" }}
[units]
key = "code"
period = "month"
{head}
[[source]]
name = "m"
path = "{source}"
[[dimension]]
id = "d"
name = {{ zh = "维度", en = "Dimension" }}
[[indicator]]
id = "x"
name = {{ zh = "x", en = "x" }}
parent = "d"
direction = "higher"
expr = "x"
[[indicator]]
id = "y"
name = {{ zh = "y", en = "y" }}
parent = "d"
direction = "{y_direction}"
expr = "y"
"#
    )
}

/// Every framework kapok ships, by file stem under `indicators/`.
const SHIPPED: [&str; 6] = [
    "asem",
    "hongmian",
    "hongmian-streets",
    "undp-gdi",
    "undp-gii",
    "undp-hdi",
];

/// A ranking's run ([`kapok::Scoring::keeping`]) gives back the panel's values once the periods
/// are scored, whether the data were bound whole or a period at a time: its results hold none,
/// and the same scores, ranks and warnings as a run that keeps them.
#[test]
fn a_rankings_run_gives_back_the_values_and_scores_as_a_run_that_keeps_them() {
    let root = super::util::root();
    let mut bound_whole = 0;
    for name in SHIPPED {
        let fw = kapok::load(&root.join(format!("indicators/{name}.toml"))).unwrap();
        let scoring = kapok::Scoring::open(&fw, None).unwrap();
        bound_whole += usize::from(!scoring.binds_periods());
        let (ranking, warnings) = scoring.keeping(kapok::Keep::Scores).unwrap();
        let (kept, kept_warnings) = kapok::score_keeping(&fw, None, kapok::Keep::Scores).unwrap();
        let (np, nu, nj) = kept.panel.values.dim();
        assert!(nj > 0, "{name}");
        assert_eq!(ranking.panel.values.dim(), (np, nu, 0), "{name}");
        assert_eq!(ranking.panel.units, kept.panel.units, "{name}");
        for n in 0..fw.nodes.len() {
            let bits = |r: &kapok::Results| -> Vec<u64> {
                r.scores.node(n).iter().map(|v| v.to_bits()).collect()
            };
            assert_eq!(bits(&ranking), bits(&kept), "{name}: scores of node {n}");
            assert_eq!(
                ranking.node_ranks(n),
                kept.node_ranks(n),
                "{name}: ranks of {n}"
            );
        }
        assert_eq!(warnings, kept_warnings, "{name}");
    }
    // The shipped frameworks bind whole (bounds from a base year, panel imputation).
    assert!(bound_whole > 0);
}

#[test]
fn a_run_keeping_one_periods_stages_gives_that_periods_values_as_a_run_keeping_all() {
    // The report's run: the values after imputation and after treatment of its period only.
    let root = super::util::root();
    let mut differ = 0;
    for name in SHIPPED {
        let fw = kapok::load(&root.join(format!("indicators/{name}.toml"))).unwrap();
        let (all, all_warnings) = kapok::score(&fw, None).unwrap();
        let np = all.panel.periods.len();
        for p in [0, np - 1] {
            let (panel, _) = kapok::read_panel(&fw, None).unwrap();
            let one = kapok::evaluate_keeping(&fw, panel, kapok::Keep::Period(p)).unwrap();
            let bits = |a: ndarray::ArrayView2<f64>| -> Vec<u64> {
                a.iter().map(|v| v.to_bits()).collect()
            };
            let whole = |a: &ndarray::Array3<f64>| bits(a.index_axis(ndarray::Axis(0), p));
            assert_eq!(
                bits(one.treated_at(p).unwrap()),
                whole(all.treated().unwrap()),
                "{name} {p}"
            );
            assert_eq!(
                bits(one.imputed_at(p).unwrap()),
                whole(all.imputed_values().unwrap()),
                "{name} {p}"
            );
            assert_eq!(
                bits(all.treated_at(p).unwrap()),
                whole(all.treated().unwrap())
            );
            differ +=
                usize::from(whole(all.treated().unwrap()) != whole(all.imputed_values().unwrap()));
            // Every node's scores and ranks in the period; the aggregates' in every period.
            let aggregates = kapok::trend::Trends::nodes_of(&fw);
            for n in 0..fw.nodes.len() {
                let at_p = |r: &kapok::Results| -> Vec<(u64, u32)> {
                    let scores = r.scores.of(p, n);
                    let ranks = (0..scores.len()).map(|u| r.rank(p, u, n));
                    scores.iter().map(|v| v.to_bits()).zip(ranks).collect()
                };
                assert_eq!(at_p(&one), at_p(&all), "{name}: node {n} in period {p}");
                let over = |r: &kapok::Results| -> Vec<(u64, u32)> {
                    let scores = r.scores.node(n).into_iter().map(|v| v.to_bits());
                    scores.zip(r.node_ranks(n).iter().copied()).collect()
                };
                if aggregates.contains(&n) {
                    assert_eq!(over(&one), over(&all), "{name}: node {n}");
                } else {
                    // An indicator's scores of the other periods were not kept.
                    assert!(!one.scores.is_kept(n), "{name}: node {n}");
                    assert_eq!(np > 1, !one.scores.holds((p + 1) % np, n), "{name}: {n}");
                }
            }
            assert_eq!(one.treatments.len(), all.treatments.len(), "{name}");
            let mut warnings = kapok::read_panel(&fw, None).unwrap().1;
            warnings.extend(one.warnings());
            assert_eq!(warnings, all_warnings, "{name}");
            if np > 1 {
                // Another period's values, or all of them, were not kept: said, with the one
                // that was.
                let other = if p == 0 { 1 } else { 0 };
                let err = one.treated_at(other).unwrap_err().to_string();
                assert!(err.contains(&all.panel.periods[p]), "{err}");
                assert!(one.imputed_at(other).is_err());
                assert!(one.treated().is_err() && one.imputed_values().is_err());
            }
        }
    }
    // Some framework's treatment changes values, so that the imputed values are held apart.
    assert!(differ > 0);
}

//! The sample data are exactly what the generator in `examples/` writes; the grid generator of
//! the grid-scale benchmark is deterministic and its framework scores its panel.

use std::process::Command;

use super::util::{kapok, root, tempdir, texts};

#[test]
fn the_generator_reproduces_the_shipped_sample_data_byte_for_byte() {
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_kapok"))
        .parent()
        .unwrap()
        .join("examples/gen_sample_data");
    if !exe.exists() {
        // `cargo test` builds examples; make sure they were built rather than skip silently.
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "gen_sample_data"])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let dir = tempdir();
    let status = Command::new(&exe)
        .arg(dir.path())
        .arg(root().join("data/reference"))
        .current_dir(root())
        .status()
        .unwrap();
    assert!(status.success());
    let mut compared = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        if !entry.path().is_file() {
            continue;
        }
        let name = entry.file_name();
        let shipped = root().join("data").join(&name);
        assert_eq!(
            std::fs::read(entry.path()).unwrap(),
            std::fs::read(&shipped).unwrap_or_default(),
            "data/{} differs from what the generator writes",
            name.to_string_lossy()
        );
        compared += 1;
    }
    assert!(compared >= 8, "the generator wrote only {compared} files");
}

/// The grid generator (`examples/grid`, issue 13's benchmark panel) at a small size.
fn grid_example() -> std::path::PathBuf {
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_kapok"))
        .parent()
        .unwrap()
        .join("examples/grid");
    if !exe.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "grid"])
            .current_dir(root())
            .status()
            .unwrap();
        assert!(status.success());
    }
    exe
}

#[test]
fn the_grid_generator_is_deterministic_and_kapok_scores_its_framework_from_parquet_and_csv() {
    let exe = grid_example();
    let gen_in = |dir: &std::path::Path, source: &str, framework: &str| {
        let out = Command::new(&exe)
            .args(["40", "3", "12", "grid.parquet", "--csv", "grid.csv"])
            .args(["--framework", framework, "--source", source])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", texts(&out).1);
    };
    let (a, b) = (tempdir(), tempdir());
    gen_in(a.path(), "parquet", "grid.toml");
    gen_in(b.path(), "csv", "grid_csv.toml");
    for f in ["grid.parquet", "grid.csv"] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f} differs between two runs"
        );
    }
    let csv = std::fs::read_to_string(a.path().join("grid.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "unit,name,period,population,v01,v02,v03,v04,v05,v06,v07,v08,v09,v10,v11,v12"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("U0000000,Unit U0000000,2022-01,")
    );
    assert_eq!(csv.lines().count(), 1 + 40 * 3);
    assert!(csv.contains(",,"), "some values are missing");

    // The same panel scored from the Parquet file and from the CSV file: the same table.
    let score = |dir: &std::path::Path, framework: &str| {
        let fw = dir.join(framework);
        let out_file = dir.join("out.csv");
        let out = kapok(&[
            "score",
            fw.to_str().unwrap(),
            "-o",
            out_file.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
        std::fs::read_to_string(out_file).unwrap()
    };
    let from_parquet = score(a.path(), "grid.toml");
    assert_eq!(from_parquet, score(b.path(), "grid_csv.toml"));
    let table = super::util::Csv::read(&a.path().join("out.csv"));
    assert_eq!(table.rows.len(), 40 * 3);
    for c in [
        "score.grid",
        "rank.grid",
        "score.d0",
        "score.d5",
        "score.i11",
    ] {
        table.col(c);
    }
}

#!/usr/bin/env python3
"""Grid scale (issue 13): kapok against DuckDB and numpy/pandas on the same data, in one run.

    python3 bench/grid/compare.py [--scales 1,4] [--rounds 3] [--csv] [--report] [--dir DIR]
                                  [--venv DIR]
                                  [--kapok BIN --grid BIN] [--keep]

Not run by CI. Needs Python 3.11 (standard library only) and cargo; the peers come from PyPI
into a virtual environment (default /tmp/kapok-grid-venv, created and filled with `pip install
numpy pandas pyarrow duckdb` when missing; reused afterwards).

For each scale s it generates s × 20,849 grids × 24 months × 60 variables with the repository's
generator (`cargo run --release --example grid`, deterministic) and its framework (60 indicators,
6 dimensions, median imputation, min-max onto [0, 100]), then runs in interleaved rounds, each
command in a fresh process:

- kapok `score grid.toml -o kapok.parquet` (every node's score and rank, every month),
- kapok `score grid.toml -o kapok_index.parquet --columns index` (unit, period, index score and
  rank: the columns the peers write),
- kapok `score grid.toml` (the latest month's ranking to the terminal; stdout discarded),
- with --csv: kapok `score grid_csv.toml -o kapok_csv.parquet` (the same data read from CSV),
- with --report: kapok `report grid.toml -o report --force` (the bundle of the latest month:
  page, charts, workbook, every column of every month in results.parquet; its output replaced
  each round), and with --csv too `report grid_csv.toml -o report_csv --force`,
- kapok `-o` (every column, and `--columns index`) of `grid_by_month.parquet`: the same rows
  sorted by month (as monthly files appended to one another are; DuckDB sorts them, untimed), which
  kapok binds a month at a time as it scores the months before; its outputs must be the same
  bytes as those of the generator's order (by grid, every month open until the last rows),
- DuckDB (`ref_duckdb.py`: one SQL query with window functions),
- numpy/pandas (`ref_pipeline.py`),
- reading the Parquet file with pyarrow only (the floor).

It measures each child's wall time and peak resident memory (`os.wait4`'s rusage), checks that
the three results agree (`check_agree.py`: the same rows, scores to 1e-9, the same ranks), and
prints the medians as the markdown table of issue 13, then how time and memory grew with the
scale. kapok is the release build of this checkout (`cargo build --release`; CARGO_TARGET_DIR is
honoured) unless --kapok and --grid name binaries. The data goes under --dir (default
/tmp/kapok-grid: about 0.25 GB of Parquet per 1×, 0.55 GB more with --csv) and is deleted after each
scale unless --keep. Exit status 1 if a command fails or the results disagree.

Memory: before issue 13's optimisations kapok needed about 5.5 GB per 1× with -o (21.7 GB at 4×
on a 23 GB machine); check what the machine has free before --scales 4 or 10, or --skip kapok_out.
"""
import argparse
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GRIDS = 20_849
MONTHS = 24
VARS = 60
DIMS = 6
PEERS = ["numpy", "pandas", "pyarrow", "duckdb"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def venv_python(venv: Path) -> Path:
    """The venv's python, created and filled with the peers if they do not import."""
    py = venv / "bin" / "python"
    check = [str(py), "-c", "import " + ", ".join(PEERS)]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    if not py.exists():
        log(f"creating a virtual environment in {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log(f"pip install {' '.join(PEERS)}")
    subprocess.run([str(py), "-m", "pip", "install", "-q", *PEERS], check=True)
    subprocess.run(check, check=True)
    return py


def build() -> tuple[Path, Path]:
    """Builds kapok and the generator (release); returns their paths."""
    log("cargo build --release --bin kapok --example grid")
    subprocess.run(
        ["cargo", "build", "--release", "--bin", "kapok", "--example", "grid"],
        cwd=REPO, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1"],
        cwd=REPO, check=True, capture_output=True, text=True)
    target = Path(json.loads(meta.stdout)["target_directory"]) / "release"
    return target / "kapok", target / "examples" / "grid"


def measure(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Runs cmd in a fresh process; returns (wall seconds, peak RSS in bytes)."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # wait4 on this pid gives this child's own rusage (ru_maxrss in KiB on Linux); stderr is
    # read first so a chatty child cannot block on a full pipe. On Linux a child's ru_maxrss
    # starts from this process's own peak (the exec follows a vfork), so this process must stay
    # small: it never reads an output whole.
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    if p.returncode != 0:
        log(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')}")
        sys.exit(1)
    return wall, usage.ru_maxrss * 1024


def fmt(wall: float, rss: int) -> str:
    t = f"{wall:.1f} s" if wall >= 1 else f"{wall:.2f} s"
    return f"{t}, {rss / 1e9:.2f} GB" if rss < 1e9 else f"{t}, {rss / 1e9:.1f} GB"


def rows_label(rows: int) -> str:
    return f"{rows / 1e6:.1f} M rows" if rows >= 1_000_000 else f"{rows / 1e3:.0f} k rows"


def run_scale(scale: float, args, py: Path, kapok: Path, grid: Path) -> dict:
    units = max(1, round(GRIDS * scale))
    rows = units * MONTHS
    d = Path(args.dir) / f"scale-{scale:g}"
    d.mkdir(parents=True, exist_ok=True)
    gen = [str(grid), str(units), str(MONTHS), str(VARS), "grid.parquet", "--framework", "grid.toml"]
    if args.csv:
        gen += ["--csv", "grid.csv"]
    log(f"{scale:g}×: generating {units} grids × {MONTHS} months × {VARS} variables in {d}")
    subprocess.run(gen, cwd=d, check=True)
    if args.csv:
        fw = (d / "grid.toml").read_text(encoding="utf-8")
        (d / "grid_csv.toml").write_text(
            fw.replace('path = "grid.parquet"', 'path = "grid.csv"'), encoding="utf-8")
    fw = (d / "grid.toml").read_text(encoding="utf-8")
    (d / "grid_by_month.toml").write_text(
        fw.replace('path = "grid.parquet"', 'path = "grid_by_month.parquet"'), encoding="utf-8")
    subprocess.run([str(py), "-c", "import duckdb; duckdb.sql('SET enable_progress_bar = false'); "
                    "duckdb.sql(\"COPY (SELECT * FROM 'grid.parquet' ORDER BY period, unit) "
                    "TO 'grid_by_month.parquet' (FORMAT parquet)\")"], cwd=d, check=True)
    k, n = str(VARS), str(DIMS)
    cases = {
        "kapok_out": [str(kapok), "score", "grid.toml", "-o", "kapok.parquet"],
        "kapok_index": [str(kapok), "score", "grid.toml", "-o", "kapok_index.parquet",
                        "--columns", "index"],
        "kapok_term": [str(kapok), "score", "grid.toml"],
        "kapok_month_out": [str(kapok), "score", "grid_by_month.toml", "-o",
                            "kapok_month.parquet"],
        "kapok_month_index": [str(kapok), "score", "grid_by_month.toml", "-o",
                              "kapok_month_index.parquet", "--columns", "index"],
    }
    if args.csv:
        cases["kapok_csv"] = [str(kapok), "score", "grid_csv.toml", "-o", "kapok_csv.parquet"]
    if args.report:
        cases["kapok_report"] = [str(kapok), "report", "grid.toml", "-o", "report", "--force"]
        if args.csv:
            cases["kapok_report_csv"] = [str(kapok), "report", "grid_csv.toml", "-o",
                                         "report_csv", "--force"]
    cases |= {
        "duckdb": [str(py), str(HERE / "ref_duckdb.py"), "grid.parquet", "duck.parquet", k, n],
        "numpy": [str(py), str(HERE / "ref_pipeline.py"), "grid.parquet", "numpy.parquet", k, n],
        "read": [str(py), "-c", "import sys, pyarrow.parquet as pq; pq.read_table(sys.argv[1])",
                 "grid.parquet"],
    }
    for c in args.skip.split(","):
        cases.pop(c.strip(), None)
    samples = {c: [] for c in cases}
    for r in range(args.rounds):
        for c, cmd in cases.items():
            wall, rss = measure(cmd, d)
            samples[c].append((wall, rss))
            log(f"  round {r + 1}/{args.rounds} {c:<10} {fmt(wall, rss)}")
    ok = True
    for c, out in [("kapok_out", "kapok.parquet"), ("kapok_index", "kapok_index.parquet"),
                   ("kapok_csv", "kapok_csv.parquet")]:
        if c not in cases or "duckdb" not in cases or "numpy" not in cases:
            continue
        chk = subprocess.run(
            [str(py), str(HERE / "check_agree.py"), "numpy.parquet", out, "duck.parquet"],
            cwd=d, capture_output=True, text=True)
        log(f"  {out} against numpy and DuckDB:\n    " + chk.stdout.strip().replace("\n", "\n    "))
        ok &= chk.returncode == 0
    for a, b in [("kapok.parquet", "kapok_month.parquet"),
                 ("kapok_index.parquet", "kapok_month_index.parquet")]:
        if (d / a).exists() and (d / b).exists():
            # Compared a block at a time: read whole, two 6 GB files at 10× would make this
            # process that large, and a child's peak RSS (wait4) starts from its parent's.
            same = filecmp.cmp(d / a, d / b, shallow=False)
            log(f"  {b} {'is' if same else 'IS NOT'} {a}, byte for byte")
            ok &= same
    if not args.keep:
        shutil.rmtree(d)
    med = {c: (statistics.median(w for w, _ in s), statistics.median(m for _, m in s))
           for c, s in samples.items()}
    return {"scale": scale, "rows": rows, "median": med, "agree": ok}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="1", help="comma-separated multiples of 20,849 grids (1,4,10)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians are reported)")
    ap.add_argument("--csv", action="store_true", help="also time kapok reading the same data from CSV")
    ap.add_argument("--report", action="store_true",
                    help="also time kapok's report of the latest month (and from CSV with --csv)")
    ap.add_argument("--dir", default="/tmp/kapok-grid", help="where the data goes")
    ap.add_argument("--venv", default="/tmp/kapok-grid-venv", help="virtual environment for the peers")
    ap.add_argument("--kapok", help="kapok binary (default: build this checkout)")
    ap.add_argument("--grid", help="the examples/grid binary (default: build this checkout)")
    ap.add_argument("--keep", action="store_true", help="keep the generated data and outputs")
    ap.add_argument("--skip", default="", help="leave out these cases (comma-separated: kapok_out, "
                    "kapok_index, kapok_term, kapok_csv, kapok_report, kapok_report_csv, "
                    "kapok_month_out, kapok_month_index, duckdb, numpy, read); kapok.parquet is "
                    "then not checked")
    args = ap.parse_args()
    scales = [float(s) for s in args.scales.split(",")]
    py = venv_python(Path(args.venv))
    if args.kapok and args.grid:
        kapok, grid = Path(args.kapok).resolve(), Path(args.grid).resolve()
    else:
        kapok, grid = build()
    results = [run_scale(s, args, py, kapok, grid) for s in scales]

    cols = [("kapok_out", "kapok `-o out.parquet`"),
            ("kapok_index", "kapok `-o out.parquet --columns index`"),
            ("kapok_term", "kapok, terminal only")]
    if args.csv:
        cols.append(("kapok_csv", "kapok `-o`, CSV input"))
    if args.report:
        cols.append(("kapok_report", "kapok `report`"))
        if args.csv:
            cols.append(("kapok_report_csv", "kapok `report`, CSV input"))
    cols += [("kapok_month_out", "kapok `-o`, rows by month"),
             ("kapok_month_index", "kapok `-o … --columns index`, rows by month")]
    cols += [("duckdb", "DuckDB"), ("numpy", "numpy/pandas"), ("read", "read Parquet only")]
    cols = [(c, h) for c, h in cols if any(c in r["median"] for r in results)]
    print(f"\nMedians of {args.rounds} interleaved round(s), wall time and peak RSS of each process:\n")
    print("| | " + " | ".join(h for _, h in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for r in results:
        cells = [fmt(*r["median"][c]) if c in r["median"] else "–" for c, _ in cols]
        print(f"| {r['scale']:g}× ({rows_label(r['rows'])}) | " + " | ".join(cells) + " |")
    if len(results) > 1:
        first = results[0]
        print(f"\nGrowth against {first['scale']:g}× (time ×, memory ×; proportional = the scale ratio):\n")
        print("| | " + " | ".join(h for _, h in cols) + " |")
        print("|---" * (len(cols) + 1) + "|")
        for r in results[1:]:
            cells = []
            for c, _ in cols:
                if c not in r["median"] or c not in first["median"]:
                    cells.append("–")
                    continue
                (t0, m0), (t1, m1) = first["median"][c], r["median"][c]
                cells.append(f"×{t1 / t0:.1f}, ×{m1 / m0:.1f}")
            print(f"| {r['scale'] / first['scale']:g}× the grids | " + " | ".join(cells) + " |")
    agree = all(r["agree"] for r in results)
    print("\nresults agree (kapok = numpy to 1e-9, same ranks)" if agree
          else "\nRESULTS DISAGREE: see check_agree.py's output above")
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()

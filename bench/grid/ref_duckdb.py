#!/usr/bin/env python3
# Copied unchanged (but for this comment) from the grid benchmark set that kapok's issue 13 quotes
# (its ref_duckdb.py); compare.py next to it runs it.
"""The same pipeline as ref_pipeline.py, written as one DuckDB SQL query (a strong peer for big panels).
Usage: ref_duckdb.py IN.parquet OUT.parquet K D
"""
import sys
import duckdb

def main():
    src, out, k, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    per = k // d
    raw = []
    for j in range(k):
        v = f"v{j + 1:02d}"
        raw.append(f"{v} / population * 1e4 AS i{j}" if j % 2 == 0 else f"{v} AS i{j}")
    imp = [f"coalesce(i{j}, median(i{j}) OVER w) AS i{j}" for j in range(k)]
    norm = []
    for j in range(k):
        mm = f"(i{j} - min(i{j}) OVER w) / nullif(max(i{j}) OVER w - min(i{j}) OVER w, 0) * 100"
        norm.append(f"{'100 - ' if j % 3 == 2 else ''}coalesce({mm}, 0) AS n{j}")
    dims = [" + ".join(f"n{j}" for j in range(g * per, (g + 1) * per)) for g in range(d)]
    score = "(" + " + ".join(f"({x}) / {per}" for x in dims) + f") / {d}"
    q = f"""
    COPY (
      WITH r AS (SELECT unit, period, {", ".join(raw)} FROM read_parquet('{src}')),
      m AS (SELECT unit, period, {", ".join(imp)} FROM r WINDOW w AS (PARTITION BY period)),
      n AS (SELECT unit, period, {", ".join(norm)} FROM m WINDOW w AS (PARTITION BY period)),
      s AS (SELECT unit, period, {score} AS score FROM n)
      SELECT unit, period, score, rank() OVER (PARTITION BY period ORDER BY score DESC) AS rank FROM s
    ) TO '{out}' (FORMAT parquet)"""
    duckdb.sql(q)

if __name__ == "__main__":
    main()

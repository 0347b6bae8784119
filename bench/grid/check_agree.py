#!/usr/bin/env python3
# Copied from compare.py of the grid benchmark set that kapok's issue 13 quotes; renamed check_agree.py
# because compare.py here is the driver that runs it. Unchanged but for this comment and the last
# three lines (exit status 1 unless every row joins, scores agree to 1e-9 and no rank differs).
# Usage: check_agree.py REF_NUMPY.parquet KAPOK.parquet [REF_DUCKDB.parquet]
"""Compares kapok's output (score.grid, rank.grid) with ref_pipeline's (score, rank) and DuckDB's."""
import sys
import numpy as np
import pyarrow.parquet as pq
ref = pq.read_table(sys.argv[1]).to_pandas()
kap = pq.read_table(sys.argv[2], columns=["unit", "period", "score.grid", "rank.grid"]).to_pandas()
m = ref.merge(kap, on=["unit", "period"], how="outer", indicator=True)
print("rows ref", len(ref), "kapok", len(kap), "joined", len(m), "both", (m["_merge"] == "both").sum())
d = np.abs(m["score"] - m["score.grid"])
print("max abs diff index:", d.max(), " mean:", d.mean())
r = (m["rank"].astype("int64") != m["rank.grid"].astype("int64"))
print("rank mismatches:", int(r.sum()), "of", len(m))
if r.sum():
    print(m[r].head(10))
    # are mismatches only near-ties?
    print("max |score diff| between units whose ranks differ:", d[r].max())
if len(sys.argv) > 3:
    dk = pq.read_table(sys.argv[3]).to_pandas()
    m2 = ref.merge(dk, on=["unit", "period"], suffixes=("", "_duck"))
    print("duckdb vs numpy: max abs diff", np.abs(m2["score"] - m2["score_duck"]).max(),
          "rank mismatches", int((m2["rank"] != m2["rank_duck"]).sum()))
ok = (m["_merge"] == "both").all() and d.max() <= 1e-9 and not r.sum()
print("agree" if ok else "DISAGREE")
sys.exit(0 if ok else 1)

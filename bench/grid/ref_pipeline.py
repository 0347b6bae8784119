#!/usr/bin/env python3
# Copied unchanged (but for this comment) from the grid benchmark set that kapok's issue 13 quotes
# (its ref_pipeline.py); compare.py next to it runs it.
"""Reference pipeline in vectorised numpy/pandas: what a researcher would write instead.

Framework (matches bench/synthetic.toml): K indicators from v01..vKK; odd j: v_j / population * 1e4,
even j: v_j as is; every 3rd indicator is 'lower is better'. D dimensions of K/D consecutive indicators,
equal weights; per-period min-max to 0..100 with direction flip; missing -> period median;
dimension = weighted arithmetic mean; index = arithmetic mean of dimensions; rank 1 = best (ties: min).
Usage: ref_pipeline.py IN.parquet OUT.parquet K D
"""
import sys
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

def main():
    src, out, k, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    df = pq.read_table(src).to_pandas()
    pop = df["population"].to_numpy()
    raw = np.empty((len(df), k))
    for j in range(k):
        v = df[f"v{j + 1:02d}"].to_numpy()
        raw[:, j] = v / pop * 1e4 if j % 2 == 0 else v
    lower = np.array([(j % 3) == 2 for j in range(k)])
    period = df["period"].to_numpy()
    codes, inv = np.unique(period, return_inverse=True)
    scores = np.empty(len(df))
    for p in range(len(codes)):
        idx = np.nonzero(inv == p)[0]
        x = raw[idx]
        med = np.nanmedian(x, axis=0)
        x = np.where(np.isnan(x), med, x)
        lo, hi = x.min(axis=0), x.max(axis=0)
        n = (x - lo) / np.where(hi > lo, hi - lo, 1.0) * 100.0
        n[:, lower] = 100.0 - n[:, lower]
        dims = n.reshape(len(idx), d, k // d).mean(axis=2)
        scores[idx] = dims.mean(axis=1)
    res = pd.DataFrame({"unit": df["unit"], "period": period, "score": scores})
    res["rank"] = res.groupby("period")["score"].rank(ascending=False, method="min").astype(int)
    res.to_parquet(out)

if __name__ == "__main__":
    main()

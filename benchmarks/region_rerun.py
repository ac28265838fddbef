"""Time the outlook for all regions cold (target ≤ 120 s) and chapter 4 for one region warm
(target ≤ 30 s).

Usage: python benchmarks/region_rerun.py [--regions 宁夏 Beijing] [--n-members 200]
       [--model auto] [--dataset teaching]

First ``forecast.outlook(dataset)`` runs on an empty cache (the backtest, the point model, the
members and their calibration for all 30 regions) and its time is printed as a ratio to
120 s; then chapter 4 runs with papermill once per region on that cache (the as-of check of
the first run is computed and cached too), and the warm runs' maximum is printed as a ratio
to 30 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", nargs="+", default=["宁夏", "Guangdong", "Beijing"])
    ap.add_argument("--n-members", type=int, default=200)
    ap.add_argument("--model", default="auto")
    ap.add_argument("--dataset", default="teaching")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    tmp = tempfile.TemporaryDirectory()
    os.environ["CARBONLAB_CACHE_DIR"] = str(Path(tmp.name) / "cache")
    from carbonlab.forecast import outlook
    from tests.nbrun import run_notebook

    t = time.perf_counter()
    outlook(args.dataset, model=args.model, n_members=args.n_members)
    cold = time.perf_counter() - t
    print(f"outlook, all regions, cold: {cold:.1f} s = {cold / 120:.2f} x the 120 s target",
          flush=True)

    out = Path(tmp.name) / "out"
    out.mkdir()
    times = []
    for i, region in enumerate(args.regions):
        t = time.perf_counter()
        run_notebook("04_forecast_peaks.ipynb", out, region=region, n_members=args.n_members,
                     model=args.model, dataset=args.dataset)
        dt = time.perf_counter() - t
        kind = "first (as-of check cold)" if i == 0 else "warm"
        times.append((region, dt, kind))
        print(f"{region}\t{dt:.1f} s\t{kind}\tn_members={args.n_members} model={args.model} "
              f"dataset={args.dataset}", flush=True)
    warm = [dt for _, dt, k in times if k == "warm"]
    if warm:
        print(f"warm max {max(warm):.1f} s = {max(warm) / 30:.2f} x the 30 s target: "
              f"{'OK' if max(warm) <= 30 else 'TOO SLOW'}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

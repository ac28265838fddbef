"""Time a papermill run of the forecast-peaks chapter for one region (target: ≤ 30 s warm).

Usage: python benchmarks/region_rerun.py [--regions 宁夏 Beijing] [--n-boot 50] [--model auto]
       [--dataset teaching] [--cold]

The first run computes chapter 3's model selection, fits the ensemble, the laggard table
and the backtest and caches them (content-keyed, under $CARBONLAB_CACHE_DIR, default
<repo>/.cache/carbonlab); the following runs, one per region, reuse them. ``--cold`` first
points the cache at an empty temporary folder so the first run is measured cold. Prints
one line per run (region, seconds, cold/warm) and the warm maximum's ratio to the 30 s
target.
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
    ap.add_argument("--n-boot", type=int, default=50)
    ap.add_argument("--model", default="auto")
    ap.add_argument("--dataset", default="teaching")
    ap.add_argument("--cold", action="store_true", help="start from an empty cache")
    args = ap.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "Agg")
    tmp = tempfile.TemporaryDirectory()
    if args.cold:
        os.environ["CARBONLAB_CACHE_DIR"] = str(Path(tmp.name) / "cache")
    from tests.nbrun import run_notebook

    out = Path(tmp.name) / "out"
    out.mkdir()
    times = []
    for i, region in enumerate(args.regions):
        t = time.perf_counter()
        run_notebook("04_forecast_peaks.ipynb", out, region=region, n_boot=args.n_boot,
                     model=args.model, dataset=args.dataset)
        dt = time.perf_counter() - t
        kind = "cold" if (args.cold and i == 0) else "warm"
        times.append((region, dt, kind))
        print(f"{region}\t{dt:.1f} s\t{kind}\tn_boot={args.n_boot} model={args.model} dataset={args.dataset}",
              flush=True)
    warm = [dt for _, dt, k in times if k == "warm"]
    if warm:
        print(f"warm max {max(warm):.1f} s = {max(warm) / 30:.2f} x the 30 s target: "
              f"{'OK' if max(warm) <= 30 else 'TOO SLOW'}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

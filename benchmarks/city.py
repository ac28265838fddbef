"""Time chapter 5 (cities and LEAP) for one city, and its parts (target: ≤ 60 s per city).

Usage: python benchmarks/city.py [--cities Lanzhou 兰州 Hohhot] [--dataset teaching]
       [--all-cities 0] [--n-sobol 64] [--fast] [--cold] [--parts]

The first run scores the models on every city for the all-cities table and on the
representative cities, and caches those scores (content-keyed, under $CARBONLAB_CACHE_DIR);
later runs, one per city, reuse them. ``--cold`` starts from an empty cache so the first
run is measured cold. ``--parts`` also times the pieces of one city in-process (evaluation,
forecast, LEAP runs, Sobol). Prints one line per run with its ratio to the 60 s target.
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
TARGET_S = 60.0


def parts(dataset: str, city: str, n_sobol: int, fast: bool) -> None:
    from carbonlab import leap
    from carbonlab.data import load_cities

    cities = load_cities(dataset)
    t = time.perf_counter()
    s = leap.city_series(cities, city)
    models = tuple(m for m in leap.CITY_MODELS if not (fast and m == "lstm"))
    for m in models:
        t0 = time.perf_counter()
        leap.evaluate_city(s, [m], fast=fast)
        print(f"  evaluate {m:<12}{time.perf_counter() - t0:6.1f} s", flush=True)
    t0 = time.perf_counter()
    run = leap.run_city(cities, city, fast=fast, cache=False)
    print(f"  run_city (all models)  {time.perf_counter() - t0:6.1f} s", flush=True)
    t0 = time.perf_counter()
    for _ in range(10):
        run.leap.run("policy")
    print(f"  one LEAP scenario     {(time.perf_counter() - t0) / 10:7.3f} s", flush=True)
    t0 = time.perf_counter()
    leap.sobol_sensitivity(run.leap, run.history, n=n_sobol)
    print(f"  Sobol n={n_sobol:<4}         {time.perf_counter() - t0:6.1f} s", flush=True)
    print(f"  parts total           {time.perf_counter() - t:6.1f} s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cities", nargs="+", default=["Lanzhou", "兰州市", "Hohhot"])
    ap.add_argument("--dataset", default="teaching")
    ap.add_argument("--all-cities", type=int, default=0)
    ap.add_argument("--n-sobol", type=int, default=64)
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--cold", action="store_true", help="start from an empty cache")
    ap.add_argument("--parts", action="store_true", help="time the pieces of the first city")
    args = ap.parse_args()
    for k, v in (("TF_CPP_MIN_LOG_LEVEL", "2"), ("MPLBACKEND", "Agg"), ("OMP_NUM_THREADS", "1"),
                 ("PYTHONHASHSEED", "0")):
        os.environ.setdefault(k, v)
    tmp = tempfile.TemporaryDirectory()
    if args.cold:
        os.environ["CARBONLAB_CACHE_DIR"] = str(Path(tmp.name) / "cache")
    if args.parts:
        print(f"parts of {args.cities[0]} ({args.dataset}, fast={args.fast}):", flush=True)
        parts(args.dataset, args.cities[0], args.n_sobol, args.fast)
    from tests.nbrun import run_notebook

    out = Path(tmp.name) / "out"
    out.mkdir()
    warm = []
    for i, city in enumerate(args.cities):
        t = time.perf_counter()
        run_notebook("05_cities_leap.ipynb", out, city=city, dataset=args.dataset,
                     all_cities=args.all_cities, n_sobol=args.n_sobol, fast=args.fast)
        dt = time.perf_counter() - t
        kind = "cold" if (args.cold and i == 0) else "warm"
        if kind == "warm":
            warm.append(dt)
        print(f"{city}\t{dt:.1f} s\t{kind}\tratio to {TARGET_S:.0f} s: {dt / TARGET_S:.2f}\t"
              f"dataset={args.dataset} fast={args.fast} all_cities={args.all_cities}", flush=True)
    if warm:
        print(f"warm max {max(warm):.1f} s, ratio {max(warm) / TARGET_S:.2f} "
              f"(target {TARGET_S:.0f} s): {'OK' if max(warm) <= TARGET_S else 'TOO SLOW'}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

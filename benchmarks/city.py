"""Time chapter 5's two expensive things: every city scored cold, and one city page warm.

Usage: python benchmarks/city.py [--dataset ceads] [--city Lanzhou] [--jobs N]
       [--skip-cold] [--skip-page] [--n-origins 6]

1. **All cities, cold** (target <= 300 s on 2 cores): a fresh, empty cache
   (``CARBONLAB_CACHE_DIR`` in a temporary folder), then :func:`carbonlab.leap.all_cities`
   exactly as chapter 5 and the city pages call it (every city, all six models, the small
   tuning grids, ``n_origins`` origins). Maths libraries run one thread per worker.
2. **One city page, warm** (target <= 15 s): ``notebooks/city.ipynb`` for ``--city``
   through the book's one runner, after step 1 filled the scores' cache. The page runs
   twice: the first run (printed, not the target) also fits the city's forecasts, which in
   the built book chapter 5 has already cached; the second is the warm page as the book
   builds it.

Each line gives the wall time, the CPU time (this process and its finished children:
workers, kernels), the ratio of the wall time to its target and the machine's load
(1-minute load average before and after, and the CPU count): on a machine shared with other
jobs the wall time is noisy, the CPU time much less so, so quote the ratio with the load.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_ALL_S = 300.0
TARGET_PAGE_S = 15.0


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def load() -> float:
    """1-minute load average."""
    return os.getloadavg()[0]


def line(label: str, wall: float, cpu: float, target: float, load0: float) -> str:
    """One result line: wall, CPU, ratio to the target, load before/after, CPU count."""
    verdict = "OK" if wall <= target else "TOO SLOW"
    return (f"{label}\t{wall:.1f} s wall\t{cpu:.1f} s CPU\tratio to {target:.0f} s: "
            f"{wall / target:.2f} ({verdict})\tload {load0:.1f} -> {load():.1f} on "
            f"{os.cpu_count()} CPUs")


def all_cities_cold(dataset: str, n_origins: int) -> None:
    """Step 1: score every city from an empty cache, as chapter 5 does."""
    from joblib.externals.loky import get_reusable_executor

    from carbonlab import leap
    from carbonlab._util import n_jobs
    from carbonlab.data import load_cities

    cities = load_cities(dataset)
    l0, t, c = load(), time.perf_counter(), cpu_seconds()
    table = leap.all_cities(cities, leap.CITY_MODELS, n_origins=n_origins, fast=True)
    get_reusable_executor().shutdown(wait=True)  # reap the workers: their CPU time counts
    print(line(f"all cities cold ({cities['city'].nunique()} cities, {len(table['winners'])} "
               f"compared, {n_jobs()} jobs)", time.perf_counter() - t,
               cpu_seconds() - c, TARGET_ALL_S, l0), flush=True)


def city_page_warm(dataset: str, city: str, n_origins: int) -> None:
    """Step 2: the city page twice, reading the scores step 1 cached (the second is warm)."""
    from carbonlab.runner import run_notebook

    with tempfile.TemporaryDirectory() as out:
        for label, target in (("first", None), ("warm", TARGET_PAGE_S)):
            l0, t, c = load(), time.perf_counter(), cpu_seconds()
            run_notebook(ROOT / "notebooks" / "city.ipynb",
                         {"dataset": dataset, "city": city, "n_origins": n_origins},
                         Path(out) / f"city_{label}.ipynb")
            wall, cpu = time.perf_counter() - t, cpu_seconds() - c
            if target is None:
                print(f"city page {city} first run (fits its forecasts)\t{wall:.1f} s wall\t"
                      f"{cpu:.1f} s CPU", flush=True)
            else:
                print(line(f"city page {city} warm", wall, cpu, target, l0), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ceads")
    ap.add_argument("--city", default="Lanzhou")
    ap.add_argument("--n-origins", type=int, default=6)
    ap.add_argument("--jobs", type=int, default=None,
                    help="CARBONLAB_JOBS: worker processes scoring the cities")
    ap.add_argument("--skip-cold", action="store_true",
                    help="keep the current cache (the page step then times what is there)")
    ap.add_argument("--skip-page", action="store_true")
    args = ap.parse_args()
    if args.jobs is not None:
        os.environ["CARBONLAB_JOBS"] = str(args.jobs)
    for k, v in (("MPLBACKEND", "Agg"), ("PYTHONHASHSEED", "0")):
        os.environ.setdefault(k, v)
    tmp = tempfile.TemporaryDirectory()
    if not args.skip_cold:
        os.environ["CARBONLAB_CACHE_DIR"] = str(Path(tmp.name) / "cache")
        all_cities_cold(args.dataset, args.n_origins)
    if not args.skip_page:
        city_page_warm(args.dataset, args.city, args.n_origins)
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Time the whole book (cold and warm cache) and one region page (targets: ≤ 300 s, ≤ 15 s).

Usage: .venv/bin/python benchmarks/book.py [--jobs 2] [--no-gallery] [--skip-cold]

"Cold" runs ``carbonlab book`` with an empty cache folder (a fresh clone's first build:
every fit, the study's settings: 10,000 trees, the network budget search); "warm" runs it
again on that cache (what a later build of an unchanged package pays). Then one province
page (``notebooks/region.ipynb`` for 宁夏) is re-run on the warm cache. The venv is warm in
both. Prints wall-clock seconds and their ratio to the issue's targets; not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARBONLAB = [sys.executable, "-m", "carbonlab.cli"]
BOOK_TARGET_S = 300.0
PAGE_TARGET_S = 15.0


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-gallery", action="store_true")
    ap.add_argument("--skip-cold", action="store_true", help="only the warm figures")
    a = ap.parse_args()
    book = CARBONLAB + ["book", "--jobs", str(a.jobs)] + (["--no-gallery"] if a.no_gallery else [])
    with tempfile.TemporaryDirectory(prefix="carbonlab-bench-cache-") as cache:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        if not a.skip_cold:
            env["CARBONLAB_CACHE_DIR"] = cache
        what = f"teaching panel, jobs={a.jobs}, gallery={not a.no_gallery}"
        if not a.skip_cold:
            t = timed(book, env)
            print(f"whole book, cold cache ({what}): {t:6.1f} s = {t / BOOK_TARGET_S:.2f} x "
                  f"the {BOOK_TARGET_S:.0f} s target", flush=True)
        t = timed(book, env)
        print(f"whole book, warm cache ({what}): {t:6.1f} s = {t / BOOK_TARGET_S:.2f} x "
              f"the {BOOK_TARGET_S:.0f} s target", flush=True)
        out = Path(cache) / "bench_region.ipynb"
        page = CARBONLAB + ["run", "notebooks/region.ipynb", "-p", "region", "宁夏", "-o", str(out)]
        t = timed(page, env)
        print(f"one province page (region.ipynb, 宁夏, warm cache): {t:6.1f} s = "
              f"{t / PAGE_TARGET_S:.2f} x the {PAGE_TARGET_S:.0f} s target")


if __name__ == "__main__":
    main()

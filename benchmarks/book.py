"""Time the whole book build and one region's re-run (targets: ≤ 5 min and ≤ 30 s on 2 cores).

Usage: .venv/bin/python benchmarks/book.py [--jobs 2] [--no-gallery]
Prints the wall-clock figures and their ratio to the targets; not a test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARBONLAB = [sys.executable, "-m", "carbonlab.cli"]


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-gallery", action="store_true")
    a = ap.parse_args()
    book = CARBONLAB + ["book", "--jobs", str(a.jobs)] + (["--no-gallery"] if a.no_gallery else [])
    t_book = timed(book)
    print(f"whole book (teaching panel, jobs={a.jobs}, gallery={not a.no_gallery}): "
          f"{t_book:6.1f} s  = {t_book / 300:.2f} x the 5-minute target")
    out = ROOT / "_build" / "bench_region.ipynb"
    region = CARBONLAB + ["run", "notebooks/04_forecast_peaks.ipynb", "-p", "region", "宁夏",
                          "-o", str(out)]
    t_warm = timed(region)
    print(f"one region re-run (04_forecast_peaks, 宁夏, warm cache): {t_warm:6.1f} s  "
          f"= {t_warm / 30:.2f} x the 30-second target")


if __name__ == "__main__":
    main()

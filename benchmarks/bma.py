"""Benchmark carbonlab.bma's exact enumeration against R's BMS 0.3.5 on the same data.

Prints, for K = 18 and N = 510 (the teaching panel's 18 drivers, within-demeaned by region, when
it is available; otherwise seeded synthetic data of that shape): carbonlab's best-of-3 wall time,
BMS's ``bms(mcmc="enumerate")`` time measured inside R (``system.time``, R start-up excluded) and
the ratio, the largest |ΔPIP| between the two, then carbonlab's K = 20 and K = 22 exact times,
peak Python memory of the K = 22 run (tracemalloc) and an MC3 run at K = 30.

    .venv/bin/python benchmarks/bma.py [--no-r] [--k22]

Targets (issue 4): K = 18 ≤ 1 s and ≥ 50× faster than BMS in the same run; K = 22 ≤ 30 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from carbonlab.bma import BMA, within_transform  # noqa: E402

DRIVERS = ["lconsume", "student", "first", "tertrate", "ltrade", "lrd", "gas", "fossil", "urban",
           "ledufund", "college", "lpatent", "lcar", "ltourist", "lfreight", "lenvfund",
           "lindustry", "garbage"]


def teaching_or_synthetic(K: int, N: int = 510, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, str]:
    """X (N × K) and y: the teaching panel demeaned by region if K = 18 and it exists."""
    if K == 18:
        try:
            from carbonlab.data import load_panel, log_emissions_per_capita

            panel = load_panel("teaching")
            y = log_emissions_per_capita(panel)
            X = pd.DataFrame(within_transform(panel[DRIVERS].to_numpy(), panel["region"],
                                              "individual"), columns=DRIVERS)
            yw = pd.Series(within_transform(y.to_numpy()[:, None], panel["region"],
                                            "individual")[:, 0])
            return X, yw, "teaching panel, within-demeaned by region"
        except Exception as exc:  # noqa: BLE001 - fall back to synthetic data of the same shape
            print(f"(teaching panel unavailable: {exc}; using synthetic data)")
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(N, K)) @ (np.eye(K) + 0.3 * np.eye(K, k=1)),
                     columns=[f"x{i + 1}" for i in range(K)])
    y = pd.Series(X.iloc[:, :5].to_numpy() @ np.array([1.0, -0.8, 0.5, 0.3, -0.2])
                  + rng.normal(size=N))
    return X, y, f"synthetic, seed {seed}"


def best_of(n: int, fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bms_time(X: pd.DataFrame, y: pd.Series) -> tuple[float, pd.Series]:
    """Seconds BMS's enumeration takes (inside R) and its PIPs."""
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        pd.concat([y.rename("y"), X], axis=1).to_csv(csv, index=False, float_format="%.17g")
        code = f"""suppressMessages(library(BMS)); d <- read.csv("{csv}")
t <- system.time(m <- bms(d, burn = 0, iter = 2^(ncol(d) - 1), mcmc = "enumerate", g = "UIP",
                          mprior = "uniform", user.int = FALSE, nmodel = 500))[["elapsed"]]
cf <- coef(m, order.by.pip = FALSE)
cat("TIME", t, "\\n"); write.csv(data.frame(name = rownames(cf), pip = cf[, 1]), "{tmp}/pip.csv")
"""
        out = subprocess.run(["Rscript", "--vanilla", "-e", code], capture_output=True, text=True,
                             check=True).stdout
        secs = float(next(ln.split()[1] for ln in out.splitlines() if ln.startswith("TIME")))
        pip = pd.read_csv(Path(tmp) / "pip.csv").set_index("name")["pip"]
    return secs, pip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-r", action="store_true", help="skip the BMS timing")
    ap.add_argument("--skip-k22", action="store_true", help="skip the K = 22 run")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

    X, y, what = teaching_or_synthetic(18)
    t18, fit = best_of(3, lambda: BMA(g="UIP", mprior="uniform").fit(X, y))
    print(f"K=18 N={len(y)} ({what}): carbonlab exact enumeration {t18:.3f} s "
          f"(target <= 1 s: {'OK' if t18 <= 1 else 'MISSED'})")
    if not args.no_r and shutil.which("Rscript"):
        tb, pip_r = bms_time(X, y)
        ours = fit.summary(order_by_pip=False)["pip"]
        dpip = float(np.max(np.abs(ours.to_numpy() - pip_r.loc[ours.index].to_numpy())))
        ratio = tb / t18
        print(f"K=18: BMS 0.3.5 enumerate {tb:.2f} s  ->  carbonlab is {ratio:.0f}x faster "
              f"(target >= 50x: {'OK' if ratio >= 50 else 'MISSED'}); max |dPIP| = {dpip:.1e}")
    t20, _ = best_of(1, lambda: BMA().fit(*teaching_or_synthetic(20)[:2]))
    print(f"K=20 N=510: {t20:.2f} s")
    if not args.skip_k22:
        X22, y22, _ = teaching_or_synthetic(22)
        tracemalloc.start()
        t22, _ = best_of(1, lambda: BMA().fit(X22, y22))
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"K=22 N=510: {t22:.2f} s exact (target <= 30 s: {'OK' if t22 <= 30 else 'MISSED'}); "
              f"peak traced memory {peak:.0f} MiB (a 2^22 x 22 float64 matrix would be "
              f"{2**22 * 22 * 8 / 2**20:.0f} MiB)")
    X30, y30, _ = teaching_or_synthetic(30)
    t30, m30 = best_of(1, lambda: BMA(method="mc3", n_iter=20000, burn=2000,
                                       random_state=0).fit(X30, y30))
    print(f"K=30 N=510: MC3 20000 draws {t30:.2f} s, {m30.mc3_models_visited_} models visited")


if __name__ == "__main__":
    main()

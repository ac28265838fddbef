"""Benchmark: the full BP-network architecture search (every net inside the budget × 3).

On the teaching panel (the study's five drivers, its random 11/6 year split → 330 training
rows, seed 0) it fits every architecture with < 155 parameters and 1–2 hidden layers
(255 nets) with logistic, tanh and softplus activations (765 fits) using
:class:`carbonlab.models.FastMLP` (numpy/scipy L-BFGS), then trains the best one- and
two-layer nets in Keras (500 epochs) and prints their test MSE.

    .venv/bin/python benchmarks/bpnn_search.py [--n-jobs 1] [--max-iter 300]

Target (issue 5): the full search ≤ 120 s on this machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from carbonlab import models as m  # noqa: E402
from carbonlab.data import TRUE_DRIVERS, load_panel  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--max-iter", type=int, default=300)
    args = ap.parse_args()
    panel = load_panel("teaching")
    t0 = time.perf_counter()
    table = m.bpnn_search(panel, TRUE_DRIVERS, "random", max_iter=args.max_iter,
                          n_jobs=args.n_jobs, random_state=0)
    t_search = time.perf_counter() - t0
    print(f"{len(table)} fits ({table['hidden'].nunique()} architectures × 3 activations) "
          f"in {t_search:.1f} s with n_jobs={args.n_jobs}   target ≤ 120 s")
    print(f"per fit: median {table['seconds'].median() * 1e3:.0f} ms, "
          f"max {table['seconds'].max() * 1e3:.0f} ms")
    print(table.head(8).to_string(index=False, float_format=lambda v: f"{v:.5f}"))

    X, y, _ = m.design_matrix(panel, TRUE_DRIVERS)
    split = m.random_year_split(panel, n_train=11, random_state=0)
    tr, te = split.masks(X.index.get_level_values("year"))
    for n_layers in (1, 2):
        best = table[table["n_layers"] == n_layers].iloc[0]
        hidden = tuple(int(h) for h in best["hidden"].split("-"))
        t0 = time.perf_counter()
        k = m.KerasMLP(hidden, best["activation"], epochs=500, random_state=0).fit(X[tr], y[tr])
        mse = float(np.mean((k.predict(X[te]) - y[te].to_numpy()) ** 2))
        print(f"Keras {best['hidden']:>5} {best['activation']:<8} ({best['n_params']} params): "
              f"test MSE {mse:.5f} (search {best['mse_test']:.5f}), "
              f"{time.perf_counter() - t0:.1f} s")
    if t_search > 120:
        sys.exit(f"FAIL: search took {t_search:.0f} s (target ≤ 120 s)")


if __name__ == "__main__":
    main()

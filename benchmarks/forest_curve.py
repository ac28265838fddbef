"""Benchmark: the whole 1…10,000 tree-count curve from ONE forest vs one 10,000-tree fit.

On the teaching panel (the study's five drivers, its random 11/6 year split, seed 0) it
times a 10,000-tree bagging fit, then the test-MSE curve and the out-of-bag curve for every
tree count 1…10,000 (cumulative means of the per-tree predictions, no refits), and
scikit-learn's RandomForestRegressor(10,000, n_jobs=1) for reference.

    .venv/bin/python benchmarks/forest_curve.py [--n-trees 10000]

Target (issue 5): fit + both curves ≤ 1.5 × the fit alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.ensemble import RandomForestRegressor  # noqa: E402

from carbonlab import models as m  # noqa: E402
from carbonlab.data import TRUE_DRIVERS, load_panel  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-trees", type=int, default=10_000)
    args = ap.parse_args()
    panel = load_panel("teaching")
    X, y, _ = m.design_matrix(panel, TRUE_DRIVERS)
    split = m.random_year_split(panel, n_train=11, random_state=0)
    tr, te = split.masks(X.index.get_level_values("year"))
    Xtr, ytr, Xte, yte = X[tr].to_numpy(), y[tr].to_numpy(), X[te].to_numpy(), y[te].to_numpy()

    t0 = time.perf_counter()
    forest = m.Bagging(args.n_trees, random_state=0).fit(Xtr, ytr)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    test_curve = forest.tree_curve(Xte, yte)
    oob_curve = forest.oob_curve()
    t_curve = time.perf_counter() - t0
    t0 = time.perf_counter()
    RandomForestRegressor(args.n_trees, max_features=None, min_samples_leaf=5, random_state=0,
                          n_jobs=1).fit(Xtr, ytr)
    t_skl = time.perf_counter() - t0

    best = int(test_curve["mse"].idxmin()) + 1
    ratio = (t_fit + t_curve) / t_fit
    print(f"rows: {len(ytr)} train / {len(yte)} test, {X.shape[1]} drivers, {args.n_trees} trees")
    print(f"one {args.n_trees}-tree fit (carbonlab.Bagging):  {t_fit:7.2f} s")
    print(f"test + OOB curves, 1…{args.n_trees} trees:        {t_curve:7.2f} s")
    print(f"(fit + curves) / fit:                         {ratio:7.3f}   target ≤ 1.5")
    print(f"sklearn RandomForestRegressor fit, n_jobs=1:  {t_skl:7.2f} s (reference)")
    print(f"test MSE: all trees {test_curve['mse'].iloc[-1]:.5f}, best {best} trees "
          f"{test_curve['mse'].min():.5f}; OOB MSE at {args.n_trees}: "
          f"{oob_curve['mse_oob'].iloc[-1]:.5f}")
    if ratio > 1.5:
        sys.exit(f"FAIL: curve costs {ratio:.2f}× one fit (target ≤ 1.5×)")


if __name__ == "__main__":
    main()

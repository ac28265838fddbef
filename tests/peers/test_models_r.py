"""carbonlab.models against R: plm (within FE), e1071::svm (libsvm), randomForest (OOB curve).

Each peer runs in its own ``Rscript`` process (:func:`rpeer.run_r`); data go through CSV
files written with 17 significant digits.

Scaling stated and matched for SVR: e1071's ``scale=TRUE`` standardises every x column and
y with the training mean and sd (n − 1); ``gamma = 1/ncol(x)``, ``coef0 = 0``,
``degree = 3`` are passed explicitly on both sides, with the study's ε = 0.1, C = 1,
tolerance = 1e-4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rpeer import require_r_packages, run_r

from carbonlab import models as m

pytestmark = pytest.mark.peer

XS = ["x1", "x2", "x3", "x4", "x5"]
R_KERNEL = {"rbf": "radial", "linear": "linear", "poly": "polynomial", "sigmoid": "sigmoid"}


def _panel(n_regions: int = 30, n_years: int = 17, seed: int = 11) -> pd.DataFrame:
    """Province-year data with region effects, trends and a mildly nonlinear response."""
    rng = np.random.default_rng(seed)
    region = np.repeat([f"P{i:02d}" for i in range(n_regions)], n_years)
    year = np.tile(np.arange(2005, 2005 + n_years), n_regions)
    alpha = rng.normal(0, 0.5, n_regions).repeat(n_years)
    t = (year - 2005) / n_years
    X = rng.normal(size=(region.size, 5)) + t[:, None] * np.array([1.0, 0.5, -0.5, 2.0, 0.0])
    X[:, 3] += rng.normal(0, 1, n_regions).repeat(n_years)  # correlated with the effects
    y = alpha + X @ np.array([-0.8, 0.4, 0.3, 0.25, -0.1]) + 0.2 * np.sin(2 * X[:, 0])
    y += rng.normal(0, 0.05, region.size)
    df = pd.DataFrame(X, columns=XS)
    df.insert(0, "year", year)
    df.insert(0, "region", region)
    df["y"] = y
    return df


def _csv(df: pd.DataFrame, path: Path) -> str:
    df.to_csv(path, index=False, float_format="%.17g")
    return path.as_posix()


def test_fixed_effects_vs_plm_within(tmp_path):
    require_r_packages("plm")
    d = _panel()
    X = d.set_index(["region", "year"])[XS]
    fe = m.PanelFE().fit(X, d["y"].to_numpy())
    code = f"""
    suppressPackageStartupMessages(library(plm))
    d <- read.csv("{_csv(d, tmp_path / 'panel.csv')}")
    f <- plm(y ~ x1 + x2 + x3 + x4 + x5, data = d, index = c("region", "year"), model = "within")
    cat(sprintf("%.17g", coef(f)[c("x1", "x2", "x3", "x4", "x5")]), sep = "\\n")
    """
    r = np.array(run_r(code).split(), dtype=float)
    np.testing.assert_allclose(fe.coef_, r, rtol=0, atol=1e-8)


def test_svr_test_mse_vs_e1071(tmp_path):
    require_r_packages("e1071")
    d = _panel()
    split = m.random_year_split(d, n_train=11, random_state=0)
    tr, te = split.masks(d["year"])
    code = f"""
    suppressPackageStartupMessages(library(e1071))
    tr <- read.csv("{_csv(d[tr], tmp_path / 'train.csv')}")
    te <- read.csv("{_csv(d[te], tmp_path / 'test.csv')}")
    xs <- c("x1", "x2", "x3", "x4", "x5")
    for (k in c("radial", "linear", "polynomial", "sigmoid")) {{
      fit <- svm(x = as.matrix(tr[, xs]), y = tr$y, type = "eps-regression", kernel = k,
                 cost = 1, epsilon = 0.1, tolerance = 1e-4, gamma = 1 / length(xs),
                 coef0 = 0, degree = 3, scale = TRUE)
      p <- predict(fit, as.matrix(te[, xs]))
      cat(k, sprintf("%.17g", mean((p - te$y)^2)), "\\n")
    }}
    """
    r = dict(line.split() for line in run_r(code).strip().splitlines())
    for kernel, rname in R_KERNEL.items():
        est = m.SVRegressor(kernel, C=1.0, epsilon=0.1, tol=1e-4, gamma=1 / 5, coef0=0.0,
                            degree=3, scale=True).fit(d.loc[tr, XS], d.loc[tr, "y"])
        mse = float(np.mean((est.predict(d.loc[te, XS]) - d.loc[te, "y"]) ** 2))
        assert mse == pytest.approx(float(r[rname]), abs=1e-6), kernel


def test_random_forest_oob_curve_vs_randomforest(tmp_path):
    require_r_packages("randomForest")
    d = _panel()
    n_trees = 500
    f = m.RandomForest(n_trees, max_features=2, min_samples_leaf=5, random_state=0)
    ours = f.fit(d[XS], d["y"]).oob_curve()["mse_oob"].to_numpy()
    code = f"""
    suppressPackageStartupMessages(library(randomForest))
    set.seed(1)
    d <- read.csv("{_csv(d, tmp_path / 'panel.csv')}")
    fit <- randomForest(x = d[, c("x1", "x2", "x3", "x4", "x5")], y = d$y, ntree = {n_trees},
                        mtry = 2, nodesize = 5)
    cat(sprintf("%.17g", fit$mse), sep = "\\n")
    """
    theirs = np.array(run_r(code).split(), dtype=float)
    assert theirs.size == ours.size == n_trees
    for k in (25, 100, 500):
        ratio = ours[k - 1] / theirs[k - 1]
        assert 1 / 3 < ratio < 3, (k, ours[k - 1], theirs[k - 1])
    # same shape: the OOB error falls with more trees and flattens
    for curve in (ours, theirs):
        assert curve[499] < curve[9]
        assert abs(curve[499] - curve[249]) < 0.1 * curve[249]

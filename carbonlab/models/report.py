"""Sentences for chapter 3: the model comparison in words, every number computed.

The chapter calls these instead of assembling sentences from glued numbers (issue 25): each
takes the objects the chapter's visible calls return (the comparison table, the curves, the
architecture search, the split ranking) and returns markdown text. :func:`truth_distance`
measures, on the teaching world, how far each model's test predictions sit from the noise-free
truth.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from carbonlab._util import DataError
from carbonlab.data import log_emissions_per_capita
from carbonlab.models.evaluation import Comparison
from carbonlab.models.nets import STUDY_MAX_PARAMS, bpnn_architectures, bpnn_n_params
from carbonlab.models.registry import BASELINES, DIVERGED_FACTOR, MODEL_LABELS, NAIVE
from carbonlab.models.splits import YearSplit

__all__ = ["describe_data", "describe_random_split", "describe_band", "describe_tree_curves",
           "describe_bpnn_search", "describe_split_ranking", "truth_distance",
           "describe_truth_distance"]

_NAIVE_HOW = {"persistence": "repeats each province's nearest earlier training value",
              "drift": "carries each province's nearest earlier training value forward by its "
                       "mean annual change over the training years"}


def _years(ys: Sequence[int]) -> str:
    return ", ".join(str(int(y)) for y in ys)


def describe_data(panel: pd.DataFrame, drivers: Sequence[str], split: YearSplit) -> str:
    """The drivers, rows and the study's random split of years, with a warning when the
    panel is too short for the study's six test years."""
    years = panel["year"]
    n_test = int(years.isin(split.test_years).sum())
    s = (f"The models use the drivers {', '.join(drivers)} on {len(panel)} province-years "
         f"(rows with a missing driver are dropped; the real data carry only some drivers). "
         f"Training years: {_years(split.train_years)} ({int(years.isin(split.train_years).sum())} "
         f"rows); test years: {_years(split.test_years)} ({n_test} rows).")
    if len(split.test_years) != 6:
        s += (f" With {years.nunique()} years in this panel, the study's 11 training years leave "
              f"{len(split.test_years)} test years instead of its 6, so the random-split scores "
              "below rest on few test years.")
    return s


def describe_random_split(table: pd.DataFrame) -> str:
    """The study's comparison in words: the best variant, fixed effects, the best BP network,
    the study's own 8-7 net, the naive baselines, diverged variants and the sigmoid kernel.

    ``table``: :attr:`Comparison.table` (or its :meth:`Comparison.summary`)."""
    t = table.sort_values("mse_test", kind="stable").reset_index(drop=True)
    best = t.iloc[0]
    s = (f"On this split the lowest test MSE belongs to {best['model']} {best['variant']} "
         f"(MSE {best['mse_test']:.5f}, an RMSE of {best['rmse_mt_test']:,.1f} Mt CO₂ on "
         "provincial totals).")
    fe = t[t["name"] == "fe"]
    if len(fe) and fe.index[0] != 0:
        s += (f" Panel fixed effects reach {fe['mse_test'].iloc[0]:.5f} (rank {fe.index[0] + 1} "
              f"of {len(t)}).")
    bp = t[t["name"] == "bpnn"]
    if len(bp):
        s += (f" The best BP network, {bp['variant'].iloc[0]}, reaches {bp['mse_test'].iloc[0]:.5f} "
              f"(rank {bp.index[0] + 1}).")
        study = bp[bp["variant"] == "8-7 logistic"]
        s += (" The study found its two-layer logistic BP network (8–7) best of all; here it "
              + (f"ranks {study.index[0] + 1} of {len(t)}." if len(study) else "was not run."))
    naive = t[t["name"].isin(NAIVE)]
    learned = t[~t["name"].isin(BASELINES)]
    if len(naive) and len(learned):
        nv = naive.iloc[0]
        worse = int((learned["mse_test"] > nv["mse_test"]).sum())
        base = [MODEL_LABELS[b] for b in BASELINES]
        s += (f" {'All' if worse == len(learned) else f'{worse} of the'} {len(learned)} learned "
              f"variants (the baselines {', '.join(base[:-1])} and {base[-1]} not counted) do "
              f"worse than the best naive baseline, {nv['model']}, which "
              f"{_NAIVE_HOW.get(str(nv['name']), 'ignores the drivers')}.")
    div = t[t["mse_test"] > DIVERGED_FACTOR * t["mse_test"].median()]
    s += (f" Marked *diverged* (test MSE over {DIVERGED_FACTOR:g} times the median variant's, "
          f"so its RMSE in Mt means nothing): {len(div)}"
          + (f" ({', '.join(f'{m} {v}' for m, v in zip(div['model'], div['variant'], strict=True))})"
             if len(div) else "") + ".")
    sig = (t["name"] == "svr") & (t["variant"] == "sigmoid")
    if sig.any():
        m = float(t.loc[sig, "mse_test"].iloc[0])
        s += (f" The sigmoid kernel's test MSE is {m:.3f}, "
              f"{m / t.loc[~sig, 'mse_test'].median():.0f} times the median model's.")
    return s


def describe_band(predictions: pd.DataFrame, panels: Sequence[tuple[str, str]],
                  band: float = 0.15) -> str:
    """Share of test points outside ±``band`` of the 45° line for the grid's ``panels``
    ((model, variant) pairs) and for fixed effects."""
    test = predictions[predictions["set"] == "test"]
    out = ((test["y_true"] - test["y_pred"]).abs() > band).groupby(
        [test["model"], test["variant"]]).mean()
    parts = [f"{100 * out[p]:.0f} % for {p[0]} {p[1]}" for p in panels if p in out.index]
    fe = [k for k in out.index if k[0] == MODEL_LABELS["fe"]]
    s = f"Outside the ±{band:g} band: " + "; ".join(parts)
    if fe:
        s += f" ({100 * out[fe[0]]:.0f} % for fixed effects, not in the grid, as in the study)"
    return s + "."


def describe_tree_curves(curves: pd.DataFrame, table: pd.DataFrame, n_drivers: int) -> str:
    """Where the tree-count curves bottom out, what variant (2) gains over all trees, from
    which count the forest is within 1 % of its final test MSE, and whether the random forest
    is bagging (its out-of-bag ``m`` is every driver)."""
    k_best = curves.loc[curves.groupby("model")["mse_test"].idxmin()].set_index("model")["n_trees"]
    rf = curves[curves["model"] == "random forest"]
    bag = curves[curves["model"] == "bagging"]
    gain = 100 * (1 - rf["mse_test"].min() / rf["mse_test"].iloc[-1])
    within = rf["mse_test"] <= 1.01 * rf["mse_test"].iloc[-1]
    flat = int(rf["n_trees"][~within].max() + 1) if (~within).any() else 1
    m = table.loc[table["model"] == "random forest", "detail"].astype(str).str.extract(
        r"mtry=(\d+)")[0].dropna()
    same = (len(bag) == len(rf) and len(m) > 0 and int(m.iloc[0]) == n_drivers
            and np.allclose(bag["mse_test"].to_numpy(), rf["mse_test"].to_numpy()))
    return (f"The test MSE is lowest at {int(k_best['bagging'])} trees for bagging and "
            f"{int(k_best['random forest'])} for the random forest"
            + (f" (the out-of-bag choice of m is all {n_drivers} drivers, so the random forest is "
               "bagging and its curves hide bagging's)" if same else "")
            + f"; variant (2) improves on all {int(rf['n_trees'].max()):,} trees by {gain:.1f} % "
            f"for the forest. From {flat:,} trees on, the forest's test MSE stays within 1 % of its "
            "final value: beyond that the \"best count\" picks noise in the test set, and choosing "
            "it *on the test set* is itself a small leak of the test data into the model.")


def describe_bpnn_search(search: pd.DataFrame, n_inputs: int,
                         max_params: int = STUDY_MAX_PARAMS) -> str:
    """The budget for ``n_inputs`` inputs, the size of the search and what it found."""
    archs = bpnn_architectures(n_inputs, max_params)
    h1 = int(max(h[0] for h in archs.loc[archs["n_layers"] == 1, "hidden"]))
    best, second = search.iloc[0], search.iloc[1]
    n_close = int((search["mse_test"] <= 1.05 * best["mse_test"]).sum()) - 1
    gap = 100 * (second["mse_test"] / best["mse_test"] - 1)
    close = (f"{n_close} other nets are within 5 % of the best: with this few rows the ranking "
             "among them is not stable (rerun with another seed)." if n_close >= 2 else
             f"The next best net, {second['hidden']} {second['activation']}, is {gap:.1f} % worse"
             + ("; only those two are within 5 % of each other." if n_close == 1 else "."))
    by_act = search.groupby("activation")["mse_test"].median()
    return (f"With {n_inputs} inputs the study's nets have {bpnn_n_params(n_inputs, (12,))} and "
            f"{bpnn_n_params(n_inputs, (8, 7))} parameters; one layer allows at most {h1} nodes "
            f"and two layers (x, y) need {n_inputs + 1}x + xy + 2y + 1 < {max_params}. "
            f"{search['hidden'].nunique()} architectures × {search['activation'].nunique()} "
            f"activations = {len(search)} fits, {search['seconds'].sum() / 60:.1f} minutes in all. "
            f"The lowest test MSE comes from the net {best['hidden']} {best['activation']} "
            f"({int(best['n_params'])} parameters); by median test MSE the best activation is "
            f"{by_act.idxmin()}. {close}")


def describe_split_ranking(ranking: pd.DataFrame) -> str:
    """What the time-ordered split changes: its winner, how much the errors grow, how many
    variants change rank, and whether the forests lose more than fixed effects."""
    best = ranking.sort_values("mse_test_rolling").iloc[0]
    ratio = ranking["mse_test_rolling"] / ranking["mse_test_random"]
    rho = float(ranking[["rank_random", "rank_rolling"]].corr(method="spearman").iloc[0, 1])
    moved = int((ranking["rank_random"] != ranking["rank_rolling"]).sum())
    trees = ranking["model"].isin(["bagging", "random forest"])
    tree_r = float(ratio[trees].median())
    fe = ranking["model"] == MODEL_LABELS["fe"]
    s = (f"Under the time-ordered split the best model is {best['model']} {best['variant']} "
         f"(test MSE {best['mse_test_rolling']:.5f}). The median model's test MSE is "
         f"{ratio.median():.1f} times what the random split reported; {moved} of {len(ranking)} "
         f"variants change rank, and the rank correlation between the two splits is {rho:.2f}.")
    if trees.any() and fe.any():
        fe_r = float(ratio[fe].iloc[0])
        s += (f" The forests' test MSE is multiplied by {tree_r:.1f} (median over their variants), "
              f"that of fixed effects by {fe_r:.1f}. "
              + ("The forests lose more: trees cannot predict beyond the range of their training "
                 "targets, while a linear model carries trends forward." if tree_r > fe_r else
                 "Here the forests do not lose more than fixed effects, although trees cannot "
                 "predict beyond the range of their training targets while a linear model "
                 "carries trends forward."))
    return s


def truth_distance(comparison: Comparison, panel: pd.DataFrame,
                   truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """How far each variant's test predictions sit from the teaching world's noise-free truth.

    The truth is ``α_i + true_index(x_it)`` (:func:`carbonlab.synth.true_index`, read from
    ``truth``, a table like ``truth.csv``), with each province's effect ``α_i`` the mean of
    ``y − true_index`` over the panel's years (the noise averages out). Returns one row per
    (model, variant): ``mse_truth`` (mean squared distance of the test predictions from the
    truth, (ln t CO2/person)²), ``mse_test`` (from the data, noise included), ``rank_truth``;
    closest first. Only for a panel the truth generated (the teaching panel).
    """
    from carbonlab.synth import true_index

    for c in ("region", "year"):
        if c not in panel.columns:
            raise DataError(f"panel: missing column {c!r}")
    idx = pd.Series(true_index(panel, truth), index=panel.index)
    y = log_emissions_per_capita(panel).to_numpy(dtype=float)
    alpha = (pd.Series(y, index=panel.index) - idx).groupby(panel["region"]).transform("mean")
    star = pd.Series((alpha + idx).to_numpy(), index=pd.MultiIndex.from_frame(
        panel[["region", "year"]]))
    test = comparison.predictions[comparison.predictions["set"] == "test"]
    at = star.reindex(pd.MultiIndex.from_frame(test[["region", "year"]])).to_numpy()
    d = test.assign(d2=(test["y_pred"].to_numpy() - at) ** 2,
                    e2=(test["y_pred"] - test["y_true"]) ** 2)
    out = (d.groupby(["model", "variant"], sort=False)
           .agg(mse_truth=("d2", "mean"), mse_test=("e2", "mean")).reset_index()
           .sort_values("mse_truth", kind="stable").reset_index(drop=True))
    out["rank_truth"] = np.arange(1, len(out) + 1)
    out.attrs["units"] = {"mse_truth": "(ln t CO2/person)^2", "mse_test": "(ln t CO2/person)^2"}
    out.attrs["noise_mse"] = float(np.mean((y - (alpha + idx).to_numpy()) ** 2))
    return out


def describe_truth_distance(dist: pd.DataFrame, misfit: dict[str, float] | None = None) -> str:
    """Which model the run finds closest to the truth (from :func:`truth_distance`), where
    linear fixed effects stand, and (``misfit``: :func:`carbonlab.synth.linear_misfit`) how
    much of the truth a linear panel cannot represent even without noise."""
    best = dist.iloc[0]
    fe = dist[dist["model"] == MODEL_LABELS["fe"]]
    s = (f"Closest to the noise-free truth on the test years is {best['model']} "
         f"{best['variant']}: its predictions sit {best['mse_truth']:.5f} (ln t CO₂/person)² "
         f"from the truth on average (RMS {100 * np.sqrt(best['mse_truth']):.1f} %), against a "
         f"test MSE of {best['mse_test']:.5f} from the noisy data.")
    if len(fe) and fe.index[0] != 0:
        f = fe.iloc[0]
        s += (f" Panel fixed effects rank {int(f['rank_truth'])} of {len(dist)} "
              f"({f['mse_truth']:.5f}, {f['mse_truth'] / best['mse_truth']:.1f} times as far).")
    elif len(fe):
        s += " No model comes closer than the linear panel with province effects."
    if misfit:
        s += (f" Even fitted to the noise-free truth, a linear panel misses it by "
              f"{100 * misfit['residual_sd']:.1f} % (s.d.; at most {100 * misfit['residual_max']:.1f} %), "
              f"against the world's noise of {100 * misfit['noise_sd']:.1f} %; "
              f"{100 * misfit['interaction_r2']:.0f} % of that miss is the interaction.")
    return s

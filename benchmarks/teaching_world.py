"""Report on the teaching world: generation time, calibration, the truth's nonlinearity, BMA
recovery, the designed future, scenario cars.

Usage: python benchmarks/teaching_world.py [--seeds 20240601 1 2]

For each seed: seconds to generate the panel, calibration checks within tolerance (all
targets of ``data/teaching/calibration_targets.csv``), what panel FE misses of the truth
without noise (:func:`carbonlab.synth.linear_misfit`), the smallest posterior inclusion
probability of a true driver and the largest of a false one (Zellner g-prior BMA, within
provinces, on the truth's form :func:`carbonlab.synth.true_design` and on the plain linear
design), and under the baseline scenario the true model's provinces not peaked by 2030 and
national peak year (designed: at least 5, and 2026-2030). For the committed seed, national
private cars in 2030 and the fastest provincial car growth in any scenario year for every
shipped scenario and both readings of the moving-average rule. Prints figures; asserts
nothing (the tests do).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    import numpy as np

    from carbonlab import data, peaks, scenarios, synth
    from carbonlab.bma import BMA
    from carbonlab.headline import TrueModel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[synth.SEED, 1, 2, 3])
    a = ap.parse_args()
    targets = synth.calibration_targets()
    true = list(synth.TRUE_COEFFICIENTS)
    for seed in a.seeds:
        t0 = time.perf_counter()
        tables = synth.generate(seed=seed)
        dt = time.perf_counter() - t0
        panel, fu = tables["panel.csv"], tables["fuel_use.csv"]
        chk = synth.check_calibration(panel, fu, targets)
        y = data.log_emissions_per_capita(panel)
        X = panel[list(data.DRIVERS)]
        bma = {}
        for form, design in (("true form", synth.true_design(X, tables["truth.csv"])),
                             ("linear", X)):
            s = BMA(within="individual").fit(design, y, groups=panel["region"]).summary()
            false = s.drop(index=true)["pip"]
            bma[form] = (f"{form}: min PIP of a true driver {s.loc[true, 'pip'].min():.3f}, max "
                         f"PIP of a false one {false.max():.3f} ({false.idxmax()})")
        prov = chk["region"] != "China"
        m = synth.linear_misfit(panel, tables["truth.csv"])
        paths = scenarios.driver_paths(panel, "baseline", drivers=list(peaks.KEY_DRIVERS),
                                       targets=tables["targets.csv"])
        fc = peaks.forecast(TrueModel(tables["truth.csv"]).fit(panel), panel, paths)
        lag = int((peaks.peak_table(fc)["class"] == peaks.CLASS_NOT).sum())
        nat = peaks.national_curve(fc)
        pk = peaks.find_peak(nat["year"], nat["emissions_mt"])
        print(f"seed {seed}: generated in {dt:.1f} s; calibration {int(chk['ok'].sum())}/{len(chk)} "
              f"within tolerance (worst province {chk.loc[prov, 'deviation_pct'].abs().max():.2f} %, "
              f"worst national {chk.loc[~prov, 'deviation_pct'].abs().max():.2f} %); panel FE on the "
              f"noise-free truth leaves residual s.d. {m['residual_sd']:.3f} (noise {m['noise_sd']:.3f}, "
              f"{100 * m['interaction_r2']:.0f} % of it the interaction); BMA {bma['true form']}; "
              f"{bma['linear']}; baseline under the truth: {lag} provinces not peaked by 2030, national "
              + (f"peak {pk.peak_year}" if pk.peaked else "no peak by 2030"))
    panel, plans = data.load_panel("teaching"), data.load_targets("teaching")
    for name in scenarios.list_scenarios():
        for rule in scenarios.RULES:
            paths = scenarios.driver_paths(panel, name, drivers=["lcar"], targets=plans, rule=rule)
            cars = np.exp(paths.pivot(index="region", columns="year", values="lcar"))
            g = cars.pct_change(axis=1).loc[:, panel["year"].max() + 1:]
            print(f"scenario {name:10s} rule {rule:11s}: national private cars 2030 "
                  f"{cars[2030].sum() / 1e4:.2f} 亿 (target 3-4.5), fastest provincial growth "
                  f"{100 * g.max().max():.1f} %/yr ({g.max(axis=1).idxmax()}; limit 15)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Rolling-origin skill on the real panel: conditional and unconditional, horizons 1-8.

The same backtest chapter 4 decides with (:func:`carbonlab.forecast.skill.skill`): at every
origin T every panel model of the registry is fitted on the years <= T and forecasts
T+1..T+8 (as far as the data reach), anchored at T, with the drivers later observed
(*conditional*) and with the driver paths the trend rule would have drawn at T
(*unconditional*). Prints MAPE (%) per model and horizon, the mean ratios to persistence
(conditional at 3-8 years: the scenario model's target is <= 0.8) and the calibration of the
outlook's members (90 % coverage target 85-95 %, Brier <= 0.9 x the base rate's).

Usage::

    CARBONLAB_DATA_DIR=../shared/data python benchmarks/real_backtest.py [--dataset ceads]
"""

from __future__ import annotations

import argparse
import time


def main() -> int:
    from carbonlab.forecast.calibrate import calibration_check, calibration_summary, ensemble_models
    from carbonlab.forecast.outlook import chapter_inputs
    from carbonlab.forecast.skill import skill

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ceads")
    ap.add_argument("--no-cache", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    inp = chapter_inputs(args.dataset)
    panel, drivers = inp["panel"], tuple(inp["drivers"])
    s = skill(panel, drivers, cache=not args.no_cache)
    print(f"{args.dataset}: {int(panel['year'].min())}-{int(panel['year'].max())}, "
          f"{panel['region'].nunique()} regions, drivers {', '.join(drivers)}; "
          f"origins {s.origins[0]}-{s.origins[-1]}")
    print(s.summary().round(2).to_string(index=False))
    print(s.describe())
    c = s.conditional()
    r = float(c.loc[s.scenario_model, "ratio_persistence"])
    print(f"scenario model {s.scenario_model}: conditional MAPE at 3-8 years = {r:.3f} x "
          f"persistence's ({'meets' if r <= 0.8 else 'misses'} the 0.8 target)")
    unc = s.predictions[s.predictions["mode"] == "unconditional"]
    for pool in dict.fromkeys([(s.forecaster,), ensemble_models(s.forecaster)]):
        cal = calibration_summary(calibration_check(panel, unc, models=pool))
        print(f"members of {' + '.join(pool)}: 90 % coverage {cal['coverage_pct']:.1f} % "
              f"(the band of {pool[0]}; target 85-95), Brier {cal['brier']:.3f} = "
              f"{cal['brier_ratio']:.2f} x the base rate's {cal['brier_base']:.3f} "
              f"(target <= 0.9) over {cal['n_calls']} calls")
    print(f"elapsed {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

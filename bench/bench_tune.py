"""Cost and result of self-tuning (``rtm.tuning.tune``) on the Chicago sample and Essex.

Run from the project folder:

    PYTHONPATH=. python bench/bench_tune.py [chicago-sample|chicago-city|essex ...]

Prints, per data set, the load time, the tuning's wall time (validation and test spans
apart) and its result: the chosen setting and the test span's mean harm capture at the top
20 cells per district of tuned, shipped default, naive, the leave-one-period-out ceiling and
the oracle. The time is compared with one plain back-test of the same periods
(``run_backtest`` of naive and combined), measured in the same run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def inputs(name: str):
    from rtm.layouts import ColumnMap
    from rtm.weekly_job import StudyInputs
    from rtm.weights import HarmWeights

    if name == "chicago-sample":
        d = ROOT / "sample_geo" / "chicago"
        return "week", StudyInputs((str(d / "assaults_2016_2019.csv"),), str(d / "districts.geojson"),
                                   HarmWeights.count(), "District",
                                   mapping=ColumnMap(offence_value="Aggravated assault"))
    if name == "chicago-city":
        d = SHARED / "chicago"
        return "week", StudyInputs((str(d / "crimemapping" / "chicago_aggravated_assaults.csv.gz"),),
                                   str(d / "urbanspatial_ch5" / "policeDistricts.geojson"), HarmWeights.count(),
                                   "District", mapping=ColumnMap(offence_value="Aggravated assault"))
    d = SHARED / "essex_policeuk"
    return "month", StudyInputs((str(d / "crime"),), str(d / "boundaries" / "essex_southend_thurrock_lsoa2011.geojson"),
                                HarmWeights.cchi(), "LSOA11NM", area_tolerance_m=150.0)


def main(names):
    from rtm.backtest import BacktestSettings, run_backtest
    from rtm.tuning import tune
    from rtm.weekly_job import load_study

    for name in names:
        kind, study = inputs(name)
        t = time.perf_counter()
        areas, inc = load_study(study)
        load = time.perf_counter() - t
        res = tune(inc, areas, kind=kind, area_tolerance_m=study.area_tolerance_m)
        from rtm.periods import month_period, periods_between, week_period

        first = week_period(res.validation_periods[0]) if kind == "week" else month_period(res.validation_periods[0])
        last = res.test_periods[-1]
        t = time.perf_counter()
        bt = run_backtest(inc, areas, periods_between(first, last),
                          settings=BacktestSettings(methods=("naive", "combined"), area_shares=(),
                                                    area_tolerance_m=study.area_tolerance_m))
        peer = time.perf_counter() - t
        print(f"\n== {name}: {len(inc):,} incidents, {len(areas.names)} districts, loaded in {load:.1f} s")
        print(f"validation {res.validation_periods[0]}..{res.validation_periods[-1]} "
              f"({len(res.validation_periods)}), test {res.test_periods[0]}..{res.test_periods[-1]} "
              f"({len(res.test_periods)}); windows tried {res.history_months}")
        print(f"tuning {res.seconds['total']:.1f} s (validation {res.seconds['validation']:.1f} s, test "
              f"{res.seconds['test']:.1f} s); one back-test of naive+combined over both spans {peer:.1f} s; "
              f"ratio {res.seconds['total'] / peer:.1f}")
        print(f"chosen: {res.chosen_name} ({res.chosen.describe()})")
        for n in res.notes:
            print("note:", n)
        print(res.test.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print("validation, top 8 and bounds:")
        print(res.validation.head(8).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(res.validation[res.validation["name"].isin(["naive", "shipped default", "lopo ceiling",
                                                          "oracle"])].to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:] or ["chicago-sample", "essex"])

"""Which fixed setting of the tuning family is best on average across the development data?

    PYTHONPATH=. python bench/choose_default.py

Scores every member of :func:`rtm.tuning.family` (all history windows), naive and the
leave-one-period-out ceiling on fixed spans: Essex police.uk monthly (all 14 districts,
2018-02..2019-02), the Chicago sample weekly (2018-2019) and Chicago whole city weekly
(2018-2019), harm captured by the top 20 cells per district. Prints each setting's
capture relative to naive per data set, its mean and its worst, best mean first. The
shipped default (``rtm.ranking.ScoreSettings()``) is the best mean among settings never
below naive; docs/backtest.md ("Self-tuning") has the table.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from bench_tune import inputs  # noqa: E402

SPANS = {"essex": ("2018-02", "2019-02"), "chicago-sample": ("2018-01-01", "2019-12-31"),
         "chicago-city": ("2018-01-01", "2019-12-31")}


def main(names):
    from rtm.periods import month_period, periods_between, week_period
    from rtm.ranking import ScoreSettings
    from rtm.tuning import NAIVE, capture_table, family
    from rtm.weekly_job import load_study

    rel = {}
    for name in names:
        kind, study = inputs(name)
        areas, inc = load_study(study)
        a, b = SPANS[name]
        first = week_period(a) if kind == "week" else month_period(a)
        periods = periods_between(first, b)
        members = family(150.0) | {"shipped default": ScoreSettings()}
        t = time.perf_counter()
        table = capture_table(inc, areas, periods, members, area_tolerance_m=study.area_tolerance_m, bounds=True)
        means = table.groupby("name")["capture"].mean()
        print(f"{name}: {len(periods)} periods, {time.perf_counter() - t:.1f} s; naive {means[NAIVE]:.4f}, "
              f"shipped default {means['shipped default']:.4f}, lopo {means.get('lopo ceiling', float('nan')):.4f}, "
              f"oracle {means['oracle']:.4f}", flush=True)
        rel[name] = means / means[NAIVE] - 1.0
    out = pd.DataFrame(rel)
    out["mean"] = out.mean(axis=1)
    out["worst"] = out[list(rel)].min(axis=1)
    out = out.sort_values("mean", ascending=False)
    pd.set_option("display.width", 200)
    print((100 * out).round(2).to_string())


if __name__ == "__main__":
    main(sys.argv[1:] or list(SPANS))

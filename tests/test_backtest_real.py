"""The back-test on real data: the bundled samples (always) and ../shared/data (when present)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rtm.backtest import BacktestSettings, run_backtest
from rtm.terrain_settings import RtmSettings
from rtm.terrain_store import TerrainStore
from rtm.periods import month_period, periods_between, week_period
from rtm.samples import SAMPLE_DIR, SAMPLES


def _check_bounds(metrics: pd.DataFrame) -> None:
    """What must hold on any data: shares in [0, 1], PEI <= 1, the oracle on top, random at
    the area share."""
    v = metrics.set_index(["period", "district", "selection", "method", "metric"])["value"]
    for name in ("hit_rate", "harm_capture", "pei", "pei_harm", "kept", "rbo"):
        x = metrics.loc[metrics["metric"] == name, "value"]
        assert ((x >= -1e-12) & (x <= 1 + 1e-9)).all(), name
    cap = v.xs("harm_capture", level="metric").unstack("method")
    for m in cap.columns:
        assert ((cap["oracle"] >= cap[m] - 1e-9) | cap[m].isna()).all(), m  # NaN: not scored in that period
    # per district a random list's expected hit rate is its area share ('all' pools districts
    # whose shares differ a little, so it is not exactly the pooled share)
    rnd = metrics[(metrics["method"] == "random") & (metrics["metric"] == "hit_rate") & (metrics["district"] != "all")]
    np.testing.assert_allclose(rnd["value"], rnd["area_share"], rtol=1e-9)


def test_chicago_sample_weekly_with_the_risk_terrain(tmp_path):
    from rtm.catalogue import load_catalogue
    from rtm.variables import attractor_buffer

    inc, areas = SAMPLES["chicago"].load()
    cat = load_catalogue("layers")
    layers = {n: cat[n].load(None, areas=areas, buffer_m=attractor_buffer(100, 3))
              for n in ("liquor_retail", "street_lights_out", "abandoned_buildings")}
    weeks = periods_between(week_period("2018-03-05"), "2018-04-02")
    schedule = TerrainStore(inc, areas, layers, RtmSettings())
    res = run_backtest(inc, areas, weeks, terrain_for=schedule)
    assert res.periods == [p.key for p in weeks]
    assert [f"{f.fit_to:%Y-%m-%d}" for f in schedule.fits] == ["2017-12-11", "2018-03-12"]  # one fit per block
    m = res.metrics
    assert set(m["method"]) == set(BacktestSettings().methods)
    assert set(m["district"]) == {"1", "12", "14", "18", "all"}
    _check_bounds(m)
    # stability from the second week on, for the ranked methods
    kept = m[(m["metric"] == "kept") & (m["method"] == "combined")]
    assert sorted(kept["period"].unique()) == [p.key for p in weeks[1:]]
    # the weekly list's default spots: 20 per district, 80 for all
    top = m[(m["selection"] == "top 20") & (m["metric"] == "hit_rate")]
    assert set(top.loc[top["district"] == "all", "n_spots"]) == {80}
    s = res.summary()
    pai = s[(s["district"] == "all") & (s["selection"] == "area 2.6%") & (s["metric"] == "pai")]
    pai = pai.set_index("method")["mean"]
    assert pai["random"] == pytest.approx(1.0, abs=0.02)
    assert pai["combined"] > 2 and pai["naive"] > 2  # assaults concentrate: far better than chance
    paths = res.write(tmp_path)
    assert list(pd.read_csv(paths["backtest"]).columns) == ["period", "district", "method", "selection",
                                                            "area_share", "n_spots", "metric", "value"]
    assert {"mean", "sd", "median", "q25", "q75", "n_periods"} <= set(pd.read_csv(paths["summary"]).columns)
    for name in ("capture_curve", "capture_by_period", "pei_by_period"):
        assert paths[name].stat().st_size > 10_000


def test_southend_sample_monthly_through_the_command_line(tmp_path):
    from rtm.cli import main

    s = SAMPLES["southend"]
    args = ["backtest", "--incidents", str(SAMPLE_DIR / s.incidents[0]), "--area", str(SAMPLE_DIR / s.areas),
            "--area-field", s.area_field, "--area-tolerance", "150", "--period", "month", "--from", "2018-05",
            "--to", "2018-12", "--out", str(tmp_path)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    assert "August 2018 is skipped" in r.output and "September 2018 is skipped" in r.output
    m = pd.read_csv(tmp_path / "backtest.csv")
    assert sorted(m["period"].unique()) == ["2018-05", "2018-06", "2018-07", "2018-10", "2018-11", "2018-12"]
    assert set(m["method"]) == {"naive", "kde", "phs", "random", "oracle", "lopo"}  # no layers: no rtm, no combined
    assert "rtm and combined are left out" in r.output
    # PAI on harm and on counts, each named; the ceilings say what they see
    assert "PAI (harm)" in r.output and "PAI (counts)" in r.output
    assert r.output.count("PAI") == r.output.count("PAI (harm)") + r.output.count("PAI (counts)")  # no bare PAI
    assert "lopo: sees the rest of the year" in r.output and "oracle: sees the period" in r.output
    assert "since the command line was loaded" in r.output
    assert "'phs' is not scored" in (tmp_path / "notes.txt").read_text()
    m["period"] = m["period"].astype(str)
    _check_bounds(m)
    # stability only between consecutive months: not for 2018-10 (September is missing)
    kept = m[(m["metric"] == "kept") & (m["method"] == "naive")]
    assert sorted(kept["period"].unique()) == ["2018-06", "2018-07", "2018-11", "2018-12"]
    r = CliRunner().invoke(main, args[:-8] + ["--period", "week", "--from", "2018-05-07", "--to", "2018-06-04",
                                              "--out", str(tmp_path / "w")])
    assert r.exit_code == 2 and "month only" in r.output and "Traceback" not in r.output


def test_a_gap_in_the_data_is_named_with_its_fix(tmp_path):
    """Two months of the Southend sample ten months apart, 6 months of history: the later
    month cannot be scored, and the message says it has incidents, where the data stops
    before it, and which --history-months reaches over the gap; that setting scores it."""
    import shutil

    from rtm.cli import main

    s = SAMPLES["southend"]
    crime = tmp_path / "crime"
    crime.mkdir()
    for month in ("2018-04", "2019-02"):
        shutil.copy(SAMPLE_DIR / s.incidents[0] / f"{month}-southend-street.csv", crime)
    args = ["backtest", "--incidents", str(crime), "--area", str(SAMPLE_DIR / s.areas), "--area-field",
            s.area_field, "--area-tolerance", "150", "--period", "month", "--from", "2019-02", "--to", "2019-02",
            "--methods", "naive,random", "--out", str(tmp_path / "out")]
    r = CliRunner().invoke(main, args + ["--history-months", "6"])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "the month February 2019 has" in r.output and "none is recorded in the 6 months before it" in r.output
    assert "2018-05-01: the data has a gap" in r.output and "--history-months 10 " in r.output
    r = CliRunner().invoke(main, args + ["--history-months", "10"])
    assert r.exit_code == 0, r.output
    assert "history 10 months" in r.output


@pytest.mark.realdata
def test_essex_districts_monthly(essex_dir):
    from rtm.areas import load_areas
    from rtm.incidents import load_incidents

    areas = load_areas(essex_dir / "boundaries", "LSOA11NM", select=["Basildon", "Southend-on-Sea"])
    crime = essex_dir / "crime"
    inc = load_incidents([crime / f"2018-{m:02d}-essex-street.csv" for m in range(1, 6)], areas=areas,
                         area_tolerance_m=150)
    res = run_backtest(inc, areas, periods_between(month_period("2018-04"), "2018-05-01"),
                       settings=BacktestSettings(methods=("naive", "kde", "phs", "random", "oracle"),
                                                 area_tolerance_m=150))
    assert res.periods == ["2018-04", "2018-05"]
    _check_bounds(res.metrics)
    s = res.summary()
    cap = s[(s["district"] == "Basildon") & (s["selection"] == "area 5%") & (s["metric"] == "harm_capture")]
    assert (cap.set_index("method")["mean"].drop(["random", "oracle"]) > 0.15).all()


@pytest.mark.realdata
def test_chicago_full_city_weeks(chicago_dir):
    from rtm.areas import load_areas
    from rtm.incidents import load_incidents
    from rtm.layouts import ColumnMap
    from rtm.weights import HarmWeights

    areas = load_areas(chicago_dir / "urbanspatial_ch5" / "policeDistricts.geojson", "District")
    inc = load_incidents([chicago_dir / "crimemapping" / "chicago_aggravated_assaults.csv.gz"],
                         mapping=ColumnMap(offence_value="Aggravated assault"), weights=HarmWeights.from_name("count"),
                         areas=areas)
    weeks = periods_between(week_period("2019-06-03"), "2019-06-10")
    res = run_backtest(inc, areas, weeks, settings=BacktestSettings(methods=("naive", "kde", "phs", "random",
                                                                             "oracle")))
    assert res.periods == ["2019-06-03", "2019-06-10"]
    _check_bounds(res.metrics)
    assert len(set(res.metrics["district"])) >= 23

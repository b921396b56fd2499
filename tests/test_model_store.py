"""The terrain store: which terrain serves a period, what names a stored one, reading back what
was written, the look-ahead guard, and one key whichever front asks."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from rtm import terrain_store
from rtm.catalogue import load_catalogue
from rtm.errors import InputError
from rtm.periods import week_period
from rtm.samples import SAMPLES
from rtm.terrain import RiskTerrain
from rtm.terrain_settings import RtmSettings
from rtm.terrain_store import (FixedTerrain, TerrainStore, fit_model, model_key, refit_date, store_terrain,
                               stored_terrain)

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = RtmSettings(cell_size=100.0, block_length=100.0, bands=3)
WEEK = week_period("2019-03-04")


@pytest.fixture(scope="module")
def chicago():
    inc, areas = SAMPLES["chicago"].load()
    cat = load_catalogue(ROOT / "layers")
    layers = {n: cat[n].load(None, areas=areas, buffer_m=300.0) for n in ("liquor_retail", "abandoned_buildings")}
    return inc, areas, layers


@pytest.fixture(scope="module")
def chicago_terrain(chicago):
    inc, areas, layers = chicago
    return fit_model(inc, areas, layers, SETTINGS, refit_date(WEEK), "week")[1]


def test_the_key_changes_with_every_input_and_only_then(chicago, monkeypatch):
    inc, areas, layers = chicago
    fit_to = refit_date(WEEK)
    key = model_key(inc, areas, layers, SETTINGS, fit_to, "week")
    assert key == model_key(inc, areas, layers, RtmSettings(100, 100, 3), fit_to, "week")
    used = inc.frame.index[(inc.frame["date_start"] < fit_to) & (inc.frame["date_start"] >= fit_to - pd.Timedelta(weeks=52))]
    fewer = dataclasses.replace(inc, frame=inc.frame.drop(used[:1]))  # one incident less in the year fitted
    outside = dataclasses.replace(inc, frame=inc.frame[inc.frame["date_start"] < fit_to])  # only later ones dropped
    assert model_key(outside, areas, layers, SETTINGS, fit_to, "week") == key  # the key is of the data used
    others = [
        model_key(inc, areas, layers, dataclasses.replace(SETTINGS, cell_size=50.0), fit_to, "week"),
        model_key(inc, areas, layers, dataclasses.replace(SETTINGS, bands=4), fit_to, "week"),
        model_key(inc, areas, layers, dataclasses.replace(SETTINGS, seed=1), fit_to, "week"),
        model_key(inc, areas, layers, dataclasses.replace(SETTINGS, family="poisson"), fit_to, "week"),
        model_key(inc, areas, layers, SETTINGS.with_factors({"liquor_retail": "density"}), fit_to, "week"),
        model_key(inc, areas, layers, SETTINGS, fit_to + pd.Timedelta(weeks=13), "week"),
        model_key(inc, areas, {"liquor_retail": layers["liquor_retail"]}, SETTINGS, fit_to, "week"),
        model_key(inc, areas.select(["1", "12"]), layers, SETTINGS, fit_to, "week"),
        model_key(fewer, areas, layers, SETTINGS, fit_to, "week"),
    ]
    monkeypatch.setattr(terrain_store, "code_fingerprint", lambda: "other model code")
    others.append(model_key(inc, areas, layers, SETTINGS, fit_to, "week"))
    assert len({key, *others}) == len(others) + 1


def test_a_stored_terrain_reads_back_whole_and_a_damaged_one_is_refitted(chicago_terrain, tmp_path):
    terrain = chicago_terrain
    assert stored_terrain(tmp_path, "k") is None
    store_terrain(tmp_path, "k", terrain)
    back = stored_terrain(tmp_path, "k")
    np.testing.assert_array_equal(back.rrs, terrain.rrs)
    np.testing.assert_array_equal(back.presence, terrain.presence)
    assert back.factors.equals(terrain.factors)
    assert json.loads(json.dumps(terrain.fitted, default=str)) == back.fitted
    assert (back.data_from, back.data_to) == (terrain.data_from, terrain.data_to)
    assert [p.name for p in tmp_path.iterdir()] == ["k"]  # no temporary folder left behind
    (tmp_path / "k" / "risk_factors.tif").write_bytes(b"not a GeoTIFF")
    assert stored_terrain(tmp_path, "k") is None
    store_terrain(tmp_path, "k", terrain)  # replaced whole
    assert stored_terrain(tmp_path, "k") is not None


def test_an_entry_stored_meanwhile_by_another_process_is_kept(chicago_terrain, tmp_path, monkeypatch):
    terrain = chicago_terrain
    store_terrain(tmp_path / "other", "k", terrain)  # the other process's finished entry
    real_replace = terrain_store.os.replace

    def another_process_first(src, dst):
        real_replace(tmp_path / "other" / "k", dst)  # lands just before ours
        return real_replace(src, dst)

    monkeypatch.setattr(terrain_store.os, "replace", another_process_first)
    store_terrain(tmp_path, "k", terrain)
    monkeypatch.undo()
    assert stored_terrain(tmp_path, "k") is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k", "other"]  # our temporary folder is gone


def test_the_store_fits_once_per_block_then_reads_after_a_restart(chicago, tmp_path):
    inc, areas, layers = chicago
    store = TerrainStore(inc, areas, layers, SETTINGS, folder=tmp_path)
    first = store.for_period(WEEK)
    assert store.for_period(WEEK.previous()) is first  # the same 13-week block: no second fit
    assert [f.how for f in store.fits] == ["fitted"]
    assert [p.name for p in tmp_path.iterdir()] == [store.fits[0].key]
    restarted = TerrainStore(inc, areas, layers, SETTINGS, folder=tmp_path)
    again = restarted.for_period(WEEK)
    assert [f.how for f in restarted.fits] == ["read"]
    np.testing.assert_array_equal(again.rrs, first.rrs)
    assert restarted.entry(WEEK, need_result=True).result is not None  # the model page's full report


def test_a_failed_fit_is_remembered_not_repeated(chicago, monkeypatch):
    inc, areas, layers = chicago
    store = TerrainStore(inc, areas, layers, SETTINGS)
    early = week_period("2016-01-04")  # no year of data before it
    with pytest.raises(InputError, match="incident"):
        store.for_period(early)
    monkeypatch.setattr(terrain_store, "fit_model", lambda *a, **k: pytest.fail("fitted twice"))
    with pytest.raises(InputError, match="incident"):
        store.for_period(early)


def test_an_incident_at_three_pm_on_the_periods_first_day_never_reaches_its_model(chicago):
    inc, areas, layers = chicago
    fit_to = refit_date(WEEK)
    block_first_week = week_period(fit_to)
    f = inc.frame
    planted = f.iloc[:1].copy()
    planted["date_start"] = planted["date_end"] = fit_to + pd.Timedelta(hours=15)
    more = dataclasses.replace(inc, frame=pd.concat([f, planted], ignore_index=True))
    store = TerrainStore(more, areas, layers, SETTINGS)
    terrain = store.for_period(block_first_week)  # fitted up to the block's first moment, the planted one left out
    assert terrain.data_to <= block_first_week.start
    assert model_key(more, areas, layers, SETTINGS, fit_to, "week") == \
        model_key(inc, areas, layers, SETTINGS, fit_to, "week")
    # a model fitted on everything up to that 15:00 incident (as 'rtm model' may be) is refused for the week
    upto = dataclasses.replace(more, frame=more.frame[more.frame["date_start"] <= planted["date_start"].iloc[0]])
    _, seen = fit_model(upto, areas, layers, SETTINGS, fit_to + pd.Timedelta(days=1), "week")
    assert seen.data_to == fit_to + pd.Timedelta(hours=15) + pd.Timedelta(1, "ns")
    with pytest.raises(InputError, match="15:00"):
        FixedTerrain(seen).for_period(block_first_week)
    with pytest.raises(InputError, match="fitted on incidents up to"):
        seen.check_before(block_first_week)
    seen.check_before(block_first_week.next())  # a week later it saw nothing of the period


def test_a_terrain_read_back_keeps_its_exact_data_window(chicago_terrain, tmp_path):
    t = dataclasses.replace(chicago_terrain, data_to=pd.Timestamp("2018-12-31 15:00:00.000000001"))
    t.write(tmp_path)
    assert RiskTerrain.read(tmp_path).data_to == pd.Timestamp("2018-12-31 15:00:00.000000001")


@pytest.mark.slow
def test_the_command_line_and_the_app_key_the_same_terrain_alike(tmp_path, monkeypatch):
    """``rtm weekly`` on the Chicago sample stores its terrain under the key the app's store
    gives for the same data and settings (the sample's factors, 100 m cells)."""
    from rtm.cli import main

    s = SAMPLES["chicago"]
    monkeypatch.chdir(ROOT)
    args = ["weekly", "--incidents", "sample_geo/chicago/assaults_2016_2019.csv", "--offence-value",
            "Aggravated assault", "--weights", "count", "--area", "sample_geo/chicago/districts.geojson",
            "--area-field", "District", "--factors", ",".join(s.factors), "--cell-size", str(s.cell_size),
            "--block-length", str(s.block_length), "--bands", str(s.bands), "--week", "2019-03-04",
            "--out", str(tmp_path / "lists")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    cli_keys = [p.name for p in (tmp_path / "lists" / "models").iterdir()]

    from app_pages import models  # the app's store, outside a server: no Streamlit run needed
    from app_pages.datasets import Dataset, ModelSettings

    inc, areas = s.load()
    ds = Dataset(id="chicago", title=s.title, incidents=inc, areas=areas, kind="week",
                 model=ModelSettings(tuple(s.factors), RtmSettings(s.cell_size, s.block_length, s.bands)))
    monkeypatch.setenv("RTM_MODEL_DIR", str(tmp_path / "lists" / "models"))
    store = models.terrain_store(ds, ds.model)
    assert cli_keys == [store.key(store.refit_date(WEEK), "week")]
    assert models.fitted(ds, ds.model, WEEK).how == "read"  # the app reads what the weekly run fitted

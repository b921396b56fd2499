"""Fitted terrains kept on disk: what names them, and reading back what was written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtm import publish
from rtm.catalogue import load_catalogue
from rtm.periods import week_period
from rtm.publish import fit_terrain, model_key, refit_date, store_terrain, stored_terrain
from rtm.samples import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = dict(cell_size=100.0, block_length=100.0, bands=3)


@pytest.fixture(scope="module")
def chicago():
    inc, areas = SAMPLES["chicago"].load()
    cat = load_catalogue(ROOT / "layers")
    layers = {n: cat[n].load(None, areas=areas, buffer_m=300.0) for n in ("liquor_retail", "abandoned_buildings")}
    return inc, areas, layers


def test_the_key_changes_with_every_input_and_only_then(chicago, monkeypatch):
    inc, areas, layers = chicago
    fit_to = refit_date(week_period("2019-03-04"))
    key = model_key(inc, areas, layers, fit_to, **SETTINGS)
    assert key == model_key(inc, areas, layers, fit_to, **SETTINGS)
    others = [
        model_key(inc, areas, layers, fit_to, **{**SETTINGS, "cell_size": 50.0}),
        model_key(inc, areas, layers, fit_to, **{**SETTINGS, "bands": 4}),
        model_key(inc, areas, layers, fit_to + pd.Timedelta(weeks=13), **SETTINGS),
        model_key(inc, areas, {"liquor_retail": layers["liquor_retail"]}, fit_to, **SETTINGS),
        model_key(inc, areas, layers, fit_to, **SETTINGS, operationalisations={"liquor_retail": "density"}),
        model_key(inc, areas, layers, fit_to, **SETTINGS, extra=("count",)),
        model_key(inc, areas.select(["1", "12"]), layers, fit_to, **SETTINGS),
    ]
    monkeypatch.setattr(publish, "code_fingerprint", lambda: "other model code")
    others.append(model_key(inc, areas, layers, fit_to, **SETTINGS))
    assert len({key, *others}) == len(others) + 1


def test_a_stored_terrain_reads_back_whole_and_a_damaged_one_is_refitted(chicago, tmp_path):
    inc, areas, layers = chicago
    terrain = fit_terrain(inc, areas, layers, refit_date(week_period("2019-03-04")), "week", **SETTINGS)
    assert stored_terrain(tmp_path, "k") is None
    store_terrain(tmp_path, "k", terrain)
    back = stored_terrain(tmp_path, "k")
    np.testing.assert_array_equal(back.rrs, terrain.rrs)
    np.testing.assert_array_equal(back.presence, terrain.presence)
    assert back.factors.equals(terrain.factors) and back.fitted == terrain.fitted
    assert [p.name for p in tmp_path.iterdir()] == ["k"]  # no temporary folder left behind
    (tmp_path / "k" / "risk_factors.tif").write_bytes(b"not a GeoTIFF")
    assert stored_terrain(tmp_path, "k") is None
    store_terrain(tmp_path, "k", terrain)  # replaced whole
    assert stored_terrain(tmp_path, "k") is not None


def test_an_entry_stored_meanwhile_by_another_process_is_kept(chicago, tmp_path, monkeypatch):
    inc, areas, layers = chicago
    terrain = fit_terrain(inc, areas, layers, refit_date(week_period("2019-03-04")), "week", **SETTINGS)
    store_terrain(tmp_path / "other", "k", terrain)  # the other process's finished entry
    real_replace = publish.os.replace

    def another_process_first(src, dst):
        real_replace(tmp_path / "other" / "k", dst)  # lands just before ours
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", another_process_first)
    store_terrain(tmp_path, "k", terrain)
    monkeypatch.undo()
    assert stored_terrain(tmp_path, "k") is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k", "other"]  # our temporary folder is gone

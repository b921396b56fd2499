"""A whole risk terrain modelling run: ``rtm model`` on the bundled Chicago sample writes
the factor table, the risk terrain GeoTIFF and the report; bad input stops with one message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

from rtm.areas import load_areas
from rtm.cli import main
from rtm.terrain_settings import RtmSettings
from rtm.errors import InputError
from rtm.grid import Grid
from rtm.pipeline import FACTOR_COLUMNS, run_rtm

ROOT = Path(__file__).resolve().parents[1]
CHI = ROOT / "sample_geo" / "chicago"
FACTORS = "liquor_retail,abandoned_buildings,street_lights_out"


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def model_args(out, **change):
    opts = {"--incidents": str(CHI / "burglaries_2017.geojson"), "--area": str(CHI / "districts.geojson"),
            "--area-field": "District", "--catalogue": str(ROOT / "layers"), "--factors": FACTORS,
            "--cell-size": "100", "--block-length": "100", "--bands": "3", "--weights": "count", "--out": str(out)}
    opts.update(change)
    return [a for k, v in opts.items() for a in (k, v)]


@pytest.fixture(scope="module")
def chicago_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rtm") / "chicago"
    res = run("model", *model_args(out))
    return res, out


def test_model_command_prints_the_run_and_writes_three_files(chicago_run):
    res, out = chicago_run
    assert res.exit_code == 0, res.output
    for text in ("Incidents: 958 in, 958 used", "Layer liquor_retail:", "Model:", "RRV", "Highest risk class",
                 "Wrote:"):
        assert text in res.output
    for name in ("rtm_factors.csv", "risk_terrain.tif", "report.html"):
        assert (out / name).stat().st_size > 0
        assert str(out / name) in res.output
    assert "Traceback" not in res.output


def test_factor_table_has_the_documented_columns_and_rrv_is_exp_coefficient(chicago_run):
    _, out = chicago_run
    table = pd.read_csv(out / "rtm_factors.csv", keep_default_na=False, na_values=[""])
    assert list(table.columns) == FACTOR_COLUMNS
    rate = table[table["type"] == "rate"]
    assert len(rate) >= 1 and set(rate["factor"]) <= set(FACTORS.split(","))
    np.testing.assert_allclose(rate["rrv"], np.exp(rate["coefficient"]), rtol=1e-9)
    assert (rate["spatial_influence_m"].isin([100, 200, 300])).all()
    assert rate["operationalisation"].isin(["proximity", "density"]).all()
    assert (rate["rrv"].diff().dropna() <= 0).all()  # highest RRV first
    assert set(table["type"]) <= {"rate", "overdispersion"}


def test_geotiff_is_on_the_grid_with_rrs_from_1_and_nan_outside(chicago_run):
    _, out = chicago_run
    grid = Grid.from_areas(load_areas(CHI / "districts.geojson", "District"), 100)
    with rasterio.open(out / "risk_terrain.tif") as src:
        band = src.read(1)
        assert src.transform == grid.transform
        assert src.crs.to_epsg() == grid.crs.to_epsg() == 32616
        assert band.shape == grid.shape
    assert np.isnan(band[~grid.mask]).all()
    inside = band[grid.mask]
    assert np.isfinite(inside).all() and inside.min() == pytest.approx(1.0) and inside.max() > 1.0


def test_missing_area_file_gives_one_message_and_exit_2(tmp_path):
    res = run("model", *model_args(tmp_path / "o", **{"--area": str(tmp_path / "nowhere.geojson")}))
    assert res.exit_code == 2
    assert "nowhere.geojson: the file or folder does not exist. Fix:" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "o").exists()


def test_unknown_factor_gives_one_message_and_exit_2(tmp_path):
    res = run("model", *model_args(tmp_path / "o", **{"--factors": "liquor_retail,unicorns"}))
    assert res.exit_code == 2
    assert "no catalogue entry is called 'unicorns'" in res.output and "choose from:" in res.output
    assert "Traceback" not in res.output
    # factor names are checked before any data file is read
    res = run("model", *model_args(tmp_path / "o", **{"--factors": "unicorns", "--incidents": "missing.csv"}))
    assert res.exit_code == 2 and "unicorns" in res.output and "missing.csv" not in res.output


def test_bad_layer_and_operationalisation_options_exit_2(tmp_path):
    res = run("model", *model_args(tmp_path / "o", **{"--operationalisation": "liquor_retail=closeness"}))
    assert res.exit_code == 2 and "'closeness' of 'liquor_retail' is not one of" in res.output
    res = run("model", *model_args(tmp_path / "o", **{"--layer": "bad name=" + str(CHI / "sanitation.geojson")}))
    assert res.exit_code == 2 and "is not a single word" in res.output


def test_help_has_an_example_on_the_bundled_sample():
    res = run("model", "--help")
    assert res.exit_code == 0
    for words in ("Example", "sample_geo/chicago/burglaries_2017.geojson", "--factors", "--layer",
                  "rtm_factors.csv", "Exit status"):
        assert words in res.output


def test_run_rtm_checks_settings_and_honours_requested_treatment():
    from rtm.catalogue import load_catalogue
    from rtm.incidents import load_incidents
    from rtm.weights import HarmWeights

    areas = load_areas(CHI / "districts.geojson", "District", select=["1"])
    inc = load_incidents(CHI / "burglaries_2017.geojson", weights=HarmWeights.count(), areas=areas,
                         working_crs=areas.crs)
    layers = {"liquor_retail": load_catalogue(ROOT / "layers")["liquor_retail"].load(areas=areas, buffer_m=200)}
    with pytest.raises(InputError, match="setting 'increment': must be 'whole' or 'half'"):
        RtmSettings(cell_size=100, block_length=100, bands=2, increment="quarter")
    with pytest.raises(InputError, match="not one of the factors"):
        run_rtm(inc, areas, layers, RtmSettings(100, 100, 2, operationalisations={"pubs": "density"}))
    res = run_rtm(inc, areas, layers, RtmSettings(100, 100, 2, operationalisations={"liquor_retail": "both"}))
    assert res.variables.choices.loc[0, ["requested", "used"]].tolist() == ["both", "both"]
    assert len(res.variables.names) == 4 and res.n_incidents == len(inc)
    assert res.rrs.min() == pytest.approx(1.0) and res.classes["cells"].sum() == res.grid.mask.sum()
    assert res.nni is not None and res.nni.n == len(inc)


def test_catalogue_alone_means_every_entry_with_a_default_file():
    from rtm.catalogue import plan_factors

    plan = plan_factors(str(ROOT / "layers"))
    assert sorted(f.name for f in plan) == ["abandoned_buildings", "abandoned_cars", "bars_nightclubs",
                                          "licensed_premises", "liquor_retail", "rail_stations",
                                          "sanitation_complaints", "street_lights_out"]


def test_model_outputs_carry_provenance_and_render_in_gis(chicago_run):
    import json

    _, out = chicago_run
    side = json.loads((out / "risk_terrain.provenance.json").read_text(encoding="utf-8"))
    assert side["product"] == "Risk terrain model" and side["software"].startswith("rtm-harmspots")
    inc = side["inputs"]["incidents"][0]
    assert inc["file"] == "burglaries_2017.geojson" and inc["rows"] == 958 and len(inc["sha256"]) == 64
    assert set(side["inputs"]["layers"]) == set(FACTORS.split(","))
    assert side["parameters"]["cell_size_m"] == 100 and side["parameters"]["seed"] == 0
    assert side["weights"]["scheme"] == "count" and "data_window" in side
    assert json.loads((out / "terrain.json").read_text())["provenance"] == side
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Provenance" in report and inc["sha256"] in report
    from tiff_tags import MINISBLACK, photometric

    for name in ("risk_terrain.tif", "risk_factors.tif"):
        assert photometric(out / name) == MINISBLACK
        with rasterio.open(out / name) as src:
            assert all(src.descriptions) and src.nodata is not None
            assert src.block_shapes[0] == (256, 256) and src.colorinterp[0].name == "gray"
    with rasterio.open(out / "risk_terrain.tif") as src:
        assert src.descriptions == ("relative_risk_score",)
        assert json.loads(src.tags()["PROVENANCE"])["product"] == "Risk terrain model"
    with rasterio.open(out / "risk_factors.tif") as src:
        table = pd.read_csv(out / "rtm_factors.csv")
        assert list(src.descriptions) == list(table.loc[table["type"] == "rate", "variable"])
    assert "<rasterrenderer" in (out / "risk_terrain.qml").read_text()


def test_southend_model_without_factors_uses_its_pubs_and_stations(tmp_path):
    """No --factors: the catalogue entries whose default file covers Southend (the FSA premises
    and the rail stations of the sample), not the Chicago ones."""
    sou = ROOT / "sample_geo" / "southend"
    out = tmp_path / "southend"
    res = run("model", "--incidents", str(sou / "crime" / "2018-01-southend-street.csv"),
              "--incidents", str(sou / "crime" / "2018-02-southend-street.csv"),
              "--area", str(sou / "southend_lsoa2011.geojson"),
              "--catalogue", str(ROOT / "layers"), "--cell-size", "200", "--block-length", "200", "--bands", "2",
              "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "Factors (catalogue entries whose file covers the area): bars_nightclubs, licensed_premises, " \
           "rail_stations" in res.output
    assert "liquor_retail" not in res.output
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "proximity and density are each tested" in report and "var = mu" in report
    table = pd.read_csv(out / "rtm_factors.csv")
    assert set(table.loc[table["type"] == "rate", "factor"]) <= {"bars_nightclubs", "licensed_premises",
                                                                 "rail_stations"}


def test_degenerate_models_get_a_message_not_a_traceback(tmp_path):
    """Every incident on one point, and a block length typed in the wrong unit."""
    import json

    pts = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
           "geometry": {"type": "Point", "coordinates": [-87.63, 41.88]}}] * 30}
    one = tmp_path / "onepoint.geojson"
    one.write_text(json.dumps(pts))
    common = ["--area", str(CHI / "districts.geojson"), "--area-field", "District", "--factors", "liquor_retail",
              "--catalogue", str(ROOT / "layers"), "--cell-size", "100", "--out", str(tmp_path / "out")]
    res = run("model", "--incidents", str(one), "--block-length", "100", *common)
    assert res.exit_code == 2 and "all 30 incidents in the study area lie in one cell" in res.output
    res = run("model", "--incidents", str(CHI / "burglaries_2017.geojson"), "--block-length", "1e9", *common)
    assert res.exit_code == 2 and "Invalid value for '--block-length': '1e9' is not a number from 1 to 5,000" \
        in res.output
    # within the option's range, yet wider than the study area: the library's check names it
    res = run("model", "--incidents", str(CHI / "burglaries_2017.geojson"), "--block-length", "5000", "--bands", "20",
              *common)
    assert res.exit_code == 2 and "option '--block-length': the largest spatial influence" in res.output

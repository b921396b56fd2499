"""The HTML model report: every RTMDx-style section, self-contained, escaped, with a map."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from rtm.areas import load_areas
from rtm.catalogue import load_catalogue
from rtm.incidents import load_incidents
from rtm.model_report import SECTIONS, render_report, rrs_map_png
from rtm.pipeline import run_rtm, write_outputs
from rtm.terrain_settings import RtmSettings
from rtm.weights import HarmWeights

ROOT = Path(__file__).resolve().parents[1]
CHI = ROOT / "sample_geo" / "chicago"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    areas = load_areas(CHI / "districts.geojson", "District")
    inc = load_incidents(CHI / "burglaries_2017.geojson", weights=HarmWeights.count(), areas=areas,
                         working_crs=areas.crs)
    cat = load_catalogue(ROOT / "layers")
    layers = {n: cat[n].load(areas=areas, buffer_m=300) for n in ("liquor_retail", "abandoned_buildings")}
    res = run_rtm(inc, areas, layers, RtmSettings(100, 100, 3))
    res.inputs["incidents"] = "burglaries <2017> & \"friends\""
    return res


@pytest.fixture(scope="module")
def page(result):
    return render_report(result, title="Chicago <test>")


def test_every_section_heading_in_order(page):
    found = re.findall(r"<h2>(.*?)</h2>", page)
    assert found == list(SECTIONS)
    for words in ("Summary", "Input details", "Analysis parameters", "Model selection", "Best model",
                  "Relative risk scores", "Risk classes", "Nearest-neighbour analysis", "Risk terrain map"):
        assert f"<h2>{words}</h2>" in page


def test_self_contained_no_url_script_or_external_resource(page):
    assert not re.search(r"https?://", page, re.IGNORECASE)
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    srcs = re.findall(r'src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "@media print" in page


def test_map_is_an_embedded_png(page, result):
    data = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    png = base64.b64decode(data)
    assert png.startswith(PNG) and len(png) > 5_000
    raw = rrs_map_png(result)
    assert raw.startswith(PNG) and b"matplotlib.org" not in raw


def test_text_is_escaped(page):
    assert "burglaries &lt;2017&gt; &amp; &quot;friends&quot;" in page
    assert "<2017>" not in page and "<title>Chicago &lt;test&gt;</title>" in page


def test_content_of_the_sections(page, result):
    m = result.model
    for fam in ("Poisson (var = mu) BIC", "negative binomial NB1 (var = mu (1 + delta)) BIC",
                "negative binomial NB2 (var = mu + alpha mu^2) BIC"):
        assert fam in page
    for f in ("poisson", "nb1", "nb2"):
        assert f"{m.family_bic_[f]:,.1f}" in page
    for text in ("Cell size", "Block length", "Number of cells", "Cells with events", "100, 200, 300",
                 "Nearest-neighbour index R", "highest", "moderately high", "above average", "average or below",
                 "Share of area", "Share of incidents", "RRV"):
        assert text in page
    for row in result.factors[result.factors["type"] == "rate"].itertuples():
        assert f"<td>{row.factor}</td>" in page and f"{row.rrv:.3f}" in page
    for c in result.variables.choices.itertuples():
        assert c.reason.split(" (")[0] in page


def test_write_outputs_creates_the_folder(result, tmp_path):
    paths = write_outputs(result, tmp_path / "a" / "b")
    assert sorted(p.name for p in paths.values()) == ["report.html", "risk_factors.tif", "risk_terrain.qml",
                                                     "risk_terrain.tif", "rtm_factors.csv", "terrain.json"]
    assert all(p.exists() for p in paths.values())

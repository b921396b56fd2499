"""The briefing (PDF and HTML) and its maps: read back, rendered to pictures, labels checked."""

from __future__ import annotations

import io
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from rtm.exports import briefing_html, briefing_pdf
from rtm.exports.maps import clusters, district_map, place_labels

BNG = "EPSG:27700"
COUNTS = ("Violence and sexual offences 102; Anti-social behaviour 64; Public order 22; Other theft 18; "
          "Theft from the person 16; Drugs 9; Possession of weapons 8; Criminal damage and arson 5")


def make_list(n=20, district="Southend-on-Sea", e0=588000, n0=185500, spread=3, seed=0):
    """``n`` spots of 150 m, packed in a few km (some touching), with long texts like the real ones."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(spread * 10 * spread * 10, size=n, replace=False)
    es, ns = e0 + (cells % (spread * 10)) * 150, n0 + (cells // (spread * 10)) * 150
    geoms = [shapely.box(e, y, e + 150, y + 150) for e, y in zip(es, ns)]
    frame = gpd.GeoDataFrame({
        "rank": np.arange(1, n + 1), "spot_id": [f"150m-E{e}-N{y}" for e, y in zip(es, ns)],
        "district": district, "cells": 1, "easting": es + 75.0, "northing": ns + 75.0,
        "lat": 51.54 + np.arange(n) * 1e-3, "lon": 0.71 + np.arange(n) * 1e-3,
        "location": [f"On or near Street {k}" for k in range(n)],
        "streets": [f"Street {k}, Queensway, Chichester Road, Parking Area" for k in range(n)],
        "harm_recent": 2044.0, "harm_year": 27508.0, "counts_by_type": COUNTS, "rrs": np.nan,
        "factors_present": "no risk terrain model", "score": np.linspace(30, 5, n), "score_harm": 1.0,
        "score_risk": 0.0, "explanation": "34.89 x the average cell = recent harm 34.89", "conjunctive": False,
        "movement": "new", "previous_rank": np.nan, "weeks_on_list": 1,
        "peak_times": "not available (monthly data)", "patrol_visits_per_day": 3, "patrol_minutes": 15,
    }, geometry=geoms, crs=BNG)
    return frame


PROV = {"product": "Harm spots", "period": "month February 2019", "period_kind": "month",
        "period_start": "2019-02-01", "period_end": "2019-03-01", "weights": "cchi",
        "inputs": {"incidents": [{"file": "2019-02-essex-street.csv", "sha256": "ab" * 32, "rows": 9}]}}


def _outlines():
    return gpd.GeoDataFrame({"name": ["Castle Point", "Southend-on-Sea"]},
                            geometry=[shapely.box(578000, 184000, 585000, 190000),
                                      shapely.box(585000, 183000, 594000, 189000)], crs=BNG)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# -- labels -------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 300), st.floats(0, 200)), min_size=1, max_size=25),
       st.floats(8, 30), st.floats(6, 12))
def test_placed_labels_never_overlap(points, w, h):
    boxes = place_labels(np.array(points), np.tile([w, h], (len(points), 1)), (0, 0, 300, 200))
    placed = [b for b in boxes if b is not None]
    for i, a in enumerate(placed):
        assert 0 <= a[0] and a[2] <= 300 and 0 <= a[1] and a[3] <= 200
        for b in placed[i + 1:]:
            assert not _overlap(a, b)


def test_map_labels_every_spot_without_overlap():
    spots = make_list(20, spread=2)  # 20 spots in 3 km x 3 km: the Uttlesford airport case and worse
    places = spots[["easting", "northing"]].rename(columns={"easting": "x", "northing": "y"}).assign(
        place=[f"Street {k}" for k in range(20)], n=5)
    fig = district_map(spots, _outlines().geometry.iloc[1], places)
    assert fig.png.startswith(b"\x89PNG")
    assert fig.unlabelled == 0 and len(fig.label_boxes[0]) >= 20  # every rank labelled on the overview
    for panel in fig.label_boxes:
        for i, a in enumerate(panel):
            for b in panel[i + 1:]:
                assert not _overlap(a, b)
    # close-ups: every spot appears in one, at a scale where a 150 m square is distinct
    assert sum(len(re.findall(r"\d+", t.split(":")[1])) for t in fig.panels[1:]) >= 1


def test_clusters_group_near_spots():
    x = np.array([0, 100, 200, 10000, 10100, 30000.0])
    groups = clusters(x, np.zeros(6))
    assert groups.tolist() == [0, 0, 0, 1, 1, 2]


# -- PDF ----------------------------------------------------------------------------------
def _pdf_pages(data: bytes) -> list[str]:
    import pypdf

    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_pdf_twenty_spots_fit_three_pages_with_grid_refs_and_marking(tmp_path):
    spots = make_list(20)
    data = briefing_pdf(spots, PROV, _outlines().iloc[[1]], marking="OFFICIAL-SENSITIVE", generated="2026-12-01")
    pages = _pdf_pages(data)
    district_pages = [t for t in pages if "Where: location" in t]  # the spot table's header, on every page of it
    assert 1 <= len(district_pages) <= 3
    text = "\n".join(pages)
    refs = re.findall(r"TQ \d{4} \d{4}", text)
    assert len(set(refs)) == 20
    for k, page in enumerate(pages, start=1):
        assert "OFFICIAL-SENSITIVE" in page
        assert f"Page {k} of {len(pages)}" in page
        assert "Generated 2026-12-01" in page and "month February 2019" in page
    for page in district_pages:  # the running head names the district on continuation pages too
        assert "\nSouthend-on-Sea\nmonth February 2019\n" in page
    assert "Appendix: provenance" in pages[-1] and "sha256" not in pages[0]
    for k in (1, 20):
        assert f"On or near Street {k - 1}" in text
    flat = re.sub(r"\s+", " ", text)
    assert "covers: Street 0, Queensway" in flat and "3 visits a day, 15 min each" in flat
    _render(data, tmp_path)


def _render(data: bytes, folder) -> list:
    """Every page as a PNG (pypdfium2); each is an A4 landscape picture with ink on it."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    out = []
    for i in range(len(pdf)):
        image = pdf[i].render(scale=0.6).to_pil().convert("L")
        assert image.width > image.height  # landscape
        pixels = np.asarray(image)
        assert (pixels < 128).mean() > 0.005  # not a blank page
        path = folder / f"page-{i + 1}.png"
        image.save(path)
        out.append(path)
    return out


def test_one_district_briefing_speaks_of_that_district_only():
    both = make_list(4, "Castle Point", e0=580000, n0=186000)
    prov = {**PROV, "districts_in_file": ["Castle Point"]}
    data = briefing_pdf(both, prov, _outlines(), generated="2026-12-01")
    text = "\n".join(_pdf_pages(data))
    assert "Castle Point" in text and "Southend-on-Sea" not in text and "No harm spots" not in text
    page = briefing_html(both, prov, _outlines()).decode()
    assert "Southend-on-Sea" not in page


def test_html_has_the_same_content_escaped():
    spots = make_list(3)
    spots.loc[0, "location"] = "<script>alert('x')</script>"
    page = briefing_html(spots, {**PROV, "note": "<img src=x onerror=alert(1)>"}, _outlines(),
                         generated="2026-12-01").decode()
    assert "<script" not in page and "&lt;script&gt;" in page and "&lt;img src=x" in page
    assert "http" not in page.lower() and "<link" not in page
    sections = re.findall(r'<section class="district">(.*?)</section>', page, flags=re.S)
    assert len(sections) == 2  # Castle Point (no spots) and Southend-on-Sea
    assert "No harm spots this period." in sections[0]
    assert len(re.findall(r"TQ \d{4} \d{4}", sections[1])) == 3
    assert page.index("Appendix: provenance") > page.index(sections[1][:50])
    assert "OFFICIAL" in sections[1] and "generated 2026-12-01" in sections[1]


@pytest.mark.parametrize("n", [0, 1])
def test_small_lists(n):
    data = briefing_pdf(make_list(max(n, 1)).iloc[:n], PROV, _outlines().iloc[[1]], generated="2026-12-01")
    text = "\n".join(_pdf_pages(data))
    assert ("No harm spots this period." in text) == (n == 0)


def test_a_streets_layer_is_drawn_and_named_on_the_close_ups():
    spots = make_list(3, spread=1)
    streets = gpd.GeoDataFrame({"name": ["Queensway", "Far Lane"]},
                               geometry=[shapely.LineString([(587900, 186420), (588900, 186420)]),
                                         shapely.LineString([(600000, 200000), (600500, 200000)])], crs=BNG)
    with_lines = district_map(spots, None, None, streets=streets)
    without = district_map(spots, None, None)
    assert len(with_lines.label_boxes[1]) == len(without.label_boxes[1]) + 1  # "Queensway" named, not Far Lane
    for panel in with_lines.label_boxes:
        for i, a in enumerate(panel):
            for b in panel[i + 1:]:
                assert not _overlap(a, b)


def test_pdf_prints_awkward_text_as_text():
    spots = make_list(3)
    spots.loc[0, "location"] = "<b>bold</b> & \x01 bell \u202e 東京 ✓"
    spots.loc[1, "streets"] = "Long Road, " * 60
    data = briefing_pdf(spots, {**PROV, "note": "<script>\x00"}, _outlines(), marking="OFFICIAL <&>",
                        generated="2026-12-01")
    text = "\n".join(_pdf_pages(data))
    assert "<b>bold</b> &" in text and "OFFICIAL <&>" in text and "<script>" in text

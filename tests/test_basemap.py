"""A local basemap (rtm.basemap): MBTiles 1.3 and PMTiles v3 raster sets written by the test
(tests/tilesets.py) are checked, copied once into the app's static folder in the XYZ layout,
and drawn from the app's own address; bad files and settings are refused with messages naming
the file and the workspace key, never the server's folders."""

from __future__ import annotations

import json
import sqlite3

import geopandas as gpd
import pytest
import shapely

from rtm import basemap
from rtm.errors import InputError
from rtm.mapview import MapContent, build_map
from rtm.webmap import external_urls, render_html
from rtm.workspace import load_workspace
from rtm.workspace_init import init_workspace
from tilesets import SOUTHEND, tile_png, write_mbtiles, write_pmtiles


def test_mbtiles_rows_are_flipped_into_xyz_and_extracted_once(tmp_path):
    path = tmp_path / "t.mbtiles"
    n = write_mbtiles(path, zooms=range(10, 12))
    marked = tile_png((1, 2, 3))
    with sqlite3.connect(path) as con:  # one tile of its own colour at z11 x1027, TMS row 2047 - 680
        con.execute("UPDATE tiles SET tile_data = ? WHERE zoom_level = 11 AND tile_column = 1027 AND tile_row = ?",
                    (marked, (1 << 11) - 1 - 680))
    ts = basemap.open_tileset(path)
    assert (ts.kind, ts.fmt, ts.min_zoom, ts.max_zoom, ts.bounds, ts.attribution) == \
        ("mbtiles", "png", 10, 11, SOUTHEND, "Test tiles")
    out = basemap.extract_tiles(ts, tmp_path / "static")
    assert len(list(out.rglob("*.png"))) == n
    assert (out / "11" / "1027" / "680.png").read_bytes() == marked
    stamp = (out / ".complete").stat().st_mtime_ns
    assert basemap.extract_tiles(ts, tmp_path / "static") == out and (out / ".complete").stat().st_mtime_ns == stamp
    assert basemap.tile_template(ts) == f"/app/static/basemap/{ts.key}/{{z}}/{{x}}/{{y}}.png"
    assert basemap.tile_template(ts, "/rtm/").startswith("/rtm/app/static/basemap/")
    assert basemap.tile_options(ts)["bounds"] == [[51.52, 0.62], [51.58, 0.84]]


def test_pmtiles_are_read_like_mbtiles(tmp_path):
    n = write_pmtiles(tmp_path / "t.pmtiles")
    ts = basemap.open_tileset(tmp_path / "t.pmtiles")
    assert (ts.kind, ts.fmt, ts.min_zoom, ts.max_zoom) == ("pmtiles", "png", 10, 12)
    assert ts.bounds == pytest.approx(SOUTHEND)
    out = basemap.extract_tiles(ts, tmp_path / "static")
    assert len(list(out.rglob("*.png"))) == n and (out / "10" / "513" / "340.png").is_file()


def _bad_sqlite(path, fmt=None, tiles=True):
    write_mbtiles(path, zooms=range(10, 11), fmt=fmt or "png", data=b"\x1f\x8b vector" if fmt == "pbf" else None)
    if not tiles:
        with sqlite3.connect(path) as con:
            con.execute("DELETE FROM tiles")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("hello"), "neither MBTiles"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE x (a)").connection.commit(), "not an MBTiles tile set"),
    (lambda p: _bad_sqlite(p, "pbf"), "vector tiles"),
    (lambda p: _bad_sqlite(p, tiles=False), "holds no tiles"),
    (lambda p: _bad_sqlite(p, "tiff"), "not PNG, JPEG or WebP"),
])
def test_bad_tile_files_are_refused_with_the_file_and_key(tmp_path, make, message):
    path = tmp_path / "bad.mbtiles"
    make(path)
    with pytest.raises(InputError, match=message) as info:
        basemap.open_tileset(path, key="basemap.file")
    text = str(info.value)
    assert text.startswith("bad.mbtiles, key 'basemap.file'") and str(tmp_path) not in text and "Fix:" in text


def _workspace(tmp_path, basemap_lines: str, streets_lines: str = "") -> str:
    folder = tmp_path / "ws"
    init_workspace(folder, sample="southend")
    toml = folder / "workspace.toml"
    text = toml.read_text().replace("[basemap]\n", "[basemap]\n" + basemap_lines)
    toml.write_text(text.replace("[streets]\n", "[streets]\n" + streets_lines))
    return folder


def test_workspace_basemap_file_and_its_attribution(tmp_path):
    folder = _workspace(tmp_path, 'file = "t.mbtiles"\n')
    write_mbtiles(folder / "t.mbtiles", zooms=range(10, 11), attribution=None)
    ws = load_workspace(folder)
    assert ws.basemap.file == str(folder / "t.mbtiles") and ws.basemap.tiles is None
    assert ws.basemap.attribution == "Basemap: test tiles"  # never blank: the file's name
    (folder / "workspace.toml").write_text((folder / "workspace.toml").read_text()
                                           .replace('file = "t.mbtiles"\n', 'file = "t.mbtiles"\nattribution = "OS"\n'))
    assert load_workspace(folder).basemap.attribution == "OS"


@pytest.mark.parametrize("lines, key, message", [
    ('file = "t.mbtiles"\ntiles = "https://t.force/{z}/{x}/{y}.png"\n', "basemap.file", "not both"),
    ('file = "none.mbtiles"\n', "basemap.file", "does not exist"),
    ('file = "bad.mbtiles"\n', "basemap.file", "neither MBTiles"),
    ('tiles = "https://t.force/tile.png"\n', "basemap.tiles", "not an XYZ URL template"),
])
def test_workspace_basemap_mistakes_name_the_key(tmp_path, lines, key, message):
    folder = _workspace(tmp_path, lines)
    write_mbtiles(folder / "t.mbtiles", zooms=range(10, 11))
    (folder / "bad.mbtiles").write_text("x")
    with pytest.raises(InputError, match=message) as info:
        load_workspace(folder)
    assert f"key '{key}'" in str(info.value)


def test_workspace_streets_section(tmp_path):
    folder = _workspace(tmp_path, "", 'file = "streets.gpkg"\nname_field = "road"\n')
    gpd.GeoDataFrame({"road": ["A Road"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=27700
                     ).to_file(folder / "streets.gpkg")
    ws = load_workspace(folder)
    assert ws.job.streets == str(folder / "streets.gpkg") and ws.job.street_name == "road"
    toml = folder / "workspace.toml"
    toml.write_text(toml.read_text().replace("[lists]\n", '[lists]\nstreets = "streets.gpkg"\n'))
    with pytest.raises(InputError, match="given twice"):
        load_workspace(folder)


def test_map_with_local_tiles_stays_on_the_machine_and_leaves_out_tiles_elsewhere(tmp_path):
    ts = basemap.open_tileset(tmp_path / "t.mbtiles") if write_mbtiles(tmp_path / "t.mbtiles", zooms=[10]) else None
    areas = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(587500, 185000, 590000, 186500)], crs=27700)
    content = MapContent(areas=areas, tiles=basemap.tile_template(ts), attribution="<i>OS</i>",
                         tile_options=basemap.tile_options(ts))
    html = render_html(build_map(content))
    assert f"/app/static/basemap/{ts.key}/" in html and external_urls(html) == []
    assert "<i>OS</i>" not in html  # attribution is shown as text
    areas_far = areas.set_geometry(areas.geometry.translate(0, 300_000))
    m = build_map(MapContent(areas=areas_far, tiles=basemap.tile_template(ts), tile_options=basemap.tile_options(ts)))
    assert "L.tileLayer" not in render_html(m) and "do not cover" in " ".join(m.notes)


def test_messages_never_show_the_servers_folders():
    from rtm.errors import without_paths

    text = "ws.toml, key 'areas.file': 'a.geojson' does not exist (looked for /srv/rtm/ws/a.geojson)"
    assert without_paths(text) == "ws.toml, key 'areas.file': 'a.geojson' does not exist (looked for a.geojson)"
    assert without_paths(r"C:\data\crime.csv: bad") == "crime.csv: bad"
    assert without_paths("Southend/Leigh and A/B") == "Southend/Leigh and A/B"  # not paths


def _app(folder, monkeypatch):
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RTM_WORKSPACE", str(folder))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "streamlit_app.py"), default_timeout=120).run()
    maps = [c for c in at.get("component_instance") if c.proto.component_name == "streamlit_folium.st_folium"]
    return at, (json.loads(maps[0].proto.json_args) if maps else None)


def test_app_draws_a_workspace_tile_file_from_its_own_address(tmp_path, monkeypatch):
    folder = _workspace(tmp_path, 'file = "t.mbtiles"\n')
    write_mbtiles(folder / "t.mbtiles", zooms=range(10, 12))
    key = basemap.open_tileset(folder / "t.mbtiles").key
    try:
        at, args = _app(folder, monkeypatch)
        assert not at.exception and not at.error
        script = json.dumps(args)
        assert f"/app/static/basemap/{key}/" in script and external_urls(script) == []
        assert (basemap.CACHE_DIR / key / ".complete").is_file()
        assert "Street names" in script and "High Street" in script  # Southend's "On or near" points
        assert not at.get("expander") or all("Basemap" not in e.label for e in at.get("expander"))  # set once
    finally:
        import shutil

        shutil.rmtree(basemap.CACHE_DIR / key, ignore_errors=True)


def test_app_says_what_is_wrong_with_the_workspace_without_server_paths(tmp_path, monkeypatch):
    folder = _workspace(tmp_path, 'file = "missing.mbtiles"\n')
    at, args = _app(folder, monkeypatch)
    assert not at.exception and args is None
    text = " ".join(e.value for e in at.error).replace("\\", "")  # Markdown escapes off
    assert "basemap.file" in text and "missing.mbtiles" in text and str(tmp_path) not in text

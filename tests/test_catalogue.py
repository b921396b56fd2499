"""The attractor catalogue and layer loading."""

from pathlib import Path

import pytest
import shapely

from rtm.catalogue import load_catalogue, read_spec
from rtm.errors import InputError
from rtm.filters import parse_filter
from rtm.layers import load_layer

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_catalogue_reads_and_has_the_usual_attractors():
    specs = load_catalogue(ROOT / "layers")
    for name in ("pubs", "bars", "nightclubs", "takeaways", "off_licences", "bus_stops", "railway_stations",
                 "liquor_retail", "abandoned_buildings", "street_lights_out", "sanitation_complaints",
                 "abandoned_cars"):
        assert name in specs
    assert specs["pubs"].where == "fclass = pub"
    assert all(s.operationalisation == "both" for s in specs.values())  # every factor tested both ways
    assert specs["liquor_retail"].file == (ROOT / "sample_geo/chicago/liquor_retail.geojson").resolve()


@pytest.mark.parametrize("text, problem", [
    ('name = "x"\ncolour = "red"\n', "unknown key 'colour'"),
    ('name = "two words"\n', "single word"),
    ('name = "x"\n[rtm]\noperationalisation = "nearby"\nmax_influence_m = 400\n', "operationalisation 'nearby'"),
    ('name = "x"\n[rtm]\nmax_influence_m = -5\n', "not a positive number"),
    ('name = "x"\n[rtm]\noperationalisation = "auto"\n', "max_influence_m is missing"),
    ('name = "x"\n[source]\nwhere = "fclass pub"\n[rtm]\nmax_influence_m = 400\n', "cannot be read"),
    ('name = "x\n', "not valid TOML"),
])
def test_bad_catalogue_entries_name_the_file_and_the_problem(tmp_path, text, problem):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(InputError) as err:
        read_spec(f)
    assert problem in str(err.value) and "bad.toml" in str(err.value) and "Fix:" in str(err.value)


def test_filter_grammar():
    (c,) = parse_filter("fclass in (pub, 'bar')")
    assert c.field == "fclass" and c.values == ("pub", "bar") and not c.negate
    a, b = parse_filter("amenity = Bar and name != \"The Ship\"")
    assert a.values == ("bar",) and b.negate and b.values == ("the ship",)


def _write_mixed(tmp_path):
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        {"fclass": ["pub", "bar", "PUB", "cafe", "pub"], "name": ["a", "b", "c", "d", "e"]},
        geometry=[shapely.Point(0.70, 51.54), shapely.Point(0.71, 51.54), shapely.Point(0.72, 51.54),
                  shapely.Point(0.73, 51.54), None], crs="EPSG:4326")
    path = tmp_path / "pois.gpkg"
    gdf.to_file(path)
    return path


def test_layer_selection_accounts_for_every_row(tmp_path):
    layer = load_layer(_write_mixed(tmp_path), where="fclass = pub", name="pubs")
    rep = layer.report
    assert len(layer) == 2 and layer.kind == "point"
    assert rep.rows_in == 5 and rep.rejected == {"not_selected": 2, "missing_geometry": 1} and rep.adds_up
    assert layer.crs.to_epsg() == 27700


def test_unknown_filter_field_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="'amenity', which is not in the file"):
        load_layer(_write_mixed(tmp_path), where="amenity = pub")


def test_invalid_polygon_is_repaired_and_lines_are_kept(tmp_path):
    import geopandas as gpd

    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    gdf = gpd.GeoDataFrame({"kind": ["park", "road"]},
                           geometry=[bowtie, shapely.LineString([(0, 0), (5, 5)])], crs="EPSG:27700")
    gdf.geometry = gdf.geometry.translate(550000, 180000)
    path = tmp_path / "mixed.geojson"
    gdf.to_file(path)
    layer = load_layer(path)
    assert layer.report.rejected == {} and layer.report.rows_used == 2
    assert any("repaired" in n for n in layer.report.notes)
    assert layer.kind == "mixed" and shapely.is_valid(layer.frame.geometry.values).all()


def test_csv_layer_with_coordinates(tmp_path):
    f = tmp_path / "stops.csv"
    f.write_text("name,easting,northing\nA,588000,186000\nB,588100,\nC,abc,186100\n")
    layer = load_layer(f)
    assert layer.report.rejected == {"missing_coordinates": 1, "non_numeric_coordinates": 1}
    assert len(layer) == 1 and layer.report.crs_in == "EPSG:27700"


@pytest.mark.realdata
def test_pubs_from_the_london_poi_file(london_dir):
    specs = load_catalogue(ROOT / "layers")
    pubs = specs["pubs"].load(london_dir / "london_pois.zip")
    assert len(pubs) == 2216 and pubs.report.rows_in == 60626
    assert pubs.report.rejected == {"not_selected": 60626 - 2216}
    night = specs["nightclubs"].load(london_dir / "london_pois.zip")
    assert len(night) == 93


def _one_entry_catalogue(tmp_path):
    cat = tmp_path / "cat"
    cat.mkdir(exist_ok=True)
    (cat / "pubs.toml").write_text('name = "pubs"\n[source]\nwhere = "fclass = pub"\n[rtm]\nmax_influence_m = 400\n',
                                   encoding="utf-8")
    return cat


def test_explicit_file_without_filter_is_used_whole(tmp_path):
    from rtm.catalogue import plan_factors

    path = _write_mixed(tmp_path)
    (f,) = plan_factors(_one_entry_catalogue(tmp_path), layer_items=[f"pubs={path}"])
    layer = f.load()
    assert f.spec is not None and len(layer) == 4  # all rows with a geometry, no catalogue filter
    (g,) = plan_factors(_one_entry_catalogue(tmp_path), layer_items=[f"pubs={path}:catalogue"])
    assert len(g.load()) == 2  # the entry's filter, asked for


def test_catalogue_filter_on_a_file_without_its_field_names_the_entry_and_both_ways_out(tmp_path):
    import geopandas as gpd

    from rtm.catalogue import plan_factors

    path = tmp_path / "premises.gpkg"
    gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[shapely.Point(0.7, 51.5), shapely.Point(0.71, 51.5)],
                     crs="EPSG:4326").to_file(path)
    cat = _one_entry_catalogue(tmp_path)
    (whole,) = plan_factors(cat, layer_items=[f"pubs={path}"])
    assert len(whole.load()) == 2
    (f,) = plan_factors(cat, layer_items=[f"pubs={path}:catalogue"])
    with pytest.raises(InputError) as err:
        f.load()
    msg = str(err.value)
    assert "catalogue entry 'pubs' (pubs.toml)" in msg and "'fclass'" in msg
    assert "--layer pubs=FILE to use all" not in msg and "without a filter" in msg and "a filter of your own" in msg


def test_features_repeated_exactly_are_counted_in_a_note(tmp_path):
    """A layer appended to itself (each pub twice) doubles every density: the review found it
    used without a word. The copies are kept (two bars may share one point) and counted."""
    import json

    pubs = json.loads((ROOT / "sample_geo" / "southend" / "pubs.geojson").read_text())
    alone = load_layer(ROOT / "sample_geo" / "southend" / "pubs.geojson")
    pubs["features"] = pubs["features"] * 2
    (tmp_path / "pubs_twice.geojson").write_text(json.dumps(pubs))
    layer = load_layer(tmp_path / "pubs_twice.geojson")
    shared = [n for n in alone.report.notes if "exactly the geometry of another feature" in n]
    assert len(layer.frame) == 2 * len(alone.frame)
    extra = len(alone.frame) + (int(shared[0].split()[0]) if shared else 0)
    assert f"{extra:,} features have exactly the geometry of another feature" in " ".join(layer.report.notes)

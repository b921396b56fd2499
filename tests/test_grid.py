"""The shared grid: snapped origin, stable cell ids, weighted counts and the area mask."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from rtm.areas import Areas, load_areas
from rtm.grid import Grid

BNG = CRS.from_epsg(27700)


def _areas(geoms: dict, crs=BNG) -> Areas:
    return Areas(gpd.GeoDataFrame({"name": list(geoms)}, geometry=list(geoms.values()), crs=crs))


# a town-sized blob with edges at no particular multiple of anything
TOWN = shapely.Polygon([(583_017.3, 185_021.9), (589_433.1, 184_870.2), (591_208.8, 188_944.4),
                        (586_101.7, 190_377.6), (582_566.0, 188_010.5)])
EAST = shapely.box(589_000.5, 183_500.5, 596_321.7, 187_777.7)


@pytest.mark.parametrize("cell", [50.0, 100.0, 150.0, 250.0])
def test_origin_is_snapped_to_the_cell_size(cell):
    g = Grid.from_areas(_areas({"town": TOWN}), cell)
    minx, miny, maxx, maxy = TOWN.bounds
    assert g.x0 % cell == 0 and g.y0 % cell == 0
    assert g.x0 <= minx < g.x0 + cell
    assert g.y0 - cell < maxy <= g.y0
    left, bottom, right, top = g.bounds
    assert right >= maxx and bottom <= miny
    assert right - cell < maxx and bottom + cell > miny  # no spare column or row
    assert g.shape == g.mask.shape == g.district.shape


def test_same_point_same_id_in_two_study_areas():
    a = Grid.from_areas(_areas({"town": TOWN}), 150)
    b = Grid.from_areas(_areas({"town": TOWN, "east": EAST}), 150)
    assert (a.x0, a.y0) != (b.x0, b.y0) or a.shape != b.shape
    rng = np.random.default_rng(7)
    x = rng.uniform(586_000, 589_000, 500)
    y = rng.uniform(185_500, 188_000, 500)
    ra, ca = a.index(x, y)
    rb, cb = b.index(x, y)
    assert (ra >= 0).all() and (rb >= 0).all()
    np.testing.assert_array_equal(a.cell_ids(ra, ca), b.cell_ids(rb, cb))
    np.testing.assert_array_equal(a.cell_labels(ra, ca), b.cell_labels(rb, cb))


def test_cell_of_id_inverts_cell_ids():
    g = Grid.from_areas(_areas({"town": TOWN}), 100)
    ids = g.cell_ids()
    assert ids.shape == g.shape
    assert len(np.unique(ids)) == ids.size
    assert (ids > 0).all()
    row, col = g.cell_of_id(ids)
    rows, cols = np.indices(g.shape)
    np.testing.assert_array_equal(row, rows)
    np.testing.assert_array_equal(col, cols)


def test_ids_from_another_grid_find_the_same_cell():
    small = Grid.from_areas(_areas({"town": TOWN}), 100)
    big = Grid.from_areas(_areas({"town": TOWN, "east": EAST}), 100)
    row, col = big.cell_of_id(small.cell_ids())
    # the same lower-left corner in both grids
    np.testing.assert_array_equal(big.cell_labels(row, col), small.cell_labels(*np.indices(small.shape)))
    # ids of cells off this grid come back as -1
    row, col = small.cell_of_id(big.cell_ids())
    off = (row < 0)
    assert off.any() and (~off).any()
    assert ((row < 0) == (col < 0)).all()


def test_ids_stay_positive_and_invertible_for_negative_coordinates():
    # Web Mercator west of Greenwich and south of the equator: both coordinates negative
    area = shapely.box(-250_321.0, -180_777.0, -240_010.0, -171_003.0)
    g = Grid.from_areas(_areas({"a": area}, CRS.from_epsg(3857)), 250)
    ids = g.cell_ids()
    assert (ids > 0).all()
    row, col = g.cell_of_id(ids)
    np.testing.assert_array_equal(row, np.indices(g.shape)[0])
    np.testing.assert_array_equal(col, np.indices(g.shape)[1])


def test_cell_labels_name_the_lower_left_corner():
    g = Grid.from_areas(_areas({"sq": shapely.box(500_000, 180_000, 501_000, 181_000)}), 100)
    assert (g.x0, g.y0, g.shape) == (500_000.0, 181_000.0, (10, 10))
    assert g.cell_labels(np.array([0, 9]), np.array([0, 9])).tolist() == [
        "100m-E500000-N180900", "100m-E500900-N180000"]


def test_index_and_counts_sum_weights():
    g = Grid.from_areas(_areas({"sq": shapely.box(500_000, 180_000, 501_000, 181_000)}), 100)
    x = np.array([500_050.0, 500_099.9, 500_100.0, 500_950.0, 499_999.0, 500_500.0])
    y = np.array([180_950.0, 180_900.1, 180_950.0, 180_050.0, 180_500.0, 181_000.1])
    w = np.array([2.0, 3.5, 7.0, 11.0, 100.0, 1000.0])
    row, col = g.index(x, y)
    assert row.tolist() == [0, 0, 0, 9, -1, -1]
    assert col.tolist() == [0, 0, 1, 9, -1, -1]
    counts = g.counts(x, y, w)
    assert counts.shape == g.shape
    assert counts[0, 0] == 5.5 and counts[0, 1] == 7.0 and counts[9, 9] == 11.0
    assert counts.sum() == 23.5  # the two points off the grid count nowhere
    assert g.counts(x, y).sum() == 4


def test_mask_is_the_cells_whose_centre_is_inside():
    g = Grid.from_areas(_areas({"town": TOWN}), 100)
    cx, cy = g.centres()
    inside = shapely.contains_xy(TOWN, cx, cy)
    assert g.mask.any() and not g.mask.all()
    assert inside[g.mask].all()
    assert not inside[~g.mask].any()
    # the masked area is close to the polygon's area
    assert abs(g.mask.sum() * 100**2 / TOWN.area - 1) < 0.01


def test_district_of_each_cell():
    g = Grid.from_areas(_areas({"east": EAST, "town": TOWN}), 100)
    assert g.district_names == ("east", "town")
    cx, cy = g.centres()
    in_east = shapely.contains_xy(EAST, cx, cy)
    in_town = shapely.contains_xy(TOWN, cx, cy) & ~in_east
    assert (g.district[in_town] == 1).all()
    assert (g.district[~g.mask] == -1).all()
    assert g.mask.sum() == (in_east | in_town).sum()


@pytest.mark.parametrize("cell", [0, -50, float("nan")])
def test_cell_size_must_be_positive(cell):
    with pytest.raises(ValueError, match="positive number of metres"):
        Grid.from_areas(_areas({"town": TOWN}), cell)


def test_areas_must_be_metric():
    lonlat = _areas({"a": shapely.box(0.6, 51.5, 0.8, 51.6)}, CRS.from_epsg(4326))
    with pytest.raises(ValueError, match="projected"):
        Grid.from_areas(lonlat, 100)


@pytest.mark.realdata
def test_southend_cells_keep_their_ids_in_the_essex_grid(essex_dir):
    boundaries = essex_dir / "boundaries"
    southend = Grid.from_areas(load_areas(boundaries, "LSOA11NM", select="Southend-on-Sea"), 150)
    essex = Grid.from_areas(load_areas(boundaries, "LSOA11NM"), 150)
    assert essex.ncols > southend.ncols and essex.nrows > southend.nrows
    ids = southend.cell_ids()[southend.mask]
    row, col = essex.cell_of_id(ids)
    assert (row >= 0).all()
    assert (np.array(essex.district_names)[essex.district[row, col]] == "Southend-on-Sea").mean() > 0.97

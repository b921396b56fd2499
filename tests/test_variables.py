"""Risk variables: exact distances, proximity bands, kernel density, the nearest-neighbour
index and the RTMDx rule that picks proximity or density."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from rtm.grid import Grid
from rtm.layers import Layer
from rtm.variables import (RiskVariables, auto_operationalisation, build_variables, density_surface,
                           density_threshold, density_variable, distance_surface, nearest_neighbour_index,
                           proximity, sample_points, spatial_influences)
from rtm.surfaces import quartic_kernel

CRS = pyproj.CRS("EPSG:27700")


def make_grid(n=20, cell=50.0, x0=0.0, y0=None, mask=None) -> Grid:
    y0 = n * cell if y0 is None else y0
    mask = np.ones((n, n), bool) if mask is None else mask
    return Grid(cell, x0, y0, n, n, CRS, mask, np.where(mask, 0, -1).astype(np.int32), ("test",))


def make_layer(name, geoms, kind="point") -> Layer:
    return Layer(name, gpd.GeoDataFrame(geometry=list(geoms), crs=CRS), kind)


def centres(grid):
    return grid.centres()


# -- spatial influences --------------------------------------------------------------------
def test_spatial_influences_whole_and_half_blocks():
    assert spatial_influences(100, 4) == [100, 200, 300, 400]
    assert spatial_influences(100, 4, "half") == [50, 100, 150, 200]
    with pytest.raises(ValueError, match="increment must be 'whole' or 'half'"):
        spatial_influences(100, 4, "quarter")
    with pytest.raises(ValueError, match="block_length must be a positive"):
        spatial_influences(0, 4)
    with pytest.raises(ValueError, match="bands must be a whole number"):
        spatial_influences(100, 0)


# -- distances -----------------------------------------------------------------------------
def test_distance_to_a_line_is_exact_not_to_its_vertices():
    grid = make_grid()  # 1 km square, centres at 25, 75, ..., 975
    line = shapely.LineString([(-500, 510), (1500, 510)])  # vertices far outside the grid
    dist = distance_surface(grid, make_layer("road", [line], "line"))
    cx, cy = centres(grid)
    np.testing.assert_allclose(dist, np.abs(cy - 510), atol=1e-9)
    assert dist.min() == pytest.approx(15.0)  # a vertex-only distance would exceed 500 m
    # a diagonal line: distance |x - y| / sqrt(2) for every centre (all project inside it)
    diag = shapely.LineString([(-100, -100), (1100, 1100)])
    dist = distance_surface(grid, make_layer("rail", [diag], "line"))
    np.testing.assert_allclose(dist, np.abs(cx - cy) / np.sqrt(2), atol=1e-9)


def test_distance_is_zero_inside_polygons_and_inf_outside_the_mask():
    mask = np.ones((20, 20), bool)
    mask[:5, :5] = False
    grid = make_grid(mask=mask)
    park = shapely.box(400, 400, 600, 600)
    dist = distance_surface(grid, make_layer("park", [park], "polygon"))
    cx, cy = centres(grid)
    dx = np.maximum(np.maximum(400 - cx, cx - 600), 0)
    dy = np.maximum(np.maximum(400 - cy, cy - 600), 0)
    np.testing.assert_allclose(dist[mask], np.hypot(dx, dy)[mask], atol=1e-9)
    assert (dist[(cx > 400) & (cx < 600) & (cy > 400) & (cy < 600)] == 0).all()
    assert np.isinf(dist[~mask]).all()


def test_distance_to_points_matches_brute_force_and_mixed_layers_take_the_minimum():
    rng = np.random.default_rng(1)
    grid = make_grid()
    xy = rng.uniform(-200, 1200, (15, 2))
    pts = shapely.points(xy)
    dist = distance_surface(grid, make_layer("pubs", pts))
    cx, cy = centres(grid)
    brute = np.hypot(cx[..., None] - xy[:, 0], cy[..., None] - xy[:, 1]).min(axis=-1)
    np.testing.assert_allclose(dist, brute, atol=1e-9)
    line = shapely.LineString([(0, 5), (1000, 5)])
    mixed = distance_surface(grid, make_layer("mixed", list(pts) + [line], "mixed"))
    np.testing.assert_allclose(mixed, np.minimum(brute, np.abs(cy - 5)), atol=1e-9)


def test_proximity_bands_are_inclusive_and_nested():
    d = np.array([0.0, 100.0, 100.0001, 250.0, np.inf])
    np.testing.assert_array_equal(proximity(d, 100), [1, 1, 0, 0, 0])
    assert proximity(d, 100).dtype == np.uint8
    grid = make_grid()
    pub = make_layer("pubs", [shapely.Point(525, 525)])  # a cell centre: some centres are exactly 100 m away
    rv = build_variables(grid, [pub], 100, 3, "whole", {"pubs": "proximity"})
    assert rv.names == ["pubs_prox_100", "pubs_prox_200", "pubs_prox_300"]
    cx, cy = centres(grid)
    for j, d in enumerate((100, 200, 300)):
        expected = (np.hypot(cx - 525, cy - 525) <= d)[grid.mask]
        np.testing.assert_array_equal(rv.matrix[:, j], expected)
    assert rv.matrix[:, 0].sum() == 13  # its own cell, 4 at 50 m, 4 at 70.7 m and 4 at exactly 100 m
    assert (rv.matrix[:, 0] <= rv.matrix[:, 1]).all() and (rv.matrix[:, 1] <= rv.matrix[:, 2]).all()
    with pytest.raises(ValueError, match="spatial influence d must be"):
        proximity(d, -1)


# -- density -------------------------------------------------------------------------------
def test_quartic_kernel_shape():
    k = quartic_kernel(50.0, 200.0)
    assert k.shape == (9, 9) and k.sum() == pytest.approx(1.0)
    centre = k[4, 4]
    assert k[4, 5] / centre == pytest.approx((1 - (50 / 200) ** 2) ** 2)
    assert k[4, 8] == 0 and k[0, 0] == 0  # at and beyond the bandwidth


def test_density_surface_conserves_features_and_reaches_outside_the_grid():
    grid = make_grid(n=40)  # 2 km square
    rng = np.random.default_rng(3)
    xy = rng.uniform(600, 1400, (30, 2))
    dens = density_surface(grid, make_layer("bars", shapely.points(xy)), 350)  # 7 cells: binned + FFT
    cell_km2 = (50 / 1000) ** 2
    assert dens.sum() * cell_km2 == pytest.approx(30.0)
    assert (dens >= 0).all()
    cx, cy = centres(grid)
    far = np.hypot(cx[..., None] - xy[:, 0], cy[..., None] - xy[:, 1]).min(axis=-1) > 350 + 50
    assert (dens[far] == 0).all()
    # a feature 100 m outside the grid still raises the density at the edge
    out = density_surface(grid, make_layer("bar", [shapely.Point(-100, 1000)]), 350)
    assert out[20, 0] > 0 and out[20, 10] == 0


def test_lines_and_polygons_are_sampled_at_the_spacing():
    line = shapely.LineString([(0, 0), (1000, 0)])
    x, y, w = sample_points(np.array([line]), 25.0)
    assert len(x) == 40 and w.sum() == pytest.approx(40.0) and np.allclose(y, 0)
    poly = shapely.box(0, 0, 100, 100)
    x, y, w = sample_points(np.array([poly]), 25.0)
    assert len(x) == 16 and w.sum() == pytest.approx(16.0)
    tiny = shapely.box(1, 1, 2, 2)  # holds no lattice point
    x, y, w = sample_points(np.array([tiny]), 25.0)
    assert len(x) == 1 and w[0] == pytest.approx(1 / 625)
    grid = make_grid(n=40)
    road = shapely.LineString([(400, 1000), (1600, 1000)])
    dens = density_surface(grid, make_layer("road", [road], "line"), 350, spacing=25.0)  # FFT path
    assert dens.sum() * (50 / 1000) ** 2 == pytest.approx(1200 / 25)


def _direct_quartic(grid, xy, w, h):
    """The quartic KDE written out: every cell centre against every point, in features per km2."""
    cx, cy = grid.centres()
    out = np.zeros(grid.shape)
    for (px, py), wi in zip(xy, w):
        r2 = ((cx - px) ** 2 + (cy - py) ** 2) / h**2
        out += wi * np.where(r2 < 1, 3 / (np.pi * h**2) * (1 - r2) ** 2, 0.0)
    return out * 1e6


@pytest.mark.parametrize("h", [50.0, 80.0, 100.0, 150.0, 200.0])
def test_short_bandwidth_density_uses_true_positions(h):
    """Up to 6 cells of bandwidth the density is the quartic KDE of the points where they
    are, not of their cell centres: equal to a direct sum on a small grid."""
    from rtm.variables.density import kernel_density

    grid = make_grid(n=24)  # 50 m cells
    rng = np.random.default_rng(int(h))
    xy = rng.uniform(-60, 1260, (80, 2))  # some just outside the grid
    w = rng.uniform(0.5, 2.0, 80)
    got = kernel_density(grid, xy[:, 0], xy[:, 1], w, h)
    ref = _direct_quartic(grid, xy, w, h)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)
    # binning each point to its cell centre (the FFT path) is visibly different at these widths
    col = np.floor(xy[:, 0] / 50)
    row = np.floor((grid.y0 - xy[:, 1]) / 50)
    binned = _direct_quartic(grid, np.column_stack([(col + 0.5) * 50, grid.y0 - (row + 0.5) * 50]), w, h)
    assert np.abs(binned - ref).max() > 0.05 * ref.max()


def test_density_variable_uses_mean_plus_n_sd_over_the_mask():
    dens = np.zeros((4, 4))
    dens[0, 0], dens[1, 1], dens[2, 2] = 10.0, 5.0, 2.0
    dens[3, 3] = 100.0
    mask = np.ones((4, 4), bool)
    mask[3, 3] = False  # the outlier is outside the study area
    v = dens[mask]
    thr = v.mean() + 2 * v.std()
    assert density_threshold(dens, mask) == pytest.approx(thr)
    out = density_variable(dens, mask)
    assert out.dtype == np.uint8
    assert out[0, 0] == 1 and out[1, 1] == (5.0 > thr) and out[3, 3] == 0
    assert out.sum() == 1
    loose = density_variable(dens, mask, n_sd=0.5)
    assert loose[1, 1] == 1 and loose[2, 2] == (2.0 > v.mean() + 0.5 * v.std())
    assert density_variable(np.ones((3, 3)), np.ones((3, 3), bool)).sum() == 0
    with pytest.raises(ValueError, match="density has shape"):
        density_variable(dens, np.ones((2, 2), bool))


# -- nearest-neighbour index and the auto rule ---------------------------------------------
def lattice(spacing, n):
    g = np.arange(n) * spacing
    return np.column_stack([a.ravel() for a in np.meshgrid(g, g)])


def test_nearest_neighbour_index_lattice_is_dispersed_and_a_cluster_is_clustered():
    pts = lattice(100.0, 10)  # 100 points, 1 km x 1 km
    nni = nearest_neighbour_index(pts, 1e6)
    assert nni.observed_m == pytest.approx(100.0)
    assert nni.expected_m == pytest.approx(0.5 / np.sqrt(100 / 1e6))
    assert nni.ratio == pytest.approx(2.0)
    assert nni.z > 1.96 and nni.p_value < 0.05
    rng = np.random.default_rng(0)
    cluster = rng.normal(500, 20, (100, 2))
    c = nearest_neighbour_index(cluster, 1e6)
    assert c.ratio < 0.3 and c.z < -1.96 and c.p_value < 0.05
    with pytest.raises(ValueError, match="at least 2 points"):
        nearest_neighbour_index(pts[:1], 1e6)
    with pytest.raises(ValueError, match="area must be a positive"):
        nearest_neighbour_index(pts, 0)


def test_auto_operationalisation_follows_the_rtmdx_rule():
    rng = np.random.default_rng(0)
    clustered = make_layer("bars", shapely.points(rng.normal(2500, 30, (40, 2))))
    choice = auto_operationalisation(clustered, 25e6, 100)
    assert choice.operationalisation == "density" and choice.reason.startswith("clustered")
    sparse = make_layer("banks", shapely.points(lattice(1000.0, 5)))  # dispersed, 1 km apart
    choice = auto_operationalisation(sparse, 25e6, 500)
    assert choice.operationalisation == "proximity" and "exceeds" in choice.reason
    choice = auto_operationalisation(sparse, 25e6, 1200)  # dispersed, but within the influence
    assert choice.operationalisation == "density" and "within" in choice.reason
    lonely = make_layer("prison", [shapely.Point(0, 0)])
    assert auto_operationalisation(lonely, 25e6, 500).operationalisation == "proximity"


def test_build_variables_table_choices_and_memory_layout():
    mask = np.ones((20, 20), bool)
    mask[0, :] = False
    grid = make_grid(mask=mask)
    rng = np.random.default_rng(2)
    bars = make_layer("bars", shapely.points(rng.normal(500, 40, (30, 2))))
    banks = make_layer("banks", shapely.points(lattice(400.0, 3) + 100))
    rv = build_variables(grid, [bars, banks], 100, 2, "half", {"bars": "auto"})  # banks: both, the default
    assert isinstance(rv, RiskVariables)
    assert rv.matrix.dtype == np.uint8 and rv.matrix.shape == (int(mask.sum()), 6)
    assert rv.names == ["bars_dens_50", "bars_dens_100", "banks_prox_50", "banks_prox_100", "banks_dens_50",
                        "banks_dens_100"]
    assert list(rv.table["spatial_influence_m"]) == [50, 100, 50, 100, 50, 100]
    assert (rv.table["cells"].to_numpy() == rv.matrix.sum(axis=0)).all()
    choices = rv.choices.set_index("factor")
    assert choices.at["bars", "requested"] == "auto" and choices.at["bars", "used"] == "density"
    assert choices.at["banks", "used"] == "both"
    np.testing.assert_array_equal(rv.cells, np.flatnonzero(mask))
    with pytest.raises(ValueError, match="not one of proximity, density, both, auto"):
        build_variables(grid, [bars], 100, 2, "whole", {"bars": "kernel"})
    with pytest.raises(ValueError, match="name a layer that was not given: 'pubs'"):
        build_variables(grid, [bars], 100, 2, "whole", {"pubs": "density"})
    with pytest.raises(ValueError, match="two layers are called 'bars'"):
        build_variables(grid, [bars, bars], 100, 2)

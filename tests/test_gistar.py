"""Harm-weighted Gi*: checked against PySAL's esda.G_Local (star) on small grids, with
false discovery rate control, and a test that fails if counts are used instead of harm."""

import numpy as np
import pytest
from pyproj import CRS

from rtm.errors import InputError
from rtm.gistar import band_kernel, confidence_bin, fdr_adjust, gistar, harm_gistar
from rtm.grid import Grid

esda = pytest.importorskip("esda", reason="esda is a test dependency (pip install esda)")
libpysal = pytest.importorskip("libpysal", reason="libpysal is a test dependency")


def make_grid(nrows=12, ncols=15, cs=100.0, holes=()):
    mask = np.ones((nrows, ncols), bool)
    for r, c in holes:
        mask[r, c] = False
    district = np.where(mask, 0, -1).astype(np.int32)
    return Grid(cs, 500000.0, 200000.0, ncols, nrows, CRS.from_epsg(27700), mask, district, ("A",))


def esda_z(values, grid, distance):
    rows, cols = np.nonzero(grid.mask)
    pts = np.column_stack([cols * grid.cell_size, -rows * grid.cell_size])
    w = libpysal.weights.DistanceBand(pts, threshold=distance, binary=True, silence_warnings=True)
    g = esda.G_Local(values[rows, cols], w, transform="B", star=True, permutations=0)
    return rows, cols, g


@pytest.mark.parametrize("distance", [100.0, 150.0, 250.0, 420.0])
def test_matches_esda_g_local_star(distance):
    rng = np.random.default_rng(7)
    grid = make_grid(holes=[(0, 0), (0, 1), (5, 7), (11, 14)])
    values = rng.gamma(0.4, 20.0, grid.shape) * (rng.random(grid.shape) < 0.3)
    z, p = gistar(values, grid.mask, grid.cell_size, distance)
    rows, cols, g = esda_z(values, grid, distance)
    np.testing.assert_allclose(z[rows, cols], g.Zs, atol=1e-9)
    np.testing.assert_allclose(p[rows, cols], 2 * g.p_norm, atol=1e-9)
    assert np.isnan(z[~grid.mask]).all()


def test_band_includes_the_ring_on_the_distance_and_the_cell_itself():
    k = band_kernel(100.0, 100.0)
    assert k.shape == (3, 3) and k.sum() == 5  # the cell and its four rook neighbours
    assert band_kernel(100.0, 100.0 * np.sqrt(2)).sum() == 9
    assert band_kernel(100.0, 0.0).sum() == 1
    with pytest.raises(InputError, match="distance"):
        band_kernel(100.0, -5.0)


def _incidents(grid):
    """Cell (2, 2): twelve incidents of harm 1 (e.g. shoplifting); cell (9, 12): two of harm 365."""
    cx, cy = grid.centres()
    x = [cx[2, 2]] * 12 + [cx[9, 12]] * 2 + [cx[6, 6]]
    y = [cy[2, 2]] * 12 + [cy[9, 12]] * 2 + [cy[6, 6]]
    w = [1.0] * 12 + [365.0] * 2 + [2.0]
    return np.array(x), np.array(y), np.array(w)


def test_harm_weights_are_used_not_counts():
    grid = make_grid()
    x, y, w = _incidents(grid)
    hs = harm_gistar(grid, x, y, w, distance_m=150.0)
    harm = grid.counts(x, y, w)
    rows, cols, g = esda_z(harm, grid, 150.0)
    np.testing.assert_allclose(hs.z[rows, cols], g.Zs, atol=1e-9)  # would fail on counts
    # by harm the grievous cell is the stronger hot spot; by counts it would be the other
    assert hs.z[9, 12] > hs.z[2, 2]
    counts = harm_gistar(grid, x, y, np.ones_like(w), distance_m=150.0)
    assert counts.z[2, 2] > counts.z[9, 12]
    assert not np.allclose(hs.z[grid.mask], counts.z[grid.mask])


def test_fdr_is_benjamini_hochberg():
    from scipy import stats

    rng = np.random.default_rng(3)
    p = rng.random(200) ** 3
    q = fdr_adjust(p)
    # BH by hand: q_(i) = min_{j>=i} p_(j) m / j
    order = np.argsort(p)
    m = len(p)
    raw = p[order] * m / np.arange(1, m + 1)
    want = np.minimum.accumulate(raw[::-1])[::-1].clip(max=1)
    np.testing.assert_allclose(q[order], want)
    np.testing.assert_allclose(q, stats.false_discovery_control(p, method="bh"))
    assert np.isnan(fdr_adjust(np.array([np.nan, 0.01]))[0])


def test_fdr_removes_chance_hot_spots_on_random_harm():
    rng = np.random.default_rng(11)
    grid = make_grid(60, 60, 50.0)
    n = 3000
    x = grid.x0 + rng.random(n) * grid.ncols * grid.cell_size
    y = grid.y0 - rng.random(n) * grid.nrows * grid.cell_size
    w = rng.choice([1.0, 10.0, 100.0], n)
    raw = harm_gistar(grid, x, y, w, distance_m=100.0, fdr=False)
    adj = harm_gistar(grid, x, y, w, distance_m=100.0)
    assert raw.hot.sum() > 20          # about 2.5% of 3,600 cells by chance at p < 0.05
    assert adj.hot.sum() <= 3          # false discoveries kept to about 5% of discoveries


def test_confidence_bins_and_constant_values():
    z = np.array([3.5, -2.2, 1.7, 0.2, np.nan])
    q = np.array([0.001, 0.03, 0.08, 0.5, np.nan])
    assert confidence_bin(z, q).tolist() == [3, -2, 1, 0, 0]
    grid = make_grid(5, 5)
    z, p = gistar(np.full(grid.shape, 4.0), grid.mask, 100.0, 150.0)
    assert (z == 0).all() and (p == 1).all()


def test_bad_alpha_is_a_setting_error():
    grid = make_grid(5, 5)
    with pytest.raises(InputError, match="false discovery rate"):
        harm_gistar(grid, [], [], [], alpha=1.5)


def test_bh_q_values_equal_scipys_false_discovery_control():
    """rtm.gistar computes BH q-values without importing scipy.stats (0.6 s at the app's start);
    they are scipy's, exactly, ties and a single value included."""
    import numpy as np
    from scipy import stats

    from rtm.gistar import _bh

    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 500):
        for trial in range(10):
            p = rng.random(n) ** rng.uniform(0.2, 5)
            if trial % 2:
                p = np.round(p, 2)  # ties
            assert np.array_equal(_bh(p), stats.false_discovery_control(p, method="bh"))

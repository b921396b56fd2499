"""Harm surfaces: weight kept inside the study area, kernel shape and reach, recency decay
without look-ahead, the default bandwidth, and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
import pytest

from rtm.grid import Grid
from rtm.surfaces import (Bandwidth, default_bandwidth, gaussian_kernel, harm_surface, kernel_weights,
                          recency_weights)
from rtm.surfaces import binned_kernel, quartic_kernel

CRS = pyproj.CRS("EPSG:27700")


def make_grid(nrows=40, ncols=50, cell=50.0, mask=None) -> Grid:
    mask = np.ones((nrows, ncols), bool) if mask is None else mask
    return Grid(cell, 0.0, nrows * cell, ncols, nrows, CRS, mask, np.where(mask, 0, -1).astype(np.int32), ("t",))


def disc_grid(n=60, cell=50.0) -> Grid:
    r, c = np.mgrid[0:n, 0:n]
    mask = (r - n / 2 + 0.5) ** 2 + (c - n / 3) ** 2 < (n / 2.5) ** 2
    mask[5:12, 30:40] = False  # a hole near the middle, so the boundary is inside too
    return make_grid(n, n, cell, mask)


def centre_of(grid, row, col):
    return grid.x0 + (col + 0.5) * grid.cell_size, grid.y0 - (row + 0.5) * grid.cell_size


def random_points(grid, n, seed=1):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = grid.bounds
    pad = 200.0  # some points off the grid too
    return (rng.uniform(x0 - pad, x1 + pad, n), rng.uniform(y0 - pad, y1 + pad, n),
            rng.exponential(30.0, n))


# -- weight preserved ----------------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("bandwidth", [60.0, 175.0, 420.0])
def test_surface_inside_the_mask_sums_to_the_weight_inside_it(kernel, bandwidth):
    grid = disc_grid()
    x, y, w = random_points(grid, 3000)
    s = harm_surface(grid, x, y, w, bandwidth_m=bandwidth, kernel=kernel)
    inside = grid.counts(x, y, w)[grid.mask].sum()
    assert s.shape == grid.shape and s.dtype == np.float64
    assert s[grid.mask].sum() == pytest.approx(inside, rel=1e-9)
    assert (s[~grid.mask] == 0).all() and (s >= 0).all()
    # incidents outside the mask changed nothing
    row, col = grid.index(x, y)
    keep = (row >= 0) & grid.mask[row, col]
    np.testing.assert_allclose(harm_surface(grid, x[keep], y[keep], w[keep], bandwidth_m=bandwidth,
                                            kernel=kernel), s, rtol=1e-12, atol=1e-12)


def test_without_a_mask_the_surface_sums_to_the_total_weight():
    grid = make_grid(60, 60, mask=np.zeros((60, 60), bool))  # edge="none" ignores the mask
    rng = np.random.default_rng(3)
    x, y = rng.uniform(800, 2200, 500), rng.uniform(800, 2200, 500)  # well inside the grid
    w = rng.uniform(1, 9, 500)
    s = harm_surface(grid, x, y, w, bandwidth_m=300, edge="none")
    assert s.sum() == pytest.approx(w.sum(), rel=1e-12)


# -- kernel shape ----------------------------------------------------------------------------
@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_kernel_is_symmetric_normalised_and_respects_its_radius(kernel):
    cell, h = 50.0, 230.0
    k = kernel_weights(cell, h, kernel)
    assert k.sum() == pytest.approx(1.0, abs=1e-15)
    for t in (k[::-1], k[:, ::-1], k.T):
        np.testing.assert_array_equal(k, t)
    m = k.shape[0] // 2
    off = np.arange(-m, m + 1) * cell
    r = np.hypot(off[:, None], off[None, :])
    reach = h if kernel == "quartic" else 2 * h  # Gaussian: 4 sigma, sigma = h / 2
    assert (k[r >= reach + 1e-9] == 0).all() if kernel == "quartic" else (k[r > reach] == 0).all()
    assert (k[r < reach - cell] > 0).all()
    assert k[m, m] == k.max()
    # decreasing with distance from the centre along a row
    assert (np.diff(k[m, m:]) <= 0).all()


def test_gaussian_kernel_uses_sigma_half_the_bandwidth():
    k = gaussian_kernel(10.0, 100.0)  # sigma 50 m
    m = k.shape[0] // 2
    assert m == 20  # 4 sigma = 200 m = 20 cells
    assert k[m, m + 5] / k[m, m] == pytest.approx(np.exp(-0.5))  # 50 m away: one sigma


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_a_single_incident_gives_the_kernel_centred_on_its_cell(kernel):
    """Nearest binning (the surface of earlier versions): the kernel at the cell's centre."""
    grid = make_grid(41, 41)
    h = 180.0
    x, y = centre_of(grid, 20, 20)
    s = harm_surface(grid, [x + 12.0], [y - 20.0], [7.5], bandwidth_m=h, kernel=kernel, binning="nearest")
    k = kernel_weights(grid.cell_size, h, kernel)
    m = k.shape[0] // 2
    expected = np.zeros(grid.shape)
    expected[20 - m:20 + m + 1, 20 - m:20 + m + 1] = 7.5 * k
    np.testing.assert_allclose(s, expected, rtol=1e-12, atol=1e-15)
    assert (s[expected == 0] == 0).all()  # exact zeros beyond the radius


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("edge", ["mask", "none"])
def test_linear_binning_shares_an_incident_among_its_four_nearest_centres(kernel, edge):
    """The default: 12 m right of and 20 m below a centre on 50 m cells is 0.24 and 0.4 of
    a cell, so the kernel sits at the 4 centres around it with weights 0.76 x 0.6, 0.24 x
    0.6, 0.76 x 0.4 and 0.24 x 0.4 (the kernel corrected for binning's smoothing); the
    surface's centre of mass is the incident."""
    grid = make_grid(41, 41)
    h = 180.0
    x, y = centre_of(grid, 20, 20)
    s = harm_surface(grid, [x + 12.0], [y - 20.0], [7.5], bandwidth_m=h, kernel=kernel, edge=edge)
    k = binned_kernel(grid.cell_size, h, kernel)
    m = k.shape[0] // 2
    expected = np.zeros(grid.shape)
    for dr, dc, share in ((0, 0, 0.76 * 0.6), (0, 1, 0.24 * 0.6), (1, 0, 0.76 * 0.4), (1, 1, 0.24 * 0.4)):
        expected[20 + dr - m:20 + dr + m + 1, 20 + dc - m:20 + dc + m + 1] += 7.5 * share * k
    np.testing.assert_allclose(s, expected, rtol=1e-9, atol=1e-14)
    assert (s[expected == 0] == 0).all()
    cx, cy = grid.centres()
    assert (s * cx).sum() / s.sum() == pytest.approx(x + 12.0, abs=1e-9)
    assert (s * cy).sum() / s.sum() == pytest.approx(y - 20.0, abs=1e-9)


def test_edge_correction_keeps_a_boundary_incidents_weight_in_the_mask():
    mask = np.zeros((30, 30), bool)
    mask[:, :15] = True
    grid = make_grid(30, 30, mask=mask)
    x, y = centre_of(grid, 15, 14)  # last column of the mask
    s = harm_surface(grid, [x], [y], [10.0], bandwidth_m=200)
    assert s.sum() == pytest.approx(10.0, rel=1e-12)
    # the shape inside the mask is the plain kernel's, scaled up
    plain = harm_surface(grid, [x], [y], [10.0], bandwidth_m=200, edge="none")
    ratio = s[mask & (plain > 0)] / plain[mask & (plain > 0)]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    assert ratio[0] > 1.5


def test_edge_none_counts_incidents_just_off_the_grid():
    grid = make_grid(20, 20)
    s = harm_surface(grid, [-30.0], [500.0], [1.0], bandwidth_m=200, edge="none")
    assert 0 < s.sum() < 1
    assert harm_surface(grid, [-30.0], [500.0], [1.0], bandwidth_m=200).sum() == 0  # off the mask


# -- recency -------------------------------------------------------------------------------------
def test_decay_halves_the_weight_at_one_half_life():
    grid = make_grid(20, 20)
    x, y = centre_of(grid, 10, 10)
    as_of = pd.Timestamp("2024-06-01")
    dates = pd.DataFrame({"date_start": pd.to_datetime(["2024-03-01", "2024-05-01"]),
                          "date_end": pd.to_datetime(["2024-04-01", "2024-05-02"])})
    w = recency_weights([8.0, 8.0], dates, as_of, half_life_days=61)  # 2024-04-01 -> 06-01: 61 days
    assert w[0] == pytest.approx(4.0, rel=1e-12)
    assert w[1] == pytest.approx(8.0 * 0.5 ** (30 / 61), rel=1e-12)  # age from the day's end
    s = harm_surface(grid, [x], [y], [8.0], bandwidth_m=150, dates=dates.iloc[:1], as_of=as_of,
                     half_life_days=61)
    assert s.sum() == pytest.approx(4.0, rel=1e-12)


def test_incidents_at_or_after_as_of_change_nothing():
    grid = disc_grid(40)
    x, y, w = random_points(grid, 400, seed=5)
    rng = np.random.default_rng(6)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, x.size), unit="D")
    dates = pd.DataFrame({"date_start": start, "date_end": start})  # instants
    as_of = pd.Timestamp("2024-07-01")
    before = np.asarray(start < as_of)
    full = harm_surface(grid, x, y, w, bandwidth_m=150, dates=dates, as_of=as_of, half_life_days=30)
    past = harm_surface(grid, x[before], y[before], w[before], bandwidth_m=150, dates=dates[before],
                        as_of=as_of, half_life_days=30)
    np.testing.assert_array_equal(full, past)
    # moving the future incidents' harm anywhere changes nothing either
    w2 = w.copy()
    w2[~before] *= 1000
    np.testing.assert_array_equal(harm_surface(grid, x, y, w2, bandwidth_m=150, dates=dates, as_of=as_of,
                                               half_life_days=30), full)


def test_a_month_counts_only_once_it_has_ended():
    when = (pd.to_datetime(["2024-03-01"]), pd.to_datetime(["2024-04-01"]))
    assert recency_weights([1.0], when, "2024-03-31 23:59")[0] == 0.0
    assert recency_weights([1.0], when, "2024-04-01")[0] == 1.0
    assert recency_weights([1.0], pd.to_datetime(["2024-04-01"]), "2024-04-01")[0] == 0.0  # instant at as_of


# -- bandwidth -----------------------------------------------------------------------------------
def test_default_bandwidth_fixed_and_silverman():
    grid = make_grid(cell=30.0)
    h, why = default_bandwidth(grid)
    assert h == 100.0 and "at least 100 m" in why
    assert default_bandwidth(make_grid(cell=150.0)).metres == 300.0
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1000, 4096), rng.normal(0, 1000, 4096)
    b = default_bandwidth(grid, x, y, rule="silverman", kernel="gaussian")
    assert isinstance(b, Bandwidth) and "Silverman" in b.reason
    assert b.metres == pytest.approx(2 * 1000 * 4096 ** (-1 / 6), rel=0.05)  # sigma = s n^(-1/6), h = 2 sigma
    q = default_bandwidth(grid, x, y, rule="silverman")
    assert q.metres == pytest.approx(b.metres * np.sqrt(2), rel=1e-12)


# -- errors ----------------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    grid = make_grid(10, 10)
    x, y, w = [100.0], [100.0], [1.0]
    cases = [
        (dict(bandwidth_m=0), "bandwidth_m must be a positive number of metres"),
        (dict(bandwidth_m=float("nan")), "bandwidth_m must be a positive number"),
        (dict(bandwidth_m=100, kernel="epanechnikov"), "kernel must be 'quartic' or 'gaussian'"),
        (dict(bandwidth_m=100, edge="reflect"), "edge must be 'mask' or 'none'"),
        (dict(bandwidth_m=100, as_of="2024-01-01"), "need dates"),
        (dict(bandwidth_m=100, half_life_days=30, dates=pd.to_datetime(["2023-01-01"])), "needs as_of"),
        (dict(bandwidth_m=100, half_life_days=-1, as_of="2024-01-01"), "half_life_days must be a positive"),
        (dict(bandwidth_m=100, as_of="2024-01-01", dates=pd.DataFrame({"date_start": [pd.NaT], "date_end": [pd.NaT]})),
         "dates are missing for 1 of 1 incidents"),
        (dict(bandwidth_m=100, as_of="2024-01-01", dates=pd.DataFrame({"date": [1]})), "without the column"),
        (dict(bandwidth_m=100, as_of="not a date", dates=pd.to_datetime(["2023-01-01"])), "as_of cannot be read"),
        (dict(bandwidth_m=100, as_of="2024-01-01", dates=pd.to_datetime(["2023-01-01", "2023-02-01"])),
         "for 1 incidents"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            harm_surface(grid, x, y, w, **kwargs)
    with pytest.raises(ValueError, match="weights has 2 values for 1 incidents"):
        harm_surface(grid, x, y, [1.0, 2.0], bandwidth_m=100)
    with pytest.raises(ValueError, match="finite and non-negative"):
        harm_surface(grid, x, y, [-1.0], bandwidth_m=100)
    with pytest.raises(ValueError, match="x has 1 values but y has 2"):
        harm_surface(grid, x, [1.0, 2.0], w, bandwidth_m=100)
    with pytest.raises(ValueError, match="rule must be 'fixed' or 'silverman'"):
        default_bandwidth(grid, rule="scott")
    with pytest.raises(ValueError, match="needs the incidents' x and y"):
        default_bandwidth(grid, rule="silverman")


def test_no_incidents_gives_zeros():
    grid = make_grid(10, 10)
    assert (harm_surface(grid, [], [], [], bandwidth_m=100) == 0).all()
    assert quartic_kernel(50.0, 100.0).shape == (5, 5)


# -- accuracy against an exact KDE ---------------------------------------------------------------
def exact_quartic(grid, x, y, w, h):
    """The quartic KDE evaluated directly at every cell centre, summed over the points,
    ``3 / (pi h^2) (1 - r^2/h^2)^2`` per point, in harm per cell (times the cell's area)."""
    cx, cy = grid.centres()
    out = np.zeros(grid.shape)
    for xi, yi, wi in zip(x, y, w):
        r2 = ((cx - xi) ** 2 + (cy - yi) ** 2) / h**2
        out += wi * np.where(r2 < 1, (1 - r2) ** 2, 0.0)
    return out * 3 / (np.pi * h**2) * grid.cell_size**2


def kdepy_quartic(grid, x, y, w, h):
    """KDEpy's FFTKDE (linear binning) with its biweight kernel, which is the quartic one
    with support ``sqrt(7) bw``, at the same cell centres, in harm per cell."""
    from KDEpy import FFTKDE

    cx, cy = grid.centres()
    gx, gy = np.meshgrid(cx[0], cy[::-1, 0], indexing="ij")  # KDEpy's order: x, then y ascending
    d = FFTKDE(kernel="biweight", bw=h / np.sqrt(7), norm=2).fit(np.column_stack([x, y]), weights=w)
    d = d.evaluate(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    return d.T[::-1] * w.sum() * grid.cell_size**2


@pytest.mark.parametrize("cell, h", [(50.0, 55.0), (50.0, 100.0), (150.0, 165.0), (50.0, 300.0)])
def test_linear_binning_is_at_least_as_accurate_as_kdepy_against_an_exact_kde(cell, h):
    """Relative L2 error against the exact KDE at the cell centres, 300 weighted points
    away from the edges: ours (the default, linear) at most KDEpy's and well below the
    old nearest-cell binning; the masked surface (all cells in the mask) is the same."""
    n_side = 60
    grid = make_grid(n_side, n_side, cell)
    rng = np.random.default_rng(5)
    lo, hi = h + 2 * cell, n_side * cell - h - 2 * cell
    x, y, w = rng.uniform(lo, hi, 300), rng.uniform(lo, hi, 300), rng.exponential(5.0, 300)
    exact = exact_quartic(grid, x, y, w, h)

    def err(s):
        return np.sqrt(((s - exact) ** 2).sum() / (exact**2).sum())

    ours = err(harm_surface(grid, x, y, w, bandwidth_m=h, edge="none"))
    assert err(harm_surface(grid, x, y, w, bandwidth_m=h)) == pytest.approx(ours, rel=1e-9)
    nearest = err(harm_surface(grid, x, y, w, bandwidth_m=h, edge="none", binning="nearest"))
    peer = err(kdepy_quartic(grid, x, y, w, h))
    assert ours <= peer
    assert ours < 0.75 * nearest

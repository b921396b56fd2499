"""Harm surfaces: kernel density of incidents weighted by harm, on the run's grid.

Incidents are binned into the grid's cells with their harm weights (optionally decayed by
age), then spread by a quartic or Gaussian kernel with one FFT convolution. Inside the
study area the surface is edge-corrected so that it adds up to the harm recorded there:
no harm leaks out across the boundary and none is invented. Units are harm per cell
(divide by ``grid.cell_size**2 / 1e6`` for harm per square kilometre).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .binning import BINNINGS, bin_points, linear_binning_correction  # noqa: F401 (bin_points: public here too)
from .grid import Grid

KERNELS = ("quartic", "gaussian")
EDGES = ("mask", "none")
GAUSSIAN_SIGMAS = 4.0  # the Gaussian kernel is cut at this many standard deviations
_DAY = np.timedelta64(86_400_000_000_000, "ns")


# -- kernels -----------------------------------------------------------------------------
def quartic_kernel(cell_size: float, bandwidth: float) -> np.ndarray:
    """The quartic (biweight) kernel on a square of cells, normalised to sum to 1.

    Weights are ``(1 - (r/h)**2)**2`` for cell-centre offsets ``r < h`` (bandwidth ``h``),
    0 beyond: the 2-D quartic kernel of Silverman (1986, *Density Estimation for Statistics
    and Data Analysis*, eq. 4.5), the one ArcGIS Kernel Density uses. Normalising the
    sampled weights (rather than using the analytic constant ``3 / (pi h**2)``) keeps each
    feature's total contribution exactly 1 whatever the ratio of bandwidth to cell size.
    Shape ``(2m + 1, 2m + 1)`` with ``m = ceil(h / cell_size)``.
    """
    if not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive number of metres, not {bandwidth!r}")
    m = int(np.ceil(bandwidth / cell_size))
    off = np.arange(-m, m + 1) * cell_size
    r2 = (off[:, None] ** 2 + off[None, :] ** 2) / bandwidth**2
    k = np.where(r2 < 1, (1 - r2) ** 2, 0.0)
    return k / k.sum()


def fft_same(counts: np.ndarray, kernel: np.ndarray, cache: dict | None = None) -> np.ndarray:
    """``scipy.signal.fftconvolve(counts, kernel, mode="same")`` for 2-D real arrays, step
    for step (so bit for bit the same), on all cores, reusing the kernel's transform from
    ``cache`` (keyed by the kernel's bytes and the FFT shape) when one is given."""
    from scipy import fft as sp_fft  # here, not at import: the app's first page draws no surface (0.3 s)

    shape = [counts.shape[i] + kernel.shape[i] - 1 for i in range(2)]
    fshape = [sp_fft.next_fast_len(n, True) for n in shape]
    key = (kernel.shape, kernel.tobytes(), tuple(fshape))
    sp2 = None if cache is None else cache.get(key)
    if sp2 is None:
        sp2 = sp_fft.rfftn(kernel, fshape, axes=[0, 1], workers=-1)
        if cache is not None:
            cache[key] = sp2
    sp1 = sp_fft.rfftn(counts, fshape, axes=[0, 1], workers=-1)
    sp1 *= sp2
    ret = sp_fft.irfftn(sp1, fshape, axes=[0, 1], workers=-1)
    start = [(shape[i] - counts.shape[i]) // 2 for i in range(2)]
    return ret[start[0]:start[0] + counts.shape[0], start[1]:start[1] + counts.shape[1]]


def gaussian_kernel(cell_size: float, bandwidth: float) -> np.ndarray:
    """The Gaussian kernel on a square of cells, cut at 4 sigma and normalised to sum to 1.

    Parameters
    ----------
    cell_size : float
        Cell width in metres.
    bandwidth : float
        Bandwidth ``h`` in metres; the standard deviation is ``sigma = h / 2``, so the
        kernel reaches ``4 sigma = 2h`` (weights ``exp(-r**2 / (2 sigma**2))`` for cell-centre
        offsets ``r <= 2h``, 0 beyond).

    Returns
    -------
    ndarray of float64, shape ``(2m + 1, 2m + 1)`` with ``m = floor(2h / cell_size)``

    Notes
    -----
    The cut drops 0.03% of the continuous Gaussian's mass (``exp(-8)``); normalising the
    sampled weights puts it back, so every incident still contributes exactly its weight.
    """
    _check_bandwidth(bandwidth)
    sigma = bandwidth / 2.0
    reach = GAUSSIAN_SIGMAS * sigma
    m = int(np.floor(reach / cell_size))
    off = np.arange(-m, m + 1) * cell_size
    r2 = off[:, None] ** 2 + off[None, :] ** 2
    k = np.where(r2 <= reach**2, np.exp(-r2 / (2 * sigma**2)), 0.0)
    return k / k.sum()


def kernel_weights(cell_size: float, bandwidth: float, kernel: str = "quartic") -> np.ndarray:
    """The normalised kernel used by :func:`harm_surface` (see :func:`gaussian_kernel` and
    :func:`rtm.surfaces.quartic_kernel`, whose radius is the bandwidth)."""
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be 'quartic' or 'gaussian', not {kernel!r}")
    _check_bandwidth(bandwidth)
    if kernel == "quartic":
        return quartic_kernel(cell_size, bandwidth)
    return gaussian_kernel(cell_size, bandwidth)


def binned_kernel(cell_size: float, bandwidth: float, kernel: str = "quartic") -> np.ndarray:
    """The kernel :func:`harm_surface` convolves linearly binned weights with:
    :func:`kernel_weights` corrected for the smoothing linear binning adds
    (:func:`rtm.binning.linear_binning_correction`). Same reach; normalised to sum to 1."""
    return linear_binning_correction(kernel_weights(cell_size, bandwidth, kernel))


def _check_bandwidth(bandwidth) -> None:
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth_m must be a positive number of metres, not {bandwidth!r}")


# -- dates and decay ---------------------------------------------------------------------
def _periods(dates, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` as datetime64[ns] arrays from the accepted forms of ``dates``."""
    if isinstance(dates, pd.DataFrame):
        missing = {"date_start", "date_end"} - set(dates.columns)
        if missing:
            raise ValueError(f"dates is a table without the column(s) {', '.join(sorted(missing))}; "
                             "pass Incidents.frame or a (date_start, date_end) pair")
        start, end = dates["date_start"], dates["date_end"]
    elif isinstance(dates, tuple):
        if len(dates) != 2:
            raise ValueError(f"dates as a tuple must be (date_start, date_end), not {len(dates)} items")
        start, end = dates
    else:
        start = end = dates  # instants

    def as_ns(v, what):
        try:
            a = pd.to_datetime(pd.Series(np.asarray(v) if not isinstance(v, pd.Series) else v)).to_numpy()
        except (ValueError, TypeError) as e:
            raise ValueError(f"{what} cannot be read as dates: {e}") from None
        if a.dtype.kind != "M":
            raise ValueError(f"{what} cannot be read as dates (time-zone aware? use local times)")
        return a.astype("datetime64[ns]")

    start, end = as_ns(start, "date_start"), as_ns(end, "date_end")
    if start.shape != (n,) or end.shape != (n,):
        raise ValueError(f"dates give {start.size} start and {end.size} end values for {n} incidents")
    bad = np.isnat(start) | np.isnat(end)
    if bad.any():
        raise ValueError(f"dates are missing for {int(bad.sum()):,} of {n:,} incidents: as_of and "
                         "half_life_days need a date for every incident (undated data can only make "
                         "a surface without them)")
    if (end < start).any():
        raise ValueError("some incidents end before they start (date_end < date_start)")
    return start, end


def _as_of(as_of) -> np.datetime64:
    try:
        t = pd.Timestamp(as_of)
    except (ValueError, TypeError) as e:
        raise ValueError(f"as_of cannot be read as a date: {as_of!r} ({e})") from None
    if t is pd.NaT:
        raise ValueError(f"as_of must be a date, not {as_of!r}")
    if t.tzinfo is not None:
        raise ValueError("as_of must be a local (time-zone naive) date like the incidents' dates")
    return np.datetime64(t.to_datetime64(), "ns")


def recency_weights(weights, dates, as_of, half_life_days: float | None = None) -> np.ndarray:
    """Weights with the incidents not wholly before ``as_of`` set to 0 and the rest decayed.

    Parameters
    ----------
    weights : array of float
        Harm per incident.
    dates : DataFrame, (start, end) pair or array of datetimes
        A table with ``date_start``/``date_end`` (``Incidents.frame``), a pair of arrays, or
        one array of instants.
    as_of : date-like
        The moment the surface is made for.
    half_life_days : float, optional
        Age in days at which an incident's weight has halved; no decay when omitted.

    Returns
    -------
    ndarray of float64
        ``weight * 0.5 ** (age_days / half_life_days)`` for incidents with
        ``date_start < as_of`` and ``date_end <= as_of``, 0 for the others, where
        ``age_days = (as_of - date_end)`` in days.

    Notes
    -----
    An incident counts only when its whole period lies before ``as_of``: a police.uk month
    ``[2024-03-01, 2024-04-01)`` counts from ``as_of = 2024-04-01`` on, never for a date in
    March, since it may have happened after it (no look-ahead). Age is measured from the
    period's end, so a month or a day is as old as its last moment: the month above has
    age 0 on 2024-04-01 and one half-life of 28 days later its weight has halved.
    Timestamps are instants (``date_end == date_start``). One pass over the incidents.
    """
    w = np.asarray(weights, dtype=float)
    start, end = _periods(dates, w.size)
    t = _as_of(as_of)
    keep = (start < t) & (end <= t)
    out = np.where(keep, w, 0.0)
    if half_life_days is not None:
        _check_half_life(half_life_days)
        age = (t - end[keep]) / _DAY
        out[keep] *= np.exp2(-age / float(half_life_days))
    return out


def _check_half_life(half_life_days) -> None:
    if isinstance(half_life_days, bool) or not isinstance(half_life_days, (int, float, np.integer, np.floating)) \
            or not (np.isfinite(half_life_days) and half_life_days > 0):
        raise ValueError(f"half_life_days must be a positive number of days, not {half_life_days!r}")


# -- the surface -------------------------------------------------------------------------
def harm_surface(grid: Grid, x, y, weights=None, *, bandwidth_m: float, kernel: str = "quartic",
                 dates=None, as_of=None, half_life_days: float | None = None,
                 edge: str = "mask", binning: str = "linear") -> np.ndarray:
    """Kernel density of incidents on ``grid``, weighted by harm, in harm per cell.

    Parameters
    ----------
    grid : Grid
    x, y : array of float
        Incident coordinates in the grid's CRS (metres).
    weights : array of float, optional
        Harm per incident (e.g. ``Incidents.frame["weight"]``, CCHI days); 1 each when
        omitted. Must be finite and non-negative.
    bandwidth_m : float
        Kernel bandwidth in metres: the radius of the quartic kernel, twice the standard
        deviation of the Gaussian one (see :func:`default_bandwidth`).
    kernel : {"quartic", "gaussian"}
    dates : DataFrame, (start, end) pair or array of datetimes, optional
        Needed with ``as_of`` or ``half_life_days``; see :func:`recency_weights`.
    as_of : date-like, optional
        Use only incidents whose period lies wholly before this moment.
    half_life_days : float, optional
        Halve an incident's weight for every ``half_life_days`` of age (from the end of its
        period to ``as_of``); needs ``as_of``.
    edge : {"mask", "none"}
        ``"mask"`` (default): only incidents in cells of ``grid.mask`` count, each spread
        over the part of its kernel inside the mask, and cells outside the mask are 0.
        ``"none"``: every incident on the grid or within the kernel's reach of it, spread
        by the plain kernel over every cell (no mask, no correction).
    binning : {"linear", "nearest"}
        How incidents meet the grid before the convolution (:func:`bin_points`).
        ``"linear"`` (default): each incident's weight is shared bilinearly among its 4
        nearest cell centres, which keeps its centre of mass where it was, and the kernel
        is corrected for the smoothing this adds (:func:`binned_kernel`); against an exact
        KDE its error is below KDEpy's (docs/surfaces.md). ``"nearest"``:
        all of it at the centre of its cell (moved up to ``cell_size / sqrt(2)``; the
        surface of earlier versions).

    Returns
    -------
    ndarray of float64, shape ``grid.shape``

    Notes
    -----
    The kernel is sampled at cell-centre offsets (for linear binning, corrected by
    :func:`binned_kernel`) and normalised to sum to 1, so with
    ``edge="none"`` each incident adds exactly its weight to the cells within reach (those
    off the grid's edge are lost). With ``edge="mask"`` each incident's weight is divided
    by its kernel's mass inside the mask (the mask convolved with the kernel, read at the
    cells it is binned to, in the same shares) before spreading, so the masked surface sums to the total weight of the incidents in
    masked cells (to round-off, about 1e-15 relatively): harm near the boundary stays
    near the boundary instead of leaking out. Incidents in cells outside the mask or off
    the grid are left out; compare ``grid.counts(x, y, w)[grid.mask].sum()`` with the
    total weight to see how much (an incident's own cell decides, whatever the binning).
    FFT round-off is removed: cells beyond the kernel's reach of
    every incident are exactly 0 and no cell is negative.

    Time: binning is O(incidents) (about 0.1 s per million, linear); the rest is O(N log N) in
    cells and independent of the incidents: three FFT convolutions (mask, weights, reach)
    with ``edge="mask"``, two with ``"none"``, about 0.1 s per million cells on 2 cores
    plus the kernel's transforms. Memory: about 60 bytes per cell of the padded grid at
    the peak.
    """
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be an rtm.grid.Grid, not {type(grid).__name__}")
    _check_bandwidth(bandwidth_m)
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be 'quartic' or 'gaussian', not {kernel!r}")
    if edge not in EDGES:
        raise ValueError(f"edge must be 'mask' or 'none', not {edge!r}")
    if binning not in BINNINGS:
        raise ValueError(f"binning must be 'linear' or 'nearest', not {binning!r}")
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.size != y.size:
        raise ValueError(f"x has {x.size:,} values but y has {y.size:,}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite coordinates in metres (drop incidents without a location)")
    if weights is None:
        w = np.ones(x.size)
    else:
        w = np.asarray(weights, dtype=float).ravel()
        if w.size != x.size:
            raise ValueError(f"weights has {w.size:,} values for {x.size:,} incidents")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("weights must be finite and non-negative (harm per incident)")
    if half_life_days is not None:
        _check_half_life(half_life_days)
        if as_of is None:
            raise ValueError("half_life_days needs as_of: the date ages are measured to")
    if as_of is not None:
        if dates is None:
            raise ValueError("as_of and half_life_days need dates (e.g. Incidents.frame with "
                             "date_start and date_end)")
        w = recency_weights(w, dates, as_of, half_life_days)

    if binning == "linear":
        k = binned_kernel(grid.cell_size, float(bandwidth_m), kernel)
    else:
        k = kernel_weights(grid.cell_size, float(bandwidth_m), kernel)
    m = k.shape[0] // 2
    cache: dict = {}
    if edge == "mask":
        row, col = grid.index(x, y)
        keep = row >= 0
        keep[keep] = grid.mask[row[keep], col[keep]]
        keep &= w != 0
        del row, col
        if not keep.any():
            return np.zeros(grid.shape)
        pad = 1 if binning == "linear" else 0  # linear binning reaches one cell beyond the grid
        shape = (grid.nrows + 2 * pad, grid.ncols + 2 * pad)
        inside = np.zeros(shape)
        inside[pad:pad + grid.nrows, pad:pad + grid.ncols] = grid.mask
        mass = fft_same(inside, k, cache).ravel()  # kernel mass inside the mask, around every cell
        del inside
        flats, shares = bin_points(grid, x[keep], y[keep], pad, shape, binning)
        # each incident's weight over the mass of its (binned) kernel inside the mask
        own = shares[0] * mass[flats[0]]
        for f, sh in zip(flats[1:], shares[1:]):
            own += sh * mass[f]
        del mass
        v = w[keep] / own
    else:
        pad = m + (1 if binning == "linear" else 0)
        shape = (grid.nrows + 2 * pad, grid.ncols + 2 * pad)
        keep = w != 0
        flats, shares = bin_points(grid, x[keep], y[keep], pad, shape, binning)
        v = w[keep]
    counts = np.zeros(shape[0] * shape[1])
    for f, sh in zip(flats, shares):
        sh *= v
        counts += np.bincount(f, weights=sh, minlength=counts.size)
    del flats, shares, v
    counts = counts.reshape(shape)
    nz = counts != 0
    if not nz.any():
        return np.zeros(grid.shape)
    surface = fft_same(counts, k, cache)
    # exact zeros beyond the kernel's reach of every incident (FFT leaves ~1e-17 there)
    reach = fft_same(nz.astype(float), (k > 0).astype(float)) > 0.5
    surface[~reach] = 0.0
    np.maximum(surface, 0.0, out=surface)
    if pad:
        surface = np.ascontiguousarray(surface[pad:pad + grid.nrows, pad:pad + grid.ncols])
    if edge == "mask":
        surface[~grid.mask] = 0.0
    return surface


# -- bandwidth ---------------------------------------------------------------------------
class Bandwidth(NamedTuple):
    """A bandwidth in metres and the sentence saying where it comes from."""

    metres: float
    reason: str


BANDWIDTH_RULES = ("fixed", "silverman")


def default_bandwidth(grid: Grid, x=None, y=None, *, rule: str = "fixed",
                      kernel: str = "quartic") -> Bandwidth:
    """The bandwidth to use when the analyst gives none.

    Parameters
    ----------
    grid : Grid
    x, y : array of float, optional
        Incident coordinates (metres); needed by ``rule="silverman"``.
    rule : {"fixed", "silverman"}
        ``"fixed"``: twice the cell size, at least 100 m. ``"silverman"``: Silverman's
        normal-reference rule on the point pattern, at least one cell.
    kernel : {"quartic", "gaussian"}
        The kernel the bandwidth is for (the Silverman rule is converted to its scale).

    Returns
    -------
    Bandwidth
        ``(metres, reason)``; unpacks as a pair.

    Notes
    -----
    Silverman (1986, *Density Estimation for Statistics and Data Analysis*, eq. 4.14) gives
    for two dimensions and a Gaussian kernel ``sigma = s * n ** (-1/6)``, with ``s`` the
    spread of the points: here the root mean square of the two axes' robust standard
    deviations, ``min(sd, IQR / 1.349)`` each (Silverman's eq. 3.30 guard against
    outliers). The bandwidth is then ``2 sigma`` for the Gaussian (its ``sigma = h/2``) and
    ``sqrt(8) sigma`` for the quartic, whose per-axis standard deviation is ``h / sqrt(8)``.
    The rule suits a smooth, one-blob pattern and so oversmooths clustered crime: read it
    as an upper guide. O(n log n) (the quartiles).
    """
    if not isinstance(grid, Grid):
        raise ValueError(f"grid must be an rtm.grid.Grid, not {type(grid).__name__}")
    if rule not in BANDWIDTH_RULES:
        raise ValueError(f"rule must be 'fixed' or 'silverman', not {rule!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be 'quartic' or 'gaussian', not {kernel!r}")
    cs = grid.cell_size
    if rule == "fixed":
        h = max(2.0 * cs, 100.0)
        return Bandwidth(h, f"{h:g} m: twice the {cs:g} m cell size, and at least 100 m, so each incident "
                            "reaches its neighbouring cells (the default)")
    if x is None or y is None:
        raise ValueError("rule='silverman' needs the incidents' x and y")
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.size != y.size:
        raise ValueError(f"x has {x.size:,} values but y has {y.size:,}")
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 2:
        raise ValueError(f"rule='silverman' needs at least 2 located incidents, not {n}")

    def spread(v):
        q75, q25 = np.percentile(v, [75, 25])
        iqr = (q75 - q25) / 1.349
        sd = float(np.std(v, ddof=1))
        return min(sd, iqr) if iqr > 0 else sd

    s = float(np.sqrt((spread(x[ok]) ** 2 + spread(y[ok]) ** 2) / 2))
    if s == 0:
        raise ValueError("rule='silverman' needs incidents at more than one place (their spread is 0)")
    sigma = s * n ** (-1 / 6)
    scale = 2.0 if kernel == "gaussian" else float(np.sqrt(8.0))
    h = scale * sigma
    floor = ""
    if h < cs:
        h, floor = cs, f"; raised to one {cs:g} m cell, below which the kernel does not smooth"
    return Bandwidth(float(h), f"{h:,.0f} m: Silverman's rule for {n:,} incidents spread over "
                              f"{s:,.0f} m (robust standard deviation), sigma = {sigma:,.0f} m, "
                              f"as a {kernel} bandwidth{floor}; it oversmooths clustered crime, "
                              "so treat it as an upper guide")

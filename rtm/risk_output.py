"""What a fitted risk terrain model gives a map: risk classes of the relative risk score, the
score as a grid, and the GeoTIFF it is written to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .grid import Grid

RISK_CLASSES = ("highest", "moderately high", "above average", "average or below")


def risk_classes(rrs, counts) -> pd.DataFrame:
    """Share of area and of incidents in each risk class of the relative risk score.

    Parameters
    ----------
    rrs : array-like, shape (n_cells,)
    counts : array-like, shape (n_cells,)
        Incidents (or harm) per cell.

    Returns
    -------
    pandas.DataFrame
        One row per class: ``risk_class`` (``highest``: RRS >= mean + 2 SD;
        ``moderately high``: mean + 1 SD to mean + 2 SD; ``above average``: mean to mean +
        1 SD; ``average or below``: the rest), ``rrs_from``, ``rrs_to`` (``[from, to)``),
        ``cells``, ``share_of_area``, ``incidents``, ``share_of_incidents``.

    Notes
    -----
    Mean and SD (population, ``ddof=0``) are over the cells given. Cells at exactly the
    mean are "average or below", so a constant score puts every cell there.
    """
    rrs, counts = np.asarray(rrs, dtype=float).ravel(), np.asarray(counts, dtype=float).ravel()
    if rrs.shape != counts.shape:
        raise ValueError(f"rrs has {rrs.size} values but counts has {counts.size}")
    if not rrs.size or not np.isfinite(rrs).all():
        raise ValueError("rrs must be a non-empty array of finite scores")
    m, s = rrs.mean(), rrs.std()
    edges = [m + 2 * s, m + s, m, -np.inf]
    upper = [np.inf, m + 2 * s, m + s, m]
    cls = np.full(rrs.size, 3)
    if s > 0:
        cls[(rrs > m) & (rrs < m + s)] = 2
        cls[(rrs >= m + s) & (rrs < m + 2 * s)] = 1
        cls[rrs >= m + 2 * s] = 0
    cells = np.bincount(cls, minlength=4)
    inc = np.bincount(cls, weights=counts, minlength=4)
    total = counts.sum()
    return pd.DataFrame({"risk_class": RISK_CLASSES, "rrs_from": edges, "rrs_to": upper, "cells": cells,
                         "share_of_area": cells / rrs.size, "incidents": inc,
                         "share_of_incidents": inc / total if total > 0 else np.full(4, np.nan)})


def range_text(lo: float, hi: float, spec: str = ".2f") -> str:
    """A class's ``[lo, hi)`` range in words, never with an infinity: ``below 1.00`` (no lower
    end), ``5.00 and above`` (no upper end), ``1.00 to 2.30``; ``any`` when both are open."""
    low = None if lo is None or not np.isfinite(lo) else format(float(lo), spec)
    high = None if hi is None or not np.isfinite(hi) else format(float(hi), spec)
    if low is None and high is None:
        return "any"
    if high is None:
        return f"{low} and above"
    if low is None:
        return f"below {high}"
    return f"{low} to {high}"


def classes_table(classes: pd.DataFrame) -> pd.DataFrame:
    """:func:`risk_classes` for reading: human column titles with units and the score range in
    words (:func:`range_text`), shares in percent. Returns a new frame; the input is unchanged."""
    return pd.DataFrame({
        "Risk class": classes["risk_class"],
        "Relative risk score": [range_text(a, b) for a, b in zip(classes["rrs_from"], classes["rrs_to"])],
        "Cells": classes["cells"].astype(int),
        "Share of area (%)": (100 * classes["share_of_area"]).round(1),
        "Incidents": classes["incidents"],
        "Share of incidents (%)": (100 * classes["share_of_incidents"]).round(1),
    })


def rrs_raster(grid: Grid, rrs_masked) -> np.ndarray:
    """Relative risk scores of the masked cells as a grid (float32, NaN outside the mask)."""
    rrs_masked = np.asarray(rrs_masked, dtype=float).ravel()
    if rrs_masked.size != int(grid.mask.sum()):
        raise ValueError(f"rrs_masked has {rrs_masked.size} values but the grid has {int(grid.mask.sum())} "
                         "masked cells")
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    out[grid.mask] = rrs_masked
    return out


def write_geotiff(path, grid: Grid, array, *, name: str = "relative_risk_score",
                  provenance: dict | None = None) -> Path:
    """Write a single-band float32 Cloud-Optimised GeoTIFF on the grid (band description
    ``name``, NaN nodata; see :func:`rtm.exports.geotiff.write_cog`).

    Returns
    -------
    Path
        The file written.
    """
    from .exports.geotiff import write_cog

    array = np.asarray(array, dtype=np.float32)
    if array.shape != grid.shape:
        raise ValueError(f"array has shape {array.shape} but the grid is {grid.shape}")
    return write_cog(path, grid, {name: array}, provenance=provenance)

"""The variable matrix: every factor at every spatial influence, as 0/1 columns over the
study area's cells (:func:`build_variables`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import shapely

from ..grid import Grid
from ..layers import Layer
from ..terrain_settings import DEFAULT_OPERATIONALISATION, OPERATIONALISATIONS
from .density import kernel_density, sample_points
from .geometry import geometries, masked_centres, name_of, spatial_influences
from .nearest_neighbour import auto_operationalisation
from .proximity import nearest_distances

_SHORT = {"proximity": "prox", "density": "dens"}


@dataclass
class RiskVariables:
    """0/1 risk variables for the cells of a grid's mask.

    Attributes
    ----------
    matrix : ndarray of uint8, shape (n_cells, n_variables)
        One row per masked cell, in row-major order of the grid (``grid.mask`` indexing).
    table : pandas.DataFrame
        One row per column of ``matrix``: ``name`` (``pubs_prox_300``), ``factor``,
        ``operationalisation``, ``spatial_influence_m``, ``cells`` (how many 1s) and
        ``threshold`` (density cut-off in features per km2; NaN for proximity).
    choices : pandas.DataFrame
        One row per factor: ``factor``, ``requested``, ``used`` (``proximity``,
        ``density`` or ``both``) and ``reason``.
    cells : ndarray of int64
        Flat index into the grid of each row.
    shape : tuple of int
        The grid's ``(nrows, ncols)``.
    """

    matrix: np.ndarray
    table: pd.DataFrame
    choices: pd.DataFrame
    cells: np.ndarray
    shape: tuple

    @property
    def names(self) -> list[str]:
        return list(self.table["name"])

    @property
    def n_cells(self) -> int:
        return self.matrix.shape[0]

    def columns(self, names) -> np.ndarray:
        """Column indices of the named variables (ValueError naming any unknown one)."""
        lookup = {n: i for i, n in enumerate(self.table["name"])}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise ValueError(f"no risk variable is called '{missing[0]}' (variables: {', '.join(lookup)})")
        return np.array([lookup[n] for n in names], dtype=np.int64)


def _layer_items(layers) -> list[tuple[str, object]]:
    if isinstance(layers, Mapping):
        items = [(str(k), v) for k, v in layers.items()]
    else:
        items = []
        for i, lay in enumerate(layers):
            if not hasattr(lay, "name"):
                raise ValueError(f"layer {i} has no name: pass Layer objects or a dict name -> layer")
            items.append((str(lay.name), lay))
    if not items:
        raise ValueError("no layers were given")
    names = [n for n, _ in items]
    for n in names:
        if not n or not n.replace("_", "").isalnum():
            raise ValueError(f"layer name '{n}' must be a single word (letters, digits, underscores)")
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"two layers are called '{sorted(dup)[0]}'; give each layer its own name")
    return items


def build_variables(grid: Grid, layers: Sequence[Layer] | Mapping[str, object], block_length: float, bands: int,
                    increment: str = "whole", operationalisations: Mapping[str, str] | None = None, *,
                    max_influence_m: float | Mapping[str, float] | None = None, n_sd: float = 2.0,
                    spacing: float | None = None, significance: float = 0.05) -> RiskVariables:
    """Build every proximity and density variable of the layers at every spatial influence.

    Parameters
    ----------
    grid : Grid
    layers : sequence of Layer, or dict name -> layer
        The factors; names must be single words and unique.
    block_length, bands, increment
        The spatial influences tested (see :func:`spatial_influences`).
    operationalisations : dict name -> {"proximity", "density", "both", "auto"}, optional
        Treatment of each factor; factors not named get ``both``.
    max_influence_m : float or dict name -> float, optional
        The maximum spatial influence the ``auto`` rule compares the mean nearest-neighbour
        distance with (default: the largest distance tested).
    n_sd : float
        Density cut-off in standard deviations above the mean (see :func:`density_variable`).
    spacing : float, optional
        Sample spacing for lines and polygons in density surfaces (default half a cell).
    significance : float
        Level of the nearest-neighbour test of the ``auto`` rule.

    Returns
    -------
    RiskVariables
        Columns ordered by layer, then proximity before density, then distance; named
        ``{factor}_{prox|dens}_{metres}``.

    Notes
    -----
    Memory: the result holds 1 byte per masked cell per variable (a 1-million-cell area
    with 5 factors x 2 operationalisations x 6 distances is 60 MB); while it is built one
    distance surface (8 bytes per cell) and one padded density FFT (about 40 bytes per
    cell) are alive at a time. Time: one distance query per factor (see
    :func:`distance_surface`; searches stop at the largest distance tested, beyond which
    every proximity variable is 0) and one FFT convolution per factor and density distance
    (the kernels' transforms are made once and shared by all factors). 30 point factors x
    both operationalisations x 6 distances on 1.5 million cells take 15 to 17 seconds on 2
    cores, most of it in the k-d tree queries and the 180 FFT convolutions.
    """
    distances = spatial_influences(block_length, bands, increment)
    items = _layer_items(layers)
    ops = dict(operationalisations or {})
    unknown = set(ops) - {n for n, _ in items}
    if unknown:
        raise ValueError(f"operationalisations name a layer that was not given: '{sorted(unknown)[0]}'")
    for n, op in ops.items():
        if op not in OPERATIONALISATIONS:
            raise ValueError(f"operationalisation '{op}' for layer '{n}' is not one of "
                             f"{', '.join(OPERATIONALISATIONS)}")
    if not grid.mask.any():
        raise ValueError("the grid's mask has no cells")
    area = float(grid.mask.sum()) * grid.cell_size**2

    def max_inf(name):
        if max_influence_m is None:
            return distances[-1]
        if isinstance(max_influence_m, Mapping):
            return float(max_influence_m.get(name, distances[-1]))
        return float(max_influence_m)

    plan, choices = [], []
    for name, lay in items:
        requested = ops.get(name, DEFAULT_OPERATIONALISATION)
        if requested == "auto":
            choice = auto_operationalisation(lay, area, max_inf(name), significance=significance)
            used, reason = choice.operationalisation, choice.reason
        else:
            used, reason = requested, "as requested"
        plan.append((name, lay, ["proximity", "density"] if used == "both" else [used]))
        choices.append({"factor": name, "requested": requested, "used": used, "reason": reason})

    n_vars = sum(len(p[2]) for p in plan) * len(distances)
    mask = grid.mask
    matrix = np.empty((int(mask.sum()), n_vars), dtype=np.uint8)
    cx, cy = masked_centres(grid)
    flat = np.flatnonzero(mask)
    xy = None
    # distances beyond the largest influence only ever give 0s, so the searches stop there
    # (padded so a centre at exactly that distance is still measured)
    upper = distances[-1] * (1 + 1e-9) + 1e-6
    bands = np.asarray(distances, dtype=float)
    kernel_ffts: dict = {}  # one transform per kernel, shared by every factor
    meta = []
    j = 0
    for name, lay, kinds in plan:
        geoms = geometries(lay, grid)
        for kind in kinds:
            # each factor's columns are made in a small (cells x distances) block and copied
            # into the matrix at once: writing one strided column at a time is slower
            if kind == "proximity":
                if len(geoms) == 0:
                    raise ValueError(f"layer '{name_of(lay)}' has no features to measure distances to")
                if xy is None and (shapely.get_type_id(geoms) == 0).any():
                    xy = np.column_stack([cx, cy])
                dist = nearest_distances(geoms, cx, cy, upper, xy)
                block = dist[:, None] <= bands
                thresholds = [np.nan] * len(distances)
            else:
                if not np.isfinite(n_sd):
                    raise ValueError(f"n_sd must be a finite number of standard deviations, not {n_sd!r}")
                x, y, w = sample_points(geoms, grid.cell_size / 2 if spacing is None else spacing)
                block = np.empty((matrix.shape[0], len(distances)), dtype=bool)
                thresholds = []
                for k, d in enumerate(distances):
                    v = kernel_density(grid, x, y, w, d, kernel_ffts).ravel().take(flat)  # = [mask]
                    thr = float(v.mean() + n_sd * v.std())  # density_threshold, without a second v
                    np.greater(v, thr, out=block[:, k])
                    thresholds.append(thr)
            matrix[:, j:j + len(distances)] = block
            ones = np.count_nonzero(block, axis=0)
            for k, d in enumerate(distances):
                meta.append({"name": f"{name}_{_SHORT[kind]}_{d:g}", "factor": name, "operationalisation": kind,
                             "spatial_influence_m": float(d), "cells": int(ones[k]), "threshold": thresholds[k]})
            j += len(distances)
    table = pd.DataFrame(meta, columns=["name", "factor", "operationalisation", "spatial_influence_m", "cells",
                                        "threshold"])
    return RiskVariables(matrix, table, pd.DataFrame(choices, columns=["factor", "requested", "used", "reason"]),
                         flat, grid.shape)

"""A fitted risk terrain, kept for reuse: relative risk scores and the factors behind them.

:class:`RiskTerrain` holds what the harm-spot ranking needs from a risk terrain model run,
on the modelling grid: the relative risk score of every cell and, for each selected
variable, where it is present and its coefficient. It is written next to the model's other
outputs (``risk_terrain.tif``, ``risk_factors.tif``, ``terrain.json``) so weekly lists can
reuse a model fitted once instead of refitting it every week, and it is resampled onto the
coarser grid of harm spots with :meth:`RiskTerrain.on_grid`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError
from .grid import Grid

FILES = {"rrs": "risk_terrain.tif", "factors": "risk_factors.tif", "meta": "terrain.json"}
FACTOR_FIELDS = ["variable", "factor", "operationalisation", "spatial_influence_m", "coefficient", "rrv"]


@dataclass
class RiskTerrain:
    """Relative risk scores and selected risk variables on the modelling grid.

    Attributes
    ----------
    grid : Grid
        The modelling grid (its ``district`` raster is not needed and may be all -1).
    rrs : ndarray of float32, shape ``grid.shape``
        Relative risk score (lowest cell 1), NaN outside the study area.
    factors : pandas.DataFrame
        One row per selected variable, columns :data:`FACTOR_FIELDS`.
    presence : ndarray of uint8, shape ``(len(factors),) + grid.shape``
        1 where the variable is present in the cell.
    fitted : dict
        How the model was made: ``data_from``, ``data_to`` (ISO dates of the incidents it
        was fitted on, ``[from, to)``), ``incidents``, ``family``, ``cell_size``, ... Shown
        in provenance; ``data_to`` is checked against a list's period (no look-ahead).
    """

    grid: Grid
    rrs: np.ndarray
    factors: pd.DataFrame
    presence: np.ndarray
    fitted: dict = field(default_factory=dict)

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_result(cls, result, **fitted) -> "RiskTerrain":
        """Keep what the ranking needs from an :class:`rtm.pipeline.RtmResult`.

        ``fitted`` adds to the description (e.g. ``data_from``, ``data_to``).
        """
        grid = result.grid
        table = result.model.coef_table_
        rates = table[table["type"] == "rate"]
        names = list(rates["variable"])
        presence = np.zeros((len(names),) + grid.shape, dtype=np.uint8)
        if names:
            cols = result.variables.columns(names)
            flat = result.variables.cells
            for i, c in enumerate(cols):
                band = presence[i].reshape(-1)
                band[flat] = result.variables.matrix[:, c]
        factors = rates[FACTOR_FIELDS].reset_index(drop=True)
        info = {"family": result.model.family_, "cell_size": grid.cell_size,
                "block_length": result.parameters.block_length, "bands": result.parameters.bands,
                "cells": int(grid.mask.sum()), "incidents": int(result.n_incidents_modelled)}
        info.update(fitted)
        return cls(grid, result.rrs_grid, factors, presence, info)

    # -- contributions -----------------------------------------------------------------
    def log_contributions(self) -> np.ndarray:
        """Each variable's share of ``log(rrs)`` per cell, shape ``presence.shape``, float32.

        ``log(rrs) = sum_k beta_k * (x_k - x_k*)``, with ``x*`` the variables of the
        lowest-scoring cell, so the parts add up exactly to the cell's log score (0 in the
        lowest cell). Outside the study area the parts are 0.
        """
        k = len(self.factors)
        out = np.zeros(self.presence.shape, dtype=np.float32)
        if not k:
            return out
        mask = self.grid.mask
        beta = self.factors["coefficient"].to_numpy(float)
        flat = self.presence.reshape(k, -1)[:, mask.ravel()].astype(np.float64)
        eta = beta @ flat
        lowest = flat[:, int(np.argmin(eta))]
        for i in range(k):
            band = out[i].reshape(-1)
            band[mask.ravel()] = beta[i] * (flat[i] - lowest[i])
        return out

    def on_grid(self, target: Grid) -> "TerrainOnGrid":
        """The terrain averaged onto ``target`` (the harm-spot grid).

        Each target cell takes the mean of the modelling cells whose centres fall in it;
        target cells of the study area with no modelling cell (a ring added for boundary
        tolerance, or a target finer than the model) take the value of the nearest one.

        Returns
        -------
        TerrainOnGrid

        Notes
        -----
        One pass over the modelling cells per variable (``np.bincount``) plus one
        Euclidean distance transform of the target grid; a few hundred ms for 1.5 million
        modelling cells and 10 variables.
        """
        from scipy import ndimage

        if not target.crs.equals(self.grid.crs):
            raise ValueError("the spot grid and the risk terrain are in different CRSs")
        cx, cy = self.grid.centres()
        inside = self.grid.mask
        row, col = target.index(cx[inside], cy[inside])
        ok = row >= 0
        flat = row[ok] * target.ncols + col[ok]
        size = target.nrows * target.ncols
        n = np.bincount(flat, minlength=size)

        def mean(values):
            s = np.bincount(flat, weights=values[inside][ok].astype(np.float64), minlength=size)
            with np.errstate(invalid="ignore", divide="ignore"):
                return (s / n).reshape(target.shape)

        have = (n > 0).reshape(target.shape)
        # nearest covered cell for target cells of the area without a modelling cell
        idx = ndimage.distance_transform_edt(~have, return_distances=False, return_indices=True) \
            if have.any() else None

        def fill(a):
            if idx is None:
                return np.zeros(target.shape)
            a = a[idx[0], idx[1]]
            a[~target.mask] = np.nan
            return a

        rrs = fill(mean(self.rrs))
        contrib = self.log_contributions()
        k = len(self.factors)
        parts = np.stack([fill(mean(contrib[i])) for i in range(k)]) if k else np.zeros((0,) + target.shape)
        present = np.stack([fill(mean(self.presence[i].astype(np.float64))) > 0 for i in range(k)]) if k \
            else np.zeros((0,) + target.shape, bool)
        return TerrainOnGrid(target, rrs, parts, present, self.factors.copy(), dict(self.fitted))

    # -- files -------------------------------------------------------------------------
    def write(self, out_dir) -> dict[str, Path]:
        """Write ``risk_terrain.tif`` (RRS), ``risk_factors.tif`` (one uint8 band per
        selected variable, named) and ``terrain.json`` (factor table and description)."""
        from .exports.geotiff import write_cog
        from .model import write_geotiff

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {k: out / v for k, v in FILES.items()}
        write_geotiff(paths["rrs"], self.grid, self.rrs)
        bands = dict(zip(self.factors["variable"], self.presence)) if len(self.factors) else \
            {"no_factor_selected": np.zeros(self.grid.shape, np.uint8)}
        write_cog(paths["factors"], self.grid, bands, dtype="uint8", mask_outside=False)
        meta = {"factors": self.factors.to_dict(orient="list"), "fitted": self.fitted}
        paths["meta"].write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
        return paths

    @classmethod
    def read(cls, folder) -> "RiskTerrain":
        """Read a terrain written by :meth:`write` (``rtm model --out`` writes one too).

        Raises
        ------
        InputError
            A file is missing or the rasters do not match each other.
        """
        import rasterio
        from pyproj import CRS

        folder = Path(folder)
        for name in FILES.values():
            if not (folder / name).exists():
                raise InputError(folder / name, "the fitted risk terrain is incomplete (file missing)",
                                 "point --model at a folder written by 'rtm model --out', or fit the model again")
        try:
            meta = json.loads((folder / FILES["meta"]).read_text(encoding="utf-8"))
            factors = pd.DataFrame(meta["factors"], columns=FACTOR_FIELDS)
            with rasterio.open(folder / FILES["rrs"]) as src:
                rrs = src.read(1).astype(np.float32)
                transform, crs = src.transform, CRS.from_wkt(src.crs.to_wkt())
            with rasterio.open(folder / FILES["factors"]) as src:
                presence = src.read().astype(np.uint8)
        except (ValueError, KeyError, OSError, rasterio.errors.RasterioError) as exc:
            raise InputError(folder, f"the fitted risk terrain cannot be read ({exc})",
                             "fit the model again with 'rtm model --out'") from None
        if not len(factors):
            presence = presence[:0]
        if presence.shape[1:] != rrs.shape or presence.shape[0] != len(factors):
            raise InputError(folder, "risk_factors.tif does not match risk_terrain.tif",
                             "fit the model again with 'rtm model --out'")
        mask = np.isfinite(rrs)
        grid = Grid(float(transform.a), float(transform.c), float(transform.f), rrs.shape[1], rrs.shape[0], crs,
                    mask, np.where(mask, 0, -1).astype(np.int32), ("area",))
        return cls(grid, rrs, factors, presence, meta.get("fitted", {}))


@dataclass
class TerrainOnGrid:
    """A :class:`RiskTerrain` averaged onto the harm-spot grid (see :meth:`RiskTerrain.on_grid`).

    Attributes
    ----------
    grid : Grid
    rrs : ndarray of float64, shape ``grid.shape``
        Mean relative risk score, NaN outside the study area.
    parts : ndarray of float64, shape ``(k,) + grid.shape``
        Mean log-contribution of each selected variable.
    present : ndarray of bool, shape ``(k,) + grid.shape``
        Whether the variable is present anywhere in the cell.
    factors : pandas.DataFrame
    fitted : dict
    """

    grid: Grid
    rrs: np.ndarray
    parts: np.ndarray
    present: np.ndarray
    factors: pd.DataFrame
    fitted: dict


def factor_phrase(row) -> str:
    """How a selected variable reads in a list: ``within 300 m of pubs`` or ``a high
    density of bus stops (400 m)``."""
    name = str(row["factor"]).replace("_", " ")
    d = float(row["spatial_influence_m"])
    if row["operationalisation"] == "density":
        return f"a high density of {name} ({d:g} m)"
    return f"within {d:g} m of {name}"

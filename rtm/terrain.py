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
        How the model was made (``incidents``, ``family``, ``cell_size``, the settings, ...);
        shown in provenance.
    data_from, data_to : pandas.Timestamp or None
        The window of the incidents the model was fitted on (:func:`data_window`): each
        started at or after ``data_from`` and ended before ``data_to``. None when unknown
        (undated incidents). :meth:`check_before` compares ``data_to`` with a period.
    """

    grid: Grid
    rrs: np.ndarray
    factors: pd.DataFrame
    presence: np.ndarray
    fitted: dict = field(default_factory=dict)
    data_from: pd.Timestamp | None = None
    data_to: pd.Timestamp | None = None

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_result(cls, result, **fitted) -> "RiskTerrain":
        """Keep what the ranking needs from an :class:`rtm.pipeline.RtmResult`; its data
        window is the result's. ``fitted`` adds to the description."""
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
                "block_length": result.settings.block_length, "bands": result.settings.bands,
                "settings": result.settings.describe(),
                "cells": int(grid.mask.sum()), "incidents": int(result.n_incidents_modelled)}
        info.update(fitted)
        return cls(grid, result.rrs_grid, factors, presence, info, result.data_from, result.data_to)

    # -- the look-ahead guard ------------------------------------------------------------
    def check_before(self, period, *, source: str = "risk terrain") -> None:
        """Refuse a terrain that saw any of ``period``: every incident it was fitted on must
        have ended before the period starts (``data_to <= period.start``).

        ``period`` is a :class:`rtm.periods.Period` or a timestamp (the first moment that
        must be unseen). A terrain with no known window (undated data) passes.

        Raises
        ------
        InputError
            The terrain was fitted on incidents from the period or later.
        """
        start = getattr(period, "start", None)
        start = pd.Timestamp(period if start is None else start)
        if self.data_to is not None and self.data_to > start:
            label = getattr(period, "label", f"{start:%Y-%m-%d %H:%M}")
            raise InputError(source, f"the risk terrain was fitted on incidents up to {_moment(self.data_to)}, "
                             f"after the {label} starts ({start:%Y-%m-%d %H:%M}), which would let the period's "
                             "own incidents shape its list", "fit the model on data from before the period")

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
        from .risk_output import write_geotiff

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {k: out / v for k, v in FILES.items()}
        write_geotiff(paths["rrs"], self.grid, self.rrs)
        bands = dict(zip(self.factors["variable"], self.presence)) if len(self.factors) else \
            {"no_factor_selected": np.zeros(self.grid.shape, np.uint8)}
        write_cog(paths["factors"], self.grid, bands, dtype="uint8", mask_outside=False)
        meta = {"factors": self.factors.to_dict(orient="list"), "fitted": self.fitted,
                "data_from": None if self.data_from is None else self.data_from.isoformat(),
                "data_to": None if self.data_to is None else self.data_to.isoformat()}
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
                                 "use a folder a model run wrote (rtm model), or fit the model again")
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
                             "fit the model again") from None
        if not len(factors):
            presence = presence[:0]
        if presence.shape[1:] != rrs.shape or presence.shape[0] != len(factors):
            raise InputError(folder, "risk_factors.tif does not match risk_terrain.tif",
                             "fit the model again")
        mask = np.isfinite(rrs)
        grid = Grid(float(transform.a), float(transform.c), float(transform.f), rrs.shape[1], rrs.shape[0], crs,
                    mask, np.where(mask, 0, -1).astype(np.int32), ("area",))
        fitted = meta.get("fitted", {})
        # terrains written before the window was typed kept it as dates in 'fitted'
        data_from, data_to = (_when(meta.get(k, fitted.get(k)), folder) for k in ("data_from", "data_to"))
        return cls(grid, rrs, factors, presence, fitted, data_from, data_to)


def _when(text, folder) -> pd.Timestamp | None:
    if text is None:
        return None
    try:
        return pd.Timestamp(text)
    except (ValueError, TypeError):
        raise InputError(Path(folder) / FILES["meta"], f"the data window '{text}' is not a date",
                         "fit the model again") from None


def _moment(t: pd.Timestamp) -> str:
    """A window end as people read it: a day when it is midnight, else to the minute."""
    return f"{t:%Y-%m-%d}" if t == t.normalize() else f"{t:%Y-%m-%d %H:%M}"


def data_window(frame) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``(data_from, data_to)`` of incidents: the earliest ``date_start`` and the end of the
    latest incident, exclusive, so that every incident lies in ``[data_from, data_to)``.

    An incident ``[date_start, date_end)`` at the data's resolution (a month, a day) ends
    at ``date_end``; a timestamped one (``date_end == date_start``) is an instant, and ends
    just after it (one nanosecond), so an incident at a period's first moment belongs to
    the period. ``(None, None)`` for a table without dates or with no dated row.
    """
    if frame is None or "date_start" not in frame or "date_end" not in frame:
        return None, None
    start, end = frame["date_start"], frame["date_end"]
    dated = start.notna() & end.notna()
    if not dated.any():
        return None, None
    start, end = start[dated], end[dated]
    instant = end <= start
    ends = end.where(~instant, start + pd.Timedelta(1, "ns"))
    return pd.Timestamp(start.min()), pd.Timestamp(ends.max())


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

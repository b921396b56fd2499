"""A whole risk terrain modelling run from loaded data, and the files it writes.

:func:`run_rtm` takes incidents, a study area and attractor layers that are already loaded
(see :mod:`rtm.incidents`, :mod:`rtm.areas`, :mod:`rtm.catalogue`) and does every
modelling step: the grid, the risk variables, the model, the relative risk scores, the
risk classes and the nearest-neighbour index of the incidents. :func:`write_outputs`
writes the three files an analyst takes away. The command line (``rtm model``) and the
app only load data and call these two functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import shapely

from . import coords
from .areas import Areas
from .errors import InputError, output_folder, setting_error
from .grid import Grid
from .model import RiskTerrainModel
from .risk_output import risk_classes, rrs_raster, write_geotiff
from .progress import Progress, stages
from .terrain import data_window
from .terrain_settings import DEFAULT_OPERATIONALISATION, RtmSettings
from .variables import (NearestNeighbour, RiskVariables, auto_operationalisation, build_variables,
                        nearest_neighbour_index)

#: Columns of ``rtm_factors.csv`` (the model's final table), in order.
FACTOR_COLUMNS = ["type", "variable", "factor", "operationalisation", "spatial_influence_m", "coefficient",
                  "std_error", "p_value", "rrv"]
#: Names of the files :func:`write_outputs` writes.
OUTPUT_FILES = {"factors": "rtm_factors.csv", "raster": "risk_terrain.tif", "report": "report.html",
                "presence": "risk_factors.tif", "terrain": "terrain.json"}
MAX_CELLS = 20_000_000  # a grid beyond this is almost always a cell size typed in the wrong unit


@dataclass
class RtmResult:
    """Everything a risk terrain modelling run produced.

    Attributes
    ----------
    settings : RtmSettings
        The settings of the run, as given.
    spatial_influences : list of float
        The distances tested for every factor (metres).
    max_influence_m : dict of str to float
        The maximum spatial influence the ``auto`` rule used for each factor (given, or
        the largest spatial influence tested).
    grid : Grid
    areas : Areas
        The study area, in the grid's CRS.
    variables : RiskVariables
        Every variable tested; ``variables.choices`` says how each factor was treated and why.
    model : RiskTerrainModel
        The fitted model (``coef_table_``, ``family_``, ``family_bic_``, ``selection_log_``, ...).
    counts : ndarray of float64, shape (n_cells,)
        Incidents (or harm) per masked cell, in ``grid.mask`` order.
    rrs : ndarray of float64, shape (n_cells,)
        Relative risk score per masked cell (the lowest is 1).
    classes : pandas.DataFrame
        Risk classes with their share of area and of incidents (:func:`rtm.risk_output.risk_classes`).
    nni : NearestNeighbour or None
        Clark-Evans index of the incidents inside the study area (None with fewer than 2).
    layers : pandas.DataFrame
        One row per factor: ``factor``, ``kind``, ``features`` (loaded, including the
        buffer around the area) and ``inside`` (inside the study area).
    n_incidents : int
        Incidents given.
    n_incidents_modelled : int
        Incidents in cells of the grid's mask (the ones the model sees).
    area_m2 : float
        Area of the study-area polygons.
    data_from, data_to : pandas.Timestamp or None
        The window of the incidents the model was fitted on (:func:`rtm.terrain.data_window`):
        every one started at or after ``data_from`` and ended before ``data_to``. None
        for undated incidents.
    inputs : dict
        Descriptions of the inputs for the report (``incidents``, ``area``, ``weights``);
        free text, filled in by the caller.
    """

    settings: RtmSettings
    spatial_influences: list
    max_influence_m: dict
    grid: Grid
    areas: Areas
    variables: RiskVariables
    model: RiskTerrainModel
    counts: np.ndarray
    rrs: np.ndarray
    classes: pd.DataFrame
    nni: NearestNeighbour | None
    layers: pd.DataFrame
    n_incidents: int
    n_incidents_modelled: int
    area_m2: float
    data_from: pd.Timestamp | None = None
    data_to: pd.Timestamp | None = None
    inputs: dict = field(default_factory=dict)

    @property
    def factors(self) -> pd.DataFrame:
        """The final table (:data:`FACTOR_COLUMNS`): selected variables, highest RRV first."""
        return self.model.coef_table_[FACTOR_COLUMNS].copy()

    @property
    def rrs_grid(self) -> np.ndarray:
        """Relative risk scores as a float32 grid, NaN outside the study area."""
        return rrs_raster(self.grid, self.rrs)


def _fail(problem: str, fix: str, source: str):
    raise InputError(source, problem, fix)


def _incident_points(incidents, crs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and weight of the incidents in ``crs`` (reprojected when they are in another)."""
    frame = getattr(incidents, "frame", incidents)
    x, y = frame["x"].to_numpy(float), frame["y"].to_numpy(float)
    w = frame["weight"].to_numpy(float) if "weight" in frame else np.ones(len(frame))
    src = getattr(incidents, "crs", None)
    if src is not None and not coords.to_crs(src).equals(crs):
        x, y = coords.project(x, y, coords.to_crs(src), crs)
    return x, y, w


def _features_inside(layer, areas: Areas, union) -> np.ndarray:
    """The layer's geometries (in the areas' CRS) and whether each lies in the study area."""
    frame = layer.frame if layer.frame.crs is None or layer.frame.crs.equals(areas.crs) \
        else layer.frame.to_crs(areas.crs)
    geoms = frame.geometry.values
    return geoms, shapely.intersects(union, geoms)


def _auto_choices(layers: Mapping, areas: Areas, union, area_m2: float, requested: dict, max_m: dict) -> dict:
    """Resolve ``auto`` factors with the nearest-neighbour test on their features inside the area.

    Layers are loaded with a buffer around the study area (features just outside still
    influence edge cells), but the Clark-Evans test compares a point count with the area
    holding the points, so only the features inside the study area take part.
    """
    out = {}
    for name, layer in layers.items():
        if requested.get(name, DEFAULT_OPERATIONALISATION) != "auto":
            continue
        geoms, inside = _features_inside(layer, areas, union)
        out[name] = auto_operationalisation(geoms[inside], area_m2, max_m[name])
    return out


def _layer_table(layers: Mapping, areas: Areas, union) -> pd.DataFrame:
    rows = []
    for name, layer in layers.items():
        geoms, inside = _features_inside(layer, areas, union)
        rows.append({"factor": name, "kind": getattr(layer, "kind", ""), "features": len(geoms),
                     "inside": int(inside.sum())})
    return pd.DataFrame(rows, columns=["factor", "kind", "features", "inside"])


def run_rtm(incidents, areas: Areas, layers: Mapping[str, object], settings: RtmSettings, *,
            model: RiskTerrainModel | None = None, progress: Progress | None = None) -> RtmResult:
    """Run a risk terrain model from loaded incidents, study area and attractor layers.

    Parameters
    ----------
    incidents : Incidents
        From :func:`rtm.incidents.load_incidents`. The ``weight`` column (1 per incident
        with ``count`` weights) is what is counted in each cell; the dates, when there are
        any, give the terrain's data window (its look-ahead guard).
    areas : Areas
        The study area (:func:`rtm.areas.load_areas`); its metric CRS is the grid's.
    layers : dict of str to Layer
        The risk factors by name (single words), e.g. from :func:`rtm.catalogue.load_factors`.
    settings : RtmSettings
        Cell size, block length, bands, increment, per-factor operationalisations (default
        ``both``) and maximum influences (default: the largest spatial influence tested),
        seed and family.
    model : RiskTerrainModel, optional
        An unfitted model with non-default settings (its seed and families are replaced
        by the settings').
    progress : callable(done, total, what), optional
        Called at the start of each of the five steps.

    Returns
    -------
    RtmResult

    Raises
    ------
    InputError
        Settings out of range, a grid of more than 20 million cells, no incident in the
        study area, or a study area smaller than a few cells.

    Notes
    -----
    Steps, after RTMDx (Caplan, Kennedy & Piza, *RTMDx User Manual*, 2013):

    1. Grid: ``Grid.from_areas(areas, cell_size)``; a cell belongs to the study area when
       its centre does. Incidents are counted per cell (summing ``weight``).
    2. Factors are tested both ways (``both``, the default); ``auto`` factors are resolved
       by the Clark-Evans nearest-neighbour test on their features inside the study area
       (density when clustered or when the mean nearest-neighbour distance is within the
       factor's maximum spatial influence, else proximity), with the study-area polygons'
       area.
    3. Risk variables for every factor and spatial influence (:func:`rtm.variables.build_variables`).
    4. Elastic net pre-selection, stepwise BIC selection, Poisson, NB1 or NB2
       (:class:`rtm.model.RiskTerrainModel`).
    5. Relative risk scores, risk classes (mean + 1 and 2 SD of the RRS) and the
       nearest-neighbour index of the incidents inside the study area.

    Time is dominated by steps 3 and 4: a few seconds for 60,000 cells and 5 factors.
    Memory: about 1 byte per cell per variable plus a few float grids.
    """
    say = stages(progress, 5)
    items = dict(layers)
    if not items:
        _fail("no risk factor was given", "name at least one attractor layer", "layers")
    ops = settings.operationalisation_map
    for name in ops:
        if name not in items:
            _fail(f"an operationalisation is given for '{name}', which is not one of the factors "
                  f"({', '.join(items)})", "name a factor of the run", "operationalisations")
    distances = settings.spatial_influences()
    cell_size = settings.cell_size

    say("building the grid")
    minx, miny, maxx, maxy = areas.frame.total_bounds
    n_est = math.ceil((maxx - minx) / cell_size + 1) * math.ceil((maxy - miny) / cell_size + 1)
    if n_est > MAX_CELLS:
        _fail(f"a {cell_size:g} m grid over the study area would have about {n_est:,} cells",
              "use a larger cell size (cell sizes are in metres)", "cell size")
    grid = Grid.from_areas(areas, cell_size)
    n_cells = int(grid.mask.sum())
    if n_cells < 10:
        _fail(f"the study area covers only {n_cells} cell(s) of {cell_size:g} m", "use a smaller cell size",
              "cell size")
    union = areas.union
    shapely.prepare(union)  # many point-in-area tests follow
    area_m2 = float(shapely.area(union))
    x, y, w = _incident_points(incidents, grid.crs)
    counts = grid.counts(x, y, w).ravel()[grid.mask.ravel()]
    row, col = grid.index(x, y)
    in_mask = np.zeros(len(x), bool)
    ok = row >= 0
    in_mask[ok] = grid.mask[row[ok], col[ok]]
    if not (counts > 0).any():
        _fail(f"none of the {len(x):,} incidents lies in a cell of the study area",
              "check that the incidents and the area cover the same place", "incidents")
    if (counts > 0).sum() < 2:
        _fail(f"all {int(in_mask.sum()):,} incidents in the study area lie in one cell, so no risk factor can "
              "be told from the rest", "give incidents spread over the area (check their coordinates: a "
              "default point such as a police station's is a common cause), or use smaller cells", "incidents")
    across = math.hypot(maxx - minx, maxy - miny)
    if distances[-1] > 5 * across:
        raise setting_error("block_length", f"the largest spatial influence tested ({distances[-1]:,.0f} m) is far "
                            f"beyond the study area ({across:,.0f} m across)", "give the block length in metres, "
                            "e.g. 100")

    say("choosing operationalisations")
    given_max = settings.max_influence_map
    max_m = {name: float(given_max.get(name, distances[-1])) for name in items}
    auto = _auto_choices(items, areas, union, area_m2, ops, max_m)
    resolved = {name: (auto[name].operationalisation if name in auto else ops.get(name, DEFAULT_OPERATIONALISATION))
                for name in items}

    say(f"building risk variables ({len(items)} factor(s) x {len(distances)} spatial influences)")
    variables = build_variables(grid, items, settings.block_length, settings.bands, settings.increment, resolved)
    choices = variables.choices.set_index("factor")
    for name, choice in auto.items():
        choices.loc[name, "requested"] = "auto"
        choices.loc[name, "reason"] = "auto (RTMDx's nearest-neighbour rule, asked for): " + choice.reason
    for name in items:
        if name in auto:
            continue
        if name not in ops:
            choices.loc[name, "requested"] = "both (default)"
        if resolved[name] == "both":
            how = "the default" if name not in ops else "as set for this factor (the default)"
            choices.loc[name, "reason"] = (f"both, {how}: proximity and density are each tested at every spatial "
                                           "influence and BIC decides (the nearest-neighbour rule, auto, picks "
                                           "the wrong one when clustering and the effect disagree)")
    variables.choices = choices.reset_index()

    say(f"fitting the model ({variables.matrix.shape[1]} variables, {n_cells:,} cells)")
    model = (model or RiskTerrainModel()).set_params(random_state=settings.seed, families=settings.families,
                                                      limit_by=settings.factor_limit)
    model.fit(variables, counts)

    say("scoring cells")
    rrs = model.predict_rrs(variables)
    classes = risk_classes(rrs, counts)
    inside = shapely.intersects_xy(union, x, y) if len(x) else np.zeros(0, bool)
    pts = np.column_stack([x[inside], y[inside]])
    nni = nearest_neighbour_index(pts, area_m2) if len(pts) >= 2 else None
    data_from, data_to = data_window(getattr(incidents, "frame", incidents))
    return RtmResult(settings, distances, max_m, grid, areas, variables, model, counts, rrs, classes, nni,
                     _layer_table(items, areas, union), len(x), int(in_mask.sum()), area_m2, data_from, data_to)


def write_outputs(result: RtmResult, out_dir, *, provenance: dict | None = None) -> dict[str, Path]:
    """Write the factor table, the risk terrain raster and the HTML report.

    Parameters
    ----------
    result : RtmResult
    out_dir : str or Path
        Created when missing; files of an earlier run are overwritten.
    provenance : dict, optional
        What the run was made from (:func:`rtm.provenance.model_provenance`): written into
        ``terrain.json`` (key ``provenance``), the report (a last section), the GeoTIFF's
        metadata and the sidecar ``risk_terrain.provenance.json``.

    Returns
    -------
    dict of str to Path
        ``factors`` (``rtm_factors.csv``), ``raster`` (``risk_terrain.tif``) and
        ``report`` (``report.html``).

    Notes
    -----
    ``rtm_factors.csv`` has the columns :data:`FACTOR_COLUMNS`, one row per selected
    variable (``type`` ``rate``, highest RRV first) and, for a negative binomial model, a
    last row for the overdispersion ``alpha`` (``type`` ``overdispersion``, RRV empty).
    ``risk_terrain.tif`` is a float32 GeoTIFF of the relative risk scores on the grid, NaN
    (nodata) outside the study area. ``report.html`` is self-contained (see
    :func:`rtm.model_report.render_report`). ``risk_factors.tif`` (where each selected
    variable is present) and ``terrain.json`` (the factor table and what the model was
    fitted on, from ``result.inputs["fitted"]``) let ``rtm weekly --model`` reuse the model.
    """
    import json

    from .exports import provenance_sidecar, raster_qml
    from .model_report import render_report
    from .terrain import RiskTerrain

    out = output_folder(out_dir)
    paths = {k: out / v for k, v in OUTPUT_FILES.items()}
    result.factors.to_csv(paths["factors"], index=False)
    if provenance is not None:
        result.inputs["provenance"] = provenance
    paths["report"].write_text(render_report(result), encoding="utf-8")
    RiskTerrain.from_result(result, **result.inputs.get("fitted", {})).write(out)
    write_geotiff(paths["raster"], result.grid, result.rrs_grid, provenance=provenance)
    paths["style"] = out / "risk_terrain.qml"
    paths["style"].write_text(raster_qml(result.rrs_grid, label="RRS"), encoding="utf-8")
    if provenance is not None:
        meta = json.loads(paths["terrain"].read_text(encoding="utf-8"))
        meta["provenance"] = json.loads(provenance_sidecar(provenance))
        paths["terrain"].write_text(json.dumps(meta, indent=1, default=str), encoding="utf-8")
        paths["provenance"] = out / "risk_terrain.provenance.json"
        paths["provenance"].write_bytes(provenance_sidecar(provenance))
    return paths

"""The weekly (or monthly) harm-spot list: ranked spots per district with everything a
patrol supervisor needs on one row.

:func:`build_list` is the one place a list is made; the command line (``rtm weekly``),
the app and the back-test all call it or the scoring it uses (:mod:`rtm.ranking`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely

from . import coords
from .areas import Areas
from .errors import InputError, setting_error
from .grid import MAX_GRID_MB, Grid
from .gridref import grid_references
from .periods import Period, history, inside
from .recording_points import RecordingPoints
from .provenance import list_provenance, previous_fingerprint, software_version, source_entries  # noqa: F401
from .spot_labels import (drop_recording_points, left_out_note, location_labels, map_places, places_by_spot,
                          streets_inside)
from .ranking import CellScores, ScoreSettings, SpotRule, cell_scores, score_history, select_spots
from .terrain import RiskTerrain, TerrainOnGrid, factor_phrase

DEFAULT_SPOT_SIZE = 150.0  # metres, the harm-spot size of the Essex Grip trials
#: Adjacent listed cells merged into one spot at most, by default. One large site (an
#: airport, a retail park) lights up its cell and, through the harm kernel, the cells round
#: it: on the Essex February 2019 list 5 of Uttlesford's 20 spots were Stansted airport's
#: cell and its 4 neighbours, 4 of them with no crime of their own. A cell and its 4
#: neighbours (0.11 km2 at 150 m) are still one place for a 15-minute foot patrol.
DEFAULT_MERGE_CELLS = 5
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: Columns of the list, in order (the exports and the app rely on them).
LIST_COLUMNS = ["rank", "spot_id", "district", "cells", "easting", "northing", "lat", "lon", "grid_ref",
                "location", "streets", "harm_recent", "harm_year", "counts_by_type", "rrs", "factors_present", "score", "score_harm",
                "score_risk", "explanation", "conjunctive", "movement", "previous_rank", "weeks_on_list",
                "peak_times", "patrol_visits_per_day", "patrol_minutes"]


@dataclass(frozen=True)
class PatrolDose:
    """Suggested visits: ``min_visits`` for the lowest listed score in a district, rising in
    proportion to the score up to ``max_visits`` for the best spot, each of ``minutes``.

    Koper (1995, *Justice Quarterly* 12(4)) found stops of about 15 minutes gave the
    longest residual deterrence, hence the default length.
    """

    min_visits: int = 1
    max_visits: int = 4
    minutes: int = 15

    def __post_init__(self):
        if not (1 <= self.min_visits <= self.max_visits) or self.minutes < 1:
            raise setting_error("patrol", f"{self.min_visits}-{self.max_visits} visits a day of {self.minutes} "
                                "minutes is not a patrol dose", "give at least 1 visit, the fewest first "
                                "(e.g. 1-4), of at least 1 minute")

    def visits(self, score: np.ndarray) -> np.ndarray:
        score = np.asarray(score, float)
        if not score.size:
            return np.zeros(0, int)
        top = score.max()
        frac = score / top if top > 0 else np.zeros_like(score)
        return np.rint(self.min_visits + (self.max_visits - self.min_visits) * frac).astype(int)


@dataclass(frozen=True)
class ListSettings:
    """Everything that decides a list besides the data.

    Attributes
    ----------
    spot_size : float
        Cell size of the harm-spot grid in metres (default 150).
    scoring : ScoreSettings
    rule : SpotRule
        Default: the top 20 spots a district, adjacent listed cells merged into spots of
        up to :data:`DEFAULT_MERGE_CELLS` cells.
    patrol : PatrolDose
    area_tolerance_m : float
        The loading tolerance (``--area-tolerance``): the spot grid's study area is widened
        by it plus half a cell diagonal so that incidents kept by it can be listed.
    district_rules : tuple of (str, SpotRule)
        Another size for some districts, by name (e.g. ``(("Basildon", SpotRule(top_n=12)),)``);
        the others follow ``rule``. A name the areas lack is refused by :func:`build_list`.
    offences : tuple of str or None
        Only incidents of these offence types make the list (their harm, counts and peak
        times); None (default) takes every type. The risk terrain is not refitted on them.
    tuning : tuple of (key, value)
        How ``scoring`` was chosen, for provenance: the record of a workspace's ``[tuning]``
        table (``rtm tune --save``); empty: the shipped default or settings given by hand.
    max_grid_mb : float
        Refuse, before allocating it, a spot grid whose estimated memory is larger
        (:func:`rtm.grid.check_grid_size`); raise it on a machine with more memory.
    """

    spot_size: float = DEFAULT_SPOT_SIZE
    scoring: ScoreSettings = field(default_factory=ScoreSettings)
    rule: SpotRule = field(default_factory=lambda: SpotRule(max_cells=DEFAULT_MERGE_CELLS))
    patrol: PatrolDose = field(default_factory=PatrolDose)
    area_tolerance_m: float = 0.0
    district_rules: tuple = ()
    offences: tuple | None = None
    tuning: tuple = ()
    max_grid_mb: float = MAX_GRID_MB

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def rules_by_district(self) -> dict:
        """``district_rules`` as a dict of district name to :class:`SpotRule`."""
        return {str(name): rule for name, rule in self.district_rules}

    def describe_spots(self) -> str:
        """How many spots each district gets, in words: the default rule, then each district's own."""
        text = self.rule.describe()
        if self.district_rules:
            # each district's size; the merging rule is the same for all and said once
            text += "; " + "; ".join(f"{name}: {replace(rule, max_cells=1).describe()}"
                                     for name, rule in self.district_rules)
        return text

    @property
    def edge_m(self) -> float:
        return self.area_tolerance_m + self.spot_size * math.sqrt(2) / 2 if self.area_tolerance_m > 0 else 0.0


@dataclass
class HarmSpotList:
    """A made list and what it was made from.

    Attributes
    ----------
    period : Period
    spots : geopandas.GeoDataFrame
        :data:`LIST_COLUMNS` plus the spot polygons, in the working CRS; districts in name
        order, best spot first.
    spot_cells : dict of str to list of str
        Cell labels of each spot (by ``spot_id``); used to follow spots from week to week.
    grid : Grid
        The harm-spot grid.
    scores : CellScores
    terrain : TerrainOnGrid or None
    provenance : dict
    notes : list of str
        What a reader should know (e.g. how stale the data is).
    places : pandas.DataFrame or None
        Street context for maps: the distinct location points of the last year's
        incidents (``x``, ``y``, ``place`` without "On or near", ``n`` incidents); None
        when the data has no location text.
    street_lines : geopandas.GeoDataFrame or None
        The streets layer given (``name`` and line geometry, in the working CRS), drawn
        on the briefing maps; None without one.
    """

    period: Period
    spots: gpd.GeoDataFrame
    spot_cells: dict
    grid: Grid
    scores: CellScores
    terrain: TerrainOnGrid | None
    provenance: dict
    notes: list = field(default_factory=list)
    places: pd.DataFrame | None = None
    street_lines: gpd.GeoDataFrame | None = None

    def surfaces(self) -> dict[str, np.ndarray]:
        """Grids for a GeoTIFF: harm surface, risk terrain (when used) and score; NaN outside."""
        out = {"harm_surface": self.scores.harm, "score": self.scores.score}
        if self.terrain is not None:
            out["risk_terrain"] = self.terrain.rrs
        return {k: np.where(self.grid.mask, v, np.nan).astype(np.float32) for k, v in out.items()}

    def as_previous(self) -> pd.DataFrame:
        """This list as the ``previous`` of the next period's :func:`build_list`: ``district``,
        ``rank``, ``weeks_on_list``, ``spot_id`` and ``cell_labels`` (space-separated), the
        shape :meth:`rtm.archive.Archive.previous` returns."""
        s = self.spots
        return pd.DataFrame({"district": s["district"], "rank": s["rank"], "weeks_on_list": s["weeks_on_list"],
                             "spot_id": s["spot_id"],
                             "cell_labels": [" ".join(self.spot_cells[i]) for i in s["spot_id"]]})


# -- checks --------------------------------------------------------------------------------
def _check_inputs(incidents, period: Period, terrain: RiskTerrain | None) -> None:
    if incidents.resolution == "none":
        raise InputError("incidents", "the incidents have no dates, so no period's list can be made",
                         "give the column holding each incident's date")
    if incidents.resolution == "month" and period.kind == "week":
        raise setting_error("period", "the incidents are dated by month only (police.uk), so a weekly list "
                            "would have to invent days", "make a monthly list")
    before = inside(incidents.frame, None, period.start).sum()
    if not before:
        raise setting_error("period", f"no incident is recorded before the {period.label}",
                            f"choose a period after the data starts ({incidents.report.date_min})")
    if terrain is not None:
        terrain.check_before(period)


def exclusion_cells(grid: Grid, zones) -> np.ndarray:
    """Cells touched by any exclusion polygon (GeoDataFrame, GeoSeries or geometries in
    the grid's CRS): these never appear in a list. One rasterisation (all-touched rule)."""
    if zones is None:
        return np.zeros(grid.shape, bool)
    geoms = getattr(zones, "geometry", zones)
    if getattr(zones, "crs", None) is not None and not zones.crs.equals(grid.crs):
        geoms = zones.to_crs(grid.crs).geometry
    geoms = [g for g in np.asarray(geoms) if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(grid.shape, bool)
    return rasterio.features.rasterize(((g, 1) for g in geoms), out_shape=grid.shape, transform=grid.transform,
                                       fill=0, all_touched=True, dtype="uint8").astype(bool)


# -- the rows ------------------------------------------------------------------------------
def _peak_text(days: np.ndarray, hours: np.ndarray, resolution: str) -> str:
    """The busiest day(s) and 3-hour window from incident counts by weekday (7) and hour (24)."""
    if resolution == "month":
        return "not available (monthly data)"
    n = int(days.sum())
    if not n:
        return "no incidents in the last year"
    # the busiest day(s) (up to three tied); a runner-up only when it alone is second
    order = np.argsort(-days, kind="stable")
    top = [d for d in order[:3] if days[d] == days[order[0]]]
    if len(top) == 1 and days[order[1]] > 0 and days[order[1]] > days[order[2]]:
        top.append(order[1])
    day_text = ", ".join(f"{WEEKDAY_NAMES[d]} {100 * days[d] / n:.0f}%" for d in top)
    of = f" (of {n} incident{'s' if n != 1 else ''})"
    if resolution == "day":
        return f"{day_text}; times not recorded{of}"
    three = hours + np.roll(hours, -1) + np.roll(hours, -2)
    h = int(np.argmax(three))
    return f"{day_text}; {h:02d}:00-{(h + 3) % 24:02d}:00 {100 * three[h] / n:.0f}%{of}"


def _spot_facts(hist: pd.DataFrame, spot: np.ndarray, recent: np.ndarray, n_spots: int,
                resolution: str) -> dict[str, list]:
    """What each listed spot's incidents of the last year say, for all spots at once.

    ``spot`` gives each row of ``hist`` its spot (-1: none) and ``recent`` marks the rows of
    the last 4 weeks (or month). Returns lists of length ``n_spots``: ``harm_recent``,
    ``harm_year``, ``counts_by_type`` (``"type n; ..."``, most first, ties by name),
    ``location`` (the most common location text, ties by name; "" without any) and
    ``peak_times`` (:func:`_peak_text`). One pass over the rows, whatever the number of spots.
    """
    inside = spot >= 0
    sp = spot[inside]
    rows = hist.loc[inside]
    w = rows["weight"].to_numpy(float)
    out = {"harm_recent": np.bincount(sp[recent[inside]], weights=w[recent[inside]], minlength=n_spots).tolist(),
           "harm_year": np.bincount(sp, weights=w, minlength=n_spots).tolist()}

    codes, types = pd.factorize(rows["offence_type"].astype(str), sort=True)
    table = np.zeros((n_spots, max(len(types), 1)), np.int64)
    np.add.at(table, (sp, codes), 1)
    out["counts_by_type"] = ["; ".join(f"{types[k]} {table[i, k]}"
                                       for k in sorted(np.flatnonzero(table[i]), key=lambda k: -table[i, k]))
                             for i in range(n_spots)]

    out["location"] = [""] * n_spots
    out["streets"] = [""] * n_spots
    if "location" in rows:
        text = rows["location"].astype("string").str.strip()
        ok = (text.notna() & (text.str.len() > 0)).to_numpy()
        if ok.any():
            counts = (pd.DataFrame({"spot": sp[ok], "text": text[ok].to_numpy(object)})
                      .value_counts().rename("n").reset_index()
                      .sort_values(["spot", "n", "text"], ascending=[True, False, True], kind="stable")
                      .drop_duplicates("spot"))
            for i, t in zip(counts["spot"], counts["text"]):
                out["location"][i] = t
            out["streets"] = places_by_spot(sp[ok], text[ok].to_numpy(object), n_spots)

    days = np.zeros((n_spots, 7), np.int64)
    hours = np.zeros((n_spots, 24), np.int64)
    if resolution != "month" and len(sp):
        when = rows["date_start"]
        np.add.at(days, (sp, when.dt.day_of_week.to_numpy()), 1)
        np.add.at(hours, (sp, when.dt.hour.to_numpy()), 1)
    out["peak_times"] = [_peak_text(days[i], hours[i], resolution) for i in range(n_spots)]
    return out


def _movement(spots: pd.DataFrame, cells: dict, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``movement``, ``previous_rank``, ``weeks_on_list`` from the previous period's list.

    A spot continues a previous spot of the same district that shares a cell with it (the
    best-ranked such spot), so a merged spot whose lead cell moved is still recognised.
    """
    out = pd.DataFrame({"movement": "new", "previous_rank": np.nan, "weeks_on_list": 1}, index=spots.index)
    if previous is None or not len(previous) or not len(spots):
        return out
    owner = {}
    for p in previous.sort_values("rank", ascending=False).itertuples():
        for c in str(p.cell_labels).split():
            owner[(p.district, c)] = (int(p.rank), int(p.weeks_on_list))
    for i, s in spots.iterrows():
        hits = [owner[(s["district"], c)] for c in cells[s["spot_id"]] if (s["district"], c) in owner]
        if not hits:
            continue
        prev_rank, weeks = min(hits)
        out.loc[i, "previous_rank"] = prev_rank
        out.loc[i, "weeks_on_list"] = weeks + 1
        out.loc[i, "movement"] = "same" if s["rank"] == prev_rank else ("up" if s["rank"] < prev_rank else "down")
    return out


def _explanation(score: float, harm: float, risk: float, parts: dict, have_terrain: bool) -> str:
    text = f"{score:.2f} x the average cell = recent harm {harm:.2f}"
    if have_terrain:
        text += f" + risk terrain {risk:.2f}"
        named = [f"{name} {v:.2f}" for name, v in parts.items() if abs(v) >= 0.005]
        if named:
            text += f" ({'; '.join(named)}; base {risk - sum(parts.values()):.2f})"
    return text


def build_list(incidents, areas: Areas, period: Period, *, terrain: RiskTerrain | None = None,
               settings: ListSettings = ListSettings(), exclusions=None, streets=None,
               street_name: str = "name", previous: pd.DataFrame | None = None,
               inputs: dict | None = None, recording_points: RecordingPoints | None | str = "default",
               ) -> HarmSpotList:
    """Make the harm-spot list of every district for one period.

    Parameters
    ----------
    incidents : Incidents
        Loaded with the harm weights (:func:`rtm.incidents.load_incidents`), in the same
        working CRS as ``areas``.
    areas : Areas
        The districts.
    period : Period
        The week or month the list is for (:mod:`rtm.periods`).
    terrain : RiskTerrain, optional
        A fitted risk terrain; without it spots are ranked by recent harm alone. It must
        have been fitted on data before the period.
    settings : ListSettings
    exclusions : GeoDataFrame, optional
        Polygons (custody suites, prisons, ...) whose cells are never listed.
    streets : GeoDataFrame, optional
        Named street lines: a spot without location text of its own is labelled by the
        nearest street, and the streets crossing a spot are added to its ``streets``.
    street_name : str
        The streets' name column.
    previous : DataFrame, optional
        The previous period's list (``district``, ``rank``, ``weeks_on_list`` and
        ``cell_labels``, space-separated), e.g. from :meth:`rtm.archive.Archive.previous`.
    inputs : dict, optional
        Extra provenance (e.g. file fingerprints of layers).
    recording_points : RecordingPoints, "default" or None
        police.uk places where crimes are recorded rather than committed (police stations,
        ...; :mod:`rtm.recording_points`): their incidents are left out of the harm and
        their cells never listed; the notes and provenance say which. ``"default"`` is the
        project's table; None keeps them.

    Returns
    -------
    HarmSpotList

    Raises
    ------
    InputError
        A weekly list of month-only data, no incident before the period, or a terrain
        fitted on data from the period or after it.

    Notes
    -----
    Only incidents whose whole period lies before the list's period are used (harm in the
    52 weeks, or 12 months, before it), so planting incidents in the period changes
    nothing. Cost: one harm surface on the spot grid, one resampling of the terrain, and
    a pass over the last year's incidents; well under a second for a county at 150 m.
    """
    _check_inputs(incidents, period, terrain)
    frame = incidents.frame
    grid = Grid.from_areas(areas, settings.spot_size, edge_m=settings.edge_m, max_grid_mb=settings.max_grid_mb)
    unknown = sorted(set(settings.rules_by_district) - {str(n) for n in grid.district_names})
    if unknown:
        raise setting_error("district_rules", f"the list size is set for {', '.join(unknown)}, which the "
                            f"districts do not include ({', '.join(map(str, grid.district_names))})",
                            "correct the district's name, or remove its size")
    on_grid = terrain.on_grid(grid) if terrain is not None else None
    hist = history(frame, period)
    offence_note = None
    if settings.offences is not None:
        hist, offence_note = _only_offences(hist, frame, settings.offences)
    if isinstance(recording_points, str):
        recording_points = RecordingPoints.default()
    hist, left_out = drop_recording_points(hist, grid, recording_points)
    x, y = hist["x"].to_numpy(float), hist["y"].to_numpy(float)
    w = hist["weight"].to_numpy(float)
    scored = hist  # the score's own history window (ScoreSettings.history_months); the facts keep the year
    if settings.scoring.history_months != 12:  # the same offence and recording-point rules as the year's rows
        scored = score_history(frame, period, settings.scoring)
        if settings.offences is not None:
            scored, _ = _only_offences(scored, frame, settings.offences)
        scored, _ = drop_recording_points(scored, grid, recording_points)
    scores = cell_scores(grid, scored["x"].to_numpy(float), scored["y"].to_numpy(float),
                         scored["weight"].to_numpy(float), scored, period.start, terrain=on_grid,
                         settings=settings.scoring)
    r_from, r_to = period.window("recent")
    recent = (hist["date_start"] >= r_from).to_numpy()
    last_harm = grid.counts(x[recent], y[recent], w[recent])
    excluded = exclusion_cells(grid, exclusions) | left_out.cells
    chosen = select_spots(grid, scores, settings.rule, excluded=excluded, last_harm=last_harm,
                          district_rules=settings.rules_by_district)

    # incidents of the last year by listed spot
    spot_of_cell = np.full(grid.nrows * grid.ncols, -1, dtype=np.int64)
    for i, cells in enumerate(chosen["cells"]):
        spot_of_cell[cells] = i
    row, col = grid.index(x, y)
    inc_spot = np.where(row >= 0, spot_of_cell[np.where(row >= 0, row * grid.ncols + col, 0)], -1)
    facts = _spot_facts(hist, inc_spot, recent, len(chosen), incidents.resolution)

    cs = grid.cell_size
    cx, cy = grid.centres()
    names = grid.district_names
    have_terrain = on_grid is not None and settings.scoring.weight > 0
    phrases = [factor_phrase(r) for _, r in on_grid.factors.iterrows()] if on_grid is not None else []
    factor_names = [str(f).replace("_", " ") for f in on_grid.factors["factor"]] if on_grid is not None else []
    rows, polys, cell_map = [], [], {}
    for i, s in enumerate(chosen.itertuples()):
        cells = np.asarray(s.cells)
        rr, cc = np.divmod(cells, grid.ncols)
        labels = list(grid.cell_labels(rr, cc))
        spot_id = labels[0]
        cell_map[spot_id] = labels
        poly = shapely.union_all(shapely.box(cx.flat[cells] - cs / 2, cy.flat[cells] - cs / 2,
                                             cx.flat[cells] + cs / 2, cy.flat[cells] + cs / 2))
        polys.append(poly)
        centre = poly.centroid if len(cells) == 1 or poly.contains(poly.centroid) else poly.representative_point()
        # a merged spot scores as its lead cell, the one that ranked it (cells[0])
        score = float(scores.score.flat[cells[0]])
        harm_part = float(scores.harm_part.flat[cells[0]])
        risk_part = float(scores.risk_part.flat[cells[0]])
        parts = {}
        present = []
        if on_grid is not None:
            fp = scores.factor_parts.reshape(len(phrases), -1)[:, cells[0]] if phrases else []
            for k, name in enumerate(factor_names):
                parts[name] = parts.get(name, 0.0) + float(fp[k])
            present = [phrases[k] for k in range(len(phrases))
                       if on_grid.present[k].flat[cells[0]] and on_grid.factors["coefficient"].iloc[k] > 0]
        rows.append({
            "rank": int(s.rank), "spot_id": spot_id, "district": names[s.district], "cells": len(cells),
            "easting": round(centre.x, 1), "northing": round(centre.y, 1),
            "location": facts["location"][i], "streets": facts["streets"][i], "harm_recent": facts["harm_recent"][i],
            "harm_year": facts["harm_year"][i], "counts_by_type": facts["counts_by_type"][i],
            "rrs": float(np.nanmean(on_grid.rrs.flat[cells])) if on_grid is not None else np.nan,
            "factors_present": "; ".join(present) if on_grid is not None else "no risk terrain model",
            "score": score, "score_harm": harm_part, "score_risk": risk_part,
            "explanation": _explanation(score, harm_part, risk_part, parts, have_terrain),
            "conjunctive": bool(scores.conjunctive.flat[cells].any()),
            "peak_times": facts["peak_times"][i],
        })
    spots = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=polys, crs=grid.crs) if rows else \
        gpd.GeoDataFrame({c: [] for c in LIST_COLUMNS}, geometry=[], crs=grid.crs)
    if rows:
        lon, lat = coords.project(spots["easting"].to_numpy(), spots["northing"].to_numpy(), grid.crs, coords.WGS84)
        spots["lat"], spots["lon"] = np.round(lat, 6), np.round(lon, 6)
        e, n = spots["easting"].to_numpy(), spots["northing"].to_numpy()
        spots["grid_ref"] = grid_references(e, n, grid.crs)
        spots["location"], _ = location_labels(list(spots["location"]), e, n, spots["lat"].to_numpy(),
                                               spots["lon"].to_numpy(), grid.crs, hist, streets, street_name)
        if streets is not None:
            spots["streets"] = [", ".join(p for p in (a, b) if p) for a, b in
                                zip(streets_inside(spots.geometry.values, streets, street_name, grid.crs),
                                    spots["streets"])]
        spots = spots.join(_movement(spots, cell_map, previous))
        visits = np.zeros(len(spots), int)
        for _, idx in spots.groupby("district").groups.items():
            visits[spots.index.get_indexer(idx)] = settings.patrol.visits(spots.loc[idx, "score"].to_numpy())
        spots["patrol_visits_per_day"] = visits
        spots["patrol_minutes"] = settings.patrol.minutes
    spots = spots[LIST_COLUMNS + ["geometry"]]
    for c in ("rank", "cells", "weeks_on_list", "patrol_visits_per_day", "patrol_minutes"):
        spots[c] = spots[c].astype("int64")
    spots["previous_rank"] = spots["previous_rank"].astype("float64")
    spots["conjunctive"] = spots["conjunctive"].astype(bool)
    notes = _notes(incidents, period, scores, grid)
    if offence_note:
        notes.append(offence_note)
    note = left_out_note(left_out, recording_points.source) if recording_points is not None else None
    if note:
        notes.append(note)
    lines = None
    if streets is not None:
        lines = streets[[street_name, streets.geometry.name]].rename(columns={street_name: "name"})
        lines = lines.to_crs(grid.crs) if lines.crs is not None and not lines.crs.equals(grid.crs) else lines
    lst = HarmSpotList(period, spots.reset_index(drop=True), cell_map, grid, scores, on_grid, {}, notes,
                       map_places(hist), lines)
    lst.provenance = list_provenance(lst, incidents, areas, terrain, settings, inputs or {})
    lst.provenance["recording_points"] = (
        {**recording_points.provenance(), "incidents_left_out": left_out.incidents,
         "by_place": left_out.by_place, "cells_left_out": left_out.labels}
        if recording_points is not None else "kept: no place was left out")
    lst.provenance["previous_list"] = previous_fingerprint(previous, period)
    lst.provenance["notes"] = list(notes)
    return lst


def _only_offences(hist: pd.DataFrame, frame: pd.DataFrame, offences) -> tuple[pd.DataFrame, str]:
    """The rows of ``hist`` of the chosen offence types, and a note saying which were taken
    (and any the data does not hold). InputError when the data holds none of them."""
    wanted = [str(o) for o in offences]
    present = set(frame["offence_type"].astype(str).unique())
    if not wanted or not present & set(wanted):
        raise setting_error("offences", f"the data holds none of the offence types chosen for the list "
                            f"({', '.join(wanted) or 'none'})",
                            f"choose from the types in the data: {', '.join(sorted(present))}")
    kept = hist[hist["offence_type"].astype(str).isin(wanted)]
    note = f"Only these offence types make the list: {', '.join(wanted)}."
    missing = [o for o in wanted if o not in present]
    if missing:
        note += f" The data has no incident of: {', '.join(missing)}."
    return kept, note


def _notes(incidents, period: Period, scores: CellScores, grid: Grid) -> list[str]:
    notes = []
    frame = incidents.frame
    latest = frame.loc[inside(frame, None, period.start), "date_end"].max()
    gap = (period.start - latest).days if pd.notna(latest) else None
    if gap is not None and gap > (31 if period.kind == "month" else 7):
        notes.append(f"The latest incident used ends {latest:%Y-%m-%d}, {gap} days before the period starts: "
                     "the list rests on older data than usual.")
    if incidents.resolution == "month":
        notes.append("The data is dated by month only (police.uk), so this is a monthly list and peak days "
                     "and hours are not available; no days are invented.")
    empty = [n for d, n in enumerate(grid.district_names) if not (scores.score[grid.district == d] > 0).any()]
    if empty:
        notes.append(f"No harm was recorded in the last year in: {', '.join(empty)}; they have no spots.")
    return notes

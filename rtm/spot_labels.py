"""How a listed spot is found on the street: its location label, the places it covers,
its grid reference; and the recording points left out of patrol lists.

:func:`rtm.weekly.build_list` calls these; they take plain arrays and frames so they can
be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError
from .gridref import grid_references
from .recording_points import RecordingPoints, place_text

#: How many places a spot's ``streets`` lists at most (the most incidents first).
MAX_PLACES = 6
#: How far (metres) the nearest incident with location text may be from a spot without any.
NEAR_TEXT_M = 500.0


def places_by_spot(spot: np.ndarray, text: np.ndarray, n_spots: int, limit: int = MAX_PLACES) -> list[str]:
    """The places (police.uk map-point texts without "On or near") inside each spot.

    Parameters
    ----------
    spot : ndarray of int
        The spot of each incident (all >= 0).
    text : ndarray of str
        Each incident's location text.
    n_spots : int
    limit : int
        At most this many places a spot, the most incidents first (ties by name); more are
        counted as "and N more".

    Returns
    -------
    list of str
        ``"High Street, Clarence Road"`` per spot; ``""`` for a spot with no text.
    """
    out = [""] * n_spots
    if not len(spot):
        return out
    frame = pd.DataFrame({"spot": spot, "place": [place_text(t) for t in text]})
    frame = frame[frame["place"] != ""]
    counts = (frame.value_counts().rename("n").reset_index()
              .sort_values(["spot", "n", "place"], ascending=[True, False, True], kind="stable"))
    for i, group in counts.groupby("spot", sort=False):
        names = list(group["place"])
        more = f" and {len(names) - limit} more" if len(names) > limit else ""
        out[int(i)] = ", ".join(names[:limit]) + more
    return out


def nearest_street(x: np.ndarray, y: np.ndarray, streets: gpd.GeoDataFrame, name_col: str, crs) -> list[str]:
    """Name of the nearest named street line to each point (``""`` when no street is named).

    Raises
    ------
    InputError
        The streets layer has no ``name_col`` column.
    """
    check_streets(streets, name_col)
    st = streets if streets.crs is None or streets.crs.equals(crs) else streets.to_crs(crs)
    st = st[st[name_col].notna() & (st[name_col].astype(str).str.strip() != "")]
    if not len(st) or not len(x):
        return [""] * len(x)
    idx = shapely.STRtree(st.geometry.values).nearest(shapely.points(x, y))
    names = st[name_col].astype(str).str.strip().to_numpy()
    return [str(names[j]) for j in idx]


def check_streets(streets, name_col: str) -> None:
    """Raise InputError when the streets layer has no ``name_col`` column."""
    if name_col not in streets.columns:
        raise InputError("streets", f"the street layer has no '{name_col}' column "
                         f"(columns: {', '.join(map(str, streets.columns))})", "name the street-name column")


def streets_inside(polygons, streets: gpd.GeoDataFrame, name_col: str, crs, limit: int = MAX_PLACES) -> list[str]:
    """Names of the street lines crossing each spot polygon, longest stretch first."""
    check_streets(streets, name_col)
    st = streets if streets.crs is None or streets.crs.equals(crs) else streets.to_crs(crs)
    st = st[st[name_col].notna() & (st[name_col].astype(str).str.strip() != "")]
    out = []
    tree = shapely.STRtree(st.geometry.values) if len(st) else None
    for poly in polygons:
        if tree is None:
            out.append("")
            continue
        hits = tree.query(poly, predicate="intersects")
        lengths: dict[str, float] = {}
        for j in hits:
            name = str(st[name_col].iloc[j]).strip()
            lengths[name] = lengths.get(name, 0.0) + shapely.length(shapely.intersection(st.geometry.iloc[j], poly))
        out.append(", ".join(sorted(lengths, key=lambda n: (-lengths[n], n))[:limit]))
    return out


def _near_text(x, y, hist: pd.DataFrame, reach_m: float) -> list[str]:
    """The location text of the nearest incident within ``reach_m`` of each point, as ``near ...``."""
    out = [""] * len(x)
    if "location" not in hist or not len(x):
        return out
    text = hist["location"].astype("string").str.strip()
    ok = (text.notna() & (text.str.len() > 0)).to_numpy()
    if not ok.any():
        return out
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([hist["x"].to_numpy(float)[ok], hist["y"].to_numpy(float)[ok]]))
    dist, idx = tree.query(np.column_stack([x, y]))
    names = text[ok].to_numpy()
    return [f"near: {names[j]}" if d <= reach_m else "" for d, j in zip(dist, idx)]


def location_labels(own: list[str], x: np.ndarray, y: np.ndarray, lat: np.ndarray, lon: np.ndarray, crs,
                    hist: pd.DataFrame, streets=None, street_name: str = "name") -> tuple[list[str], list[str]]:
    """A location label for every spot, never blank, and where each came from.

    In order, the first that gives text:

    1. ``own``: the most common location text of the spot's own incidents (police.uk map
       points, or the data's location column);
    2. the nearest named street of ``streets`` (``near High Street``);
    3. the text of the nearest incident within :data:`NEAR_TEXT_M` (``near: On or near ...``);
    4. the OS grid reference in Great Britain (``TQ 8787 8633``), else latitude and
       longitude (``41.88540, -87.66334``).

    Returns
    -------
    (labels, sources)
        ``sources`` is one of ``data``, ``street``, ``nearby``, ``grid reference``,
        ``coordinates`` per spot.
    """
    labels = [str(t or "").strip() for t in own]
    sources = ["data" if t else "" for t in labels]
    steps = []
    if streets is not None:
        steps.append(("street", lambda idx: [f"near {n}" if n else "" for n in
                                             nearest_street(x[idx], y[idx], streets, street_name, crs)]))
    steps.append(("nearby", lambda idx: _near_text(x[idx], y[idx], hist, NEAR_TEXT_M)))
    refs = grid_references(x, y, crs)
    steps.append(("grid reference", lambda idx: [refs[i] for i in idx]))
    steps.append(("coordinates", lambda idx: [f"{lat[i]:.5f}, {lon[i]:.5f}" for i in idx]))
    for name, step in steps:
        blank = np.flatnonzero([not t for t in labels])
        if not len(blank):
            break
        for i, text in zip(blank, step(blank)):
            if text:
                labels[i], sources[i] = text, name
    return labels, sources


@dataclass
class LeftOut:
    """What the recording-point rule left out of a list.

    Attributes
    ----------
    cells : ndarray of bool, shape grid.shape
        Cells holding a recording point's incidents: never listed.
    incidents : int
        Incidents of the history dropped from the harm.
    by_place : dict of str to int
        Incidents by the matching table row's place.
    labels : list of str
        The left-out cells' labels.
    """

    cells: np.ndarray
    incidents: int
    by_place: dict
    labels: list


def drop_recording_points(hist: pd.DataFrame, grid, table: RecordingPoints | None) -> tuple[pd.DataFrame, LeftOut]:
    """The history without incidents at recording points, and the cells they were in.

    Parameters
    ----------
    hist : DataFrame
        Incidents with ``x``, ``y`` and (police.uk) ``location``.
    grid : Grid
        The harm-spot grid.
    table : RecordingPoints or None
        None keeps every incident.

    Returns
    -------
    (DataFrame, LeftOut)

    Notes
    -----
    The incidents are removed from the harm (they were not committed at that point) and
    their cells are never listed, so neither the point nor the harm smoothed around it
    makes a patrol spot. One match per distinct location text.
    """
    none = LeftOut(np.zeros(grid.shape, bool), 0, {}, [])
    if table is None or "location" not in hist or not len(hist) or not len(table.active):
        return hist, none
    hit = table.match(hist["location"].to_numpy(object))
    drop = hit >= 0
    if not drop.any():
        return hist, none
    row, col = grid.index(hist["x"].to_numpy(float)[drop], hist["y"].to_numpy(float)[drop])
    ok = row >= 0
    cells = np.zeros(grid.shape, bool)
    cells[row[ok], col[ok]] = True
    places = table.active["place"].to_numpy()
    by_place = pd.Series(places[hit[drop]]).value_counts().sort_index()
    rr, cc = np.nonzero(cells)
    labels = sorted(grid.cell_labels(rr, cc))
    return hist.loc[~drop], LeftOut(cells, int(drop.sum()), {str(k): int(v) for k, v in by_place.items()}, labels)


def left_out_note(left: LeftOut, source: str) -> str | None:
    """The list's note about recording points, or None when nothing was left out."""
    if not left.incidents:
        return None
    places = "; ".join(f"{k} {v}" for k, v in left.by_place.items())
    return (f"{left.incidents:,} incident(s) of the last year were recorded at recording points ({places}), "
            f"where crimes are recorded rather than committed: they are left out of the harm and their "
            f"{len(left.labels)} cell(s) are never listed ({', '.join(left.labels)}). The places are in the "
            f"recording-points table ({source}); it can be edited, or the points kept.")


def map_places(hist: pd.DataFrame) -> pd.DataFrame | None:
    """The distinct location points of ``hist`` with their place text and incident count
    (``x``, ``y``, ``place``, ``n``), the street context of the briefing maps; None
    without location text."""
    if "location" not in hist or not len(hist):
        return None
    text = hist["location"].astype("string").str.strip()
    ok = (text.notna() & (text.str.len() > 0)).to_numpy()
    if not ok.any():
        return None
    frame = pd.DataFrame({"x": hist["x"].to_numpy(float)[ok], "y": hist["y"].to_numpy(float)[ok],
                          "place": text[ok].to_numpy(object)})
    out = frame.value_counts().rename("n").reset_index()
    out["place"] = [place_text(t) for t in out["place"]]
    return out

"""Briefing maps: a district overview where every spot has its own rank label, and
close-ups of the groups of spots with the street names of the police.uk map points.

Labels never overlap: :func:`place_labels` puts each label at the first free position
round its spot (leader lines join the far ones), in display coordinates, and the boxes it
used are returned so a test can check them. No basemap and no tiles: street context comes
from the places the list was made from (police.uk map-point texts, or a streets layer).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np

#: Close-up panels at most, and the largest span (metres) of the spots one close-up shows.
MAX_CLOSEUPS = 3
CLUSTER_SPAN_M = 2500.0
MIN_CLOSEUP_M = 1200.0
MM = 1 / 25.4


@dataclass
class MapFigure:
    """A drawn district map.

    Attributes
    ----------
    png : bytes
    label_boxes : list of list of tuple
        Per panel, the display boxes ``(x0, y0, x1, y1)`` in pixels of the labels drawn
        (rank labels and street names).
    panels : list of str
        Panel titles.
    unlabelled : int
        Spots whose rank found no free place on the overview (0 in every case tested).
    """

    png: bytes
    label_boxes: list = field(default_factory=list)
    panels: list = field(default_factory=list)
    unlabelled: int = 0


def _overlaps(box, boxes, gap: float = 1.0) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] + gap and b[0] < x1 + gap and y0 < b[3] + gap and b[1] < y1 + gap for b in boxes)


def place_labels(points: np.ndarray, sizes: np.ndarray, bounds, obstacles=(), *, rings: int = 14,
                 directions: int = 16) -> list:
    """Positions for labels that overlap neither each other nor ``obstacles``.

    Parameters
    ----------
    points : ndarray, shape (n, 2)
        Anchor of each label (display pixels), in priority order (first placed first).
    sizes : ndarray, shape (n, 2)
        Width and height of each label (pixels).
    bounds : tuple
        ``(x0, y0, x1, y1)`` the labels must stay inside.
    obstacles : list of tuple
        Boxes already taken.
    rings, directions : int
        Candidates: the anchor itself, then ``directions`` positions on each of ``rings``
        rings of growing radius.

    Returns
    -------
    list of tuple or None
        Per label its box ``(x0, y0, x1, y1)`` (centre = label centre), or None when no
        free position was found (the caller leaves that label out or lists it).

    Notes
    -----
    Greedy, O(n^2 x candidates): a few ms for 20 labels.
    """
    taken = list(obstacles)
    out = []
    bx0, by0, bx1, by1 = bounds
    angles = np.linspace(0, 2 * math.pi, directions, endpoint=False) + math.pi / 4
    for (px, py), (w, h) in zip(points, sizes):
        chosen = None
        step = max(w, h) * 0.7
        candidates = [(px, py)] + [(px + r * step * math.cos(a), py + r * step * math.sin(a))
                                   for r in range(1, rings + 1) for a in angles]
        for cx, cy in candidates:
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if box[0] < bx0 or box[1] < by0 or box[2] > bx1 or box[3] > by1:
                continue
            if not _overlaps(box, taken):
                chosen = box
                break
        out.append(chosen)
        if chosen is not None:
            taken.append(chosen)
    return out


def clusters(x: np.ndarray, y: np.ndarray, span_m: float = CLUSTER_SPAN_M) -> np.ndarray:
    """Group spots whose centres lie within ``span_m`` of each other (complete linkage).

    Returns the group of each spot, groups numbered 0, 1, ... by size (largest first)."""
    n = len(x)
    if n < 2:
        return np.zeros(n, int)
    from scipy.cluster.hierarchy import fcluster, linkage

    labels = fcluster(linkage(np.column_stack([x, y]), method="complete"), t=span_m, criterion="distance")
    sizes = {k: int((labels == k).sum()) for k in np.unique(labels)}
    order = sorted(sizes, key=lambda k: (-sizes[k], int(np.flatnonzero(labels == k)[0])))
    remap = {k: i for i, k in enumerate(order)}
    return np.array([remap[k] for k in labels])


def _text_size(ax, renderer, text: str, fontsize: float, bold: bool) -> tuple[float, float]:
    t = ax.text(0, 0, text, fontsize=fontsize, fontweight="bold" if bold else "normal", parse_math=False)
    bb = t.get_window_extent(renderer)
    t.remove()
    return bb.width + 4, bb.height + 2


def _street_lines(ax, streets, extent) -> list:
    """Street lines inside ``extent`` drawn in grey; returns (name, label point) of each
    named street, longest stretch first, for labelling."""
    import shapely

    if streets is None or not len(streets):
        return []
    frame = shapely.box(*extent)
    hits = streets[streets.geometry.intersects(frame)]
    named = {}
    for name, geom in zip(hits["name"], hits.geometry.values):
        part = shapely.intersection(geom, frame)
        for line in getattr(part, "geoms", [part]):
            if line.is_empty or line.geom_type != "LineString":
                continue
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0], xy[:, 1], color="#b0b0b0", linewidth=0.9, zorder=1, solid_capstyle="round")
            text = str(name).strip() if name is not None else ""
            if text and line.length > named.get(text, (0, None))[0]:
                named[text] = (line.length, line.interpolate(0.5, normalized=True))
    return [(n, p) for n, (_, p) in sorted(named.items(), key=lambda kv: -kv[1][0])]


def _draw_panel(ax, renderer, spots, outline, extent, places, *, streets_on: bool, fontsize: float,
                streets=None) -> list:
    """One panel: outline, map points, spots, rank labels (all placed), street names (where free)."""
    from matplotlib import patheffects
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.apply_aspect()
    ax.axis("off")  # no ticks to lay out (the costly part of drawing an axes); a plain frame instead
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="#888888", linewidth=0.8,
                           zorder=9))
    if outline is not None and not outline.is_empty:
        for line in getattr(outline.boundary, "geoms", [outline.boundary]):
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0], xy[:, 1], color="#555555", linewidth=0.8)
    named_streets = _street_lines(ax, streets, extent)
    if places is not None and len(places):
        inside = (places["x"] >= x0) & (places["x"] <= x1) & (places["y"] >= y0) & (places["y"] <= y1)
        p = places[inside]
        ax.scatter(p["x"], p["y"], s=2 + 6 * np.sqrt(p["n"] / max(p["n"].max(), 1)), color="#9a9a9a",
                   linewidths=0, zorder=1)
    span = max(x1 - x0, y1 - y0)
    min_half = span * 0.006  # a spot stays visible however small the scale
    centres = []
    for geom in spots.geometry.values:
        if geom is None or geom.is_empty:
            centres.append((np.nan, np.nan))
            continue
        for part in getattr(geom, "geoms", [geom]):
            xy = np.asarray(part.exterior.coords)
            ax.fill(xy[:, 0], xy[:, 1], facecolor="#e6000080", edgecolor="#a00000", linewidth=0.8, zorder=3)
        c = geom.centroid
        gx0, gy0, gx1, gy1 = geom.bounds
        if max(gx1 - gx0, gy1 - gy0) / 2 < min_half:
            ax.add_patch(Rectangle((c.x - min_half, c.y - min_half), 2 * min_half, 2 * min_half, facecolor="#e60000",
                edgecolor="#700000", linewidth=0.6, zorder=3))
        centres.append((c.x, c.y))
    centres = np.asarray(centres, float).reshape(-1, 2)
    trans = ax.transData
    win = ax.get_window_extent(renderer)
    bounds = (win.x0 + 1, win.y0 + 1, win.x1 - 1, win.y1 - 1)
    ranks = [str(int(r)) for r in spots["rank"]]
    disp = trans.transform(np.nan_to_num(centres)) if len(centres) else np.zeros((0, 2))
    sizes = np.array([_text_size(ax, renderer, r, fontsize, True) for r in ranks]).reshape(-1, 2)
    spot_boxes = [(px - 2, py - 2, px + 2, py + 2) for px, py in disp]
    boxes = place_labels(disp, sizes, bounds)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    inv = trans.inverted()
    drawn = []
    for (px, py), box, rank in zip(disp, boxes, ranks):
        if box is None:
            continue
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        dx, dy = inv.transform((cx, cy))
        if math.hypot(cx - px, cy - py) > 2:
            sx, sy = inv.transform((px, py))
            ax.plot([sx, dx], [sy, dy], color="#333333", linewidth=0.5, zorder=4)
        ax.text(dx, dy, rank, fontsize=fontsize, fontweight="bold", ha="center", va="center", color="#000000",
                path_effects=halo, parse_math=False, zorder=6,
                bbox=dict(boxstyle="square,pad=0.1", facecolor="#ffffff", edgecolor="#a00000", linewidth=0.5))
        drawn.append(box)
    candidates = [(name, pt.x, pt.y) for name, pt in named_streets]
    if places is not None and len(places):
        inside = (places["x"] > x0) & (places["x"] < x1) & (places["y"] > y0) & (places["y"] < y1)
        p = places[inside].sort_values("n", ascending=False).drop_duplicates("place").head(40)
        candidates += list(zip(p["place"], p["x"], p["y"]))
    if streets_on and candidates:
        taken = list(drawn) + spot_boxes
        shown, seen = 0, set()
        for place, x, y in candidates:
            place = str(place)
            if place in seen:
                continue
            seen.add(place)
            if shown >= 10:
                break
            w, h = _text_size(ax, renderer, place, fontsize * 0.75, False)
            px, py = trans.transform((x, y))
            box = place_labels(np.array([[px, py + h / 2 + 2]]), np.array([[w, h]]), bounds, taken, rings=2)[0]
            if box is None:
                continue
            dx, dy = inv.transform(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
            ax.text(dx, dy, place, fontsize=fontsize * 0.75, color="#333333", ha="center", va="center",
                    style="italic", parse_math=False, zorder=5,
                    path_effects=[patheffects.withStroke(linewidth=2, foreground="white")])
            taken.append(box)
            drawn.append(box)
            shown += 1
    return drawn


def _scale_bar(ax, extent) -> None:
    x0, y0, x1, y1 = extent
    span = x1 - x0
    nice = [100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000]
    length = max([n for n in nice if n <= span / 4] or [nice[0]])
    bx, by = x0 + span * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([bx, bx + length], [by, by], color="#000000", linewidth=2, zorder=7, solid_capstyle="butt")
    ax.text(bx + length / 2, by + (y1 - y0) * 0.015, f"{length / 1000:g} km" if length >= 1000 else f"{length} m",
            ha="center", va="bottom", fontsize=6, zorder=7, parse_math=False)


def _square(x0, y0, x1, y1, minimum: float, pad: float) -> tuple:
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0, minimum) / 2 + pad
    return (cx - half, cy - half, cx + half, cy + half)


def district_map(spots, outline=None, places=None, *, streets=None, width_mm: float = 270.0,
                 height_mm: float = 84.0, dpi: int = 150) -> MapFigure:
    """The map of one district's spots for the briefing.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame
        The district's spots (``rank``, polygons) in the working CRS (metres).
    outline : shapely geometry, optional
        The district polygon, same CRS.
    places : pandas.DataFrame, optional
        Street context: ``x``, ``y``, ``place`` (e.g. "High Street") and ``n`` (incidents),
        e.g. the police.uk map points of the last year.
    streets : geopandas.GeoDataFrame, optional
        Named street lines (``name``), drawn in grey and named in the close-ups.
    width_mm, height_mm, dpi

    Returns
    -------
    MapFigure

    Notes
    -----
    Left: the whole district (outline, every spot as a visible square, every rank
    labelled, boxes of the close-ups). Right: up to :data:`MAX_CLOSEUPS` close-ups of the
    largest groups of spots (each at most :data:`CLUSTER_SPAN_M` across, at least
    :data:`MIN_CLOSEUP_M`), with map points and street names. Scale bars; north is up.
    About 0.5-1 s a district (matplotlib Agg, no pyplot).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    spots = spots.sort_values("rank", kind="stable")
    cx = np.array([g.centroid.x for g in spots.geometry.values]) if len(spots) else np.zeros(0)
    cy = np.array([g.centroid.y for g in spots.geometry.values]) if len(spots) else np.zeros(0)
    groups = clusters(cx, cy)
    n_close = int(min(MAX_CLOSEUPS, groups.max() + 1)) if len(groups) else 0
    # one close-up alone when every spot fits in it: the overview adds the district's shape
    fig = Figure(figsize=(width_mm * MM, height_mm * MM), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    widths = [height_mm] + [max((width_mm - height_mm) / max(n_close, 1), 1.0)] * n_close
    axes = fig.subplots(1, 1 + n_close, gridspec_kw={"width_ratios": widths}) if n_close else [fig.subplots()]
    axes = list(np.atleast_1d(axes))
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.01, top=0.92, wspace=0.03)
    if outline is not None and not outline.is_empty:
        ox0, oy0, ox1, oy1 = outline.bounds
    elif len(spots):
        ox0, oy0, ox1, oy1 = spots.total_bounds
    else:
        ox0, oy0, ox1, oy1 = 0.0, 0.0, 1000.0, 1000.0
    boxes, titles = [], ["District: every spot"]
    axes[0].set_title("District: every spot", fontsize=7)
    closeups = []
    for k in range(n_close):
        sel = groups == k
        sub = spots[sel]
        b = sub.total_bounds
        closeups.append((sub, _square(*b, MIN_CLOSEUP_M, 200.0)))
    for _, (ex0, ey0, ex1, ey1) in closeups:  # the overview shows every close-up's box whole
        ox0, oy0, ox1, oy1 = min(ox0, ex0), min(oy0, ey0), max(ox1, ex1), max(oy1, ey1)
    over = _square(ox0, oy0, ox1, oy1, MIN_CLOSEUP_M, 0.03 * max(ox1 - ox0, oy1 - oy0, 1.0))
    boxes.append(_draw_panel(axes[0], renderer, spots, outline, over, places, streets_on=False, fontsize=6.5))
    unlabelled = len(spots) - len(boxes[0])
    _scale_bar(axes[0], over)
    for k, (sub, ext) in enumerate(closeups):
        axes[0].add_patch(Rectangle((ext[0], ext[1]), ext[2] - ext[0], ext[3] - ext[1], fill=False,
                                    edgecolor="#0050c8", linewidth=0.9, zorder=8))
        letter = chr(ord("A") + k)
        w, h = _text_size(axes[0], renderer, letter, 7, True)
        corner = axes[0].transData.transform((ext[0], ext[3]))
        win = axes[0].get_window_extent(renderer)
        box = place_labels(np.array([[corner[0] - w / 2, corner[1] + h / 2]]), np.array([[w, h]]),
                           (win.x0, win.y0, win.x1, win.y1), boxes[0], rings=4)[0]
        if box is not None:  # the letter goes where no rank label is; boxes[0] keeps the overview's labels
            x, y = axes[0].transData.inverted().transform(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
            axes[0].text(x, y, letter, color="#0050c8", fontsize=7, fontweight="bold", ha="center", va="center",
                         parse_math=False, zorder=8)
            boxes[0].append(box)
        ranks = ", ".join(str(int(r)) for r in sub["rank"])
        title = f"Close-up {chr(ord('A') + k)}: spot{'s' if len(sub) > 1 else ''} {ranks}"
        if len(title) > 34:  # the panel is about 60 mm wide
            title = f"Close-up {chr(ord('A') + k)}: {len(sub)} spots, best #{int(sub['rank'].min())}"
        axes[k + 1].set_title(title, fontsize=7)
        titles.append(title)
        boxes.append(_draw_panel(axes[k + 1], renderer, sub, outline, ext, places, streets_on=True, fontsize=7.5,
                                 streets=streets))
        _scale_bar(axes[k + 1], ext)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return MapFigure(buf.getvalue(), boxes, titles, unlabelled)

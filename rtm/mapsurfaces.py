"""Surfaces on the map: a harm surface or a risk terrain on a grid, coloured by classes into a
PNG drawn as an image overlay, with a legend that shows only while its layer is on.

Surfaces are drawn over the box of the grid's four corners in latitude/longitude: the grid
is north-up in a metric CRS (British National Grid, UTM), so the picture is off by a
fraction of a cell at the edges of a district, which does not show at the zooms used.
Class labels never read "Infinity": the lowest class reads "below ..." and the highest
"... and above" where a range is open.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Sequence

import folium
import numpy as np

from .mapgeo import grid_bounds
from .webmap import add_legend

HARM_CMAP = ("#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
"""Harm surface colours, lowest class first (ColorBrewer YlOrRd)."""
RISK_CMAP = ("#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d")
"""Risk terrain colours, lowest class first (ColorBrewer PuBu)."""


def _fmt_break(v: float) -> str:
    return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"


@dataclass
class SurfaceImage:
    """A surface coloured for the map.

    Attributes
    ----------
    png : bytes
        RGBA PNG, one pixel per grid cell (row 0 at the top); clear where there is nothing.
    bounds : list
        ``[[south, west], [north, east]]``.
    legend : list of (label, colour)
        One entry per class, lowest first.
    """

    png: bytes
    bounds: list
    legend: list = field(default_factory=list)

    @property
    def data_uri(self) -> str:
        """The PNG as a ``data:image/png;base64,...`` address."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def class_breaks(values: np.ndarray, n_classes: int = 5) -> np.ndarray:
    """Upper-open class edges of ``values`` (finite values only) at equal-count quantiles.

    Returns the distinct edges ``[min, q1, ..., max]`` (fewer classes when values tie).
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not v.size:
        return np.array([0.0, 0.0])
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n_classes + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    return edges


def _quantile_labels(k: int) -> list[str]:
    """Labels of ``k`` equal-count classes, lowest first: ``lowest 20%`` ... ``highest 20%``."""
    if k == 1:
        return ["all cells with a value"]
    step = 100 / k
    out = []
    for i in range(k):
        lo, hi = 100 - (i + 1) * step, 100 - i * step  # share of cells above
        if i == 0:
            out.append(f"lowest {step:.0f}%")
        elif i == k - 1:
            out.append(f"highest {step:.0f}%")
        else:
            out.append(f"{lo:.0f}-{hi:.0f}% from the top")
    return out


def risk_class_edges(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Class edges and labels of relative risk scores as the RTM risk classes read them
    (:func:`rtm.risk_output.risk_classes`): mean, mean + 1 SD and mean + 2 SD of the finite values.

    Returns ``(edges, labels)``, lowest class first, classes that are empty left out.
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not v.size:
        return np.array([0.0, 0.0]), ["no value"]
    mean, sd = float(v.mean()), float(v.std())
    cuts = [mean, mean + sd, mean + 2 * sd]
    names = ["average or below", "above average", "moderately high", "highest"]
    edges = [float(v.min())] + [c for c in cuts if v.min() < c < v.max()] + [float(v.max())]
    kept = [n for n, c in zip(names, [-np.inf] + cuts) if c == -np.inf or v.min() < c < v.max()]
    labels = [f"{n} ({_fmt_break(lo)}-{_fmt_break(hi)})" for n, lo, hi in zip(kept, edges[:-1], edges[1:])]
    return np.array(edges), labels


def surface_image(grid, values: np.ndarray, *, cmap: str = HARM_CMAP, n_classes: int = 5,
                  positive_only: bool = True, alpha: float = 0.6, classes: str = "quantile") -> SurfaceImage:
    """Colour a surface on ``grid`` by classes for an image overlay.

    Parameters
    ----------
    grid : rtm.grid.Grid
    values : ndarray, shape ``grid.shape``
        The surface; NaN and cells outside ``grid.mask`` stay clear.
    cmap : sequence of str
        Hex colours, lowest class first; sampled evenly when there are fewer classes.
    n_classes : int
        Classes of the ``quantile`` rule.
    positive_only : bool
        Leave cells <= 0 clear and classify only the positive ones (harm surfaces are 0
        over most of an area); False classifies every finite cell (risk scores, lowest 1).
    alpha : float
        Opacity of coloured cells.
    classes : {"quantile", "risk"}
        ``quantile``: equal-count classes labelled by rank (``highest 20%``...), for a harm
        surface whose units mean little to a reader; ``risk``: the RTM risk classes
        (:func:`risk_class_edges`) labelled with their scores.

    Returns
    -------
    SurfaceImage
    """
    from folium.utilities import write_png

    a = np.asarray(values, float)
    if a.shape != grid.shape:
        raise ValueError(f"the surface is {a.shape} but the grid is {grid.shape}")
    show = np.isfinite(a) & np.asarray(grid.mask, bool)
    if positive_only:
        show &= a > 0
    if classes == "risk":
        edges, labels = risk_class_edges(a[show])
    elif classes == "quantile":
        edges = class_breaks(a[show], n_classes)
        labels = _quantile_labels(len(edges) - 1) if len(edges) - 1 == n_classes else \
            [f"{_fmt_break(lo)} to {_fmt_break(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]
    else:
        raise ValueError(f"classes must be 'quantile' or 'risk', not {classes!r}")
    k = max(len(edges) - 1, 1)
    hexes = [cmap[int(round(j))] for j in np.linspace(len(cmap) - k, len(cmap) - 1, k)] if k <= len(cmap) \
        else [cmap[int(j)] for j in np.linspace(0, len(cmap) - 1, k)]
    colours = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in hexes], np.uint8)
    cls = np.clip(np.searchsorted(edges[1:-1], np.where(show, a, edges[0]), side="right"), 0, k - 1)
    rgba = np.zeros(a.shape + (4,), np.uint8)
    rgba[show, :3] = colours[cls[show]]
    rgba[..., 3] = np.where(show, round(255 * alpha), 0)
    legend = [(labels[i], hexes[i]) for i in range(k)] if show.any() else []
    return SurfaceImage(write_png(rgba), grid_bounds(grid), legend)


def add_surface(m: folium.Map, grid, values: np.ndarray, *, name: str, legend_title: str, cmap: Sequence[str],
                positive_only: bool = True, classes: str = "quantile", show: bool = True,
                legend_position: str = "bottomright") -> SurfaceImage | None:
    """Add a surface to ``m`` as an image overlay (its own layer, named ``name``) with a legend
    (highest class first) shown only while the layer is on.

    Returns the :class:`SurfaceImage` drawn (see :func:`surface_image`), or None when the
    surface has no cell to colour: then no layer is added (a layer is offered only where it
    shows something). Costs one pass over the grid and one PNG encoding.
    """
    img = surface_image(grid, values, cmap=cmap, positive_only=positive_only, classes=classes)
    if not img.legend:
        return None
    layer = folium.raster_layers.ImageOverlay(image=img.data_uri, bounds=img.bounds, name=name, opacity=1.0,
                                              interactive=False, cross_origin=False, zindex=2, show=show)
    layer.add_to(m)
    add_legend(m, legend_title, list(reversed(img.legend)), position=legend_position, layer=layer)
    return img

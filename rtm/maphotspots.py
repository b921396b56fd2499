"""Hot spot and patrol dose layers on the map: emerging hot spot classes (:mod:`rtm.emerging`)
and the share of the suggested patrol dose delivered to each spot (:mod:`rtm.dosage`), each
a switchable layer of coloured cells whose legend shows only while the layer is on."""

from __future__ import annotations

import folium
import geopandas as gpd

from .mapgeo import _e, to_wgs84
from .webmap import add_legend

EHSA_COLOURS = {"new": "#fdd49e", "consecutive": "#fdbb84", "intensifying": "#d7301f", "persistent": "#b30000",
                "diminishing": "#fc8d59", "sporadic": "#fee8c8", "oscillating": "#ef6548", "historical": "#7f0000"}
"""Fill of each emerging hot spot class (cold classes take blues of the same order)."""
EHSA_COLD = {"new": "#d0d1e6", "consecutive": "#a6bddb", "intensifying": "#0570b0", "persistent": "#045a8d",
             "diminishing": "#74a9cf", "sporadic": "#ece7f2", "oscillating": "#3690c0", "historical": "#023858"}
DOSE_COLOURS = (("#d7191c", "none"), ("#fdae61", "under a quarter"), ("#ffffbf", "a quarter to half"),
                ("#a6d96a", "half to three quarters"), ("#1a9641", "three quarters or more"))
"""Colours and legend text of the delivered share of dose: none, then quarters."""


def emerging_colour(name: str) -> str:
    """Fill colour of an emerging class name (``"new hot spot"``, ...); grey for no pattern."""
    word = str(name).split(" ")[0]
    table = EHSA_COLD if "cold" in str(name) else EHSA_COLOURS
    return table.get(word, "#bdbdbd")


def _cells_layer(m, frame, *, name, colour_of, tooltip_of, show) -> folium.FeatureGroup:
    """Cells as one switchable layer: a GeoJSON per colour, each with one constant style (the
    per-feature style mapper of folium is not rendered by streamlit-folium's own renderer)."""
    group = folium.FeatureGroup(name=name, show=show)
    ll = to_wgs84(frame[["geometry"]].copy())
    colours = [colour_of(r) for _, r in frame.iterrows()]
    tips = [_e(tooltip_of(r)) for _, r in frame.iterrows()]
    for colour in dict.fromkeys(colours):
        feats = [{"type": "Feature", "geometry": g.__geo_interface__, "properties": {"tooltip": t}}
                 for g, c, t in zip(ll.geometry, colours, tips) if c == colour]
        folium.GeoJson({"type": "FeatureCollection", "features": feats}, zoom_on_click=False,
                       style_function=lambda _f, c=colour: {"color": c, "weight": 0.5, "fillColor": c,
                                                            "fillOpacity": 0.6},
                       tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False)).add_to(group)
    group.add_to(m)
    return group


def add_emerging(m: folium.Map, cells: gpd.GeoDataFrame, *, name: str = "Emerging hot spots",
                 show: bool = False) -> folium.FeatureGroup:
    """Add the cells of :meth:`rtm.emerging.Emerging.frame` coloured by ``ehsa_class`` (only
    cells with a class), with a legend of the classes shown. Returns the layer."""
    cells = cells[cells["ehsa_class"] != "no pattern"]
    layer = _cells_layer(m, cells, name=name, colour_of=lambda r: emerging_colour(r["ehsa_class"]),
                         tooltip_of=lambda r: f"{r['ehsa_class']} ({r['periods_hot']} of {r['periods']} periods hot; "
                                              f"sfhotspot: {r['simple_class']})", show=show)
    present = sorted(set(cells["ehsa_class"]))
    add_legend(m, "Emerging hot spots (harm)", [(c, emerging_colour(c)) for c in present] or
               [("no emerging pattern", "#ffffff")], position="topleft", layer=layer)
    return layer


def dose_colour(share: float) -> str:
    """Colour of a delivered share of dose (0-1): :data:`DOSE_COLOURS`."""
    if not share > 0:
        return DOSE_COLOURS[0][0]
    return DOSE_COLOURS[1 + min(int(share * 4), 3)][0]


def add_dosage(m: folium.Map, spots: gpd.GeoDataFrame, *, name: str = "Patrol dose delivered",
               show: bool = True) -> folium.FeatureGroup:
    """Add spots (``spot_id``, ``share``, ``minutes``, ``visits_of_target``,
    ``suggested_visits``) coloured by the share of the suggested dose delivered. Returns the layer."""
    layer = _cells_layer(m, spots, name=name, colour_of=lambda r: dose_colour(float(r["share"])),
                         tooltip_of=lambda r: f"{r['spot_id']}: {100 * float(r['share']):.0f}% of the dose; "
                                              f"{float(r['minutes']):.0f} min, {int(r['visits_of_target'])} of "
                                              f"{int(r['suggested_visits'])} visits", show=show)
    add_legend(m, "Dose delivered", [(text, colour) for colour, text in reversed(DOSE_COLOURS)],
               position="topleft", layer=layer)
    return layer
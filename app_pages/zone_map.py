"""The List settings page's map for exclusion zones: the districts and the zones in effect,
with Leaflet.draw's polygon and rectangle tools (``folium.plugins.Draw``, its files inlined
from ``static/vendor/leaflet-draw`` by :mod:`rtm.webmap`, so nothing is fetched), and the
polygons drawn read back as a GeoDataFrame."""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import shapely
from folium.plugins import Draw

from rtm.errors import InputError
from rtm.webmap import offline_map

ZONE_STYLE = {"color": "#6a1b9a", "weight": 2, "fillColor": "#ce93d8", "fillOpacity": 0.35}
AREA_STYLE = {"color": "#455a64", "weight": 1.5, "fill": False}


def zone_map(areas, zones, *, tiles: str | None = None, attribution: str | None = None) -> folium.Map:
    """A map of ``areas`` (the districts' GeoDataFrame) and ``zones`` (GeoDataFrame or None),
    both in any CRS, with drawing tools for polygons and rectangles. Takes the basemap as the
    other maps do (None: a plain background). Returns an offline folium map; cost: the
    district outlines simplified to 20 m."""
    outline = areas.to_crs(4326)
    m = offline_map(tiles=tiles, attribution=attribution, zoom_start=11)
    south_west_north_east = outline.total_bounds
    m.fit_bounds([[south_west_north_east[1], south_west_north_east[0]],
                  [south_west_north_east[3], south_west_north_east[2]]])
    simple = areas.assign(geometry=areas.geometry.simplify(20)).to_crs(4326)
    folium.GeoJson(simple[[simple.geometry.name]].__geo_interface__, name="Districts",
                   style_function=lambda _: AREA_STYLE, zoom_on_click=False).add_to(m)
    if zones is not None and len(zones):
        z = zones.to_crs(4326)
        names = z["name"].astype(str) if "name" in z else [""] * len(z)
        # the tooltip is HTML: a typed or uploaded name is escaped, so it shows as written and runs nothing
        z = gpd.GeoDataFrame({"name": [html.escape(n) for n in names]}, geometry=z.geometry.values, crs=4326)
        folium.GeoJson(z.__geo_interface__, name="Exclusion zones", style_function=lambda _: ZONE_STYLE,
                       tooltip=folium.GeoJsonTooltip(["name"], labels=False), zoom_on_click=False).add_to(m)
    Draw(export=False, position="topleft", show_geometry_on_click=False,
         draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                       "polygon": {"allowIntersection": False, "shapeOptions": ZONE_STYLE},
                       "rectangle": {"shapeOptions": ZONE_STYLE}},
         edit_options={"edit": True, "remove": True}).add_to(m)
    return m


def drawn_zones(features, name: str, crs) -> gpd.GeoDataFrame | None:
    """The polygons among ``features`` (GeoJSON features as ``st_folium`` returns them in
    ``all_drawings``), named ``name`` (``name 1``, ``name 2``... when several), made valid and
    put in ``crs``; None when there are none. InputError for a shape that is not a polygon."""
    polys = []
    for f in features or []:
        geom = shapely.geometry.shape((f or {}).get("geometry") or {"type": "GeometryCollection", "geometries": []})
        if geom.is_empty:
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError("the map", f"a drawn {geom.geom_type.lower()} cannot be an exclusion zone",
                             "draw zones with the polygon or rectangle tool")
        polys.append(shapely.make_valid(geom))
    if not polys:
        return None
    names = [name] if len(polys) == 1 else [f"{name} {i + 1}" for i in range(len(polys))]
    return gpd.GeoDataFrame({"name": names}, geometry=polys, crs=4326).to_crs(crs)

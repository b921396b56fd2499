"""GPX 1.1 for patrol GPS devices and apps (gpxpy): a waypoint per spot and its square as a route."""

from __future__ import annotations

import numpy as np

from .kml import xml_text
from .table import ExportTable, key_facts, spot_name


def gpx_bytes(table: ExportTable) -> bytes:
    """The spots as GPX.

    Returns
    -------
    bytes
        GPX 1.1 (UTF-8): per spot a waypoint at its centre, named ``District #rank
        location``, its description the key facts (grid reference, streets, crimes,
        patrol dose, peak times) and its type the district; and a route of the same name
        round the spot's outline (the square, closed), so a device can draw it. Metadata
        name: product and period.

    Notes
    -----
    GPX has no polygon: a closed route is how devices show an area. Merged spots of
    several squares give the outline of each part as its own route.
    """
    import gpxpy.gpx

    prov = table.provenance
    gpx = gpxpy.gpx.GPX()
    gpx.name = xml_text(" ".join(str(prov.get(k, "")) for k in ("product", "period")).strip() or "Harm spots")
    gpx.description = "Harm spots: one waypoint per spot centre and a route round each spot."
    gpx.creator = xml_text(prov.get("software", "rtm-harmspots"))
    wgs = table.geodataframe(4326)
    for i, row in enumerate(table.frame.to_dict("records")):
        name = xml_text(spot_name(row))
        desc = xml_text("; ".join(f"{k}: {v}" for k, v in key_facts(row, prov) if k in
                         ("Grid reference", "Streets", "Crimes", "Patrol dose", "Peak times", "Why")))
        gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(latitude=round(float(row["lat"]), 7),
                                                   longitude=round(float(row["lon"]), 7), name=name,
                                                   description=desc, type=xml_text(row["district"])))
        geom = wgs.geometry.iloc[i] if len(wgs) else None
        if geom is None or geom.is_empty:
            continue
        for part in getattr(geom, "geoms", [geom]):
            route = gpxpy.gpx.GPXRoute(name=name, description=f"outline of {name}")
            for x, y in np.asarray(part.exterior.coords)[:, :2]:
                route.points.append(gpxpy.gpx.GPXRoutePoint(latitude=round(float(y), 7), longitude=round(float(x), 7)))
            gpx.routes.append(route)
    return gpx.to_xml(version="1.1").encode("utf-8")

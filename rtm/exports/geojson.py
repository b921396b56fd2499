"""GeoJSON (RFC 7946, WGS84) of the spots, written by GDAL."""

from __future__ import annotations

import io
import json

from .table import ExportTable
from .text import provenance_json

LAYER = "harm_spots"
LONLAT_DECIMALS = 7  # 1e-7 degree is about 1 cm


def geojson_bytes(table: ExportTable) -> bytes:
    """The spots as an RFC 7946 FeatureCollection.

    Returns
    -------
    bytes
        GDAL's GeoJSON driver (pyogrio) in RFC 7946 mode: counter-clockwise exterior
        rings, coordinates to :data:`LONLAT_DECIMALS` decimals, the prepared columns as
        properties (integers as integers, missing floats ``null``) and the provenance as
        the top-level member ``"provenance"``. The same table gives the same bytes.

    Notes
    -----
    GeoJSON has no schema: a reader infers each field's type from its values, so a
    column that is empty in every spot (e.g. ``previous_rank`` in a first week) reads
    as a string field. The GeoPackage keeps declared types.
    """
    import pyogrio

    gdf = table.geodataframe(4326)
    members = json.dumps({"provenance": json.loads(provenance_json(table.provenance))}, ensure_ascii=False)
    buf = io.BytesIO()
    pyogrio.write_dataframe(gdf, buf, driver="GeoJSON", layer=LAYER, geometry_type=None if len(gdf) else "Polygon",
                            RFC7946="YES", COORDINATE_PRECISION=LONLAT_DECIMALS, WRITE_NAME="YES",
                            FOREIGN_MEMBERS_COLLECTION=members)
    return buf.getvalue()

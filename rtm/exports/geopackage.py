"""GeoPackage 1.2 of the spots with the provenance and a QGIS default style inside."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from .styles import spots_qml
from .table import ExportTable
from .text import prov_lines, provenance_json

LAYER = "harm_spots"
#: GeoPackage version written: 1.2 opens without warnings in GDAL 3.6 / QGIS 3.22 and is
#: listed by ArcGIS Pro before 3.5 (GDAL's default, 1.4, is not).
GPKG_VERSION = "1.2"


def geopackage_bytes(table: ExportTable) -> bytes:
    """The spots as an OGC GeoPackage, version :data:`GPKG_VERSION`, in the working CRS.

    Returns
    -------
    bytes
        Tables:

        * ``harm_spots``: MultiPolygons with the prepared columns and their declared types
          (the same every week); GDAL layer metadata ``PROVENANCE`` (JSON) and
          ``DESCRIPTION`` (product and period).
        * ``provenance``: ``key``, ``value`` rows.
        * ``layer_styles``: QGIS's default style of ``harm_spots`` (red squares, rank labels).

    Notes
    -----
    Written to a temporary file and read back (GDAL needs a real file for several
    tables). Not byte-identical between runs: GeoPackage records the write time.
    """
    import pyogrio

    prov = table.provenance
    description = " ".join(str(prov.get(k, "")) for k in ("product", "period")).strip()
    metadata = {"PROVENANCE": provenance_json(prov)}
    if description:
        metadata["DESCRIPTION"] = description
    qml = spots_qml()
    styles = pd.DataFrame({"f_table_catalog": [""], "f_table_schema": [""], "f_table_name": [LAYER],
                           "f_geometry_column": ["geom"], "styleName": ["harm spots"], "styleQML": [qml],
                           "styleSLD": [""], "useAsDefault": [True], "description": ["red squares, rank labels"],
                           "owner": [""], "ui": [""], "update_time": [pd.Timestamp("2000-01-01")]})
    with tempfile.TemporaryDirectory(prefix="rtm-gpkg-") as tmp:
        path = Path(tmp) / "export.gpkg"
        pyogrio.write_dataframe(table.geodataframe(), path, driver="GPKG", layer=LAYER, geometry_type="MultiPolygon",
                                promote_to_multi=True, layer_metadata=metadata,
                                dataset_options={"VERSION": GPKG_VERSION})
        pyogrio.write_dataframe(pd.DataFrame(prov_lines(prov), columns=["key", "value"]), path, driver="GPKG",
                                layer="provenance")
        pyogrio.write_dataframe(styles, path, driver="GPKG", layer="layer_styles")
        return path.read_bytes()

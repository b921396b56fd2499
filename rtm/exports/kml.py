"""KML 2.2 for Google Earth, phones and in-car units: per spot a pin at its centre and its
square, typed attributes (a Schema), one folder per district."""

from __future__ import annotations

import html
import math
import re
import xml.etree.ElementTree as ET

import numpy as np

from .table import COLUMNS, ExportTable, district_label, key_facts, spot_name
from .text import prov_lines

LONLAT_DECIMALS = 7
SCHEMA_ID = "harm_spot"
_NS = "http://www.opengis.net/kml/2.2"
# Characters XML 1.0 cannot carry (C0 controls other than tab, LF, CR; lone surrogates; U+FFFE/F).
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TYPES = {"text": "string", "int": "int", "float": "double", "bool": "bool"}


def xml_text(value) -> str:
    """Text XML 1.0 can carry: characters it forbids become U+FFFD."""
    return _XML_INVALID.sub("\ufffd", str(value))


def _sub(parent, tag: str, text=None, **attrib):
    el = ET.SubElement(parent, f"{{{_NS}}}{tag}", {k: xml_text(v) for k, v in attrib.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def _value(value, kind: str) -> str | None:
    if kind == "float":
        return repr(float(value)) if math.isfinite(value) else None
    if kind == "int":
        return str(int(value))
    if kind == "bool":
        return "1" if value else "0"
    return str(value)


def _ring(ring) -> str:
    return " ".join(f"{x:.{LONLAT_DECIMALS}f},{y:.{LONLAT_DECIMALS}f}" for x, y in np.asarray(ring.coords)[:, :2])


def _polygons(parent, geom) -> None:
    import shapely

    if geom is None or geom.is_empty:
        return
    geom = shapely.orient_polygons(geom)  # exterior counter-clockwise, holes clockwise
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type == "Polygon"]
    target = _sub(parent, "MultiGeometry") if len(parts) > 1 else parent
    for part in parts:
        el = _sub(target, "Polygon")
        _sub(el, "tessellate", "1")
        _sub(_sub(_sub(el, "outerBoundaryIs"), "LinearRing"), "coordinates", _ring(part.exterior))
        for hole in part.interiors:
            _sub(_sub(_sub(el, "innerBoundaryIs"), "LinearRing"), "coordinates", _ring(hole))


def _data(mark, row) -> None:
    data = _sub(_sub(mark, "ExtendedData"), "SchemaData", schemaUrl=f"#{SCHEMA_ID}")
    for c, v in zip(COLUMNS, row):
        text = _value(v, c.kind)
        if text is not None:
            _sub(data, "SimpleData", text, name=c.name)


def kml_bytes(table: ExportTable) -> bytes:
    """The spots as KML 2.2.

    Returns
    -------
    bytes
        UTF-8 XML: a ``Document`` (named by product and period; its description and
        ``ExtendedData`` hold the provenance) with a ``Schema`` declaring every column's
        type (``int``, ``double``, ``string``, ``bool``), a pin style and a square style,
        and one ``Folder`` per district. Each spot has two placemarks, both named
        ``District #rank location`` and carrying the typed ``SchemaData``: a pin at the
        spot's centre (with an HTML description of the key facts) and the square.
        Coordinates ``lon,lat`` to :data:`LONLAT_DECIMALS` decimals.

    Notes
    -----
    Written with ElementTree (all text escaped; descriptions HTML-escaped too, as viewers
    render them as HTML; characters XML forbids become U+FFFD). GDAL reads every folder
    as a layer: the pins are its Point features, one per spot.
    """
    ET.register_namespace("", _NS)
    prov = table.provenance
    root = ET.Element(f"{{{_NS}}}kml")
    doc = _sub(root, "Document")
    _sub(doc, "name", " ".join(str(prov.get(k, "")) for k in ("product", "period")).strip() or "Harm spots")
    _sub(doc, "description", "<br/>".join(f"<b>{html.escape(k)}</b>: {html.escape(v)}" for k, v in prov_lines(prov)))
    extended = _sub(doc, "ExtendedData")
    for key, value in prov_lines(prov):
        _sub(_sub(extended, "Data", name=key), "value", value)
    schema = _sub(doc, "Schema", name=SCHEMA_ID, id=SCHEMA_ID)
    for c in COLUMNS:
        field = _sub(schema, "SimpleField", name=c.name, type=_TYPES[c.kind])
        _sub(field, "displayName", table.titles[c.name])
    pin = _sub(doc, "Style", id="pin")
    icon = _sub(pin, "IconStyle")
    _sub(icon, "color", "ff0000e6")
    _sub(_sub(icon, "Icon"), "href", "http://maps.google.com/mapfiles/kml/paddle/red-circle.png")
    square = _sub(doc, "Style", id="square")
    line = _sub(square, "LineStyle")
    _sub(line, "color", "ff0000e6")
    _sub(line, "width", "2")
    _sub(_sub(square, "PolyStyle"), "color", "590000e6")

    gdf = table.geodataframe(4326)
    folders: dict[str, ET.Element] = {}
    for i, row in enumerate(table.frame.itertuples(index=False, name=None)):
        record = dict(zip(table.frame.columns, row))
        district = record["district"]
        if district not in folders:
            folders[district] = _sub(doc, "Folder")
            _sub(folders[district], "name", district_label(district) or "Harm spots")
        name = spot_name(record)
        mark = _sub(folders[district], "Placemark")
        _sub(mark, "name", name)
        _sub(mark, "styleUrl", "#pin")
        _sub(mark, "description", "<br/>".join(f"<b>{html.escape(k)}</b>: {html.escape(v)}"
                                               for k, v in key_facts(record, prov)))
        _data(mark, row)
        point = _sub(mark, "Point")
        _sub(point, "coordinates", f"{record['lon']:.{LONLAT_DECIMALS}f},{record['lat']:.{LONLAT_DECIMALS}f}")
        geom = gdf.geometry.iloc[i] if len(gdf) else None
        if geom is not None and not geom.is_empty:
            area = _sub(folders[district], "Placemark")
            _sub(area, "name", name)
            _sub(area, "styleUrl", "#square")
            _data(area, row)
            _polygons(area, geom)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"

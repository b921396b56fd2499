"""QGIS styles (QML) so the list and the rasters open styled.

Written as ``<stem>.qml`` sidecars (QGIS applies a same-named ``.qml`` when it loads a file)
and, for the GeoPackage, as its ``layer_styles`` table (QGIS's default style of a layer).
Symbology uses the ``<prop>`` form every QGIS 3 reads.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import numpy as np

_HEAD = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


def _props(props: dict) -> str:
    return "".join(f"<prop k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in props.items())


def spots_qml(label_field: str = "rank") -> str:
    """Spot polygons: translucent red fill, dark red outline, the rank as a haloed label."""
    fill = _props({"color": "230,0,0,90", "outline_color": "160,0,0,255", "outline_style": "solid",
                   "outline_width": "0.6", "outline_width_unit": "MM", "style": "solid",
                   "joinstyle": "miter"})
    return (_HEAD + '<qgis version="3.22.0" styleCategories="Symbology|Labeling">'
            '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
            '<symbols><symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" pass="0" locked="0">{fill}</layer>'
            '</symbol></symbols><rotation/><sizescale/></renderer-v2>'
            '<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName={quoteattr(label_field)} isExpression="0" fontFamily="Sans Serif" fontSize="10" '
            'fontSizeUnit="Point" fontWeight="75" textColor="0,0,0,255" textOpacity="1" namedStyle="Bold">'
            '<text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" '
            'bufferOpacity="1"/></text-style>'
            '<placement placement="1" dist="0" offsetType="0" priority="5"/>'
            '<rendering obstacle="1" displayAll="1" upsidedownLabels="0" scaleVisibility="0"/>'
            '</settings></labeling>'
            '<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode><layerOpacity>1</layerOpacity>'
            '</qgis>\n')


#: Yellow to dark red, for risk and harm.
RAMP = ["255,255,204", "254,217,118", "253,141,60", "227,26,28", "128,0,38"]


def raster_qml(values, band: int = 1, ramp=RAMP, label: str = "") -> str:
    """A single-band pseudocolour style, classes at the quantiles of ``values`` (finite ones).

    Parameters
    ----------
    values : ndarray
        The band's values (NaN ignored); the class breaks are its 20/40/60/80/100 %
        quantiles, so the highest fifth of the cells shows dark red.
    band : int
    ramp : list of "r,g,b"
    label : str
        Legend prefix (e.g. "RRS").
    """
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if not v.size:
        v = np.array([0.0, 1.0])
    qs = np.quantile(v, np.linspace(0, 1, len(ramp) + 1))
    items = "".join(f'<item alpha="255" value="{qs[i + 1]:.6g}" color="#{"".join(f"{int(c):02x}" for c in col.split(","))}" '
                    f'label={quoteattr(f"{label} {qs[i]:.3g} - {qs[i + 1]:.3g}".strip())}/>'
                    for i, col in enumerate(ramp))
    return (_HEAD + '<qgis version="3.22.0" styleCategories="Symbology">'
            '<pipe><rasterrenderer type="singlebandpseudocolor" opacity="1" alphaBand="-1" '
            f'band="{band}" classificationMin="{qs[0]:.6g}" classificationMax="{qs[-1]:.6g}">'
            '<rasterTransparency/><minMaxOrigin><limits>None</limits><extent>WholeRaster</extent></minMaxOrigin>'
            f'<rastershader><colorrampshader colorRampType="DISCRETE" classificationMode="2" clip="0">{items}'
            '</colorrampshader></rastershader></rasterrenderer>'
            '<brightnesscontrast brightness="0" contrast="0"/><huesaturation saturation="0" colorizeOn="0"/>'
            '<rasterresampler maxOversampling="2"/></pipe><blendMode>0</blendMode></qgis>\n')

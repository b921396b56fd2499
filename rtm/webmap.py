"""Folium maps that work with no internet connection.

folium asks the browser to fetch Leaflet, jQuery, Bootstrap, Font Awesome and
Leaflet.awesome-markers from public CDNs, and ``streamlit_folium.st_folium`` passes those
addresses on unchanged, so on a machine with no internet the map is silently blank.

Here every script and stylesheet a map needs is taken from ``static/vendor/`` (Leaflet
1.9.3 and jQuery 3.7.1, the versions folium 0.20 names; see ``static/vendor/README.md``)
and inlined as ``data:`` URIs. ``st_folium`` loads them like any other link, a saved HTML
file carries them with it, and no web server setting is involved. Bootstrap, Font Awesome
and the awesome-markers plugin are dropped: GeoJSON layers, popups, tooltips, the layer
control, image overlays, circle markers and plain markers do not use them (popups do use
jQuery, hence it is kept).

Use :func:`offline_map` instead of ``folium.Map``. Elements added to it later are made
offline when it is rendered; an element that would still fetch something from outside
(a folium plugin whose scripts are not vendored, an awesome-markers ``folium.Icon``, a
``branca`` colormap) raises :class:`OfflineAssetError` instead of rendering a map that
breaks without internet. :func:`external_urls` lists the outside addresses left in a
rendered page; the tests use it.
"""

from __future__ import annotations

import base64
import html as html_lib
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Sequence
from urllib.parse import unquote_to_bytes, urlsplit

import branca.colormap
import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

VENDOR_DIR = Path(__file__).resolve().parents[1] / "static" / "vendor"
"""Where the vendored browser files live (rebuilt by ``static/vendor/fetch_assets.py``)."""

LOCAL_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
"""Hosts that never count as outside."""

NOT_FETCHED: frozenset[str] = frozenset({
    # XML namespace names: identifiers that a browser never requests
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/1999/xlink",
    # ... and those in the metadata of Leaflet.draw's sprite sheet (an Inkscape SVG)
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://creativecommons.org/ns#",
    "http://purl.org/dc/dcmitype/StillImage",
    "http://purl.org/dc/elements/1.1/",
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://www.inkscape.org/namespaces/inkscape",
    # Leaflet's banner comment and the link in its attribution prefix: text and a link a
    # user could click, never a request made by the page
    "https://leafletjs.com",
    # Leaflet.draw's banner comment and the text of one of its error messages
    "http://leafletjs.com",
    "https://github.com/Leaflet/Leaflet.draw",
    "https://github.com/Leaflet/Leaflet/",
})
"""Addresses :func:`external_urls` ignores because a browser does not fetch them."""

DEFAULT_BACKGROUND = "#f4f4f1"


class OfflineAssetError(RuntimeError):
    """A map element would need a script, stylesheet or font from outside the machine."""


# folium's link names -> the vendored replacement (a key of _data_uris()), or None to drop.
_JS = {"leaflet": "leaflet_js", "jquery": "jquery_js", "bootstrap": None, "awesome_markers": None}
_CSS = {"leaflet_css": "leaflet_css", "bootstrap_css": None, "glyphicons_css": None,
        "awesome_markers_font_css": None, "awesome_markers_css": None, "awesome_rotate_css": None}
# folium.plugins.Draw's files (Leaflet.draw), read only for a map that draws (_draw_uris())
_DRAW = {"leaflet_draw_js": "draw_js", "leaflet_draw_css": "draw_css"}
# run straight after leaflet.js: default marker images from the inlined files, not a path
_ICON_SETUP = "rtm_leaflet_icons"


def _read(rel: str) -> bytes:
    path = VENDOR_DIR / rel
    if not path.is_file():
        raise OfflineAssetError(f"{path} is missing: run `python3 static/vendor/fetch_assets.py`")
    return path.read_bytes()


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@lru_cache(maxsize=1)
def _data_uris() -> dict[str, str]:
    """The vendored files as ``data:`` URIs, keyed by role; read once per process.

    Takes nothing. Returns a dict with ``leaflet_js``, ``leaflet_css`` (its images inlined),
    ``jquery_js`` and ``icons_js`` (sets Leaflet's default marker images).
    """
    png = {name: _data_uri("image/png", _read(f"leaflet/images/{name}"))
           for name in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png",
                        "marker-shadow.png")}
    css = _read("leaflet/leaflet.css").decode("utf-8")
    css = re.sub(r"url\(images/([\w.-]+\.png)\)", lambda m: f'url("{png[m.group(1)]}")', css)
    if "images/" in css:
        raise OfflineAssetError("leaflet.css names an image that is not vendored")
    icons = (
        "L.Icon.Default.imagePath = '';\n"
        f"L.Icon.Default.mergeOptions({{iconUrl: '{png['marker-icon.png']}', "
        f"iconRetinaUrl: '{png['marker-icon-2x.png']}', shadowUrl: '{png['marker-shadow.png']}'}});\n"
    )
    return {
        "leaflet_js": _data_uri("text/javascript", _read("leaflet/leaflet.js")),
        "leaflet_css": _data_uri("text/css", css.encode("utf-8")),
        "jquery_js": _data_uri("text/javascript", _read("jquery/jquery.min.js")),
        "icons_js": _data_uri("text/javascript", icons.encode("utf-8")),
    }


@lru_cache(maxsize=1)
def _draw_uris() -> dict[str, str]:
    """Leaflet.draw (``static/vendor/leaflet-draw``) as ``data:`` URIs: ``draw_js`` and
    ``draw_css`` (its sprite images inlined). Read once per process, and only when a map
    has drawing tools (``folium.plugins.Draw``)."""
    images = {"spritesheet.png": "image/png", "spritesheet-2x.png": "image/png", "spritesheet.svg": "image/svg+xml"}
    uris = {name: _data_uri(mime, _read(f"leaflet-draw/images/{name}")) for name, mime in images.items()}
    css = _read("leaflet-draw/leaflet.draw.css").decode("utf-8")
    css = re.sub(r"""url\(['"]?images/([\w.-]+)['"]?\)""", lambda m: f'url("{uris[m.group(1)]}")', css)
    if "images/" in css:
        raise OfflineAssetError("leaflet.draw.css names an image that is not vendored")
    return {"draw_js": _data_uri("text/javascript", _read("leaflet-draw/leaflet.draw.js")),
            "draw_css": _data_uri("text/css", css.encode("utf-8"))}


def _is_outside(url: str) -> bool:
    """True when ``url`` (absolute http(s) or protocol-relative) points at a non-loopback host."""
    if url.startswith("//"):
        url = "http:" + url
    if not url.lower().startswith(("http://", "https://")):
        return False
    host = (urlsplit(url).hostname or "").lower()
    return host not in LOCAL_HOSTS


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def make_offline(element: Element) -> Element:
    """Point every script and stylesheet of ``element``'s whole figure at the vendored files.

    Takes any folium/branca element (usually the map; the whole tree from its root figure is
    handled, so elements added later are covered when this runs again). Rewrites each
    element's ``default_js``/``default_css`` on the instance: Leaflet and jQuery become inlined
    ``data:`` URIs, Bootstrap/Font Awesome/awesome-markers are dropped. Links that are already
    local (``data:``, relative, loopback) are kept. :class:`OfflineMap` calls this on every
    render; call it yourself on a ``FeatureGroup`` passed to ``st_folium(feature_group_to_add=)``.

    Returns ``element``. Raises :class:`OfflineAssetError` for anything that would still need
    the internet: an unknown outside link, a ``folium.Icon`` (awesome-markers and Font Awesome
    are not bundled: use ``folium.CircleMarker``, a plain ``folium.Marker`` or
    ``folium.DivIcon``), or a ``branca`` colormap (``st_folium`` adds d3 from two CDNs for
    them: use :func:`add_legend`).
    """
    uris = _data_uris()
    root = element.get_root()
    for el in _walk(root):
        if isinstance(el, folium.Icon):
            raise OfflineAssetError("folium.Icon needs Leaflet.awesome-markers and Font Awesome, "
                                    "which are not bundled: use folium.CircleMarker, a plain "
                                    "folium.Marker or folium.DivIcon")
        if isinstance(el, branca.colormap.ColorMap):
            raise OfflineAssetError("branca colormaps make st_folium load d3 from a CDN: "
                                    "use rtm.webmap.add_legend instead")
        if not isinstance(el, JSCSSMixin):
            continue
        js: list[tuple[str, str]] = []
        for name, url in el.default_js:
            if name == _ICON_SETUP:
                continue  # re-added after leaflet below
            if name in _DRAW:
                js.append((name, _draw_uris()[_DRAW[name]]))
            elif name in _JS:
                if _JS[name] is not None:
                    js.append((name, uris[_JS[name]]))
                    if name == "leaflet":
                        js.append((_ICON_SETUP, uris["icons_js"]))
            elif _is_outside(url):
                raise OfflineAssetError(f"{type(el).__name__} loads {name!r} from {url}, which is "
                                        "not vendored: vendor it in static/vendor or drop the element")
            else:
                js.append((name, url))
        css: list[tuple[str, str]] = []
        for name, url in el.default_css:
            if name in _DRAW:
                css.append((name, _draw_uris()[_DRAW[name]]))
            elif name in _CSS:
                if _CSS[name] is not None:
                    css.append((name, uris[_CSS[name]]))
            elif _is_outside(url):
                raise OfflineAssetError(f"{type(el).__name__} loads {name!r} from {url}, which is "
                                        "not vendored: vendor it in static/vendor or drop the element")
            else:
                css.append((name, url))
        el.default_js = js
        el.default_css = css
    return element


class OfflineMap(folium.Map):
    """A ``folium.Map`` that runs :func:`make_offline` over its figure each time it is rendered."""

    def render(self, **kwargs):
        """Make the figure offline, then render as ``folium.Map`` does."""
        make_offline(self)
        return super().render(**kwargs)


class _Background(MacroElement):
    """Sets the map's background colour (what shows where there are no tiles)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.getContainer().style.background = {{ this.colour|tojson }};
        {% endmacro %}
    """)

    def __init__(self, colour: str):
        super().__init__()
        self._name = "Background"
        self.colour = colour


def offline_map(
    location: Sequence[float] | None = None,
    zoom_start: int = 12,
    tiles: str | None = None,
    attribution: str | None = None,
    background: str | None = DEFAULT_BACKGROUND,
    tiles_name: str = "Basemap",
    tile_options: dict | None = None,
    **kw,
) -> OfflineMap:
    """Make a folium map whose every script and stylesheet comes from the app itself.

    Takes ``location`` ([lat, lon]; None leaves it to ``fit_bounds`` later), ``zoom_start``,
    ``tiles``: None for no basemap (a plain ``background`` colour), or an XYZ URL template
    with ``{z}``, ``{x}`` and ``{y}`` (for example a force's internal tile server,
    ``https://tiles.force.internal/{z}/{x}/{y}.png``) together with ``attribution`` (required
    then), ``background`` (CSS colour or None for Leaflet's grey), ``tiles_name`` (the
    basemap's name in a layer control), ``tile_options`` (more ``folium.TileLayer`` options,
    e.g. ``max_native_zoom`` and ``bounds`` of a local tile set) and any other ``folium.Map`` keyword (``width``,
    ``height``, ``min_zoom``, ``max_zoom``, ``control_scale``, ``prefer_canvas``...).

    Returns an :class:`OfflineMap`. Named folium tile sets ("OpenStreetMap", ...) are refused
    with ``ValueError``: they are outside servers.
    """
    if "attr" in kw:
        raise TypeError("use attribution=, not attr=")
    m = OfflineMap(location=location, zoom_start=zoom_start, tiles=None, **kw)
    if tiles is not None:
        if not all(part in tiles for part in ("{z}", "{x}", "{y}")):
            raise ValueError(f"tiles must be an XYZ URL template with {{z}}, {{x}} and {{y}}, not {tiles!r}")
        if not attribution:
            raise ValueError("a tile server needs its attribution text (attribution=...)")
        folium.TileLayer(tiles=tiles, attr=attribution, name=tiles_name, **(tile_options or {})).add_to(m)
    if background:
        _Background(background).add_to(m)
    return m


class Legend(MacroElement):
    """A legend box on the map: a title and one colour swatch per label (a Leaflet control).

    With a ``layer`` the legend shows only while that layer is on the map: it follows the
    map's ``layeradd``/``layerremove`` events (fired when the layer control switches it, and
    when the control hides a layer that starts switched off). While a popup is open the legend
    is hidden, so it never covers the popup (Leaflet draws controls above popups).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
            {{ this.get_name() }}.onAdd = function () {
                var div = L.DomUtil.create('div', 'rtm-legend leaflet-bar');
                div.style.background = 'white';
                div.style.padding = '6px 8px';
                div.style.font = '12px/1.4 sans-serif';
                div.innerHTML = {{ this.inner_html|tojson }};
                return div;
            };
            (function (legend) {  // out of a popup's way while it is open
                function show(how) { var c = legend.getContainer(); if (c) { c.style.visibility = how; } }
                {{ this._parent.get_name() }}.on('popupopen', function () { show('hidden'); });
                {{ this._parent.get_name() }}.on('popupclose', function () { show(''); });
            })({{ this.get_name() }});
            {%- if this.layer_name %}
            (function (legend, map, layer) {
                if (map.hasLayer(layer)) { legend.addTo(map); }
                map.on('layeradd', function (e) { if (e.layer === layer) { legend.addTo(map); } });
                map.on('layerremove', function (e) { if (e.layer === layer) { legend.remove(); } });
            })({{ this.get_name() }}, {{ this._parent.get_name() }}, {{ this.layer_name }});
            {%- else %}
            {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
            {%- endif %}
        {% endmacro %}
    """)

    def __init__(self, title: str, items: Iterable[tuple[str, str]], position: str = "bottomright",
                 layer: Element | None = None):
        super().__init__()
        self._name = "Legend"
        self.position = position
        self.layer_name = layer.get_name() if layer is not None else None
        rows = "".join(
            '<div><span style="display:inline-block;width:12px;height:12px;margin-right:6px;'
            f'vertical-align:middle;border:1px solid #555;background:{html_lib.escape(colour, quote=True)}">'
            f'</span>{html_lib.escape(label)}</div>'
            for label, colour in items)
        self.inner_html = f"<strong>{html_lib.escape(title)}</strong>{rows}"


def add_legend(m: folium.Map, title: str, items: Iterable[tuple[str, str]],
               position: str = "bottomright", layer: Element | None = None) -> Legend:
    """Add a legend to ``m``.

    Takes the map, a ``title``, ``items`` as (label, CSS colour) pairs, in order, a Leaflet
    control ``position`` ("topright", "bottomleft", ...) and optionally the ``layer`` it
    describes (added to ``m`` before the legend): then the legend shows only while that
    layer is on. Labels and title are HTML-escaped. Returns the :class:`Legend` element
    (already added).
    """
    return Legend(title, items, position, layer).add_to(m)


_URL = re.compile(r"""https?://[^\s"'<>()\\`,;{}\[\]]+""", re.IGNORECASE)
_PROTOCOL_RELATIVE = re.compile(r"""(?:\bsrc|\bhref|url\()\s*=?\s*["']?(//[^\s"'<>()]+)""", re.IGNORECASE)
_DATA_URI = re.compile(r"""data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[\w.-]+)*)(;base64)?,([^\s"'<>)`]*)""")


def _decoded_data_uris(text: str) -> Iterator[str]:
    """The text of each textual (JS, CSS, HTML, SVG, JSON) ``data:`` URI in ``text``."""
    for m in _DATA_URI.finditer(text):
        mime = (m.group(1) or "text/plain").lower()
        if not (mime.startswith("text/") or mime.endswith(("javascript", "json", "xml", "+xml"))):
            continue
        payload = m.group(4)
        try:
            raw = base64.b64decode(payload + "=" * (-len(payload) % 4)) if m.group(3) else unquote_to_bytes(payload)
            body = raw.decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if mime == "text/css":
            body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)  # CSS comments are never fetched
        yield body
        yield from _decoded_data_uris(body)


def external_urls(html: str, allowed_hosts: Iterable[str] = ()) -> list[str]:
    """List the outside addresses a rendered page names.

    Takes the page's HTML (``m.get_root().render()``, or anything else) and extra
    ``allowed_hosts`` (for example an internal tile server's host name). Scans the text and
    the decoded contents of textual ``data:`` URIs for ``http://``, ``https://`` and
    protocol-relative (``src="//host/..."``) addresses.

    Returns the sorted, de-duplicated addresses whose host is not loopback (``localhost``,
    ``127.0.0.1``, ``::1``) nor in ``allowed_hosts``, leaving out :data:`NOT_FETCHED`
    (XML namespace names and Leaflet's own link, which a browser never requests). An empty
    list means the page names nothing outside the machine.
    """
    allowed = {h.lower() for h in allowed_hosts} | set(LOCAL_HOSTS)
    texts = [html, *_decoded_data_uris(html)]
    found: set[str] = set()
    for text in texts:
        candidates = [u.rstrip(".") for u in _URL.findall(text)]
        candidates += ["http:" + u for u in _PROTOCOL_RELATIVE.findall(text)]
        for url in candidates:
            if url in NOT_FETCHED or url.rstrip("/") in NOT_FETCHED:
                continue
            try:
                host = (urlsplit(url).hostname or "").lower()
            except ValueError:
                host = ""
            if host not in allowed:
                found.add(url)
    return sorted(found)


def render_html(m: folium.Map) -> str:
    """The complete standalone HTML page for ``m`` (what ``m.save()`` writes). Takes a map; returns a str."""
    return m.get_root().render()

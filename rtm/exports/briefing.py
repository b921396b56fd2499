"""The briefing an officer uses on the street: its content, once, for the PDF and the HTML.

:func:`briefing_content` decides what the briefing says (which districts, per spot where
it is and how to find it, what happened, why it is listed, the patrol dose, peak times,
movement) and draws the maps; :func:`briefing_html` and :func:`rtm.exports.pdf.briefing_pdf`
lay the same content out. Provenance goes in an appendix at the end, never on the cover.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

import pandas as pd

from .maps import MapFigure, district_map
from .table import ExportTable, district_label, fmt, harm_unit, movement_text, patrol_text, text, windows
from .text import prov_lines

#: The protective marking printed on every page unless a setting says otherwise
#: (Government Security Classifications: most police operational material is OFFICIAL).
DEFAULT_MARKING = "OFFICIAL"

#: The per-spot table's columns: (title, width in mm on A4 landscape).
SPOT_COLUMNS = [("#", 8), ("Where: location, streets covered, grid reference", 68), ("What happened", 80),
                ("Why it is listed", 55), ("Patrol", 34), ("Trend", 28)]


@dataclass
class SpotLines:
    """One spot of the briefing as text blocks: each a list of (text, style) lines,
    style one of ``strong``, ``plain``, ``small``."""

    rank: str
    where: list
    what: list
    why: list
    patrol: list
    trend: list


@dataclass
class DistrictPart:
    name: str
    label: str
    spots: list
    map: MapFigure | None = None


@dataclass
class Briefing:
    """What a briefing says, ready for layout.

    Attributes
    ----------
    title, period, marking, generated : str
    districts : list of DistrictPart
    summary : list of tuple
        (district, spots, best spot) for the cover.
    notes : list of str
    appendix : list of (key, value)
        Every provenance entry.
    """

    title: str
    period: str
    marking: str
    generated: str
    districts: list
    summary: list
    notes: list = field(default_factory=list)
    appendix: list = field(default_factory=list)


def _spot_lines(row: dict, prov: dict) -> SpotLines:
    recent, year = windows(prov)
    unit = harm_unit(prov)
    kind = "month" if prov.get("period_kind") == "month" else "week"
    where = [(text(row.get("location"), "-"), "strong")]
    if text(row.get("streets")):
        where.append((f"covers: {row['streets']}", "plain"))
    ref = text(row.get("grid_ref"))
    where.append((f"Grid ref {ref}" if ref else "", "strong"))
    where.append((f"lat, lon {fmt(row.get('lat'), '.6f')}, {fmt(row.get('lon'), '.6f')} | "
                  f"spot {text(row.get('spot_id'), '-')}", "small"))
    what = [(text(row.get("counts_by_type"), "no crimes recorded"), "plain"),
            (f"Harm {fmt(row.get('harm_recent'), ',.1f')} {unit} in the {recent}; "
             f"{fmt(row.get('harm_year'), ',.1f')} in the {year}", "small")]
    why = [(text(row.get("explanation"), "-"), "plain")]
    factors = text(row.get("factors_present"))
    if factors and factors != "no risk terrain model":
        why.append((f"Risk factors: {factors}", "small"))
    patrol = [(patrol_text(row), "strong"), (f"Peak: {text(row.get('peak_times'), '-')}", "plain")]
    trend = [(movement_text(row, kind), "plain")]
    return SpotLines(fmt(row.get("rank"), ".0f", "?"), [w for w in where if w[0]], what, why, patrol, trend)


def _best(row: dict) -> str:
    where = row["grid_ref"] or f"{row['lat']:.5f}, {row['lon']:.5f}"
    return f"#1 {row['location']} ({where})"


def _district_names(table: ExportTable, districts) -> list[str]:
    """The districts the briefing speaks of: those named in ``districts_in_file`` (a
    one-district file), else every outline, else every district of the spots."""
    only = table.provenance.get("districts_in_file")
    if only:
        return [str(d) for d in only]
    names = [str(n) for n in districts["name"]] if districts is not None else []
    extra = [d for d in table.districts() if d not in names]
    return names + sorted(extra)


def briefing_content(table: ExportTable, districts=None, places=None, *, marking: str = DEFAULT_MARKING,
                     generated: str | None = None, title: str = "Harm spots briefing",
                     maps: bool = True, streets=None) -> Briefing:
    """Everything the briefing says, with the maps drawn.

    Parameters
    ----------
    table : ExportTable
    districts : geopandas.GeoDataFrame, optional
        Outlines with a ``name`` column (``Areas.frame``).
    places : pandas.DataFrame, optional
        Street context for the maps (``x``, ``y``, ``place``, ``n`` in the working CRS).
    marking : str
        Protective marking on every page.
    generated : str, optional
        The date printed as "generated" (default today, UTC).
    title : str
    maps : bool
        Draw the maps (about 0.2-0.5 s a district).
    streets : geopandas.GeoDataFrame, optional
        Named street lines (``name``) drawn on the maps.

    Returns
    -------
    Briefing
    """
    prov = table.provenance
    gen = generated or f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d}"
    gdf = table.geodataframe()
    if streets is not None and gdf.crs is not None and streets.crs is not None and not streets.crs.equals(gdf.crs):
        streets = streets.to_crs(gdf.crs)
    if districts is not None and gdf.crs is not None and districts.crs is not None and districts.crs != gdf.crs:
        districts = districts.to_crs(gdf.crs)
    outlines = {str(n): g for n, g in zip(districts["name"], districts.geometry.values)} if districts is not None else {}
    parts, summary = [], []
    for name in _district_names(table, districts):
        mine = gdf[gdf["district"] == name].sort_values("rank", kind="stable")
        rows = table.frame.loc[mine.index].to_dict("records")
        figure = district_map(mine, outlines.get(name), places, streets=streets) if maps and len(mine) else None
        parts.append(DistrictPart(name, district_label(name), [_spot_lines(r, prov) for r in rows], figure))
        summary.append((district_label(name), str(len(rows)), _best(rows[0]) if rows else "no harm spots this period"))
    notes = [str(n) for n in prov.get("notes", [])] if isinstance(prov.get("notes"), list) else []
    return Briefing(title, str(prov.get("period", "")), marking or DEFAULT_MARKING, gen, parts, summary, notes,
                    prov_lines(prov))


# -- HTML ---------------------------------------------------------------------------------
_CSS = """
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;color:#111;margin:0 auto;max-width:75rem;padding:0 1rem;
line-height:1.3;font-size:.9rem}
h1{font-size:1.4rem;margin:.6rem 0 .2rem}h2{font-size:1.15rem;margin:.3rem 0}
.marking{text-align:center;font-weight:bold;letter-spacing:.08em;margin:.2rem 0}
.pagehead{display:flex;justify-content:space-between;border-bottom:1px solid #999;font-size:.8rem;padding:.2rem 0}
table{border-collapse:collapse;margin:.4rem 0;width:100%;font-size:.78rem}
th,td{border:1px solid #aaa;padding:.15rem .3rem;text-align:left;vertical-align:top}
th{background:#e8e8e8}td.rank{font-weight:bold;font-size:1rem;text-align:center}
.strong{font-weight:bold}.small{color:#444;font-size:.7rem}
img{max-width:100%;height:auto;border:1px solid #ccc}
section.district,section.appendix{break-before:page;page-break-before:always}
tr{break-inside:avoid}
@page{size:A4 landscape;margin:12mm}
@media print{body{max-width:none;font-size:8pt}}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _block(lines) -> str:
    return "".join(f'<div class="{s}">{_e(t)}</div>' for t, s in lines)


def _head(b: Briefing, district: str) -> str:
    return (f'<div class="marking">{_e(b.marking)}</div><div class="pagehead"><span>{_e(district)}</span>'
            f"<span>{_e(b.period)}</span><span>generated {_e(b.generated)}</span></div>")


def briefing_html(b: Briefing) -> bytes:
    """The briefing as one self-contained HTML page (printable, A4 landscape).

    Returns
    -------
    bytes
        UTF-8 HTML5: the cover (title, period, marking, a line per district, notes), a
        section per district (marking, district, period and generated date at its head;
        the map as an embedded PNG; the spot table), and the provenance appendix. No
        script, no external resource; every text escaped with :func:`html.escape`.
    """
    cover = [_head(b, "All districts" if len(b.districts) != 1 else b.districts[0].label),
             f"<h1>{_e(b.title)}</h1><p><b>Period:</b> {_e(b.period)}</p>",
             "<table><thead><tr><th>District</th><th>Spots</th><th>Best spot</th></tr></thead><tbody>"
             + "".join(f"<tr><td>{_e(d)}</td><td>{_e(n)}</td><td>{_e(t)}</td></tr>" for d, n, t in b.summary)
             + "</tbody></table>"]
    if b.notes:
        cover.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in b.notes) + "</ul>")
    cover.append('<p class="small">Provenance (inputs, settings, software) is in the appendix at the end.</p>')
    sections = []
    head = "".join(f"<th>{_e(t)}</th>" for t, _ in SPOT_COLUMNS)
    for part in b.districts:
        body = [_head(b, part.label), f"<h2>{_e(part.label)}: {len(part.spots)} harm spot"
                f"{'s' if len(part.spots) != 1 else ''}</h2>"]
        if part.map is not None:
            png = base64.b64encode(part.map.png).decode("ascii")
            body.append(f'<img alt="Map of the harm spots in {_e(part.label)}" src="data:image/png;base64,{png}">')
        if part.spots:
            rows = "".join(f'<tr><td class="rank">{_e(s.rank)}</td><td>{_block(s.where)}</td><td>{_block(s.what)}</td>'
                           f"<td>{_block(s.why)}</td><td>{_block(s.patrol)}</td><td>{_block(s.trend)}</td></tr>"
                           for s in part.spots)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            body.append("<p>No harm spots this period.</p>")
        sections.append(f'<section class="district">{"".join(body)}</section>')
    appendix = (f'<section class="appendix">{_head(b, "Appendix")}<h2>Appendix: provenance</h2><table><tbody>'
                + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in b.appendix)
                + "</tbody></table></section>")
    doc = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(b.title)}: {_e(b.period)}'
           f"</title><style>{_CSS}</style></head><body>\n"
           f'<section class="cover">{"".join(cover)}</section>\n' + "\n".join(sections) + "\n" + appendix
           + "\n</body></html>\n")
    return doc.encode("utf-8")

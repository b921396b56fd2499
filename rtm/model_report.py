"""The risk terrain model report: one self-contained, printable HTML page.

The page has the sections analysts know from the RTMDx report (Caplan, Kennedy & Piza,
*RTMDx User Manual*, Rutgers Center on Public Security, 2013): a summary, the inputs, the
analysis parameters of each factor, how the model was selected, the best model, the range
of relative risk scores, the risk classes, the nearest-neighbour index of the incidents
and a map of the risk terrain. It needs no network: no external link, style sheet, font or
script, and the map is a PNG embedded as base64. Every piece of text from the data or the
user is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import io
import math
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from .model import DISPERSION_NAME, FAMILY_TITLES, FAMILY_VARIANCE
from .risk_output import range_text

#: Section headings, in order (tests and readers rely on them).
SECTIONS = ("Summary", "Input details", "Analysis parameters", "Model selection", "Best model",
            "Relative risk scores", "Risk classes", "Nearest-neighbour analysis", "Risk terrain map")

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;max-width:60rem;
margin:1.5rem auto;padding:0 1rem;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:1.8rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{border:1px solid #bbb;padding:.25rem .5rem;
text-align:left;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f0f0f0}.muted{color:#666;font-size:.85rem}ol,ul{margin:.3rem 0 .6rem}
img{max-width:100%;height:auto;border:1px solid #ddd}
@page{size:A4;margin:15mm}
@media print{body{margin:0;max-width:none;font-size:10pt}section{break-inside:avoid}h2{break-after:avoid}}
"""


# -- small HTML helpers ------------------------------------------------------------------
def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt(v, spec: str = ",.0f", missing: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return missing
    return format(v, spec)


def _pct(v) -> str:
    return "" if v is None or not np.isfinite(v) else f"{100 * v:.1f}%"


def _table(headers, rows, numeric=()) -> str:
    """An HTML table; every cell is escaped; columns in ``numeric`` are right-aligned."""
    head = "".join(f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _dl(pairs) -> str:
    """A two-column table of (label, value) pairs, both escaped."""
    return "<table><tbody>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs) \
        + "</tbody></table>"


def _section(title: str, body: str) -> str:
    anchor = title.lower().replace(" ", "-")
    return f'<section id="{_e(anchor)}"><h2>{_e(title)}</h2>\n{body}\n</section>'


def _p(text: str) -> str:
    return f"<p>{_e(text)}</p>"


# -- the map -----------------------------------------------------------------------------
def rrs_map_png(result, *, width_in: float = 7.0, dpi: int = 110) -> bytes:
    """A PNG map of the relative risk scores with the study-area outline.

    Parameters
    ----------
    result : RtmResult
    width_in : float
        Figure width in inches (the height follows the grid's shape, within limits).
    dpi : int

    Returns
    -------
    bytes
        The PNG file, without the software metadata (so it names no web address).

    Notes
    -----
    Drawn with matplotlib's Agg renderer on a standalone ``Figure`` (no pyplot, no global
    backend switch, safe in a server). The colour scale is logarithmic (scores multiply,
    and a few very high cells would otherwise wash out the rest). Cells outside the study
    area are left blank. Axes are in kilometres of the working CRS.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LogNorm, Normalize
    from matplotlib.figure import Figure

    grid = result.grid
    left, bottom, right, top = grid.bounds
    aspect = (top - bottom) / max(right - left, 1.0)
    fig = Figure(figsize=(width_in, float(np.clip(width_in * aspect, 3.0, 10.0))))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    km = 1000.0
    image = np.ma.masked_invalid(result.rrs_grid)
    high = float(np.nanmax(result.rrs))
    norm = LogNorm(vmin=1.0, vmax=high) if high > 1.0 else Normalize(vmin=0.5, vmax=1.5)
    im = ax.imshow(image, cmap="YlOrRd", norm=norm, interpolation="nearest",
                   extent=(left / km, right / km, bottom / km, top / km))
    for geom in result.areas.frame.boundary.values:
        for part in getattr(geom, "geoms", [geom]):
            xy = np.asarray(part.coords)
            if len(xy):
                ax.plot(xy[:, 0] / km, xy[:, 1] / km, color="#333333", linewidth=0.7)
    ax.set_aspect("equal")
    ax.set_xlabel("easting (km)")
    ax.set_ylabel("northing (km)")
    ax.tick_params(labelsize=8)
    ax.set_title("Relative risk score (1 = lowest cell)", fontsize=10)
    ticks = [t for t in (1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000) if t <= high] if high > 1.0 else [1]
    bar = fig.colorbar(im, ax=ax, shrink=0.8, label="RRS (log scale)", ticks=ticks)
    bar.ax.minorticks_off()
    bar.ax.set_yticklabels([f"{t:g}" for t in ticks])
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


# -- the sections ------------------------------------------------------------------------
def _summary(r) -> str:
    m, top = r.model, r.classes.iloc[0]
    fam = FAMILY_TITLES[m.family_]
    rates = r.factors[r.factors["type"] == "rate"]
    found = ", ".join(f"{row.factor} ({row.operationalisation}, {row.spatial_influence_m:g} m, "
                      f"RRV {row.rrv:.2f})" for row in rates.itertuples())
    text = [f"{r.n_incidents_modelled:,} incidents in {int(r.grid.mask.sum()):,} cells of "
            f"{r.settings.cell_size:g} m ({r.area_m2 / 1e6:,.1f} km²) were modelled with "
            f"{len(r.layers)} candidate risk factor(s)."]
    if len(rates):
        text.append(f"The best model is a {fam} model ({FAMILY_VARIANCE[m.family_]}) with {len(rates)} risk "
                    f"factor(s): {found}.")
        text.append(f"Relative risk scores range from 1 to {r.rrs.max():,.2f}. The highest risk class "
                    f"(RRS of at least {top.rrs_from:.2f}) covers {_pct(top.share_of_area)} of the area and "
                    f"holds {_pct(top.share_of_incidents)} of the incidents.")
    else:
        text.append(f"No risk factor improved on the null model ({fam}): every cell has the same risk "
                    "score, 1. Try other factors, spatial influences or cell size.")
    return "".join(_p(t) for t in text)


def _provenance(prov: dict) -> str:
    """Every provenance entry (inputs with sha256, data window, settings, software), escaped."""
    from .exports.text import prov_lines

    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in prov_lines(prov))
    return _p("What this model was made from, to trace and reproduce it (also in terrain.json and "
              "risk_terrain.provenance.json).") + f"<table><tbody>{rows}</tbody></table>"


def _inputs(r) -> str:
    g, inp = r.grid, r.inputs
    pairs = [("Incidents", inp.get("incidents", "")),
             ("Counted per cell", inp.get("weights", "incidents (weight column)")),
             ("Incidents given", f"{r.n_incidents:,}"),
             ("Incidents in study-area cells", f"{r.n_incidents_modelled:,} (total weight "
              f"{r.counts.sum():,.6g})"),
             ("Study area", inp.get("area", ", ".join(r.areas.names))),
             ("Area", f"{r.area_m2 / 1e6:,.2f} km²"),
             ("Coordinate system", f"{g.crs.to_string()} ({getattr(g.crs, 'name', '')})"),
             ("Cell size", f"{g.cell_size:g} m"),
             ("Block length", f"{r.settings.block_length:g} m"),
             ("Number of cells", f"{int(g.mask.sum()):,} in the study area ({g.nrows:,} rows x {g.ncols:,} "
              "columns)"),
             ("Cells with events", f"{r.model.n_cells_with_events_:,} "
              f"({_pct(r.model.n_cells_with_events_ / max(r.model.n_cells_, 1))})")]
    pairs += [(k, v) for k, v in inp.items() if k not in ("incidents", "weights", "area", "fitted")]
    return _dl(pairs)


def _parameters(r) -> str:
    p = r.settings
    dist = ", ".join(f"{d:g}" for d in r.spatial_influences)
    intro = _p(f"Every factor is tested at {p.bands} spatial influence(s) of {p.increment} block lengths "
               f"({p.block_length:g} m): {dist} m. Proximity: a cell is 1 when its centre is within the "
               "distance of the nearest feature. Density: a cell is 1 when the kernel density (quartic "
               "kernel, bandwidth = the distance) exceeds the mean + 2 SD over the study area. By default "
               "('both') each factor is tested both ways and BIC decides; 'auto' (RTMDx's rule) chooses one "
               "by the nearest-neighbour test of the factor's features inside the study area.")
    layers = r.layers.set_index("factor")
    rows = []
    for c in r.variables.choices.itertuples(index=False):
        feats = layers.loc[c.factor] if c.factor in layers.index else None
        n = f"{int(feats.inside):,} inside ({int(feats.features):,} loaded)" if feats is not None else ""
        auto_max = _fmt(r.max_influence_m.get(c.factor), "g") if c.requested == "auto" else ""
        rows.append([c.factor, n, c.requested, c.used, c.reason, auto_max, dist])
    return intro + _table(["Factor", "Features", "Requested", "Operationalisation", "Why",
                           "Maximum influence for auto (m)", "Spatial influences tested (m)"], rows, numeric=(5,))


def _selection(r) -> str:
    m = r.model
    log = m.selection_log_
    pre = [s["text"] for s in log if s["stage"] in ("candidates", "collapse", "preselect")]
    out = [_p(f"{len(m.candidates_)} candidate variables (factor x operationalisation x spatial influence) "
              "vary over the cells. When there are many, a score test against the null model keeps the "
              "strongest (screening), and on very large grids the next step sees every cell with incidents "
              "plus a weighted random sample of the others. An elastic-net penalised Poisson regression, "
              "with the penalty chosen by cross-validation, pre-selects variables; then, for each count "
              "model, a stepwise search on all cells from "
              "the null model adds, removes or swaps one variable at a time while the Bayesian information "
              "criterion (BIC) falls, keeping at most one spatial influence per factor"
              + (" and operationalisation" if getattr(m, "limit_by", "operationalisation") == "operationalisation"
                 else " (a factor enters once, as proximity or as density)") + "."),
           "<ul>" + "".join(f"<li>{_e(t)}</li>" for t in pre) + "</ul>"]
    for fam in m.family_bic_:
        steps = [s["text"] for s in log if s["stage"] == "stepwise" and s["family"] == fam]
        out.append(f"<h3>{_e(FAMILY_TITLES[fam].capitalize())}</h3><ol>"
                   + "".join(f"<li>{_e(t)}</li>" for t in steps) + "</ol>")
    bics = "; ".join(f"{FAMILY_TITLES[f]} ({FAMILY_VARIANCE[f]}) BIC {b:,.1f}" for f, b in m.family_bic_.items())
    out.append(_p(f"Family: {bics}. The {FAMILY_TITLES[m.family_]} model has the lowest BIC and is kept."
                  if len(m.family_bic_) > 1 else f"Family: {bics}."))
    return "".join(out)


def _best_model(r) -> str:
    m = r.model
    rows = [[row.type, row.factor or row.variable, row.operationalisation,
             _fmt(row.spatial_influence_m, "g"), _fmt(row.coefficient, ".4f"), _fmt(row.std_error, ".4f"),
             _fmt(row.p_value, ".3g"), _fmt(row.rrv, ".3f")] for row in r.factors.itertuples()]
    if not rows:
        return _p("No risk factor entered the model (the null model had the lowest BIC).")
    alpha = (f"; overdispersion {DISPERSION_NAME[m.family_]} {m.alpha_:.4g}" if m.family_ in DISPERSION_NAME
             else "")
    return (_table(["Type", "Factor", "Operationalisation", "Spatial influence (m)", "Coefficient", "SE", "p-value",
                    "RRV"], rows, numeric=(3, 4, 5, 6, 7))
            + _p(f"{FAMILY_TITLES[m.family_].capitalize()} model ({FAMILY_VARIANCE[m.family_]}); intercept {m.intercept_:.4f}; BIC {m.bic_:,.1f}; "
                 f"AIC {m.aic_:,.1f}{alpha}; n = {m.n_cells_:,} cells. RRV = exp(coefficient): the factor "
                 "multiplies the expected count in the cells where it is present by its RRV."))


def _rrs(r) -> str:
    s = r.rrs
    low = np.isclose(s, s.min())
    pairs = [("Lowest", f"{s.min():.2f}"), ("Highest", f"{s.max():,.2f}"), ("Mean", f"{s.mean():.3f}"),
             ("Standard deviation", f"{s.std():.3f}"),
             ("Cells at the lowest score", f"{int(low.sum()):,} ({_pct(low.mean())})"),
             ("Distinct scores", f"{len(np.unique(np.round(s, 9))):,}")]
    return (_p("A cell's relative risk score (RRS) is the product of the RRVs of the model's factors present "
               "in it, divided by the lowest such product, so the lowest cell scores 1. A cell with RRS 4 is "
               "expected to have four times the incidents of a lowest-risk cell.") + _dl(pairs))


def _classes(r) -> str:
    rows = []
    for c in r.classes.itertuples(index=False):
        rng = range_text(c.rrs_from, c.rrs_to)
        ratio = c.share_of_incidents / c.share_of_area if c.share_of_area > 0 else float("nan")
        rows.append([c.risk_class, rng, f"{int(c.cells):,}", _pct(c.share_of_area), f"{c.incidents:,.6g}",
                     _pct(c.share_of_incidents), _fmt(ratio, ".2f")])
    return (_p("Classes by the mean and standard deviation (SD) of the RRS over the cells: highest = mean + 2 SD "
               "and above; moderately high = mean + 1 SD to mean + 2 SD; above average = mean to mean + 1 SD; "
               "average or below = the rest. Incidents are those used to fit the model. 'Incidents / area' is "
               "the share of incidents divided by the share of area (1 = no concentration).")
            + _table(["Risk class", "RRS", "Cells", "Share of area", "Incidents", "Share of incidents",
                      "Incidents / area"], rows, numeric=(2, 3, 4, 5, 6)))


def _nni(r) -> str:
    n = r.nni
    if n is None:
        return _p("Fewer than 2 incidents lie inside the study area: no nearest-neighbour index.")
    if n.ratio < 1 and n.p_value < 0.05:
        verdict = "clustered: incidents are closer together than a random pattern would put them"
    elif n.ratio > 1 and n.p_value < 0.05:
        verdict = "dispersed: incidents are more evenly spread than a random pattern"
    else:
        verdict = "not significantly different from a random pattern"
    pairs = [("Incidents inside the study area", f"{n.n:,}"), ("Observed mean distance", f"{n.observed_m:,.1f} m"),
             ("Expected mean distance (random)", f"{n.expected_m:,.1f} m"),
             ("Nearest-neighbour index R", f"{n.ratio:.3f}"), ("z-score", f"{n.z:.2f}"),
             ("p-value (two-sided)", f"{n.p_value:.3g}")]
    return (_dl(pairs) + _p(f"The incidents are {verdict} (Clark & Evans 1954; no edge correction). Repeat "
                            "incidents at one address count as neighbours at distance 0."))


def _map(r) -> str:
    png = base64.b64encode(rrs_map_png(r)).decode("ascii")
    return (f'<img alt="Map of the relative risk score with the study-area outline" '
            f'src="data:image/png;base64,{png}">'
            + _p("Cells outside the study area are blank. The same scores are in risk_terrain.tif "
                 "(GeoTIFF, open it in QGIS or ArcGIS)."))


def render_report(result, title: str | None = None) -> str:
    """The HTML report of a run.

    Parameters
    ----------
    result : RtmResult
    title : str, optional
        Page title (default: "Risk terrain model").

    Returns
    -------
    str
        A complete HTML5 document with the :data:`SECTIONS`, in that order. It refers to
        no network resource and prints on A4.
    """
    try:
        ver = version("rtm-harmspots")
    except PackageNotFoundError:  # pragma: no cover
        ver = "unknown"
    title = title or "Risk terrain model"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    builders = (_summary, _inputs, _parameters, _selection, _best_model, _rrs, _classes, _nni, _map)
    body = "\n".join(_section(name, build(result)) for name, build in zip(SECTIONS, builders))
    if result.inputs.get("provenance"):
        body += "\n" + _section("Provenance", _provenance(result.inputs["provenance"]))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
            f"<h1>{_e(title)}</h1><p class=\"muted\">rtm-harmspots {_e(ver)}, {_e(when)}. Method after the RTMDx "
            "User Manual (Caplan, Kennedy &amp; Piza, 2013).</p>\n"
            f"{body}\n</body></html>\n")

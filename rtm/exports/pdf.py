"""The briefing as a PDF (ReportLab): A4 landscape, a district's 20 spots on at most 3 pages.

Why ReportLab: a long-kept, BSD-licensed PDF library installed from PyPI as a wheel that
needs no system library (WeasyPrint needs Pango and its fonts, which a locked-down
machine or CI may lack), it embeds its own Unicode fonts (Bitstream Vera), and it can
number pages "x of y" and put the marking on every page itself. The content is
:func:`rtm.exports.briefing.briefing_content`, the same as the HTML briefing's.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.sax.saxutils import escape

from .briefing import SPOT_COLUMNS, Briefing

#: Size of a district's map on the page (mm); the map is drawn at this size.
MAP_MM = (270.0, 84.0)
_FONTS = {"body": ("RtmVera", "Vera.ttf"), "bold": ("RtmVeraBd", "VeraBd.ttf"),
          "italic": ("RtmVeraIt", "VeraIt.ttf"), "bolditalic": ("RtmVeraBI", "VeraBI.ttf")}


def _register_fonts() -> dict[str, str]:
    """Bitstream Vera (shipped with ReportLab) registered once; returns role -> font name."""
    import reportlab
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(reportlab.__file__).parent / "fonts"
    names = {}
    for role, (name, file) in _FONTS.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))
        names[role] = name
    addMapping(names["body"], 0, 0, names["body"])
    addMapping(names["body"], 1, 0, names["bold"])
    addMapping(names["body"], 0, 1, names["italic"])
    addMapping(names["body"], 1, 1, names["bolditalic"])
    return names


def _canvas_class(b: Briefing, fonts: dict):
    """A canvas that keeps every page until the end, then prints the header and footer with
    "page x of y" (the total is only known then)."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class BriefingCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []
            self.rtm_district = ""

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _decorate(self, number: int, total: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setFont(fonts["bold"], 10)
            self.drawCentredString(width / 2, height - 8 * mm, b.marking)
            self.drawCentredString(width / 2, 5 * mm, b.marking)
            self.setFont(fonts["bold"], 8.5)
            self.drawString(12 * mm, height - 8 * mm, self.rtm_district or b.title)
            self.setFont(fonts["body"], 8.5)
            self.drawRightString(width - 12 * mm, height - 8 * mm, b.period)
            self.setLineWidth(0.4)
            self.line(12 * mm, height - 9.5 * mm, width - 12 * mm, height - 9.5 * mm)
            self.setFont(fonts["body"], 7.5)
            self.drawString(12 * mm, 5 * mm, f"Generated {b.generated}  |  {b.title}")
            self.drawRightString(width - 12 * mm, 5 * mm, f"Page {number} of {total}")
            self.restoreState()

    return BriefingCanvas


def _district_marker(label: str):
    """A zero-size flowable that tells the canvas which district the page belongs to."""
    from reportlab.platypus import Flowable

    class DistrictMarker(Flowable):
        def wrap(self, *_):
            return 0, 0

        def draw(self):
            self.canv.rtm_district = label

    return DistrictMarker()


def briefing_pdf(b: Briefing) -> bytes:
    """The briefing as a PDF.

    Parameters
    ----------
    b : Briefing
        From :func:`rtm.exports.briefing.briefing_content`.

    Returns
    -------
    bytes
        A4 landscape PDF. Every page: the protective marking at top and bottom centre,
        the district (or the title) top left, the period top right, the generated date
        and "Page x of y" at the foot. Page 1: the summary of districts and the notes.
        Then per district a new page: the map (district overview with every spot's rank,
        close-ups with street names) and the spot table (header repeated on continuation
        pages). Last: the provenance appendix. Text in Bitstream Vera (embedded).

    Notes
    -----
    ReportLab platypus; well under a second a district besides the maps.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    fonts = _register_fonts()
    base = ParagraphStyle("base", fontName=fonts["body"], fontSize=6.8, leading=8.0)
    styles = {"plain": base, "strong": ParagraphStyle("strong", parent=base, fontName=fonts["bold"]),
              "small": ParagraphStyle("small", parent=base, fontSize=6.0, leading=7.0, textColor=colors.HexColor("#444444"))}
    h1 = ParagraphStyle("h1", parent=base, fontName=fonts["bold"], fontSize=16, leading=20, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontName=fonts["bold"], fontSize=11, leading=14, spaceAfter=2)
    body = ParagraphStyle("body", parent=base, fontSize=9, leading=11.5)
    rank_style = ParagraphStyle("rank", parent=base, fontName=fonts["bold"], fontSize=11, leading=13, alignment=1)

    def para(text, style=body):
        return Paragraph(escape(str(text)), style)

    def block(lines):
        return [Paragraph(escape(t), styles[s]) for t, s in lines]

    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                       ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
                       ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)])
    page = landscape(A4)
    story = [_district_marker(""), para(b.title, h1), para(f"Period: {b.period}", body), Spacer(1, 4 * mm)]
    summary = [[para("District", styles["strong"]), para("Spots", styles["strong"]), para("Best spot", styles["strong"])]]
    summary += [[para(d, base), para(n, base), para(t, base)] for d, n, t in b.summary]
    story.append(Table(summary, colWidths=[60 * mm, 18 * mm, 190 * mm], style=grid, repeatRows=1))
    if b.notes:
        story += [Spacer(1, 3 * mm), para("Notes", h2)] + [para(n, base) for n in b.notes]
    story += [Spacer(1, 3 * mm), para("Each district starts on a new page. The provenance (inputs, settings, "
                                      "software) is in the appendix at the end.", styles["small"])]
    widths = [w * mm for _, w in SPOT_COLUMNS]
    for part in b.districts:
        story += [PageBreak(), _district_marker(part.label),
                  para(f"{part.label}: {len(part.spots)} harm spot{'s' if len(part.spots) != 1 else ''}", h2)]
        if part.map is not None:
            story.append(Image(io.BytesIO(part.map.png), width=MAP_MM[0] * mm, height=MAP_MM[1] * mm))
            story.append(Spacer(1, 1.5 * mm))
        if not part.spots:
            story.append(para("No harm spots this period.", body))
            continue
        rows = [[para(t, styles["strong"]) for t, _ in SPOT_COLUMNS]]
        rows += [[Paragraph(escape(s.rank), rank_style), block(s.where), block(s.what), block(s.why), block(s.patrol),
                  block(s.trend)] for s in part.spots]
        story.append(Table(rows, colWidths=widths, style=grid, repeatRows=1))
    story += [PageBreak(), _district_marker("Appendix: provenance"), para("Appendix: provenance", h2)]
    story.append(Table([[para(k, styles["strong"]), para(v, styles["small"])] for k, v in b.appendix] or [[""]],
                       colWidths=[50 * mm, 220 * mm], style=grid))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
                            bottomMargin=10 * mm, title=f"{b.title}: {b.period}", author="rtm-harmspots",
                            subject=b.marking, invariant=True)
    doc.build(story, canvasmaker=_canvas_class(b, fonts))
    return buf.getvalue()

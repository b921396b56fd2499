"""Load accounting: why each input row was used or rejected, and counts that add up.

A :class:`LoadReport` is returned by every loader next to the data. Its invariant,
checked on construction of the summary, is ``rows_in == rows_used + sum(rejected)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Rejection reasons in the order rows are checked (the first that applies is recorded),
#: each with the advice a user needs to correct the row. Code 0 means "used".
REASONS: dict[str, str] = {
    "malformed_row": "the row has a different number of fields than the header - look "
    "for a stray delimiter or an unclosed quote",
    "stray_quote": "the row opens a quote that is never closed - remove the stray double "
    "quote (the rows after it were read as usual)",
    "missing_coordinates": "no coordinates; police.uk leaves them blank when a crime "
    "cannot be mapped - add a location if you hold one",
    "non_numeric_coordinates": "a coordinate is not a number - correct the cell",
    "invalid_coordinates": "a coordinate is NaN, infinite or outside the valid range of "
    "the coordinate system - correct the cell or the declared CRS",
    "zero_coordinates": "the point is at 0,0 (longitude 0 and latitude 0, or x 0 and y 0), "
    "a placeholder some systems write for an unknown location - add the real location",
    "geometry_not_point": "the geometry is not a single point - incidents must be points",
    "missing_date": "no date - fill in the date of the incident",
    "unparseable_date": "the date cannot be read - use YYYY-MM-DD, YYYY-MM-DD HH:MM, "
    "DD/MM/YYYY or YYYY-MM, or give the format (date_format)",
    "implausible_date": "the date is outside the plausible range (by default 1900 to one year "
    "ahead of today) - check the year; a wider range can be set (date_range)",
    "future_date": "the date is after today - check the year",
    "unknown_offence_type": "the offence type is not in the harm-weight table - add a row "
    "for it to the weights CSV or choose another unknown-type policy",
    "invalid_weight": "the weight is missing, negative, not a number or implausibly large "
    "(over 1e9) - correct the cell",
    "outside_study_area": "the point lies outside the study area - expected for crimes "
    "recorded by the force outside the chosen districts",
    "missing_geometry": "the feature has no geometry - draw it or delete the row",
    "invalid_geometry": "the geometry is broken and could not be repaired - redraw it",
    "wrong_geometry_type": "the geometry is of the wrong kind for this input (for example a "
    "point where an area is needed)",
    "not_selected": "the row does not match the layer's selection filter - expected for a "
    "mixed file of points of interest",
    "missing_name": "the area has no name in the chosen field - fill it in or choose another field",
    "duplicate": "the same incident was already loaded (the same file, the same id, period "
    "and type, or a timestamped row repeated cell for cell) - nothing to do, the first copy is used",
}
REASON_CODES = {name: i + 1 for i, name in enumerate(REASONS)}
REASON_NAMES = np.array(["used", *REASONS], dtype=object)


def reason_code(name: str) -> int:
    """Return the small integer code of a rejection reason (see :data:`REASONS`)."""
    return REASON_CODES[name]


def mark(codes: np.ndarray, mask: np.ndarray, reason: str) -> None:
    """Record ``reason`` for the rows in ``mask`` that have no reason yet (in place)."""
    codes[(codes == 0) & mask] = REASON_CODES[reason]


@dataclass
class LoadReport:
    """What a load did with every row, in words and counts.

    Attributes
    ----------
    sources : list of dict
        One entry per file read: ``name``, ``rows``, ``sha256`` and ``layout``.
    rows_in : int
        Data rows read from all sources (headers excluded).
    rows_used : int
    rejected : dict of str to int
        Rows rejected, by reason (see :data:`REASONS`); reasons with no rows are absent.
    crs_in : str
        The CRS of the input coordinates, as declared or inferred.
    crs_how : str
        How ``crs_in`` was chosen, in words.
    crs_working : str
        The metric CRS the data was projected to.
    date_min, date_max : str
        First and last period present in the used rows.
    date_resolution : str
        ``"month"``, ``"day"`` or ``"datetime"``.
    offence_types : pandas.DataFrame
        Used rows by offence type with their harm weight (``offence_type``, ``rows``,
        ``weight``, ``harm``).
    unknown_types : dict of str to int
        Offence types the harm-weight table does not list, with their row counts (under
        every policy: rejected, weighed 0 or given the default weight).
    missing_months : list of str
        Months (``YYYY-MM``) between the first and last used date with no incident.
    notes : list of str
        Decisions and warnings a user should know about (delimiter, encoding, dropped
        time zone, rows kept that look alike, ...).
    """

    kind: str = "incidents"
    sources: list = field(default_factory=list)
    rows_in: int = 0
    rows_used: int = 0
    rejected: dict = field(default_factory=dict)
    crs_in: str = ""
    crs_how: str = ""
    crs_working: str = ""
    date_min: str = ""
    date_max: str = ""
    date_resolution: str = ""
    offence_types: pd.DataFrame | None = None
    weights_scheme: str = ""
    unknown_policy: str = ""
    notes: list = field(default_factory=list)
    unknown_types: dict = field(default_factory=dict)
    missing_months: list = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return int(sum(self.rejected.values()))

    @property
    def adds_up(self) -> bool:
        """True when every input row is either used or rejected with a reason."""
        return self.rows_in == self.rows_used + self.rows_rejected

    def set_counts(self, codes: np.ndarray) -> None:
        """Fill ``rows_in``, ``rows_used`` and ``rejected`` from per-row reason codes."""
        counts = np.bincount(codes.astype(np.int64), minlength=len(REASON_NAMES))
        self.rows_in = int(codes.size)
        self.rows_used = int(counts[0])
        self.rejected = {
            REASON_NAMES[i]: int(c) for i, c in enumerate(counts) if i > 0 and c > 0
        }

    def to_text(self) -> str:
        """The report as plain text for a terminal or a log."""
        lines = [f"Load report ({self.kind})"]
        for s in self.sources:
            lines.append(f"  source: {s['name']}  rows {s['rows']:,}  [{s['layout']}]")
        lines.append(f"Rows in:       {self.rows_in:,}")
        lines.append(f"Rows used:     {self.rows_used:,}")
        lines.append(f"Rows rejected: {self.rows_rejected:,}")
        for reason, n in self.rejected.items():
            lines.append(f"  {reason:<24} {n:>10,}  ({REASONS[reason].split(' - ')[0]})")
        lines.append(f"Counts add up: {'yes' if self.adds_up else 'NO'}")
        if self.crs_in:
            lines.append(f"CRS of input:  {self.crs_in} ({self.crs_how})")
            lines.append(f"Working CRS:   {self.crs_working} (all distances in metres)")
        if self.date_resolution and self.date_min:
            lines.append(
                f"Dates:         {self.date_min} to {self.date_max}, "
                f"resolution {self.date_resolution}"
            )
        elif self.date_resolution:
            lines.append("Dates:         none (no used row has a date)")
        if self.offence_types is not None and len(self.offence_types):
            lines.append(
                f"Offence types (harm weights: {self.weights_scheme}; "
                f"unknown types: {self.unknown_policy}):"
            )
            for r in self.offence_types.itertuples(index=False):
                lines.append(
                    f"  {_short(r.offence_type):<32} {r.rows:>9,} rows  weight {r.weight:>8g}"
                    f"  harm {r.harm:>12,.1f}"
                )
        if self.unknown_types:
            lines.append(f"Offence types not in the harm-weight table ({self.unknown_policy}):")
            for name, n in self.unknown_types.items():
                lines.append(f"  {_short(name):<32} {n:>9,} rows")
        if self.missing_months:
            lines.append(f"Months with no incident between the first and the last: {', '.join(self.missing_months)} "
                         "(a monthly file may be missing)")
        for n in self.notes:
            lines.append(f"Note: {n}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The report as plain JSON-ready data (for provenance and the app)."""
        d = {k: v for k, v in self.__dict__.items() if k != "offence_types"}
        if self.offence_types is not None:
            d["offence_types"] = self.offence_types.to_dict(orient="records")
        d["rows_rejected"] = self.rows_rejected
        d["adds_up"] = self.adds_up
        return d


def _short(text, width: int = 80) -> str:
    """A value as shown in the report: at most ``width`` characters (a whole cell of a
    broken file can be megabytes long)."""
    text = str(text)
    return text if len(text) <= width else text[:width - 3] + "..."

"""The run archive: every published list in one SQLite file, so the next period can show
movement and weeks on the list.

One entry per (period, district): publishing a period again replaces its entries in one
transaction, so re-running a week never duplicates it and a failure leaves the archive as
it was. SQLite (Python's ``sqlite3``) needs no server and opens in any SQLite browser.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from .errors import InputError
from .periods import Period

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    period_kind TEXT NOT NULL,
    period_key  TEXT NOT NULL,
    district    TEXT NOT NULL,
    spots       INTEGER NOT NULL,
    provenance  TEXT NOT NULL,
    PRIMARY KEY (period_kind, period_key, district)
);
CREATE TABLE IF NOT EXISTS spots (
    period_kind   TEXT NOT NULL,
    period_key    TEXT NOT NULL,
    district      TEXT NOT NULL,
    rank          INTEGER NOT NULL,
    spot_id       TEXT NOT NULL,
    cell_labels   TEXT NOT NULL,
    score         REAL NOT NULL,
    harm_recent   REAL NOT NULL,
    harm_year     REAL NOT NULL,
    movement      TEXT NOT NULL,
    weeks_on_list INTEGER NOT NULL,
    geometry_wkt  TEXT NOT NULL,
    PRIMARY KEY (period_kind, period_key, district, rank)
);
"""


class Archive:
    """The archive file (created on first use).

    Parameters
    ----------
    path : str or Path
        The SQLite file, e.g. ``OUT/archive.sqlite``.
    """

    def __init__(self, path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path)
            con.executescript(SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise InputError(self.path, f"the run archive cannot be opened ({exc})",
                             "give a writable archive file, or move the damaged file away") from None
        return con

    def store(self, lst) -> int:
        """Replace the list's period in the archive with ``lst`` (a :class:`rtm.weekly.HarmSpotList`).

        Every district of the list is replaced, including districts with no spots (so a
        district that drops to nothing is recorded as such). One transaction: on any error
        nothing is changed. Returns the number of spots stored.
        """
        p = lst.period
        spots = lst.spots
        districts = list(lst.grid.district_names)
        prov = json.dumps(lst.provenance, sort_keys=True, default=str)
        labels = lst.as_previous()["cell_labels"]
        rows = [(p.kind, p.key, s.district, int(s.rank), s.spot_id, cells, float(s.score), float(s.harm_recent),
                 float(s.harm_year), s.movement, int(s.weeks_on_list), s.geometry.wkt)
                for s, cells in zip(spots.itertuples(), labels)]
        con = self._connect()
        try:
            with con:  # one transaction: commit on success, roll back on any error
                con.executemany("DELETE FROM spots WHERE period_kind=? AND period_key=? AND district=?",
                                [(p.kind, p.key, d) for d in districts])
                con.executemany("DELETE FROM runs WHERE period_kind=? AND period_key=? AND district=?",
                                [(p.kind, p.key, d) for d in districts])
                con.executemany("INSERT INTO runs VALUES (?,?,?,?,?)",
                                [(p.kind, p.key, d, int((spots["district"] == d).sum()), prov) for d in districts])
                con.executemany("INSERT INTO spots VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        except sqlite3.DatabaseError as exc:
            raise InputError(self.path, f"the run archive could not be written ({exc}); it is unchanged",
                             "check the disk and that no other program holds the file") from None
        finally:
            con.close()
        return len(rows)

    def previous(self, period: Period, districts) -> pd.DataFrame | None:
        """The archived list of the period before ``period`` for ``districts``, or None when
        none of them has one (``district``, ``rank``, ``weeks_on_list``, ``cell_labels``)."""
        if not self.path.exists():
            return None
        prev = period.previous()
        con = self._connect()
        try:
            marks = ",".join("?" * len(districts))
            done = con.execute(f"SELECT COUNT(*) FROM runs WHERE period_kind=? AND period_key=? AND district IN ({marks})",
                               (prev.kind, prev.key, *districts)).fetchone()[0]
            if not done:
                return None
            frame = pd.read_sql_query(
                f"SELECT district, rank, weeks_on_list, cell_labels, spot_id FROM spots WHERE period_kind=? "
                f"AND period_key=? AND district IN ({marks})", con, params=(prev.kind, prev.key, *districts))
        finally:
            con.close()
        return frame

    def periods(self) -> pd.DataFrame:
        """Archived periods: ``period_kind``, ``period_key``, ``districts``, ``spots``."""
        if not self.path.exists():
            return pd.DataFrame(columns=["period_kind", "period_key", "districts", "spots"])
        con = self._connect()
        try:
            return pd.read_sql_query("SELECT period_kind, period_key, COUNT(*) AS districts, SUM(spots) AS spots "
                                     "FROM runs GROUP BY period_kind, period_key ORDER BY period_kind, period_key",
                                     con)
        finally:
            con.close()

    def spots_of(self, kind: str, key: str, districts=None) -> pd.DataFrame:
        """The archived spots of one period (all districts, or ``districts``): ``district``,
        ``rank``, ``spot_id``, ``cell_labels``, ``score``, ``harm_recent``, ``harm_year``,
        ``movement``, ``weeks_on_list``, ``geometry_wkt``; empty when the period is not there."""
        cols = ["district", "rank", "spot_id", "cell_labels", "score", "harm_recent", "harm_year", "movement",
                "weeks_on_list", "geometry_wkt"]
        if not self.path.exists():
            return pd.DataFrame(columns=cols)
        con = self._connect()
        try:
            frame = pd.read_sql_query(f"SELECT {', '.join(cols)} FROM spots WHERE period_kind=? AND period_key=? "
                                      "ORDER BY district, rank", con, params=(kind, key))
        finally:
            con.close()
        if districts is not None:
            frame = frame[frame["district"].isin([str(d) for d in districts])].reset_index(drop=True)
        return frame


def compare_lists(this: pd.DataFrame, last: pd.DataFrame) -> pd.DataFrame:
    """Two archived lists side by side (:meth:`Archive.spots_of`): every spot of either, with
    ``status`` ``kept`` (a spot of the same district sharing a cell with one of the other
    list), ``new`` (only in ``this``) or ``gone`` (only in ``last``), and ``rank``/``last_rank``.

    Returns columns ``district``, ``spot_id``, ``status``, ``rank``, ``last_rank``; kept and
    new spots in ``this`` list's order, then the gone ones in ``last``'s. O(cells) with sets.
    """
    def cells(frame):
        return {(r.district, c): (int(r.rank), r.spot_id)
                for r in frame.itertuples() for c in str(r.cell_labels).split()}

    last_cells, this_cells = cells(last), cells(this)
    rows = []
    for r in this.itertuples():
        hits = [last_cells[(r.district, c)] for c in str(r.cell_labels).split() if (r.district, c) in last_cells]
        rows.append({"district": r.district, "spot_id": r.spot_id, "status": "kept" if hits else "new",
                     "rank": int(r.rank), "last_rank": min(hits)[0] if hits else None})
    for r in last.itertuples():
        if not any((r.district, c) in this_cells for c in str(r.cell_labels).split()):
            rows.append({"district": r.district, "spot_id": r.spot_id, "status": "gone", "rank": None,
                         "last_rank": int(r.rank)})
    return pd.DataFrame(rows, columns=["district", "spot_id", "status", "rank", "last_rank"]).astype(
        {"rank": "Int64", "last_rank": "Int64"})

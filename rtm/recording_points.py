"""Recording points: police.uk map points where crimes are recorded rather than committed.

police.uk snaps every crime to an anonymous map point with a text such as "On or near
High Street". Some points are where crimes are *recorded*: a police station's front desk
or custody suite, a prison. Crimes there are real, but a patrol at the spot prevents none
of them, so harm-spot lists leave them out by default. Which places count is a small CSV
table analysts can edit, like the harm weights (``rtm/data/recording_points.csv``):

``place``
    The police.uk place text after "On or near " (case and spacing ignored). ``*`` matches
    any text, so ``* Police Station`` matches "Chelmsford Police Station".
``recording_point``
    ``true`` to leave such points out of patrol lists, ``false`` to keep them (a row kept
    for the record of a decision, e.g. hospitals).
``reason`` (optional)
    Why, in words a reader of the list's notes understands.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

COLUMNS = ["place", "recording_point", "reason"]
_PREFIX = re.compile(r"^\s*on or near\s+", re.IGNORECASE)
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


def place_text(location: str) -> str:
    """The place of a police.uk location text: "On or near High Street" -> "High Street"."""
    return re.sub(r"\s+", " ", _PREFIX.sub("", str(location))).strip()


@dataclass(frozen=True)
class RecordingPoints:
    """The table of recording points and the rule that applies it.

    Attributes
    ----------
    table : pandas.DataFrame
        :data:`COLUMNS`; ``recording_point`` is bool.
    source : str
        ``default`` or the file name.
    sha256 : str
        Of the file's bytes.
    """

    table: pd.DataFrame
    source: str
    sha256: str

    @classmethod
    def default(cls) -> "RecordingPoints":
        """The project's table (``rtm/data/recording_points.csv``)."""
        data = resources.files("rtm").joinpath("data/recording_points.csv").read_bytes()
        return cls._parse(data, "the default, rtm/data/recording_points.csv")

    @classmethod
    def from_csv(cls, path) -> "RecordingPoints":
        """An analyst's table: the columns :data:`COLUMNS`, one place a row.

        Raises
        ------
        InputError
            The file is missing, not a CSV, lacks a column, or has a ``recording_point``
            that is not true/false.
        """
        path = Path(path)
        if not path.exists():
            raise InputError(path, "the recording-points file does not exist",
                             "check the recording-points file's path")
        return cls._parse(path.read_bytes(), path.name, path)

    @classmethod
    def _parse(cls, data: bytes, name: str, source=None) -> "RecordingPoints":
        import io

        where = source or name
        fix = f"write a CSV with the columns {', '.join(COLUMNS)} (copy rtm/data/recording_points.csv)"
        try:
            table = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(where, f"the recording-points file is not a readable UTF-8 CSV ({exc})", fix) from None
        if "reason" not in table.columns:
            table["reason"] = ""
        missing = [c for c in COLUMNS if c not in table.columns]
        if missing:
            raise InputError(where, f"column {missing[0]} is missing", fix, field=missing[0])
        flags = table["recording_point"].str.strip().str.lower()
        bad = ~flags.isin(_TRUE | _FALSE)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(where, f"row {i + 2} ('{table['place'].iloc[i]}') has recording_point "
                             f"'{table['recording_point'].iloc[i]}'", "write true or false", field="recording_point")
        table = table[COLUMNS].assign(place=table["place"].map(place_text), recording_point=flags.isin(_TRUE))
        return cls(table.reset_index(drop=True), name, hashlib.sha256(data).hexdigest())

    @property
    def active(self) -> pd.DataFrame:
        """The rows that leave places out."""
        return self.table[self.table["recording_point"]]

    def match(self, locations) -> np.ndarray:
        """Which of the ``locations`` (police.uk texts) are recording points.

        Parameters
        ----------
        locations : array-like of str (missing allowed)

        Returns
        -------
        ndarray of int64
            Index into :attr:`active` of the first matching row, -1 for none.

        Notes
        -----
        Each distinct text is matched once (police.uk has a few thousand per force), so
        the cost is small whatever the number of rows.
        """
        texts = pd.Series(locations, dtype="string").fillna("")
        codes, uniques = pd.factorize(texts)
        patterns = [p.lower() for p in self.active["place"]]
        hit = np.full(len(uniques), -1, np.int64)
        for j, text in enumerate(uniques):
            place = place_text(text).lower()
            for k, pattern in enumerate(patterns):
                if place and fnmatch.fnmatchcase(place, pattern):
                    hit[j] = k
                    break
        return hit[codes] if len(codes) else np.zeros(0, np.int64)

    def provenance(self) -> dict:
        """``source``, ``sha256`` and the places left out, for a list's provenance."""
        return {"source": self.source, "sha256": self.sha256,
                "left_out": [f"{p}: {r}" for p, r in zip(self.active["place"], self.active["reason"])],
                "kept": [str(p) for p in self.table.loc[~self.table["recording_point"], "place"]]}

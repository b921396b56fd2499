"""Harm weights: offence type -> days of imprisonment (Cambridge Crime Harm Index).

The table is an ordinary CSV that analysts can edit (``offence_type, weight, source,
date, notes``). Two schemes ship: ``cchi`` (the packaged CSV) and ``count`` (every
incident weighs 1). Offence types missing from the table follow the *unknown policy*:
``reject`` the row, give it ``zero`` weight, or a ``default`` weight.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .textcols import one_chunk

from .errors import InputError, setting_error

UNKNOWN_POLICIES = ("reject", "zero", "default")
#: The largest weight accepted (days of imprisonment: about 2.7 million years). Larger
#: values are typing errors, and sums of them over a year of incidents would overflow.
MAX_WEIGHT = 1e9
REQUIRED_COLUMNS = ("offence_type", "weight")


def _key(values) -> list:
    """Case- and space-insensitive keys for matching offence type names (None stays None)."""
    return [" ".join(str(v).split()).casefold() if v is not None and v == v else None for v in values]


def default_weights_path() -> Path:
    """Path of the packaged CCHI weights CSV (copy it to edit it)."""
    return Path(str(resources.files("rtm") / "data" / "harm_weights_cchi.csv"))


class HarmWeights:
    """A harm-weight table and the policy for offence types it does not list.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``offence_type`` and ``weight`` (non-negative numbers); ``source``,
        ``date`` and ``notes`` are kept for provenance when present.
    scheme : str
        Name shown in reports (``"cchi"``, ``"count"`` or the CSV's file name).
    unknown : {"reject", "zero", "default"}
        What happens to offence types not in the table.
    default_weight : float, optional
        The weight used when ``unknown == "default"``.
    """

    def __init__(self, table: pd.DataFrame, scheme: str, unknown: str = "reject",
                 default_weight: float | None = None, source: str = ""):
        if unknown not in UNKNOWN_POLICIES:
            raise InputError("harm weights", f"the unknown-type policy '{unknown}' is not one of "
                             f"{', '.join(UNKNOWN_POLICIES)}", "choose reject, zero or default",
                             field="unknown", field_kind="setting")
        if unknown == "default" and (default_weight is None or not 0 <= default_weight <= MAX_WEIGHT):
            shown = "no default weight was given" if default_weight is None else \
                f"the default weight {default_weight!r} is not a number from 0 to {MAX_WEIGHT:g}"
            raise InputError("harm weights", f"the unknown-type policy 'default' needs a default weight; {shown}",
                             "give the weight (in days) for offence types the table does not list, e.g. 10",
                             field="default_weight", field_kind="setting")
        self.table = table.reset_index(drop=True)
        self.scheme = scheme
        self.unknown = unknown
        self.default_weight = default_weight
        self.source = source
        self._map = dict(zip(_key(self.table["offence_type"]), self.table["weight"].astype(float)))

    # -- constructors -----------------------------------------------------------------
    @classmethod
    def cchi(cls, unknown: str = "reject", default_weight: float | None = None) -> "HarmWeights":
        """The packaged Cambridge Crime Harm Index defaults for police.uk categories."""
        w = cls.from_csv(default_weights_path(), unknown, default_weight)
        w.scheme = "cchi"
        return w

    @classmethod
    def count(cls) -> "HarmWeights":
        """Every incident weighs 1, whatever its type."""
        table = pd.DataFrame({"offence_type": [], "weight": []})
        return cls(table, "count", unknown="default", default_weight=1.0)

    @classmethod
    def from_csv(cls, path, unknown: str = "reject",
                 default_weight: float | None = None) -> "HarmWeights":
        """Read an edited weights CSV, checking every row.

        Raises
        ------
        InputError
            When the file is missing, a folder or not a regular file, lacks
            ``offence_type``/``weight``, has a weight that is not a non-negative number or a
            row without an offence type, lists an offence type twice, or weighs every
            incident 0 (every weight 0, and no positive default weight for unlisted types).
        """
        path = Path(path)
        fix_cols = "the weights CSV needs the columns offence_type and weight (source, date and notes are optional)"
        if path.is_dir():
            raise InputError(path, f"'{path}' is a folder, not a weights file",
                             "give the path of the weights CSV itself (e.g. 'rtm weights --write weights.csv' "
                             "makes one to edit)")
        if path.exists() and not path.is_file():
            raise InputError(path, f"'{path}' is not a regular file (a pipe, socket or device)",
                             "save the weights as a CSV file and give its path")
        if not path.is_file():
            raise InputError(path, "the weights file does not exist", "check the path of the weights file")
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(path, "the weights file is not UTF-8 text", "save it as CSV UTF-8") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputError(path, f"the weights file is not a readable CSV ({exc})", fix_cols) from None
        table.columns = [c.strip().lower() for c in table.columns]
        missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
        if missing:
            raise InputError(path, f"column {missing[0]} is missing", fix_cols, field=missing[0])
        weights = pd.to_numeric(table["weight"].str.strip(), errors="coerce")
        bad = ~(weights >= 0) | ~np.isfinite(weights.fillna(-1)) | (weights > MAX_WEIGHT)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(path, f"row {i + 2} ('{table['offence_type'].iloc[i]}') has weight "
                             f"'{table['weight'].iloc[i]}', which is not a number from 0 to {MAX_WEIGHT:g}",
                             "enter the weight in days as a number such as 7.5", field="weight")
        blank = table["offence_type"].str.strip() == ""
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise InputError(path, f"row {i + 2} has no offence type (weight '{table['weight'].iloc[i]}')",
                             "write the offence type exactly as in the incident data, or delete the row",
                             field="offence_type")
        keys = pd.Series(_key(table["offence_type"]))
        dup = keys.duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(path, f"offence type '{table['offence_type'].iloc[i]}' is listed twice "
                             f"(row {i + 2})", "keep one row per offence type", field="offence_type")
        table["weight"] = weights
        weighs = unknown == "default" and default_weight is not None and default_weight > 0
        if not (weights > 0).any() and not weighs:
            what = ("lists no offence type (only its header), so no incident would have a harm weight"
                    if not len(table) else "gives every offence type the weight 0, so every incident would "
                    "weigh 0 and the harm of every place would be 0 (a list ranked by nothing)")
            raise InputError(path, f"the weights file {what}",
                             "give the offence types their weights in days (copy the defaults with 'rtm weights "
                             "--write FILE'), or count incidents with the weights 'count'", field="weight")
        return cls(table, path.name, unknown, default_weight, source=str(path))

    @classmethod
    def from_name(cls, name: str | None, unknown: str = "reject",
                  default_weight: float | None = None) -> "HarmWeights":
        """The weights ``name`` names: ``None``/``"cchi"`` (the packaged CCHI table),
        ``"count"`` (1 each), or the path of a weights CSV (:meth:`from_csv`).

        Raises
        ------
        InputError
            ``name`` is empty (setting ``weights``: an empty name is a mistake, not the
            default), or the CSV cannot be used.
        """
        if name is None or name == "cchi":
            return cls.cchi(unknown, default_weight)
        if not str(name).strip():
            raise setting_error("weights", "the weights are empty",
                                "give 'cchi' (the default harm weights), 'count' or the path of a weights CSV")
        if name == "count":
            return cls.count()
        return cls.from_csv(name, unknown, default_weight)

    # -- use ----------------------------------------------------------------------------
    def lookup(self, offence_types) -> tuple[np.ndarray, np.ndarray]:
        """Weights for an array of offence type names.

        Returns
        -------
        weights : ndarray of float
            The weight of each row; NaN where the type is unknown and the policy rejects.
        known : ndarray of bool
            True where the type is listed in the table.

        Notes
        -----
        Works on the distinct names only, so it costs one dictionary look-up per distinct
        type plus one vectorised take.
        """
        arr = offence_types if isinstance(offence_types, (pa.Array, pa.ChunkedArray)) else \
            pa.array(np.asarray(offence_types, dtype=object), pa.string(), from_pandas=True)
        arr = one_chunk(arr)
        enc = arr if isinstance(arr, pa.DictionaryArray) else pc.dictionary_encode(arr)
        keys = _key(enc.dictionary.to_pylist())
        cat_w = np.array([self._map.get(k, np.nan) for k in keys] + [np.nan], dtype=float)
        cat_known = ~np.isnan(cat_w)
        fill = {"reject": np.nan, "zero": 0.0}.get(self.unknown, self.default_weight)
        cat_w[~cat_known] = fill
        codes = pc.fill_null(enc.indices, len(cat_w) - 1).to_numpy(zero_copy_only=False)  # null -> unknown
        weights, known = cat_w[codes], cat_known[codes]
        return weights, known

    def policy_text(self) -> str:
        if self.scheme == "count":
            return "every incident weighs 1"
        if self.unknown == "default":
            return f"default weight {self.default_weight:g}"
        return {"reject": "rejected", "zero": "weight 0"}[self.unknown]

    def provenance(self) -> dict:
        return {"scheme": self.scheme, "unknown": self.unknown,
                "default_weight": self.default_weight, "source": self.source,
                "table": self.table[["offence_type", "weight"]].to_dict(orient="records")}

"""The tuning's choice kept in a workspace: the ``[tuning]`` table of ``workspace.toml``.

``rtm tune --workspace DIR --save`` writes it (:func:`save_tuning`); :func:`rtm.workspace.load_workspace`
reads and checks it (:data:`KEYS`) and the lists of ``rtm weekly --workspace`` and the app
are then scored with the chosen settings, their provenance naming the choice. Everything
else in the file, comments included, is kept as it was.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

#: The keys of ``[tuning]``: the chosen ScoreSettings fields, then what the choice rests on.
SETTING_KEYS = ("history_months", "count_share", "count_rows", "bandwidth_m", "half_life_days", "risk_weight")
RECORD_KEYS = ("chosen", "tuned_on", "validation", "test", "top_n", "test_capture_tuned", "test_capture_naive",
               "test_capture_default")
KEYS = set(SETTING_KEYS) | set(RECORD_KEYS)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def tuning_text(result, today: _dt.date | None = None) -> str:
    """The ``[tuning]`` table of a :class:`~rtm.tuning.choose.TuneResult`, commented."""
    s = result.chosen
    hl = "none" if s.half_life_days is None else float(s.half_life_days)
    lines = [
        "# chosen by 'rtm tune' from this force's own past (docs/backtest.md, \"Self-tuning\");",
        "# delete this table to go back to the shipped default ranking",
        "[tuning]",
        f"chosen = {_value(result.chosen_name)}",
        f"history_months = {int(s.history_months)}",
        f"count_share = {float(s.count_share)!r}",
        f"count_rows = {_value(s.count_rows)}",
        f"bandwidth_m = {float(s.bandwidth_m)!r}",
        f"half_life_days = {_value(hl)}",
        f"risk_weight = {float(s.risk_weight)!r}",
        f"tuned_on = {_value(str(today or _dt.date.today()))}",
        f"validation = {_value([result.validation_periods[0], result.validation_periods[-1]])}",
        f"test = {_value([result.test_periods[0], result.test_periods[-1]])}",
        f"top_n = {int(result.top_n)}",
    ]
    for key, name in (("tuned", "tuned"), ("naive", "naive"), ("default", "shipped default")):
        lines.append(f"test_capture_{key} = {round(result.capture(name), 5)!r}")
    return "\n".join(lines) + "\n"


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def replace_table(text: str, table: str) -> str:
    """``text`` (a TOML file) with its ``[tuning]`` table (and the two comment lines this
    module writes above it) replaced by ``table``, or ``table`` appended."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if (m := _HEADER.match(ln)) and m.group(1) == "tuning"), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + table
    end = next((j for j in range(start + 1, len(lines)) if _HEADER.match(lines[j])), None)
    if end is None:
        end = len(lines)
    else:  # comment lines just above the next table are that table's
        while end - 1 > start and lines[end - 1].lstrip().startswith("#"):
            end -= 1
    while start > 0 and lines[start - 1].startswith(_OWN_COMMENTS):
        start -= 1
    head, tail = "\n".join(lines[:start]).rstrip("\n"), "\n".join(lines[end:]).strip("\n")
    return (head + "\n\n" if head else "") + table + ("\n" + tail + "\n" if tail else "")


_OWN_COMMENTS = ("# chosen by 'rtm tune'", "# delete this table")


def save_tuning(folder, result) -> Path:
    """Write the choice into ``folder/workspace.toml`` as its ``[tuning]`` table, under the
    workspace's lock, and check the file still loads (:func:`rtm.workspace.load_workspace`);
    the old text is restored if it does not. Returns the path. InputError when the folder
    has no workspace or another run holds it."""
    from ..errors import InputError
    from ..workspace import CONFIG, load_workspace, workspace_lock

    load_workspace(folder)  # a workspace that loads, before anything is written
    path = Path(folder).expanduser().resolve() / CONFIG
    with workspace_lock(path.parent):
        old = path.read_text(encoding="utf-8")
        path.write_text(replace_table(old, tuning_text(result)), encoding="utf-8")
        try:
            load_workspace(folder)
        except InputError:
            path.write_text(old, encoding="utf-8")
            raise
    return path

"""Self-tuning: choose a force's ranking from its own past (``rtm tune``).

:mod:`.members` is the documented family of rankings, :mod:`.evaluate` scores any set of
them over rolling origins at the list's size, :mod:`.choose` picks on a validation span and
reports on a later test span, :mod:`.saved` keeps the choice in a workspace's ``[tuning]``
table (read by :mod:`rtm.workspace`), so its lists use it. Names are imported on first use,
so reading a workspace does not load the back-test.
"""

from importlib import import_module

_WHERE = {"LOPO": "evaluate", "NAIVE": "evaluate", "ORACLE": "evaluate", "capture_table": "evaluate",
          "mean_capture": "evaluate", "BANDWIDTH_CELLS": "members", "HALF_LIVES": "members",
          "HISTORY_MONTHS": "members", "RISK_WEIGHTS": "members", "SIGNALS": "members", "effective": "members",
          "family": "members", "CHOSEN": "choose", "DEFAULT": "choose", "TuneResult": "choose",
          "covered_windows": "choose", "spans": "choose", "tune": "choose", "save_tuning": "saved",
          "tuning_text": "saved"}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

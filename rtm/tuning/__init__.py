"""Self-tuning: choose a force's ranking from its own past (``rtm tune``).

:mod:`.family` is the documented family of rankings, :mod:`.evaluate` scores any set of
them over rolling origins at the list's size, :mod:`.tune` picks on a validation span and
reports on a later test span. The choice is kept in a workspace's ``[tuning]`` table
(:mod:`rtm.workspace`) and used by its lists.
"""

from .evaluate import LOPO, NAIVE, ORACLE, capture_table, mean_capture
from .family import BANDWIDTH_CELLS, HALF_LIVES, HISTORY_MONTHS, RISK_WEIGHTS, SIGNALS, effective, family
from .tune import CHOSEN, DEFAULT, TuneResult, covered_windows, spans, tune

__all__ = ["BANDWIDTH_CELLS", "CHOSEN", "DEFAULT", "HALF_LIVES", "HISTORY_MONTHS", "LOPO", "NAIVE", "ORACLE",
           "RISK_WEIGHTS", "SIGNALS", "TuneResult", "capture_table", "covered_windows", "effective", "family",
           "mean_capture", "spans", "tune"]

"""Rolling-origin back-tests: which ranking would have put patrols where the next period's
harm happened.

The package's parts: :mod:`.settings` (what is compared), :mod:`.phs` (prospective
hotspotting), :mod:`.scoring` (one origin: rank and measure), :mod:`.rolling` (the driver
over periods, and the hold-out), :mod:`.results`, :mod:`.plots` and :mod:`.sweep`. The
risk terrain of each period comes from :class:`rtm.terrain_store.TerrainStore`.
"""

from .phs import period_lags, phs_kernel, phs_surface
from .plots import figures, focus_selection, write_outputs
from .results import BacktestResult, summarise
from .rolling import check_inputs, period_scores, run_backtest, run_holdout
from .results import CEILING_LABELS, Skipped, summary_table
from .settings import (CEILINGS, COLUMNS, DEFAULT_SHARES, METHODS, METRICS, PHS_WINDOW, TERRAIN_METHODS,
                       BacktestSettings)
from .sweep import sweep_scoring

__all__ = ["BacktestResult", "BacktestSettings", "CEILINGS", "CEILING_LABELS", "COLUMNS", "Skipped", "summary_table", "DEFAULT_SHARES", "METHODS", "METRICS", "PHS_WINDOW",
           "TERRAIN_METHODS", "check_inputs", "figures", "focus_selection", "period_lags", "period_scores",
           "phs_kernel", "phs_surface", "run_backtest", "run_holdout", "summarise", "sweep_scoring",
           "write_outputs"]

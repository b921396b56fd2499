"""The documented family of rankings that ``rtm tune`` chooses from.

Every member is a :class:`~rtm.ranking.ScoreSettings` of the ``combined`` method. The
family is the product of

* ``history_months``: 12, 24 or 36 months before the period (only those the data covers
  before the validation span: :func:`family`),
* the signal: harm alone; half harm and half counts of crimes (rows with harm above 0);
  half harm and half counts of all rows (anti-social behaviour included); counts of crimes;
  counts of all rows (:attr:`~rtm.ranking.ScoreSettings.count_share` and ``count_rows``),
* the bandwidth: 1.1 or 1.5 cells (165 or 225 m at 150 m spots),
* the recency half-life: 365 days or none,

60 settings in all, at the shipped risk weight. When a risk terrain is given the risk
weight is tuned after: :data:`RISK_WEIGHTS` are tried on the best of the 60.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from ..ranking import ScoreSettings

HISTORY_MONTHS = (12, 24, 36)
SIGNALS = {"harm": (0.0, "crimes"), "blend crimes": (0.5, "crimes"), "blend all rows": (0.5, "all"),
           "counts crimes": (1.0, "crimes"), "counts all rows": (1.0, "all")}
BANDWIDTH_CELLS = (1.1, 1.5)
HALF_LIVES = (365.0, None)
RISK_WEIGHTS = (0.0, 0.1, 0.25, 0.5)


def family(spot_size: float, history_months=HISTORY_MONTHS, base: ScoreSettings = ScoreSettings()
           ) -> dict[str, ScoreSettings]:
    """The family's members by name, e.g. ``h36 blend all rows bw1.1 hl365``.

    ``history_months`` limits the windows tried (those the data covers); the risk weight
    and kernel are ``base``'s. Cost: nothing to speak of.
    """
    out = {}
    for h, (sig, (c, rows)), bw, hl in itertools.product(history_months, SIGNALS.items(), BANDWIDTH_CELLS,
                                                         HALF_LIVES):
        name = f"h{h} {sig} bw{bw:g} hl{'none' if hl is None else f'{hl:g}'}"
        out[name] = replace(base, method="combined", history_months=int(h), count_share=c, count_rows=rows,
                            bandwidth_m=round(bw * spot_size, 6), half_life_days=hl)
    return out


def effective(settings: ScoreSettings, weights: np.ndarray) -> ScoreSettings:
    """``settings`` with what cannot change the ranking on this data made equal, so that
    settings giving the same scores are computed once: when every row weighs the same (count
    weights) the signal is irrelevant; when no row weighs 0, which rows count is."""
    w = np.asarray(weights, float)
    if w.size and np.all(w == w[0]) and w[0] > 0:
        return replace(settings, count_share=0.0, count_rows="crimes")
    if not (w == 0).any():
        return replace(settings, count_rows="crimes")
    return settings

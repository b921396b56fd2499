"""The settings of a risk terrain model, in one frozen object.

:class:`RtmSettings` is what every function that fits, keys or schedules a risk terrain
takes (:func:`rtm.pipeline.run_rtm`, :mod:`rtm.terrain_store`); the command line builds it
from its options, the app wraps it with the factors a user picked. Two equal settings
objects always give the same fitted terrain on the same data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Mapping

import numpy as np

from .bounds import MAX_METRES, MIN_METRES
from .errors import setting_error

INCREMENTS = ("whole", "half")
OPERATIONALISATIONS = ("proximity", "density", "both", "auto")
FAMILY_CHOICES = ("auto", "poisson", "nb1", "nb2")
"""``auto`` lets BIC choose among Poisson, NB1 and NB2; ``negbin`` (the name of NB2 in files
written before NB1 was added) is read as ``nb2``."""
DEFAULT_OPERATIONALISATION = "both"
"""Every factor is tested as proximity and as density unless told otherwise; BIC decides."""
FACTOR_LIMITS = ("operationalisation", "factor")
"""What the one-spatial-influence rule counts: a factor may enter once per operationalisation
(as proximity and as density) or once in all."""


def _pairs(value, what: str) -> tuple:
    """A mapping (or pairs) as a sorted tuple of ``(name, value)``: hashable and ordered."""
    if value is None:
        return ()
    items = value.items() if isinstance(value, Mapping) else value
    try:
        return tuple(sorted((str(k), v) for k, v in items))
    except (TypeError, ValueError):
        raise setting_error(what, f"{value!r} is not a mapping of factor names to values",
                            "give a dict such as {'pubs': 'density'}") from None


@dataclass(frozen=True)
class RtmSettings:
    """How a risk terrain model is built and fitted.

    Parameters
    ----------
    cell_size : float
        Grid cell size in metres.
    block_length : float
        Typical street block length in metres: the unit of spatial influence.
    bands : int
        How many spatial influences to test (1 to 20).
    increment : {"whole", "half"}
        Step between spatial influences: whole or half block lengths.
    operationalisations : mapping of str to str
        ``proximity``, ``density``, ``both`` or ``auto`` per factor (default ``both``:
        every factor tested both ways, BIC decides; ``auto`` is RTMDx's nearest-neighbour rule);
        stored as sorted ``(name, value)`` pairs, read back with :attr:`operationalisation_map`.
    max_influence_m : mapping of str to float
        The maximum spatial influence the ``auto`` rule uses per factor (default: the
        largest spatial influence tested); stored as sorted pairs.
    seed : int
        Seed of the cross-validation folds and of the sample of empty cells.
    family : {"auto", "poisson", "nb1", "nb2"}
        The count model; ``auto`` lets BIC choose among the three. ``negbin`` is read as ``nb2``.
    factor_limit : {"operationalisation", "factor"}
        A factor enters the model at most once per operationalisation (default: once as
        proximity and once as density, each at one spatial influence) or once in all.

    Raises
    ------
    InputError
        A value out of range, naming the setting (``cell_size``, ``bands``, ...).
    """

    cell_size: float = 50.0
    block_length: float = 100.0
    bands: int = 3
    increment: str = "whole"
    operationalisations: tuple = field(default=())
    max_influence_m: tuple = field(default=())
    seed: int = 0
    family: str = "auto"
    factor_limit: str = "operationalisation"

    def __post_init__(self):
        if self.family == "negbin":
            object.__setattr__(self, "family", "nb2")
        object.__setattr__(self, "operationalisations", _pairs(self.operationalisations, "operationalisations"))
        object.__setattr__(self, "max_influence_m", _pairs(self.max_influence_m, "max_influence_m"))
        for name in ("cell_size", "block_length"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not (math.isfinite(v) and MIN_METRES <= v <= MAX_METRES):
                raise setting_error(name, f"must be a number of metres from {MIN_METRES:g} to {MAX_METRES:,g}, "
                                    f"not {v!r}", "give metres, e.g. 100")
            object.__setattr__(self, name, float(v))
        if isinstance(self.bands, bool) or not isinstance(self.bands, (int, np.integer)) or not 1 <= self.bands <= 20:
            raise setting_error("bands", f"must be a whole number from 1 to 20, not {self.bands!r}",
                                "test 3 to 6 spatial influences, e.g. 3")
        object.__setattr__(self, "bands", int(self.bands))
        if self.increment not in INCREMENTS:
            raise setting_error("increment", f"must be 'whole' or 'half', not {self.increment!r}",
                                "use whole or half block lengths")
        for name, op in self.operationalisations:
            if op not in OPERATIONALISATIONS:
                raise setting_error("operationalisations", f"the operationalisation '{op}' of '{name}' is not "
                                    f"one of {', '.join(OPERATIONALISATIONS)}", "choose one of them")
        for name, v in self.max_influence_m:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not (math.isfinite(v) and v > 0):
                raise setting_error("max_influence_m", f"the maximum spatial influence of '{name}' must be a "
                                    f"positive number of metres, not {v!r}", "give it in metres, e.g. 600")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise setting_error("seed", f"must be a whole number, not {self.seed!r}", "give e.g. 0")
        if self.family not in FAMILY_CHOICES:
            raise setting_error("family", f"must be one of {', '.join(FAMILY_CHOICES)}, not {self.family!r}",
                                "use auto to let BIC choose")
        if self.factor_limit not in FACTOR_LIMITS:
            raise setting_error("factor_limit", f"must be 'operationalisation' or 'factor', not {self.factor_limit!r}",
                                "use operationalisation (once as proximity and once as density) or factor")

    # -- views ------------------------------------------------------------------------------
    @property
    def operationalisation_map(self) -> dict:
        """``{factor: operationalisation}`` as given (factors not named are ``both``)."""
        return dict(self.operationalisations)

    @property
    def max_influence_map(self) -> dict:
        """``{factor: metres}`` as given."""
        return dict(self.max_influence_m)

    @property
    def families(self) -> tuple:
        """The families :class:`rtm.model.RiskTerrainModel` compares."""
        return ("poisson", "nb1", "nb2") if self.family == "auto" else (self.family,)

    def spatial_influences(self) -> list[float]:
        """The distances tested for every factor, in metres."""
        from .variables import spatial_influences

        return spatial_influences(self.block_length, self.bands, self.increment)

    def attractor_buffer(self) -> float:
        """How far outside the study area attractors are kept: the largest spatial influence
        (the farthest any feature can reach a cell)."""
        return self.spatial_influences()[-1]

    def with_factors(self, operationalisations: Mapping | None = None,
                     max_influence_m: Mapping | None = None) -> "RtmSettings":
        """A copy with these per-factor treatments added to (and overriding) the given ones."""
        ops = self.operationalisation_map | dict(operationalisations or {})
        max_m = self.max_influence_map | dict(max_influence_m or {})
        return replace(self, operationalisations=ops, max_influence_m=max_m)

    def describe(self) -> dict:
        """Every setting as plain JSON-able values (for keys, provenance and reports)."""
        return {"cell_size_m": self.cell_size, "block_length_m": self.block_length, "bands": self.bands,
                "increment": self.increment, "operationalisations": self.operationalisation_map,
                "max_influence_m": self.max_influence_map, "seed": self.seed, "family": self.family,
                "factor_limit": self.factor_limit}

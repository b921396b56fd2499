"""Risk variables on a grid: distance and density surfaces of attractor layers, cut into
0/1 variables at a series of spatial influences, ready for the risk terrain model.

Each attractor layer (a *factor*) is operationalised as *proximity* (a cell is 1 when its
centre is within the spatial influence of the nearest feature), *density* (1 when the
kernel density with that bandwidth is unusually high), both, or chosen automatically by a
nearest-neighbour test. Spatial influences are multiples of a block length, as in the
RTMDx software (Caplan, Kennedy & Piza, *RTMDx User Manual*, Rutgers Center on Public
Security, 2013; Caplan & Kennedy, *Risk Terrain Modeling: Crime Prediction and Risk
Reduction*, University of California Press, 2016).

The package's parts: :mod:`.geometry` (spatial influences, shared helpers),
:mod:`.proximity`, :mod:`.density`, :mod:`.nearest_neighbour` (the ``auto`` rule) and
:mod:`.matrix` (:func:`build_variables`). The kernels themselves live in
:mod:`rtm.surfaces` (:func:`~rtm.surfaces.quartic_kernel`, :func:`~rtm.surfaces.fft_same`).
"""

from ..terrain_settings import INCREMENTS, OPERATIONALISATIONS
from .density import (
           density_surface,
           density_threshold,
           density_variable,
           kernel_density,
           sample_points,
)
from .geometry import attractor_buffer, spatial_influences
from .matrix import RiskVariables, build_variables
from .nearest_neighbour import (
           AutoChoice,
           NearestNeighbour,
           auto_operationalisation,
           nearest_neighbour_index,
)
from .proximity import distance_surface, proximity

__all__ = ["INCREMENTS", "OPERATIONALISATIONS", "AutoChoice", "NearestNeighbour", "RiskVariables",
           "attractor_buffer", "auto_operationalisation", "build_variables", "density_surface", "density_threshold",
           "density_variable", "distance_surface", "kernel_density", "nearest_neighbour_index", "proximity",
           "sample_points", "spatial_influences"]

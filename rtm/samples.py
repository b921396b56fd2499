"""The bundled sample data sets (``sample_geo/``) and how each is loaded.

Front ends (the app, the CLI's examples, the tests) use these entries rather than
repeating paths and column mappings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .areas import Areas, load_areas
from .incidents import Incidents, load_incidents
from .layouts import ColumnMap
from .weights import HarmWeights

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_geo"


@dataclass(frozen=True)
class Sample:
    """One bundled data set: incidents, the areas they are split into, and the weights."""

    key: str
    title: str
    incidents: tuple
    areas: str
    area_field: str
    weights: str = "cchi"
    mapping: ColumnMap | None = None
    area_tolerance_m: float = 0.0
    period_kind: str = "week"
    """``week`` or ``month``: the lists the data supports (police.uk is dated by month)."""
    default_period: str | None = None
    """The period a front end opens on (``YYYY-MM-DD`` of a day in the week, or ``YYYY-MM``);
    None: the latest the data supports."""
    factors: tuple = ()
    """Catalogue entries (``layers/``) that are the sample's attractor layers; empty: none,
    lists are ranked by harm alone."""
    cell_size: float = 100.0
    """Default risk terrain model settings for the sample (metres, metres, bands)."""
    block_length: float = 100.0
    bands: int = 3

    def paths(self, root: Path = SAMPLE_DIR) -> list[Path]:
        return [root / p for p in self.incidents]

    def available(self, root: Path = SAMPLE_DIR) -> bool:
        return all(p.exists() for p in self.paths(root)) and (root / self.areas).exists()

    def load_areas(self, root: Path = SAMPLE_DIR) -> Areas:
        return load_areas(root / self.areas, self.area_field)

    def load(self, root: Path = SAMPLE_DIR, progress=None) -> tuple[Incidents, Areas]:
        """Load the sample's areas and incidents (incidents outside the areas are rejected)."""
        areas = self.load_areas(root)
        inc = load_incidents(self.paths(root), mapping=self.mapping, weights=HarmWeights.from_name(self.weights),
                             areas=areas, area_tolerance_m=self.area_tolerance_m, progress=progress)
        return inc, areas


SAMPLES = {
    s.key: s for s in (
        Sample("southend", "Southend-on-Sea: police.uk street crime, 12 months (2018-01..2019-02)",
               ("southend/crime",), "southend/southend_lsoa2011.geojson", "LSOA11NM",
               area_tolerance_m=150.0,  # generalised LSOA outlines cut off the seafront
               period_kind="month",
               # its attractors, bundled in sample_geo/southend (Open Pubs, GB rail stations)
               factors=("licensed_premises", "rail_stations")),
        Sample("chicago", "Chicago: aggravated assaults 2016-2019 with exact times",
               ("chicago/assaults_2016_2019.csv",), "chicago/districts.geojson", "District",
               weights="count", mapping=ColumnMap(offence_value="Aggravated assault"),
               period_kind="week",
               factors=("liquor_retail", "abandoned_buildings", "street_lights_out", "sanitation_complaints",
                        "abandoned_cars")),
    )
}

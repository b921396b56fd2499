"""Shared fixtures: where the real data lives, and skipping cleanly when it is absent.

The real data is not part of the project: it sits in ``../shared/data`` next to the
project folder (see its README.md). A fresh clone has no such folder, so every test that
needs it takes one of the fixtures below and is skipped with the reason spelled out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _shared(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"../shared/data/{name} is absent: real-data tests need the shared data "
                    "folder next to the project")
    return path


@pytest.fixture(scope="session")
def essex_dir() -> Path:
    """``../shared/data/essex_policeuk`` (12 monthly street files, LSOA boundaries, Colchester 2023)."""
    return _shared("essex_policeuk")


@pytest.fixture(scope="session")
def chicago_dir() -> Path:
    """``../shared/data/chicago`` (assaults with timestamps, burglary shapefiles, attractors)."""
    return _shared("chicago")


@pytest.fixture(scope="session")
def london_dir() -> Path:
    """``../shared/data/london_osm`` (City of London street crime, POIs, LSOAs)."""
    return _shared("london_osm")


@pytest.fixture(scope="session")
def multiforce_dir() -> Path:
    """``../shared/data/policeuk_multiforce`` (40 forces x 5 months, xz-compressed)."""
    return _shared("policeuk_multiforce")


@pytest.fixture(scope="session", autouse=True)
def _app_folders_outside_the_repository(tmp_path_factory) -> None:
    """The app keeps fitted terrains in ``RTM_MODEL_DIR`` and publishes lists into
    ``RTM_LISTS_DIR`` (defaults ``runs/models`` and ``runs/lists`` in the repository): in
    tests both are temporary folders, so no run writes into the checkout."""
    import os

    for name, folder in (("RTM_MODEL_DIR", "models"), ("RTM_LISTS_DIR", "lists")):
        if name not in os.environ:
            os.environ[name] = str(tmp_path_factory.mktemp(folder))

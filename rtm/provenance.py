"""Provenance pieces built from the inputs and settings of a run, for the weekly list and
for ``rtm model``: enough to trace any output back to its files and reproduce it.

The front ends (CLI, app) pass their inputs here; nothing in this module reads a clock,
so the same inputs give the same provenance.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def file_entry(path) -> dict:
    """``file`` (name without folder), ``sha256`` and ``bytes`` of a file (a folder: of each file in it)."""
    path = Path(path)
    if path.is_dir():
        return {"folder": path.name, "files": [file_entry(p) for p in sorted(path.rglob("*")) if p.is_file()]}
    data = path.read_bytes()
    return {"file": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def weights_entry(weights) -> dict:
    """A harm-weights table (:class:`rtm.weights.HarmWeights`): scheme, the policy for
    unknown offence types, its values and the sha256 of those values (so two runs with
    the same numbers match whatever the file is called)."""
    table = weights.table[["offence_type", "weight"]]
    values = {str(t): float(w) for t, w in zip(table["offence_type"], table["weight"])}
    digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode("utf-8")).hexdigest()
    return {"scheme": weights.scheme, "unknown": weights.unknown, "default_weight": weights.default_weight,
            "source": Path(str(weights.source)).name if weights.source else weights.scheme,
            "sha256_of_values": digest, "values": values}


def list_inputs(weights, *, exclusions=None, streets=None, recording_points=None, week_start: str | None = None,
                area_tolerance_m: float | None = None) -> dict:
    """The extra provenance of a weekly list run (``inputs`` of :func:`rtm.weekly.build_list`).

    Parameters
    ----------
    weights : HarmWeights
    exclusions, streets, recording_points : path, optional
        Files given by the user (name and sha256 recorded; "none" when not given).
    week_start : str, optional
        First day of the week.
    area_tolerance_m : float, optional

    Returns
    -------
    dict
        ``exclusions``, ``streets``, ``recording_points_file``, ``weights`` and ``options``
        (``unknown``, ``default_weight``, ``week_start``, ``area_tolerance_m``).
    """
    def entry(p):
        return file_entry(p) if p else "none"

    return {"exclusions": entry(exclusions), "streets": entry(streets),
            "recording_points_file": entry(recording_points) if recording_points else "default table",
            "weights": weights_entry(weights),
            "options": {"unknown": weights.unknown, "default_weight": weights.default_weight,
                        "week_start": week_start, "area_tolerance_m": area_tolerance_m}}


def model_provenance(result, incidents, weights, settings: dict) -> dict:
    """Provenance of an ``rtm model`` run: what :func:`rtm.pipeline.write_outputs` puts into
    ``terrain.json``, the report and ``risk_terrain.provenance.json``.

    Parameters
    ----------
    result : RtmResult
    incidents : Incidents
        As loaded (its report gives the files, rows and sha256).
    weights : HarmWeights
    settings : dict
        Every setting of the run the result does not hold (e.g. area tolerance, buffer,
        seed, the area file and field), as the user gave them.

    Returns
    -------
    dict
        ``product``, ``inputs`` (incident, area and layer files with rows and sha256),
        ``data_window``, ``parameters`` (the model's and ``settings``), ``weights``,
        ``model`` (family, cells), ``crs`` and ``software``.
    """
    from dataclasses import asdict

    from .weekly import software_version, source_entries

    frame = incidents.frame
    start, end = frame["date_start"].min(), frame["date_end"].max()
    window = (f"incidents recorded from {start:%Y-%m-%d} to {end:%Y-%m-%d}" if start == start and end == end
              else "the incidents have no dates")
    layers = {str(k): source_entries(getattr(getattr(v, "report", None), "sources", []) or [])
              for k, v in (settings.pop("layers", {}) or {}).items()}
    return {
        "product": "Risk terrain model",
        "inputs": {"incidents": source_entries(incidents.report.sources),
                   "areas": source_entries(result.areas.report.sources) if getattr(result.areas, "report", None)
                   else [], "layers": layers},
        "data_window": f"{window} ({len(frame):,} incidents loaded, {result.n_incidents_modelled:,} in the grid)",
        "parameters": {**{k: v for k, v in asdict(result.parameters).items()}, **settings},
        "weights": weights_entry(weights),
        "model": {"family": result.model.family_, "cells": int(result.grid.mask.sum()),
                  "factors_selected": int(len(result.factors))},
        "crs": result.grid.crs.to_string(),
        "software": software_version(),
    }

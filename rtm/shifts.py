"""Lists per shift: the harm-spot list made again from the incidents of each shift.

Thames Valley's hot-spot programme splits its list into two 12-hour shifts; harm is not
spread evenly over the day, so the spots that matter at 02:00 are not those of 14:00.
An incident belongs to the shift in which it started (its ``date_start`` time of day).
Each shift's list is :func:`rtm.weekly.build_list` on that shift's incidents, unchanged,
so its scores, doses and peak hours are its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .errors import setting_error
from .periods import inside

DEFAULT_STARTS = ("07:00", "19:00")


def _minutes(text: str) -> int:
    try:
        h, m = str(text).strip().split(":")
        h, m = int(h), int(m)
    except ValueError:
        h = m = -1
    if not (0 <= h < 24 and 0 <= m < 60):
        raise setting_error("shifts", f"'{text}' is not a time of day", "write shift starts as HH:MM, e.g. 07:00,19:00")
    return h * 60 + m


@dataclass(frozen=True)
class Shifts:
    """Shift boundaries: each shift runs from its start to the next one's (wrapping at midnight).

    Attributes
    ----------
    starts : tuple of str
        ``HH:MM`` start of each shift (default 07:00 and 19:00: a day and a night shift).
    """

    starts: tuple = DEFAULT_STARTS

    def __post_init__(self):
        mins = [_minutes(s) for s in self.starts]
        if len(mins) < 2:
            raise setting_error("shifts", "one shift start makes a single 24-hour shift",
                                "give at least two starts, e.g. 07:00,19:00")
        if len(set(mins)) != len(mins):
            raise setting_error("shifts", f"shift starts {', '.join(self.starts)} repeat a time",
                                "give each start once")
        object.__setattr__(self, "starts", tuple(f"{m // 60:02d}:{m % 60:02d}" for m in sorted(mins)))

    @classmethod
    def parse(cls, text: str) -> "Shifts":
        """From ``"07:00,19:00"``."""
        return cls(tuple(t for t in str(text).split(",") if t.strip()))

    @property
    def names(self) -> list[str]:
        """``07:00-19:00``, ``19:00-07:00``, ... in the order of the starts."""
        s = self.starts
        return [f"{a}-{s[(i + 1) % len(s)]}" for i, a in enumerate(s)]

    def of(self, when: pd.Series) -> np.ndarray:
        """Index of the shift each timestamp started in."""
        mins = np.array([_minutes(s) for s in self.starts])
        tod = (when.dt.hour * 60 + when.dt.minute).to_numpy()
        # the last start at or before the time of day; before the first start: the last shift
        return (np.searchsorted(mins, tod, side="right") - 1) % len(mins)


def check_times(incidents) -> None:
    """InputError unless the incidents carry times of day (``datetime`` resolution)."""
    if incidents.resolution != "datetime":
        what = {"month": "by month only (police.uk)", "day": "by day without times",
                "none": "without dates"}.get(incidents.resolution, incidents.resolution)
        raise setting_error("shifts", f"the incidents are dated {what}, so they cannot be put into shifts",
                            "make one list for the whole day (leave out shifts), or load data with times")


def shift_incidents(incidents, shifts: Shifts) -> dict:
    """``{shift name: Incidents}`` holding the incidents that started in each shift (the same
    load report: the rows were all read; the split is by time of day)."""
    check_times(incidents)
    which = shifts.of(incidents.frame["date_start"])
    return {name: replace(incidents, frame=incidents.frame.loc[which == i]) for i, name in enumerate(shifts.names)}


def shift_lists(incidents, areas, period, shifts: Shifts = Shifts(), **list_kwargs) -> dict:
    """One harm-spot list per shift: :func:`rtm.weekly.build_list` on each shift's incidents.

    Parameters
    ----------
    incidents, areas, period
        As :func:`rtm.weekly.build_list`; the incidents must have times.
    shifts : Shifts
    **list_kwargs
        Passed to :func:`rtm.weekly.build_list` (``terrain``, ``settings``, ``exclusions``,
        ...). ``previous`` should be the same shift's previous list, or left out.

    Returns
    -------
    dict of str to HarmSpotList
        By shift name, in the order of the starts; each list's notes and provenance say
        which shift it is.

    Raises
    ------
    InputError
        Month- or day-only data (no times), bad shift starts, or a shift with no incident
        before the period.

    Notes
    -----
    Cost: one list per shift (each about as costly as the whole-day list).
    """
    from .weekly import build_list

    out = {}
    for name, inc in shift_incidents(incidents, shifts).items():
        if not len(inc.frame) or not inside(inc.frame, None, period.start).any():
            raise setting_error("shifts", f"no incident started in the {name} shift before the {period.label}",
                                "choose other shift starts, or a later period")
        lst = build_list(inc, areas, period, **list_kwargs)
        lst.notes.insert(0, f"Shift {name}: made from the incidents that started in this shift only.")
        lst.provenance["shift"] = f"{name} (incidents by the time they started; shift starts {', '.join(shifts.starts)})"
        out[name] = lst
    return out


def write_shift_lists(lists: dict, folder, districts=None) -> dict:
    """Write each shift's list (CSV, GeoJSON, GeoPackage, KML, briefing) into
    ``folder/shift_<HHMM-HHMM>/``; returns ``{shift name: {kind: Path}}``."""
    from pathlib import Path

    from .exports import write_exports
    from .publish import stem_of

    out = {}
    for name, lst in lists.items():
        tag = name.replace(":", "").replace("-", "_")
        sub = Path(folder) / f"shift_{tag}"
        out[name] = write_exports(lst.spots, lst.provenance, sub, stem=f"{stem_of(lst.period)}_shift_{tag}",
                                  districts=districts, title=f"Harm spots briefing, shift {name}")
    return out


def publish_shift_lists(run, job, period, shifts: Shifts) -> dict:
    """After a weekly job (:func:`rtm.weekly_job.run_weekly`), the same period's lists per
    shift, with the job's terrain, settings, exclusions and streets, written beside the
    whole-day list (``OUT/<period>/shift_<...>/``). Returns ``{shift name: (list, paths)}``.
    Not archived: the archive follows the whole-day list."""
    from pathlib import Path

    from .weekly_job import read_vector

    crs = run.areas.crs
    zones = read_vector(job.exclusions, "exclusion zones", crs) if job.exclusions else None
    streets = read_vector(job.streets, "streets", crs) if job.streets else None
    lists = shift_lists(run.incidents, run.areas, period, shifts, terrain=run.terrain, settings=job.settings,
                        exclusions=zones, streets=streets, street_name=job.street_name)
    folder = Path(next(iter(run.paths.values()))).parent
    paths = write_shift_lists(lists, folder, districts=run.areas.frame)
    return {name: (lists[name], paths[name]) for name in lists}

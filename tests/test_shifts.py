"""Shift lists: incidents split by the shift they started in, one list each with its own
peak hours; month-only data says it cannot."""

import re

import pandas as pd
import pytest

from rtm.errors import InputError
from rtm.periods import month_period, week_period
from rtm.samples import SAMPLES
from rtm.shifts import Shifts, shift_incidents, shift_lists


@pytest.fixture(scope="module")
def chicago():
    return SAMPLES["chicago"].load()


def test_an_incident_belongs_to_the_shift_it_started_in():
    s = Shifts()
    when = pd.Series(pd.to_datetime(["2019-01-01 06:59", "2019-01-01 07:00", "2019-01-01 18:59",
                                     "2019-01-01 19:00", "2019-01-01 23:30", "2019-01-02 00:00"]))
    assert s.names == ["07:00-19:00", "19:00-07:00"]
    assert s.of(when).tolist() == [1, 0, 0, 1, 1, 1]
    three = Shifts.parse("22:00,06:00,14:00")
    assert three.names == ["06:00-14:00", "14:00-22:00", "22:00-06:00"]
    assert three.of(when).tolist() == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("text", ["7", "25:00,07:00", "07:00", "07:00,07:00"])
def test_bad_shift_starts_are_clear(text):
    with pytest.raises(InputError, match="shift"):
        Shifts.parse(text)


def test_shift_lists_on_chicago_have_their_own_peak_hours(chicago):
    inc, areas = chicago
    parts = shift_incidents(inc, Shifts())
    assert sum(len(p.frame) for p in parts.values()) == len(inc.frame)
    lists = shift_lists(inc, areas, week_period("2019-03-04"))
    assert list(lists) == ["07:00-19:00", "19:00-07:00"]
    for name, lst in lists.items():
        assert len(lst.spots) > 0 and lst.provenance["shift"].startswith(name)
        # the peak 3-hour window starts inside the shift (its own incidents only)
        for text in lst.spots["peak_times"]:
            m = re.search(r"; (\d\d):00-", text)
            if m:
                start = int(m.group(1))
                in_day = 7 <= start < 19
                # a window may begin up to 2 hours before the shift when it straddles its start
                assert in_day or start in (5, 6) if name == "07:00-19:00" else (not in_day or start in (17, 18))
    day, night = (set(lists[n].spots["spot_id"]) for n in lists)
    assert day != night


def test_month_only_data_cannot_make_shift_lists():
    inc, areas = SAMPLES["southend"].load()
    with pytest.raises(InputError, match="dated by month only .* cannot be put into shifts"):
        shift_lists(inc, areas, month_period("2019-01"))


def test_weekly_command_writes_a_list_per_shift(tmp_path):
    from click.testing import CliRunner

    from rtm.cli import main

    args = ["weekly", "--incidents", "sample_geo/chicago/assaults_2016_2019.csv", "--offence-value",
            "Aggravated assault", "--weights", "count", "--area", "sample_geo/chicago/districts.geojson",
            "--area-field", "District", "--week", "2019-03-04", "--out", str(tmp_path), "--shifts"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "Shift 19:00-07:00:" in res.output
    import json

    import pandas as pd

    folder = tmp_path / "2019-03-04" / "shift_1900_0700"
    night = pd.read_csv(folder / "harmspots_week_2019-03-04_shift_1900_0700.csv")
    prov = json.loads((folder / "harmspots_week_2019-03-04_shift_1900_0700.provenance.json").read_text())
    assert prov["shift"].startswith("19:00-07:00")
    assert len(night) > 0 and "peak_times" in night


def test_weekly_command_says_month_only_data_cannot_have_shifts(tmp_path):
    from click.testing import CliRunner

    from rtm.cli import main

    args = ["weekly", "--incidents", "sample_geo/southend/crime", "--area",
            "sample_geo/southend/southend_lsoa2011.geojson", "--area-field", "LSOA11NM", "--area-tolerance", "150",
            "--month", "2019-01", "--out", str(tmp_path), "--shifts"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert "option '--shifts': the incidents are dated by month only" in res.output

"""Monthly lists for four Essex districts from the real police.uk files (../shared/data)."""

from __future__ import annotations

import pytest

from rtm.areas import load_areas
from rtm.incidents import load_incidents
from rtm.periods import month_period
from rtm.weekly import ListSettings, build_list
from rtm.weights import HarmWeights

pytestmark = pytest.mark.realdata
DISTRICTS = ["Southend-on-Sea", "Basildon", "Colchester", "Chelmsford"]


@pytest.fixture(scope="module")
def essex(essex_dir):
    areas = load_areas(essex_dir / "boundaries", "LSOA11NM", select=DISTRICTS)
    inc = load_incidents([essex_dir / "crime"], weights=HarmWeights.cchi(), areas=areas, area_tolerance_m=150.0)
    return inc, areas


def test_four_essex_districts_get_monthly_lists(essex):
    inc, areas = essex
    lst = build_list(inc, areas, month_period("2019-01"), settings=ListSettings(area_tolerance_m=150.0))
    s = lst.spots
    assert sorted(s["district"].unique()) == sorted(DISTRICTS)
    assert (s.groupby("district").size() == 20).all()
    assert s.groupby("district")["rank"].apply(lambda r: list(r) == list(range(1, 21))).all()
    # every spot lies in its district's part of Essex, in BNG, and carries police.uk location text
    assert s["easting"].between(540_000, 630_000).all() and s["northing"].between(170_000, 240_000).all()
    assert s["location"].str.match(r"^(near: )?On or near ").all()
    assert (s["peak_times"] == "not available (monthly data)").all()
    # 20 cells of 150 m (0.1-0.9% of a district) held 10-15% of its last year's harm on
    # 2019-01: harm concentrates, as in the Grip trial
    for name, group in s.groupby("district"):
        f = inc.frame[(inc.frame["district"] == name) & (inc.frame["date_end"] <= lst.period.start)
                      & (inc.frame["date_start"] >= lst.period.window("year")[0])]
        share = group["harm_year"].sum() / f["weight"].sum()
        cells = int((lst.grid.mask & (lst.grid.district == lst.grid.district_names.index(name))).sum())
        assert share > 10 * 20 / cells and share < 0.5, (name, share)

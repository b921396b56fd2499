"""The default model (every factor as proximity and density, BIC decides, Poisson/NB1/NB2)
recovers planted risk factors on 20 generated study areas (tests/planted_areas.py):
clustered and scattered points, lines and polygons, null and decoy layers, Poisson and
overdispersed counts, different cell sizes, areas and spatial influences."""

from __future__ import annotations

import pytest

from planted_areas import make_area, run


def test_areas_vary_in_every_way_the_issue_asks():
    areas = [make_area(s) for s in range(20)]
    kinds = {lay.kind for a in areas for lay in a.layers}
    assert kinds == {"point", "line", "polygon"}
    assert {a.overdispersed for a in areas} == {True, False}
    assert len({a.grid.cell_size for a in areas}) > 1 and len({a.grid.shape for a in areas}) > 5
    planted = [v for a in areas for v in a.planted]
    assert any("_prox_" in v for v in planted) and any("_dens_" in v for v in planted)
    assert len({v.rsplit("_", 1)[1] for v in planted}) >= 4  # several distances
    assert all({"schools", "atms", "takeaways"} <= {lay.name for lay in a.layers} for a in areas)  # null, decoy


@pytest.mark.slow
def test_default_recovers_every_planted_factor_in_at_least_18_of_20_areas():
    results = run(range(20))
    wrong = [r for r in results if not r["ok"]]
    assert len(wrong) <= 2, wrong
    assert sum(len(r["false"]) for r in results) <= 1  # at most one false factor in all 20 areas

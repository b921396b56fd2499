"""The working CRS's UTM zone comes from arithmetic; PROJ's database is the reference."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from rtm.coords import utm_epsg


def _proj_zones(lon: float, lat: float) -> set[int]:
    aoi = AreaOfInterest(lon, lat, lon, lat)
    return {int(i.code) for i in query_utm_crs_info(datum_name="WGS 84", area_of_interest=aoi)}


@settings(max_examples=40, deadline=None)
@given(lon=st.floats(-179.9, 179.9), lat=st.floats(-79.9, 83.9))
def test_utm_zone_is_the_one_proj_gives_for_the_point(lon, lat):
    # on a zone edge or the equator two zones are right; PROJ picks one of them
    assume(abs(lon / 6 - round(lon / 6)) > 1e-6 and abs(lat) > 1e-6)
    assert {utm_epsg(lon, lat)} == _proj_zones(lon, lat)


def test_utm_zones_of_known_places():
    assert utm_epsg(-87.63, 41.88) == 32616  # Chicago
    assert utm_epsg(151.2, -33.9) == 32756  # Sydney: southern hemisphere
    assert utm_epsg(5.32, 60.39) == 32631  # Bergen: EPSG's 6-degree zone (the military grid says 32V)
    assert utm_epsg(179.99, 10) == 32660 and utm_epsg(-180, 10) == 32601

"""v2 (CONTRACT 4.1): distances are measured to a location's public area, never its point.

The safety rule takes the nearest point of the disc, so it stays on the safe side wherever in
the disc the secret point lies: checked here against geopy's geodesic (Karney, WGS84).
"""

from __future__ import annotations

import math

from geopy.distance import geodesic
from hypothesis import given
from hypothesis import strategies as st

from solver import Case, FreeUnit, Location, Network, Rules, propose
from solver.distance import safe_distance_m, to_areas_m, whole_km

lats = st.floats(50.8, 53.5)
lons = st.floats(3.4, 7.1)


def inside(lat: float, lon: float, radius_km: float, fraction: float, bearing: float
           ) -> tuple[float, float]:
    """Return a point `fraction` of the radius from the centre (geodesic), on a bearing."""
    point = geodesic(kilometers=radius_km * fraction).destination((lat, lon), bearing)
    return point.latitude, point.longitude


@given(danger_lat=lats, danger_lon=lons, lat=lats, lon=lons, radius=st.floats(0, 15),
       fraction=st.floats(0, 1), bearing=st.floats(0, 360))
def test_the_distance_to_an_area_is_never_more_than_to_any_point_in_it(
        danger_lat, danger_lon, lat, lon, radius, fraction, bearing):
    point = inside(lat, lon, radius, fraction, bearing)
    to_centre = safe_distance_m(danger_lat, danger_lon, [lat], [lon])
    metres = to_areas_m(to_centre, [math.ceil(radius * 1000)])[0]
    assert metres <= geodesic((danger_lat, danger_lon), point).meters
    # And not needlessly short: the radius and the safety margin (~5 m at most) only.
    assert metres >= geodesic((danger_lat, danger_lon), (lat, lon)).meters - radius * 1000 - 10


@given(danger_lat=lats, danger_lon=lons, lat=lats, lon=lons, radius=st.floats(5, 15),
       uncertainty=st.floats(0, 6), fraction=st.floats(0, 1), bearing=st.floats(0, 360),
       current=st.none() | st.tuples(lats, lons))
def test_an_option_is_whole_km_never_more_than_the_true_distance(
        danger_lat, danger_lon, lat, lon, radius, uncertainty, fraction, bearing, current):
    # A groen location: the rood location's own 75 km rule would leave no option to measure.
    location = Location("loc", "Veilig Huis", "GM0344", "groen", lat, lon, radius_km=radius)
    network = Network.build([location], [FreeUnit("unit", "loc", 2)])
    case = Case("case", "GM0599", "groen", danger_lat, danger_lon,
                current[0] if current else None, current[1] if current else None, 1,
                danger_uncertainty_km=uncertainty)
    option = propose(case, network, Rules.default()).options[0]
    point = inside(lat, lon, radius, fraction, bearing)
    # Wherever in its area the location is, and wherever within its uncertainty the danger.
    danger = geodesic(kilometers=uncertainty).destination((danger_lat, danger_lon), bearing + 90)
    true_km = geodesic((danger.latitude, danger.longitude), point).km
    assert isinstance(option.distance_from_danger_km, int)
    assert option.distance_from_danger_km <= true_km
    # Travel is an estimate: to the area's centre, whole km, never more than the geodesic.
    start = current or (danger_lat, danger_lon)
    assert option.travel_km == int(whole_km(safe_distance_m(*start, [lat], [lon]))[0])
    assert option.travel_km <= geodesic(start, (lat, lon)).km


def test_the_rule_counts_the_area_not_the_centre():
    # A danger 80 km from the centre of a 10 km area is 70 km from its edge: too close for rood.
    danger = geodesic(kilometers=80).destination((52.09, 5.12), 90)
    location = Location("loc", "Veilig Huis", "GM0344", "rood", 52.09, 5.12, radius_km=10)
    network = Network.build([location], [FreeUnit("unit", "loc", 2)])
    case = Case("case", "GM0599", "rood", danger.latitude, danger.longitude, None, None, 1)
    proposal = propose(case, network, Rules.default())
    assert proposal.options == ()
    assert [(e.reason, e.locations) for e in proposal.excluded] == [("too_close_to_danger", 1)]
    near = Location("loc", "Veilig Huis", "GM0344", "rood", 52.09, 5.12, radius_km=4)
    option = propose(case, Network.build([near], [FreeUnit("unit", "loc", 2)]),
                     Rules.default()).options[0]
    assert option.distance_from_danger_km == 75 and option.travel_km == 79

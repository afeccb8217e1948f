"""The matcher's DistanceCache: the values of safe_distance_m to the bit, kept per location id."""

from __future__ import annotations

import numpy as np
import pytest

from solver import DistanceCache, FreeUnit, Location, Network
from solver.distance import safe_distance_m


def locations(count: int, seed: int, first: int = 0) -> list[Location]:
    """Return locations L<first>... in and (now and then) outside the accurate domain."""
    rng = np.random.default_rng(seed)
    return [Location(id=f"L{first + i:03d}", name=f"Locatie {i}", region_code="GM0014",
                     safety_level="groen", lat=float(rng.uniform(45.0, 56.0) if i % 9 == 4
                                                     else rng.uniform(51.0, 53.5)),
                     lon=float(rng.uniform(3.5, 7.0))) for i in range(count)]


def network_of(chosen: list[Location]) -> Network:
    return Network.build(chosen, [FreeUnit(f"U{location.id}", location.id, 2)
                                  for location in chosen])


def points(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lat = np.where(rng.random(count) < 0.1, rng.uniform(45.0, 56.0, count),
                   rng.uniform(51.0, 53.5, count))
    return lat, rng.uniform(3.0, 7.5, count)


def assert_fresh(cache: DistanceCache, lat, lon, network: Network) -> None:
    """The cache gives exactly (every bit) what safe_distance_m computes afresh."""
    got = cache.distances_m(lat, lon, network)
    fresh = safe_distance_m(lat[:, None], lon[:, None], network.lat, network.lon)
    assert got.dtype == np.float64 and got.shape == fresh.shape
    assert np.array_equal(got.view(np.int64), fresh.view(np.int64))


@pytest.mark.parametrize("seed", range(5))
def test_bit_identical_to_fresh_on_subsets_duplicates_and_new_locations(seed):
    rng = np.random.default_rng(100 + seed)
    universe = locations(60, seed)
    cache = DistanceCache()
    lat, lon = points(40, seed)
    lat[30:], lon[30:] = lat[:10], lon[:10]  # the same point twice in one call
    for run in range(6):
        # Another subset every run, as load_network gives: cached rows, other columns.
        chosen = [location for location in universe if rng.random() < 0.6]
        keep = rng.random(len(lat)) < 0.8  # some requests leave, new ones come
        lat, lon = np.append(lat[keep], points(5, 10 * seed + run)[0]), np.append(
            lon[keep], points(5, 10 * seed + run)[1])
        assert_fresh(cache, lat, lon, network_of(chosen))
    assert_fresh(cache, lat, lon, network_of([]))  # no location at all
    assert_fresh(cache, lat[:0], lon[:0], network_of(universe))  # no point at all


def test_new_locations_add_columns_computed_for_the_cached_rows_only(monkeypatch):
    cache = DistanceCache()
    lat, lon = points(20, 1)
    first = locations(30, 1)
    assert_fresh(cache, lat, lon, network_of(first))
    assert (len(cache), cache.locations) == (20, 30)
    measured: list[tuple[int, ...]] = []
    from solver import distance_cache

    def counting(*args):
        measured.append(np.broadcast_shapes(*(np.shape(a) for a in args)))
        return safe_distance_m(*args)

    monkeypatch.setattr(distance_cache, "safe_distance_m", counting)
    more = locations(7, 2, first=100)
    assert_fresh(cache, lat, lon, network_of(first[:10] + more))
    assert measured == [(20, 7)]  # the 20 kept rows against the 7 new locations, nothing else
    assert cache.locations == 37
    measured.clear()
    assert_fresh(cache, lat[:5], lon[:5], network_of(first + more))
    assert measured == []  # everything known: nothing measured


def test_a_location_that_moved_empties_the_cache():
    cache = DistanceCache()
    lat, lon = points(10, 3)
    universe = locations(20, 3)
    assert_fresh(cache, lat, lon, network_of(universe))
    moved = universe[5]
    universe[5] = Location(id=moved.id, name=moved.name, region_code=moved.region_code,
                           safety_level=moved.safety_level, lat=moved.lat,
                           lon=float(np.nextafter(moved.lon, 90.0)))  # one ulp east
    assert_fresh(cache, lat[:3], lon[:3], network_of(universe[:10]))
    assert (len(cache), cache.locations) == (3, 10)  # emptied, then refilled by this call
    assert_fresh(cache, lat, lon, network_of(universe))


def test_bounded_least_recently_used_points_leave_first():
    cache = DistanceCache(max_points=8)
    lat, lon = points(20, 4)
    network = network_of(locations(15, 4))
    assert_fresh(cache, lat[:6], lon[:6], network)
    assert_fresh(cache, lat[:2], lon[:2], network)  # 0 and 1 used again: the last to leave
    assert_fresh(cache, lat[6:10], lon[6:10], network)  # 4 more: 2 of the others leave
    assert len(cache) == 8
    kept = set(cache._slot)  # noqa: SLF001 - which points are kept is the point here
    key = [(a, b) for a, b in zip(lat.view(np.int64).tolist(), lon.view(np.int64).tolist(),
                                  strict=True)]
    assert kept == {key[k] for k in (0, 1, 4, 5, 6, 7, 8, 9)}
    for start in range(0, 20, 3):
        assert_fresh(cache, lat[start:start + 7], lon[start:start + 7], network)
        assert len(cache) <= 8
    assert_fresh(cache, lat, lon, network)  # more points than it keeps: measured afresh
    assert len(cache) <= 8

"""Safe-side distances against geopy's geodesic (Karney, WGS84): never longer, and close."""

from __future__ import annotations

import numpy as np
import pytest
from geopy.distance import geodesic

from solver import distance
from solver.distance import (
    DOMAIN_LAT,
    DOMAIN_LON,
    ECCENTRICITY_SQUARED,
    safe_distance_km,
    safe_distance_m,
    whole_km,
)

# Stated bounds. Inside the domain: Lambert's formula shrunk by f^2 (1.1e-5), so at most
# 0.002 % short. Elsewhere: the sphere of radius a(1 - e^2), short by at most the ratio to
# the largest radius of curvature, a / sqrt(1 - e^2) at the poles: 1 - (1 - e^2)^1.5 = 1.0 %.
DOMAIN_RELATIVE_BOUND = 2e-5
WORLD_RELATIVE_BOUND = 1 - (1 - ECCENTRICITY_SQUARED) ** 1.5


def reference_m(lat1, lon1, lats, lons) -> np.ndarray:
    return np.array(
        [geodesic((lat1, lon1), (a, b)).meters for a, b in zip(lats, lons, strict=True)]
    )


def dutch_pairs(rng: np.random.Generator, count: int):
    """Return random pairs in the domain: uniform ones, short ones, and very short ones."""
    lat1 = rng.uniform(*DOMAIN_LAT, count)
    lon1 = rng.uniform(*DOMAIN_LON, count)
    lat2 = rng.uniform(*DOMAIN_LAT, count)
    lon2 = rng.uniform(*DOMAIN_LON, count)
    short = slice(0, count // 4)  # within a few km
    lat2[short] = lat1[short] + rng.normal(0, 0.02, count // 4)
    lon2[short] = lon1[short] + rng.normal(0, 0.02, count // 4)
    tiny = slice(count // 4, count // 4 + count // 10)  # within metres
    lat2[tiny] = lat1[tiny] + rng.normal(0, 2e-5, count // 10)
    lon2[tiny] = lon1[tiny] + rng.normal(0, 2e-5, count // 10)
    return lat1, lon1, np.clip(lat2, *DOMAIN_LAT), np.clip(lon2, *DOMAIN_LON)


def measure(lat1, lon1, lat2, lon2):
    """Return (ours, reference) in metres for each pair."""
    ours = np.array(
        [
            safe_distance_m(a, b, np.array([c]), np.array([d]))[0]
            for a, b, c, d in zip(lat1, lon1, lat2, lon2, strict=True)
        ]
    )
    reference = np.array(
        [geodesic((a, b), (c, d)).meters for a, b, c, d in zip(lat1, lon1, lat2, lon2, strict=True)]
    )
    return ours, reference


def test_never_longer_than_geodesic_on_thousands_of_dutch_pairs():
    rng = np.random.default_rng(20261122)
    ours, reference = measure(*dutch_pairs(rng, 4000))
    assert np.all(ours <= reference)
    relative = (reference - ours) / np.maximum(reference, 1e-9)
    assert relative.max() < DOMAIN_RELATIVE_BOUND
    # Every distance is a real one, not a trivially safe zero.
    assert np.all(ours[reference > 1.0] > 0)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ((DOMAIN_LAT[0], DOMAIN_LON[0]), (DOMAIN_LAT[1], DOMAIN_LON[1])),  # the longest pair
        ((DOMAIN_LAT[0], DOMAIN_LON[1]), (DOMAIN_LAT[1], DOMAIN_LON[0])),
        ((DOMAIN_LAT[0], DOMAIN_LON[0]), (DOMAIN_LAT[0], DOMAIN_LON[1])),  # east-west, south
        ((DOMAIN_LAT[1], DOMAIN_LON[0]), (DOMAIN_LAT[1], DOMAIN_LON[1])),  # east-west, north
        ((DOMAIN_LAT[0], DOMAIN_LON[0]), (DOMAIN_LAT[1], DOMAIN_LON[0])),  # north-south
        ((53.45, 6.83), (50.76, 6.01)),  # Delfzijl - Vaals
        ((52.0907, 5.1214), (52.0907, 5.1214)),  # the same point
        ((52.0907, 5.1214), (52.0907001, 5.1214)),  # about a centimetre
    ],
)
def test_extreme_pairs(start, end):
    ours = safe_distance_m(*start, np.array([end[0]]), np.array([end[1]]))[0]
    reference = geodesic(start, end).meters
    assert ours <= reference
    assert reference - ours <= DOMAIN_RELATIVE_BOUND * reference + 1e-9


def test_never_longer_than_geodesic_anywhere_on_earth():
    rng = np.random.default_rng(7)
    count = 1500
    lat1 = np.degrees(np.arcsin(rng.uniform(-1, 1, count)))
    lat2 = np.degrees(np.arcsin(rng.uniform(-1, 1, count)))
    lon1, lon2 = rng.uniform(-180, 180, count), rng.uniform(-180, 180, count)
    # Half the pairs start in the Netherlands and end abroad (a danger in Belgium, say).
    lat1[::2], lon1[::2] = rng.uniform(51, 53, count // 2), rng.uniform(4, 6, count // 2)
    lat2[1::4], lon2[1::4] = rng.uniform(49, 50.5, count // 4), rng.uniform(2, 7, count // 4)
    ours, reference = measure(lat1, lon1, lat2, lon2)
    assert np.all(ours <= reference)
    relative = (reference - ours) / np.maximum(reference, 1e-9)
    assert relative.max() < WORLD_RELATIVE_BOUND


def test_vectorised_call_equals_one_by_one_and_mixes_domains():
    lats = np.array([52.0, 53.0, 50.0, 52.37, 48.85])  # two outside the domain
    lons = np.array([5.0, 6.0, 4.0, 4.89, 2.35])
    together = safe_distance_km(52.09, 5.12, lats, lons)
    alone = [safe_distance_km(52.09, 5.12, lats[i : i + 1], lons[i : i + 1])[0] for i in range(5)]
    assert together.tolist() == alone
    assert np.all(together * 1000 <= reference_m(52.09, 5.12, lats, lons))


def test_whole_km_rounds_down():
    metres = np.array([0.0, 999.9, 1000.0, 74_999.99, 75_000.0])
    assert whole_km(metres).tolist() == [0, 0, 1, 74, 75]


@pytest.mark.parametrize("block_pairs", [7, 16_384])
def test_a_column_of_start_points_gives_row_by_row_what_one_start_point_gives(
        block_pairs, monkeypatch):
    # The matcher measures every waiting request at once, in blocks of rows; the safety
    # argument is made for one start point: the two must agree to the bit, in the domain
    # and out of it (where the sphere takes over pair by pair).
    monkeypatch.setattr(distance, "BLOCK_PAIRS", block_pairs)
    rng = np.random.default_rng(16)
    lats, lons = rng.uniform(50.0, 54.5, 40), rng.uniform(2.0, 8.5, 40)
    lats[:3], lons[:3] = 52.09, 5.12  # a location at the danger itself
    starts = np.array([[52.09, 5.12], [51.5, 4.0], [53.7, 7.4], [49.0, 6.0], [52.0, 9.0]])
    together = safe_distance_m(starts[:, :1], starts[:, 1:], lats, lons)
    for row, (lat, lon) in enumerate(starts):
        assert np.array_equal(together[row], safe_distance_m(lat, lon, lats, lons))

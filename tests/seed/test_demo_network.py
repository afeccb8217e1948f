"""The demo network: deterministic, national, realistic enough to show options and refusals."""

import re
import time
from collections import Counter

import pytest

from seed.demo_network import (
    MAX_KM,
    REGIONS_CSV,
    generate_network,
    load_regions,
    places_by_region,
)
from shelter_match.gazetteer import Gazetteer, km_between
from shelter_match.services.places import shipped_region_gemeenten
from solver.vocabulary import FEATURES, LEVELS

SIX_CODES = {
    "GM0363": "Amsterdam",
    "GM0599": "Rotterdam",
    "GM0518": "'s-Gravenhage",
    "GM0344": "Utrecht",
    "GM0014": "Groningen",
    "GM0935": "Maastricht",
}


@pytest.fixture(scope="module")
def network():
    return generate_network()


@pytest.fixture(scope="module")
def big_network():
    return generate_network(scale=10)


def units_of(locations):
    return [unit for location in locations for unit in location.units]


def test_regions_file_has_the_35_centrumgemeenten():
    regions = load_regions()
    codes = [r.code for r in regions]
    assert len(regions) == 35
    assert len(set(codes)) == 35
    assert len({r.name for r in regions}) == 35
    assert all(re.fullmatch(r"GM\d{4}", code) for code in codes)
    assert {r.code: r.name for r in regions if r.code in SIX_CODES} == SIX_CODES
    for region in regions:
        assert 50.7 < region.lat < 53.6 and 3.3 < region.lon < 7.3, region
    assert REGIONS_CSV.read_text().startswith("#")  # says where the list comes from


def test_same_seed_same_network_other_seed_other_network(network):
    assert generate_network(scale=1, seed=0) == network
    other = generate_network(scale=1, seed=1)
    assert other != network
    assert [(loc.lat, loc.lon) for loc in other] != [(loc.lat, loc.lon) for loc in network]


def test_scale_one_is_a_national_network(network):
    assert 90 <= len(network) <= 110
    assert {loc.region_code for loc in network} == {r.code for r in load_regions()}
    assert 8 <= len(units_of(network)) / len(network) <= 12


def test_scale_ten_is_ten_times_bigger_and_fast(big_network):
    assert 950 <= len(big_network) <= 1050
    assert 9000 <= len(units_of(big_network)) <= 11000
    # CPU time, not wall time: on a machine shared with other test runs (CI, eight agents)
    # the wall clock measures the neighbours; the generator's own work is what must be fast.
    started = time.process_time()
    generate_network(scale=10, seed=7)
    assert time.process_time() - started < 1.0


def test_bigger_regions_get_more_locations(big_network):
    counts = Counter(loc.region_code for loc in big_network)
    assert counts["GM0363"] > 2 * counts["GM0400"]  # Amsterdam against Den Helder
    assert min(counts.values()) >= 10


def test_keys_are_stable_and_unique(network, big_network):
    for locations in (network, big_network):
        keys = [loc.key for loc in locations]
        assert len(set(keys)) == len(keys)
        for loc in locations:
            assert re.fullmatch(rf"demo-{loc.region_code}-\d{{3,}}", loc.key)
    assert {loc.key for loc in network} <= {loc.key for loc in big_network}


def test_every_field_is_in_the_vocabulary(big_network):
    for loc in big_network:
        assert loc.safety_level in LEVELS
        assert len(set(loc.features)) == len(loc.features)
        assert list(loc.features) == [f for f in FEATURES if f in loc.features]
        assert isinstance(loc.accepts_night_intake, bool)
        assert loc.name and loc.address
        assert loc.units
        for unit in loc.units:
            assert unit.status in {"free", "occupied", "closed"}
            if unit.label.startswith("Gezinsunit"):
                assert 3 <= unit.beds <= 6
            else:
                assert unit.label.startswith("Kamer") and 1 <= unit.beds <= 2
        assert len({unit.label for unit in loc.units}) == len(loc.units)


def test_locations_sit_near_real_places_in_their_region(big_network):
    centres = {r.code: r for r in load_regions()}
    gazetteer = Gazetteer.default()
    towns = [p for p in gazetteer.places() if p.kind in ("gemeente", "woonplaats")]
    region_of = shipped_region_gemeenten()
    for loc in big_network:
        centre = centres[loc.region_code]
        assert km_between(loc.lat, loc.lon, centre.lat, centre.lon) <= MAX_KM + 3, loc
        nearest = min(km_between(loc.lat, loc.lon, t.lat, t.lon) for t in towns)
        assert nearest <= 0.7, loc
        # In a gemeente of its own region (by the gemeente -> region table, not the nearest
        # centre), as the locations service checks.
        near = gazetteer.gemeenten_near(loc.lat, loc.lon)
        assert loc.region_code in {region_of[g.gemeente_code] for g in near}, loc
    spots = [(loc.lat, loc.lon) for loc in big_network]
    assert len(set(spots)) == len(spots)


def test_towns_lie_in_the_region_of_their_gemeente_not_the_nearest_centre():
    """Dronten, Urk and Noordoostpolder belong to Almere's region; Zoetermeer to Den Haag's."""
    gazetteer = Gazetteer.default()
    regions = {r.code for r in load_regions()}
    by_region = places_by_region(load_regions(), gazetteer)
    where = {p.name: code for code, places in by_region.items() for p in places}
    assert where.get("Dronten") == "GM0034" and where.get("Zoetermeer") == "GM0518"
    assert set(by_region) == regions


def test_realistic_occupancy(network, big_network):
    for locations in (network, big_network):
        status = Counter(unit.status for unit in units_of(locations))
        total = sum(status.values())
        assert 0.65 <= status["occupied"] / total <= 0.85
        assert 0 < status["closed"] / total <= 0.08
        assert status["free"] / total >= 0.10
        full = [loc for loc in locations if all(u.status != "free" for u in loc.units)]
        assert 0.03 * len(locations) <= len(full) <= 0.5 * len(locations)


def test_unit_mix_has_family_units_and_single_rooms(network):
    beds = Counter("family" if unit.beds >= 3 else "single" for unit in units_of(network))
    share = beds["family"] / sum(beds.values())
    assert 0.3 <= share <= 0.6


def test_realistic_levels_and_rare_features(network, big_network):
    for locations in (network, big_network):
        levels = Counter(loc.safety_level for loc in locations)
        assert set(levels) == set(LEVELS)
        assert 0.15 <= levels["rood"] / len(locations) <= 0.35
        assert levels["groen"] + levels["oranje"] > len(locations) / 2
        features = Counter(f for loc in locations for f in loc.features)
        assert set(features) == set(FEATURES)
        for rare in ("men", "pets_allowed"):
            assert 2 <= features[rare] <= 0.1 * len(locations)
        assert features["wheelchair_accessible"] > features["men"]
        night = sum(loc.accepts_night_intake for loc in locations) / len(locations)
        assert 0.7 <= night <= 0.95


def test_secret_locations_are_named_after_their_region_only(network):
    regions = {r.code: r.name for r in load_regions()}
    for loc in network:
        if loc.safety_level == "rood":
            town = loc.address.rsplit(", ", 1)[1]
            assert regions[loc.region_code] in loc.name
            assert town == regions[loc.region_code] or town not in loc.name


def test_scale_must_be_positive():
    with pytest.raises(ValueError):
        generate_network(scale=0)

"""The offline gazetteer: every gemeente, woonplaats and postcode; never a silent namesake."""

import csv
import json
from pathlib import Path

import pytest
from geopy.distance import geodesic

from shelter_match import gazetteer as gazetteer_module
from shelter_match.gazetteer import DATA, Gazetteer, normalise

REGIONS_CSV = Path(__file__).resolve().parents[2] / "seed" / "regions.csv"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.default()


def test_the_data_file_is_compact_and_whole():
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert DATA.stat().st_size < 1_500_000
    codes = {row[0] for row in data["gemeenten"]}
    assert len(codes) == 342 and all(c.startswith("GM") and len(c) == 6 for c in codes)
    assert {row[1] for row in data["woonplaatsen"]} <= codes
    assert {row[2] for row in data["postcodes"]} <= codes
    assert len(data["postcodes"]) > 4000
    for rows, radius in ((data["gemeenten"], 5), (data["woonplaatsen"], 4),
                         (data["postcodes"], 5), (data["abroad"], 4)):
        assert all(row[radius] >= 1.0 for row in rows)
    assert {row[1] for row in data["abroad"]} == {"BE", "DE"}


def test_every_centrumgemeente_is_a_gemeente_at_its_region_centre(gazetteer):
    lines = [line for line in REGIONS_CSV.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    for region in csv.DictReader(lines):
        gemeente = gazetteer.gemeente(region["code"])
        assert gemeente is not None and gemeente.name == region["name"], region
        assert geodesic((gemeente.lat, gemeente.lon),
                        (float(region["lat"]), float(region["lon"]))).km < 3, region


@pytest.mark.parametrize(("query", "expected"), [
    ("ROTTERDAM", "Rotterdam"),
    ("s gravenhage", "'s-Gravenhage"),
    ("Den Haag", "'s-Gravenhage"),
    ("Gravenhage", "'s-Gravenhage"),
    ("The Hague", "'s-Gravenhage"),
    ("Den Bosch", "'s-Hertogenbosch"),
    ("sudwest fryslan", "Súdwest-Fryslân"),
    ("Gemeente Ede", "Ede"),
    ("  utrecht ", "Utrecht"),
])
def test_matching_forgives_case_accents_punctuation_and_common_names(gazetteer, query, expected):
    place = gazetteer.resolve(query)
    assert place is not None and place.gemeente_name == expected


@pytest.mark.parametrize(("frisian", "dutch"), [
    ("Frjentsjer", "Franeker"), ("Starum", "Stavoren"), ("Warkum", "Workum"),
    ("Wolvegea", "Wolvega"), ("Snits", "Sneek"), ("Harns", "Harlingen"),
    ("De Jouwer", "Joure"), ("Boalsert", "Bolsward"),
])
def test_frisian_names_resolve(gazetteer, frisian, dutch):
    assert gazetteer.resolve(frisian).name == dutch


def test_ljouwert_is_leeuwarden(gazetteer):
    assert gazetteer.resolve("Ljouwert").gemeente_code == "GM0080"


def test_a_name_several_places_carry_is_never_resolved_silently(gazetteer):
    for name in ("Valkenburg", "Hengelo", "Bergen", "Rijswijk", "Oosterwolde", "Beek", "Velp",
                 "Zevenhuizen", "Laren", "Haren"):
        answer = gazetteer.lookup(name)
        assert answer.status == "ambiguous", name
        assert gazetteer.resolve(name) is None
        # Every choice resolves, to a different place.
        places = [gazetteer.resolve(choice) for choice in answer.choices]
        assert all(places) and len({(p.lat, p.lon) for p in places}) == len(places), name
    assert gazetteer.ambiguous("Valkenburg") == ("Valkenburg (ZH)", "Valkenburg (L)")
    assert gazetteer.ambiguous("hengelo") == ("Hengelo (Ov)", "Hengelo (Gld)")
    assert gazetteer.ambiguous("Zwolle") == ()


@pytest.mark.parametrize(("query", "gemeente"), [
    ("Valkenburg ZH", "Katwijk"), ("Valkenburg (Z-H)", "Katwijk"),
    ("Valkenburg (Z.H.)", "Katwijk"), ("Valkenburg, Zuid-Holland", "Katwijk"),
    ("Valkenburg (Katwijk)", "Katwijk"), ("Valkenburg L", "Valkenburg aan de Geul"),
    ("Valkenburg (Limburg)", "Valkenburg aan de Geul"),
    ("Hengelo (Gld)", "Bronckhorst"), ("Hengelo Gld", "Bronckhorst"),
    ("Hengelo (Gelderland)", "Bronckhorst"), ("Hengelo (Bronckhorst)", "Bronckhorst"),
    ("Hengelo (Ov)", "Hengelo (O.)"), ("Hengelo (O.)", "Hengelo (O.)"),
    ("Hengelo Overijssel", "Hengelo (O.)"), ("Bergen NH", "Bergen (NH.)"),
    ("Bergen (L.)", "Bergen (L.)"), ("Zevenhuizen (Zuidplas)", "Zuidplas"),
    ("Rijswijk ZH", "Rijswijk (ZH.)"),
])
def test_qualifiers_in_their_usual_written_forms_resolve(gazetteer, query, gemeente):
    place = gazetteer.resolve(query)
    assert place is not None, query
    assert place.gemeente_name == gemeente


def test_a_qualifier_that_fits_none_lists_the_ones_there_are(gazetteer):
    answer = gazetteer.lookup("Valkenburg (Gld)")
    assert answer.status == "unknown"
    assert answer.suggestions == ("Valkenburg (ZH)", "Valkenburg (L)")


def test_a_gemeente_and_its_namesake_woonplaats(gazetteer):
    rotterdam = gazetteer.resolve("Rotterdam")
    # The gemeente, whose extent reaches Hoek van Holland and the Maasvlakte.
    assert rotterdam.kind == "gemeente"
    hoek = gazetteer.resolve("Hoek van Holland")
    assert geodesic((rotterdam.lat, rotterdam.lon), (hoek.lat, hoek.lon)).km < rotterdam.radius_km
    city = gazetteer.resolve("Rotterdam (woonplaats)")
    assert city.kind == "woonplaats" and city.radius_km < rotterdam.radius_km
    assert gazetteer.resolve("gemeente Rotterdam") is rotterdam


@pytest.mark.parametrize(("query", "pc4", "gemeente"), [
    ("1012", "1012", "GM0363"), ("3011 AB", "3011", "GM0599"), ("3011AB", "3011", "GM0599"),
    (" 9711  ", "9711", "GM0014"), ("3011 AB Rotterdam", "3011", "GM0599"),
])
def test_postcodes_resolve_to_their_pc4_area(gazetteer, query, pc4, gemeente):
    place = gazetteer.resolve(query)
    assert (place.kind, place.name, place.gemeente_code) == ("postcode", pc4, gemeente)
    assert 1 <= place.radius_km <= 10


def test_an_unknown_postcode_is_unknown(gazetteer):
    assert gazetteer.lookup("0999").status == "unknown"
    assert gazetteer.lookup("9999").status == "unknown"


def test_caribbean_netherlands_is_outside_said_plainly(gazetteer):
    for name in ("Bonaire", "Kralendijk", "Sint Eustatius", "Saba", "Curaçao", "Bonair"):
        answer = gazetteer.lookup(name)
        assert answer.status == "outside", name
        assert "valt buiten dit netwerk" in answer.message and "911" in answer.message
        assert answer.suggestions == ()
    assert gazetteer.search("Bonaire") == []


def test_towns_across_the_border_are_known_abroad(gazetteer):
    for name, country in (("Antwerpen", "BE"), ("Aachen", "DE"), ("Aken", "DE"),
                          ("Emmerich", "DE"), ("Kleve", "DE"), ("Luik", "BE"), ("Gent", "BE")):
        place = gazetteer.resolve(name)
        assert place is not None and place.kind == "abroad" and place.country == country, name
        assert place.gemeente_code is None and place.radius_km >= 2
    assert gazetteer.resolve("Berlin") is None and gazetteer.resolve("Paris") is None


def test_unknown_names_get_close_suggestions_best_first(gazetteer):
    assert gazetteer.resolve("Rotterdm") is None
    assert gazetteer.suggest("Rotterdm")[0] == "Rotterdam"
    assert gazetteer.suggest("Amsterdm")[0] == "Amsterdam"
    assert gazetteer.suggest("Groningn")[0] == "Groningen"
    assert gazetteer.suggest("Schiedm")[0] == "Schiedam"
    assert gazetteer.suggest("Zwole")[0] == "Zwolle"
    for query in ("Ber", "Rotterdm", "Xqzwvk", "Amstrdam"):
        names = gazetteer.suggest(query, limit=3)
        assert len(names) <= 3
        assert all(gazetteer.resolve(name) is not None for name in names)
    assert gazetteer.suggest("Xqzwvk") == [] and gazetteer.suggest("") == []
    assert gazetteer.resolve("") is None


def test_search_puts_the_meant_place_first_then_prefixes(gazetteer):
    assert [p.qualified_name for p in gazetteer.search("Hengelo")][:2] == [
        "Hengelo (Ov)", "Hengelo (Gld)"]
    results = gazetteer.search("Amster", limit=5)
    assert results[0].name == "Amsterdam" and len(results) <= 5
    assert gazetteer.search("Rotterdam")[1].qualified_name == "Rotterdam (woonplaats)"


def test_extents_cover_the_place(gazetteer):
    # Every postcode area of a gemeente lies within the gemeente's disc.
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for pc4, _woonplaats, code, lat, lon, radius in data["postcodes"]:
        gemeente = gazetteer.gemeente(code)
        reach = geodesic((gemeente.lat, gemeente.lon), (lat, lon)).km + radius
        assert reach <= gemeente.radius_km + 0.2, (pc4, gemeente.name)
    # Not a flat 5 km: large gemeenten reach far.
    assert gazetteer.gemeente("GM0599").radius_km > 24.5  # Rotterdam: Hoek van Holland
    assert sum(g.radius_km > 5 for g in gazetteer.gemeenten()) > 73


def test_points_belong_to_their_gemeente_and_woonplaats(gazetteer):
    assert gazetteer.gemeente_at(51.9192, 4.3889).name == "Schiedam"
    assert gazetteer.gemeente_at(52.0600, 4.4940).name == "Zoetermeer"
    assert gazetteer.gemeente_at(52.5185, 5.7190).name == "Dronten"
    assert gazetteer.woonplaats_at(52.1800, 4.4320).qualified_name == "Valkenburg (ZH)"
    assert gazetteer.woonplaats_at(50.8652, 5.8320).qualified_name == "Valkenburg (L)"
    assert gazetteer.postcode_at(52.3735, 4.8951).name == "1012"


@pytest.mark.parametrize(("lat", "lon", "inside"), [
    (52.09, 5.12, True),       # Utrecht
    (53.45, 5.75, True),       # Ameland
    (50.85, 4.35, False),      # Brussels
    (50.7766, 6.0834, False),  # Aachen
    (51.2194, 4.4025, False),  # Antwerpen
    (52.52, 13.40, False),     # Berlin
    (53.9, 4.5, False),        # the North Sea
    (12.15, -68.27, False),    # Bonaire
])
def test_whether_a_point_lies_in_the_netherlands(gazetteer, lat, lon, inside):
    assert gazetteer.is_in_netherlands(lat, lon) is inside
    assert (gazetteer.gemeente_at(lat, lon) is not None) is inside


def test_the_functions_issue_13_builds_on(gazetteer):
    assert gazetteer_module.gemeente_at(51.9192, 4.3889).gemeente_code == "GM0606"
    assert gazetteer_module.woonplaats_at(51.9192, 4.3889).gemeente_code == "GM0606"
    assert gazetteer_module.is_in_netherlands(52.09, 5.12)
    lat, lon, radius = gazetteer_module.place_extent("Schiedam")
    assert (round(lat, 2), round(lon, 2)) == (51.92, 4.39) and radius >= 5
    assert gazetteer_module.place_extent("Valkenburg") is None  # ambiguous: choose


def test_normalise():
    assert normalise("Súdwest-Fryslân") == normalise("sudwest fryslan") == "sudwestfryslan"
    assert normalise("'s-Gravenhage") == normalise("s Gravenhage")
    assert normalise("Gemeente Ede") == "ede"
    assert normalise("Gemeentehuis") == "gemeentehuis"
    assert normalise("St.-Annaparochie") == normalise("Sint Annaparochie")
    assert normalise("Stein") == "stein"


def test_default_is_built_once(gazetteer):
    assert Gazetteer.default() is gazetteer

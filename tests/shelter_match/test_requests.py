"""Placement requests: pseudonymous, validated field by field, danger rounded to ~1 km."""

import math
from itertools import product

import pytest
from geopy.distance import geodesic
from sqlalchemy import func, select

from shelter_match.errors import NotFound, ValidationFailed
from shelter_match.models import AuditEvent, PlacementRequest
from shelter_match.services import requests
from shelter_match.services.locations import NL_LAT, NL_LON
from shelter_match.services.requests import (
    LAT_STEP,
    LON_STEP,
    ROUNDING_KM,
    PointData,
    RequestData,
    case_reference_errors,
    is_bsn,
    round_point,
)
from tests.factories import make_caller, make_location, make_request, principal_of


def data(**overrides):
    values = dict(case_reference="VT-2026-0042", origin_region_code="GM0599", risk_level="rood",
                  danger=PointData(place="Schiedam"), adults=1, children=2)
    values.update(overrides)
    return RequestData(**values)


def errors_of(session, clock, **overrides) -> dict:
    worker = make_caller(session, clock, "crisis_worker")
    with pytest.raises(ValidationFailed) as caught:
        requests.create_request(session, data(**overrides), actor=principal_of(session, worker),
                                now=clock.now())
    return caught.value.errors


@pytest.mark.parametrize("number", ["111222333", "123456782", "12345672"])
def test_bsn_elfproef_recognises_valid_numbers(number):
    assert is_bsn(number)


@pytest.mark.parametrize("number", ["111222334", "123456789", "000000000", "1234567", "abc"])
def test_bsn_elfproef_refuses_other_numbers(number):
    assert not is_bsn(number)


# The case-reference check, as a table. A reference must not identify her: no name, no BSN
# (nine digits passing the elfproef, anywhere in it, also in the usual groupings) and no
# full date more than 12 years back (a birth date). Checked on 2026-11-22, the test night.
GOOD_REFERENCES = [
    "VT-2026-0042",
    "case.17",
    "A1",
    "2026/0042_b",
    "x" * 63 + "1",
    "VT-123-456-783",          # nine digits in groups failing the elfproef
    "VT-2026-11-22-0042",      # today's date and a number: a case, not a person
    "VT-2026-11-22",
    "20261122-0042",           # the same without separators in the date
    "VT-2014-12-01-7",         # less than 12 years ago
    "VT20260042111",           # 11 digits: no window of nine passes the elfproef
    "VT-1987-7",               # a year alone is not a date
    "VT-2010-13-45",           # no such date
]
BAD_REFERENCES = [
    ("Jan Jansen", "letters"),           # a name, with a space
    ("JanJansen", "digit"),              # no digit: a name, not a reference
    ("123456782", "BSN"),                # a BSN
    ("VT-111222333", "BSN"),             # a BSN inside a reference
    ("1234.56.782", "BSN"),              # a BSN written in groups, as on a passport
    ("123 456 782", "BSN"),              # ... or with spaces
    ("123-456-782", "BSN"),
    ("12.34.56.782", "BSN"),
    ("VT-123-456-782", "BSN"),           # a BSN in groups inside a reference
    ("VT-9-1234.56.782", "BSN"),         # ... after another group
    ("VT2026111222333", "BSN"),          # a BSN inside a longer run of digits
    ("1112223330", "BSN"),               # a BSN and one digit more
    ("0111222333", "BSN"),               # a digit less in front
    ("VT-2026-111222333-1", "BSN"),
    ("12345672", "BSN"),                 # an old eight-digit BSN
    ("Fatima.ElAmrani.1987-03-12", "date"),  # a name and a birth date
    ("FEA-12-03-1987", "date"),          # day-month-year
    ("FEA-12.3.1987", "date"),
    ("FEA19870312", "date"),             # run together
    ("VT-25121985-1", "date"),
    ("VT-2014-11-21", "date"),           # just over 12 years ago
    ("-VT1", "letters"),                 # must start with a letter or digit
    ("VT 2026", "letters"),              # spaces
    ("Zoë-1", "letters"),                # not ASCII
    ("x" * 64 + "1", "64"),              # too long
    ("", "empty"),
]


@pytest.mark.parametrize("reference", GOOD_REFERENCES)
def test_pseudonymous_references_are_accepted(reference, clock):
    assert case_reference_errors(reference, today=clock.now().date()) == []


@pytest.mark.parametrize(("reference", "why"), BAD_REFERENCES)
def test_names_bsns_birth_dates_and_odd_references_are_refused(reference, why, clock):
    errors = case_reference_errors(reference, today=clock.now().date())
    assert len(errors) == 1 and why.lower() in errors[0].lower()


@pytest.mark.parametrize("reference", ["VT2026111222333", "Fatima.ElAmrani.1987-03-12",
                                       "123 456 782"])
def test_an_identifying_reference_is_422_naming_case_reference_and_nothing_is_written(
        session, clock, reference):
    before = session.scalar(select(func.count()).select_from(PlacementRequest))
    assert list(errors_of(session, clock, case_reference=reference)) == ["case_reference"]
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == before


def test_create_request_rounds_the_danger_and_audits_without_client_data(session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    request = requests.create_request(
        session, data(danger=PointData(lat=51.92345, lon=4.40678), needs=["pets_allowed"]),
        actor=principal_of(session, worker), now=clock.now())
    assert (request.danger_lat, request.danger_lon) == (51.92, 4.41)
    assert request.danger_place is None and request.status == "open"
    assert request.household_size == 3
    event = session.scalars(select(AuditEvent).where(AuditEvent.object_id == request.id)).one()
    assert event.action == "request.created"
    assert "VT-2026-0042" not in str(event.detail) and "51.92" not in str(event.detail)


def test_place_name_resolves_forgiving_case_and_accents(session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    request = requests.create_request(session, data(danger=PointData(place="  sudwest-fryslan")),
                                      actor=principal_of(session, worker), now=clock.now())
    assert request.danger_place == "Súdwest-Fryslân"
    assert request.danger_place_kind == "gemeente"
    assert abs(request.danger_lat - 53.03) < 0.011


def test_a_name_of_places_far_apart_is_422_until_she_chooses(session, clock):
    """"Hengelo" is a city in Overijssel and a village in Gelderland, 40 km apart."""
    worker = make_caller(session, clock, "crisis_worker")
    actor = principal_of(session, worker)
    before = session.scalar(select(func.count()).select_from(PlacementRequest))
    with pytest.raises(ValidationFailed) as caught:
        requests.create_request(session, data(danger=PointData(place="hengelo")), actor=actor,
                                now=clock.now())
    assert caught.value.errors["danger"] == [
        "'hengelo' names places far apart. Choose one of: Hengelo (Ov), "
        "Hengelo (Gld)."]
    assert caught.value.extra["suggestions"]["danger"] == ["Hengelo (Ov)",
                                                           "Hengelo (Gld)"]
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == before
    chosen = requests.create_request(session, data(danger=PointData(place="Hengelo (Gld)")),
                                     actor=actor, now=clock.now())
    assert chosen.danger_place == "Hengelo (Gld)"
    assert abs(chosen.danger_lat - 52.05) < 0.011 and abs(chosen.danger_lon - 6.31) < 0.011


def test_unknown_place_is_422_with_suggestions(session, clock):
    worker = make_caller(session, clock, "crisis_worker")
    with pytest.raises(ValidationFailed) as caught:
        requests.create_request(session, data(danger=PointData(place="Rotterdm"),
                                              current=PointData(place="Nergenshuizen-aan-Zee")),
                                actor=principal_of(session, worker), now=clock.now())
    assert caught.value.errors["danger"] == [
        "Unknown place 'Rotterdm'. Did you mean: Rotterdam, Ottersum, Notter, Rottum (Fr), "
        "Rottum (Gr)?"]
    assert "current" in caught.value.errors
    assert caught.value.extra["suggestions"]["danger"][0] == "Rotterdam"


@pytest.mark.parametrize(("field", "overrides"), [
    ("case_reference", {"case_reference": "Fatima El Amrani"}),
    ("origin_region_code", {"origin_region_code": "GM9999"}),
    ("risk_level", {"risk_level": "paars"}),
    ("household.adults", {"adults": 0}),
    ("household.children", {"children": -1}),
    ("household.adults", {"adults": 11}),
    ("needs", {"needs": ["sauna"]}),
    ("excluded_region_codes", {"excluded_region_codes": ["GM0000"]}),
    ("excluded_location_ids", {"excluded_location_ids": ["no-such-location"]}),
    ("danger", {"danger": PointData(place="Schiedam", lat=51.9, lon=4.4)}),
    ("danger", {"danger": PointData()}),
    ("danger", {"danger": PointData(lat=51.9)}),
    ("danger", {"danger": PointData(lat=48.85, lon=2.35)}),   # Paris
    ("danger", {"danger": PointData(lat=4.4, lon=51.9)}),     # swapped
    ("current", {"current": PointData(lat=60.0, lon=5.0)}),
])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(session, clock, field, overrides):
    before = session.scalar(select(func.count()).select_from(PlacementRequest))
    assert field in errors_of(session, clock, **overrides)
    assert session.scalar(select(func.count()).select_from(PlacementRequest)) == before


def test_existing_exclusions_are_accepted(session, clock):
    location = make_location(session, clock)
    worker = make_caller(session, clock, "crisis_worker")
    request = make_request(session, clock, worker, excluded_region_codes=("GM0518", "GM0518"),
                           excluded_location_ids=(location.id,))
    assert request.excluded_region_codes == ["GM0518"]
    assert request.excluded_location_ids == [location.id]


def test_rounding_never_moves_a_point_more_than_rounding_km():
    # The corners of the grid cells are the worst case; walk the whole country's box.
    worst = 0.0
    for lat, lon in product(
        [NL_LAT[0] + i * 0.0371 for i in range(90)], [NL_LON[0] + j * 0.0503 for j in range(90)]
    ):
        for dlat, dlon in product((-0.4999, 0.4999), repeat=2):
            point = (lat + dlat * LAT_STEP, lon + dlon * LON_STEP)
            worst = max(worst, geodesic(point, round_point(*point)).km)
    assert 0.7 < worst <= ROUNDING_KM


def test_rounding_is_never_finer_than_about_1_km():
    # Two points in neighbouring cells are stored at least ~0.9 km apart: no finer grid.
    lat, lon = round_point(52.1, 5.1)
    north = round_point(52.1 + LAT_STEP, 5.1)
    east = round_point(52.1, 5.1 + LON_STEP)
    assert geodesic((lat, lon), north).km > 1.0
    assert geodesic((lat, lon), east).km > 0.9
    assert math.isclose(round_point(*round_point(52.3456, 4.8765))[0], round_point(52.3456,
                                                                                   4.8765)[0])


def test_a_crisis_worker_sees_only_her_own_requests(session, clock):
    nina = make_caller(session, clock, "crisis_worker")
    ali = make_caller(session, clock, "crisis_worker")
    admin = make_caller(session, clock, "admin")
    hers = make_request(session, clock, nina)
    with pytest.raises(NotFound):
        requests.get_request(session, hers.id, actor=principal_of(session, ali))
    assert requests.get_request(session, hers.id, actor=principal_of(session, admin)) is hers
    mine = requests.list_requests(session, actor=principal_of(session, ali), now=clock.now())
    assert mine == []
    everyone = requests.list_requests(session, actor=principal_of(session, admin),
                                      now=clock.now())
    assert hers.id in {view.request.id for view in everyone}
    # Only the crisis worker who made it sees the danger; an admin does not.
    assert not [v for v in everyone if v.request.id == hers.id][0].show_points

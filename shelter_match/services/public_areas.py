"""Public areas: what everyone may know of where a location is (CONTRACT 4.1).

A location's point is secret; its public area is not: a named place (a woonplaats or a
gemeente of the gazetteer) and a disc around that place's centre, at least MIN_RADIUS_KM
and large enough to cover the place, at most MAX_RADIUS_KM. The secret point always lies in
the disc. Everything a caller without a right to the address sees is computed from the disc
alone (shelter_match.services.proposals), so no number of calls locates the point any finer.

"Lies in the disc" is decided with geopy's geodesic (Karney, WGS84), the same reference the
safe-side distances are tested against: the solver subtracts the radius from a lower bound of
the distance to the centre, and by the triangle inequality of the geodesic that stays a lower
bound of the distance to every point of the disc.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from geopy.distance import geodesic

from shelter_match.gazetteer import Gazetteer, Place, km_between

MIN_RADIUS_KM = 5.0
MAX_RADIUS_KM = 15.0
# The kinds of place a public area may be named after (not a postcode, not a town abroad).
PUBLIC_KINDS = ("gemeente", "woonplaats", "place")
# Candidates tried when no place is given, after the woonplaats and gemeente of the point.
NEARBY_CANDIDATES = 40


@dataclass(frozen=True)
class PublicArea:
    """A location's public place and the disc that holds its secret point."""

    place: str  # the place's qualified name: it resolves back to the place
    gemeente_code: str
    lat: float
    lon: float
    radius_km: float


class PlaceTooLarge(ValueError):
    """A place whose disc would be larger than MAX_RADIUS_KM."""


def area_of(place: Place) -> PublicArea:
    """Return the public area of a place; raise PlaceTooLarge beyond MAX_RADIUS_KM."""
    # Rounded up to 10 m, so the disc still covers the place's whole extent.
    radius = math.ceil(max(MIN_RADIUS_KM, place.radius_km) * 100) / 100
    if radius > MAX_RADIUS_KM or place.gemeente_code is None:
        raise PlaceTooLarge(place.qualified_name)
    return PublicArea(place.qualified_name, place.gemeente_code, place.lat, place.lon, radius)


def contains(area: PublicArea, lat: float, lon: float) -> bool:
    """Return whether a point lies in the area's disc (geodesic, the reference)."""
    return bool(geodesic((area.lat, area.lon), (lat, lon)).km <= area.radius_km)


def place_errors(name: object, lat: float | None, lon: float | None,
                 ) -> tuple[PublicArea | None, list[str]]:
    """Return the public area a named place gives a location at (lat, lon), or why not.

    The messages name the place and its radius, never the point (it is secret).
    """
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        return None, ["Give a woonplaats or gemeente (1 to 100 characters)."]
    text = " ".join(name.split())
    answer = Gazetteer.default().lookup(text)
    if answer.status == "ambiguous":
        return None, [f"{text!r} names several places. Choose one of: "
                      f"{', '.join(answer.choices)}."]
    if answer.status != "found" or answer.place is None:
        hint = f" Did you mean: {', '.join(answer.suggestions)}?" if answer.suggestions else ""
        return None, [answer.message or f"Unknown place {text!r}.{hint}"]
    place = answer.place
    if place.kind not in PUBLIC_KINDS or not place.in_netherlands:
        return None, [f"{place.qualified_name} is a {place.kind}: give a Dutch woonplaats or "
                      "gemeente."]
    try:
        area = area_of(place)
    except PlaceTooLarge:
        return None, [f"{place.qualified_name} is larger than a public area may be "
                      f"({MAX_RADIUS_KM:g} km): choose its woonplaats or a smaller place "
                      "that holds the location."]
    if lat is not None and lon is not None and not contains(area, lat, lon):
        return None, [f"The location lies outside {area.place} (a disc of "
                      f"{area.radius_km:g} km around its centre): give the place that holds "
                      "it, or check the coordinates."]
    return area, []


def derive(lat: float, lon: float) -> PublicArea | None:
    """Return the public area of a point: its woonplaats, else its gemeente, else the nearest
    place whose disc holds it; None when no place of at most MAX_RADIUS_KM does."""
    gazetteer = Gazetteer.default()
    first = [gazetteer.woonplaats_at(lat, lon), gazetteer.gemeente_at(lat, lon)]
    for place in [p for p in first if p is not None] + _nearby(gazetteer, lat, lon):
        try:
            area = area_of(place)
        except PlaceTooLarge:
            continue
        if contains(area, lat, lon):
            return area
    return None


def _nearby(gazetteer: Gazetteer, lat: float, lon: float) -> list[Place]:
    """Return the public places nearest to a point, nearest centre first."""
    places = [p for p in gazetteer.places() if p.kind in PUBLIC_KINDS]
    centres = np.array([(p.lat, p.lon) for p in places])
    rough = np.hypot(centres[:, 0] - lat, (centres[:, 1] - lon) * math.cos(math.radians(lat)))
    nearest = np.argsort(rough, kind="stable")[:NEARBY_CANDIDATES]
    return sorted((places[i] for i in nearest.tolist()),
                  key=lambda p: (km_between(lat, lon, p.lat, p.lon), p.qualified_name))

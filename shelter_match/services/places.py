"""Places and regions: what a name means, which region a gemeente or point belongs to.

The gazetteer (shelter_match.gazetteer) knows names and points; which of the 35 regions a
gemeente belongs to is data an administrator keeps (region_gemeenten, moved with
`shelter-match region move` or on the admin page), so everything that needs a region asks
here, with a session.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import NotFound, ValidationFailed
from shelter_match.gazetteer import Gazetteer, Lookup, Place, normalise
from shelter_match.models import Region, RegionGemeente
from shelter_match.services import audit
from shelter_match.services.auth import Principal

MAX_QUERY = 100
MAX_RESULTS = 50
# How far past the nearest postcode centre a location may still count as lying in a
# neighbouring gemeente: points are placed by postcode centres, good to a km or two.
BOUNDARY_SLACK_KM = 1.5


@dataclass(frozen=True)
class NamedPlace:
    """A place a name resolved to, for a request: the point, its extent and its region."""

    place: Place
    region_code: str | None


def gazetteer() -> Gazetteer:
    """Return the process's gazetteer."""
    return Gazetteer.default()


def region_of_gemeente(session: Session, gemeente_code: str | None) -> str | None:
    """Return the region code of a gemeente (None for no gemeente or an unknown one)."""
    if gemeente_code is None:
        return None
    return session.scalar(
        select(RegionGemeente.region_code).where(RegionGemeente.gemeente_code == gemeente_code)
    )


def regions_of_gemeenten(session: Session, codes: set[str]) -> dict[str, str]:
    """Return gemeente code -> region code for the given gemeenten, in one query."""
    if not codes:
        return {}
    return dict(session.execute(
        select(RegionGemeente.gemeente_code, RegionGemeente.region_code)
        .where(RegionGemeente.gemeente_code.in_(codes))
    ).all())


def cached_region_table(session: Session) -> dict[str, str]:
    """Return gemeente code -> region code, read at most once per REGION_TABLE_TTL per
    database in this process. Only for showing places (GET /places): a move shows there
    within seconds; the origin of a request and the check of a location always read the
    table itself (region_of_gemeente), so nothing that decides is ever stale."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    cached = _region_tables.get(key)
    if cached is not None and 0 <= time.monotonic() - cached[0] < REGION_TABLE_TTL:
        return cached[1]
    table = dict(session.execute(
        select(RegionGemeente.gemeente_code, RegionGemeente.region_code)).all())
    _region_tables[key] = (time.monotonic(), table)
    return table


# Why a cache at all: the region look-up was a database round trip on every search, a third
# of the time of GET /places on a busy PostgreSQL; the table changes a few times a year.
REGION_TABLE_TTL = 10.0
_region_tables: dict[str, tuple[float, dict[str, str]]] = {}


def region_of_point(session: Session, lat: float, lon: float) -> str | None:
    """Return the region of the gemeente that holds a point; None outside the Netherlands."""
    gemeente = gazetteer().gemeente_at(lat, lon)
    return None if gemeente is None else region_of_gemeente(session, gemeente.gemeente_code)


def gemeenten_of_region(session: Session, region_code: str) -> list[RegionGemeente]:
    """Return the gemeenten of a region, by name."""
    return list(session.scalars(
        select(RegionGemeente).where(RegionGemeente.region_code == region_code)
        .order_by(RegionGemeente.gemeente_name, RegionGemeente.gemeente_code)
    ))


def all_region_gemeenten(session: Session) -> list[RegionGemeente]:
    """Return every gemeente with its region, by region and name."""
    return list(session.scalars(
        select(RegionGemeente).order_by(RegionGemeente.region_code,
                                        RegionGemeente.gemeente_name)
    ))


def place_body(place: Place, region_code: str | None) -> dict[str, Any]:
    """Return a place as the API and the pages show it."""
    return {
        "name": place.name,
        "qualified_name": place.qualified_name,
        "kind": place.kind,
        "gemeente_code": place.gemeente_code,
        "gemeente_name": place.gemeente_name,
        "region_code": region_code,
        "province": place.province,
        "country": place.country,
        "lat": place.lat,
        "lon": place.lon,
        "radius_km": place.radius_km,
    }


def search_places(session: Session, query: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """Return the places a search box offers for `query`, best match first, with regions."""
    text = " ".join(query.split())
    if not text or len(text) > MAX_QUERY:
        raise ValidationFailed({"q": [f"Give 1 to {MAX_QUERY} characters."]})
    matches = gazetteer().search_matches(text, limit=limit)
    if not matches:
        answer = gazetteer().lookup(text)
        if answer.status == "outside":
            # Said plainly, as for a request: no look-alikes from the Netherlands.
            raise ValidationFailed({"q": [answer.message or "Outside this network."]})
    regions = cached_region_table(session) if matches else {}
    return [place_body(p, regions.get(p.gemeente_code or "")) | {"match": match}
            for p, match in matches]


def lookup_errors(answer: Lookup, text: str, *, purpose: str) -> list[str]:
    """Return why a name cannot be used (empty when it resolved to one place).

    `purpose` is "danger" (a town abroad may be named), "origin" or "location" (Dutch only).
    """
    if answer.status == "outside":
        return [answer.message or "Outside this network."]
    if answer.status == "ambiguous":
        # Guessing could put the point at the wrong town, 100 km off: let her choose.
        return [f"{text!r} names places far apart. Choose one of: "
                f"{', '.join(answer.choices)}."]
    if answer.status == "unknown":
        message = f"Unknown place {text!r}."
        if answer.suggestions:
            return [message + f" Did you mean: {', '.join(answer.suggestions)}?"]
        return [message + " Give a Dutch gemeente, town or postcode, or coordinates."]
    if answer.place is not None and not answer.place.in_netherlands and purpose != "danger":
        return [f"{answer.place.qualified_name} lies abroad: a place across the border may be "
                f"named as a danger only, not as {'her home' if purpose == 'origin' else purpose}."]
    return []


def origin_region(session: Session, text: str, errors: dict[str, list[str]],
                  suggestions: dict[str, list[str]], *, field: str = "origin") -> str | None:
    """Return the region of the gemeente or woonplaats she lives in; note errors on `field`."""
    text = " ".join(text.split())
    if not text or len(text) > MAX_QUERY:
        errors[field] = [f"A place name must be 1 to {MAX_QUERY} characters."]
        return None
    answer = gazetteer().lookup(text)
    problems = lookup_errors(answer, text, purpose="origin")
    if problems:
        errors[field] = problems
        if answer.choices:
            suggestions[field] = list(answer.choices)
        return None
    assert answer.place is not None
    region = region_of_gemeente(session, answer.place.gemeente_code)
    if region is None:
        errors[field] = [f"No region is known for {answer.place.gemeente_name}; an admin "
                         "can assign it (shelter-match region move)."]
    return region


def location_point_errors(session: Session, lat: object, lon: object,
                          region_code: object) -> dict[str, list[str]]:
    """Return the errors of a location's point: it must lie in the Netherlands, in a
    gemeente of its region. Names the field to fix; never the point (it is secret)."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and v == v
               for v in (lat, lon)):
        return {}  # the range checks of the location fields report these
    near = gazetteer().gemeenten_near(float(lat), float(lon),  # type: ignore[arg-type]
                                      slack_km=BOUNDARY_SLACK_KM)
    if not near:
        message = ["Must lie in the Netherlands (the point is abroad or at sea)."]
        return {"lat": message, "lon": message}
    if not isinstance(region_code, str) or session.get(Region, region_code) is None:
        return {}  # an unknown region is reported by the location fields' check
    regions = regions_of_gemeenten(session, {g.gemeente_code for g in near if g.gemeente_code})
    if region_code in regions.values():
        return {}
    holder = near[0]
    actual = regions.get(holder.gemeente_code or "")
    where = f" (region {actual})" if actual else ""
    return {"region_code": [f"The location lies in gemeente {holder.gemeente_name}{where}, "
                            f"not in region {region_code}: give that region, or check the "
                            "coordinates."]}


def find_gemeente(session: Session, gemeente: str) -> RegionGemeente:
    """Return the region row of a gemeente given by CBS code ("GM0606") or name."""
    text = gemeente.strip()
    row = session.get(RegionGemeente, text.upper())
    if row is None:
        key = normalise(text)
        rows = [r for r in session.scalars(select(RegionGemeente))
                if normalise(r.gemeente_name) == key
                or normalise(r.gemeente_name.split(" (")[0]) == key]
        if len(rows) > 1:
            raise ValidationFailed({"gemeente": [
                f"{text!r} names several gemeenten: "
                f"{', '.join(f'{r.gemeente_name} ({r.gemeente_code})' for r in rows)}; "
                "give the code."]})
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"No gemeente {text!r}; give its CBS code (GM0606) or official name.")
    return row


@command
def move_gemeente(session: Session, gemeente: str, region_code: str, *,
                  actor: Principal | None, now: datetime, source: str = "api") -> RegionGemeente:
    """Move a gemeente to another region; audit it. Requests already made keep their
    origin region (the solidarity figures of the past do not change)."""
    row = find_gemeente(session, gemeente)
    if session.get(Region, region_code) is None:
        raise ValidationFailed({"region_code": [f"Unknown region code {region_code!r}."]})
    if row.region_code == region_code:
        return row
    before = row.region_code
    row.region_code = region_code
    row.updated_at = now
    row.updated_by = actor.user_id if actor else None
    session.flush()
    _region_tables.clear()  # this process shows the move at once; others within the TTL
    audit.record(session, actor=actor, action="region.gemeente_moved", object_type="gemeente",
                 object_id=row.gemeente_code, now=now, before=before, after=region_code,
                 source=source)
    return row


SHIPPED_REGION_GEMEENTEN = Path(__file__).resolve().parents[1] / "data" / "region_gemeenten.csv"


def shipped_region_gemeenten() -> dict[str, str]:
    """Return gemeente code -> region code as shipped (the file migration 0002 loads).

    For data made without a database (the demo network); everything else reads the table.
    """
    lines = [line for line in SHIPPED_REGION_GEMEENTEN.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return {row["gemeente_code"]: row["region_code"] for row in csv.DictReader(lines)}

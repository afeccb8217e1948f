"""Placement requests: a crisis worker's pseudonymous description of a case.

What is kept is the least that a safe proposal needs: a pseudonymous case reference, the
origin region, the risk level, the household's size and needs, and where the danger is,
rounded to about 1 km. A request's status `held` is never stored: it is `open` with an
active hold whose `expires_at` lies ahead, so an expired hold needs no job to undo it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from shelter_match.db import command, rowcount
from shelter_match.errors import NotFound, ValidationFailed
from shelter_match.gazetteer import Gazetteer
from shelter_match.models import (
    Hold,
    Location,
    Placement,
    PlacementRequest,
    Region,
    RequestOverride,
)
from shelter_match.services import audit, digests, quotas
from shelter_match.services import places as place_service
from shelter_match.services.auth import Principal
from shelter_match.services.intake_phone import disclose_for_hold
from shelter_match.services.locations import NL_LAT, NL_LON
from shelter_match.services.policy import Policy, get_policy
from shelter_match.services.request_access import in_organisation, in_organisation_sql, may_see
from shelter_match.services.unit_state import active_hold_sql
from solver.vocabulary import FEATURES, LEVELS, REQUEST_TARGET_GROUPS

CASE_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
MAX_CASE_REFERENCE = 64
MAX_ADULTS = 10
MAX_CHILDREN = 15
MAX_EXCLUSIONS = 100
MAX_PLACE_NAME = 100
MAX_DANGERS = 5  # a family network: the first danger and up to four more
MAX_CHILD_AGE = 17
SEXES = ("female", "male")
# A child alone is not a case for a women's shelter (CONTRACT 4.2): say where to turn.
MINOR_ALONE = ("A minor without an adult is not placed through the shelters: contact youth "
               "care (jeugdzorg, the Jeugdbescherming on duty) or Veilig Thuis "
               "(0800-2000, day and night).")
STATUSES = ("open", "held", "waiting", "offered", "placed", "cancelled")
# Stored statuses of a request that may still be placed: open, or on the waiting list.
OPEN_STATUSES = ("open", "waiting")

# Points are stored on a grid no finer than about 1 km: 0.01° of latitude is 1.11 km and
# 0.015° of longitude is 0.95-1.06 km across the Netherlands (50.5-53.8° N).
LAT_STEP = 0.01
LON_STEP = 0.015
# The farthest a stored point can lie from the given one: half a step each way, at the
# southern edge where a degree of longitude is longest: hypot(0.556, 0.531) = 0.77 km.
ROUNDING_KM = 0.8


@dataclass(frozen=True)
class PointData:
    """Where something is: a gazetteer place name, or coordinates (never both)."""

    place: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class RequestData:
    case_reference: str
    # Her region; may be left out (None) when `origin_place` names where she lives.
    origin_region_code: str | None
    risk_level: str
    danger: PointData
    adults: int
    children: int = 0
    current: PointData | None = None
    needs: Sequence[str] = ()
    excluded_region_codes: Sequence[str] = ()
    excluded_location_ids: Sequence[str] = ()
    # Her home gemeente or woonplaats (`origin: {place}`): the region follows from it.
    origin_place: str | None = None
    # Dangers beyond the first (a family network); None: the danger was given alone.
    more_dangers: Sequence[PointData] | None = None
    # women or men; None: men when the v1 need "men" is given, else women.
    target_group: str | None = None
    # [(age, sex)] per child, as many as `children`; None: not described.
    children_detail: Sequence[tuple[int, str]] | None = None


@dataclass(frozen=True)
class ResolvedPoint:
    lat: float
    lon: float
    place: str | None = None
    kind: str | None = None  # gazetteer kind of a named place: "gemeente", "woonplaats", ...
    radius_km: float | None = None  # the named place's extent: a disc that covers it


@dataclass(frozen=True)
class PointView:
    """A stored point as its crisis worker sees it, and how far the truth may lie from it."""

    place: str | None
    lat: float
    lon: float
    uncertainty_km: float


@dataclass(frozen=True)
class OfferView:
    """The matcher's offer to a waiting request (CONTRACT 4.4): a hold, and where to call.

    `place` is the location's public place; `intake_phone` its 24/7 intake line, only for
    the crisis workers of the request's organisation and each showing audited (as on a hold).
    """

    hold_id: str
    unit_id: str
    location_id: str
    place: str | None
    intake_phone: str | None
    expires_at: datetime


@dataclass
class RequestView:
    """A request as its reader sees it at `now`: the derived status, hold and placement."""

    request: PlacementRequest
    status: str
    active_hold: Hold | None = None
    placement_id: str | None = None
    offer: OfferView | None = None
    # Only the crisis workers of its organisation see where the danger and the client are.
    show_points: bool = False
    danger: PointView | None = None
    current: PointView | None = None
    # Every danger, the first included, when they were given as a list.
    dangers: list[PointView] | None = None
    # A duty officer's overrides of this request's rules (services.overrides), shown on it.
    overrides: list[Any] = field(default_factory=list)


def danger_uncertainty_km(request: PlacementRequest, policy: Policy) -> float:
    """Return how far the real danger may lie from the stored point, in km.

    The stored point is rounded (ROUNDING_KM); a place name stands for its centre, and the
    danger may be anywhere in the place: its extent (the gazetteer's radius that covers it,
    stored with the request), never less than policy.danger_place_radius_km for its kind.
    Requests made before extents were stored fall back on the policy radius alone.
    """
    return _uncertainty_km(request.danger_place_kind, request.danger_radius_km, policy)


def more_danger_uncertainties_km(request: PlacementRequest, policy: Policy) -> list[float]:
    """Return, per danger beyond the first, how far the real one may lie from its point."""
    return [_uncertainty_km(point.get("kind"), point.get("radius_km"), policy)
            for point in request.more_dangers or ()]


def _uncertainty_km(place_kind: str | None, place_radius_km: float | None,
                    policy: Policy) -> float:
    radius = 0.0
    if place_kind is not None:
        kind = "gemeente" if place_kind == "gemeente" else "place"
        radius = max(float(policy.danger_place_radius_km.get(kind, 0)), place_radius_km or 0.0)
    # Rounded up: the margin must never shrink below what covers the place.
    return math.ceil((ROUNDING_KM + radius) * 10 - 1e-9) / 10


def _points(request: PlacementRequest, policy: Policy) -> dict[str, Any]:
    """Return the danger and current points of a request (None once purged or not given)."""
    danger = current = None
    if request.danger_lat is not None and request.danger_lon is not None:
        danger = PointView(request.danger_place, request.danger_lat, request.danger_lon,
                           danger_uncertainty_km(request, policy))
    if request.current_lat is not None and request.current_lon is not None:
        current = PointView(None, request.current_lat, request.current_lon, ROUNDING_KM)
    dangers = None
    if danger is not None and request.more_dangers is not None:
        dangers = [danger] + [
            PointView(point.get("place"), point["lat"], point["lon"], uncertainty)
            for point, uncertainty in zip(request.more_dangers,
                                          more_danger_uncertainties_km(request, policy),
                                          strict=True)]
    return {"danger": danger, "current": current, "dangers": dangers}


def round_point(lat: float, lon: float) -> tuple[float, float]:
    """Return the point on the ~1 km storage grid nearest to (lat, lon)."""
    return (
        round(round(lat / LAT_STEP) * LAT_STEP, 4),
        round(round(lon / LON_STEP) * LON_STEP, 4),
    )


def is_bsn(digits: str) -> bool:
    """Return whether 8 or 9 digits pass the BSN eleven-test (elfproef)."""
    if not digits.isdigit() or len(digits) not in (8, 9):
        return False
    digits = digits.zfill(9)
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    total -= int(digits[8])
    return total % 11 == 0 and digits != "000000000"


# Digits written in groups, as BSNs are on passports and letters: 1234.56.782, 123 456 782.
BSN_GROUPING = re.compile(r"\d+(?:[._/ -]\d+)+")
# Full dates with separators, year first or last: 1987-03-12, 12.3.1987, 12/03/1987.
DATE_SEPARATOR = r"[._/ -]"
YEAR_FIRST = re.compile(rf"(?<!\d)(?=(\d{{4}})({DATE_SEPARATOR})(\d{{1,2}})\2(\d{{1,2}})(?!\d))")
YEAR_LAST = re.compile(rf"(?<!\d)(?=(\d{{1,2}})({DATE_SEPARATOR})(\d{{1,2}})\2(\d{{4}})(?!\d))")
# A full date further back than this is most likely a birth date (nobody is placed
# through this service as a baby; a case is never that old). Recent dates are case dates.
BIRTH_DATE_YEARS = 12
EARLIEST_YEAR = 1900


def _bsn_candidates(reference: str) -> list[str]:
    """Return every nine digits in `reference` that could be a BSN, and eight-digit runs.

    Every nine-digit window of each unbroken run of digits (a BSN hides as well in
    VT2026111222333 as in 1112223330), and every nine digits written in consecutive groups
    (1234.56.782, 123 456 782). Groups are joined only to exactly nine digits, so that a
    reference like VT-2026-11-22-0042 is not refused for the digits of a date and a number.
    """
    candidates: list[str] = []
    for run in re.findall(r"\d+", reference):
        if len(run) == 8:
            candidates.append(run)  # the oldest BSNs have eight digits
        candidates.extend(run[start:start + 9] for start in range(len(run) - 8))
    for written in BSN_GROUPING.findall(reference):
        groups = re.split(r"\D", written)
        for start in range(len(groups)):
            for end in range(start + 2, len(groups) + 1):
                joined = "".join(groups[start:end])
                if len(joined) == 9:
                    candidates.append(joined)
    return candidates


def _dates_in(reference: str) -> list[date]:
    """Return every full calendar date written in `reference`, with or without separators."""
    found: list[tuple[str, str, str]] = []
    for match in YEAR_FIRST.finditer(reference):
        year, _, month, day = match.groups()
        found.append((year, month, day))
    for match in YEAR_LAST.finditer(reference):
        day, _, month, year = match.groups()
        found.append((year, month, day))
    for run in re.findall(r"\d{8,}", reference):
        for start in range(len(run) - 7):
            window = run[start:start + 8]
            found.append((window[:4], window[4:6], window[6:]))   # 19870312
            found.append((window[4:], window[2:4], window[:2]))   # 12031987
    dates = []
    for year, month, day in found:
        if int(year) < EARLIEST_YEAR:
            continue
        try:
            dates.append(date(int(year), int(month), int(day)))
        except ValueError:
            continue  # no such day: digits, not a date
    return dates


def _holds_a_bsn(text: str) -> bool:
    """Return whether `text` holds nine (or eight) digits that pass the elfproef."""
    return any(is_bsn(digits) for digits in _bsn_candidates(text))


def _holds_a_birth_date(text: str, today: date | None) -> bool:
    """Return whether `text` holds a full date more than BIRTH_DATE_YEARS before `today`."""
    cutoff = _years_before(today or datetime.now(UTC).date(), BIRTH_DATE_YEARS)
    return any(written < cutoff for written in _dates_in(text))


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def case_reference_errors(reference: str, *, today: date | None = None) -> list[str]:
    """Return why a case reference is refused: it must not be a name, a BSN or a birth date."""
    if not reference:
        return ["Must not be empty."]
    if len(reference) > MAX_CASE_REFERENCE:
        return [f"Must be at most {MAX_CASE_REFERENCE} characters."]
    # Before the character rules, so that "123 456 782" is refused for what it is.
    if _holds_a_bsn(reference):
        return ["Looks like a BSN (nine digits that pass the elfproef): use a pseudonymous "
                "reference, never a citizen service number."]
    if _holds_a_birth_date(reference, today):
        return [f"Holds a date more than {BIRTH_DATE_YEARS} years ago, which looks like a "
                "birth date: use a pseudonymous reference such as VT-2026-0042."]
    if not CASE_REFERENCE.match(reference):
        return [
            "Use only letters, digits, '.', '_', '/' and '-', starting with a letter or "
            "digit: a pseudonymous reference, never a name."
        ]
    if not any(ch.isdigit() for ch in reference):
        return ["Must contain a digit: a pseudonymous reference such as VT-2026-0042, "
                "never a name."]
    return []


def free_text_errors(text: str, *, max_length: int, today: date | None = None) -> list[str]:
    """Return why a free text (a duty officer's reason) is refused: empty, too long, or
    holding a BSN or a birth date, by the same checks as a case reference."""
    if not text or not text.strip():
        return ["Must not be empty."]
    if len(text) > max_length:
        return [f"Must be at most {max_length} characters."]
    if any(not ch.isprintable() for ch in text):
        return ["Use one line of printable characters."]
    if _holds_a_bsn(text):
        return ["Looks like a BSN (nine digits that pass the elfproef): never write a "
                "citizen service number here."]
    if _holds_a_birth_date(text, today):
        return [f"Holds a date more than {BIRTH_DATE_YEARS} years ago, which looks like a "
                "birth date: write no personal data here."]
    return []


def resolve_point(point: PointData, name: str, errors: dict[str, list[str]],
                  suggestions: dict[str, list[str]]) -> ResolvedPoint | None:
    """Return a place name or coordinates as a point; note errors under `name`."""
    has_place = point.place is not None
    has_coords = point.lat is not None or point.lon is not None
    if has_place == has_coords:
        errors[name] = ["Give either a place name ({\"place\": ...}) or coordinates "
                        "({\"lat\": ..., \"lon\": ...}), not both."
                        if has_place else
                        "Give a place name ({\"place\": ...}) or coordinates "
                        "({\"lat\": ..., \"lon\": ...})."]
        return None
    if has_place:
        text = " ".join((point.place or "").split())
        if not text or len(text) > MAX_PLACE_NAME:
            errors[name] = [f"A place name must be 1 to {MAX_PLACE_NAME} characters."]
            return None
        answer = Gazetteer.default().lookup(text)
        # A town just across the border may be where the danger is; she lives (current) or
        # is placed only in the Netherlands.
        problems = place_service.lookup_errors(
            answer, text, purpose=name)
        if problems:
            errors[name] = problems
            if answer.choices:
                suggestions[name] = list(answer.choices)
            return None
        place = answer.place
        assert place is not None
        return ResolvedPoint(place.lat, place.lon, place.qualified_name, place.kind,
                             place.radius_km)
    if point.lat is None or point.lon is None:
        errors[name] = ["Give both lat and lon."]
        return None
    if not (NL_LAT[0] <= point.lat <= NL_LAT[1] and NL_LON[0] <= point.lon <= NL_LON[1]):
        errors[name] = [f"Must lie in the Netherlands (lat {NL_LAT[0]} to {NL_LAT[1]}, "
                        f"lon {NL_LON[0]} to {NL_LON[1]})."]
        return None
    return ResolvedPoint(point.lat, point.lon)


def validate_request(
    session: Session, data: RequestData, *, now: datetime | None = None
) -> tuple[ResolvedPoint | None, ResolvedPoint | None, str | None, list[ResolvedPoint]]:
    """Return the resolved danger and current points, the origin region and the further
    dangers, or raise ValidationFailed."""
    errors: dict[str, list[str]] = {}
    suggestions: dict[str, list[str]] = {}
    reference_errors = case_reference_errors(data.case_reference,
                                             today=now.date() if now else None)
    if reference_errors:
        errors["case_reference"] = reference_errors
    origin_region_code = _origin_region(session, data, errors, suggestions)
    if data.risk_level not in LEVELS:
        errors["risk_level"] = [f"Must be one of: {', '.join(LEVELS)}."]
    if data.adults == 0:
        errors["household.adults"] = [MINOR_ALONE]
    elif not 1 <= data.adults <= MAX_ADULTS:
        errors["household.adults"] = [f"Must be from 1 to {MAX_ADULTS}."]
    if not 0 <= data.children <= MAX_CHILDREN:
        errors["household.children"] = [f"Must be from 0 to {MAX_CHILDREN}."]
    _check_children(data, errors)
    unknown = sorted(set(data.needs) - set(FEATURES))
    if unknown:
        errors["needs"] = [f"Unknown need(s): {', '.join(unknown)}. "
                           f"Known: {', '.join(FEATURES)}."]
    if data.target_group is not None and data.target_group not in REQUEST_TARGET_GROUPS:
        errors["target_group"] = [f"Must be one of: {', '.join(REQUEST_TARGET_GROUPS)}."]
    elif data.target_group == "women" and "men" in data.needs:
        errors["target_group"] = ["The need `men` means target_group `men`: give one of the "
                                  "two, or make them agree."]
    _check_references(session, data, errors)
    if data.more_dangers is not None and len(data.more_dangers) + 1 > MAX_DANGERS:
        errors["danger"] = [f"At most {MAX_DANGERS} dangers."]
        raise ValidationFailed(errors)
    # Named danger.N when given as a list, so that the crisis worker sees which one.
    first = "danger" if data.more_dangers is None else "danger.0"
    danger = resolve_point(data.danger, first, errors, suggestions)
    more = [resolve_point(point, f"danger.{n}", errors, suggestions)
            for n, point in enumerate(data.more_dangers or (), 1)]
    current = (resolve_point(data.current, "current", errors, suggestions)
               if data.current is not None else None)
    if errors:
        error = ValidationFailed(errors)
        if suggestions:
            # A structured copy of the suggestions, for apps that offer them as buttons.
            error.extra["suggestions"] = suggestions
        raise error
    return danger, current, origin_region_code, [point for point in more if point is not None]


def _check_children(data: RequestData, errors: dict[str, list[str]]) -> None:
    """Check children_detail: one entry per child, an age 0-17 and a sex each."""
    if data.children_detail is None:
        return
    if len(data.children_detail) != data.children:
        errors["household.children_detail"] = [
            f"Give one entry per child: {data.children} (household.children), "
            f"not {len(data.children_detail)}."]
    for n, (age, sex) in enumerate(data.children_detail):
        if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= MAX_CHILD_AGE:
            errors[f"household.children_detail.{n}.age"] = [
                f"Must be a whole number of years from 0 to {MAX_CHILD_AGE}."]
        if sex not in SEXES:
            errors[f"household.children_detail.{n}.sex"] = [
                f"Must be one of: {', '.join(SEXES)}."]


def _origin_region(session: Session, data: RequestData, errors: dict[str, list[str]],
                   suggestions: dict[str, list[str]]) -> str | None:
    """Return her region: given, or derived from where she lives (both: they must agree)."""
    given = data.origin_region_code
    if given is not None and session.get(Region, given) is None:
        errors["origin_region_code"] = [f"Unknown region code {given!r}."]
        return None
    if data.origin_place is None:
        if given is None:
            errors["origin_region_code"] = ["Give origin_region_code, or origin.place: the "
                                            "gemeente or town she lives in."]
        return given
    derived = place_service.origin_region(session, data.origin_place, errors, suggestions)
    if given is not None and derived is not None and derived != given:
        # Two answers to one question: the solidarity figures and the rood rule depend on
        # it, so neither wins silently.
        errors["origin_region_code"] = [f"Does not match origin.place, which lies in region "
                                         f"{derived}; give one of the two, or make them agree."]
        return None
    return derived


def _check_references(session: Session, data: RequestData, errors: dict[str, list[str]]) -> None:
    for name, values, model, column in (
        ("excluded_region_codes", data.excluded_region_codes, Region, Region.code),
        ("excluded_location_ids", data.excluded_location_ids, Location, Location.id),
    ):
        if len(values) > MAX_EXCLUSIONS:
            errors[name] = [f"At most {MAX_EXCLUSIONS}."]
            continue
        wanted = set(values)
        if not wanted:
            continue
        known = set(session.scalars(select(column).where(column.in_(wanted))))
        missing = sorted(wanted - known)
        if missing:
            kind = "region code" if model is Region else "location"
            errors[name] = [f"Unknown {kind}(s): {', '.join(missing)}."]


@command
def create_request(
    session: Session, data: RequestData, *, actor: Principal, now: datetime
) -> PlacementRequest:
    """Create an open placement request; raise ValidationFailed and write nothing if invalid."""
    danger, current, origin_region_code, more = validate_request(session, data, now=now)
    assert danger is not None and origin_region_code is not None
    quotas.take(session, actor, "requests_per_hour", 1, now)
    danger_lat, danger_lon = round_point(danger.lat, danger.lon)
    more_dangers = None
    if data.more_dangers is not None:
        more_dangers = [
            {"lat": lat, "lon": lon, "place": point.place, "kind": point.kind,
             "radius_km": point.radius_km}
            for point in more for lat, lon in [round_point(point.lat, point.lon)]]
    current_lat, current_lon = round_point(current.lat, current.lon) if current else (None, None)
    request = PlacementRequest(
        case_reference=data.case_reference,
        created_by=actor.user_id,
        organisation_id=actor.organisation_id,
        origin_region_code=origin_region_code,
        risk_level=data.risk_level,
        danger_lat=danger_lat,
        danger_lon=danger_lon,
        danger_place=danger.place,
        danger_place_kind=danger.kind,
        danger_radius_km=danger.radius_km,
        current_lat=current_lat,
        current_lon=current_lon,
        adults=data.adults,
        children=data.children,
        needs=sorted(set(data.needs)),
        target_group=data.target_group or ("men" if "men" in data.needs else "women"),
        children_detail=(None if data.children_detail is None else
                         [{"age": age, "sex": sex} for age, sex in data.children_detail]),
        more_dangers=more_dangers,
        excluded_region_codes=sorted(set(data.excluded_region_codes)),
        excluded_location_ids=sorted(set(data.excluded_location_ids)),
        status="open",
        created_at=now,
    )
    session.add(request)
    session.flush()
    # Never the case reference or the points: the audit log holds no client data. The
    # points' keyed digest lets the probing signals see varying points (services/digests).
    audit.record(session, actor=actor, action="request.created", object_type="placement_request",
                 object_id=request.id, now=now, risk_level=data.risk_level,
                 origin_region_code=origin_region_code,
                 points_digest=digests.request_digest(session, request, now))
    return request


def get_request(session: Session, request_id: str, *, actor: Principal) -> PlacementRequest:
    """Return a request the actor may see; 404 for others' (telling it exists would leak)."""
    request = session.get(PlacementRequest, request_id)
    if request is None or not may_see(actor, request):
        raise NotFound("No such placement request.")
    return request


def count_open_with_reference(session: Session, case_reference: str, *, actor: Principal
                              ) -> int:
    """Return how many open requests the actor made under this case reference.

    The pages warn before a second open request for the same case: two searches for one
    woman would hold two beds. Only her own requests (the caller's view of them); a request
    waiting or offered is still looking for a bed.
    """
    return len(session.scalars(select(PlacementRequest.id).where(
        PlacementRequest.created_by == actor.user_id,
        PlacementRequest.case_reference == case_reference.strip(),
        PlacementRequest.status.in_(("open", "waiting", "offered")))).all())


def offer_of(hold: Hold, location: Location, intake_phone: str | None) -> OfferView:
    """Return what a waiting request's crisis worker sees of an active offer."""
    return OfferView(hold.id, hold.unit_id, hold.location_id, location.place, intake_phone,
                     hold.expires_at)


def lock_open_request(session: Session, request_id: str, *,
                      statuses: tuple[str, ...] = OPEN_STATUSES, **values: object) -> bool:
    """Lock an open or waiting request's row (and set `values`); return False unless it is.

    A conditional UPDATE rather than SELECT … FOR UPDATE: it locks on PostgreSQL and works
    the same on SQLite (where BEGIN IMMEDIATE serialises writers anyway). Whoever holds the
    lock is alone in deciding about the request's holds until she commits.
    """
    result = session.execute(
        update(PlacementRequest)
        .where(PlacementRequest.id == request_id, PlacementRequest.status.in_(statuses))
        .values({"status": PlacementRequest.status, **values})
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def view_requests(
    session: Session, requests: Sequence[PlacementRequest], *, actor: Principal, now: datetime,
    show_phone: bool = True,
) -> list[RequestView]:
    """Return the views of `requests` at `now`, in two queries whatever their number.

    `show_phone`: an offer carries its intake line (audited as shown); a list that does not
    show it (the crisis worker's home page) passes False, so no showing is audited falsely.
    """
    ids = [r.id for r in requests]
    holds: dict[str, Hold] = {}
    placements: dict[str, str] = {}
    if ids:
        for active in session.scalars(
            select(Hold).where(Hold.request_id.in_(ids), active_hold_sql(now))
        ):
            holds[active.request_id] = active
        placements = dict(
            session.execute(
                # A no-show's placement is history: the request is open again.
                select(Placement.request_id, Placement.id).where(
                    Placement.request_id.in_(ids), Placement.arrival_status != "no_show")
            ).all()
        )
    views = []
    policy = get_policy(session) if requests else None
    # A duty officer's overrides (services.overrides writes them), shown on the request.
    overrides: dict[str, list[RequestOverride]] = {}
    if ids:
        for override in session.scalars(
                select(RequestOverride).where(RequestOverride.request_id.in_(ids))
                .order_by(RequestOverride.created_at, RequestOverride.id)):
            overrides.setdefault(override.request_id, []).append(override)
    offered = [hold for hold in holds.values() if hold.offer]
    offer_locations = {location.id: location for location in session.scalars(
        select(Location).where(Location.id.in_({hold.location_id for hold in offered})))
    } if offered else {}
    for request in requests:
        hold = holds.get(request.id) if request.status in OPEN_STATUSES else None
        status = request.status
        offer = None
        if hold is not None and hold.offer:
            status = "offered"
            # The intake line as on a hold: hers only, each showing audited.
            phone = disclose_for_hold(session, hold, request, actor=actor, now=now,
                                      context="offer") if show_phone else None
            offer = offer_of(hold, offer_locations[hold.location_id],
                             phone.number if phone else None)
        elif hold is not None:
            status = "held"
        # Only the crisis workers of the request's organisation (who act on it) see where
        # the danger and she are; an admin does not.
        mine = in_organisation(actor, request)
        points = _points(request, policy) if mine and policy is not None else {}
        views.append(RequestView(request, status, hold, placements.get(request.id),
                                 offer=offer, show_points=mine,
                                 overrides=overrides.get(request.id, []), **points))
    return views


def view_request(
    session: Session, request_id: str, *, actor: Principal, now: datetime,
    show_phone: bool = True,
) -> RequestView:
    """Return one request the actor may see, with its status at `now` (`show_phone` as for
    view_requests)."""
    return view_requests(session, [get_request(session, request_id, actor=actor)],
                         actor=actor, now=now, show_phone=show_phone)[0]


def list_requests(
    session: Session, *, actor: Principal, now: datetime, status: str | None = None,
    limit: int = 500, show_phone: bool = True,
) -> list[RequestView]:
    """Return the requests of the actor's organisation (an admin: all), newest first,
    filtered by status at now (`show_phone` as for view_requests)."""
    query = select(PlacementRequest).order_by(
        PlacementRequest.created_at.desc(), PlacementRequest.id
    ).limit(limit)
    if not actor.is_admin:
        query = query.where(in_organisation_sql(actor))
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed({"status": [f"Must be one of: {', '.join(STATUSES)}."]})
        is_held = exists().where(Hold.request_id == PlacementRequest.id, active_hold_sql(now))
        is_offered = exists().where(Hold.request_id == PlacementRequest.id, Hold.offer,
                                    active_hold_sql(now))
        if status == "held":
            query = query.where(PlacementRequest.status.in_(OPEN_STATUSES), is_held,
                                ~is_offered)
        elif status == "offered":
            query = query.where(PlacementRequest.status == "waiting", is_offered)
        elif status in ("open", "waiting"):
            query = query.where(PlacementRequest.status == status, ~is_held)
        else:
            query = query.where(PlacementRequest.status == status)
    return view_requests(session, list(session.scalars(query)), actor=actor, now=now,
                         show_phone=show_phone)

"""From the database to the solver and back: proposals, joint proposals, the hold check.

The live network (every location, every unit free now) is loaded in one place, in two
queries, so proposals, joint proposals and the re-check of a hold see the same world
through the same rules.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from shelter_match.errors import Conflict, ValidationFailed
from shelter_match.models import Location, PlacementRequest, Unit
from shelter_match.services import audit, digests, quotas
from shelter_match.services.auth import Principal
from shelter_match.services.policy import Policy, get_policy, is_night
from shelter_match.services.request_access import (
    may_see,
)
from shelter_match.services.requests import (
    OPEN_STATUSES,
    danger_uncertainty_km,
    get_request,
    more_danger_uncertainties_km,
)
from shelter_match.services.solidarity import intake_by_region
from shelter_match.services.unit_state import is_free_sql
from solver import assign_jointly, propose
from solver import model as solver_model
from solver.network import Network

# Regions that took in fewer people from elsewhere lately are slightly preferred.
INTAKE_PERIOD = timedelta(days=90)
INTAKE_TTL = timedelta(seconds=60)
MAX_BATCH = 200
MAX_UNITS_PER_LOCATION = 5

__all__ = ["get_policy"]


@dataclass(frozen=True)
class ProposalView:
    """The ranked options for a request at `generated_at`, and why the others are out."""

    request_id: str
    generated_at: datetime
    options: tuple[solver_model.Option, ...]
    excluded: tuple[solver_model.Exclusion, ...]
    relaxations: tuple[solver_model.Relaxation, ...] = ()


@dataclass(frozen=True)
class AssignmentView:
    """One request of a joint proposal: a unit and its place, or no unit and why not."""

    request_id: str
    unit_id: str | None
    location_id: str | None = None
    location_name: str | None = None
    region_code: str | None = None
    distance_from_danger_km: int | None = None
    travel_km: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class JointProposal:
    """A joint assignment of units to requests: no unit twice, most placed, least cost."""

    generated_at: datetime
    assignments: list[AssignmentView]
    placed: int
    total_cost: int


def rules_of(policy: Policy) -> solver_model.Rules:
    """Return the solver's rules for the current policy."""
    return solver_model.Rules(
        min_distance_km=dict(policy.min_distance_km),
        rood_outside_origin_region=policy.rood_outside_origin_region,
        weights=solver_model.Weights(**policy.ranking_weights),
        location_level_min_distance=policy.location_level_min_distance,
        stale_after_hours=policy.stale_after_hours,
    )


def case_of(request: PlacementRequest, policy: Policy, *, now: datetime
            ) -> solver_model.Case:
    """Return the solver's view of a request at `now`: no reference, no names, rounded points.

    `now` decides the night rule and staleness: the app's clock, never the database's.
    """
    # Only an open request is proposed for; the purge erases points of closed ones only.
    assert request.danger_lat is not None and request.danger_lon is not None
    # The v1 need "men" is the target group men; a men's shelter need not list it.
    target_group = "men" if "men" in request.needs else request.target_group
    boys = [child["age"] for child in request.children_detail or ()
            if child.get("sex") == "male"]
    return solver_model.Case(
        id=request.id,
        origin_region_code=request.origin_region_code,
        risk_level=request.risk_level,
        danger_lat=request.danger_lat,
        danger_lon=request.danger_lon,
        current_lat=request.current_lat,
        current_lon=request.current_lon,
        household_size=request.household_size,
        needs=frozenset(request.needs) - {"men"},
        excluded_region_codes=frozenset(request.excluded_region_codes),
        excluded_location_ids=frozenset(request.excluded_location_ids),
        danger_uncertainty_km=danger_uncertainty_km(request, policy),
        more_dangers=tuple(
            (point["lat"], point["lon"], uncertainty)
            for point, uncertainty in zip(request.more_dangers or (),
                                          more_danger_uncertainties_km(request, policy),
                                          strict=True)),
        target_group=target_group,
        oldest_boy_age=max(boys) if boys else None,
        at_night=is_night(policy, now),
        now_s=now.timestamp(),
        # A duty officer's override (services.overrides); read with the request.
        rood_in_origin_region_allowed=bool(
            getattr(request, "rood_in_origin_region_allowed", False)),
    )


@functools.lru_cache(maxsize=1024)
def _features(text: str | None) -> frozenset[str]:
    # Few distinct feature lists exist; parsing each once saves a JSON parse per location.
    return frozenset(json.loads(text)) if text else frozenset()


def _solver_location(row: Any) -> solver_model.Location:
    (id_, name, region_code, safety_level, area_lat, area_lon, radius_km, features,
     target_group, night, boys_up_to_age, updated_at, place) = row
    return solver_model.Location(
        id_, name, region_code, safety_level, area_lat, area_lon, _features(features),
        radius_km, target_group=target_group, accepts_night_intake=bool(night),
        accepts_boys_up_to_age=boys_up_to_age,
        availability_updated_s=None if updated_at is None else _as_utc(updated_at).timestamp(),
        place=place)


def solver_location(location: Location) -> solver_model.Location:
    """Return the solver's view of a location: its public area, never its secret point.

    Everything a crisis worker sees (options, exclusions, joint assignments, the hold's
    check) is computed from this, so moving the point inside its area changes no answer.
    """
    return _solver_location((
        location.id, location.name, location.region_code, location.safety_level,
        location.area_lat, location.area_lon, location.area_radius_km,
        json.dumps(location.features), location.target_group, location.accepts_night_intake,
        location.accepts_boys_up_to_age, location.availability_updated_at, location.place))


def _as_utc(moment: datetime) -> datetime:
    # Core rows of a UTCDateTime column come back aware; a plain DateTime (SQLite) naive.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# The location columns the solver reads, in _solver_location's order: the public area only,
# the secret point is never read here (CONTRACT 4.1).
SOLVER_LOCATION_COLUMNS = (
    Location.id, Location.name, Location.region_code, Location.safety_level,
    Location.area_lat, Location.area_lon, Location.area_radius_km,
    cast(Location.features, Text), Location.target_group,
    Location.accepts_night_intake, Location.accepts_boys_up_to_age,
    Location.availability_updated_at, Location.place,
)


def load_network(session: Session, *, now: datetime, min_beds: int = 1) -> Network:
    """Return the live network: every location, and the units free at `now` with enough beds.

    Two queries whatever the size of the network; a unit whose hold has expired is free
    (unit_state.is_free_sql), with or without the sweeper. The rows are always read
    afresh: availability changes by the second and a location's safety level must never be
    read stale. Only building the solver's arrays from them is memoised, keyed by the rows
    themselves, so an unchanged network is not rebuilt and a changed one always is.
    """
    connection = session.connection()
    # Core rows, several times faster than ORM rows for 10,000 units, copied into plain
    # tuples: they are the memo's key, and hashing and comparing SQLAlchemy Rows runs in
    # Python, row by row (measured: 12 ms a proposal at 10x scale; plain tuples, 1 ms).
    locations = tuple(map(tuple, connection.execute(
        select(*SOLVER_LOCATION_COLUMNS)
    ).all()))
    units: tuple[tuple[str, str, int], ...] = tuple(map(tuple, connection.execute(  # type: ignore[arg-type]
        select(Unit.id, Unit.location_id, Unit.beds)
        .where(is_free_sql(now), Unit.beds >= min_beds)
    ).all()))
    key = (locations, units)
    with _networks_lock:
        network = _networks.get(key)
        if network is not None:
            _networks.move_to_end(key)
            return network
    network = Network.build(
        [_solver_location(row) for row in locations],
        [solver_model.FreeUnit(id_, location_id, beds) for id_, location_id, beds in units],
    )
    with _networks_lock:
        _networks[key] = network
        while len(_networks) > NETWORKS_KEPT:
            _networks.popitem(last=False)
    return network


# The last few networks built in this process, by their exact rows (one per household
# size asked for, mostly). gunicorn threads share them: a Network is immutable.
NETWORKS_KEPT = 8
_networks: OrderedDict[tuple[tuple[Any, ...], tuple[Any, ...]], Network] = OrderedDict()
_networks_lock = threading.Lock()


def recent_intake(session: Session, now: datetime) -> dict[str, int]:
    """Return the recent intake per region, for the ranking's solidarity tie-breaker.

    Kept for INTAKE_TTL per database: counting months of placements costs more than the
    whole rest of a proposal at national scale, and a tie-breaker a minute old ranks the
    same. It never decides whether an option is safe or free.
    """
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    cached = _intake_cache.get(key)
    if cached is not None and timedelta(0) <= now - cached[0] < INTAKE_TTL:
        return cached[1]
    intake = intake_by_region(session, now - INTAKE_PERIOD)
    _intake_cache[key] = (now, intake)
    return intake


_intake_cache: dict[str, tuple[datetime, dict[str, int]]] = {}


def _open_request(session: Session, request_id: str, actor: Principal) -> PlacementRequest:
    request = get_request(session, request_id, actor=actor)
    if request.status not in OPEN_STATUSES:
        raise Conflict(f"The request is {request.status}; there is nothing to propose.")
    return request


def propose_for_request(
    session: Session, request_id: str, *, actor: Principal, now: datetime, limit: int = 10,
    units_per_location: int = 1,
) -> ProposalView:
    """Return the ranked options for an open (or held) request; nothing is held.

    At most `units_per_location` options per location (1-5; CONTRACT 4.2), its
    best-fitting units. Counted against her proposals quota (429 beyond it) and audited:
    who, which request, a digest of its points, which locations were shown.
    """
    if not 1 <= units_per_location <= MAX_UNITS_PER_LOCATION:
        raise ValidationFailed({"units_per_location": [
            f"Must be a whole number from 1 to {MAX_UNITS_PER_LOCATION}."]})
    request = _open_request(session, request_id, actor)
    quotas.take(session, actor, "proposals_per_hour", 1, now, object_id=request.id)
    policy = get_policy(session)
    network = load_network(session, now=now, min_beds=request.household_size)
    proposal = propose(case_of(request, policy, now=now), network, rules_of(policy),
                       limit=limit, intake_by_region=recent_intake(session, now),
                       units_per_location=units_per_location)
    record_shown(session, request, [option.location_id for option in proposal.options],
                 actor=actor, now=now)
    return ProposalView(request.id, now, proposal.options, proposal.excluded,
                        proposal.relaxations)


def record_shown(session: Session, request: PlacementRequest, location_ids: Sequence[str],
                 *, actor: Principal, now: datetime, batch_size: int | None = None) -> None:
    """Audit that she was shown `location_ids` for a request (none: exclusions only).

    One event per request, also in a joint proposal: the quota counts these events. The
    points appear only as a keyed digest (services/digests.py), never themselves.
    """
    shown = list(dict.fromkeys(location_ids))
    detail: dict[str, object] = {"points_digest": digests.request_digest(session, request, now),
                                 "location_ids": shown, "options": len(location_ids)}
    if batch_size is not None:
        detail["batch_size"] = batch_size
    audit.record(session, actor=actor, action=quotas.PROPOSAL_SHOWN,
                 object_type="placement_request", object_id=request.id, now=now, **detail)


def unit_unsuitability(
    session: Session, request: PlacementRequest, unit: Unit, location: Location, *,
    now: datetime,
) -> str | None:
    """Return why a unit does not fit a request (a reason code), or None when it does.

    The same solver and rules as the proposals, on a network of this one unit, so that a
    hold can never take what a proposal would not offer. Whether the unit is free is not
    asked here: the hold's conditional UPDATE decides that, atomically.
    """
    policy = get_policy(session)
    network = Network.build(
        [solver_location(location)],
        [solver_model.FreeUnit(id=unit.id, location_id=unit.location_id, beds=unit.beds)],
    )
    proposal = propose(case_of(request, policy, now=now), network, rules_of(policy), limit=1)
    if any(option.unit_id == unit.id for option in proposal.options):
        return None
    for exclusion in proposal.excluded:
        if exclusion.locations:
            return exclusion.reason
    return "no_free_unit_large_enough"


def propose_jointly(
    session: Session, request_ids: Sequence[str], *, actor: Principal, now: datetime
) -> JointProposal:
    """Return one joint assignment of units to several open requests; nothing is held."""
    requests = _requests_for_batch(session, request_ids, actor)
    # A joint proposal counts each of its requests against her quota.
    quotas.take(session, actor, "proposals_per_hour", len(requests), now)
    policy = get_policy(session)
    network = load_network(session, now=now,
                           min_beds=min(r.household_size for r in requests))
    joint = assign_jointly([case_of(r, policy, now=now) for r in requests], network,
                           rules_of(policy),
                           intake_by_region=recent_intake(session, now))
    places = {location.id: location for location in network.locations}
    assignments = []
    for assignment in joint.assignments:
        if assignment.unit_id is None or assignment.location_id is None:
            assignments.append(AssignmentView(assignment.case_id, None,
                                              reason=assignment.reason))
            continue
        place = places[assignment.location_id]
        assignments.append(AssignmentView(
            assignment.case_id, assignment.unit_id, assignment.location_id, place.name,
            place.region_code, assignment.distance_from_danger_km, assignment.travel_km))
    by_request = {view.request_id: view for view in assignments}
    for request in requests:
        location_id = by_request[request.id].location_id
        record_shown(session, request, [location_id] if location_id else [], actor=actor,
                     now=now, batch_size=len(requests))
    return JointProposal(now, assignments, joint.placed, joint.total_cost)


def _requests_for_batch(
    session: Session, request_ids: Sequence[str], actor: Principal
) -> list[PlacementRequest]:
    """Return the requests of a batch in the given order, or 422 naming request_ids."""
    if not request_ids:
        raise ValidationFailed({"request_ids": ["Give at least one request id."]})
    if len(request_ids) > MAX_BATCH:
        raise ValidationFailed({"request_ids": [f"At most {MAX_BATCH} requests at once."]})
    duplicates = sorted({i for i in request_ids if request_ids.count(i) > 1})
    if duplicates:
        raise ValidationFailed({"request_ids": [f"Listed twice: {', '.join(duplicates)}."]})
    found = {r.id: r for r in session.scalars(
        select(PlacementRequest).where(PlacementRequest.id.in_(list(request_ids))))}
    # Another crisis worker's request reads as unknown: telling it exists would leak.
    unknown = [i for i in request_ids if i not in found or not may_see(actor, found[i])]
    if unknown:
        raise ValidationFailed({"request_ids": [f"Unknown request(s): {', '.join(unknown)}."]})
    closed = [i for i in request_ids if found[i].status not in OPEN_STATUSES]
    if closed:
        raise ValidationFailed({"request_ids": [
            f"Not open (placed or cancelled): {', '.join(closed)}."]})
    return [found[i] for i in request_ids]

"""The placement policy: distances, the rood rule, hold time, staleness, ranking weights.

There is one current policy. A change applies to what happens next; holds and placements
already made keep what they were given (a hold stores its own expires_at).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shelter_match.db import command
from shelter_match.errors import ValidationFailed
from shelter_match.models import PolicyRecord
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from solver.model import Weights
from solver.vocabulary import LEVELS

# Bounds that catch typos without getting in the way of a real policy choice.
MAX_DISTANCE_KM = 400  # the Netherlands is about 300 km across
MAX_HOLD_MINUTES = 24 * 60
MAX_STALE_AFTER_HOURS = 30 * 24
MAX_WEIGHT = 1_000_000  # a thousand km of detour: anything larger is a typo
MAX_PLACE_RADIUS_KM = 50
MAX_CLOSE_OPEN_REQUESTS_AFTER_DAYS = 365
MAX_HOLD_EXTENSION_MINUTES = 120
MAX_ADDRESS_VIEW_MINUTES = 60
# Keys added after v1: a document without them (older clients, stored policies) keeps the
# default.
LATER_KEYS = ("close_open_requests_after_days", "hold_extension_minutes",
              "address_view_minutes", "offer_minutes")

# The solver's ranking weights (metre-equivalents), tunable by an admin; the solver's own
# defaults until she does.
WEIGHT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Weights))
DEFAULT_WEIGHTS: dict[str, int] = {name: getattr(Weights(), name) for name in WEIGHT_NAMES}
# A danger given as a place name stands for the place's centre; the real danger may be
# anywhere within this radius of it, so proposals keep that much further away. Per kind of
# gazetteer entry: a gemeente or a place (town, village).
PLACE_KINDS = ("gemeente", "place")
DEFAULT_PLACE_RADIUS_KM: dict[str, int] = {"gemeente": 5, "place": 5}
DEFAULT_NIGHT_HOURS: dict[str, str] = {"from": "22:00", "to": "08:00"}
NIGHT_TIMEZONE = "Europe/Amsterdam"
CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# Hourly quotas per user (CONTRACT 4.1; services/quotas.py); an admin may set one user's own.
DEFAULT_QUOTAS: dict[str, int] = {"requests_per_hour": 30, "proposals_per_hour": 300}
MAX_QUOTA = 100_000
# A request open or waiting this long without a placement escalates to its origin region's
# duty officers, and after twice as long to the national duty (CONTRACT 4.4).
DEFAULT_ESCALATION_MINUTES: dict[str, int] = {"rood": 60, "oranje": 240, "groen": 1440}
MAX_ESCALATION_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Policy:
    """The current policy; defaults are those of CONTRACT §3."""

    min_distance_km: dict[str, int] = field(
        default_factory=lambda: {"groen": 0, "oranje": 25, "rood": 75}
    )
    rood_outside_origin_region: bool = True
    hold_minutes: int = 30
    stale_after_hours: int = 12
    ranking_weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    danger_place_radius_km: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_PLACE_RADIUS_KM)
    )
    # A request still open this long after it was made is closed (outcome `other`) by the
    # retention run, so that its client details are purged in turn. Never a request on
    # the waiting list: waiting is not being left open.
    close_open_requests_after_days: int = 30
    # A location is offered only where the danger is at least the minimum distance of its
    # own safety level away (CONTRACT 4.1).
    location_level_min_distance: bool = True
    # When a location without night intake is not offered (Europe/Amsterdam, "HH:MM";
    # from > to spans midnight).
    night_hours: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_NIGHT_HOURS))
    # A hold may be extended once, by this many minutes from when it would have expired.
    hold_extension_minutes: int = 15
    # After confirming, the same crisis worker may see the address again this long (audited).
    address_view_minutes: int = 15
    quotas: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_QUOTAS))
    escalation_minutes: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_ESCALATION_MINUTES)
    )
    # How long the matcher's offer to a waiting request stays open (CONTRACT 4.4).
    offer_minutes: int = 30

    def as_document(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_POLICY = Policy()


def validate_document(document: dict[str, Any]) -> Policy:
    """Return the policy of a complete document, or raise ValidationFailed naming fields."""
    errors: dict[str, list[str]] = {}
    distances = document.get("min_distance_km")
    if not isinstance(distances, dict):
        errors["min_distance_km"] = ["Must be an object with groen, oranje and rood."]
        distances = {}
    else:
        for unknown in sorted(set(distances) - set(LEVELS)):
            errors[f"min_distance_km.{unknown}"] = ["Unknown level."]
        for level in LEVELS:
            value = distances.get(level)
            if not isinstance(value, int) or not _is_int(value) \
                    or not 0 <= value <= MAX_DISTANCE_KM:
                errors[f"min_distance_km.{level}"] = [
                    f"Must be a whole number of km from 0 to {MAX_DISTANCE_KM}."
                ]
        if not any(key.startswith("min_distance_km.") for key in errors):
            for lower, higher in zip(LEVELS, LEVELS[1:], strict=False):
                if distances[higher] < distances[lower]:
                    errors[f"min_distance_km.{higher}"] = [
                        f"Must be at least the minimum for {lower} ({distances[lower]} km)."
                    ]
    if not isinstance(document.get("rood_outside_origin_region"), bool):
        errors["rood_outside_origin_region"] = ["Must be true or false."]
    for name, upper in (("hold_minutes", MAX_HOLD_MINUTES),
                        ("stale_after_hours", MAX_STALE_AFTER_HOURS),
                        ("close_open_requests_after_days", MAX_CLOSE_OPEN_REQUESTS_AFTER_DAYS),
                        ("hold_extension_minutes", MAX_HOLD_EXTENSION_MINUTES),
                        ("address_view_minutes", MAX_ADDRESS_VIEW_MINUTES),
                        ("offer_minutes", MAX_HOLD_MINUTES)):
        value = (document.get(name, getattr(DEFAULT_POLICY, name))
                 if name in LATER_KEYS else document.get(name))
        if not isinstance(value, int) or not _is_int(value) or not 1 <= value <= upper:
            errors[name] = [f"Must be a whole number from 1 to {upper}."]
    weights = _whole_numbers(document, "ranking_weights", DEFAULT_WEIGHTS, MAX_WEIGHT, errors)
    radii = _whole_numbers(document, "danger_place_radius_km", DEFAULT_PLACE_RADIUS_KM,
                           MAX_PLACE_RADIUS_KM, errors)
    # Added in v2: a document without them keeps the defaults.
    own_level = document.get("location_level_min_distance", True)
    if not isinstance(own_level, bool):
        errors["location_level_min_distance"] = ["Must be true or false."]
    night_hours = document.get("night_hours", DEFAULT_NIGHT_HOURS)
    if not isinstance(night_hours, dict) or set(night_hours) != {"from", "to"}:
        errors["night_hours"] = ['Must be an object {"from": "HH:MM", "to": "HH:MM"}.']
    else:
        for key in ("from", "to"):
            if not isinstance(night_hours[key], str) or not CLOCK_TIME.match(night_hours[key]):
                errors[f"night_hours.{key}"] = ["Must be a time HH:MM (00:00 to 23:59)."]
    quotas = _whole_numbers(document, "quotas", DEFAULT_QUOTAS, MAX_QUOTA, errors)
    escalation = _whole_numbers(document, "escalation_minutes", DEFAULT_ESCALATION_MINUTES,
                                MAX_ESCALATION_MINUTES, errors)
    for level, minutes in escalation.items():
        if minutes == 0 and f"escalation_minutes.{level}" not in errors:
            errors[f"escalation_minutes.{level}"] = [
                f"Must be a whole number from 1 to {MAX_ESCALATION_MINUTES}."]
    if errors:
        raise ValidationFailed(errors)
    return Policy(
        min_distance_km={level: int(distances[level]) for level in LEVELS},
        rood_outside_origin_region=document["rood_outside_origin_region"],
        hold_minutes=document["hold_minutes"],
        stale_after_hours=document["stale_after_hours"],
        ranking_weights=weights,
        danger_place_radius_km=radii,
        close_open_requests_after_days=document.get(
            "close_open_requests_after_days", Policy.close_open_requests_after_days),
        location_level_min_distance=own_level,
        night_hours=dict(night_hours),
        hold_extension_minutes=document.get("hold_extension_minutes",
                                            Policy.hold_extension_minutes),
        address_view_minutes=document.get("address_view_minutes",
                                          Policy.address_view_minutes),
        quotas=quotas,
        escalation_minutes=escalation,
        offer_minutes=document.get("offer_minutes", Policy.offer_minutes),
    )


def is_night(policy: Policy, now: datetime) -> bool:
    """Return whether `now` lies within the policy's night hours, Amsterdam time."""
    local = now.astimezone(ZoneInfo(NIGHT_TIMEZONE)).strftime("%H:%M")
    start, end = policy.night_hours["from"], policy.night_hours["to"]
    if start == end:
        return False  # no night at all
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _whole_numbers(document: dict[str, Any], name: str, defaults: dict[str, int], upper: int,
                   errors: dict[str, list[str]]) -> dict[str, int]:
    """Return an optional object of whole numbers (0..upper); missing members take defaults."""
    given = document.get(name)
    if given is None:
        return dict(defaults)
    if not isinstance(given, dict):
        errors[name] = [f"Must be an object with: {', '.join(defaults)}."]
        return dict(defaults)
    for unknown in sorted(set(given) - set(defaults)):
        errors[f"{name}.{unknown}"] = [f"Unknown; known: {', '.join(defaults)}."]
    values = {**defaults, **given}
    for key in defaults:
        if not _is_int(values[key]) or not 0 <= values[key] <= upper:
            errors[f"{name}.{key}"] = [f"Must be a whole number from 0 to {upper}."]
    return {key: values[key] for key in defaults}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def get_policy(session: Session) -> Policy:
    """Return the current policy (the defaults until an admin changes it)."""
    record = session.get(PolicyRecord, 1)
    if record is None:
        return DEFAULT_POLICY
    return validate_document({**DEFAULT_POLICY.as_document(), **record.document})


@command
def replace_policy(
    session: Session, document: dict[str, Any], *, actor: Principal, now: datetime
) -> Policy:
    """Replace the policy with a complete, valid document; audit the change."""
    new = validate_document(document)
    old = get_policy(session)
    record = session.get(PolicyRecord, 1)
    if record is None:
        session.add(
            PolicyRecord(id=1, document=new.as_document(), updated_at=now, updated_by=actor.user_id)
        )
    else:
        record.document = new.as_document()
        record.updated_at = now
        record.updated_by = actor.user_id
    audit.record(
        session,
        actor=actor,
        action="policy.replaced",
        object_type="policy",
        object_id="1",
        now=now,
        before=old.as_document(),
        after=new.as_document(),
    )
    session.flush()
    return new

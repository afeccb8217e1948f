"""The placement policy: distances, the rood rule, hold time, staleness, ranking weights.

There is one current policy. A change applies to what happens next; holds and placements
already made keep what they were given (a hold stores its own expires_at).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shelter_match.errors import ValidationFailed
from shelter_match.models import PolicyRecord
from shelter_match.services import audit
from shelter_match.services.auth import Principal
from solver.vocabulary import LEVELS

# Bounds that catch typos without getting in the way of a real policy choice.
MAX_DISTANCE_KM = 400  # the Netherlands is about 300 km across
MAX_HOLD_MINUTES = 24 * 60
MAX_STALE_AFTER_HOURS = 30 * 24


@dataclass(frozen=True)
class Policy:
    """The current policy; defaults are those of CONTRACT §3."""

    min_distance_km: dict[str, int] = field(
        default_factory=lambda: {"groen": 0, "oranje": 25, "rood": 75}
    )
    rood_outside_origin_region: bool = True
    hold_minutes: int = 30
    stale_after_hours: int = 12

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
            if not _is_int(value) or not 0 <= value <= MAX_DISTANCE_KM:
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
                        ("stale_after_hours", MAX_STALE_AFTER_HOURS)):
        value = document.get(name)
        if not _is_int(value) or not 1 <= value <= upper:
            errors[name] = [f"Must be a whole number from 1 to {upper}."]
    if errors:
        raise ValidationFailed(errors)
    return Policy(
        min_distance_km={level: int(distances[level]) for level in LEVELS},
        rood_outside_origin_region=document["rood_outside_origin_region"],
        hold_minutes=document["hold_minutes"],
        stale_after_hours=document["stale_after_hours"],
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def get_policy(session: Session) -> Policy:
    """Return the current policy (the defaults until an admin changes it)."""
    record = session.get(PolicyRecord, 1)
    if record is None:
        return DEFAULT_POLICY
    return validate_document({**DEFAULT_POLICY.as_document(), **record.document})


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

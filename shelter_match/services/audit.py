"""Write the append-only audit log: who did what, when, to which object."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.models import AuditEvent
from shelter_match.services.auth import Principal


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_id: str | None,
    now: datetime,
    **detail: object,
) -> None:
    """Append one audit event. `detail` must never hold client data or free text."""
    session.add(
        AuditEvent(
            at=now,
            actor_id=actor.user_id if actor else None,
            actor_name=actor.name if actor else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
        )
    )


def list_events(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor_name: str | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> list[AuditEvent]:
    """Return audit events in time order, filtered by period, user and action."""
    query = select(AuditEvent).order_by(AuditEvent.at, AuditEvent.id).limit(limit)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    if actor_name is not None:
        query = query.where(AuditEvent.actor_name == actor_name)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query))

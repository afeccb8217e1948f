"""Write the append-only audit log: who did what, when, to which object."""

from __future__ import annotations

from datetime import datetime

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

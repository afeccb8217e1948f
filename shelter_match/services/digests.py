"""Digests of danger and current points for the audit log: comparable, not reversible.

The audit log is kept for good, and a point on the ~1 km storage grid has only some
100,000 possible values in the Netherlands: a plain hash of it could be reversed by trying
them all. So the digest is an HMAC under a secret of the UTC day (`point_digest_keys`).
While the day's key lives, equal points of that day have equal digests (the probing
signals compare them); once the retention run has erased the key (`forget_keys`), the
day's digests say nothing about any place.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shelter_match.db import rowcount
from shelter_match.models import PlacementRequest, PointDigestKey

# How long a day's key lives at most (the retention run may erase it sooner): long
# enough for the probing signals to compare a week of requests.
KEY_DAYS = 7


def _day(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


def day_key(session: Session, now: datetime) -> bytes:
    """Return the secret of the UTC day of `now`, made on first use."""
    day = _day(now)
    secret = session.scalar(select(PointDigestKey.secret).where(PointDigestKey.day == day))
    if secret is not None:
        return bytes.fromhex(secret)
    # Insert-if-missing in one statement: two first uses at once agree on one key.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(PointDigestKey).values(day=day, secret=secrets.token_hex(32))
                    .on_conflict_do_nothing(index_elements=[PointDigestKey.day]))
    secret = session.scalar(select(PointDigestKey.secret).where(PointDigestKey.day == day))
    assert secret is not None
    return bytes.fromhex(secret)


def points_digest(session: Session, points: Iterable[tuple[float, float] | None],
                  now: datetime) -> str:
    """Return the keyed digest of stored (rounded) points, in order; None counts as absent."""
    text = ";".join("-" if point is None else f"{point[0]:.4f},{point[1]:.4f}"
                    for point in points)
    digest = hmac.new(day_key(session, now), text.encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:32]


def request_points(request: PlacementRequest) -> list[tuple[float, float] | None]:
    """Return a request's stored danger and current points (None where absent or purged).

    Every danger of a family network counts: varying any one of them is probing too.
    """
    danger = ((request.danger_lat, request.danger_lon)
              if request.danger_lat is not None and request.danger_lon is not None else None)
    current = ((request.current_lat, request.current_lon)
               if request.current_lat is not None and request.current_lon is not None else None)
    more = [(float(point["lat"]), float(point["lon"])) for point in request.more_dangers or ()]
    return [danger, current, *more]


def request_digest(session: Session, request: PlacementRequest, now: datetime) -> str:
    """Return the keyed digest of a request's danger and current points."""
    return points_digest(session, request_points(request), now)


def forget_keys(session: Session, now: datetime, *, older_than_days: int) -> int:
    """Erase the keys of days older than `older_than_days` (at most KEY_DAYS); return how many."""
    days = min(KEY_DAYS, max(older_than_days, 1))
    cutoff = _day(now - timedelta(days=days))
    return rowcount(session.execute(delete(PointDigestKey).where(PointDigestKey.day < cutoff)))

"""Fields every schema shares: times are written one way everywhere (clock.rfc3339)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from shelter_match.clock import rfc3339


class UTCDateTime(ma.fields.DateTime):
    """An RFC 3339 time; written in UTC to the second with a Z, read only with an offset."""

    default_error_messages = {
        "invalid": "Not a valid time; use RFC 3339 with a zone, e.g. 2026-11-22T03:14:00Z.",
    }

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any
                   ) -> str | None:
        return None if value is None else rfc3339(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            raise self.make_error("invalid")
        return moment.astimezone(UTC)


def drop_unless(shown: bool, data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Return `data` without `keys` unless `shown`: discretion leaves keys out, not null."""
    if not shown:
        for key in keys:
            data.pop(key, None)
    return data

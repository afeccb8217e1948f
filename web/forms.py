"""Read submitted forms into values, and collect what is wrong in people's words.

Forms only turn text into typed values (a number, a choice); every rule about what is
allowed stays in the services. A service's ValidationFailed names the fields to fix; the
page shows our own words for the field (service messages are written for integrators).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _

from shelter_match.errors import ValidationFailed


class Form:
    """The values of one submitted form and the errors found in them, by field name."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def text(self, name: str) -> str:
        return (self.data.get(name) or "").strip()

    def integer(self, name: str, *, default: int | None = None) -> int | None:
        raw = self.text(name)
        if not raw:
            if default is None:
                self.add(name, _("Fill in a whole number."))
            return default
        try:
            return int(raw)
        except ValueError:
            self.add(name, _("Fill in a whole number."))
            return default

    def decimal(self, name: str, *, required: bool = True) -> float | None:
        raw = self.text(name).replace(",", ".")  # Dutch write 52,09
        if not raw:
            if required:
                self.add(name, _("Fill in a number, like 52.09."))
            return None
        try:
            value = float(raw)
        except ValueError:
            self.add(name, _("Fill in a number, like 52.09."))
            return None
        if value != value or value in (float("inf"), float("-inf")):
            self.add(name, _("Fill in a number, like 52.09."))
            return None
        return value

    def flag(self, name: str) -> bool:
        return self.data.get(name) in ("1", "on", "true", "yes")

    def many(self, name: str, allowed: Iterable[str]) -> list[str]:
        known = set(allowed)
        chosen = self.data.getlist(name) if hasattr(self.data, "getlist") else []
        return [value for value in dict.fromkeys(chosen) if value in known]

    def take(self, error: ValidationFailed, hints: Mapping[str, str] | None = None) -> None:
        """Add a service's field errors, in our words where we have them."""
        for field, messages in error.errors.items():
            hint = (hints or {}).get(field) or _hint_for_pattern(field, hints or {})
            name = field_id(field)
            if hint:
                self.add(name, str(hint))
            else:
                for message in messages:
                    self.add(name, message)


def field_id(field: str) -> str:
    """Return the form field and HTML id of a service's field: units.2.beds → units-2-beds."""
    return field.replace(".", "-")


def _hint_for_pattern(field: str, hints: Mapping[str, str]) -> str | None:
    # "units.3.beds" uses the hint written for "units.*.beds", "min_distance_km.rood" the
    # one for "min_distance_km.*", "household.children_detail.0.age" the one for
    # "household.children_detail.*.age".
    parts = field.split(".")
    numbered = ".".join("*" if part.isdigit() else part for part in parts)
    if numbered != field and numbered in hints:
        return hints[numbered]
    if len(parts) == 3:
        return hints.get(f"{parts[0]}.*.{parts[2]}")
    if len(parts) == 2:
        return hints.get(f"{parts[0]}.*")
    return None

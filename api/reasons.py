"""The solver's reasons for an option (codes with numbers) as the API's English sentences.

The wording is part of what clients have read since v1; change it only with care.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from solver import Reason


def _distance(p: Mapping[str, Any]) -> str:
    minimum = f"minimum {p['min_km']} km for {p['risk_level']}"
    if p["uncertainty_km"]:
        return (f"at least {p['distance_km']} km from the danger, allowing "
                f"{p['uncertainty_km']:g} km for where exactly it is ({minimum})")
    return f"{p['distance_km']} km from the danger ({minimum})"


def _travel(p: Mapping[str, Any]) -> str:
    return f"{p['km']} km to travel from the {p['start']} location"


def _surplus(p: Mapping[str, Any]) -> str:
    levels = "level" if p["surplus"] == 1 else "levels"
    article = "an" if p["risk_level"][0] in "aeiou" else "a"
    return (f"safety level {p['level']} for {article} {p['risk_level']} case "
            f"({p['surplus']} {levels} more secure than needed)")


def _kind(p: Mapping[str, Any]) -> str:
    return "family unit" if p["unit_kind"] == "family_unit" else "room"


def _beds(count: int) -> str:
    return "bed" if count == 1 else "beds"


SENTENCES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "distance_from_danger": _distance,
    "travel": _travel,
    "in_origin_region": lambda p: "in the origin region",
    "outside_origin_region": lambda p: "outside the origin region",
    "outside_origin_region_required":
        lambda p: f"outside the origin region, as required for {p['risk_level']}",
    "safety_level_matches": lambda p: f"safety level {p['level']} matches the risk",
    "safety_level_surplus": _surplus,
    "fits_exactly":
        lambda p: f"{_kind(p)} of {p['beds']} {_beds(p['beds'])}: fits the household exactly",
    "spare_beds": lambda p: f"{_kind(p)}: {p['spare']} spare {_beds(p['spare'])}",
    "offers_needs": lambda p: f"offers every need: {', '.join(p['needs'])}",
    "recent_intake": lambda p: (f"region {p['region_code']} took in {p['people']} "
                                f"{'person' if p['people'] == 1 else 'people'} recently"),
    "specialised_place": lambda p: (f"specialised in {', '.join(p['features'])}: offered "
                                    "after every suitable general place"),
    "stale_availability": lambda p: (
        "availability not confirmed recently" if p["hours"] is None
        else f"availability last updated {p['hours']} hours ago: phone to check"),
}


def sentence(reason: Reason) -> str:
    """Return one reason as the English sentence the API shows."""
    return SENTENCES[reason.code](reason.params)


def sentences(reasons: tuple[Reason, ...]) -> list[str]:
    """Return an option's reasons as the API's English sentences, in order."""
    return [sentence(reason) for reason in reasons]

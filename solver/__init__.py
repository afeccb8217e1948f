"""Pure matching: dataclasses in, dataclasses out; numpy and OR-Tools only.

Never imports Flask, SQLAlchemy, shelter_match, api or seed.
"""

from solver.distance import safe_distance_km, safe_distance_m
from solver.distance_cache import DistanceCache
from solver.joint import assign_jointly
from solver.model import (
    DEFAULT_MIN_DISTANCE_KM,
    Assignment,
    Case,
    Exclusion,
    FreeUnit,
    JointAssignment,
    Location,
    Option,
    Proposal,
    Reason,
    Rules,
    Weights,
)
from solver.network import Network
from solver.ranking import propose

__all__ = [
    "DEFAULT_MIN_DISTANCE_KM",
    "Assignment",
    "Case",
    "DistanceCache",
    "Exclusion",
    "FreeUnit",
    "JointAssignment",
    "Location",
    "Network",
    "Option",
    "Proposal",
    "Reason",
    "Rules",
    "Weights",
    "assign_jointly",
    "propose",
    "safe_distance_km",
    "safe_distance_m",
]

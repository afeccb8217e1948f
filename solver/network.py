"""The shelter network as numpy arrays, built once so that many proposals are cheap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from solver.model import FreeUnit, Location
from solver.vocabulary import FEATURES, LEVEL_RANK, TARGET_GROUPS

# Features are bits of an int64; the top bit is kept for "a need that no location offers".
UNKNOWN_FEATURE_BIT = 62
# The boys' age limit of a location that sets none.
NO_AGE_LIMIT = 1_000


@dataclass(frozen=True, slots=True, eq=False)
class Network:
    """Locations (sorted by id) and their free units (in the order given).

    Interchangeable units (same location, same number of beds) form a capacity class; the
    joint assignment works on classes instead of single units. Units are not sorted here:
    sorting 10,000 ids would cost more than a whole proposal, and ties are rare, so they
    are broken by unit id only where they occur.
    """

    locations: tuple[Location, ...]
    location_index: Mapping[str, int]
    lat: NDArray[np.float64]  # the centre of each location's area
    lon: NDArray[np.float64]
    radius_m: NDArray[np.int64]  # whole metres, rounded up: the area's radius
    safety_rank: NDArray[np.int64]
    region_index: NDArray[np.int64]  # into region_codes
    region_codes: tuple[str, ...]
    region_lookup: Mapping[str, int]
    feature_bits: NDArray[np.int64]
    feature_bit: Mapping[str, int]
    max_beds: NDArray[np.int64]  # per location; 0 when it has no free unit
    target_group: NDArray[np.int64]  # index into TARGET_GROUPS
    night_intake: NDArray[np.bool_]
    boys_up_to_age: NDArray[np.int64]  # NO_AGE_LIMIT when the location sets none
    updated_s: NDArray[np.float64]  # availability_updated_at, POSIX seconds; -inf unknown
    units: tuple[FreeUnit, ...]
    unit_location: NDArray[np.int64]
    unit_beds: NDArray[np.int64]
    class_location: NDArray[np.int64]
    class_beds: NDArray[np.int64]
    class_size: NDArray[np.int64]  # free units per class
    class_start: NDArray[np.int64]  # class j's units are class_members[start[j]:start[j+1]]
    class_members: NDArray[np.int64]  # unit indices, grouped by class

    @classmethod
    def build(cls, locations: Sequence[Location], free_units: Sequence[FreeUnit]) -> Network:
        """Return the network of these locations and the units that are free now."""
        # Locations: sorted by id, so that ties are broken by location id everywhere.
        ordered = tuple(sorted(locations, key=lambda location: location.id))
        location_index = {location.id: i for i, location in enumerate(ordered)}
        if len(location_index) != len(ordered):
            raise ValueError("location ids must be unique")

        region_codes = tuple(sorted({location.region_code for location in ordered}))
        region_lookup = {code: i for i, code in enumerate(region_codes)}
        extra = sorted({f for location in ordered for f in location.features} - set(FEATURES))
        feature_bit = {feature: bit for bit, feature in enumerate((*FEATURES, *extra))}
        if len(feature_bit) >= UNKNOWN_FEATURE_BIT:
            raise ValueError(f"at most {UNKNOWN_FEATURE_BIT} distinct features are supported")

        lat = np.fromiter((location.lat for location in ordered), np.float64, len(ordered))
        lon = np.fromiter((location.lon for location in ordered), np.float64, len(ordered))
        radius_m = np.ceil(np.fromiter(
            (location.radius_km * 1000 for location in ordered), np.float64, len(ordered)
        )).astype(np.int64)
        safety_rank = np.fromiter(
            (LEVEL_RANK[location.safety_level] for location in ordered), np.int64, len(ordered)
        )
        region_index = np.fromiter(
            (region_lookup[location.region_code] for location in ordered), np.int64, len(ordered)
        )
        feature_bits = np.fromiter(
            (sum(1 << feature_bit[f] for f in location.features) for location in ordered),
            np.int64,
            len(ordered),
        )

        # Units: one pass each over the dataclasses, the rest in numpy.
        units = tuple(free_units)
        if len({unit.id for unit in units}) != len(units):
            raise ValueError("unit ids must be unique")
        try:
            unit_location = np.fromiter(
                (location_index[unit.location_id] for unit in units), np.int64, len(units)
            )
        except KeyError as error:
            raise ValueError(f"a free unit refers to unknown location {error.args[0]!r}") from None
        unit_beds = np.fromiter((unit.beds for unit in units), np.int64, len(units))

        target_group = np.fromiter(
            (TARGET_GROUPS.index(location.target_group) for location in ordered), np.int64,
            len(ordered))
        night_intake = np.fromiter(
            (location.accepts_night_intake for location in ordered), np.bool_, len(ordered))
        boys_up_to_age = np.fromiter(
            (NO_AGE_LIMIT if location.accepts_boys_up_to_age is None
             else location.accepts_boys_up_to_age for location in ordered),
            np.int64, len(ordered))
        updated_s = np.fromiter(
            (-np.inf if location.availability_updated_s is None
             else location.availability_updated_s for location in ordered),
            np.float64, len(ordered))

        max_beds = np.zeros(len(ordered), np.int64)
        np.maximum.at(max_beds, unit_location, unit_beds)

        # Capacity classes: one per (location, beds), in (location id, beds) order.
        members = np.lexsort((unit_beds, unit_location))
        keys = np.stack((unit_location[members], unit_beds[members]))
        firsts = np.flatnonzero(np.any(np.diff(keys, prepend=-1), axis=0))
        class_start = np.append(firsts, len(units)).astype(np.int64)

        return cls(
            locations=ordered,
            location_index=location_index,
            lat=lat,
            lon=lon,
            radius_m=radius_m,
            safety_rank=safety_rank,
            region_index=region_index,
            region_codes=region_codes,
            region_lookup=region_lookup,
            feature_bits=feature_bits,
            feature_bit=feature_bit,
            max_beds=max_beds,
            target_group=target_group,
            night_intake=night_intake,
            boys_up_to_age=boys_up_to_age,
            updated_s=updated_s,
            units=units,
            unit_location=unit_location,
            unit_beds=unit_beds,
            class_location=unit_location[members[firsts]],
            class_beds=unit_beds[members[firsts]],
            class_size=np.diff(class_start),
            class_start=class_start,
            class_members=members,
        )

    def class_units(self, j: int) -> list[FreeUnit]:
        """Return the free units of capacity class j, by unit id."""
        members = self.class_members[self.class_start[j] : self.class_start[j + 1]]
        return sorted((self.units[m] for m in members.tolist()), key=lambda unit: unit.id)

    def tie_order(self, unit_index: int) -> tuple[int, str]:
        """Return the key that breaks ties between equal costs: location id, then unit id."""
        return int(self.unit_location[unit_index]), self.units[unit_index].id

    def region_of(self, code: str) -> int:
        """Return the index of a region code, or -1 when no location is in that region."""
        return self.region_lookup.get(code, -1)

    def needs_mask(self, needs: frozenset[str]) -> int:
        """Return the feature bits a location must all have to meet these needs."""
        mask = 0
        for need in needs:
            mask |= 1 << self.feature_bit.get(need, UNKNOWN_FEATURE_BIT)
        return mask

"""The shelter network as numpy arrays, built once so that many proposals are cheap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from solver.model import FreeUnit, Location
from solver.vocabulary import FEATURES, LEVEL_RANK

# Features are bits of an int64; the top bit is kept for "a need that no location offers".
UNKNOWN_FEATURE_BIT = 62


@dataclass(frozen=True, slots=True, eq=False)
class Network:
    """Locations (sorted by id) and their free units (sorted by location id, then unit id).

    Interchangeable units (same location, same number of beds) form a capacity class; the
    joint assignment works on classes instead of single units.
    """

    locations: tuple[Location, ...]
    location_index: Mapping[str, int]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    safety_rank: NDArray[np.int64]
    region_index: NDArray[np.int64]  # into region_codes
    region_codes: tuple[str, ...]
    region_lookup: Mapping[str, int]
    feature_bits: NDArray[np.int64]
    feature_bit: Mapping[str, int]
    max_beds: NDArray[np.int64]  # per location; 0 when it has no free unit
    units: tuple[FreeUnit, ...]
    unit_location: NDArray[np.int64]
    unit_beds: NDArray[np.int64]
    class_location: NDArray[np.int64]
    class_beds: NDArray[np.int64]
    class_size: NDArray[np.int64]  # free units per class
    class_units: tuple[tuple[int, ...], ...]  # unit indices of each class, by unit id

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

        # Units: sorted by (location id, unit id), so a unit's index is its tie-break rank.
        if len({unit.id for unit in free_units}) != len(free_units):
            raise ValueError("unit ids must be unique")
        try:
            keyed = sorted(
                ((location_index[u.location_id], u.id, u) for u in free_units),
                key=lambda item: item[:2],
            )
        except KeyError as error:
            raise ValueError(f"a free unit refers to unknown location {error.args[0]!r}") from None
        units = tuple(unit for _, _, unit in keyed)
        unit_location = np.fromiter((index for index, _, _ in keyed), np.int64, len(units))
        unit_beds = np.fromiter((unit.beds for unit in units), np.int64, len(units))

        max_beds = np.zeros(len(ordered), np.int64)
        np.maximum.at(max_beds, unit_location, unit_beds)

        # Capacity classes: one per (location, beds), holding its units in unit-id order.
        by_class = np.lexsort((np.arange(len(units)), unit_beds, unit_location))
        keys = np.stack((unit_location[by_class], unit_beds[by_class]))
        starts = np.flatnonzero(np.any(np.diff(keys, prepend=-1), axis=0))
        bounds = [*starts.tolist(), len(units)]
        class_units = tuple(
            tuple(by_class[bounds[k] : bounds[k + 1]].tolist()) for k in range(len(starts))
        )

        return cls(
            locations=ordered,
            location_index=location_index,
            lat=lat,
            lon=lon,
            safety_rank=safety_rank,
            region_index=region_index,
            region_codes=region_codes,
            region_lookup=region_lookup,
            feature_bits=feature_bits,
            feature_bit=feature_bit,
            max_beds=max_beds,
            units=units,
            unit_location=unit_location,
            unit_beds=unit_beds,
            class_location=unit_location[by_class[starts]],
            class_beds=unit_beds[by_class[starts]],
            class_size=np.diff(np.asarray(bounds, dtype=np.int64)),
            class_units=class_units,
        )

    def region_of(self, code: str) -> int:
        """Return the index of a region code, or -1 when no location is in that region."""
        return self.region_lookup.get(code, -1)

    def needs_mask(self, needs: frozenset[str]) -> int:
        """Return the feature bits a location must all have to meet these needs."""
        mask = 0
        for need in needs:
            mask |= 1 << self.feature_bit.get(need, UNKNOWN_FEATURE_BIT)
        return mask

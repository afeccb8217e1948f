"""The matcher's memory of safe-side distances between runs (issue 16).

The matcher runs on every wake-up with a waiting list that is mostly the one of its last run,
and the distance from a danger point (or where she is now) to a location's centre never
changes unless the location moves. A `DistanceCache` keeps, per start point, the row of
`safe_distance_m` to every location it has seen: its *universe* of location ids with their
centres. A network (which locations it holds changes every run: only those with fitting free
units) takes its columns out of the rows by location id; a location the universe does not
know yet adds a column, computed for the cached rows only. A location whose centre moved
(other lat/lon than stored) empties the cache. The values are those of `safe_distance_m` to
the bit: the same elementwise operations on the same float64 inputs.

Rows are kept for at most `max_points` start points, the least recently used leaving first
(requests leave the list): 4,096 rows against 1,000 locations take 32 MB. Not thread-safe:
one cache per matcher, whose runs never overlap.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.distance import safe_distance_m
from solver.network import Network

FloatArray = NDArray[np.float64]
MAX_POINTS = 4_096


class DistanceCache:
    """Safe-side metres from start points to location centres, kept between runs."""

    def __init__(self, max_points: int = MAX_POINTS) -> None:
        if max_points < 1:
            raise ValueError("max_points must be at least 1")
        self.max_points = max_points
        self.clear()

    def clear(self) -> None:
        """Forget every location and every row."""
        self._column: dict[str, int] = {}  # location id -> column of the universe
        self._lat = np.empty(0, np.float64)  # per column, the centre it was measured to
        self._lon = np.empty(0, np.float64)
        self._slot: OrderedDict[tuple[int, int], int] = OrderedDict()  # point -> row, LRU first
        self._point_lat = np.empty(0, np.float64)  # per row, its start point
        self._point_lon = np.empty(0, np.float64)
        self._rows = np.empty((0, 0), np.float64)  # rows x universe

    def __len__(self) -> int:
        """Return how many start points have a row."""
        return len(self._slot)

    @property
    def locations(self) -> int:
        """Return how many locations the universe holds."""
        return len(self._column)

    def distances_m(self, lat: ArrayLike, lon: ArrayLike, network: Network) -> FloatArray:
        """Return safe_distance_m(lat[:, None], lon[:, None], network.lat, network.lon).

        One row per start point (1-D lat and lon), one column per location of the network;
        rows it keeps are reused, the others computed and kept.
        """
        lat = np.ascontiguousarray(lat, dtype=np.float64).reshape(-1)
        lon = np.ascontiguousarray(lon, dtype=np.float64).reshape(-1)
        columns = self._columns(network)
        # A point is its coordinates' bits: equal floats, equal rows, nothing rounded.
        keys = list(zip(lat.view(np.int64).tolist(), lon.view(np.int64).tolist(), strict=True))
        wanted = dict.fromkeys(keys)
        if len(wanted) > self.max_points:  # more than it may keep: measure afresh
            return safe_distance_m(lat[:, None], lon[:, None], network.lat, network.lon)
        for key in wanted:
            if key in self._slot:
                self._slot.move_to_end(key)  # used now: the last to leave
        missing = [key for key in wanted if key not in self._slot]
        if missing:
            first = {key: k for k, key in reversed(list(enumerate(keys)))}
            at = np.array([first[key] for key in missing], np.int64)
            rows = safe_distance_m(lat[at, None], lon[at, None], self._lat, self._lon)
            slots = self._free_slots(len(missing))
            self._rows[slots] = rows
            self._point_lat[slots], self._point_lon[slots] = lat[at], lon[at]
            self._slot.update(zip(missing, slots.tolist(), strict=True))
        slot_of = np.array([self._slot[key] for key in keys], np.int64)
        return np.asarray(self._rows[slot_of][:, columns], dtype=np.float64)

    def _columns(self, network: Network) -> NDArray[np.int64]:
        """Return the universe column of each location of the network, adding new ones."""
        ids = [location.id for location in network.locations]
        known = np.array([self._column.get(location_id, -1) for location_id in ids], np.int64)
        seen = known >= 0
        # Compared as bits: a centre that moved by any amount is another location.
        if (np.any(self._lat[known[seen]].view(np.int64) != network.lat[seen].view(np.int64))
                or np.any(self._lon[known[seen]].view(np.int64)
                          != network.lon[seen].view(np.int64))):
            self.clear()
            known[:], seen[:] = -1, False
        new = np.flatnonzero(~seen)
        if len(new):
            start = len(self._column)
            lat, lon = network.lat[new], network.lon[new]
            # Only the new columns are measured, for the rows kept so far.
            occupied = np.array(sorted(self._slot.values()), np.int64)
            grown = np.empty((len(self._rows), start + len(new)), np.float64)
            grown[:, :start] = self._rows
            grown[occupied, start:] = safe_distance_m(
                self._point_lat[occupied, None], self._point_lon[occupied, None], lat, lon)
            self._rows = grown
            self._lat, self._lon = np.append(self._lat, lat), np.append(self._lon, lon)
            for offset, i in enumerate(new.tolist()):
                self._column[ids[i]] = start + offset
            known[new] = np.arange(start, start + len(new))
        return known

    def _free_slots(self, count: int) -> NDArray[np.int64]:
        """Return `count` rows to fill, evicting the least recently used points."""
        free = sorted(set(range(len(self._rows))) - set(self._slot.values()))
        if len(free) < count and len(self._rows) < self.max_points:
            size = min(self.max_points, max(2 * len(self._rows), len(self._slot) + count))
            self._rows = np.concatenate(
                (self._rows, np.empty((size - len(self._rows), self._rows.shape[1]))))
            self._point_lat = np.append(self._point_lat, np.full(size - len(self._point_lat),
                                                                 np.nan))
            self._point_lon = np.append(self._point_lon, np.full(size - len(self._point_lon),
                                                                 np.nan))
            free = sorted(set(range(len(self._rows))) - set(self._slot.values()))
        while len(free) < count:  # full: the least recently used leave
            free.append(self._slot.popitem(last=False)[1])
        return np.array(free[:count], np.int64)

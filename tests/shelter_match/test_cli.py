"""The command line of CONTRACT §1, run as a real subprocess on both engines."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shelter_match.db import create_database_engine
from shelter_match.models import ApiToken, Location, Organisation, Unit, User
from shelter_match.services.auth import hash_token
from testbed.cli import run_cli


def assert_one_line_error(result, *words):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def count(url, model, *where):
    engine = create_database_engine(url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(model).where(*where))
    finally:
        engine.dispose()


def test_user_add_prints_token_on_last_line_and_stores_only_its_hash(fresh_database_url):
    result = run_cli("user", "add", "nina", "--role", "crisis_worker",
                     database_url=fresh_database_url)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("smt_") and len(token) > 40
    assert count(fresh_database_url, ApiToken, ApiToken.token_hash == hash_token(token)) == 1
    assert count(fresh_database_url, User, User.name == "nina") == 1


def test_coordinator_with_locations_and_reviewer_with_region(fresh_database_url):
    seeded = run_cli("seed", "demo", database_url=fresh_database_url)
    assert seeded.returncode == 0, seeded.stderr
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session:
        first, second = session.scalars(select(Location.id).order_by(Location.id).limit(2))
    engine.dispose()
    result = run_cli("user", "add", "coco", "--role", "coordinator", "--location", first,
                     "--location", second, database_url=fresh_database_url)
    assert result.returncode == 0, result.stderr
    result = run_cli("user", "add", "rita", "--role", "region_reviewer", "--region", "GM0599",
                     database_url=fresh_database_url)
    assert result.returncode == 0, result.stderr


def test_crisis_workers_of_one_organisation_share_it(fresh_database_url):
    for name in ("nacht", "dag"):
        result = run_cli("user", "add", name, "--role", "crisis_worker", "--organisation",
                         "Veilig Thuis Rotterdam-Rijnmond", database_url=fresh_database_url)
        assert result.returncode == 0, result.stderr
    assert count(fresh_database_url, Organisation) == 1
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session:
        shared = set(session.scalars(select(User.organisation_id)))
    engine.dispose()
    assert len(shared) == 1 and None not in shared


@pytest.mark.parametrize(
    "args, words",
    [
        (["user", "add", "x", "--role", "wizard"], ["role"]),
        (["user", "add", "x", "--role", "region_reviewer", "--region", "GM9999"], ["region"]),
        (["user", "add", "x", "--role", "coordinator", "--location", "nope"], ["location"]),
        (["user", "add", "bad name!", "--role", "admin"], ["name"]),
        (["user", "add", "x"], ["--role"]),
        (["user", "add", "x", "--role", "coordinator", "--organisation", "VT"],
         ["organisation"]),
        (["user", "add", "x", "--role", "crisis_worker", "--organisation", "<b>"],
         ["organisation"]),
        (["user", "revoke", "nobody"], ["nobody"]),
        (["seed", "demo", "--scale", "0"], ["--scale"]),
        (["no-such-command"], ["no-such-command"]),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(fresh_database_url, args, words):
    users_before = count(fresh_database_url, User)
    result = run_cli(*args, database_url=fresh_database_url)
    assert_one_line_error(result, *words)
    assert count(fresh_database_url, User) == users_before


def test_duplicate_user_is_refused(fresh_database_url):
    assert run_cli("user", "add", "dup", "--role", "admin",
                   database_url=fresh_database_url).returncode == 0
    assert_one_line_error(run_cli("user", "add", "dup", "--role", "admin",
                                  database_url=fresh_database_url), "dup")


@pytest.mark.parametrize(
    "url, words",
    [
        ("mysql://root@127.0.0.1/test", ["SHELTER_MATCH_DATABASE_URL"]),
        ("::not a url::", ["SHELTER_MATCH_DATABASE_URL"]),
        ("postgresql+psycopg://postgres@127.0.0.1:1/nothing", ["cannot reach the database"]),
    ],
)
def test_bad_database_url_is_one_line(url, words):
    assert_one_line_error(run_cli("db", "upgrade", database_url=url), *words)


def test_commands_refuse_an_unmigrated_database(tmp_path):
    result = run_cli("seed", "regions", instance=tmp_path)
    assert_one_line_error(result, "db upgrade")


def test_seed_is_deterministic_and_safe_to_run_twice(fresh_database_url):
    first = run_cli("seed", "demo", "--seed", "7", database_url=fresh_database_url)
    assert first.returncode == 0, first.stderr
    locations, units = count(fresh_database_url, Location), count(fresh_database_url, Unit)
    assert 80 <= locations <= 130
    second = run_cli("seed", "demo", "--seed", "7", database_url=fresh_database_url)
    assert second.returncode == 0, second.stderr
    assert (count(fresh_database_url, Location), count(fresh_database_url, Unit)) == (
        locations, units)
    # Each run prints one fresh token per role; the earlier tokens stay valid.
    tokens = [line.split()[-1] for line in second.stdout.splitlines()]
    assert len(tokens) == 5 and all(t.startswith("smt_") for t in tokens)
    regions = run_cli("seed", "regions", database_url=fresh_database_url)
    assert regions.stdout.strip() == "regions: 0 added, 0 updated"


def test_region_move_moves_a_gemeente_audited(fresh_database_url):
    from shelter_match.models import AuditEvent, RegionGemeente

    assert run_cli("seed", "regions", database_url=fresh_database_url).returncode == 0
    shown = run_cli("region", "show", "GM0622", database_url=fresh_database_url)
    assert shown.returncode == 0 and "GM0606\tSchiedam" in shown.stdout
    moved = run_cli("region", "move", "Schiedam", "--to", "GM0599",
                    database_url=fresh_database_url)
    assert moved.returncode == 0, moved.stderr
    assert "from GM0622 to GM0599" in moved.stdout
    assert count(fresh_database_url, RegionGemeente, RegionGemeente.gemeente_code == "GM0606",
                 RegionGemeente.region_code == "GM0599") == 1
    assert count(fresh_database_url, AuditEvent,
                 AuditEvent.action == "region.gemeente_moved") == 1
    assert_one_line_error(run_cli("region", "move", "Nergenshuizen", "--to", "GM0599",
                                  database_url=fresh_database_url), "Nergenshuizen")
    assert_one_line_error(run_cli("region", "move", "GM0606", "--to", "GM9999",
                                  database_url=fresh_database_url), "GM9999")
    assert count(fresh_database_url, RegionGemeente, RegionGemeente.gemeente_code == "GM0606",
                 RegionGemeente.region_code == "GM0599") == 1


def test_the_matcher_command_the_systemd_unit_runs_exists_and_stops_on_sigterm(
        fresh_database_url):
    import os
    import signal
    import subprocess
    import time

    from testbed.cli import SCRIPT

    assert run_cli("matcher", "--help").returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELTER_MATCH_")}
    env["SHELTER_MATCH_DATABASE_URL"] = fresh_database_url
    process = subprocess.Popen([SCRIPT, "matcher", "--period", "0.2"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    first = process.stdout.readline()  # after the signal handlers are in place
    assert "matcher: started" in first, first
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "matcher: stopped" in output and "Traceback" not in output

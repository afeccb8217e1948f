"""`shelter-match user quotas`: show and set one user's quotas, audited; bad input one line."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.db import create_database_engine
from shelter_match.models import AuditEvent
from testbed.cli import run_cli
from tests.shelter_match.test_cli import assert_one_line_error


def test_user_quotas_shows_sets_and_audits(fresh_database_url):
    assert run_cli("user", "add", "nina", "--role", "crisis_worker",
                   database_url=fresh_database_url).returncode == 0
    shown = run_cli("user", "quotas", "nina", database_url=fresh_database_url)
    assert shown.returncode == 0, shown.stderr
    assert "requests_per_hour\t30\t(policy" in shown.stdout
    assert "proposals_per_hour\t300\t(policy" in shown.stdout
    raised = run_cli("user", "quotas", "nina", "--proposals-per-hour", "600",
                     database_url=fresh_database_url)
    assert raised.returncode == 0, raised.stderr
    assert "proposals_per_hour\t600\t(own" in raised.stdout
    assert "requests_per_hour\t30\t(policy" in raised.stdout
    engine = create_database_engine(fresh_database_url)
    try:
        with Session(engine) as session:
            [event] = session.scalars(select(AuditEvent).where(
                AuditEvent.action == "user.quotas_set"))
            assert event.detail["after"]["proposals_per_hour"] == 600
    finally:
        engine.dispose()
    reset = run_cli("user", "quotas", "nina", "--reset", database_url=fresh_database_url)
    assert "proposals_per_hour\t300\t(policy" in reset.stdout


def test_user_quotas_refuses_bad_input_in_one_line(fresh_database_url):
    assert run_cli("user", "add", "nina", "--role", "crisis_worker",
                   database_url=fresh_database_url).returncode == 0
    assert_one_line_error(run_cli("user", "quotas", "nina", "--proposals-per-hour", "-1",
                                  database_url=fresh_database_url), "proposals_per_hour")
    assert_one_line_error(run_cli("user", "quotas", "nobody", "--proposals-per-hour", "5",
                                  database_url=fresh_database_url), "nobody")
    assert_one_line_error(run_cli("user", "quotas", "nina", "--requests-per-hour", "many",
                                  database_url=fresh_database_url), "requests-per-hour")

"""The command line of duty officers and notifications, run as a real subprocess."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.models import User, user_duty_regions
from testbed.cli import run_cli
from tests.factories import make_caller, make_request
from tests.shelter_match.test_cli import assert_one_line_error
from tests.shelter_match.test_notifications import SECRET, Receiver


def test_duty_officers_get_any_number_of_regions_or_none(fresh_database_url):
    result = run_cli("user", "add", "dora", "--role", "duty_officer", "--region", "GM0599",
                     "--region", "GM0014", database_url=fresh_database_url)
    assert result.returncode == 0, result.stderr
    assert run_cli("user", "add", "nora", "--role", "duty_officer",
                   database_url=fresh_database_url).returncode == 0
    engine = create_database_engine(fresh_database_url)
    with Session(engine) as session:
        dora = session.scalar(select(User).where(User.name == "dora"))
        regions = set(session.scalars(select(user_duty_regions.c.region_code)
                                      .where(user_duty_regions.c.user_id == dora.id)))
        assert regions == {"GM0599", "GM0014"}
    engine.dispose()
    assert_one_line_error(run_cli("user", "add", "x", "--role", "region_reviewer", "--region",
                                  "GM0599", "--region", "GM0014",
                                  database_url=fresh_database_url), "region")
    assert_one_line_error(run_cli("user", "add", "y", "--role", "duty_officer", "--region",
                                  "GM9999", database_url=fresh_database_url), "region")


def test_notify_channel_and_run_once_deliver_a_signed_webhook(fresh_database_url):
    receiver = Receiver()
    try:
        result = run_cli("notify", "channel", "duty:GM0599", "--webhook-url", receiver.url,
                         "--webhook-secret-stdin", stdin=SECRET + "\n",
                         database_url=fresh_database_url)
        assert result.returncode == 0, result.stderr
        assert SECRET not in result.stdout
        engine = create_database_engine(fresh_database_url)
        with Session(engine) as session, session.begin():
            two_hours_ago = FrozenClock(datetime.now(UTC) - timedelta(hours=2))
            worker = make_caller(session, two_hours_ago, "crisis_worker")
            request_id = make_request(session, two_hours_ago, worker, risk_level="rood").id
        engine.dispose()
        result = run_cli("notify", "run", "--once", database_url=fresh_database_url)
        assert result.returncode == 0, result.stderr
        assert "delivered 1" in result.stdout
        assert [body["request_id"] for body in receiver.received] == [request_id]
        log = run_cli("notify", "log", database_url=fresh_database_url)
        assert "webhook\tescalation\tduty:GM0599\tok" in log.stdout
    finally:
        receiver.close()


def test_bad_channel_input_is_one_line(fresh_database_url):
    assert_one_line_error(run_cli("notify", "channel", "duty:GM0599", "--email", "nope",
                                  database_url=fresh_database_url), "email")
    assert_one_line_error(run_cli("notify", "channel", "wie", "--email", "a@example.org",
                                  database_url=fresh_database_url), "audience")
    bad_smtp = run_cli("notify", "run", "--once", database_url=fresh_database_url,
                       extra_env={"SHELTER_MATCH_SMTP_URL": "mail.example.org"})
    assert_one_line_error(bad_smtp, "SHELTER_MATCH_SMTP_URL")

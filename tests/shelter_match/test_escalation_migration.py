"""Migration 0010 on a database with data: SQLite rebuilds `users` without losing a row."""

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from seed.loaders import seed_regions
from shelter_match.db import create_database_engine
from shelter_match.migrate import alembic_config, upgrade
from shelter_match.models import ApiToken, User
from shelter_match.services import users
from testbed.databases import create_empty_database, drop_database
from tests.conftest import NIGHT


def test_0010_keeps_users_tokens_and_requests_and_admits_duty_officers(backend, tmp_path):
    url = create_empty_database(backend, tmp_path)
    engine = create_database_engine(url)
    try:
        upgrade(engine, ScriptDirectory.from_config(alembic_config())
                .get_revision("0010").down_revision)
        with Session(engine) as session, session.begin():
            seed_regions(session)
            worker, _ = users.create_user(session, name="w", role="crisis_worker", now=NIGHT)
            session.execute(text(
                "INSERT INTO placement_requests (id, created_by, origin_region_code, "
                "risk_level, adults, children, needs, excluded_region_codes, "
                "excluded_location_ids, status, created_at) VALUES ('r1', :user, 'GM0599', "
                "'rood', 1, 0, '[]', '[]', '[]', 'open', :at)"),
                {"user": worker.id, "at": NIGHT.replace(tzinfo=None)})
        upgrade(engine)
        with Session(engine) as session, session.begin():
            # The token survives the rebuild (a cascade from dropping the old table would
            # have deleted it), and the new role is admitted.
            assert session.scalar(select(func.count()).select_from(ApiToken)) == 1
            users.create_user(session, name="d", role="duty_officer", now=NIGHT,
                              duty_region_codes=["GM0599", "GM0014"])
        with Session(engine) as session:
            assert session.scalar(select(User.role).where(User.name == "d")) == "duty_officer"
            if backend == "sqlite":
                assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()
        drop_database(url)

"""deploy/backup.sh and restore.sh, for real: PostgreSQL, pg_dump, age.

A backup holds every secret address, so: it is encrypted to a public key (the private key
stays offline), no plaintext ever reaches the disk, the files are private whatever the
caller's umask, and a restore with the private key brings back the same data with an
intact audit trail.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from shelter_match.clock import FrozenClock
from shelter_match.db import create_database_engine
from shelter_match.models import AuditEvent, Location
from testbed.cli import SCRIPT
from testbed.databases import POSTGRES_ADMIN_URL, create_postgres_database, drop_database
from tests.conftest import _require_postgres
from tests.deploy.test_shipped_files import require_tool
from tests.factories import make_caller, make_location

pytestmark = pytest.mark.postgres_only
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SECRET_ADDRESS = "Geheimweg 17, Zwolle"


def libpq(url: str) -> str:
    """Return an SQLAlchemy URL as the libpq URI pg_dump and pg_restore take."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(script: str, *args: str, env: dict[str, str], umask: str = "022"
        ) -> subprocess.CompletedProcess:
    # A lax umask on purpose: the scripts must make their files private themselves.
    return subprocess.run(["bash", "-c", f'umask {umask}; exec "$0" "$@"',
                           str(DEPLOY / script), *args],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.fixture
def backup_key(tmp_path) -> tuple[Path, Path]:
    """An age key pair: (the private identity, offline; the public recipients, on the server)."""
    keygen = require_tool("age-keygen")
    require_tool("age")
    identity = tmp_path / "offline" / "backup-key.txt"
    identity.parent.mkdir()
    subprocess.run([keygen, "-o", str(identity)], capture_output=True, check=True, timeout=30)
    public = subprocess.run([keygen, "-y", str(identity)], capture_output=True, text=True,
                            check=True, timeout=30).stdout
    recipients = tmp_path / "server" / "backup-recipients.txt"
    recipients.parent.mkdir()
    recipients.write_text(public)
    return identity, recipients


@pytest.fixture
def source_database(postgres_url) -> str:
    clock = FrozenClock(datetime.now(UTC))
    engine = create_database_engine(postgres_url)
    with Session(engine) as session, session.begin():
        make_caller(session, clock, "admin")
        make_location(session, clock, name="Veilig Huis Zwolle", region_code="GM0193",
                      address=SECRET_ADDRESS, lat=52.51, lon=6.09)
    engine.dispose()
    return postgres_url


def script_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELTER_MATCH_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["SHELTER_MATCH"] = SCRIPT
    env.update(extra)
    return env


def test_backup_is_encrypted_private_and_restores_with_the_offline_key(
        source_database, backup_key, tmp_path):
    identity, recipients = backup_key
    backups = tmp_path / "backups"
    made = run("backup.sh", libpq(source_database), str(backups),
               env=script_env(SHELTER_MATCH_BACKUP_RECIPIENTS=str(recipients)))
    assert made.returncode == 0, made.stderr
    backup = Path(made.stdout.strip())
    assert backup.parent == backups and backup.name.endswith(".dump.age")
    assert [p.name for p in backups.iterdir()] == [backup.name]  # nothing plain left beside it
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    content = backup.read_bytes()
    assert content.startswith(b"age-encryption.org/v1\n")
    assert SECRET_ADDRESS.encode() not in content and b"Veilig Huis" not in content

    target = create_postgres_database()
    try:
        restored = run("restore.sh", str(backup), libpq(target),
                       env=script_env(SHELTER_MATCH_BACKUP_IDENTITY=str(identity),
                                      SHELTER_MATCH_DATABASE_URL=target))
        assert restored.returncode == 0, restored.stderr
        assert "audit trail intact" in restored.stdout
        engine = create_database_engine(target)
        with Session(engine) as session:
            assert session.scalar(select(Location.address)) == SECRET_ADDRESS
            assert session.scalar(select(func.count()).select_from(AuditEvent)) >= 2
        engine.dispose()
    finally:
        drop_database(target)


def test_restore_refuses_without_the_key_or_with_another_and_writes_nothing(
        source_database, backup_key, tmp_path):
    identity, recipients = backup_key
    made = run("backup.sh", libpq(source_database), str(tmp_path / "backups"),
               env=script_env(SHELTER_MATCH_BACKUP_RECIPIENTS=str(recipients)))
    backup = made.stdout.strip()
    other = tmp_path / "other-key.txt"
    subprocess.run([require_tool("age-keygen"), "-o", str(other)], capture_output=True,
                   check=True, timeout=30)
    target = create_postgres_database()
    try:
        missing = run("restore.sh", backup, libpq(target), env=script_env())
        assert missing.returncode != 0
        assert "SHELTER_MATCH_BACKUP_IDENTITY" in missing.stderr
        wrong = run("restore.sh", backup, libpq(target),
                    env=script_env(SHELTER_MATCH_BACKUP_IDENTITY=str(other),
                                   SHELTER_MATCH_DATABASE_URL=target))
        assert wrong.returncode != 0 and "no identity matched" in wrong.stderr
        engine = create_engine(target)
        with engine.connect() as connection:
            tables = connection.execute(text(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one()
        engine.dispose()
        assert tables == 0
    finally:
        drop_database(target)


def test_backup_refuses_without_a_public_key_and_leaves_no_file(source_database, tmp_path):
    require_tool("age")  # backup.sh looks for age first: without it, that is what it says
    backups = tmp_path / "backups"
    refused = run("backup.sh", libpq(source_database), str(backups),
                  env=script_env(SHELTER_MATCH_BACKUP_RECIPIENTS=str(tmp_path / "none.txt")))
    assert refused.returncode != 0 and "no recipients file" in refused.stderr
    assert not backups.exists() or list(backups.iterdir()) == []


def test_a_failed_dump_leaves_no_partial_backup(backup_key, tmp_path):
    _require_postgres()
    _identity, recipients = backup_key
    backups = tmp_path / "backups"
    nowhere = libpq(make_url(POSTGRES_ADMIN_URL).set(database="no_such_database_x")
                    .render_as_string(hide_password=False))
    failed = run("backup.sh", nowhere, str(backups),
                 env=script_env(SHELTER_MATCH_BACKUP_RECIPIENTS=str(recipients)))
    assert failed.returncode != 0
    assert list(backups.iterdir()) == []

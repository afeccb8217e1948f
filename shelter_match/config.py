"""Read the configuration from the environment (CONTRACT §1)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from shelter_match.errors import ConfigError

DATABASE_URL_VARIABLE = "SHELTER_MATCH_DATABASE_URL"
INSTANCE_PATH_VARIABLE = "SHELTER_MATCH_INSTANCE_PATH"
SQLITE_FILENAME = "shelter-match.sqlite3"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the service waits for its database before it answers 503 (README).

    `connect`: to open a connection; `statement`: for one statement (PostgreSQL's
    statement_timeout; SQLite waits this long for its one write lock); `lock`: for a row
    lock (PostgreSQL's lock_timeout). A server that stops answering altogether (frozen,
    cut off) is given up on `deadline` seconds into a statement, on the client's side.
    """

    connect: float = 3.0
    statement: float = 5.0
    lock: float = 2.0

    @property
    def deadline(self) -> float:
        # Later than the server's own statement_timeout, which cancels the statement and
        # keeps the connection; this one closes it.
        return self.statement + 1.0


TIMEOUT_VARIABLES = {
    "connect": "SHELTER_MATCH_DB_CONNECT_TIMEOUT",
    "statement": "SHELTER_MATCH_DB_STATEMENT_TIMEOUT",
    "lock": "SHELTER_MATCH_DB_LOCK_TIMEOUT",
}


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    database_url: URL
    instance_path: Path
    secret_key: str | None = None
    # How many reverse proxies in front of us may set X-Forwarded-For (0: none).
    proxy_count: int = 0
    timeouts: DatabaseTimeouts = DatabaseTimeouts()
    # A web session ends this long after sign-in, and earlier after this long idle.
    session_hours: int = 12
    session_idle_minutes: int = 240
    # Notifications: the SMTP server (smtp://host:port), the sender, and the service's
    # public address for the links in them.
    smtp_url: str | None = None
    mail_from: str = "shelter-match@localhost"
    base_url: str = "http://127.0.0.1:8000"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.get_backend_name() == "sqlite"


def default_instance_path() -> Path:
    """Return the instance folder: beside the source in a checkout, else under sys.prefix."""
    source_root = Path(__file__).resolve().parent.parent
    if (source_root / "pyproject.toml").exists():
        return source_root / "instance"
    return Path(sys.prefix) / "var" / "shelter-match"


def parse_database_url(raw: str) -> URL:
    """Return the SQLAlchemy URL, or raise ConfigError naming the variable."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(f"{DATABASE_URL_VARIABLE} is not a valid SQLAlchemy URL.") from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"{DATABASE_URL_VARIABLE} selects '{backend}'; supported are sqlite and "
            "postgresql+psycopg."
        )
    if backend == "postgresql" and url.get_driver_name() != "psycopg":
        raise ConfigError(f"{DATABASE_URL_VARIABLE}: use the postgresql+psycopg:// driver.")
    return url


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Return the settings from the environment; unset database URL means embedded SQLite."""
    environ = dict(os.environ if environ is None else environ)
    instance_path = Path(environ.get(INSTANCE_PATH_VARIABLE) or default_instance_path())
    raw_url = environ.get(DATABASE_URL_VARIABLE, "").strip()
    if raw_url:
        url = parse_database_url(raw_url)
    else:
        url = URL.create("sqlite", database=str(instance_path / SQLITE_FILENAME))
    return Settings(
        database_url=url,
        instance_path=instance_path,
        secret_key=environ.get("SHELTER_MATCH_SECRET_KEY") or None,
        proxy_count=_proxy_count(environ.get("SHELTER_MATCH_PROXY_COUNT", "0")),
        timeouts=_timeouts(environ),
        session_hours=_whole_number(environ, "SHELTER_MATCH_SESSION_HOURS", 12, 1, 24 * 7),
        session_idle_minutes=_whole_number(environ, "SHELTER_MATCH_SESSION_IDLE_MINUTES", 240,
                                           5, 24 * 60 * 7),
        smtp_url=_smtp_url(environ.get("SHELTER_MATCH_SMTP_URL", "").strip() or None),
        mail_from=environ.get("SHELTER_MATCH_MAIL_FROM") or "shelter-match@localhost",
        base_url=environ.get("SHELTER_MATCH_BASE_URL") or "http://127.0.0.1:8000",
    )


def _timeouts(environ: dict[str, str]) -> DatabaseTimeouts:
    values: dict[str, float] = {}
    for name, variable in TIMEOUT_VARIABLES.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not 0.1 <= value <= 600:  # also refuses nan and inf
            raise ConfigError(f"{variable} must be a number of seconds between 0.1 and 600.")
        values[name] = value
    return DatabaseTimeouts(**values)


def _smtp_url(raw: str | None) -> str | None:
    if raw is None:
        return None
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        port, parts = None, None
    if parts is None or parts.scheme not in ("smtp", "smtp+starttls") or not parts.hostname \
            or (port is not None and not 0 < port < 65536):
        raise ConfigError("SHELTER_MATCH_SMTP_URL must look like smtp://host:port "
                          "(or smtp+starttls://user:password@host:port).")
    return raw


def _proxy_count(raw: str) -> int:
    if not raw.strip().isdigit():
        raise ConfigError("SHELTER_MATCH_PROXY_COUNT must be a whole number (0 without a proxy).")
    return int(raw)


def _whole_number(environ: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}.")
    return int(raw)

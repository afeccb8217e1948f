import pytest

from shelter_match.config import load_settings
from shelter_match.errors import ConfigError


def test_unset_url_means_sqlite_in_instance_folder(tmp_path):
    settings = load_settings({"SHELTER_MATCH_INSTANCE_PATH": str(tmp_path)})
    assert settings.is_sqlite
    assert settings.database_url.database == str(tmp_path / "shelter-match.sqlite3")


def test_postgres_url_selects_postgres():
    settings = load_settings(
        {"SHELTER_MATCH_DATABASE_URL": "postgresql+psycopg://u@db.example:5432/sm"}
    )
    assert settings.database_url.get_backend_name() == "postgresql"
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    "url, words",
    [
        ("not a url", "not a valid SQLAlchemy URL"),
        ("mysql://u@h/db", "supported are sqlite and postgresql"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg"),
    ],
)
def test_bad_url_names_the_variable(url, words):
    with pytest.raises(ConfigError) as raised:
        load_settings({"SHELTER_MATCH_DATABASE_URL": url})
    assert "SHELTER_MATCH_DATABASE_URL" in str(raised.value)
    assert words in str(raised.value)


def test_database_timeouts_have_sane_defaults_and_come_from_the_environment():
    defaults = load_settings({}).timeouts
    assert (defaults.connect, defaults.statement, defaults.lock) == (3.0, 5.0, 2.0)
    assert defaults.deadline > defaults.statement
    settings = load_settings({"SHELTER_MATCH_DB_CONNECT_TIMEOUT": "4",
                              "SHELTER_MATCH_DB_STATEMENT_TIMEOUT": "2.5",
                              "SHELTER_MATCH_DB_LOCK_TIMEOUT": "0.5"})
    assert (settings.timeouts.connect, settings.timeouts.statement,
            settings.timeouts.lock) == (4.0, 2.5, 0.5)


@pytest.mark.parametrize("raw", ["soon", "0", "-1", "nan", "inf", "601"])
def test_a_bad_database_timeout_names_the_variable(raw):
    with pytest.raises(ConfigError, match="SHELTER_MATCH_DB_LOCK_TIMEOUT"):
        load_settings({"SHELTER_MATCH_DB_LOCK_TIMEOUT": raw})

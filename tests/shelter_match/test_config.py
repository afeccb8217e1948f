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

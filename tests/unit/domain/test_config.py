import pytest

from inventory_service.config import ConfigError, Settings


def test_defaults_put_sqlite_in_the_data_dir():
    s = Settings.from_env({"INVENTORY_DATA_DIR": "/srv/inv"})
    assert s.database_url == "sqlite:////srv/inv/inventory.db"
    assert s.bind == "127.0.0.1:8000"
    assert s.expiry_horizons_days == (90, 60, 30)


def test_postgres_urls_use_psycopg_3():
    s = Settings.from_env({"INVENTORY_DATABASE_URL": "postgresql://u@db/inv"})
    assert s.database_url == "postgresql+psycopg://u@db/inv"


def test_an_unknown_time_zone_is_a_clear_error():
    with pytest.raises(ConfigError, match="INVENTORY_TIMEZONE"):
        Settings.from_env({"INVENTORY_TIMEZONE": "Mars/Olympus"})


def test_a_bad_bind_is_a_clear_error():
    with pytest.raises(ConfigError, match="INVENTORY_BIND"):
        Settings.from_env({"INVENTORY_BIND": "8000"})


def test_settings_are_frozen():
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.bind = "0.0.0.0:1"  # type: ignore[misc]

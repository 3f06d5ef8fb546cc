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


def test_metrics_are_served_on_the_api_port_unless_set_off_or_to_a_bind_of_their_own():
    assert Settings.from_env({}).metrics == "api" and Settings.from_env({}).metrics_bind is None
    assert Settings.from_env({"INVENTORY_METRICS": "OFF"}).metrics == "off"
    s = Settings.from_env({"INVENTORY_METRICS": "0.0.0.0:9464", "INVENTORY_METRICS_TOKEN": " t0k \n"})
    assert (s.metrics_bind, s.metrics_token) == ("0.0.0.0:9464", "t0k")
    assert "t0k" not in repr(s)
    for bad in ("9464", "on", "host:port", "127.0.0.1:99999"):
        with pytest.raises(ConfigError, match="INVENTORY_METRICS"):
            Settings.from_env({"INVENTORY_METRICS": bad})


def test_request_limits_default_and_are_read():
    s = Settings.from_env({})
    assert (s.max_body_bytes, s.http_timeout_s) == (16 * 1024 * 1024, 60.0)
    s = Settings.from_env({"INVENTORY_MAX_BODY_BYTES": "65536", "INVENTORY_HTTP_TIMEOUT_S": "30"})
    assert (s.max_body_bytes, s.http_timeout_s) == (65536, 30.0)


@pytest.mark.parametrize(("name", "value"), [("INVENTORY_MAX_BODY_BYTES", "16M"), ("INVENTORY_MAX_BODY_BYTES", "10"),
                                             ("INVENTORY_HTTP_TIMEOUT_S", "soon"), ("INVENTORY_HTTP_TIMEOUT_S", "5")])
def test_bad_request_limits_are_a_clear_error(name: str, value: str):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_waitress_gets_the_limits():
    from inventory_service.cli import waitress_options

    settings = Settings.from_env({"INVENTORY_MAX_BODY_BYTES": "65536", "INVENTORY_HTTP_TIMEOUT_S": "40"})
    options = waitress_options(settings)
    assert options == {"channel_timeout": 40.0, "cleanup_interval": 10.0, "max_request_body_size": 65536 + 64 * 1024}

"""Settings read once per process from the environment (ARCHITECTURE §4, Configuration).

`Settings.from_env()` is called by the console script and by tests; nothing reads the environment
at import time, and nothing below the entry points reads it at all: settings are passed down.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_BIND = "127.0.0.1:8000"
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"
#: Request bodies up to 16 MiB: far above any JSON request, room for a year of a logger's file export.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
#: An HTTP connection idle this long is closed. More than the event stream's keep-alive (15 s).
DEFAULT_HTTP_TIMEOUT_S = 60.0
MIN_HTTP_TIMEOUT_S = 20.0


class ConfigError(ValueError):
    """A configuration variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """Every knob of the service. Frozen: a process reads it once and passes it down."""

    data_dir: Path = Path("var")
    database_url: str = ""
    mqtt_url: str = field(default=DEFAULT_MQTT_URL, repr=False)
    bind: str = DEFAULT_BIND
    timezone: str = "UTC"
    scanners: str = ""
    smtp_url: str = field(default="", repr=False)
    log_level: str = "INFO"
    expiry_horizons_days: tuple[int, ...] = (90, 60, 30)
    instance: str = "default"
    mqtt_shared: bool = False
    webhook_secret: str = field(default="", repr=False)
    delivery_interval_s: float = 5.0
    receive_warn_days: int = 30
    metrics: str = "api"
    metrics_token: str = field(default="", repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    http_timeout_s: float = DEFAULT_HTTP_TIMEOUT_S
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"INVENTORY_TIMEZONE: unknown time zone {self.timezone!r}") from exc
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'inventory.db'}")
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", self.instance):
            raise ConfigError(f"INVENTORY_INSTANCE: expected 1-64 of [A-Za-z0-9._-], got {self.instance!r}")
        host, _, port = self.bind.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"INVENTORY_BIND: expected host:port, got {self.bind!r}")
        if self.metrics not in ("api", "off"):
            host, _, port = self.metrics.rpartition(":")
            if not host or not port.isdigit() or int(port) > 65535:
                raise ConfigError(f"INVENTORY_METRICS: expected api, off or host:port, got {self.metrics!r}")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def bind_host(self) -> str:
        return self.bind.rpartition(":")[0]

    @property
    def bind_port(self) -> int:
        return int(self.bind.rpartition(":")[2])

    @property
    def metrics_bind(self) -> str | None:
        """The `host:port` metrics are served on by a server of their own; None for `api` and `off`."""
        return None if self.metrics in ("api", "off") else self.metrics

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `INVENTORY_*` variables (defaults documented in the README)."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("INVENTORY_DATA_DIR", "var"))
        horizons = env.get("INVENTORY_EXPIRY_HORIZONS", "90,60,30")
        try:
            parsed_horizons = tuple(sorted((int(h) for h in horizons.split(",") if h.strip()), reverse=True))
        except ValueError as exc:
            raise ConfigError(f"INVENTORY_EXPIRY_HORIZONS: expected comma-separated days, got {horizons!r}") from exc
        body = env.get("INVENTORY_MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES)).strip()
        if not body.isdigit() or not 1024 <= int(body) <= 2**31:
            raise ConfigError(f"INVENTORY_MAX_BODY_BYTES: expected bytes from 1024 to 2147483648, got {body!r}")
        timeout = env.get("INVENTORY_HTTP_TIMEOUT_S", str(DEFAULT_HTTP_TIMEOUT_S)).strip()
        try:
            timeout_s = float(timeout)
        except ValueError:
            timeout_s = -1.0
        if not MIN_HTTP_TIMEOUT_S <= timeout_s <= 86_400:
            raise ConfigError(f"INVENTORY_HTTP_TIMEOUT_S: expected seconds from {MIN_HTTP_TIMEOUT_S:g} to 86400 "
                              f"(above the event stream's 15 s keep-alive), got {timeout!r}")
        warn = env.get("INVENTORY_RECEIVE_WARN_DAYS", "30").strip()
        if not warn.isdigit() or int(warn) > 3650:
            raise ConfigError(f"INVENTORY_RECEIVE_WARN_DAYS: expected a whole number of days (0-3650), got {warn!r}")
        return cls(
            data_dir=data_dir,
            database_url=normalise_database_url(env.get("INVENTORY_DATABASE_URL", "")),
            mqtt_url=env.get("INVENTORY_MQTT_URL", DEFAULT_MQTT_URL),
            bind=env.get("INVENTORY_BIND", DEFAULT_BIND),
            timezone=env.get("INVENTORY_TIMEZONE", "UTC"),
            scanners=env.get("INVENTORY_SCANNERS", ""),
            smtp_url=env.get("INVENTORY_SMTP_URL", ""),
            log_level=env.get("INVENTORY_LOG_LEVEL", "INFO").upper(),
            expiry_horizons_days=parsed_horizons,
            instance=env.get("INVENTORY_INSTANCE", "default"),
            mqtt_shared=env.get("INVENTORY_MQTT_SHARED", "false").lower() in ("1", "true", "yes"),
            webhook_secret=env.get("INVENTORY_WEBHOOK_SECRET", ""),
            receive_warn_days=int(warn),
            metrics=env.get("INVENTORY_METRICS", "api").strip().lower() or "api",
            metrics_token=env.get("INVENTORY_METRICS_TOKEN", "").strip(),
            max_body_bytes=int(body),
            http_timeout_s=timeout_s,
        )


def normalise_database_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` URLs and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url

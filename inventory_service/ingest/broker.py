"""The MQTT broker's address and a cheap reachability probe for the health endpoint."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """`mqtt://user:pass@host:port` (or `mqtts://` for TLS, default port 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"INVENTORY_MQTT_URL: unsupported scheme {parts.scheme!r} (use mqtt:// or mqtts://)")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def redacted(self) -> str:
        """For logs: never the password."""
        user = f"{self.username}:***@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


class BrokerProbe:
    """Answers "can we reach the broker?" with a TCP connect, cached for `ttl` seconds."""

    def __init__(self, address: BrokerAddress, ttl: float = 5.0, timeout: float = 0.5) -> None:
        self.address, self.ttl, self.timeout = address, ttl, timeout
        self._lock = threading.Lock()
        self._checked = -1e9
        self._ok = False

    def __call__(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= self.ttl:
                self._ok = reachable(self.address.host, self.address.port, self.timeout)
                self._checked = now
            return self._ok


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False

"""The MQTT link every simulated device shares: QoS 1 publishes acknowledged before returning, a
retained `online`/`offline` status with the Last Will `offline`, a clean close and a power-cut kill.

paho is driven from the caller's thread (no loop_start: no thread, no wake-up socket pair left open),
so a simulator is a plain sequential program whose timing the tests control.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable
from typing import Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode


class MqttDevice:
    """Connection and publishing for a device whose status topic is `status_topic`."""

    def __init__(self, *, host: str, port: int, username: str | None, password: str | None, tls: bool,
                 keepalive: int, client_id: str, timeout_s: float, status_topic: str) -> None:
        self.host, self.port = host, port
        self.username, self.password, self.tls = username, password, tls
        self.keepalive, self.timeout_s = keepalive, timeout_s
        self.client_id, self.status_topic = client_id, status_topic
        self._client: mqtt.Client | None = None
        self._connack: object = None

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.socket() is not None

    def connect(self) -> None:
        """Connect with the Last Will `offline` (retained), then publish `online` (retained) and wait
        for its PUBACK."""
        if self.connected:
            return
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, reconnect_on_failure=False)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set()
        client.will_set(self.status_topic, "offline", qos=1, retain=True)
        self._connack = None
        client.on_connect = lambda _c, _u, _f, reason, _p: setattr(self, "_connack", reason)
        self._client = client
        try:
            client.connect(self.host, self.port, keepalive=self.keepalive)
            self._pump(lambda: self._connack is not None, "CONNACK")
            if getattr(self._connack, "is_failure", False):
                raise ConnectionError(f"broker refused the connection: {self._connack}")
            self._publish(self.status_topic, b"online", retain=True)
        except BaseException:
            self.kill()
            raise

    def close(self) -> None:
        """Clean end: `offline` (retained), then DISCONNECT; the broker discards the Will."""
        client = self._client
        if client is None:
            return
        try:
            if self.connected:
                self._publish(self.status_topic, b"offline", retain=True)
                client.disconnect()
                self._pump(lambda: client.socket() is None, "the socket to close", timeout=2.0)
        finally:
            self.kill()

    def kill(self) -> None:
        """End without DISCONNECT, like a device losing power or its network: the broker publishes the Will."""
        client, self._client = self._client, None
        sock = client.socket() if client is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """QoS 1; returns once the broker acknowledged it."""
        if self._client is None:
            raise ConnectionError("not connected")
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN):
            raise ConnectionError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self._pump(info.is_published, f"PUBACK on {topic}")

    def _pump(self, done: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        """Drive paho until `done()`; ConnectionError when the link drops, TimeoutError after the timeout."""
        client = self._client
        deadline = time.monotonic() + (self.timeout_s if timeout is None else timeout)
        while not done():
            sock = client.socket() if client is not None else None
            if client is None or sock is None:
                raise ConnectionError(f"connection lost waiting for {what}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {what} within the timeout")
            pending = getattr(sock, "pending", lambda: 0)()
            readable, writable, _ = select.select([sock], [sock] if client.want_write() else [], [],
                                                  0 if pending else min(left, 0.5))
            rc = MQTTErrorCode.MQTT_ERR_SUCCESS
            if readable or pending:
                rc = client.loop_read()
            if writable and rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                rc = client.loop_write()
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                rc = client.loop_misc()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and not done():
                raise ConnectionError(f"waiting for {what}: {mqtt.error_string(rc)}")

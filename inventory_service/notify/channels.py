"""The three channels behind one small interface."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..domain.instants import wire_value
from ..ingest.broker import BrokerAddress

SIGNATURE_HEADER = "X-Inventory-Signature"


class DeliveryError(Exception):
    """The channel could not deliver; the message is the reason kept with the attempt."""


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    body: str
    payload: dict[str, Any]  # the alert as JSON (ARCHITECTURE §4 `alerts/<kind>`)


class Channels:
    """Configured from INVENTORY_SMTP_URL, INVENTORY_MQTT_URL and INVENTORY_WEBHOOK_SECRET."""

    def __init__(self, *, smtp_url: str = "", mqtt_url: str = "", webhook_secret: str = "", timeout: float = 10.0):
        self.smtp_url, self.mqtt_url, self.webhook_secret, self.timeout = smtp_url, mqtt_url, webhook_secret, timeout

    def send(self, channel: str, recipient: str, message: Message) -> None:
        if channel == "email":
            self.email(recipient, message)
        elif channel == "webhook":
            self.webhook(recipient, message)
        elif channel == "mqtt":
            self.mqtt(message)
        else:
            raise DeliveryError(f"unknown channel {channel!r}")

    def email(self, to: str, message: Message) -> None:
        """`smtp://user:pass@host:port?from=alerts@clinic.example` (`smtps://` for TLS, `?starttls=1`)."""
        if not self.smtp_url:
            raise DeliveryError("INVENTORY_SMTP_URL is not set")
        parts = urlsplit(self.smtp_url)
        query = parse_qs(parts.query)
        sender = query.get("from", ["inventory@localhost"])[0]
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, to, message.subject
        msg.set_content(message.body)
        try:
            if parts.scheme == "smtps":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(parts.hostname or "localhost", parts.port or 465,
                                                      timeout=self.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(parts.hostname or "localhost", parts.port or 25, timeout=self.timeout)
            with smtp:
                if query.get("starttls", ["0"])[0] in ("1", "true"):
                    smtp.starttls(context=ssl.create_default_context())
                if parts.username:
                    smtp.login(unquote(parts.username), unquote(parts.password or ""))
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"smtp: {type(exc).__name__}: {exc}") from exc

    def webhook(self, url: str, message: Message) -> None:
        """POST the alert as JSON, signed: `X-Inventory-Signature: sha256=<HMAC-SHA256 of the body>`."""
        body = json.dumps(message.payload, default=wire_value, separators=(",", ":")).encode()
        request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - configured by a manager
        request.add_header("Content-Type", "application/json")
        if self.webhook_secret:
            digest = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
            request.add_header(SIGNATURE_HEADER, f"sha256={digest}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"webhook answered {response.status}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook answered {exc.code}") from exc
        except (OSError, urllib.error.URLError) as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from exc

    def mqtt(self, message: Message) -> None:
        """Publish to `alerts/<kind>` at QoS 1 and wait for the broker's acknowledgement."""
        if not self.mqtt_url:
            raise DeliveryError("INVENTORY_MQTT_URL is not set")
        address = BrokerAddress.parse(self.mqtt_url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        if address.username:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set()
        try:
            client.connect(address.host, address.port, keepalive=10)
            client.loop_start()
            info = client.publish(f"alerts/{message.kind}", json.dumps(message.payload, default=wire_value), qos=1)
            info.wait_for_publish(self.timeout)
            if not info.is_published():
                raise DeliveryError("mqtt: broker did not acknowledge in time")
        except (OSError, ValueError, RuntimeError) as exc:
            raise DeliveryError(f"mqtt: {type(exc).__name__}: {exc}") from exc
        finally:
            client.loop_stop()
            client.disconnect()

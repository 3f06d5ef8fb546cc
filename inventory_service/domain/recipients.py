"""What a routing rule may name as a recipient, per channel.

- `email`: one bare address (`nurse@clinic.example`): no display name, no list. The local part is
  an ASCII dot-atom (RFC 5322 §3.4.1; quoted local parts are refused), the domain a host name of at
  least two dot-separated labels of ASCII letters, digits and hyphens (an internationalised domain
  is asked for in its IDNA form, xn--...), within SMTP's limits (RFC 5321 §4.5.3.1: 64 octets
  local part, 254 in all).
- `webhook`: an absolute `http` or `https` URL with a host (RFC 3986): ASCII, without whitespace.
- `mqtt`: a topic name to publish to: non-empty, no wildcards `+` or `#` (topic *names* may not hold
  them, MQTT 3.1.1 §4.7.1), no NUL (§1.5.3), not starting with `$` (reserved for the broker, §4.7.2),
  at most 200 characters.

`problem(channel, value)` answers why a value is refused, or None when it is fine.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from urllib.parse import urlsplit

MAX_EMAIL = 254
MAX_LOCAL_PART = 64
MAX_URL = 300
MAX_TOPIC = 200

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _host_problem(host: str) -> str | None:
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"{host!r} is not a valid host name"
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return f"{host!r} is not a host name of the form clinic.example"
    if ascii_host != host:
        # SMTP servers without SMTPUTF8 (RFC 6531) refuse non-ASCII domains; the IDNA form always works.
        return f"write the domain {host!r} in its ASCII form {ascii_host!r}"
    return None


def email_problem(value: str) -> str | None:
    if len(value) > MAX_EMAIL:
        return f"an e-mail address has at most {MAX_EMAIL} characters"
    name, address = parseaddr(value)
    if name or address != value or value.count("@") != 1:
        return f"{value!r} is not one bare e-mail address such as nurse@clinic.example (no name, no list)"
    local, _, domain = value.partition("@")
    if len(local) > MAX_LOCAL_PART or not _LOCAL_PART.match(local):
        return f"{value!r} is not an e-mail address: {local!r} cannot come before the @"
    host = _host_problem(domain)
    return f"{value!r} is not an e-mail address: {host}" if host else None


def url_problem(value: str) -> str | None:
    if len(value) > MAX_URL:
        return f"a webhook URL has at most {MAX_URL} characters"
    if any(c.isspace() or ord(c) < 0x20 for c in value):
        return f"{value!r} is not a URL: it holds whitespace or control characters"
    if not value.isascii():
        return f"{value!r} holds non-ASCII characters: write the host in IDNA form and percent-encode the rest"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"{value!r} is not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value!r} is not an http(s) URL with a host, such as https://cmms.clinic.example/hooks/alerts"
    return None


def topic_problem(value: str) -> str | None:
    if not value:
        return "an MQTT topic must not be empty"
    if len(value) > MAX_TOPIC:
        return f"an MQTT topic has at most {MAX_TOPIC} characters"
    if "+" in value or "#" in value:
        return f"{value!r} holds a wildcard (+ or #): alerts are published to a topic name, not a filter"
    if "\x00" in value:
        return "an MQTT topic must not hold NUL"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "an MQTT topic must be well-formed UTF-8 (MQTT 3.1.1 §1.5.3)"
    if value.startswith("$"):
        return f"{value!r} starts with $, which is reserved for the broker's own topics"
    return None


_BY_CHANNEL = {"email": email_problem, "webhook": url_problem, "mqtt": topic_problem}


def problem(channel: str, value: str) -> str | None:
    """Why `value` cannot be a recipient on `channel`, or None when it can."""
    check = _BY_CHANNEL.get(channel)
    if check is None:
        return f"unknown channel {channel!r}"
    return check(value)

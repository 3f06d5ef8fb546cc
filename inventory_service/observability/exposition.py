"""Serving a process's metrics (INVENTORY_METRICS): `GET /metrics` on the API port, or on a bind of its own.

- `api` (the default): the app answers `/metrics` itself (`add_metrics_route`); only the roles that
  serve the API (`run`, `api`) have it. The route is a plain Flask rule outside `/api/v1`: the API's
  token check does not apply and it is not in the OpenAPI document.
- `host:port`: a small threaded WSGI server of its own (`MetricsServer`), for `ingest` and `scheduler`,
  which serve no HTTP otherwise, and for any role whose metrics should stay off the API's port.
- `off`: nothing is served.

With INVENTORY_METRICS_TOKEN set, a scrape must send `Authorization: Bearer <token>` (Prometheus:
`authorization: {credentials_file: ...}`); otherwise 401. The text holds counts and timings only: no
URL, password, token or payload is ever a label value.
"""

from __future__ import annotations

import hmac
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from flask import Flask, Response, request
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

log = logging.getLogger(__name__)

PATH = "/metrics"
_CHALLENGE = ("WWW-Authenticate", 'Bearer realm="metrics"')

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def authorized(token: str, header: str | None) -> bool:
    """True when no token is configured, or `header` is `Bearer <token>` (compared in constant time)."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def render(registry: CollectorRegistry, accept: str | None) -> tuple[bytes, str]:
    """The registry in the format the scraper asks for (Prometheus text 0.0.4, or OpenMetrics) and its
    content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def add_metrics_route(app: Flask, registry: CollectorRegistry, token: str) -> None:
    """`GET /metrics` on the app (INVENTORY_METRICS=api)."""

    def metrics() -> Response:
        if not authorized(token, request.headers.get("Authorization")):
            return Response("unauthorized: this scrape needs the metrics bearer token\n", 401, [_CHALLENGE],
                            mimetype="text/plain")
        body, content_type = render(registry, request.headers.get("Accept"))
        return Response(body, 200, {"Cache-Control": "no-store"}, content_type=content_type)

    app.add_url_rule(PATH, "metrics", metrics, methods=["GET"])


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape in progress never holds up the process's exit
    allow_reuse_address = True


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics: %s - %s", self.address_string(), format % args)


def metrics_wsgi_app(registry: CollectorRegistry, token: str) -> Callable[[dict[str, Any], StartResponse],
                                                                           Iterable[bytes]]:
    """A WSGI app answering `GET /metrics` only (404 elsewhere, 405 for other methods)."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def plain(status: str, text: str, *extra: tuple[str, str]) -> Iterable[bytes]:
            start_response(status, [("Content-Type", "text/plain; charset=utf-8"), *extra])
            return [text.encode()]

        if environ.get("PATH_INFO") != PATH:
            return plain("404 Not Found", "not found: metrics are at /metrics\n")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return plain("405 Method Not Allowed", "method not allowed\n", ("Allow", "GET, HEAD"))
        if not authorized(token, environ.get("HTTP_AUTHORIZATION")):
            return plain("401 Unauthorized", "unauthorized: this scrape needs the metrics bearer token\n", _CHALLENGE)
        body, content_type = render(registry, environ.get("HTTP_ACCEPT"))
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body))),
                                  ("Cache-Control", "no-store")])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    return app


def split_bind(bind: str) -> tuple[str, int]:
    """`host:port` (`[::1]:9100` for IPv6) as (host, port)."""
    host, _, port = bind.rpartition(":")
    return host.strip("[]"), int(port)


class MetricsServer:
    """`/metrics` on a bind of its own (INVENTORY_METRICS=host:port), served from a daemon thread."""

    def __init__(self, bind: str, registry: CollectorRegistry, token: str = "") -> None:
        self.bind, self.registry, self.token = bind, registry, token
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port served on (the one the system chose, for port 0)."""
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Bind (raises OSError when the address is taken) and serve."""
        host, port = split_bind(self.bind)
        server_class = _ThreadingServer6 if ":" in host else _ThreadingServer
        self._server = make_server(host, port, metrics_wsgi_app(self.registry, self.token),
                                   server_class=server_class, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.5},
                                        name="metrics-http", daemon=True)
        self._thread.start()
        log.info("metrics on http://%s%s%s", self.bind, PATH, " (bearer token required)" if self.token else "")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

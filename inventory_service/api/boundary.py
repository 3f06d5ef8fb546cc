"""The request's body at the API's edge, checked once before any view (after authentication).

- A body is JSON unless the view says otherwise with `@accepts(...)`: another content type is a 415
  naming what the endpoint takes, so a body is never silently ignored (webargs reads a body sent
  without `Content-Type: application/json` as no body at all).
- JSON is parsed strictly here: invalid UTF-8, invalid JSON and the non-JSON constants `NaN` and
  `Infinity` are a 400 `invalid_json` with the line, column and character where it went wrong.
- The body's size is capped by `MAX_CONTENT_LENGTH` (INVENTORY_MAX_BODY_BYTES): a larger one is a 413.

A request without a body (no `Content-Length`, or 0, and not chunked) passes: the schema decides
whether the endpoint needs one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from .errors import ApiError, invalid_json

F = TypeVar("F", bound=Callable[..., Any])
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON = "application/json"


def accepts(*content_types: str) -> Callable[[F], F]:
    """Mark a view method as taking bodies of `content_types` (e.g. a logger file as `text/plain`,
    `application/octet-stream` or `multipart/form-data`) instead of JSON."""
    def mark(fn: F) -> F:
        fn.accepted_content_types = frozenset(content_types)  # type: ignore[attr-defined]
        return fn
    return mark


def _view_method() -> Any:
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), None) if view_class is not None else view


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _parse_json(raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[:exc.start].decode("utf-8", "replace")
        raise invalid_json(json.JSONDecodeError(f"invalid UTF-8 ({exc.reason})", prefix + "?", len(prefix))) from exc
    try:
        json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise invalid_json(exc) from exc
    except ValueError as exc:  # NaN, Infinity, -Infinity: JavaScript, not JSON (RFC 8259 §6)
        at = text.find(str(exc))
        raise invalid_json(json.JSONDecodeError(f"{exc} is not a JSON value", text, max(at, 0))) from exc


def _check_body() -> None:
    if request.method not in BODY_METHODS or not request.path.startswith("/api/") or request.endpoint is None:
        return
    if not _has_body():
        return
    accepted = getattr(_view_method(), "accepted_content_types", frozenset({JSON}))
    mimetype = request.mimetype
    is_json = mimetype == JSON or (mimetype.startswith("application/") and mimetype.endswith("+json"))
    if not (mimetype in accepted or (is_json and JSON in accepted)):
        raise ApiError(415, "unsupported_media_type",
                       f"send the body as {' or '.join(sorted(accepted))} (got {request.content_type or 'no type'})",
                       {"content_type": request.content_type, "accepted": sorted(accepted)})
    if is_json:
        _parse_json(request.get_data(cache=True))


def register(app: Flask) -> None:
    """Install the check; call after security.register, so a request is authenticated first."""
    app.before_request(_check_body)

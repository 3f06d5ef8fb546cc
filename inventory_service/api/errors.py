"""The one error shape: `{"error": {"code", "message", "details"}}`, and where each error maps.

Domain errors map by class; HTTP errors (including flask-smorest's 422 for a body that fails
its schema) keep their status and their headers (`Allow` on a 405, RFC 9110 §15.5.6); a body that
is not JSON is a 400 that says where (`invalid_json`); anything unexpected is a logged 500 that
reveals nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..domain.errors import Conflict, DomainError, Forbidden, InvalidRequest, NotFound

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[DomainError], int] = {Forbidden: 403, NotFound: 404, Conflict: 409, InvalidRequest: 422}
#: Codes of the HTTP errors the API answers itself, by status (Werkzeug's names otherwise).
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large",
              415: "unsupported_media_type"}


class ApiError(Exception):
    """Raised by the API layer itself (authentication, authorisation, bad query, the request's body)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: Any = None) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, "details": details}}), status


def invalid_json(exc: json.JSONDecodeError) -> ApiError:
    """A 400 that says where the body stops being JSON (line and column count from 1, `position`
    is the character offset from 0)."""
    return ApiError(400, "invalid_json", f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column "
                    f"{exc.colno} (character {exc.pos})",
                    {"line": exc.lineno, "column": exc.colno, "position": exc.pos, "reason": exc.msg})


def _domain(exc: DomainError) -> tuple[Response, int]:
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
    return error_response(status, exc.code, exc.message, exc.details)


def _api(exc: ApiError) -> tuple[Response, int]:
    response, status = error_response(exc.status, exc.code, exc.message, exc.details)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="inventory"'
    return response, status


def _http(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    if isinstance(data, dict) and isinstance(data.get("exc"), json.JSONDecodeError):
        return _api(invalid_json(data["exc"]))  # webargs' "Invalid JSON body." said nowhere where
    details = data.get("messages") if isinstance(data, dict) else None
    if status == 422:
        response, status = error_response(422, "validation_failed", "the request does not match the schema", details)
    else:
        code = HTTP_CODES.get(status) or (exc.name or "error").lower().replace(" ", "_")
        response, status = error_response(status, code, exc.description or exc.name or "error", details)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # e.g. Allow on a 405
    return response, status


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error")
    return error_response(500, "internal_error", "internal error; see the service log")


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain)
    app.register_error_handler(ApiError, _api)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)

"""The one error shape: `{"error": {"code", "message", "details"}}`, and where each error maps.

Domain errors map by class; HTTP errors (including flask-smorest's 422 for a body that fails
its schema) keep their status; anything unexpected is a logged 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from ..domain.errors import Conflict, DomainError, Forbidden, InvalidRequest, NotFound

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[DomainError], int] = {Forbidden: 403, NotFound: 404, Conflict: 409, InvalidRequest: 422}


class ApiError(Exception):
    """Raised by the API layer itself (authentication, authorisation, bad query)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, details: Any = None) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, "details": details}}), status


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
    details = data.get("messages") if isinstance(data, dict) else None
    if status == 422:
        return error_response(422, "validation_failed", "the request does not match the schema", details)
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(status, code, exc.description or exc.name or "error", details)


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error")
    return error_response(500, "internal_error", "internal error; see the service log")


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain)
    app.register_error_handler(ApiError, _api)
    app.register_error_handler(HTTPException, _http)
    app.register_error_handler(Exception, _unexpected)

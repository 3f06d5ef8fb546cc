"""Domain errors. Each carries a stable machine code; the API maps the class to an HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every rule violation. `code` is part of the API contract."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    """The caller's role may not do this to this record (HTTP 403)."""

    code = "forbidden"


class Conflict(DomainError):
    """The request is well formed but the current state forbids it (HTTP 409)."""

    code = "conflict"


class InvalidRequest(DomainError):
    """The request breaks a rule that a schema cannot express (HTTP 422)."""

    code = "invalid"


class LotExpired(Conflict):
    code = "lot_expired"


class LotUnavailable(Conflict):
    code = "lot_unavailable"


class InsufficientStock(Conflict):
    code = "insufficient_stock"

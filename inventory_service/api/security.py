"""Bearer-token authentication and role checks, enforced before any view or body parsing.

Views declare what they need with `@role("staff")` (or `@public`), which mark the view function
with a `required_role` (or `public_endpoint`) attribute. Reads need any valid token; a write without
a declared role needs admin, so forgetting the decorator fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

from ..services import auth
from .errors import ApiError
from .runtime import runtime

F = TypeVar("F", bound=Callable[..., Any])
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY = [{"bearerAuth": []}]


def role(name: str) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        fn.required_role = name  # type: ignore[attr-defined]
        return fn
    return mark


def public(fn: F) -> F:
    fn.public_endpoint = True  # type: ignore[attr-defined]
    return fn


def _view_method(endpoint: str) -> Any:
    view = current_app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return getattr(view_class, request.method.lower(), None)
    return view


def _check() -> None:
    endpoint = request.endpoint
    if endpoint is None or not request.path.startswith("/api/") or endpoint.startswith("api-docs."):
        return
    method = _view_method(endpoint)
    if getattr(method, "public_endpoint", False):
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "missing bearer token")
    with runtime().db.unit_of_work(write=False) as uow:
        principal = auth.authenticate(uow, token.strip())
    if principal is None:
        raise ApiError(401, "unauthorized", "unknown or revoked token")
    needed = getattr(method, "required_role", None)
    if needed is None and request.method in WRITE_METHODS:
        needed = "admin"
    if needed is not None and not principal.has(needed):
        raise ApiError(403, "forbidden", f"this action needs the {needed} role", {"role": principal.role})
    g.principal = principal


def current_principal() -> auth.Principal:
    return g.principal  # type: ignore[no-any-return]


def register(app: Flask) -> None:
    app.before_request(_check)

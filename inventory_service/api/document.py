"""The OpenAPI document says what the server does, for every operation, in one place.

An apispec plugin (apispec's own extension point, run for each path as flask-smorest adds it):

- every operation lists the error answers it can give, each in the one error shape: 400 (a body that
  is not JSON, with where), 404, 422 (the schema), 401/403 unless it is public, 409 for writes, and
  413/415 where a body is sent;
- a query parameter has no `null` (a query string cannot send one): flask-smorest writes
  `default: null, nullable: true` for an optional argument, which is not what the server takes.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from apispec import BasePlugin

WRITES = frozenset({"post", "put", "patch", "delete"})
BODIES = frozenset({"post", "put", "patch"})

#: How the API reads times and what it refuses, for the document's front page.
DESCRIPTION = """\
Errors always come as `{"error": {"code", "message", "details"}}`.

Request bodies are JSON (`Content-Type: application/json`; another type is `415`, invalid JSON `400
invalid_json` with its line, column and character, a body over the configured size `413`). Types are
strict: an integer is never a float (not even `2.0`), a boolean is `true` or `false`, a number is never
a string. A query string is text: integers as `-?[0-9]+`, booleans as `true`/`false`.

Times are RFC 3339. A date-time without a zone (`2026-12-07T15:00:00`) is the site's wall-clock
time (INVENTORY_TIMEZONE); a plain date (`2026-12-07`) where a date-time is asked is the site's
midnight starting that day. Every time the service writes carries its offset. Years 1900-2999.

Ids in a path beyond the id column's range are `404`; in a body or query, values outside the stated
`minimum`/`maximum`/`maxLength`/`pattern` are `422` naming the field. A list's `cursor` is the opaque
`next` of the page before.
"""


def _ref(status: int) -> str:
    """The name flask-smorest registers for a status's error response (in the error shape)."""
    return HTTPStatus(status).name


class ErrorResponses(BasePlugin):
    """Adds the error answers and cleans query parameters, see the module's docstring."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = [400, 404, 422]
            if operation.get("security") != []:
                codes += [401, 403]
            if method in WRITES:
                codes.append(409)
            if method in BODIES:
                codes += [413, 415]
            responses = operation["responses"]
            for code in codes:
                responses.setdefault(str(code), _ref(code))
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema") if isinstance(parameter, dict) else None
                if parameter.get("in") == "query" and isinstance(schema, dict) and schema.get("default", 0) is None:
                    schema.pop("default")
                    schema.pop("nullable", None)

"""Par levels (manager) and reorder suggestions."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from ..services import reorder
from .runtime import context, reader, writer
from .schemas.stock import (
    ParLevelIn,
    ParLevelList,
    ParLevelOut,
    ParLevelQuery,
    SuggestionList,
    SuggestionQuery,
)
from .security import role

par_levels = Blueprint("par-levels", __name__, url_prefix="/api/v1/par-levels",
                       description="Reorder point, order-up-to level and lead time per item and location")
suggestions = Blueprint("reorder-suggestions", __name__, url_prefix="/api/v1/reorder-suggestions",
                        description="What to order now")


@par_levels.route("")
class ParLevels(MethodView):
    @par_levels.arguments(ParLevelQuery, location="query")
    @par_levels.response(200, ParLevelList)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        with reader() as uow:
            return {"items": reorder.list_par_levels(uow, **args), "next": None}

    @role("manager")
    @par_levels.arguments(ParLevelIn)
    @par_levels.response(201, ParLevelOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace the par level of an item at a location (evaluated at once)."""
        with writer() as uow:
            par = reorder.set_par_level(uow, context(), **body)
            uow.commit()
            return reorder.par_to_dict(par)


@par_levels.route("/<int:par_id>")
class ParLevelById(MethodView):
    @role("manager")
    @par_levels.response(204)
    def delete(self, par_id: int) -> None:
        with writer() as uow:
            reorder.delete_par_level(uow, context(), par_id)
            uow.commit()


@suggestions.route("")
class Suggestions(MethodView):
    @suggestions.arguments(SuggestionQuery, location="query")
    @suggestions.response(200, SuggestionList)
    def get(self, args: dict[str, Any]) -> Response:
        """Every par level at or below its reorder point, in one answer (`next` is always null)."""
        with reader() as uow:
            body = {"items": reorder.suggestions(uow, context(), **args), "next": None}
        # Thousands of rows: written as JSON directly instead of being re-serialised field by field
        # (which cost more than the queries). The service returns exactly the documented types, and
        # tests validate this answer against the OpenAPI document.
        return current_app.response_class(json.dumps(body, separators=(",", ":")), mimetype="application/json")

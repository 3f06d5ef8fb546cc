"""Items and locations (manager configuration; any token may read)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..services import catalog
from .runtime import context, reader, writer
from .schemas.catalog import ItemIn, ItemOut, ItemPage, ItemPatch, ItemQuery, LocationIn, LocationOut, LocationPage
from .schemas.common import PageArgs
from .schemas.history import ChangePage
from .security import role

items = Blueprint("items", __name__, url_prefix="/api/v1/items", description="Supply items and their GTINs")
locations = Blueprint("locations", __name__, url_prefix="/api/v1/locations", description="Stock locations")


@items.route("")
class Items(MethodView):
    @items.arguments(ItemQuery, location="query")
    @items.response(200, ItemPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List items (filter by `gtin`)."""
        with reader() as uow:
            page = catalog.list_items(uow, **args)
        return {"items": page.items, "next": page.next}

    @role("manager")
    @items.arguments(ItemIn)
    @items.response(201, ItemOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create an item; GTINs are validated and stored as GTIN-14."""
        with writer() as uow:
            item = catalog.create_item(uow, context(), **body)
            uow.commit()
            return catalog.item_to_dict(item)


@items.route("/<int:item_id>")
class ItemById(MethodView):
    @items.response(200, ItemOut)
    def get(self, item_id: int) -> dict[str, Any]:
        with reader() as uow:
            return catalog.item_to_dict(catalog.get_item(uow, item_id))

    @role("manager")
    @items.arguments(ItemPatch, required=False)
    @items.response(200, ItemOut)
    def patch(self, body: dict[str, Any], item_id: int) -> dict[str, Any]:
        """Change name, SKU, unit, storage or the GTIN/HIBC lists (each replaced whole); kept in the history."""
        with writer() as uow:
            item = catalog.update_item(uow, context(), item_id, **body)
            uow.commit()
            return catalog.item_to_dict(item)


@items.route("/<int:item_id>/history")
class ItemHistory(MethodView):
    @items.arguments(PageArgs, location="query")
    @items.response(200, ChangePage)
    def get(self, args: dict[str, Any], item_id: int) -> dict[str, Any]:
        """Every change of the item, oldest first: one entry per field (`created` for its creation)."""
        with reader() as uow:
            page = catalog.item_history(uow, item_id, **args)
        return {"items": page.items, "next": page.next}


@locations.route("")
class Locations(MethodView):
    @locations.arguments(PageArgs, location="query")
    @locations.response(200, LocationPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        with reader() as uow:
            page = catalog.list_locations(uow, **args)
        return {"items": page.items, "next": page.next}

    @role("manager")
    @locations.arguments(LocationIn)
    @locations.response(201, LocationOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        with writer() as uow:
            loc = catalog.create_location(uow, context(), **body)
            uow.commit()
            return catalog.location_to_dict(loc)


@locations.route("/<int:location_id>")
class LocationById(MethodView):
    @locations.response(200, LocationOut)
    def get(self, location_id: int) -> dict[str, Any]:
        with reader() as uow:
            return catalog.location_to_dict(catalog.get_location(uow, location_id))

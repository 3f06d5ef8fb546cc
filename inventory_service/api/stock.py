"""Stock movements (staff) and the stock, lots and movements read side."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..domain.lots import receive_warnings
from ..services import stock, stock_queries
from ..services.ledger import movement_to_dict
from ..services.movements import list_movements
from .errors import ApiError
from .runtime import context, reader, runtime, writer
from .schemas.common import ErrorSchema
from .schemas.stock import (
    AdjustIn,
    ConsumeIn,
    CountIn,
    CountOut,
    DisposeIn,
    LotOut,
    LotPage,
    LotQuery,
    MovementPage,
    MovementQuery,
    Movements,
    ReceiveIn,
    ReceiveOut,
    StockPage,
    StockQuery,
    TransferIn,
)
from .security import current_principal, role

blp = Blueprint("stock", __name__, url_prefix="/api/v1/stock", description="Stock balances and movements")
lots = Blueprint("lots", __name__, url_prefix="/api/v1/lots", description="Lots and expiry")
movements = Blueprint("movements", __name__, url_prefix="/api/v1/movements", description="The ledger")


def _moves(ms: list[Any]) -> list[dict[str, Any]]:
    return [movement_to_dict(m) for m in ms]


@blp.route("")
class Stock(MethodView):
    @blp.arguments(StockQuery, location="query")
    @blp.response(200, StockPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Balances per lot and location (non-zero), with each lot's effective status."""
        with reader() as uow:
            page = stock_queries.list_stock(uow, context(), **args)
        return {"items": page.items, "next": page.next}


@blp.route("/receive")
class Receive(MethodView):
    @role("staff")
    @blp.arguments(ReceiveIn)
    @blp.response(201, ReceiveOut)
    @blp.alt_response(404, schema=ErrorSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="lot_expired: the lot is past its expiry")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Receive a lot into a location (creates the lot on first sight). A lot past its expiry is
        refused (409 `lot_expired`) unless a manager receives it with `quarantine: true` and a `reason`;
        one expiring within INVENTORY_RECEIVE_WARN_DAYS is received with an `expires_soon:<date>` warning."""
        ctx = context()
        if body.get("quarantine") and not current_principal().has("manager"):
            raise ApiError(403, "forbidden", "only a manager can receive expired stock into quarantine",
                           {"role": current_principal().role})
        with writer() as uow:
            lot, ms = stock.receive(uow, ctx, **body)
            uow.commit()
            warnings = [] if body.get("quarantine") else receive_warnings(
                lot.expiry, ctx.today, runtime().settings.receive_warn_days)
            return {"lot": stock_queries.lot_to_dict(lot, ctx), "movements": _moves(ms), "warnings": warnings}


def _movement_route(path: str, schema: type, action: Any, doc: str) -> None:
    """Register a staff-only POST that applies one stock action and answers its movements."""

    class View(MethodView):
        @role("staff")
        @blp.arguments(schema)
        @blp.response(201, Movements)
        @blp.alt_response(409, schema=ErrorSchema, description="lot_expired, lot_unavailable, insufficient_stock")
        def post(self, body: dict[str, Any]) -> dict[str, Any]:
            with writer() as uow:
                ms = action(uow, context(), **body)
                uow.commit()
                return {"movements": _moves(ms)}

    View.post.__doc__ = doc
    View.__name__ = f"{path.title()}View"
    blp.route(f"/{path}")(View)


_movement_route("consume", ConsumeIn, stock.consume, "Consume a lot, or FEFO across usable lots when none is named.")
_movement_route("transfer", TransferIn, stock.transfer, "Move stock to another location (FEFO when no lot).")
_movement_route("adjust", AdjustIn, stock.adjust, "Signed correction of one lot's balance; reason required.")
_movement_route("dispose", DisposeIn, stock.dispose, "Remove stock from use (any status); reason required.")


@blp.route("/count")
class Count(MethodView):
    @role("staff")
    @blp.arguments(CountIn)
    @blp.response(201, CountOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a physical count; the movement carries the variance."""
        with writer() as uow:
            ms, summary = stock.count(uow, context(), **body)
            uow.commit()
            return {"movements": _moves(ms), "count": summary}


@lots.route("")
class Lots(MethodView):
    @lots.arguments(LotQuery, location="query")
    @lots.response(200, LotPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Lots soonest-expiring first; `expiring_within_days` counts from the site's today."""
        with reader() as uow:
            page = stock_queries.list_lots(uow, context(), **args)
        return {"items": page.items, "next": page.next}


@lots.route("/<int:lot_id>")
class LotById(MethodView):
    @lots.response(200, LotOut)
    def get(self, lot_id: int) -> dict[str, Any]:
        ctx = context()
        with reader() as uow:
            return stock_queries.lot_to_dict(stock_queries.get_lot(uow, lot_id), ctx,
                                             stock_queries.held_locations(uow, [lot_id])[lot_id])


@movements.route("")
class MovementList(MethodView):
    @movements.arguments(MovementQuery, location="query")
    @movements.response(200, MovementPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The ledger, newest first."""
        with reader() as uow:
            page = list_movements(uow, **args)
        return {"items": page.items, "next": page.next}

"""Equipment, maintenance plans, tickets and the sterilization log."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from ..services import coldchain_queries, cycles, maintenance
from ..services import equipment as registry
from .coldchain import _csv
from .runtime import context, reader, writer
from .schemas.common import CSV_TOO, PageArgs
from .schemas.equipment import (
    CycleList,
    CycleQuery,
    EquipmentIn,
    EquipmentList,
    EquipmentOut,
    PlanIn,
    PlanList,
    PlanOut,
    PlanPatch,
    StatusIn,
    TicketAction,
    TicketList,
    TicketOut,
    TicketQuery,
)
from .schemas.history import ChangePage
from .security import role

equipment = Blueprint("equipment", __name__, url_prefix="/api/v1/equipment", description="The equipment registry")
plans = Blueprint("maintenance-plans", __name__, url_prefix="/api/v1/maintenance-plans",
                  description="Preventive maintenance and calibration plans")
tickets = Blueprint("tickets", __name__, url_prefix="/api/v1/tickets", description="Maintenance tickets")

CYCLE_COLUMNS = ["ts", "cycle", "program", "result", "max_temp_c", "hold_min", "seq", "received_at"]


def _with_history(uow: Any, e: Any) -> dict[str, Any]:
    return {**registry.equipment_to_dict(e), "history": registry.history(uow, e.id)}


@equipment.route("")
class EquipmentCollection(MethodView):
    @equipment.response(200, EquipmentList)
    def get(self) -> dict[str, Any]:
        with reader() as uow:
            return {"items": registry.list_all(uow), "next": None}

    @role("manager")
    @equipment.arguments(EquipmentIn)
    @equipment.response(201, EquipmentOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        with writer() as uow:
            e = registry.create(uow, context(), **body)
            uow.commit()
            return _with_history(uow, e)


@equipment.route("/<equipment_id>")
class EquipmentById(MethodView):
    @equipment.response(200, EquipmentOut)
    def get(self, equipment_id: str) -> dict[str, Any]:
        with reader() as uow:
            return _with_history(uow, registry.get(uow, equipment_id))


@equipment.route("/<equipment_id>/status")
class EquipmentStatus(MethodView):
    @role("manager")
    @equipment.arguments(StatusIn)
    @equipment.response(200, EquipmentOut)
    def post(self, body: dict[str, Any], equipment_id: str) -> dict[str, Any]:
        """Put in or take out of service; who and why are kept."""
        with writer() as uow:
            e = registry.set_status(uow, context(), equipment_id, body["status"], body["reason"])
            uow.commit()
            return _with_history(uow, e)


@equipment.route("/<equipment_id>/cycles")
class Cycles(MethodView):
    @equipment.arguments(CycleQuery, location="query")
    @equipment.response(200, CycleList, description="JSON; with format=csv, CSV (text/csv)")
    @equipment.doc(**CSV_TOO)
    def get(self, args: dict[str, Any], equipment_id: str) -> Any:
        """The sterilization log, oldest first."""
        with reader() as uow:
            registry.get(uow, equipment_id)
            rows = cycles.list_cycles(uow, equipment_id, args["from_"], args["to"])
        if args["format"] == "csv":
            return _csv(coldchain_queries.to_csv(rows, CYCLE_COLUMNS), f"{equipment_id}-cycles.csv")
        return {"items": rows, "next": None}


@plans.route("")
class Plans(MethodView):
    @plans.response(200, PlanList)
    def get(self) -> dict[str, Any]:
        with reader() as uow:
            return {"items": maintenance.list_plans(uow, None), "next": None}

    @role("manager")
    @plans.arguments(PlanIn)
    @plans.response(201, PlanOut)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Every N days/weeks/months (from the schedule or the completion), every N cycles, or both."""
        with writer() as uow:
            p = maintenance.create_plan(uow, context(), **body)
            uow.commit()
            return maintenance.plan_to_dict(p)


@plans.route("/<int:plan_id>")
class PlanById(MethodView):
    @plans.response(200, PlanOut)
    def get(self, plan_id: int) -> dict[str, Any]:
        with reader() as uow:
            return maintenance.plan_to_dict(maintenance.get_plan(uow, plan_id))

    @role("manager")
    @plans.arguments(PlanPatch, required=False)
    @plans.response(200, PlanOut)
    def patch(self, body: dict[str, Any], plan_id: int) -> dict[str, Any]:
        """Change the plan; kept in its history. A new interval without `next_due_date` counts from the last
        completed ticket (without one the stored next due date stays). Open tickets keep their checklist."""
        with writer() as uow:
            p = maintenance.update_plan(uow, context(), plan_id, **body)
            uow.commit()
            return maintenance.plan_to_dict(p)


@plans.route("/<int:plan_id>/history")
class PlanHistory(MethodView):
    @plans.arguments(PageArgs, location="query")
    @plans.response(200, ChangePage)
    def get(self, args: dict[str, Any], plan_id: int) -> dict[str, Any]:
        """Every change of the plan, oldest first: one entry per field (`created` for its creation)."""
        with reader() as uow:
            page = maintenance.plan_history(uow, plan_id, **args)
        return {"items": page.items, "next": page.next}


@tickets.route("")
class Tickets(MethodView):
    @tickets.arguments(TicketQuery, location="query")
    @tickets.response(200, TicketList)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        with reader() as uow:
            return {"items": maintenance.list_tickets(uow, **args), "next": None}


@tickets.route("/<int:ticket_id>")
class TicketById(MethodView):
    @tickets.response(200, TicketOut)
    def get(self, ticket_id: int) -> dict[str, Any]:
        with reader() as uow:
            return maintenance.ticket_to_dict(maintenance.get_ticket(uow, ticket_id))

    @role("staff")
    @tickets.arguments(TicketAction)
    @tickets.response(200, TicketOut)
    def post(self, body: dict[str, Any], ticket_id: int) -> dict[str, Any]:
        """`start`, `done` or `cancel`. `done` needs one result per item of the ticket's checklist and none
        for others (422 `checklist_mismatch`: `missing`, `unknown`, `duplicated`); pass/fail follows from them."""
        with writer() as uow:
            ctx = context()
            if body["action"] == "start":
                t = maintenance.start(uow, ctx, ticket_id)
            elif body["action"] == "done":
                t = maintenance.complete(uow, ctx, ticket_id, passed=body["passed"], notes=body["notes"],
                                         results=body["results"])
            else:
                t = maintenance.cancel(uow, ctx, ticket_id, body["notes"])
            uow.commit()
            return maintenance.ticket_to_dict(t)

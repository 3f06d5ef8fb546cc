"""Maintenance plans and tickets: a due plan opens exactly one ticket until that ticket is closed.

Tickets go open -> in_progress -> done (who, notes, checklist results, pass/fail) or cancelled. A
failed check opens a corrective ticket and takes the device out of service; an overdue ticket on a
critical plan raises an alert and, where the plan says so, takes the device out of service.
Calibration of a data logger is a plan too: due 30 days before its certificate expires.

A ticket keeps the checklist its plan had when the ticket opened; completing it needs exactly one
result per item of that checklist (domain.maintenance.checklist). Creating and changing a plan is
recorded in its configuration history (services.history).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db.models import Equipment, MaintenancePlan, Ticket
from ..db.uow import UnitOfWork
from ..domain.errors import Conflict, InvalidRequest, NotFound
from ..domain.maintenance import checklist as checks
from ..domain.maintenance.recurrence import Anchor, Plan, Unit, is_due, next_due_cycle, next_due_date
from . import alerts, equipment, history
from .context import Context
from .pagination import Page

CALIBRATION_LEAD = timedelta(days=30)


def plan_to_dict(p: MaintenancePlan) -> dict[str, Any]:
    return {"id": p.id, "equipment_id": p.equipment_id, "name": p.name, "every": p.every, "unit": p.unit,
            "anchor": p.anchor, "every_cycles": p.every_cycles, "checklist": p.checklist, "critical": p.critical,
            "out_of_service_when_overdue": p.out_of_service_when_overdue, "kind": p.kind,
            "next_due_date": p.next_due_date, "next_due_cycle": p.next_due_cycle, "active": p.active}


def ticket_to_dict(t: Ticket) -> dict[str, Any]:
    return {"id": t.id, "equipment_id": t.equipment_id, "plan_id": t.plan_id, "kind": t.kind, "title": t.title,
            "status": t.status, "due_date": t.due_date, "due_cycle": t.due_cycle, "checklist": t.checklist,
            "results": t.results, "passed": t.passed, "notes": t.notes, "opened_at": t.opened_at,
            "started_at": t.started_at, "closed_at": t.closed_at, "closed_by": t.closed_by}


def _rule(p: MaintenancePlan) -> Plan:
    return Plan(p.every, Unit(p.unit), Anchor(p.anchor), p.every_cycles)


def _valid_rule(every: int | None, unit: str, anchor: str, every_cycles: int | None) -> Plan:
    try:
        return Plan(every, Unit(unit), Anchor(anchor), every_cycles)
    except ValueError as exc:
        raise InvalidRequest(str(exc), code="bad_plan") from exc


def _valid_checklist(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A checklist's items need a name, distinct from the others once compared as results are
    (checklist.item_key): else no result list could answer it exactly. 422 `bad_checklist`."""
    names = [str(i.get("item") or "") for i in items]
    blank = [n for n in names if not checks.item_key(n)]
    repeated = checks.duplicates(n for n in names if checks.item_key(n))
    if blank or repeated:
        raise InvalidRequest("checklist items need a name, each a different one"
                             + (f"; repeated: {', '.join(repr(n) for n in repeated)}" if repeated else ""),
                             code="bad_checklist", details={"blank": len(blank), "duplicated": repeated})
    return [{**i, "kind": i.get("kind", "pass_fail")} for i in items]


def create_plan(uow: UnitOfWork, ctx: Context, *, equipment_id: str, name: str, every: int | None = None,
                unit: str = "days", anchor: str = "scheduled", every_cycles: int | None = None,
                first_due: date | None = None, checklist: list[dict[str, Any]] | None = None, critical: bool = False,
                out_of_service_when_overdue: bool = False, kind: str = "preventive") -> MaintenancePlan:
    """Create a plan (recorded in its history). 422 `bad_plan` without an interval, `bad_checklist`
    for a checklist with blank or repeated items."""
    eq = equipment.get(uow, equipment_id)
    rule = _valid_rule(every, unit, anchor, every_cycles)
    p = MaintenancePlan(equipment_id=equipment_id, name=name, every=every, unit=unit, anchor=anchor,
                        every_cycles=every_cycles, checklist=_valid_checklist(checklist or []), critical=critical,
                        out_of_service_when_overdue=out_of_service_when_overdue, kind=kind, active=True,
                        created_at=ctx.now,
                        next_due_date=first_due or (next_due_date(rule, last_scheduled=ctx.today, last_completed=None)
                                                    if every else None),
                        next_due_cycle=next_due_cycle(rule, cycles_at_last=eq.cycles or 0))
    uow.session.add(p)
    uow.session.flush()
    history.record_created(uow, ctx, "maintenance_plan", p.id, _editable(p))
    return p


#: What PATCH /maintenance-plans/<id> may change.
PLAN_FIELDS = ("name", "every", "unit", "anchor", "every_cycles", "checklist", "critical",
               "out_of_service_when_overdue", "next_due_date", "active")
_CALENDAR = ("every", "unit", "anchor")
_SCHEDULE = (*_CALENDAR, "every_cycles", "next_due_date")


def _editable(p: MaintenancePlan) -> dict[str, Any]:
    """The plan's configuration as its history records it (the computed next due cycle too)."""
    d = plan_to_dict(p)
    return {k: d[k] for k in (*PLAN_FIELDS, "next_due_cycle")}


def get_plan(uow: UnitOfWork, plan_id: int, *, lock: bool = False) -> MaintenancePlan:
    p = uow.session.get(MaintenancePlan, plan_id, with_for_update=lock)
    if p is None:
        raise NotFound(f"maintenance plan {plan_id} not found", code="plan_not_found")
    return p


def update_plan(uow: UnitOfWork, ctx: Context, plan_id: int, *, reason: str | None = None,
                **changes: Any) -> MaintenancePlan:
    """Change a plan's fields (`PLAN_FIELDS`, any subset); each changed field is recorded in its history.

    The result is re-validated as on create (422 `bad_plan`: a plan needs a calendar or a cycle
    interval; `bad_checklist`). A calibration plan follows its logger's certificate, so its schedule
    fields cannot be set (422 `calibration_plan`).

    Next due date: a given `next_due_date` wins. Otherwise, when the calendar interval (`every`,
    `unit` or `anchor`) changes, it is recomputed from the last completed ticket of the plan as
    completing it would have set it (from its due date for a `scheduled` plan, from the site-local
    date it was closed for a `completed` one); without a completed ticket the stored next due date is
    kept (a plan that had none, being usage-only until now, counts from today as on create). A plan
    left without `every` has no next due date.

    Next due cycle: when `every_cycles` changes it counts from the same starting counter as before
    (the stored next due cycle minus the old interval), or from the device's counter now for a plan
    that had no cycle interval.

    An open ticket keeps its due date and its checklist; the change applies from the next ticket on.
    """
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise InvalidRequest(f"plans have no field {', '.join(sorted(unknown))}", code="bad_field")
    p = get_plan(uow, plan_id, lock=True)
    if p.kind == "calibration" and set(changes) & set(_SCHEDULE):
        raise InvalidRequest("a calibration plan is due 30 days before the logger's certificate expires; "
                             "change the certificate, not the schedule", code="calibration_plan")
    before = _editable(p)
    merged = {**before, **changes}
    if "checklist" in changes:
        changes["checklist"] = _valid_checklist(changes["checklist"] or [])
    if "name" in changes and not str(changes["name"] or "").strip():
        raise InvalidRequest("name must not be empty", code="bad_name")
    if p.kind == "calibration":  # no interval of its own (see ensure_calibration_plans)
        for key, value in changes.items():
            setattr(p, key, value)
    else:
        _reschedule(uow, ctx, p, before, merged, changes)
    uow.session.flush()
    history.record(uow, ctx, "maintenance_plan", p.id, before, _editable(p), reason)
    return p


def _reschedule(uow: UnitOfWork, ctx: Context, p: MaintenancePlan, before: dict[str, Any], merged: dict[str, Any],
                changes: dict[str, Any]) -> None:
    """Apply `changes` to a preventive plan, its next due date and cycle as `update_plan` describes."""
    rule = _valid_rule(merged["every"], merged["unit"], merged["anchor"], merged["every_cycles"])
    if "next_due_date" in changes and changes["next_due_date"] is None and rule.every is not None:
        raise InvalidRequest("a plan with a calendar interval needs a next due date", code="bad_plan")
    calendar_changed = any(merged[k] != before[k] for k in _CALENDAR)
    for key, value in changes.items():
        setattr(p, key, value)
    if "next_due_date" not in changes and calendar_changed:
        p.next_due_date = _recomputed_due_date(uow, ctx, p, rule)
    if merged["every_cycles"] != before["every_cycles"]:
        if rule.every_cycles is None:
            p.next_due_cycle = None
        elif before["every_cycles"] is not None and before["next_due_cycle"] is not None:
            p.next_due_cycle = before["next_due_cycle"] - before["every_cycles"] + rule.every_cycles
        else:
            p.next_due_cycle = next_due_cycle(rule, cycles_at_last=equipment.get(uow, p.equipment_id).cycles or 0)


def _recomputed_due_date(uow: UnitOfWork, ctx: Context, p: MaintenancePlan, rule: Plan) -> date | None:
    if rule.every is None:
        return None
    last = uow.session.scalar(select(Ticket).where(Ticket.plan_id == p.id, Ticket.status == "done",
                                                   Ticket.closed_at.is_not(None))
                              .order_by(Ticket.closed_at.desc(), Ticket.id.desc()).limit(1))
    if last is None or last.closed_at is None:
        return p.next_due_date or next_due_date(rule, last_scheduled=ctx.today, last_completed=None)
    completed = last.closed_at.astimezone(ctx.tz).date()
    return next_due_date(rule, last_scheduled=last.due_date or completed, last_completed=completed)


def plan_history(uow: UnitOfWork, plan_id: int, *, limit: int | None = None, cursor: str | None = None) -> Page:
    get_plan(uow, plan_id)
    return history.changes(uow, "maintenance_plan", plan_id, limit=limit, cursor=cursor)


def ensure_calibration_plans(uow: UnitOfWork, ctx: Context) -> None:
    """Each data logger with a certificate expiry has a calibration plan due 30 days before it."""
    for eq in uow.session.scalars(select(Equipment).where(Equipment.calibration_expires.is_not(None))):
        due = eq.calibration_expires - CALIBRATION_LEAD if eq.calibration_expires else None
        plan = uow.session.scalar(select(MaintenancePlan).where(MaintenancePlan.equipment_id == eq.id,
                                                                MaintenancePlan.kind == "calibration"))
        if plan is None:
            plan = MaintenancePlan(equipment_id=eq.id, name="Calibration (certificate renewal)", every=None,
                                   unit="days", anchor="completed", every_cycles=None, checklist=[],
                                   critical=True, out_of_service_when_overdue=True, kind="calibration",
                                   next_due_date=due, next_due_cycle=None, active=True, created_at=ctx.now)
            uow.session.add(plan)
            uow.session.flush()
            history.record_created(uow, ctx, "maintenance_plan", plan.id, _editable(plan))
        elif plan.next_due_date != due and _open_ticket(uow, plan) is None:
            plan.next_due_date = due
    uow.session.flush()


def _open_ticket(uow: UnitOfWork, plan: MaintenancePlan) -> Ticket | None:
    return uow.session.scalar(select(Ticket).where(Ticket.open_key == f"plan:{plan.id}"))


def open_due_tickets(uow: UnitOfWork, ctx: Context) -> list[Ticket]:
    """Open one ticket per due plan. Idempotent: the plan's open ticket holds the unique `open_key`."""
    opened = []
    for plan in uow.session.scalars(select(MaintenancePlan).where(MaintenancePlan.active.is_(True))):
        eq = uow.session.get(Equipment, plan.equipment_id)
        if eq is None or _open_ticket(uow, plan) is not None:
            continue
        if plan.kind == "calibration":
            due = plan.next_due_date is not None and ctx.today >= plan.next_due_date
        else:
            due = is_due(_rule(plan), today=ctx.today, cycles=eq.cycles, due_date=plan.next_due_date,
                         due_cycle=plan.next_due_cycle)
        if due:
            opened.append(_new_ticket(uow, ctx, eq, plan.kind, plan.name, plan, key=f"plan:{plan.id}"))
    return opened


def _new_ticket(uow: UnitOfWork, ctx: Context, eq: Equipment, kind: str, title: str, plan: MaintenancePlan | None,
                key: str | None) -> Ticket:
    t = Ticket(equipment_id=eq.id, plan_id=plan.id if plan else None, kind=kind, title=f"{eq.name}: {title}",
               status="open", open_key=key, due_date=plan.next_due_date if plan else ctx.today,
               due_cycle=plan.next_due_cycle if plan else None, checklist=plan.checklist if plan else [],
               results=[], opened_at=ctx.now, overdue_alerted=False)
    uow.session.add(t)
    try:
        with uow.session.begin_nested():
            uow.session.flush()
    except IntegrityError as exc:
        raise Conflict("a ticket for this is already open", code="ticket_open") from exc
    return t


def corrective(uow: UnitOfWork, ctx: Context, eq: Equipment, why: str) -> Ticket:
    """Open a corrective ticket, take the device out of service and alert (one per device while open)."""
    existing = uow.session.scalar(select(Ticket).where(Ticket.open_key == f"corrective:{eq.id}"))
    ticket = existing or _new_ticket(uow, ctx, eq, "corrective", f"corrective: {why}", None, f"corrective:{eq.id}")
    equipment.set_status(uow, ctx, eq.id, "out_of_service", why)
    alerts.raise_alert(uow, ctx, kind="maintenance", severity="critical", key=f"corrective:{eq.id}",
                       subject=f"{eq.name} out of service: {why}",
                       message=f"{eq.name} ({eq.kind} {eq.serial or eq.id}) was taken out of service: {why}. "
                               f"Ticket {ticket.id} is open for the repair.",
                       details={"equipment_id": eq.id, "ticket_id": ticket.id, "location_id": eq.location_id})
    return ticket


def get_ticket(uow: UnitOfWork, ticket_id: int) -> Ticket:
    t = uow.session.get(Ticket, ticket_id, with_for_update=True)
    if t is None:
        raise NotFound(f"ticket {ticket_id} not found", code="ticket_not_found")
    return t


def start(uow: UnitOfWork, ctx: Context, ticket_id: int) -> Ticket:
    t = get_ticket(uow, ticket_id)
    if t.status != "open":
        raise Conflict(f"ticket {ticket_id} is {t.status}", code="bad_transition")
    t.status, t.started_at = "in_progress", ctx.now
    return t


def complete(uow: UnitOfWork, ctx: Context, ticket_id: int, *, passed: bool | None = None, notes: str | None,
             results: list[dict[str, Any]] | None) -> Ticket:
    """Close as done. The plan's next due date/cycle is set from now; a failed check takes the device
    out of service with a corrective ticket; a passed corrective ticket puts it back in service.

    A ticket with a checklist (copied from its plan when it opened) needs exactly one result per item
    and none for items it lacks, names compared by `checklist.item_key` (case and spacing aside, the
    very name): else 422 `checklist_mismatch` with details `{"missing", "unknown", "duplicated"}`.
    The results are stored in checklist order under the checklist's spelling. The outcome follows from
    them (any `fail` fails; `n/a` does not); a `passed` that says otherwise is 422
    `passed_contradicts_results`.

    A ticket without a checklist (corrective tickets, plans without one) takes any results, each
    item once; it passes when `passed` (default true) and no result is `fail`, and `passed: true`
    beside a `fail` is the same 422.
    """
    t = get_ticket(uow, ticket_id)
    if t.status not in ("open", "in_progress"):
        raise Conflict(f"ticket {ticket_id} is {t.status}", code="bad_transition")
    results = _valid_results(results or [])
    reference = [n for n in (str(c.get("item") or "") for c in t.checklist or []) if checks.item_key(n)]
    gap = checks.mismatch(reference, [r["item"] for r in results])
    if gap:
        raise InvalidRequest(gap.describe(), code="checklist_mismatch",
                             details={"missing": gap.missing, "unknown": gap.unknown, "duplicated": gap.duplicated})
    if reference:
        by_key = {checks.item_key(r["item"]): r for r in results}
        results = [{**by_key[checks.item_key(name)], "item": name} for name in reference]
    failed_items = [r for r in results if r["result"] == checks.FAIL]
    verdict = checks.passed(r["result"] for r in results)
    contradicts = (passed is not None and passed != verdict) if reference else (passed is True and not verdict)
    if contradicts:
        failing = [r["item"] for r in failed_items]
        raise InvalidRequest(
            f"passed is true but the results fail {', '.join(repr(n) for n in failing)}" if failing else
            "passed is false but no result is a fail: record the failed check as a fail",
            code="passed_contradicts_results", details={"passed": passed, "failed": failing})
    ok = verdict and passed is not False
    t.status, t.passed, t.notes, t.results = "done", ok, notes, results
    t.closed_at, t.closed_by, t.open_key = ctx.now, ctx.actor, None
    eq = equipment.get(uow, t.equipment_id)
    plan = uow.session.get(MaintenancePlan, t.plan_id) if t.plan_id else None
    if plan is not None and plan.kind != "calibration":
        rule = _rule(plan)
        if plan.every:
            plan.next_due_date = next_due_date(rule, last_scheduled=plan.next_due_date or ctx.today,
                                               last_completed=ctx.today)
        if plan.every_cycles:
            plan.next_due_cycle = next_due_cycle(rule, cycles_at_last=eq.cycles or 0)
    alerts.resolve_alert(uow, ctx, f"overdue:{t.id}")
    uow.session.flush()
    if not ok:
        what = ", ".join(str(r.get("item", "?")) for r in failed_items) or "check failed"
        corrective(uow, ctx, eq, f"{t.title.split(': ', 1)[-1]} failed ({what})")
    elif t.kind == "corrective":
        equipment.set_status(uow, ctx, eq.id, "in_service", f"repaired (ticket {t.id})")
        alerts.resolve_alert(uow, ctx, f"corrective:{eq.id}")
    return t


RESULTS = ("pass", "fail", "n/a")


def _valid_results(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each result names an item and is one of `RESULTS` (422 `bad_result`); a note is optional."""
    out = []
    for r in results:
        item, result = r.get("item"), r.get("result")
        if not isinstance(item, str) or not checks.item_key(item) or result not in RESULTS:
            raise InvalidRequest(f"a result needs an item name and one of {', '.join(RESULTS)}: {r!r}",
                                 code="bad_result")
        out.append({"item": item, "result": result, "note": r.get("note")})
    return out


def cancel(uow: UnitOfWork, ctx: Context, ticket_id: int, notes: str | None) -> Ticket:
    t = get_ticket(uow, ticket_id)
    if t.status not in ("open", "in_progress"):
        raise Conflict(f"ticket {ticket_id} is {t.status}", code="bad_transition")
    t.status, t.notes, t.closed_at, t.closed_by, t.open_key = "cancelled", notes, ctx.now, ctx.actor, None
    alerts.resolve_alert(uow, ctx, f"overdue:{t.id}")
    return t


def flag_overdue(uow: UnitOfWork, ctx: Context) -> list[Ticket]:
    """Overdue tickets of critical plans raise one alert each and, where configured, take the device out."""
    flagged = []
    rows = uow.session.execute(select(Ticket, MaintenancePlan)
                               .join(MaintenancePlan, MaintenancePlan.id == Ticket.plan_id)
                               .where(Ticket.status.in_(["open", "in_progress"]), MaintenancePlan.critical.is_(True),
                                      Ticket.due_date < ctx.today, Ticket.overdue_alerted.is_(False)))
    for ticket, plan in rows:
        eq = equipment.get(uow, ticket.equipment_id)
        ticket.overdue_alerted = True
        alerts.raise_alert(uow, ctx, kind="maintenance", severity="critical", key=f"overdue:{ticket.id}",
                           subject=f"Overdue: {ticket.title}",
                           message=f"{ticket.title} was due {ticket.due_date} and is still {ticket.status}.",
                           details={"equipment_id": eq.id, "ticket_id": ticket.id, "location_id": eq.location_id})
        if plan.out_of_service_when_overdue:
            equipment.set_status(uow, ctx, eq.id, "out_of_service", f"overdue {plan.kind}: {plan.name}")
        flagged.append(ticket)
    return flagged


def list_tickets(uow: UnitOfWork, *, equipment_id: str | None, status: str | None) -> list[dict[str, Any]]:
    q = select(Ticket).order_by(Ticket.id.desc()).limit(500)
    if equipment_id:
        q = q.where(Ticket.equipment_id == equipment_id)
    if status:
        q = q.where(Ticket.status == status)
    return [ticket_to_dict(t) for t in uow.session.scalars(q)]


def list_plans(uow: UnitOfWork, equipment_id: str | None) -> list[dict[str, Any]]:
    q = select(MaintenancePlan).order_by(MaintenancePlan.id)
    if equipment_id:
        q = q.where(MaintenancePlan.equipment_id == equipment_id)
    return [plan_to_dict(p) for p in uow.session.scalars(q)]

"""Equipment, plans and tickets: a due plan opens exactly one ticket; failures take devices out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from devices.mqtt import EquipmentCycle
from inventory_service.db.uow import Database
from inventory_service.services import cycles, maintenance
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.support.clock import FrozenClock


def autoclave(api: Api, **plan: object) -> dict:
    api.post("/api/v1/equipment", {"id": "ac-1", "kind": "autoclave", "name": "Autoclave 1", "serial": "SN-9"},
             role="manager", expect=201)
    return api.post("/api/v1/maintenance-plans", {"equipment_id": "ac-1", "name": "Service", **plan},
                    role="manager", expect=201).json


def run_maintenance(db: Database, ctx: Callable[..., Context]) -> int:
    with db.unit_of_work() as uow:
        maintenance.ensure_calibration_plans(uow, ctx("job", "job"))
        opened = maintenance.open_due_tickets(uow, ctx("job", "job"))
        maintenance.flag_overdue(uow, ctx("job", "job"))
        uow.commit()
        return len(opened)


def feed_cycles(db: Database, ctx: Callable[..., Context], first: int, n: int, fail_at: int | None = None) -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    batch = [EquipmentCycle("ac-1", i, now + timedelta(minutes=i), i, "134C-4min", "fail" if i == fail_at else "pass",
                            134.5, 4.0) for i in range(first, first + n)]
    with db.unit_of_work() as uow:
        cycles.store(uow, ctx("ingest", "mqtt"), batch)
        uow.commit()


def tickets(api: Api, **q: str) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in q.items())
    return api.get(f"/api/v1/tickets?{qs}", expect=200).json["items"]


def test_a_calendar_plan_opens_one_ticket_when_due_however_often_the_job_runs(api: Api, db, ctx, clock: FrozenClock):
    plan = autoclave(api, every=1, unit="weeks", checklist=[{"item": "spore test"}])
    assert plan["next_due_date"] == "2026-03-17"
    assert run_maintenance(db, ctx) == 0
    clock.advance(days=7)
    assert run_maintenance(db, ctx) == 1
    assert run_maintenance(db, ctx) == 0
    [t] = tickets(api)
    assert (t["status"], t["due_date"], t["checklist"]) == ("open", "2026-03-17", [{"item": "spore test",
                                                                                   "kind": "pass_fail"}])
    api.post(f"/api/v1/tickets/{t['id']}", {"action": "start"}, role="staff", expect=200)
    done = api.post(f"/api/v1/tickets/{t['id']}", {"action": "done", "notes": "ok",
                                                    "results": [{"item": "spore test", "result": "pass"}]},
                    role="staff", expect=200).json
    assert (done["status"], done["passed"], done["closed_by"]) == ("done", True, "staff-token")
    assert api.get("/api/v1/maintenance-plans", expect=200).json["items"][0]["next_due_date"] == "2026-03-24"


def test_a_failed_check_opens_a_corrective_ticket_and_takes_the_device_out(api: Api, db, ctx, clock):
    autoclave(api, every=1, unit="days")
    clock.advance(days=1)
    run_maintenance(db, ctx)
    [t] = tickets(api)
    api.post(f"/api/v1/tickets/{t['id']}", {"action": "done", "results": [{"item": "spore test", "result": "fail"}]},
             role="staff", expect=200)
    eq = api.get("/api/v1/equipment/ac-1", expect=200).json
    assert eq["status"] == "out_of_service"
    assert eq["history"][-1]["reason"].startswith("Service failed")
    [corrective] = tickets(api, status="open")
    assert corrective["kind"] == "corrective"
    api.post(f"/api/v1/tickets/{corrective['id']}", {"action": "done", "notes": "door seal replaced"},
             role="staff", expect=200)
    assert api.get("/api/v1/equipment/ac-1", expect=200).json["status"] == "in_service"


def test_fifty_cycles_with_a_plan_every_40_open_exactly_one_ticket(api: Api, db, ctx):
    autoclave(api, every_cycles=40)
    for start in range(0, 50, 10):
        feed_cycles(db, ctx, start + 1, 10)
    feed_cycles(db, ctx, 1, 50)  # redelivered: changes nothing
    [t] = tickets(api)
    assert (t["due_cycle"], t["kind"]) == (40, "preventive")
    log = api.get("/api/v1/equipment/ac-1/cycles", expect=200).json["items"]
    assert len(log) == 50 and log[-1]["cycle"] == 50
    assert api.get("/api/v1/equipment/ac-1/cycles?format=csv", expect=200).data.decode().count("\n") == 51


def test_a_failed_cycle_takes_the_autoclave_out_of_service_with_one_alert(api: Api, db, ctx):
    autoclave(api, every_cycles=100)
    feed_cycles(db, ctx, 1, 5, fail_at=3)
    feed_cycles(db, ctx, 6, 5, fail_at=8)
    assert api.get("/api/v1/equipment/ac-1", expect=200).json["status"] == "out_of_service"
    assert len([t for t in tickets(api) if t["kind"] == "corrective"]) == 1
    [alert] = api.get("/api/v1/alerts?kind=maintenance", expect=200).json["items"]
    assert alert["severity"] == "critical" and "cycle 3" in alert["subject"]


def test_overdue_critical_tickets_alert_once_and_can_take_the_device_out(api: Api, db, ctx, clock):
    autoclave(api, every=1, unit="days", critical=True, out_of_service_when_overdue=True)
    clock.advance(days=1)
    run_maintenance(db, ctx)
    clock.advance(days=2)
    run_maintenance(db, ctx)
    run_maintenance(db, ctx)
    assert len(api.get("/api/v1/alerts?kind=maintenance", expect=200).json["items"]) == 1
    assert api.get("/api/v1/equipment/ac-1", expect=200).json["status"] == "out_of_service"


def test_logger_calibration_is_due_30_days_before_the_certificate_expires(api: Api, db, ctx, clock):
    api.post("/api/v1/equipment", {"id": "ddl-1", "kind": "data_logger", "name": "Fridge logger",
                                   "calibration_certificate": "ISO17025-123", "calibration_expires": "2026-04-20"},
             role="manager", expect=201)
    assert run_maintenance(db, ctx) == 0
    clock.set(datetime(2026, 3, 21, 12, tzinfo=UTC))
    assert run_maintenance(db, ctx) == 1
    [t] = tickets(api)
    assert (t["kind"], t["due_date"]) == ("calibration", "2026-03-21")


def test_usage_plans_count_from_the_first_counter_a_device_reports(api: Api, db, ctx):
    plan = autoclave(api, every_cycles=40)
    assert plan["next_due_cycle"] == 40
    feed_cycles(db, ctx, 1234, 1)
    assert tickets(api) == []
    assert api.get("/api/v1/maintenance-plans", expect=200).json["items"][0]["next_due_cycle"] == 1273
    feed_cycles(db, ctx, 1235, 38)  # up to 1272: 39 cycles since the first report
    assert tickets(api) == []
    feed_cycles(db, ctx, 1273, 1)
    assert len(tickets(api)) == 1


def test_a_device_registered_with_its_counter_plans_from_there(api: Api):
    api.post("/api/v1/equipment", {"id": "ac-2", "kind": "autoclave", "name": "Autoclave 2", "cycles": 500},
             role="manager", expect=201)
    plan = api.post("/api/v1/maintenance-plans", {"equipment_id": "ac-2", "name": "Service", "every_cycles": 40},
                    role="manager", expect=201).json
    assert plan["next_due_cycle"] == 540

"""Autoclave cycles: the sterilization log, usage counting, and failures taken out of service.

Same guarantees as readings: `(equipment_id, seq)` is unique (redelivery is harmless). A `fail`
result opens a corrective ticket and takes the autoclave out of service (CDC Guideline for
Disinfection and Sterilization in Healthcare Facilities, 2008: a failed cycle means the load is not
sterile and the sterilizer is out of service until the failure is resolved).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from devices.mqtt import EquipmentCycle as CycleMessage

from ..db.models import Equipment, EquipmentCycle, MaintenancePlan
from ..db.uow import UnitOfWork
from . import maintenance
from .context import Context


def store(uow: UnitOfWork, ctx: Context, cycles: Sequence[CycleMessage]) -> list[int]:
    """Insert new cycles; update each device's lifetime counter; act on failures. Returns new ids."""
    if not cycles:
        return []
    dialect = postgresql if uow.dialect == "postgresql" else sqlite
    rows = [{"equipment_id": c.device_id, "seq": c.seq, "ts": c.ts, "cycle": c.cycle, "program": c.program,
             "result": c.result, "max_temp_c": c.max_temp_c, "hold_min": c.hold_min, "received_at": ctx.now}
            for c in cycles]
    stmt = dialect.insert(EquipmentCycle).on_conflict_do_nothing(index_elements=["equipment_id", "seq"])
    inserted = uow.session.execute(stmt.returning(EquipmentCycle.id, EquipmentCycle.equipment_id,
                                                  EquipmentCycle.cycle, EquipmentCycle.result,
                                                  EquipmentCycle.program, EquipmentCycle.ts), rows).all()
    for _, device_id, counter, result, program, ts in sorted(inserted, key=lambda r: r[5]):
        eq = uow.session.get(Equipment, device_id)
        if eq is None:
            continue  # kept in the log; a manager registers the device to act on it
        if eq.cycles is None:
            _rebase_usage_plans(uow, eq, counter)
        eq.cycles = max(eq.cycles or 0, counter)
        if result == "fail":
            maintenance.corrective(uow, ctx, eq, f"cycle {counter} ({program}) failed at {ts:%Y-%m-%d %H:%M} UTC")
    maintenance.open_due_tickets(uow, ctx)
    return [r[0] for r in inserted]


def _rebase_usage_plans(uow: UnitOfWork, eq: Equipment, first_counter: int) -> None:
    """A device registered without its counter reading reports, say, cycle 1235 first: its usage plans
    count from there, not from 0 (which would make them overdue at once)."""
    for plan in uow.session.scalars(select(MaintenancePlan).where(MaintenancePlan.equipment_id == eq.id,
                                                                  MaintenancePlan.every_cycles.is_not(None))):
        if plan.every_cycles and plan.next_due_cycle == plan.every_cycles:
            plan.next_due_cycle = first_counter - 1 + plan.every_cycles


def cycle_to_dict(c: EquipmentCycle) -> dict[str, Any]:
    return {"id": c.id, "equipment_id": c.equipment_id, "seq": c.seq, "ts": c.ts, "cycle": c.cycle,
            "program": c.program, "result": c.result, "max_temp_c": c.max_temp_c, "hold_min": c.hold_min,
            "received_at": c.received_at}


def list_cycles(uow: UnitOfWork, equipment_id: str, start: datetime | None,
                end: datetime | None) -> list[dict[str, Any]]:
    q = select(EquipmentCycle).where(EquipmentCycle.equipment_id == equipment_id).order_by(EquipmentCycle.ts)
    if start is not None:
        q = q.where(EquipmentCycle.ts >= start)
    if end is not None:
        q = q.where(EquipmentCycle.ts < end)
    return [cycle_to_dict(c) for c in uow.session.scalars(q.limit(10_000))]

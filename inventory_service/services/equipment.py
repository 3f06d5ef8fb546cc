"""The equipment registry and its in/out-of-service history."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ..db.models import Equipment, EquipmentStatusChange, Location, Sensor, StorageUnit
from ..db.uow import UnitOfWork
from ..domain.errors import Conflict, InvalidRequest, NotFound
from .context import Context

KINDS = ("autoclave", "refrigerator", "freezer", "data_logger", "other")
STATUSES = ("in_service", "out_of_service")


def equipment_to_dict(e: Equipment) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "name": e.name, "make": e.make, "model": e.model, "serial": e.serial,
            "location_id": e.location_id, "storage_unit_id": e.storage_unit_id, "sensor_id": e.sensor_id,
            "calibration_certificate": e.calibration_certificate, "calibration_expires": e.calibration_expires,
            "status": e.status, "cycles": e.cycles, "created_at": e.created_at}


#: The rows a device may name, checked before it is stored (404 `<what>_not_found`).
REFERENCES = (("location_id", Location, "location"), ("storage_unit_id", StorageUnit, "storage_unit"),
              ("sensor_id", Sensor, "sensor"))


def create(uow: UnitOfWork, ctx: Context, *, id: str, kind: str, name: str, **fields: Any) -> Equipment:
    """Register a device. Its location, storage unit and sensor, when given, must exist (404)."""
    if kind not in KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(KINDS)}", code="bad_kind")
    if uow.session.get(Equipment, id) is not None:
        raise Conflict(f"equipment {id!r} exists", code="equipment_exists")
    for field, model, what in REFERENCES:
        ref = fields.get(field)
        if ref is not None and uow.session.get(model, ref) is None:
            raise NotFound(f"{what.replace('_', ' ')} {ref!r} not found", code=f"{what}_not_found",
                           details={field: ref})
    e = Equipment(id=id, kind=kind, name=name, status="in_service", created_at=ctx.now, **fields)
    uow.session.add(e)
    uow.session.add(EquipmentStatusChange(equipment_id=id, status="in_service", reason="registered",
                                          changed_by=ctx.actor, changed_at=ctx.now))
    uow.session.flush()
    return e


def get(uow: UnitOfWork, equipment_id: str) -> Equipment:
    e = uow.session.get(Equipment, equipment_id)
    if e is None:
        raise NotFound(f"equipment {equipment_id!r} not found", code="equipment_not_found")
    return e


def list_all(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [equipment_to_dict(e) for e in uow.session.scalars(select(Equipment).order_by(Equipment.id))]


def set_status(uow: UnitOfWork, ctx: Context, equipment_id: str, status: str, reason: str) -> Equipment:
    """Take a device out of service or back in, with who and why kept in its history."""
    if status not in STATUSES:
        raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}", code="bad_status")
    if not reason.strip():
        raise InvalidRequest("a reason is required", code="reason_required")
    e = get(uow, equipment_id)
    if e.status != status:
        e.status = status
        uow.session.add(EquipmentStatusChange(equipment_id=equipment_id, status=status, reason=reason.strip(),
                                              changed_by=ctx.actor, changed_at=ctx.now))
        uow.session.flush()
    return e


def history(uow: UnitOfWork, equipment_id: str) -> list[dict[str, Any]]:
    rows = uow.session.scalars(select(EquipmentStatusChange).where(EquipmentStatusChange.equipment_id == equipment_id)
                               .order_by(EquipmentStatusChange.id))
    return [{"status": c.status, "reason": c.reason, "changed_by": c.changed_by, "changed_at": c.changed_at}
            for c in rows]


def update_calibration(uow: UnitOfWork, ctx: Context, equipment_id: str, certificate: str, expires: date) -> Equipment:
    e = get(uow, equipment_id)
    e.calibration_certificate, e.calibration_expires = certificate, expires
    uow.session.flush()
    return e

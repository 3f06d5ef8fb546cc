"""Storage units (each one a location), sensors and their assignment history."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ..db.models import Location, Sensor, SensorAssignment, StorageUnit
from ..db.uow import UnitOfWork
from ..domain.coldchain.ranges import DEFAULT_NO_DATA_MIN, DEFAULT_RANGES, PRESETS, AlarmRule
from ..domain.errors import Conflict, InvalidRequest, NotFound
from .context import Context

UNIT_KINDS = ("refrigerator", "freezer", "ultra_cold", "room")


def unit_to_dict(u: StorageUnit) -> dict[str, Any]:
    return {"id": u.id, "name": u.name, "kind": u.kind, "location_id": u.location_id, "min_c": u.min_c,
            "max_c": u.max_c, "alarm_rules": u.alarm_rules, "no_data_min": u.no_data_min, "created_at": u.created_at}


def sensor_to_dict(s: Sensor) -> dict[str, Any]:
    return {"id": s.id, "storage_unit_id": s.storage_unit_id, "interval_min": s.interval_min, "status": s.status,
            "status_at": s.status_at, "battery_pct": s.battery_pct, "last_seen_at": s.last_seen_at,
            "last_reading_at": s.last_reading_at, "max_seq": s.max_seq}


def _rules(alarm_rules: list[dict[str, Any]] | None, preset: str | None) -> list[dict[str, Any]]:
    if alarm_rules is not None and preset is not None:
        raise InvalidRequest("give alarm_rules or preset, not both", code="bad_rules")
    if preset is not None:
        if preset not in PRESETS:
            raise InvalidRequest(f"preset must be one of {', '.join(PRESETS)}", code="bad_rules")
        return [r.to_dict() for r in PRESETS[preset]]
    if alarm_rules is None:
        return [r.to_dict() for r in PRESETS["default"]]
    try:
        return [AlarmRule.from_dict(r).to_dict() for r in alarm_rules]
    except (KeyError, ValueError) as exc:
        raise InvalidRequest(f"bad alarm rule: {exc}", code="bad_rules") from exc


def create_unit(uow: UnitOfWork, ctx: Context, *, name: str, kind: str, location_id: int | None = None,
                min_c: float | None = None, max_c: float | None = None,
                alarm_rules: list[dict[str, Any]] | None = None, preset: str | None = None,
                no_data_min: float | None = None) -> StorageUnit:
    """Create a unit with the defaults of its kind where fields are omitted. Without `location_id` a
    location of kind storage_unit is created for it, so stock can be received into the unit."""
    if kind not in UNIT_KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(UNIT_KINDS)}", code="bad_kind")
    default = DEFAULT_RANGES[kind]
    low = default.min_c if min_c is None else min_c
    high = default.max_c if max_c is None else max_c
    if low >= high:
        raise InvalidRequest("min_c must be below max_c", code="bad_range")
    if location_id is None:
        code = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:48] or "unit"
        if uow.session.scalar(select(Location.id).where(Location.code == code)) is not None:
            code = f"{code}-{uow.session.scalar(select(Location.id).order_by(Location.id.desc()).limit(1))}"
        loc = Location(code=code, name=name, kind="storage_unit", created_at=ctx.now)
        uow.session.add(loc)
        uow.session.flush()
        location_id = loc.id
    elif uow.session.get(Location, location_id) is None:
        raise NotFound(f"location {location_id} not found", code="location_not_found")
    elif uow.session.scalar(select(StorageUnit.id).where(StorageUnit.location_id == location_id)) is not None:
        raise Conflict(f"location {location_id} is already a storage unit", code="location_taken")
    unit = StorageUnit(name=name, kind=kind, location_id=location_id, min_c=low, max_c=high,
                       alarm_rules=_rules(alarm_rules, preset),
                       no_data_min=DEFAULT_NO_DATA_MIN if no_data_min is None else no_data_min, created_at=ctx.now)
    uow.session.add(unit)
    uow.session.flush()
    return unit


def get_unit(uow: UnitOfWork, unit_id: int) -> StorageUnit:
    unit = uow.session.get(StorageUnit, unit_id)
    if unit is None:
        raise NotFound(f"storage unit {unit_id} not found", code="storage_unit_not_found")
    return unit


def list_units(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [unit_to_dict(u) for u in uow.session.scalars(select(StorageUnit).order_by(StorageUnit.id))]


def assign_sensor(uow: UnitOfWork, ctx: Context, *, sensor_id: str, storage_unit_id: int | None,
                  interval_min: float | None = None) -> Sensor:
    """Create the sensor or move it. Past readings stay with the unit they were taken in: the
    assignment history says which unit each timestamp belongs to."""
    if storage_unit_id is not None:
        get_unit(uow, storage_unit_id)
    sensor = uow.session.get(Sensor, sensor_id)
    if sensor is None:
        sensor = Sensor(id=sensor_id, storage_unit_id=None, interval_min=interval_min or 5, status="unknown",
                        created_at=ctx.now)
        uow.session.add(sensor)
    elif interval_min is not None:
        sensor.interval_min = interval_min
    if sensor.storage_unit_id != storage_unit_id:
        current = uow.session.scalar(select(SensorAssignment).where(
            SensorAssignment.sensor_id == sensor_id, SensorAssignment.unassigned_at.is_(None)))
        if current is not None:
            current.unassigned_at = ctx.now
        if storage_unit_id is not None:
            uow.session.add(SensorAssignment(sensor_id=sensor_id, storage_unit_id=storage_unit_id,
                                             assigned_at=ctx.now))
        sensor.storage_unit_id = storage_unit_id
    uow.session.flush()
    return sensor


def assignments(uow: UnitOfWork, sensor_id: str) -> list[dict[str, Any]]:
    rows = uow.session.scalars(select(SensorAssignment).where(SensorAssignment.sensor_id == sensor_id)
                               .order_by(SensorAssignment.assigned_at))
    return [{"storage_unit_id": a.storage_unit_id, "assigned_at": a.assigned_at, "unassigned_at": a.unassigned_at}
            for a in rows]

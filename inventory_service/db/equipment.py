"""Equipment, its status history, maintenance plans, tickets and autoclave cycles."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class Equipment(Base):
    __tablename__ = "equipment"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # also the MQTT device id
    kind: Mapped[str] = mapped_column(String(16))  # autoclave, refrigerator, freezer, data_logger, other
    name: Mapped[str] = mapped_column(String(200))
    make: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    serial: Mapped[str | None] = mapped_column(String(100))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"))
    sensor_id: Mapped[str | None] = mapped_column(ForeignKey("sensors.id"))
    calibration_certificate: Mapped[str | None] = mapped_column(String(100))
    calibration_expires: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="in_service")
    cycles: Mapped[int | None] = mapped_column(BigInteger)  # lifetime counter last reported
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EquipmentStatusChange(Base):
    __tablename__ = "equipment_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MaintenancePlan(Base):
    __tablename__ = "maintenance_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    every: Mapped[int | None]
    unit: Mapped[str] = mapped_column(String(8), default="days")
    anchor: Mapped[str] = mapped_column(String(16), default="scheduled")
    every_cycles: Mapped[int | None]
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    out_of_service_when_overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(16), default="preventive")  # preventive, calibration
    next_due_date: Mapped[date | None] = mapped_column(Date)
    next_due_cycle: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Ticket(Base):
    """A maintenance task. `open_key` is set while the ticket is open, so a due plan opens one only."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[str] = mapped_column(ForeignKey("equipment.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("maintenance_plans.id"))
    kind: Mapped[str] = mapped_column(String(16))  # preventive, calibration, corrective
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # open, in_progress, done, cancelled
    open_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    due_cycle: Mapped[int | None] = mapped_column(BigInteger)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(100))
    overdue_alerted: Mapped[bool] = mapped_column(Boolean, default=False)


class EquipmentCycle(Base):
    """One autoclave cycle: the sterilization log. `(equipment_id, seq)` is unique."""

    __tablename__ = "equipment_cycles"
    __table_args__ = (UniqueConstraint("equipment_id", "seq"), Index("ix_equipment_cycles_equipment_id_ts",
                                                                      "equipment_id", "ts"))

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    cycle: Mapped[int] = mapped_column(BigInteger)
    program: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(8))
    max_temp_c: Mapped[float] = mapped_column(Float)
    hold_min: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Storage units, sensors and their assignment history, readings, excursions, alarms, lot holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class StorageUnit(Base):
    """A fridge, freezer, ultra-cold or room store. It is a location too, so stock can sit in it."""

    __tablename__ = "storage_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), unique=True)
    min_c: Mapped[float] = mapped_column(Float)
    max_c: Mapped[float] = mapped_column(Float)
    alarm_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    no_data_min: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Sensor(Base):
    __tablename__ = "sensors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"), index=True)
    interval_min: Mapped[float] = mapped_column(Float, default=5)
    status: Mapped[str] = mapped_column(String(16), default="unknown")  # online / offline (Last Will)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    battery_pct: Mapped[float | None] = mapped_column(Float)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reading_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    max_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SensorAssignment(Base):
    """Which unit a sensor measured, and when: readings are attributed by their timestamp."""

    __tablename__ = "sensor_assignments"
    __table_args__ = (Index("ix_sensor_assignments_sensor_id_assigned_at", "sensor_id", "assigned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sensor_id: Mapped[str] = mapped_column(ForeignKey("sensors.id"))
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_units.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    unassigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Reading(Base):
    """One temperature. `(sensor_id, seq)` is unique, so a redelivered message changes nothing."""

    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("sensor_id", "seq"),
        Index("ix_readings_storage_unit_id_ts", "storage_unit_id", "ts"),
        Index("ix_readings_sensor_id_ts", "sensor_id", "ts"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    sensor_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    temp_c: Mapped[float] = mapped_column(Float)
    battery_pct: Mapped[float | None] = mapped_column(Float)
    door_open: Mapped[bool | None] = mapped_column(Boolean)
    storage_unit_id: Mapped[int | None] = mapped_column(ForeignKey("storage_units.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeqGap(Base):
    """Sequence numbers a sensor skipped: readings lost between logger and service, made visible."""

    __tablename__ = "seq_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    sensor_id: Mapped[str] = mapped_column(String(64), index=True)
    first_missing: Mapped[int] = mapped_column(BigInteger)
    last_missing: Mapped[int] = mapped_column(BigInteger)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    filled: Mapped[bool] = mapped_column(Boolean, default=False)


class RejectedInput(Base):
    """A device message that failed validation: kept with its reason, never silently dropped."""

    __tablename__ = "rejected_inputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(300))
    payload: Mapped[str] = mapped_column(Text)  # truncated, escaped
    reason: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Excursion(Base):
    """A continuous out-of-range run, with the CDC troubleshooting record fields."""

    __tablename__ = "excursions"
    __table_args__ = (UniqueConstraint("storage_unit_id", "kind", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_units.id"))
    kind: Mapped[str] = mapped_column(String(8))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    ongoing: Mapped[bool] = mapped_column(Boolean)
    peak_c: Mapped[float] = mapped_column(Float)
    min_c: Mapped[float] = mapped_column(Float)
    max_c: Mapped[float] = mapped_column(Float)
    duration_min: Mapped[float] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Alarm(Base):
    __tablename__ = "alarms"
    __table_args__ = (UniqueConstraint("storage_unit_id", "rule_index", "condition_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_units.id"), index=True)
    rule_index: Mapped[int]
    sensor_id: Mapped[str | None] = mapped_column(String(64))  # for no-data alarms
    kind: Mapped[str] = mapped_column(String(8))
    mode: Mapped[str] = mapped_column(String(16))
    condition_start: Mapped[datetime] = mapped_column(UTCDateTime())
    triggered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    excursion_id: Mapped[int | None] = mapped_column(ForeignKey("excursions.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    ack_reason: Mapped[str | None] = mapped_column(Text)


class LotHold(Base):
    """Stock of a lot at one location exposed in an excursion that raised an alarm: on hold there
    until a manager decides. The exposed unit's location, and any location the exposed stock was
    moved to since (the hold follows the stock); the same lot elsewhere is not held."""

    __tablename__ = "lot_holds"
    __table_args__ = (UniqueConstraint("excursion_id", "lot_id", "location_id"),
                      Index("ix_lot_holds_lot_id_location_id", "lot_id", "location_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    excursion_id: Mapped[int] = mapped_column(ForeignKey("excursions.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    storage_unit_id: Mapped[int] = mapped_column(ForeignKey("storage_units.id"))  # where it was exposed
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))  # where the held stock is
    quantity: Mapped[int]
    exposure_min: Mapped[float] = mapped_column(Float)
    disposition: Mapped[str | None] = mapped_column(String(24))  # release / discard / pending_manufacturer
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HoldDecision(Base):
    """Every decision on a hold, append-only: what was decided, by whom, when, and the exposure and
    excursion state at that moment (CDC troubleshooting record: document each action taken)."""

    __tablename__ = "hold_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    hold_id: Mapped[int] = mapped_column(ForeignKey("lot_holds.id"), index=True)
    disposition: Mapped[str] = mapped_column(String(24))
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notes: Mapped[str | None] = mapped_column(Text)
    manufacturer_reference: Mapped[str | None] = mapped_column(String(200))
    exposure_min: Mapped[float] = mapped_column(Float)
    excursion_ongoing: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[int]  # on hand at the hold's location when decided
    movement_ids: Mapped[list[int]] = mapped_column(JSON, default=list)

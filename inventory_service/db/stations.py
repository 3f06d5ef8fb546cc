"""Scanner stations, every scan they sent, and the lines of an open count."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class Scanner(Base):
    """A serial scanner bound to a location. Port settings come from INVENTORY_SCANNERS; location
    and modes are the station's state, editable through the API.

    `config_error` says why the station's definition could not be used at the last start of the
    process that reads it (port_state `misconfigured`; its reader is not running). A station first
    seen misconfigured has no location until a usable definition gives it one. Stored, not kept in
    memory, because the API that shows it may run in another process than the ingest.
    """

    __tablename__ = "scanners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(300))
    port_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    home_mode: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    pending_quantity: Mapped[int | None]
    target_location: Mapped[str | None] = mapped_column(String(64))
    count_open: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # unknown / open / disconnected / stopped / misconfigured
    port_state: Mapped[str] = mapped_column(String(16), default="unknown")
    port_detail: Mapped[str | None] = mapped_column(Text)
    port_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    config_error: Mapped[str | None] = mapped_column(Text)


class ScannerConfigProblem(Base):
    """One problem with INVENTORY_SCANNERS found at the last start of ingest process `instance`
    (INVENTORY_INSTANCE): a station's unusable definition (`scanner_id` set, mirrored in its
    `config_error`), an entry without a usable id (`key` INVENTORY_SCANNERS[<index>]) or the variable
    as a whole (`key` INVENTORY_SCANNERS). Each start replaces its own instance's rows, so a problem
    fixed (or removed from the file) disappears at the next start, and two ingest processes with
    their own scanner files do not clear each other's.
    """

    __tablename__ = "scanner_config_problems"

    instance: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    scanner_id: Mapped[str | None] = mapped_column(ForeignKey("scanners.id"))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Scan(Base):
    """One frame from a scanner and what became of it: `applied` (movements), `command`,
    `rejected` (reason), or `pending` (waits for a manager, e.g. an unknown GTIN)."""

    __tablename__ = "scans"
    __table_args__ = (
        Index("ix_scans_scanner_id_id", "scanner_id", "id"),
        Index("ix_scans_outcome_id", "outcome", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scanner_id: Mapped[str] = mapped_column(ForeignKey("scanners.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raw: Mapped[str] = mapped_column(Text)  # escaped: printable ASCII as is, everything else \xNN
    kind: Mapped[str] = mapped_column(String(16))
    symbology: Mapped[str | None] = mapped_column(String(8))
    gtin: Mapped[str | None] = mapped_column(String(14))
    hibc_code: Mapped[str | None] = mapped_column(String(40))
    lot_number: Mapped[str | None] = mapped_column(String(64))
    expiry: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int | None]
    parsed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mode: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    target_location: Mapped[str | None] = mapped_column(String(64))
    applied_quantity: Mapped[int | None]
    rereads: Mapped[int] = mapped_column(default=0)  # presentation re-reads of this frame, suppressed
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    movement_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(100))


class CountLine(Base):
    """Units of one lot counted at a station since its count began; applied on #DONE."""

    __tablename__ = "count_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    scanner_id: Mapped[str] = mapped_column(ForeignKey("scanners.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    quantity: Mapped[int]
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)

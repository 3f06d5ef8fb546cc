"""Lots, balances per lot and location, the movement ledger, its chain head and par levels."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("item_id", "lot_number", "expiry"),
        Index("ix_lots_expiry_id", "expiry", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    lot_number: Mapped[str] = mapped_column(String(64))
    expiry: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="available", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Balance(Base):
    """Quantity of one lot at one location. Never negative: the check constraint is the last guard.

    `held` is true while an excursion hold on this lot at this location awaits a final decision
    (kept by services.holds from the `lot_holds` rows): a hold belongs to the stock that was
    exposed, not to the lot everywhere, so the same lot elsewhere stays usable.
    """

    __tablename__ = "balances"
    __table_args__ = (
        UniqueConstraint("lot_id", "location_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_balances_location_id_id", "location_id", "id"),
        Index("ix_balances_item_id_location_id", "item_id", "location_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    quantity: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    held: Mapped[bool] = mapped_column(Boolean, server_default=false())


class Movement(Base):
    """One append-only ledger entry: a signed quantity change of one lot at one location."""

    __tablename__ = "movements"
    __table_args__ = (
        # Covers the 30-day usage of reorder suggestions without touching the table (quantity last).
        Index("ix_movements_usage", "item_id", "location_id", "kind", "occurred_at", "quantity"),
        Index("ix_movements_lot_id", "lot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[int]
    balance_after: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(100))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(Base):
    """A single row: the last movement id and hash. Locking it serialises ledger appends."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int]


class ParLevel(Base):
    """A par level and its stock figures as of `figures_on` (site-local date).

    The figures are a rollup kept by `services.reorder.check` in the transaction of every change
    that moves them (movements, lot status changes, the par level itself) and by the hourly
    reorder job. They depend on the date (lots come within the lead time of expiry), so figures
    of an earlier day are stale and readers recompute those rows.
    """

    __tablename__ = "par_levels"
    __table_args__ = (
        UniqueConstraint("item_id", "location_id"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_not_negative"),
        CheckConstraint("order_up_to >= reorder_point", name="order_up_to_covers_reorder_point"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    reorder_point: Mapped[int]
    order_up_to: Mapped[int]
    lead_time_days: Mapped[int]
    usable_quantity: Mapped[int | None]
    on_hold_quantity: Mapped[int | None]
    figures_on: Mapped[date | None] = mapped_column(Date)

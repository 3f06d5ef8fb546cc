"""Configuration history: what a manager changed in items, maintenance plans and routing rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class ConfigChange(Base):
    """One changed field of one configuration record; append-only (rows are never updated or
    deleted). `field` is `created` for the record's creation, with the whole record in `new`.
    `old` and `new` hold the values as JSON (dates as ISO strings)."""

    __tablename__ = "config_changes"
    __table_args__ = (Index("ix_config_changes_entity_entity_id_id", "entity", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))  # item, maintenance_plan, routing_rule
    entity_id: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[Any] = mapped_column(JSON, nullable=True)
    new: Mapped[Any] = mapped_column(JSON, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)

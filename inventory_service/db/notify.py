"""Alert routing rules and delivery attempts (the outbox's delivery side)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class RoutingRule(Base):
    """Alerts matching (kind, minimum severity, location) go to `channel` for `recipients`."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind
    min_severity: Mapped[str] = mapped_column(String(16), default="info")
    location_id: Mapped[int | None] = mapped_column()
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook, mqtt
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)  # addresses or URLs
    renotify_min: Mapped[int | None]
    escalate_after_min: Mapped[int | None]
    escalate_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Delivery(Base):
    """One alert to one recipient over one channel, with its attempts. `state`: pending, sent, failed
    (gave up: visibly undelivered)."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(String(16))  # notify, renotify, escalate, resolved, digest
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    log: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobRun(Base):
    """Each scheduled job run (for idempotence checks and the manager's view)."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ok: Mapped[bool | None] = mapped_column(Boolean)
    summary: Mapped[str | None] = mapped_column(Text)

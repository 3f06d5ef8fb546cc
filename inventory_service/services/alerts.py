"""Alert rows: raised in the caller's transaction, one open alert per de-duplication key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import Alert
from ..db.uow import UnitOfWork
from ..domain.errors import InvalidRequest, NotFound
from .context import Context
from .pagination import Page, page_by_id

SEVERITIES = ("info", "warning", "critical")
__all__ = ["SEVERITIES", "Alert", "acknowledge", "alert_to_dict", "list_alerts", "raise_alert", "resolve_alert"]


def raise_alert(
    uow: UnitOfWork, ctx: Context, *, kind: str, severity: str, subject: str, message: str,
    key: str, details: dict[str, Any] | None = None,
) -> Alert:
    """Open an alert for condition `key` unless one is already open; return the open one.

    An alert already open for `key` is not duplicated; its message and details are refreshed so
    they describe the condition as it is now (its `opened_at` stays).
    """
    existing = uow.session.scalar(select(Alert).where(Alert.open_key == key))
    if existing is not None:
        existing.message = message
        existing.details = details or {}
        return existing
    alert = Alert(
        kind=kind, severity=severity, subject=subject, message=message, dedupe_key=key, open_key=key,
        status="open", details=details or {}, opened_at=ctx.now,
    )
    uow.session.add(alert)
    uow.session.flush()
    return alert


def resolve_alert(uow: UnitOfWork, ctx: Context, key: str) -> Alert | None:
    """The condition behind `key` has ended: close its open alert, if any."""
    alert = uow.session.scalar(select(Alert).where(Alert.open_key == key))
    if alert is None:
        return None
    alert.status = "resolved"
    alert.open_key = None
    alert.resolved_at = ctx.now
    return alert


def acknowledge(uow: UnitOfWork, ctx: Context, alert_id: int, reason: str) -> Alert:
    """A person has seen the alert. A reason is required (never a silent dismissal)."""
    if not reason.strip():
        raise InvalidRequest("an acknowledgement needs a reason", code="reason_required")
    alert = uow.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    alert.acknowledged_at = ctx.now
    alert.acknowledged_by = ctx.actor
    alert.ack_reason = reason.strip()
    if alert.status == "open":
        alert.status = "acknowledged"
    return alert


def alert_to_dict(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id, "kind": a.kind, "severity": a.severity, "subject": a.subject, "message": a.message,
        "key": a.dedupe_key, "status": a.status, "details": a.details, "opened_at": a.opened_at,
        "resolved_at": a.resolved_at, "acknowledged_at": a.acknowledged_at,
        "acknowledged_by": a.acknowledged_by, "ack_reason": a.ack_reason,
    }


def list_alerts(
    uow: UnitOfWork, *, status: str | None, kind: str | None, limit: int | None, cursor: str | None
) -> Page:
    """Newest first. `status=active` means open or acknowledged-but-unresolved."""
    q = select(Alert)
    if status == "active":
        q = q.where(Alert.open_key.is_not(None))
    elif status:
        q = q.where(Alert.status == status)
    if kind:
        q = q.where(Alert.kind == kind)
    return page_by_id(uow.session, q, Alert.id, limit=limit, cursor=cursor, to_dict=alert_to_dict,
                      newest_first=True)

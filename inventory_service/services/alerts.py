"""Alert rows: raised in the caller's transaction, one open alert per de-duplication key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import aliased

from ..db.models import Acknowledgement, Alert, Delivery
from ..db.uow import UnitOfWork
from ..domain.alert_kinds import ALERT_KINDS
from ..domain.errors import InvalidRequest, NotFound
from .context import Context
from .pagination import Page, page_by_id

SEVERITIES = ("info", "warning", "critical")
UNROUTED = "unrouted"  # the recipient of the marker delivery of an alert no routing rule matched
__all__ = ["SEVERITIES", "Alert", "acknowledge", "acknowledgements", "alert_to_dict", "list_alerts", "raise_alert",
           "record_acknowledgement", "refresh_alert", "resolve_alert"]


def raise_alert(
    uow: UnitOfWork, ctx: Context, *, kind: str, severity: str, subject: str, message: str,
    key: str, details: dict[str, Any] | None = None,
) -> Alert:
    """Open an alert for condition `key` unless one is already open; return the open one. `kind` must
    be one of ALERT_KINDS (a kind no routing rule may name would never reach anyone).

    An alert already open for `key` is not duplicated; its message and details are refreshed so
    they describe the condition as it is now (its `opened_at` stays).
    """
    if kind not in ALERT_KINDS:
        raise ValueError(f"alert kind {kind!r} is not in domain.alert_kinds.ALERT_KINDS")
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


def refresh_alert(uow: UnitOfWork, key: str, *, message: str) -> Alert | None:
    """Rewrite the message of the open alert for `key` (the condition changed while it is open)."""
    alert = uow.session.scalar(select(Alert).where(Alert.open_key == key))
    if alert is not None and alert.message != message:
        alert.message = message
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


def record_acknowledgement(uow: UnitOfWork, ctx: Context, reason: str, *, alarm_id: int | None = None,
                           alert_id: int | None = None) -> Acknowledgement:
    """Append one acknowledgement (who, when, why) to the history of an alarm or an alert. Nothing
    is ever replaced: the first row is when it was acknowledged, later ones are added to the record."""
    why = reason.strip()
    if not why:
        raise InvalidRequest("an acknowledgement needs a reason", code="reason_required")
    row = Acknowledgement(alarm_id=alarm_id, alert_id=alert_id, acknowledged_by=ctx.actor,
                          acknowledged_at=ctx.now, reason=why, source=ctx.source)
    uow.session.add(row)
    return row


def acknowledge(uow: UnitOfWork, ctx: Context, alert_id: int, reason: str) -> Alert:
    """A person has seen the alert. A reason is required (never a silent dismissal). The first
    acknowledgement sets `acknowledged_at/by` and `ack_reason`; every one, the first included, is kept
    in the alert's acknowledgement history (`acknowledgements`)."""
    alert = uow.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    row = record_acknowledgement(uow, ctx, reason, alert_id=alert.id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by, alert.ack_reason = row.acknowledged_at, ctx.actor, row.reason
    if alert.status == "open":
        alert.status = "acknowledged"
    uow.session.flush()
    return alert


def acknowledgements(uow: UnitOfWork, *, alarm_ids: Sequence[int] = (),
                     alert_ids: Sequence[int] = ()) -> dict[int, list[dict[str, Any]]]:
    """The acknowledgement histories of these alarms (or these alerts), oldest first, by id; one query."""
    column = Acknowledgement.alarm_id if alarm_ids else Acknowledgement.alert_id
    ids = list(alarm_ids or alert_ids)
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    for a in uow.session.scalars(select(Acknowledgement).where(column.in_(ids)).order_by(Acknowledgement.id)):
        out[a.alarm_id if alarm_ids else a.alert_id].append(  # type: ignore[index]
            {"acknowledged_by": a.acknowledged_by, "acknowledged_at": a.acknowledged_at, "reason": a.reason,
             "source": a.source})
    return out


def alert_to_dict(a: Alert, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The alert as the API answers it; `history` is its acknowledgements (see `acknowledgements`)."""
    return {
        "id": a.id, "kind": a.kind, "severity": a.severity, "subject": a.subject, "message": a.message,
        "key": a.dedupe_key, "status": a.status, "details": a.details, "opened_at": a.opened_at,
        "resolved_at": a.resolved_at, "acknowledged_at": a.acknowledged_at,
        "acknowledged_by": a.acknowledged_by, "ack_reason": a.ack_reason, "acknowledgements": history or [],
    }


def unrouted_condition(alert_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The alert has a live unrouted marker and no delivery under any rule. (Aliases, so the
    subqueries never correlate with a `deliveries` of the enclosing query.)"""
    m, d = aliased(Delivery), aliased(Delivery)
    marker = exists().where(m.alert_id == alert_id, m.recipient == UNROUTED, m.rule_id.is_(None), m.state == "failed")
    routed = exists().where(d.alert_id == alert_id, d.rule_id.is_not(None))
    return and_(marker, ~routed)


def list_alerts(
    uow: UnitOfWork, *, status: str | None, kind: str | None, limit: int | None, cursor: str | None,
    unrouted: bool | None = None,
) -> Page:
    """Newest first. `status=active` means open or acknowledged-but-unresolved; `unrouted=true` only
    alerts that no routing rule matched (marked by the delivery job and never routed since)."""
    q = select(Alert)
    if unrouted is not None:
        q = q.where(unrouted_condition(Alert.id) if unrouted else ~unrouted_condition(Alert.id))
    if status == "active":
        q = q.where(Alert.open_key.is_not(None))
    elif status:
        q = q.where(Alert.status == status)
    if kind:
        q = q.where(Alert.kind == kind)
    page = page_by_id(uow.session, q, Alert.id, limit=limit, cursor=cursor, to_dict=alert_to_dict,
                      newest_first=True)
    history = acknowledgements(uow, alert_ids=[a["id"] for a in page.items if a["acknowledged_at"] is not None])
    for a in page.items:
        a["acknowledgements"] = history.get(a["id"], [])
    return page

"""Delivering alerts: routing, retries with backoff, re-notification and escalation.

The outbox pattern: alert rows are written with the change that caused them; this job turns each
into deliveries (one per matching routing rule and recipient) and works them off. A failed attempt is
retried with exponential backoff (5 s doubling, at most 5 min apart) for about a day; after that the
delivery is `failed` and stays visible as undelivered.

An alert nobody's rule matches is marked with a delivery to `unrouted` (channel `none`, state
`failed`), so it is never silently kept to itself: it is listed as unrouted. While it is still active
(`open_key` set), every routing run checks it again, and once a rule matches (one added or changed
later) it gets its deliveries; the marker then stays on record with state `rerouted`, its log and
`last_error` saying when and which rules matched.

Delivery states: `pending` (to try, or retrying), `sent`, `failed` (gave up, or the unrouted
marker), `rerouted` (an unrouted marker whose alert found a rule later).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, select

from ..db.models import Alert, Delivery, RoutingRule
from ..db.uow import UnitOfWork
from ..domain.instants import rfc3339
from ..notify import Channels, DeliveryError, Message
from .alerts import SEVERITIES, UNROUTED, alert_to_dict, unrouted_condition
from .context import Context
from .pagination import Page, page_by_id

MAX_ATTEMPTS = 300


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 300))


def _matches(rule: RoutingRule, alert: Alert) -> bool:
    if rule.kinds and alert.kind not in rule.kinds:
        return False
    if SEVERITIES.index(alert.severity) < SEVERITIES.index(rule.min_severity):
        return False
    return rule.location_id is None or alert.details.get("location_id") == rule.location_id


def _recipients(rule: RoutingRule, extra: list[str] | None = None) -> list[str]:
    return (extra if extra is not None else rule.recipients) or (["alerts"] if rule.channel == "mqtt" else [])


def route_new(uow: UnitOfWork, ctx: Context) -> int:
    """Create the first deliveries of alerts that have none yet, and of active alerts no rule matched
    so far that a rule matches now. Returns how many alerts were routed (or marked unrouted)."""
    rules = list(uow.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))
                                     .order_by(RoutingRule.id)))
    alerts = uow.session.scalars(select(Alert).where(~exists().where(Delivery.alert_id == Alert.id))
                                 .order_by(Alert.id).limit(500))
    routed = 0
    for alert in alerts:
        matching = [r for r in rules if _matches(r, alert)]
        for rule in matching:
            for to in _recipients(rule):
                _add(uow, ctx, alert, rule, rule.channel, to, "notify")
        if not matching:
            uow.session.add(Delivery(alert_id=alert.id, rule_id=None, channel="none", recipient=UNROUTED,
                                     purpose="notify", state="failed", attempts=0, next_attempt_at=ctx.now,
                                     last_error="no routing rule matches this alert", log=[], created_at=ctx.now))
        routed += 1
    uow.session.flush()
    return routed + (_reroute(uow, ctx, rules) if rules else 0)


def _reroute(uow: UnitOfWork, ctx: Context, rules: list[RoutingRule]) -> int:
    """Give active unrouted alerts the deliveries of the rules that match them now; their markers
    become `rerouted` (kept, with when and which rules). Active unrouted alerts are few (one per
    condition that holds), so all of them are looked at on every run."""
    rows = uow.session.execute(select(Alert, Delivery)
                               .join(Delivery, and_(Delivery.alert_id == Alert.id, Delivery.recipient == UNROUTED,
                                                    Delivery.rule_id.is_(None), Delivery.state == "failed"))
                               .where(Alert.open_key.is_not(None), unrouted_condition(Alert.id))
                               .order_by(Alert.id, Delivery.id))
    rerouted: set[int] = set()
    for alert, marker in rows:
        matching = [r for r in rules if _matches(r, alert)]
        if not matching:
            continue
        if alert.id not in rerouted:
            for rule in matching:
                for to in _recipients(rule):
                    _add(uow, ctx, alert, rule, rule.channel, to, "notify")
            rerouted.add(alert.id)
        note = (f"rerouted at {ctx.now.isoformat()}: now matched by "
                + ", ".join(f"rule {r.id} ({r.name})" for r in matching))
        marker.state, marker.last_error = "rerouted", note[:1000]
        marker.log = [*marker.log, {"at": ctx.now.isoformat(), "result": note[:1000]}][-20:]
    uow.session.flush()
    return len(rerouted)


def unrouted_alert_ids(uow: UnitOfWork, alert_ids: Iterable[int]) -> set[int]:
    """Which of `alert_ids` no rule has matched: marked unrouted and never routed since (whether
    still active or not). An alert not yet looked at by the routing job is not among them."""
    ids = list(alert_ids)
    if not ids:
        return set()
    return set(uow.session.scalars(select(Alert.id).where(Alert.id.in_(ids), unrouted_condition(Alert.id))))


def unrouted_to_dict(a: Alert) -> dict[str, Any]:
    return {"id": a.id, "kind": a.kind, "severity": a.severity, "subject": a.subject, "status": a.status,
            "opened_at": a.opened_at}


def list_unrouted(uow: UnitOfWork, *, limit: int | None = None, cursor: str | None = None) -> Page:
    """Active alerts that no routing rule matches (so nobody was told), newest first."""
    q = select(Alert).where(Alert.open_key.is_not(None), unrouted_condition(Alert.id))
    return page_by_id(uow.session, q, Alert.id, limit=limit, cursor=cursor, to_dict=unrouted_to_dict,
                      newest_first=True)


def _add(uow: UnitOfWork, ctx: Context, alert: Alert, rule: RoutingRule, channel: str, to: str, purpose: str) -> None:
    uow.session.add(Delivery(alert_id=alert.id, rule_id=rule.id, channel=channel, recipient=to, purpose=purpose,
                             state="pending", attempts=0, next_attempt_at=ctx.now, log=[], created_at=ctx.now))


def follow_up(uow: UnitOfWork, ctx: Context) -> int:
    """Re-notify unacknowledged open alerts every `renotify_min`, escalate once after `escalate_after_min`."""
    added = 0
    rules = {r.id: r for r in uow.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)))}
    open_alerts = uow.session.scalars(select(Alert).where(Alert.status == "open"))
    for alert in open_alerts:
        for rule in rules.values():
            if not _matches(rule, alert):
                continue
            mine = list(uow.session.scalars(select(Delivery).where(Delivery.alert_id == alert.id,
                                                                   Delivery.rule_id == rule.id)))
            if rule.renotify_min:
                last = max((d.created_at for d in mine if d.purpose in ("notify", "renotify")), default=None)
                if last is not None and ctx.now - last >= timedelta(minutes=rule.renotify_min):
                    for to in _recipients(rule):
                        _add(uow, ctx, alert, rule, rule.channel, to, "renotify")
                        added += 1
            escalated = any(d.purpose == "escalate" for d in mine)
            if (rule.escalate_after_min and rule.escalate_to and not escalated
                    and ctx.now - alert.opened_at >= timedelta(minutes=rule.escalate_after_min)):
                for to in rule.escalate_to:
                    _add(uow, ctx, alert, rule, rule.channel, to, "escalate")
                    added += 1
    uow.session.flush()
    return added


def message_for(alert: Alert, purpose: str) -> Message:
    prefix = {"renotify": "[still open] ", "escalate": "[ESCALATED] "}.get(purpose, "")
    payload = {k: v for k, v in alert_to_dict(alert).items() if k in ("id", "kind", "severity", "subject", "message",
                                                                       "opened_at", "status", "details")}
    body = f"{alert.message}\n\nAlert {alert.id} ({alert.kind}, {alert.severity}) opened {rfc3339(alert.opened_at)}."
    return Message(alert.kind, prefix + alert.subject, body, payload)


def due(uow: UnitOfWork, ctx: Context, limit: int = 50) -> list[int]:
    return list(uow.session.scalars(select(Delivery.id).where(Delivery.state == "pending",
                                                              Delivery.next_attempt_at <= ctx.now)
                                    .order_by(Delivery.next_attempt_at).limit(limit)))


def attempt(uow: UnitOfWork, ctx: Context, delivery_id: int, channels: Channels,
            record: Callable[[str, str], None] | None = None) -> bool:
    """Try one delivery once and record the attempt. The caller commits per delivery, so one slow or
    broken channel cannot hold back the record of the others. `record(channel, result)` is told each
    attempt's result: `sent`, `retry` (failed, tried again later) or `failed` (failed for good)."""
    d = uow.session.get(Delivery, delivery_id, with_for_update=True)
    if d is None or d.state != "pending":
        return False
    alert = uow.session.get(Alert, d.alert_id)
    assert alert is not None
    d.attempts += 1
    try:
        channels.send(d.channel, d.recipient, message_for(alert, d.purpose))
    except DeliveryError as exc:
        d.last_error = str(exc)[:1000]
        d.log = [*d.log, {"at": ctx.now.isoformat(), "result": d.last_error}][-20:]
        if d.attempts >= MAX_ATTEMPTS:
            d.state = "failed"
        else:
            d.next_attempt_at = ctx.now + backoff(d.attempts)
        if record is not None:
            record(d.channel, "failed" if d.state == "failed" else "retry")
        return False
    d.state, d.sent_at, d.last_error = "sent", ctx.now, None
    d.log = [*d.log, {"at": ctx.now.isoformat(), "result": "sent"}][-20:]
    if record is not None:
        record(d.channel, "sent")
    return True


def delivery_to_dict(d: Delivery) -> dict[str, Any]:
    return {"id": d.id, "alert_id": d.alert_id, "rule_id": d.rule_id, "channel": d.channel, "recipient": d.recipient,
            "purpose": d.purpose, "state": d.state, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
            "last_error": d.last_error, "log": d.log, "created_at": d.created_at, "sent_at": d.sent_at}


def deliveries_of(uow: UnitOfWork, alert_id: int) -> list[dict[str, Any]]:
    return [delivery_to_dict(d) for d in uow.session.scalars(select(Delivery).where(Delivery.alert_id == alert_id)
                                                             .order_by(Delivery.id))]

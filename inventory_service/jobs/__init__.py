"""The scheduler's job table: each job is a trigger plus one service call (ARCHITECTURE §3, jobs/).

Every job is idempotent: running it twice, or late after a misfire, opens each ticket and alert once
(de-duplication keys and unique open keys). `coalesce=True`, `max_instances=1`, and one scheduler per
deployment (the leader lock in jobs.scheduler).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..config import Settings
from ..db.uow import Database
from ..notify import Channels
from ..observability.metrics import Metrics
from ..services import cold_evaluation, delivery, digest, expiry, maintenance, reorder
from ..services.context import Context


@dataclass(frozen=True)
class Job:
    """A job: `run(db, ctx, settings, metrics)` at each `trigger(settings)`; `metrics` is the process's
    registry (None when a job is called outside the scheduler)."""

    id: str
    trigger: Callable[[Settings], Any]
    run: Callable[[Database, Context, Settings, Metrics | None], Any]
    doc: str


def _in_tx(fn: Callable[..., Any]) -> Callable[[Database, Context, Settings, Metrics | None], Any]:
    def run(db: Database, ctx: Context, settings: Settings, metrics: Metrics | None = None) -> Any:
        with db.unit_of_work() as uow:
            out = fn(uow, ctx, settings)
            uow.commit()
            return out
    return run


def _maintenance(uow: Any, ctx: Context, settings: Settings) -> int:
    maintenance.ensure_calibration_plans(uow, ctx)
    opened = maintenance.open_due_tickets(uow, ctx)
    maintenance.flag_overdue(uow, ctx)
    return len(opened)


def deliver_alerts(db: Database, ctx: Context, settings: Settings, metrics: Metrics | None = None) -> int:
    """Route new alerts, add re-notifications and escalations, then attempt what is due (a commit each);
    each attempt's result goes to `metrics` when given."""
    with db.unit_of_work() as uow:
        delivery.route_new(uow, ctx)
        delivery.follow_up(uow, ctx)
        uow.commit()
        ids = delivery.due(uow, ctx)
    channels = Channels(smtp_url=settings.smtp_url, mqtt_url=settings.mqtt_url, webhook_secret=settings.webhook_secret)
    record = metrics.deliveries.attempted if metrics is not None else None
    sent = 0
    for delivery_id in ids:
        with db.unit_of_work() as uow:
            sent += delivery.attempt(uow, ctx, delivery_id, channels, record)
            uow.commit()
    return sent


def reorder_check(db: Database, ctx: Context, chunk: int = 500) -> int:
    """All par levels, committed in chunks: on SQLite one long write transaction would hold the
    database's only write lock and make every scan and consume wait behind it."""
    with db.unit_of_work(write=False) as uow:
        ids = reorder.par_ids(uow)
    for i in range(0, len(ids), chunk):
        with db.unit_of_work() as uow:
            reorder.check_all(uow, ctx, ids[i:i + chunk])
            uow.commit()
    return len(ids)


def _tz(settings: Settings) -> Any:
    return settings.tz


JOBS: tuple[Job, ...] = (
    Job("expiry_sweep", lambda s: CronTrigger(hour=0, minute=0, timezone=_tz(s)),
        _in_tx(lambda uow, ctx, s: expiry.sweep_expired(uow, ctx)), "expired lots at the site's midnight"),
    Job("expiry_horizons", lambda s: CronTrigger(hour=6, minute=0, timezone=_tz(s)),
        _in_tx(lambda uow, ctx, s: expiry.horizon_alerts(uow, ctx, s.expiry_horizons_days)),
        "alerts at 90/60/30 days before expiry"),
    # At :05 every hour, so the day's first run follows the midnight expiry sweep and reorder
    # suggestions read today's stored figures again within minutes of the date changing.
    Job("reorder_check", lambda s: CronTrigger(minute=5, timezone=_tz(s)), lambda db, ctx, s, m: reorder_check(db, ctx),
        "re-check par levels as lots near expiry; store today's figures"),
    Job("no_data_check", lambda s: IntervalTrigger(minutes=1),
        _in_tx(lambda uow, ctx, s: len(cold_evaluation.sweep_no_data(uow, ctx))), "silent sensors"),
    Job("maintenance_due", lambda s: IntervalTrigger(minutes=5), _in_tx(_maintenance),
        "open tickets for due plans and calibrations; flag overdue critical tickets"),
    Job("deliver_alerts", lambda s: IntervalTrigger(seconds=s.delivery_interval_s), deliver_alerts,
        "alert delivery, retries, re-notification, escalation"),
    Job("daily_digest", lambda s: CronTrigger(hour=7, minute=0, timezone=_tz(s)),
        _in_tx(lambda uow, ctx, s: digest.send(uow, ctx)), "the manager's daily digest"),
)

#: Jobs run once at start-up too, so a scheduler that was down at midnight catches up (misfire).
RUN_AT_START = ("expiry_sweep", "expiry_horizons", "reorder_check", "maintenance_due", "no_data_check")

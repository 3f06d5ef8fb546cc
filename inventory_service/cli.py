"""The `inventory-service` console script: one codebase, several roles (ARCHITECTURE §2)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from prometheus_client import disable_created_metrics

from .config import ConfigError, Settings
from .db import migrate
from .db.engine import make_engine
from .db.uow import Database
from .ingest.heap import freeze_startup_heap
from .ingest.mqtt import MqttIngest, readings_database
from .ingest.scanners import ScannerIngest, consumer_database
from .jobs import JOBS
from .jobs.scheduler import Scheduler
from .observability.exposition import MetricsServer
from .observability.metrics import Metrics
from .services import auth, ledger
from .services.context import Context, system_clock

log = logging.getLogger("inventory_service")
JOB_IDS = tuple(job.id for job in JOBS)


def _context(settings: Settings, actor: str) -> Context:
    return Context(actor=actor, source="cli", now=system_clock(), tz=settings.tz)


def _database(settings: Settings) -> Database:
    return Database(make_engine(settings.database_url))


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    migrate.upgrade(settings.database_url, args.revision)
    print(f"database at revision {args.revision}")
    return 0


def cmd_token_create(settings: Settings, args: argparse.Namespace) -> int:
    db = _database(settings)
    with db.unit_of_work() as uow:
        row, token = auth.create_token(uow, _context(settings, "cli"), name=args.name, role=args.role)
        uow.commit()
    print(token)
    print(f"token {row.name!r} ({row.role}) created; it is shown only this once", file=sys.stderr)
    return 0


def cmd_token_revoke(settings: Settings, args: argparse.Namespace) -> int:
    db = _database(settings)
    with db.unit_of_work() as uow:
        auth.revoke_token(uow, _context(settings, "cli"), name=args.name)
        uow.commit()
    print(f"token {args.name!r} revoked")
    return 0


def cmd_token_list(settings: Settings, args: argparse.Namespace) -> int:
    db = _database(settings)
    with db.unit_of_work(write=False) as uow:
        for t in auth.list_tokens(uow):
            state = f"revoked {t['revoked_at']:%Y-%m-%d %H:%M}" if t["revoked_at"] else "active"
            print(f"{t['id']:>4}  {t['name']:<24} {t['role']:<8} {t['prefix']}…  {state}")
    return 0


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    db = _database(settings)
    with db.unit_of_work(write=False) as uow:
        problem = ledger.verify(uow)
    if problem is None:
        print("ledger intact")
        return 0
    where = f"movement {problem.movement_id}" if problem.movement_id is not None else "chain head"
    print(f"ledger BROKEN at {where}: {problem.problem}", file=sys.stderr)
    return 1


def _start_ingest(settings: Settings, metrics: Metrics) -> ScannerIngest:
    """The scanner ingest, started. Bad scanner definitions do not stop it (each is reported and its
    station left out); it also runs with none, so problems stored by an earlier start are cleared."""
    if not settings.scanners.strip():
        log.info("no scanners configured (INVENTORY_SCANNERS)")
    db = consumer_database(settings.database_url)
    ingest = ScannerIngest.from_settings(settings.scanners, db, system_clock, settings.timezone,
                                         instance=settings.instance, metrics=metrics)
    ingest.receive_warn_days = settings.receive_warn_days
    ingest.start()
    return ingest


def _start_mqtt(settings: Settings, metrics: Metrics) -> MqttIngest:
    ingest = MqttIngest(settings.mqtt_url, readings_database(settings.database_url), system_clock,
                        settings.timezone, instance=settings.instance, shared=settings.mqtt_shared, metrics=metrics)
    ingest.start()
    return ingest


class MetricsBindError(Exception):
    """INVENTORY_METRICS names a bind that cannot be served."""


def _serve_metrics(settings: Settings, metrics: Metrics, role: str) -> MetricsServer | None:
    """The metrics server of its own (INVENTORY_METRICS=host:port), started; None for `api` and `off`
    (with `api` the app serves `/metrics` on the API port, in the roles that have one)."""
    bind = settings.metrics_bind
    if bind is None:
        if settings.metrics == "api" and role in ("ingest", "scheduler"):
            log.info("metrics not served: the %s role has no API port (set INVENTORY_METRICS=host:port)", role)
        return None
    if role in ("run", "api") and bind == settings.bind:
        raise MetricsBindError(f"INVENTORY_METRICS={bind} is the API's own bind; use `api` to serve /metrics there")
    server = MetricsServer(bind, metrics.registry, settings.metrics_token)
    try:
        server.start()
    except OSError as exc:
        raise MetricsBindError(f"INVENTORY_METRICS: cannot serve metrics on {bind}: {exc}") from exc
    return server


def waitress_options(settings: Settings) -> dict[str, Any]:
    """Waitress's limits from the settings: a connection idle for INVENTORY_HTTP_TIMEOUT_S is closed
    (checked every few seconds), and waitress itself stops buffering a body a little past
    INVENTORY_MAX_BODY_BYTES, so a body just over the limit still reaches the app and is answered
    413 in the error shape."""
    return {"channel_timeout": settings.http_timeout_s,
            "cleanup_interval": max(1.0, min(30.0, settings.http_timeout_s / 4)),
            "max_request_body_size": settings.max_body_bytes + 64 * 1024}


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """`api` and `run`: the Flask app under waitress (a production WSGI server); `run` adds device ingest."""
    from waitress import serve

    from .app import create_app

    db = _database(settings)
    metrics = Metrics.for_process(args.command)  # one registry for everything this process runs
    metrics_server = _serve_metrics(settings, metrics, args.command)
    scanners = _start_ingest(settings, metrics) if args.command == "run" else None
    mqtt_ingest = _start_mqtt(settings, metrics) if args.command == "run" else None
    scheduler = Scheduler(settings, db, system_clock, metrics=metrics) if args.command == "run" else None
    if scheduler is not None:
        scheduler.start()
    app = create_app(settings, db=db, mqtt_status=mqtt_ingest.connected if mqtt_ingest else None, metrics=metrics)
    freeze_startup_heap()
    log.info("serving the API on http://%s (role %s)", settings.bind, args.command)
    # SIGTERM (docker stop, systemd) ends the server like Ctrl-C, so the finally block below stops ingest
    # (publishing our own `offline`) and the scheduler cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(app, host=settings.bind_host, port=settings.bind_port, threads=args.threads,
              ident="inventory-service", **waitress_options(settings))
    finally:
        if scanners is not None:
            scanners.stop()
        if mqtt_ingest is not None:
            mqtt_ingest.stop()
        if scheduler is not None:
            scheduler.stop()
        if metrics_server is not None:
            metrics_server.stop()
    return 0


def cmd_scheduler(settings: Settings, args: argparse.Namespace) -> int:
    """`scheduler`: the job table; with PostgreSQL only the lock holder runs jobs, others stand by."""
    if args.run_once is not None and args.run_once not in JOB_IDS:
        print(f"unknown job {args.run_once!r}; jobs: {', '.join(JOB_IDS)}", file=sys.stderr)
        return 2
    db = _database(settings)
    metrics = Metrics.for_process("scheduler")
    scheduler = Scheduler(settings, db, system_clock, metrics=metrics)
    if args.run_once:
        scheduler.run_now(args.run_once)
        return 0
    metrics_server = _serve_metrics(settings, metrics, "scheduler")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    stop.wait()
    scheduler.stop()
    if metrics_server is not None:
        metrics_server.stop()
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    """`ingest`: MQTT readings and the serial scanners (each on its own engine), until SIGTERM or Ctrl-C."""
    metrics = Metrics.for_process("ingest")
    metrics_server = _serve_metrics(settings, metrics, "ingest")
    scanners = _start_ingest(settings, metrics)
    mqtt_ingest = _start_mqtt(settings, metrics)
    freeze_startup_heap()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    scanners.stop()
    mqtt_ingest.stop()
    if metrics_server is not None:
        metrics_server.stop()
    return 0


def database_problem(exc: Exception) -> str:
    """One line saying what went wrong with the database, with what to do where that is clear."""
    first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown error"])[0]
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return f"the database has no schema yet ({first}); run `inventory-service db upgrade`"
    return f"database: {first}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="inventory-service", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("run", "API (and, as they land, ingest and scheduler) in one process"),
                       ("api", "the HTTP API only")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--threads", type=int, default=8)
        s.set_defaults(func=cmd_serve)

    sub.add_parser("ingest", help="device ingest: MQTT readings and serial scanners").set_defaults(func=cmd_ingest)
    sch = sub.add_parser("scheduler", help="scheduled jobs (one leader per deployment)")
    sch.add_argument("--run-once", metavar="JOB_ID", help=f"run one job now and exit; jobs: {', '.join(JOB_IDS)}")
    sch.set_defaults(func=cmd_scheduler)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="alembic upgrade (default head)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)

    tok = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    c = tok.add_parser("create", help="create a token and print it once")
    c.add_argument("--name", required=True)
    c.add_argument("--role", required=True, choices=auth.ROLES)
    c.set_defaults(func=cmd_token_create)
    r = tok.add_parser("revoke", help="revoke a token by name")
    r.add_argument("--name", required=True)
    r.set_defaults(func=cmd_token_revoke)
    tok.add_parser("list", help="list tokens (never the secrets)").set_defaults(func=cmd_token_list)

    audit = sub.add_parser("audit", help="ledger integrity").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="check the movement hash chain").set_defaults(func=cmd_audit_verify)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler logs every run of every job at INFO (alert delivery runs every 5 s): keep it to warnings.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
    # Counters' `_created` gauges (one per series) double what every scrape stores and no query here uses.
    disable_created_metrics()
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from .domain.errors import DomainError

    # A mistake is one line on stderr and a non-zero exit, never a traceback (the log has the detail).
    try:
        return int(args.func(settings, args))
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except MetricsBindError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        log.debug("database error", exc_info=True)
        print(f"error: {database_problem(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

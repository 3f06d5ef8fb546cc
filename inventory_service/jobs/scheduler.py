"""Runs the JOBS table with APScheduler 3.x, one active scheduler per deployment.

On PostgreSQL the scheduler that holds a session-level advisory lock is the leader; others stand by,
trying the lock every few seconds, and take over when the leader's connection dies (the lock goes
with it). On SQLite the database serves one machine, so `run` embeds the only scheduler. Never
started inside web workers (jobs would run once per worker).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, text

from ..config import Settings
from ..db.uow import Database
from ..observability.metrics import Metrics
from ..services.context import Clock, Context
from . import JOBS, RUN_AT_START, Job

log = logging.getLogger(__name__)
LOCK_KEY = 0x1A7E_5C4E  # pg_advisory_lock key of "the scheduler"


class Scheduler:
    def __init__(self, settings: Settings, db: Database, clock: Clock, *, standby_poll_s: float = 5.0,
                 jobs: tuple[Job, ...] = JOBS, metrics: Metrics | None = None) -> None:
        self.settings, self.db, self.clock, self.jobs = settings, db, clock, jobs
        self.metrics = metrics or Metrics()
        self.metrics.jobs.declare(job.id for job in jobs)
        self.metrics.jobs.leading(False)
        self.standby_poll_s = standby_poll_s
        self._lock_conn: Connection | None = None
        self._aps: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._lead_when_possible, name="scheduler-leader", daemon=True)
        self.is_leader = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.metrics.jobs.leading(False)
        self._thread.join(timeout=10)
        if self._aps is not None:
            self._aps.shutdown(wait=True)
        if self._lock_conn is not None:
            self._lock_conn.close()  # releases the advisory lock: a standby takes over

    def _try_lock(self) -> bool:
        if self.db.dialect != "postgresql":
            return True
        conn = self.db.engine.connect()
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
        conn.commit()
        if got:
            self._lock_conn = conn
        else:
            conn.close()
        return got

    def _lead_when_possible(self) -> None:
        while not self._stop.is_set():
            try:
                if self._try_lock():
                    break
            except Exception:
                log.exception("scheduler: could not try the leader lock")
            log.info("scheduler: another instance leads; standing by")
            if self._stop.wait(self.standby_poll_s):
                return
        if self._stop.is_set():
            return
        self.is_leader.set()
        self.metrics.jobs.leading(True)
        log.info("scheduler: leading; %d jobs", len(self.jobs))
        aps = BackgroundScheduler(timezone=self.settings.tz,
                                  job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        for job in self.jobs:
            aps.add_job(self.runner(job), job.trigger(self.settings), id=job.id, name=job.doc)
        aps.start()
        self._aps = aps
        for job in self.jobs:
            if job.id in RUN_AT_START:
                aps.add_job(self.runner(job), id=f"{job.id}-at-start")

    def runner(self, job: Job) -> Callable[[], None]:
        def run() -> None:
            ctx = Context(actor=f"job:{job.id}", source="job", now=self.clock(), tz=self.settings.tz)
            started, ok = time.perf_counter(), False
            try:
                result = job.run(self.db, ctx, self.settings, self.metrics)
                ok = True
                log.debug("job %s: %s", job.id, result)
            except Exception:
                log.exception("job %s failed; it runs again at its next time", job.id)
            finally:
                self.metrics.jobs.ran(job.id, time.perf_counter() - started, ok=ok, finished_at=time.time())
        return run

    def run_now(self, job_id: str) -> None:
        """Run one job synchronously (CLI and tests)."""
        job = next(j for j in self.jobs if j.id == job_id)
        self.runner(job)()

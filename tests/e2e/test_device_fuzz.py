"""Device input fuzzing through the real broker and a real pty (issue point 6).

Acceptance (issue text): "hypothesis-generated payloads on every subscribed topic (arbitrary bytes,
invalid UTF-8, deeply nested JSON, NaN/Infinity, 1e308, negative and huge `seq`, 256 KB payloads, arrays
of 10,000 readings, wrong types) and frames on a scanner port. The ingest keeps running; every message
is stored or rejected with a reason and acknowledged; the counts add up exactly; memory stays bounded
(RSS growth printed)."

MQTT (`test_fuzzed_mqtt_messages_...`): each hypothesis example is a batch of messages on the three
topics `inventory_service.ingest.mqtt` subscribes to (`coldchain/+/reading`, `coldchain/+/status`,
`equipment/+/cycle`), with ordinary, odd ("." "-" "_", 64 characters) and invalid ids, published at
QoS 1 through the session's Mosquitto to a real `inventory-service ingest` process (the harness of
test_ingest_robustness.py) and followed by a sentinel reading: once the sentinel is stored, the one
consumer has processed everything published before it. Whether a message meets the contract
(ARCHITECTURE §4, README "Wiring a real logger") is decided in fuzz_mqtt.py, by construction: every
generated value is judged by the contract's rules (a reading object has only seq/ts/temp_c/battery_pct/door_open;
seq an integer 0..2**63-1; ts RFC 3339 with a zone, at most 10 minutes ahead; temp_c a finite number in
-150..150; battery_pct null or 0..100; door_open null/true/false; at most 10,000 readings per array; a
cycle exactly its seven fields, `cycle` 0..2**63-1, `program` 1-64 characters without control
characters, result pass/fail; a status online/offline). The accounting, after every example and over
the whole run (`Accounting` below):

- a *reading message* that meets the contract is stored: each of its readings is *new* (one `readings`
  row, holding the values first sent for its (sensor_id, seq)) or a *duplicate* (its (sensor_id, seq)
  came in an earlier message, or earlier in the same array), which adds no row;
- a *status message* that meets the contract sets its sensor's status (the last one per sensor wins);
- a *cycle* that meets the contract is new (one `equipment_cycles` row) or a duplicate (device, seq);
- any other message is *rejected*: exactly one `rejected_inputs` row with its topic and payload (as
  kept: cut at 300 / 2,000 characters) and a non-empty reason that validation gave, never the
  poison-message path's "could not be stored".

So: messages published = reading messages stored + statuses + cycles + rejected; `readings` rows =
readings in stored messages - duplicates; `equipment_cycles` rows = cycles - duplicates;
`rejected_inputs` rows = rejected messages. Then the ingest must be alive, its RSS growth (VmRSS from
/proc, printed with the peak VmHWM) under MEMORY_LIMIT_MB, and nothing left unacknowledged: two seconds
after the last commit the ingest is killed (SIGKILL, so nothing is flushed at shutdown), one probe
message is published for its session, and a plain client that resumes that session (same client id,
clean_start=False) must get exactly the probe, no redelivery.

Scanner (`test_fuzzed_frames_...`): hypothesis-generated frames written to a real pty read by the
real ScannerIngest (reader thread, consumer, scans service) on the test database: arbitrary bytes,
NULs, GS, bytes above 0x7f (not UTF-8: the reader decodes latin-1), AIM identifiers, valid and broken
GS1 / HIBC / GTIN / Digital Link labels for known and unknown items, command cards, lines over the
4,096-byte cap, blank lines, presentation re-reads, terminated by CR, LF, CRLF (split across writes),
LF CR, or the idle gap, and written in random chunks (fuzz_frames.py). A model of the framing contract
(fuzz_frames.FramingModel) says what each frame must become: exactly
one `scans` row, in order, with its escaped text (rejected `too_long` / `noise` by the reader, else
applied, command, pending, or rejected with a reason by the station), or a re-read counted in the
`rereads` of the row it repeats. Then: the reader thread is alive and its counters agree, the ledger
verifies (`services.ledger.verify`), no balance is negative and each equals the sum of its movements,
and every movement belongs to exactly one scan.

Both run on SQLite and PostgreSQL, with `derandomize=True` and no shrinking (a failing batch is
reported whole, with the ingest's log where there is one). The examples follow from the test
function's source and from the constants hypothesis collects from the product's modules: the same
commit, run the same way, tests the same inputs; an edit to either draws others.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from devices.serial import PortState, ScannerConfig
from firmware_sim.scanner import PtyLink
from inventory_service.db.engine import make_engine
from inventory_service.db.models import Balance, EquipmentCycle, Movement, Reading, RejectedInput, Scan, Sensor
from inventory_service.db.uow import Database
from inventory_service.ingest.broker import BrokerAddress
from inventory_service.ingest.scanners import ScannerIngest, consumer_database
from inventory_service.services import catalog, equipment, ledger
from inventory_service.services.context import Context
from inventory_service.services.scans import OUTCOMES, READER_REJECTIONS
from tests.e2e.fuzz_frames import GTINS, HIBC, SCAN_BATCHES, FramingModel, ScanBatch, gtin8, headline_frames, stream
from tests.e2e.fuzz_mqtt import Factory, Outcome, Tally, batches, headline_batch
from tests.e2e.scan_script import MAX_FRAME
from tests.e2e.test_ingest_robustness import (
    CLI,
    SITE_TZ,
    IngestProcess,
    Publisher,
    Service,
    Watcher,
    forget_session,
    rejected_text,
    start_listening,
)
from tests.support.services import postgres_database
from tests.support.wait import wait_for

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

MQTT_EXAMPLES = 60  # batches of 4-16 messages (see the figures printed)
# RSS growth of the ingest over the run. By design its inbox holds at most 32 MB of payloads (QUEUE_BYTES)
# and a batch at most 1 MB; measured: 14-20 MB, once the allocator has seen the 10,000-reading arrays.
MEMORY_LIMIT_MB = 64

# --------------------------------------------------------------------------------------------------
# The MQTT test
# --------------------------------------------------------------------------------------------------


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the peak) of a process, in KiB, from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.db'}"
    else:
        with postgres_database("inv_fuzz") as url:
            yield url


@pytest.fixture
def service(database_url: str, mqtt_url: str, tmp_path: Path) -> Iterator[Service]:
    """A database migrated by the real CLI, and the environment for `inventory-service ingest`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    instance = f"fuzz-{uuid.uuid4().hex[:10]}"
    env.update({"INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_DATABASE_URL": database_url,
                "INVENTORY_MQTT_URL": mqtt_url, "INVENTORY_INSTANCE": instance, "INVENTORY_TIMEZONE": SITE_TZ,
                "INVENTORY_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    done = subprocess.run([*CLI, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"db upgrade failed:\n{done.stdout}\n{done.stderr}"
    db = Database(make_engine(database_url))
    try:
        yield Service(env, db, tmp_path, instance, mqtt_url)
    finally:
        db.dispose()
        forget_session(mqtt_url, instance)


@dataclass(frozen=True)
class Marks:
    """The highest row ids before a batch: what the batch wrote is above them."""

    reading: int
    rejected: int
    cycle: int
    at: datetime

    @classmethod
    def take(cls, service: Service) -> Marks:
        def top(column: Any) -> int:
            return int(service.rows(select(func.coalesce(func.max(column), 0)))[0][0])
        return cls(top(Reading.id), top(RejectedInput.id), top(EquipmentCycle.id), datetime.now(UTC))


def sentinel_payload(seq: int) -> bytes:
    return json.dumps({"seq": seq, "ts": datetime.now(UTC).isoformat(), "temp_c": 4.0}).encode()


class Accounting:
    """Checks one batch against the Tally (see the module docstring) and keeps the run's counts."""

    def __init__(self, service: Service, tally: Tally, sentinel: str) -> None:
        self.service, self.tally, self.sentinel = service, tally, sentinel

    def expect(self, messages: list[tuple[str, bytes, Outcome]]) -> tuple[
            dict[tuple[str, int], tuple[datetime, float]], Counter[tuple[str, str]], set[tuple[str, int]],
            dict[str, str]]:
        """Add the batch to the tally: the new readings, rejections, new cycles and statuses it must leave."""
        counts, new = self.tally.counts, {}
        rejected: Counter[tuple[str, str]] = Counter()
        cycles: set[tuple[str, int]] = set()
        statuses: dict[str, str] = {}
        for topic, payload, outcome in messages:
            counts["published"] += 1
            counts[f"category: {outcome.category}"] += 1
            if outcome.rejected:
                counts["rejected"] += 1
                rejected[(topic[:300], rejected_text(payload))] += 1
            elif outcome.status is not None:
                counts["statuses"] += 1
                statuses[outcome.status[0]] = outcome.status[1]
            elif outcome.cycle is not None:
                counts["cycles"] += 1
                if outcome.cycle in self.tally.cycles:
                    counts["duplicate cycles"] += 1
                else:
                    self.tally.cycles.add(outcome.cycle)
                    cycles.add(outcome.cycle)
            else:
                counts["reading messages"] += 1
                for sensor, seq, ts, temp in outcome.readings:
                    counts["readings"] += 1
                    if (sensor, seq) in self.tally.readings:
                        counts["duplicate readings"] += 1
                    else:
                        self.tally.readings[(sensor, seq)] = (ts, temp)
                        new[(sensor, seq)] = (ts, temp)
        self.tally.statuses.update(statuses)
        return new, rejected, cycles, statuses

    def check(self, messages: list[tuple[str, bytes, Outcome]], marks: Marks) -> None:
        new, rejected, cycles, statuses = self.expect(messages)
        rows = self.service.rows
        got = {(s, q): (ts, t) for s, q, ts, t in rows(
            select(Reading.sensor_id, Reading.seq, Reading.ts, Reading.temp_c)
            .where(Reading.id > marks.reading, Reading.sensor_id != self.sentinel))}
        where = {k: outcome.category for _, _, outcome in messages for k in
                 [(r[0], r[1]) for r in outcome.readings]}
        missing = sorted((k, where.get(k)) for k in set(new) - set(got))
        extra = sorted((k, where.get(k, "a rejected message?")) for k in set(got) - set(new))
        assert (missing, extra) == ([], []), f"readings missing (first 5): {missing[:5]}; unexpected: {extra[:5]}"
        changed = [(k, new[k], got[k]) for k in new if got[k] != new[k]]
        assert changed == [], f"stored values differ from the first sent (key, sent, stored): {changed[:5]}"

        got_rejected = rows(select(RejectedInput.topic, RejectedInput.payload, RejectedInput.reason)
                            .where(RejectedInput.id > marks.rejected))
        counted = Counter((t, p) for t, p, _ in got_rejected)
        kinds = {(t[:300], rejected_text(p)): o.category for t, p, o in messages}
        assert counted == rejected, (
            f"rejections differ: missing {[(kinds.get(k), k[0]) for k in (rejected - counted)][:5]!r:.1500}; "
            f"unexpected {[(kinds.get(k), k[0], k[1][:80]) for k in (counted - rejected)][:5]!r:.1500}")
        bad_reasons = [(kinds.get((t, p)), reason[:120]) for t, p, reason in got_rejected
                       if not reason.strip() or reason.startswith("could not be stored")]
        assert bad_reasons == [], f"rejected without a validation reason: {bad_reasons[:5]}"

        got_cycles = rows(select(EquipmentCycle.equipment_id, EquipmentCycle.seq)
                          .where(EquipmentCycle.id > marks.cycle))
        assert sorted(got_cycles) == sorted(cycles), f"cycles stored {sorted(got_cycles)[:5]}, not {sorted(cycles)[:5]}"

        if statuses:
            got_statuses = {sid: (status, at) for sid, status, at in rows(
                select(Sensor.id, Sensor.status, Sensor.status_at).where(Sensor.id.in_(statuses)))}
            wrong = {sid: got_statuses.get(sid) for sid, status in statuses.items()
                     if sid not in got_statuses or got_statuses[sid][0] != status or got_statuses[sid][1] < marks.at}
            assert wrong == {}, f"statuses not set (expected {statuses})"

    def totals(self, first: Marks, sentinels: int) -> dict[str, int]:
        """The whole run's counts, checked against the database."""
        counts, count = self.tally.counts, self.service.count
        stored = count(Reading, Reading.sensor_id != self.sentinel)
        assert stored == len(self.tally.readings) == counts["readings"] - counts["duplicate readings"]
        assert count(Reading, Reading.sensor_id == self.sentinel) == sentinels
        assert count(RejectedInput, RejectedInput.id > first.rejected) == counts["rejected"]
        assert count(EquipmentCycle) == len(self.tally.cycles) == counts["cycles"] - counts["duplicate cycles"]
        assert counts["published"] == (counts["reading messages"] + counts["statuses"] + counts["cycles"]
                                       + counts["rejected"])
        statuses = dict(self.service.rows(select(Sensor.id, Sensor.status).where(Sensor.id.in_(self.tally.statuses))))
        assert statuses == self.tally.statuses
        return {"stored rows": stored, "cycle rows": len(self.tally.cycles)}


def resume_session(mqtt_url: str, instance: str, probe: tuple[str, bytes]) -> tuple[bool, list[tuple[str, bytes]]]:
    """Resume the ingest's persistent session with a plain client (same client id, clean_start=False)
    and collect what the broker sends it until `probe` arrives (anything redelivered comes before:
    the broker sends a resumed session's unacknowledged messages first, then the queued ones in order),
    and half a second more. Returns (session present, messages)."""
    a = BrokerAddress.parse(mqtt_url)
    got: list[tuple[str, bytes]] = []
    present: list[bool] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"inventory-ingest-{instance}",
                         protocol=mqtt.MQTTv5, manual_ack=True)
    client.on_connect = lambda _c, _u, flags, _r, _p: present.append(bool(flags.session_present))
    client.on_message = lambda _c, _u, msg: got.append((msg.topic, bytes(msg.payload)))
    client.connect(a.host, a.port, keepalive=30, clean_start=False)
    client.loop_start()
    try:
        wait_for(lambda: probe in got, 20, "the probe published while the ingest was down")
        time.sleep(0.5)
    finally:
        client.disconnect()
        client.loop_stop()
    return bool(present and present[0]), got


def keep_first_failure(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """Hypothesis runs a failing example once more to report it; against live services that run starts
    from a later state and fails differently (or not at all). The first failure is raised again."""
    failed: list[BaseException] = []

    @functools.wraps(check)
    def run(batch: Any) -> None:
        if failed:
            raise failed[0]
        try:
            check(batch)
        except BaseException as exc:
            failed.append(exc)
            raise

    return run


FUZZ_SETTINGS = settings(max_examples=MQTT_EXAMPLES, derandomize=True, database=None, deadline=None,
                         phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.filter_too_much, HealthCheck.large_base_example])


@pytest.mark.timeout(300)
def test_fuzzed_mqtt_messages_are_each_stored_or_rejected_acknowledged_and_counted(service: Service):
    tag = uuid.uuid4().hex[:6]
    factory = Factory(tag)
    now = datetime.now(UTC)
    service.register(now - timedelta(days=1), {f"Fridge {tag}": factory.registered})
    with service.db.unit_of_work() as uow:
        equipment.create(uow, service.ctx(now), id=factory.autoclave, kind="autoclave", name=f"Autoclave {tag}")
        uow.commit()
    tally = Tally()
    sentinel = f"z{tag}"
    accounting = Accounting(service, tally, sentinel)
    sentinels = 0
    ingest = IngestProcess(service)
    watcher = Watcher(service.mqtt_url, service.instance)
    publisher = Publisher(service.mqtt_url)
    started = time.monotonic()
    samples: list[int] = []

    def drain() -> None:
        """Publish the next sentinel and wait until it is stored: everything before it is processed."""
        nonlocal sentinels
        sentinels += 1
        publisher.publish_all([(f"coldchain/{sentinel}/reading", sentinel_payload(sentinels))])
        wait_for(lambda: service.count(Reading, Reading.sensor_id == sentinel, Reading.seq == sentinels), 60,
                 f"sentinel {sentinels} to be stored", 0.02, details=ingest.log_tail)

    try:
        start_listening(ingest, watcher)
        assert ingest.proc is not None
        pid = ingest.proc.pid
        drain()  # retained messages of earlier tests (statuses) are in before the first mark
        baseline = memory_kib(pid)
        first = Marks.take(service)

        @FUZZ_SETTINGS
        @example(batch=headline_batch())
        @given(batch=batches())
        @keep_first_failure
        def one_batch(batch: list[Any]) -> None:
            marks = Marks.take(service)
            messages = [factory.message(recipe, datetime.now(UTC)) for recipe in batch]
            publisher.publish_all([(t, p) for t, p, _ in messages], chunk=50)
            drain()
            assert ingest.alive(), ingest.log_tail()
            accounting.check(messages, marks)
            samples.append(memory_kib(pid)["VmRSS"])

        one_batch()
        fuzzed = time.monotonic()
        totals = accounting.totals(first, sentinels)
        assert ingest.alive(), ingest.log_tail()
        final = memory_kib(pid)
        growth_mb = (final["VmRSS"] - baseline["VmRSS"]) / 1024

        # Nothing left unacknowledged: kill without any chance to flush (two seconds after the last commit,
        # time for its acknowledgements to be written), then resume the session.
        time.sleep(2.0)
        ingest.kill()
        probe = (f"coldchain/{sentinel}/reading", sentinel_payload(10**6))
        publisher.publish_all([probe])
        present, resumed = resume_session(service.mqtt_url, service.instance, probe)
        assert present, "the ingest's session was gone: the check below would prove nothing"
        assert resumed == [probe], f"redelivered after the ingest acknowledged: {[(t, p[:80]) for t, p in resumed]}"

        log = ingest.log_text()
        retried = re.findall(r"batch of \d+ failed.*", log)
        c = tally.counts
        categories = sorted((k.removeprefix("category: "), v) for k, v in c.items() if k.startswith("category: "))
        print(f"\nMQTT fuzz: {c['published']} messages in {len(samples)} batches ({fuzzed - started:.1f}s): "
              f"{c['reading messages']} reading messages stored ({c['readings']} readings, "
              f"{c['duplicate readings']} duplicates, {totals['stored rows']} rows), {c['statuses']} statuses, "
              f"{c['cycles']} cycles ({c['duplicate cycles']} duplicates), {c['rejected']} rejected; "
              f"{len(categories)} categories {categories}")
        half = samples[len(samples) // 2]
        print(f"ingest RSS: {baseline['VmRSS'] / 1024:.1f} MB at start, {half / 1024:.1f} MB half-way, "
              f"{final['VmRSS'] / 1024:.1f} MB at the end (growth {growth_mb:+.1f} MB, of which "
              f"{(final['VmRSS'] - half) / 1024:+.1f} MB in the second half; limit {MEMORY_LIMIT_MB} MB), peak VmHWM "
              f"{final['VmHWM'] / 1024:.1f} MB; nothing redelivered to the resumed session")
        assert growth_mb < MEMORY_LIMIT_MB
        assert retried == [], f"batches failed and were retried: {retried[:3]}"
    finally:
        ingest.stop()
        publisher.close()
        watcher.close()


# --------------------------------------------------------------------------------------------------
# The scanner test
# --------------------------------------------------------------------------------------------------

SCANNER_EXAMPLES = 60  # batches of 1-12 frames
# A frame without a suffix ends after this silence. The chunks of one frame are written a few ms apart; the
# gap is wide so that a writer held up on a loaded machine (300 ms was not enough) cannot split a frame.
IDLE_MS = 800
DEDUPE_MS = 60_000  # the longest re-read window: every repeat in this test falls inside it
STATION = "fuzz-1"

@pytest.mark.timeout(300)
def test_fuzzed_frames_on_a_pty_each_become_one_scan_or_a_counted_reread(db: Database, db_url: str, tmp_path: Path):
    now = datetime.now(UTC)
    ctx = Context(actor="fuzz-setup", source="cli", now=now, tz=ZoneInfo(SITE_TZ))
    with db.unit_of_work() as uow:
        catalog.create_location(uow, ctx, code="SR", name="Stockroom", kind="stockroom")
        catalog.create_location(uow, ctx, code="EX1", name="Exam room 1", kind="clinic_room")
        catalog.create_item(uow, ctx, name="Syringe 5 ml", gtins=[GTINS[0]])
        catalog.create_item(uow, ctx, name="Gloves M", gtins=[GTINS[1], gtin8("4601000")])
        catalog.create_item(uow, ctx, name="Gauze swab", hibc_codes=[HIBC])
        uow.commit()
    link = PtyLink(tmp_path / "usb-fuzz-scanner")
    link.open()
    consumer_db = consumer_database(db_url)
    config = ScannerConfig(id=STATION, url=link.path, location="SR", mode="receive", idle_ms=IDLE_MS,
                           dedupe_ms=DEDUPE_MS)
    ingest = ScannerIngest((config,), consumer_db, lambda: datetime.now(UTC), SITE_TZ)
    model = FramingModel()
    written = {"frames": 0, "bytes": 0, "writes": 0, "idle": 0}
    previous = b"#DONE"
    started = time.monotonic()
    rss_start = memory_kib(os.getpid())["VmRSS"]

    def scans(after: int = 0) -> list[tuple[Any, ...]]:
        with db.unit_of_work(write=False) as uow:
            return [tuple(r) for r in uow.session.execute(
                select(Scan.id, Scan.raw, Scan.outcome, Scan.reason, Scan.rereads, Scan.movement_ids, Scan.mode)
                .where(Scan.scanner_id == STATION, Scan.id > after).order_by(Scan.id))]

    seen: list[tuple[int, int]] = []

    def settled() -> bool:
        """True once the rows and the suppressed re-reads are as many as the model says."""
        with db.unit_of_work(write=False) as uow:
            rows = int(uow.session.scalar(select(func.count()).where(Scan.scanner_id == STATION)) or 0)
        seen.append((rows, ingest.readers[0].stats().suppressed))
        return seen[-1] == (len(model.rows), model.suppressed)

    def counts() -> str:
        tail = [(raw[:30], reason) for _, raw, _, reason, *_ in scans()[-12:]]
        return (f"(rows, re-reads) are {seen[-1]}, the model says {(len(model.rows), model.suppressed)}; the last rows "
                f"{tail}, the model's {[(raw[:30], reason) for raw, reason in model.rows[-12:]]}")

    try:
        ingest.start()
        wait_for(lambda: (s := ingest.status.get(STATION)) is not None and s.state is PortState.OPEN, 10,
                 "the station's port open")  # pyserial flushes input at open: write only after it
        reader = ingest.readers[0]

        @settings(FUZZ_SETTINGS, max_examples=SCANNER_EXAMPLES)
        @example(batch=headline_frames())
        @given(batch=SCAN_BATCHES)
        @keep_first_failure
        def one_batch(batch: ScanBatch) -> None:
            nonlocal previous
            before = len(model.rows)
            with db.unit_of_work(write=False) as uow:
                last_id = int(uow.session.scalar(select(func.coalesce(func.max(Scan.id), 0))) or 0)
            chunks, previous = stream(batch, model, previous)
            for chunk in chunks:
                link.write(chunk)
                if batch.pause_ms:
                    time.sleep(batch.pause_ms / 1000)
            written["frames"] += sum(1 for c, _ in batch.frames if c != b"")
            written["bytes"] += sum(map(len, chunks))
            written["writes"] += len(chunks)
            written["idle"] += batch.idle_end
            if batch.idle_end and len(previous) > MAX_FRAME:
                # Its row is written when the cap is reached; the rest is discarded until the silence
                # that ends the frame, which must pass before the next batch (its bytes would be discarded).
                time.sleep(IDLE_MS / 1000 + 0.2)
            wait_for(settled, 30, "every frame recorded, or counted as a re-read", details=counts)
            assert reader.is_alive()
            rows = scans(last_id)
            assert [(raw, reason if reason in READER_REJECTIONS else None) for _, raw, _, reason, *_ in rows] == \
                model.rows[before:]
            wrong = [(raw[:60], outcome, reason) for _, raw, outcome, reason, *_ in rows
                     if outcome not in OUTCOMES or (outcome in ("rejected", "pending")) != bool(reason)]
            assert wrong == [], "rejected or pending without a reason, or applied or a command with one"

        one_batch()
        fuzzed = time.monotonic()
        model.feed(f"END-{uuid.uuid4().hex[:8]}".encode())  # reports the last frame's re-reads
        link.write(model.rows[-1][0].encode() + b"\r")
        wait_for(settled, 30, "the last frame recorded", details=counts)
        rows = scans()
        assert [r[4] for r in rows] == model.rereads, "re-reads counted on other rows than the ones they repeat"
        stats = reader.stats()
        accepted = sum(1 for _, reason in model.rows if reason is None)
        assert reader.is_alive()
        assert (stats.frames, stats.rejected, stats.suppressed, stats.callback_errors, stats.errors, stats.reopens) == \
            (accepted, len(model.rows) - accepted, model.suppressed, 0, 0, 0)

        with db.unit_of_work(write=False) as uow:
            assert ledger.verify(uow) is None
            balances = {(lot, loc): q for lot, loc, q in uow.session.execute(
                select(Balance.lot_id, Balance.location_id, Balance.quantity))}
            sums = {(lot, loc): int(q) for lot, loc, q in uow.session.execute(
                select(Movement.lot_id, Movement.location_id, func.sum(Movement.quantity))
                .group_by(Movement.lot_id, Movement.location_id))}
            movement_ids = set(uow.session.scalars(select(Movement.id)))
        assert min(balances.values(), default=0) >= 0
        assert {k: v for k, v in balances.items() if v or k in sums} == sums
        listed = Counter(m for r in rows for m in r[5])
        assert [m for m, n in listed.items() if n > 1] == [], "a movement listed by two scans"
        assert set(listed) == movement_ids, "movements that no scan lists, or scans listing unknown movements"

        outcomes = Counter(r[2] if r[3] is None or r[2] != "rejected" else f"rejected {r[3]}" for r in rows)
        applied = Counter(r[6] for r in rows if r[2] == "applied")
        rss_end = memory_kib(os.getpid())["VmRSS"]
        print(f"\nscanner fuzz: {written['frames']} frames ({written['bytes']} bytes in {written['writes']} writes) "
              f"in {SCANNER_EXAMPLES} batches, {written['idle']} ended by the idle gap ({fuzzed - started:.1f}s): "
              f"{len(rows)} scans, {model.suppressed} re-reads, {len(movement_ids)} movements; outcomes "
              f"{sorted(outcomes.items())}, applied by mode {sorted(applied.items())}; test process RSS "
              f"{rss_start / 1024:.1f} -> {rss_end / 1024:.1f} MB")
    finally:
        ingest.stop()
        link.close()
        consumer_db.dispose()

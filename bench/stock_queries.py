"""Stock query benchmark: seed a large clinic inventory, then time the hot requests over real HTTP.

    .venv/bin/python bench/stock_queries.py                       # full size, SQLite then PostgreSQL
    .venv/bin/python bench/stock_queries.py --scale 0.01          # quick check (1 % of the sizes)
    .venv/bin/python bench/stock_queries.py --backend postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

At `--scale 1` it seeds 2,000 items (one GTIN each), 200 locations, 1,000,000 lots each with one
balance at one location, 2,000,000 hash-chained movements (one receive per lot, the rest mostly
consumptions, over the last 365 days) and 20,000 par levels; the schema comes from
`inventory-service db upgrade`, never from `create_all`. It then starts `inventory-service api`
(waitress) on a free 127.0.0.1 port, creates a staff token with the CLI and, over one keep-alive
HTTP connection, times `--requests` calls (after `--warmup` untimed ones) of:

    GET  /api/v1/stock?location_id=N               first page, N varies    target p99 < 50 ms
    GET  /api/v1/lots?expiring_within_days=30      first page              target p99 < 50 ms
    GET  /api/v1/reorder-suggestions               the full answer         target p99 < 1 s
    POST /api/v1/stock/consume                     1 unit, FEFO, pairs vary target p99 < 50 ms

Latency is client-side wall time from sending the request to having read the whole body.
p50 is the median, p99 the nearest-rank 99th percentile. PASS/FAIL is informational: the script
exits 0 unless something crashed or the service answered an unexpected status. The PostgreSQL run
creates its own database `bench_stock_<random>` through the admin URL and drops it afterwards
(`--keep` keeps it, and the SQLite file, and prints where they are). Loopback only; not run in CI.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, event, insert, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from inventory_service.db.models import Balance, Item, ItemGtin, LedgerHead, Location, Lot, Movement, ParLevel
from inventory_service.domain.ledger import GENESIS, HASHED_FIELDS, movement_hash

REPO = Path(__file__).resolve().parents[1]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US_PER_DAY = 86_400_000_000
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

FULL = {"items": 2_000, "locations": 200, "lots": 1_000_000, "movements": 2_000_000, "par_levels": 20_000}

# Column order of the generated rows, per table (checked against the mapped tables at start-up).
COLUMNS: dict[str, tuple[str, ...]] = {
    "items": ("id", "name", "sku", "unit", "storage", "created_at"),
    "item_gtins": ("gtin", "item_id"),
    "locations": ("id", "code", "name", "kind", "created_at"),
    "lots": ("id", "item_id", "lot_number", "expiry", "status", "status_reason", "created_at"),
    "balances": ("id", "lot_id", "location_id", "item_id", "quantity", "updated_at", "held"),
    "movements": ("id", "kind", "item_id", "lot_id", "location_id", "quantity", "balance_after", "occurred_at",
                  "actor", "source", "reason", "reference", "prev_hash", "hash"),
    "par_levels": ("id", "item_id", "location_id", "reorder_point", "order_up_to", "lead_time_days",
                   "usable_quantity", "on_hold_quantity", "figures_on"),  # the rollup starts empty
}
TABLES: dict[str, Table] = {
    m.__table__.name: m.__table__  # type: ignore[attr-defined]
    for m in (Item, ItemGtin, Location, Lot, Balance, Movement, ParLevel)
}
CASE_KEYS = ("stock", "lots", "reorder", "consume")
SERIAL_TABLES = ("items", "locations", "lots", "balances", "par_levels")

ITEM_WORDS = ("Syringe", "Needle", "Glove", "Gauze", "Vaccine", "Swab", "Bandage", "Catheter", "Mask", "Saline",
              "Test strip", "Lancet", "Suture", "Dressing", "Cannula", "Insulin", "Antiseptic", "Specimen cup")
ITEM_SIZES = ("small", "medium", "large", "5 ml", "10 ml", "23G", "25G", "adult", "paediatric", "sterile")
UNITS = ("each", "box", "vial", "pack", "ml", "pair")
STORAGE = (("room", 70), ("refrigerated", 22), ("frozen", 6), ("ultra_cold", 2))
LOCATION_KINDS = ("stockroom", "shelf", "storage_unit", "clinic_room")
STAFF = (*(f"nurse-{i:02d}" for i in range(1, 41)), "pharmacy", "front-desk", "manager")
STATIONS = tuple(f"station-{i:02d}" for i in range(1, 21))
# "hold" is not a lot status: the lot stays available and its stock at its location is held (balances.held).
NON_AVAILABLE = (("hold", 0.015, "temperature excursion under review"),
                 ("quarantine", 0.010, "awaiting QA release"),
                 ("recalled", 0.005, "manufacturer recall notice"),
                 ("discarded", 0.010, "damaged, disposed"))


def log(msg: str = "") -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Sizes:
    items: int
    locations: int
    lots: int
    movements: int
    par_levels: int

    @classmethod
    def scaled(cls, scale: float) -> Sizes:
        lots = max(100, round(FULL["lots"] * scale))
        return cls(
            items=max(10, round(FULL["items"] * scale)),
            locations=max(2, round(FULL["locations"] * scale)),
            lots=lots,
            movements=max(lots, round(FULL["movements"] * scale)),  # at least one receive per lot
            par_levels=max(10, round(FULL["par_levels"] * scale)),
        )


@dataclass
class Dataset:
    now: datetime
    today: date
    rows: dict[str, list[tuple[Any, ...]]]
    head: tuple[int, str, int]  # last_id, last_hash, row_count
    consume_pairs: list[tuple[int, int]]  # (item_id, location_id) with usable stock, in random order
    facts: dict[str, Any] = field(default_factory=dict)


def us_of(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(microseconds=1)


def dt_of(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def gtin_for(item_id: int) -> str:
    """A valid GTIN-14 (GS1 check digit: weights 3,1,3,... from the right) for a made-up company prefix."""
    body = f"0735005{item_id:06d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def generate(sizes: Sizes, seed: int, now: datetime) -> Dataset:
    """Build every row in memory (deterministic for a seed and a `now`), hash chain included."""
    rng = random.Random(seed)
    today = now.date()
    now_us = us_of(now)
    year_ago_us = now_us - 365 * US_PER_DAY
    rows: dict[str, list[tuple[Any, ...]]] = {}

    rows["items"] = [
        (i, f"{rng.choice(ITEM_WORDS)} {rng.choice(ITEM_SIZES)} #{i}", f"SKU-{i:06d}", rng.choice(UNITS),
         rng.choices([s for s, _ in STORAGE], weights=[w for _, w in STORAGE])[0],
         dt_of(year_ago_us - rng.randrange(30 * US_PER_DAY)))
        for i in range(1, sizes.items + 1)
    ]
    rows["item_gtins"] = [(gtin_for(i), i) for i in range(1, sizes.items + 1)]
    rows["locations"] = [
        (i, f"LOC-{i:04d}", f"{rng.choice(LOCATION_KINDS).replace('_', ' ').title()} {i}", rng.choice(LOCATION_KINDS),
         dt_of(year_ago_us - rng.randrange(30 * US_PER_DAY)))
        for i in range(1, sizes.locations + 1)
    ]

    # Each item is stocked at 10-50 locations; lots spread over items with a skew (popular items
    # have more lots), each lot sitting at one of its item's locations.
    all_locs = list(range(1, sizes.locations + 1))
    item_locs = [[]] + [
        rng.sample(all_locs, rng.randint(min(10, sizes.locations), min(50, sizes.locations)))
        for _ in range(sizes.items)
    ]
    weights = [rng.lognormvariate(0, 0.7) for _ in range(sizes.items)]
    lot_items = rng.choices(range(1, sizes.items + 1), weights=weights, k=sizes.lots)
    extra_per_lot = [0] * sizes.lots
    for idx in rng.choices(range(sizes.lots), k=sizes.movements - sizes.lots):
        extra_per_lot[idx] += 1

    lots: list[tuple[Any, ...]] = []
    balances: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    lot_item = [0] * (sizes.lots + 1)
    lot_loc = [0] * (sizes.lots + 1)
    for idx in range(sizes.lots):
        lot_id = idx + 1
        item_id = lot_items[idx]
        loc_id = rng.choice(item_locs[item_id])
        lot_item[lot_id], lot_loc[lot_id] = item_id, loc_id
        expiry = today + timedelta(days=rng.randint(-60, 3 * 365))
        end_of_expiry_us = us_of(datetime(expiry.year, expiry.month, expiry.day, tzinfo=UTC)) + US_PER_DAY
        status, reason = "available", None
        r = rng.random()
        for name, p, why in NON_AVAILABLE:
            if r < p:
                status, reason = name, why
                break
            r -= p
        if status == "available" and expiry < today and rng.random() < 0.3:
            status, reason = "expired", "past expiry date"

        received = rng.randint(year_ago_us, min(now_us - 3_600_000_000, end_of_expiry_us - 2 * US_PER_DAY))
        qty = rng.randint(20, 300)
        po = f"PO-{rng.randint(10_000, 99_999)}"
        events.append((received, lot_id, 0, "receive", qty, qty, rng.choice(STAFF), "api", None, po))
        remaining = qty
        last = received
        k = extra_per_lot[idx]
        stamps = sorted(rng.randint(received + 1, min(now_us - 60_000_000, end_of_expiry_us)) for _ in range(k))
        for seq, t in enumerate(stamps, 1):
            r = rng.random()
            actor, source = (rng.choice(STATIONS), "station") if rng.random() < 0.6 else (rng.choice(STAFF), "api")
            why: str | None
            if status == "discarded" and seq == k and remaining > 0:
                kind, delta, why, ref = "dispose", -remaining, reason, None
            elif remaining == 0 or (0.96 <= r < 0.98):
                counted = max(0, remaining + rng.choice((0, 0, 0, -1, 1)))
                kind, delta, why, ref = "count", counted - remaining, f"counted {counted}, on record {remaining}", None
            elif r < 0.90:
                take = remaining if rng.random() < 0.04 else min(remaining, rng.randint(1, 6))
                kind, delta, ref = "consume", -take, f"visit:{rng.randint(1, 9_999_999)}"
                why = None if rng.random() < 0.7 else "patient use"
            elif r < 0.93:
                delta = rng.choice((-2, -1, 1, 2))
                delta = max(delta, -remaining)
                kind, why, ref = "adjust", rng.choice(("damaged", "found on shelf", "data entry correction")), None
                if delta == 0:
                    delta = 1
            elif r < 0.96:
                kind, delta, ref = "dispose", -min(remaining, rng.randint(1, 3)), None
                why = rng.choice(("damaged packaging", "dropped", "cold chain excursion"))
            else:
                kind, delta, ref = "adjust", 1, None
                why = "found on shelf"
            remaining += delta
            events.append((t, lot_id, seq, kind, delta, remaining, actor, source, why, ref))
            last = t
        held = status == "hold"
        if held:
            status, reason = "available", None
        lots.append((lot_id, item_id, f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{lot_id:07d}", expiry, status, reason,
                     dt_of(received)))
        balances.append((lot_id, lot_id, loc_id, item_id, remaining, dt_of(last), held))
    rows["lots"], rows["balances"] = lots, balances
    del lot_items, extra_per_lot

    events.sort()  # by time; (time, lot, seq) is unique, so a lot's own events keep their order
    movements: list[tuple[Any, ...]] = []
    prev = GENESIS
    for mid, (t, lot_id, _seq, kind, delta, after, actor, source, why, ref) in enumerate(events, 1):
        fields = {"id": mid, "kind": kind, "item_id": lot_item[lot_id], "lot_id": lot_id,
                  "location_id": lot_loc[lot_id], "quantity": delta, "balance_after": after,
                  "occurred_at": dt_of(t), "actor": actor, "source": source, "reason": why, "reference": ref}
        digest = movement_hash(prev, fields)
        movements.append((*(fields[c] for c in COLUMNS["movements"][:12]), prev, digest))
        prev = digest
    del events
    rows["movements"] = movements
    assert tuple(COLUMNS["movements"][:12]) == HASHED_FIELDS

    # Par levels on (item, location) pairs that have balances, a sizeable share at or below the
    # reorder point (usable = available lots still in date after the lead time, as the service counts).
    usable_now: dict[tuple[int, int], int] = {}
    for (_id, _lot, loc, item, qty, _u, held), lot in zip(balances, lots, strict=True):
        if lot[4] == "available" and not held and lot[3] >= today:
            usable_now[(item, loc)] = usable_now.get((item, loc), 0) + qty
        else:
            usable_now.setdefault((item, loc), 0)
    pairs = sorted(usable_now)
    par_pairs = rng.sample(pairs, min(sizes.par_levels, len(pairs)))
    lead = {p: rng.choice((0, 0, 1, 2, 3, 7, 14)) for p in par_pairs}
    usable_lead = dict.fromkeys(par_pairs, 0)
    for (_id, _lot, loc, item, qty, _u, held), lot in zip(balances, lots, strict=True):
        p = (item, loc)
        if p in usable_lead and lot[4] == "available" and not held and lot[3] > today + timedelta(days=lead[p]):
            usable_lead[p] += qty
    par_rows = []
    below = 0
    for pid, p in enumerate(par_pairs, 1):
        usable = usable_lead[p]
        # about a third at or below the reorder point, the rest comfortably above it
        low = rng.random() < 0.35
        reorder_point = usable + rng.randint(0, 50) if low else int(usable * rng.uniform(0.05, 0.6))
        below += usable <= reorder_point
        par_rows.append((pid, p[0], p[1], reorder_point, reorder_point + rng.randint(10, 300), lead[p],
                         None, None, None))
    rows["par_levels"] = par_rows

    consume_pairs = [p for p in pairs if usable_now[p] >= 20]
    rng.shuffle(consume_pairs)
    expiring = sum(1 for lot in lots if today <= lot[3] <= today + timedelta(days=30) and lot[4] != "discarded")
    kinds: dict[str, int] = {}
    for m in movements:
        kinds[m[1]] = kinds.get(m[1], 0) + 1
    facts = {
        "pairs with balances": len(pairs), "par levels at/below reorder point": below,
        "lots expiring within 30 days": expiring, "pairs with usable stock >= 20": len(consume_pairs),
        "balances at zero": sum(1 for b in balances if b[4] == 0),
        "lots not available (stored status)": sum(1 for lot in lots if lot[4] != "available"),
        "balances held after an excursion": sum(1 for b in balances if b[6]),
        "movements by kind": ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])),
    }
    return Dataset(now, today, rows, (len(movements), prev, len(movements)), consume_pairs, facts)


# ------------------------------------------------------------------------------------------ seeding


def batched(rows: Sequence[tuple[Any, ...]], size: int) -> Iterator[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def seed_sqlite(url: str, data: Dataset) -> dict[str, float]:
    """One transaction, bulk Core executemany through the mapped tables (UTCDateTime's storage format)."""
    engine = create_engine(url, poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=MEMORY")  # the service switches back to WAL; so do we, below
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-2000000")  # 2 GB page cache while the indexes are built
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    timings: dict[str, float] = {}
    try:
        with engine.begin() as conn:
            for name, rows in data.rows.items():
                t0 = time.perf_counter()
                table, cols = TABLES[name], COLUMNS[name]
                for chunk in batched(rows, 20_000):
                    conn.execute(insert(table), [dict(zip(cols, r, strict=True)) for r in chunk])
                timings[name] = time.perf_counter() - t0
                log(f"  seeded {name:<11} {len(rows):>10,} rows  {timings[name]:8.1f} s")
            t0 = time.perf_counter()
            last_id, last_hash, count = data.head
            conn.execute(update(LedgerHead.__table__).where(LedgerHead.__table__.c.id == 1)
                         .values(last_id=last_id, last_hash=last_hash, row_count=count))
            timings["ledger_head"] = time.perf_counter() - t0
            t0 = time.perf_counter()
        timings["commit"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        timings["ANALYZE"] = time.perf_counter() - t0
    finally:
        engine.dispose()
    return timings


def seed_postgresql(url: str, data: Dataset) -> dict[str, float]:
    """psycopg COPY into the migrated tables, sequences moved past the seeded ids, then VACUUM ANALYZE."""
    engine = create_engine(url, poolclass=NullPool)
    timings: dict[str, float] = {}
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET synchronous_commit = off")
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            raw = conn.connection.driver_connection
            for name, rows in data.rows.items():
                t0 = time.perf_counter()
                cols = COLUMNS[name]
                with raw.cursor() as cur, cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
                timings[name] = time.perf_counter() - t0
                log(f"  seeded {name:<11} {len(rows):>10,} rows  {timings[name]:8.1f} s")
            t0 = time.perf_counter()
            last_id, last_hash, count = data.head
            conn.execute(update(LedgerHead.__table__).where(LedgerHead.__table__.c.id == 1)
                         .values(last_id=last_id, last_hash=last_hash, row_count=count))
            for name in SERIAL_TABLES:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {name}))"))
            timings["ledger_head"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            conn.commit()
            timings["commit"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # VACUUM as well as ANALYZE: sets the visibility map (as autovacuum would on a live system)
        # and keeps autovacuum from starting on the fresh tables in the middle of the timings.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
        timings["VACUUM ANALYZE"] = time.perf_counter() - t0
    finally:
        engine.dispose()
    return timings


# ------------------------------------------------------------------------------------ service runs


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    cmd = [sys.executable, "-m", "inventory_service.cli", *args]
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`inventory-service {' '.join(args)}` failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(database_url: str, data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env.update(INVENTORY_DATABASE_URL=database_url, INVENTORY_DATA_DIR=str(data_dir),
               INVENTORY_BIND=f"127.0.0.1:{port}", INVENTORY_MQTT_URL=f"mqtt://127.0.0.1:{free_port()}",
               INVENTORY_LOG_LEVEL="WARNING", INVENTORY_TIMEZONE="UTC")
    return env


class Server:
    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.port, self.log_path = port, log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "inventory_service.cli", "api"], env=env, cwd=REPO,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/v1/health")
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                if resp.status == 200 and json.loads(body).get("database") == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the API did not become healthy in {timeout} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self._log.close()


class Client:
    """One keep-alive HTTP/1.1 connection; times request-sent to body-read."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes, float]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        self.conn.request(method, path, body=payload, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        elapsed = time.perf_counter() - t0
        return resp.status, data, elapsed

    def close(self) -> None:
        self.conn.close()


@dataclass
class Case:
    key: str
    label: str
    method: str
    target_ms: float
    expect: int
    request: Callable[[int], tuple[str, dict[str, Any] | None]]  # call number -> (path, body)
    count: Callable[[dict[str, Any]], int]  # rows in an answer


@dataclass
class Result:
    case: Case
    times_ms: list[float]
    rows: list[int]
    unexpected: list[str]

    def pct(self, p: float) -> float:
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def cases(data: Dataset, sizes: Sizes, seed: int, warmup: int, n: int) -> list[Case]:
    rng = random.Random(seed + 1)
    locations = [rng.randint(1, sizes.locations) for _ in range(warmup + n)]
    need = warmup + n
    pairs = data.consume_pairs
    targets = pairs[:need] if len(pairs) >= need else [pairs[i % len(pairs)] for i in range(need)]
    return [
        Case("stock", "GET /api/v1/stock?location_id=N", "GET", 50, 200,
             lambda i: (f"/api/v1/stock?location_id={locations[i]}", None), lambda j: len(j["items"])),
        Case("lots", "GET /api/v1/lots?expiring_within_days=30", "GET", 50, 200,
             lambda i: ("/api/v1/lots?expiring_within_days=30", None), lambda j: len(j["items"])),
        Case("reorder", "GET /api/v1/reorder-suggestions", "GET", 1000, 200,
             lambda i: ("/api/v1/reorder-suggestions", None), lambda j: len(j["items"])),
        Case("consume", "POST /api/v1/stock/consume (1, FEFO)", "POST", 50, 201,
             lambda i: ("/api/v1/stock/consume", {"item_id": targets[i][0], "location_id": targets[i][1],
                                                  "quantity": 1, "reference": f"bench:{i}"}),
             lambda j: len(j["movements"])),
    ]


def run_case(client: Client, case: Case, warmup: int, n: int) -> Result:
    result = Result(case, [], [], [])
    for i in range(warmup + n):
        path, body = case.request(i)
        status, data, elapsed = client.call(case.method, path, body)
        if status != case.expect:
            result.unexpected.append(f"{status} {data[:300]!r}")
        elif i >= warmup:
            result.rows.append(case.count(json.loads(data)))
        if i >= warmup:
            result.times_ms.append(elapsed * 1000)
    return result


# -------------------------------------------------------------------------------------- reporting


def print_results(backend: str, sizes_line: str, results: list[Result]) -> None:
    log()
    log(f"== {backend}: {sizes_line}")
    header = (f"{'request':<42} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'target':>11} {'result':>6}"
              f" {'rows/answer':>11}")
    log(header)
    log("-" * len(header))
    for r in results:
        rows = f"{statistics.mean(r.rows):.0f}" if r.rows else "-"
        verdict = "ERROR" if r.unexpected else ("PASS" if r.pct(99) < r.case.target_ms else "FAIL")
        target = f"<{r.case.target_ms:.0f} ms" if r.case.target_ms < 1000 else f"<{r.case.target_ms / 1000:.0f} s"
        log(f"{r.case.label:<42} {len(r.times_ms):>4} {r.pct(50):>8.1f} {r.pct(99):>8.1f} {max(r.times_ms):>8.1f}"
            f" {'p99 ' + target:>11} {verdict:>6} {rows:>11}")
        for u in r.unexpected[:3]:
            log(f"    unexpected answer: {u}")


# ------------------------------------------------------------------------------------------- main


def git_head() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def pg_version(admin_url: str) -> str:
    engine = create_engine(admin_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()


def create_pg_database(admin_url: str) -> tuple[str, str]:
    name = f"bench_stock_{secrets.token_hex(4)}"
    engine = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()


def check_ledger_head(url: str, expected_count: int) -> str:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            last_id, count = conn.execute(text("SELECT last_id, row_count FROM ledger_head WHERE id = 1")).one()
            rows = conn.execute(text("SELECT count(*) FROM movements")).scalar()
    finally:
        engine.dispose()
    if not (last_id == count == rows == expected_count):
        raise RuntimeError(f"ledger head ({last_id}, {count}) / {rows} rows, expected {expected_count}")
    return f"ledger head at {last_id:,} = movements row count (seeded + consumes)"


def run_backend(backend: str, args: argparse.Namespace, sizes: Sizes, data: Dataset, workdir: Path) -> bool:
    """Seed, serve, time. Returns True when every answer had the expected status."""
    log()
    log(f"#### {backend}")
    data_dir = workdir / backend
    data_dir.mkdir(parents=True, exist_ok=True)
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite:///{data_dir / 'bench.db'}"
    else:
        pg_name, url = create_pg_database(args.pg_url)
        log(f"database {pg_name}")
    server: Server | None = None
    client: Client | None = None
    try:
        port = free_port()
        env = service_env(url, data_dir, port)
        t0 = time.perf_counter()
        cli(env, "db", "upgrade")
        log(f"  schema: inventory-service db upgrade      {time.perf_counter() - t0:8.1f} s")
        t0 = time.perf_counter()
        timings = seed_sqlite(url, data) if backend == "sqlite" else seed_postgresql(url, data)
        total = time.perf_counter() - t0
        for k in ("ledger_head", "commit", "ANALYZE", "VACUUM ANALYZE"):
            if k in timings:
                log(f"  {k:<40} {timings[k]:8.1f} s")
        log(f"  seeding total (incl. statistics)         {total:8.1f} s")
        if backend == "sqlite":
            log(f"  database file {os.path.getsize(data_dir / 'bench.db') / 2**20:,.0f} MiB")

        server = Server(env, port, data_dir / "api.log")
        t0 = time.perf_counter()
        server.wait_healthy()
        log(f"  API up on 127.0.0.1:{port} in {time.perf_counter() - t0:.1f} s")
        token = cli(env, "token", "create", "--name", "bench", "--role", "staff", timeout=60).split()[0]
        client = Client(port, token)
        if "reorder" in args.cases:
            # Seeded par levels carry no stored figures (as right after the migration that added
            # them): the first answer computes every one; then the hourly job stores today's figures.
            status, _body, secs = client.call("GET", "/api/v1/reorder-suggestions")
            log(f"  reorder suggestions before any stored figures: {secs * 1000:,.0f} ms (HTTP {status})")
            t0 = time.perf_counter()
            cli(env, "scheduler", "--run-once", "reorder_check", timeout=3600)
            log(f"  reorder_check job (stores figures of {len(data.rows['par_levels']):,} par levels) "
                f"{time.perf_counter() - t0:8.1f} s")
        results = []
        load_before = os.getloadavg()
        for case in cases(data, sizes, args.seed, args.warmup, args.requests):
            if case.key not in args.cases:
                continue
            t0 = time.perf_counter()
            results.append(run_case(client, case, args.warmup, args.requests))
            log(f"  timed {case.label:<42} {time.perf_counter() - t0:8.1f} s")
        load_after = os.getloadavg()
        client.close()
        client = None
        consumes = sum(sum(r.rows) for r in results if r.case.method == "POST")
        if "consume" in args.cases:
            consumes += args.warmup  # warm-up consumes also appended one movement each (checked below)
        log("  " + check_ledger_head(url, data.head[2] + consumes))
        if args.verify_ledger:
            t0 = time.perf_counter()
            out = cli(env, "audit", "verify", timeout=3600).strip()
            log(f"  inventory-service audit verify: {out} ({time.perf_counter() - t0:.1f} s)")
        server.stop()
        server = None

        rows = data.rows
        print_results(backend, f"{len(rows['items']):,} items, {len(rows['locations']):,} locations, "
                      f"{len(rows['lots']):,} lots, {len(rows['balances']):,} balances, "
                      f"{len(rows['movements']):,} movements, {len(rows['par_levels']):,} par levels", results)
        log("seeding (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()) + f"; total {total:.1f}")
        log(f"1-min load average {load_before[0]:.2f} before the timings, {load_after[0]:.2f} after "
            f"({os.cpu_count()} CPUs; anything else running on the machine shows in the figures)")
        return not any(r.unexpected for r in results)
    finally:
        if client is not None:
            client.close()
        if server is not None:
            log(f"  API log tail:\n{server.tail()}")
            server.stop()
        if pg_name is not None:
            if args.keep:
                log(f"kept PostgreSQL database: {url}")
            else:
                drop_pg_database(args.pg_url, pg_name)
        if backend == "sqlite" and args.keep:
            log(f"kept SQLite database: {url}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--scale", type=float, default=1.0, help="1.0 = the full sizes; e.g. 0.01 for a quick check")
    p.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    p.add_argument("--warmup", type=int, default=5, help="untimed requests per endpoint first")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help="admin URL; a bench_stock_<random> database is made")
    p.add_argument("--cases", default=",".join(CASE_KEYS),
                   help=f"comma-separated subset of {','.join(CASE_KEYS)} (default: all)")
    p.add_argument("--keep", action="store_true", help="keep the databases (and print their URLs)")
    p.add_argument("--seed", type=int, default=20240601, help="random seed of the generated data")
    p.add_argument("--verify-ledger", action="store_true",
                   help="run `inventory-service audit verify` after the timings (walks the whole chain)")
    p.add_argument("--workdir", type=Path, default=None, help="where the SQLite file and API logs go (default: temp)")
    args = p.parse_args(argv)
    if args.scale <= 0 or args.requests < 1 or args.warmup < 0:
        p.error("--scale must be > 0, --requests >= 1, --warmup >= 0")
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if not args.cases or set(args.cases) - set(CASE_KEYS):
        p.error(f"--cases: choose from {','.join(CASE_KEYS)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for name, cols in COLUMNS.items():
        assert set(cols) == set(TABLES[name].c.keys()), (name, cols, TABLES[name].c.keys())
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    sizes = Sizes.scaled(args.scale)
    log(f"stock query benchmark: {' '.join(sys.argv)}")
    log(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
        + (f", PostgreSQL {pg_version(args.pg_url)}" if "postgresql" in backends else ""))
    log(f"sizes (scale {args.scale:g}): {sizes}; commit {git_head()}")

    now = datetime.now(UTC)
    t0 = time.perf_counter()
    data = generate(sizes, args.seed, now)
    log(f"generated the data set and its hash chain in {time.perf_counter() - t0:.1f} s (today {data.today})")
    for k, v in data.facts.items():
        log(f"  {k}: {v:,}" if isinstance(v, int) else f"  {k}: {v}")

    made_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="bench_stock_")) if made_workdir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    ok = True
    try:
        for backend in backends:
            ok = run_backend(backend, args, sizes, data, workdir) and ok
    finally:
        if made_workdir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep:
            log(f"kept work directory {workdir}")
    if not ok:
        log("some requests got an unexpected status (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

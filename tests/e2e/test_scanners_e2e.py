"""End to end: three simulated scanners on ptys feed 300 scripted GS1/HIBC/GTIN frames with real-world
faults into the running service (`inventory-service run`), and afterwards the scans resource and the
ledger match the script exactly.

Faults (ARCHITECTURE §4 "Serial scanners", reference/barcodes.md): CR, LF, CRLF and no terminator
(idle-gap framing), AIM prefixes, GS lost, doubled, leading and trailing, chunked partial writes,
presentation re-reads, junk text and line noise, an over-long frame, and one unplug/replug per scanner
(the pty closed and a new one behind the same /dev/serial/by-id-like symlink), one of them cutting a
frame short. The script and the expected outcome of every frame are in `scan_script.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from firmware_sim.scanner import PtyLink, ScannerProfile, SimulatedScanner
from inventory_service.config import Settings
from inventory_service.db.engine import make_engine
from inventory_service.db.uow import Database
from inventory_service.services import catalog
from inventory_service.services.context import Context
from tests.e2e.scan_script import ITEMS, LOCATIONS, SCANNERS, ScannerDef, Script, Step, build
from tests.support.services import free_port
from tests.support.wait import wait_for

pytestmark = pytest.mark.timeout(240)

CLI = [sys.executable, "-m", "inventory_service.cli"]
TIMEZONE = "Europe/Berlin"


# --- the service process, over loopback HTTP ------------------------------------------------------------

class Api:
    def __init__(self, base: str, token: str, log: Path) -> None:
        self.base, self.token, self.log = base, token, log

    def get(self, path: str, **query: Any) -> Any:
        url = f"{self.base}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        status, body = http("GET", url, token=self.token)
        assert status == 200, (url, status, body)
        return body

    def all(self, path: str, **query: Any) -> list[dict[str, Any]]:
        """Every item of a paginated list, following `next`."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.get(path, limit=500, **query, **({"cursor": cursor} if cursor else {}))
            items += page["items"]
            cursor = page["next"]
            if not cursor:
                return items

    def scans(self, scanner_id: str) -> list[dict[str, Any]]:
        return self.all("/api/v1/scans", scanner_id=scanner_id, after_id=0)

    def port_state(self, scanner_id: str) -> str:
        return str(self.get(f"/api/v1/scanners/{scanner_id}")["port_state"])

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read())
        finally:
            e.close()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def start_service(env: dict[str, str], base: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen([*CLI, "run"], env=env, stdout=out, stderr=subprocess.STDOUT)

    def state() -> str:
        """"up" once the health check answers, "exited" if the process ended."""
        if proc.poll() is not None:
            return "exited"
        try:
            status, _ = http("GET", f"{base}/api/v1/health")
        except OSError:
            return ""
        return "up" if status == 200 else ""

    with contextlib.suppress(AssertionError):
        if wait_for(state, 30, "the service to answer its health check", 0.1) == "up":
            return proc
    proc.kill()
    proc.wait(timeout=10)
    raise AssertionError(f"service did not start: {log.read_text(errors='replace')}")


def seed(database_url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Items (GTINs, HIBC codes) and locations, which the stations need before `run` registers them."""
    db = Database(make_engine(database_url))
    ctx = Context(actor="e2e-setup", source="cli", now=datetime.now(UTC), tz=ZoneInfo(TIMEZONE))
    try:
        with db.unit_of_work() as uow:
            items = {key: catalog.create_item(uow, ctx, name=item.name, gtins=[item.gtin] if item.gtin else [],
                                              hibc_codes=[item.hibc] if item.hibc else []).id
                     for key, item in ITEMS.items()}
            locations = {loc.code: catalog.create_location(uow, ctx, code=loc.code, name=loc.name, kind=loc.kind).id
                         for loc in LOCATIONS}
            uow.commit()
    finally:
        db.dispose()
    return items, locations


# --- playing one scanner's script -------------------------------------------------------------------------

def send(sim: SimulatedScanner, scanner: ScannerDef, step: Step, after_unterminated: bool) -> None:
    """One frame (with its re-reads) as `step.fault` says; a frame after one without a suffix waits for
    the silence that ends it."""
    f = step.fault
    sim.profile = ScannerProfile(
        terminator=f.terminator, aim=f.aim, gs=f.gs, chunk_size=f.chunk_size, chunk_delay_ms=1.0,
        duplicates=f.duplicates, duplicate_interval_ms=20.0,
        gap_ms=scanner.silence_ms if after_unterminated else 10.0, receiver_idle_ms=scanner.silence_ms / 2,
    )
    sim.scan(step.text)


def play(api: Api, scanner: ScannerDef, sim: SimulatedScanner, steps: list[Step]) -> None:
    sent = 0  # frames that must become scans
    unterminated = False
    for step in steps:
        if step.action == "pause":
            time.sleep(step.seconds)
        elif step.action == "unplug":
            # Everything sent so far must have been read before the pty goes away.
            wait_for(lambda n=sent: len(api.scans(scanner.id)) >= n, 20, f"{scanner.id}: {sent} scans before unplug",
                     details=api.log_tail)
            if step.expect is not None:  # a frame cut short: sent without its end, then the cable is pulled
                send(sim, scanner, step, unterminated)
                time.sleep(0.3)
                sent += 1
            sim.unplug()
            wait_for(lambda: api.port_state(scanner.id) == "disconnected", 20, f"{scanner.id} disconnected",
                     details=api.log_tail)
            time.sleep(0.2)
            sim.replug()
            # pyserial flushes its input when it opens the port: write only once it is open again.
            wait_for(lambda: api.port_state(scanner.id) == "open", 20, f"{scanner.id} open again", details=api.log_tail)
            unterminated = False
        else:
            send(sim, scanner, step, unterminated)
            unterminated = step.fault.terminator == "none"
            sent += 1


# --- the test ----------------------------------------------------------------------------------------------

def test_three_scanners_feed_300_faulty_frames_and_the_ledger_matches_the_script(tmp_path: Path, mqtt_url: str):
    script: Script = build()
    assert script.frames == 300
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "INVENTORY_DATA_DIR": str(tmp_path), "INVENTORY_BIND": f"127.0.0.1:{port}",
           "INVENTORY_MQTT_URL": mqtt_url, "INVENTORY_TIMEZONE": TIMEZONE}
    env.pop("INVENTORY_DATABASE_URL", None)
    env.pop("INVENTORY_SCANNERS", None)
    upgrade = cli(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    created = cli(env, "token", "create", "--name", "e2e-admin", "--role", "admin")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    item_ids, location_ids = seed(Settings.from_env(env).database_url)

    # Each scanner behind a stable symlink, like /dev/serial/by-id/: a replug re-points it at a new pty.
    sims = {s.id: SimulatedScanner(PtyLink(tmp_path / f"usb-scanner-{s.id}")) for s in SCANNERS}
    env["INVENTORY_SCANNERS"] = json.dumps([
        {"id": s.id, "url": str(tmp_path / f"usb-scanner-{s.id}"), "location": s.location, "mode": s.mode,
         "idle_ms": s.idle_ms, "dedupe_ms": s.dedupe_ms} for s in SCANNERS])
    api = Api(base, token, tmp_path / "service.log")
    proc: subprocess.Popen[bytes] | None = None
    try:
        for sim in sims.values():
            sim.open()
        proc = start_service(env, base, api.log)
        for s in SCANNERS:
            wait_for(lambda s=s: api.port_state(s.id) == "open", 20, f"{s.id} open", details=api.log_tail)
        with ThreadPoolExecutor(max_workers=len(SCANNERS)) as pool:
            playing = [pool.submit(play, api, s, sims[s.id], script.steps[s.id]) for s in SCANNERS]
            for future in playing:
                future.result()
        for s in SCANNERS:
            expected_count = len(script.expected(s.id))
            wait_for(lambda s=s, n=expected_count: len(api.scans(s.id)) >= n, 60, f"{s.id}: {expected_count} scans",
                     details=api.log_tail)
        time.sleep(0.5)  # anything extra (a frame split in two, a re-read let through) would show up by now
        scans = {s.id: api.scans(s.id) for s in SCANNERS}
        all_scans = api.all("/api/v1/scans")
        stations = {row["id"]: row for row in api.get("/api/v1/scanners")["items"]}
        stock = {code: api.all("/api/v1/stock", location_id=location_id) for code, location_id in location_ids.items()}
        movements = api.all("/api/v1/movements")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        for sim in sims.values():
            sim.link.close()

    # The scans resource: every frame exactly once, in order, with the expected outcome.
    assert len(all_scans) == script.frames
    for s in SCANNERS:
        rows, expected = scans[s.id], script.expected(s.id)
        assert len(rows) == len(expected), f"{s.id}: {len(rows)} scans for {len(expected)} frames"
        assert [(i, r["raw"]) for i, r in enumerate(rows)] == [(i, e.raw) for i, e in enumerate(expected)]
        assert [(i, r["raw"], r["outcome"], r["reason"]) for i, r in enumerate(rows)] == \
            [(i, e.raw, e.outcome, e.reason) for i, e in enumerate(expected)]
        assert [(i, r["raw"], r["rereads"]) for i, r in enumerate(rows)] == \
            [(i, e.raw, e.rereads) for i, e in enumerate(expected)]
        assert [(i, r["raw"], len(r["movement_ids"])) for i, r in enumerate(rows)] == \
            [(i, e.raw, e.movements) for i, e in enumerate(expected)]
        assert [(i, r["lot_number"]) for i, r in enumerate(rows) if expected[i].lot] == \
            [(i, e.lot) for i, e in enumerate(expected) if e.lot]
        station, final = stations[s.id], script.stations[s.id]
        assert (station["mode"], station["pending_quantity"], station["target_location"], station["count_open"]) == \
            (final.mode, final.pending, final.target, final.count_open)
        assert (station["location_id"], station["port_state"]) == (location_ids[s.location], "open")

    # The ledger: the movements are exactly those the scans list, each listed once.
    by_id = {m["id"]: m for m in movements}
    listed = [mid for s in SCANNERS for r in scans[s.id] for mid in r["movement_ids"]]
    assert len(listed) == len(set(listed)), "a movement is listed by two scans (applied twice)"
    assert set(listed) == set(by_id)
    for s in SCANNERS:
        for r in scans[s.id]:
            if r["outcome"] == "applied":
                assert {by_id[mid]["item_id"] for mid in r["movement_ids"]} <= {r["item_id"]}, r
    assert Counter(m["kind"] for m in movements) == script.model.movements
    assert len(movements) == sum(script.model.movements.values())

    # Balances per (location, lot).
    got = {(code, row["item_id"], row["lot_number"], row["expiry"]): row["quantity"]
           for code, rows in stock.items() for row in rows}
    want = {(loc, item_ids[item], lot, expiry.isoformat()): qty
            for (loc, item, lot, expiry), qty in script.model.expected_balances().items()}
    assert got == want

    verified = cli(env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr

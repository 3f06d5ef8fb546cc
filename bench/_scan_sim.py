"""Scanner side of `bench/scan_latency.py`, run as its own process so the simulated scanners never
share a GIL with the ingest being measured.

    python bench/_scan_sim.py --links DIR --scanners 10 --rate 10 --seconds 60 --gtin 09501101530003 --expiry 271130

Protocol (one JSON object per line; stdout is the channel, diagnostics go to stderr):

1. The child opens one `firmware_sim.scanner.PtyLink` per scanner (symlink `DIR/scanner-NN` to the
   pty slave, like /dev/serial/by-id/) and prints {"paths": [...]}.
2. The parent starts its readers on those paths and, once every port is open, writes
   {"start_at": T} to the child's stdin, T being a `time.monotonic()` instant (CLOCK_MONOTONIC is
   system-wide on Linux, so both processes share the time base).
3. Frame j (0-based, all scanners merged) is due at T + j / (scanners * rate), from scanner j % scanners:
   a fixed schedule, so late frames do not push later ones back, and the scanners are staggered by
   1 / (scanners * rate). Each frame is a unique GS1 label `]d2 01<gtin> 17<expiry> 10<lot>` + CR,
   written with one write; `time.monotonic()` is read as soon as the write returned (last byte written).
4. The child prints {"sent": [[text, written_monotonic, due_monotonic], ...]} and keeps the ptys open
   until it reads {"close": true} (or EOF), so no reader sees a hang-up while frames are in flight.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_sim.scanner import PtyLink, ScannerProfile, SimulatedScanner

AIM = "]d2"


def body(gtin: str, expiry: str, lot: str) -> str:
    """The GS1 element string; the reader sees AIM + body (the CR terminator removed)."""
    return f"01{gtin}17{expiry}10{lot}"


def lot_of(scanner: int, seq: int) -> str:
    return f"B{scanner:02d}-{seq:07d}"  # AI 10 allows 20 characters


def send(line: dict) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", required=True)
    ap.add_argument("--scanners", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--gtin", required=True)
    ap.add_argument("--expiry", required=True, help="YYMMDD")
    args = ap.parse_args()

    profile = ScannerProfile(terminator="cr", aim=AIM, gs="keep", chunk_size=0, gap_ms=0.0)
    sims = [SimulatedScanner(PtyLink(Path(args.links) / f"scanner-{i:02d}"), profile) for i in range(args.scanners)]
    for sim in sims:
        sim.open()
    try:
        send({"paths": [sim.link.path for sim in sims]})  # type: ignore[attr-defined]
        line = sys.stdin.readline()
        if not line:
            return 1
        start_at = float(json.loads(line)["start_at"])
        n = args.scanners
        total = round(args.seconds * args.rate) * n
        step = 1.0 / (n * args.rate)
        sent: list[list[object]] = []
        for j in range(total):
            scanner, seq = j % n, j // n
            due = start_at + j * step
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            data = body(args.gtin, args.expiry, lot_of(scanner, seq))
            sims[scanner].scan(data)  # one os.write of AIM + data + CR; returns once it was written
            sent.append([AIM + data, time.monotonic(), due])
        send({"sent": sent})
        while True:  # keep the ptys open until the parent has stopped its readers
            line = sys.stdin.readline()
            if not line or json.loads(line).get("close"):
                break
    finally:
        for sim in sims:
            sim.link.close()  # not sim.close(): no need to wait out a gap
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m firmware_sim fridge ...`: arguments and runner (entry `fridge` of firmware_sim.__main__).

    python -m firmware_sim fridge --sensor fridge-1 --broker mqtt://127.0.0.1:1883 --scenario door_open \\
        --door-at 60 --door-minutes 45 --duration-min 180 --speed 0
    python -m firmware_sim fridge --sensor f2 --broker mqtt://u:p@host --scenario compressor_failure,outage \\
        --fault-at 120 --outage-at 300 --outage-minutes 90 --speed 2000 --kill
"""

from __future__ import annotations

import argparse
import sys
import zlib
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from .model import FridgeModel
from .publisher import SimulatedFridge
from .series import SCENARIOS, make_scenario


def parse_broker(url: str) -> tuple[str, int, str | None, str | None, bool]:
    """`mqtt://user:pass@host:port` (`mqtts://` for TLS) -> host, port, username, password, tls."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"unsupported broker scheme {parts.scheme!r} (use mqtt:// or mqtts://)")
    tls = parts.scheme in ("mqtts", "ssl")
    return (parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883),
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None, tls)


def _aware(text: str) -> datetime:
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if ts.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone offset")
    return ts


def add_fridge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sensor", required=True, help="sensor id: topics coldchain/<id>/reading and /status")
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://user:pass@host:port or mqtts://")
    parser.add_argument("--scenario", action="append", default=None, metavar="NAME[,NAME]",
                        help=f"one of {', '.join(SCENARIOS)}; repeat or comma-separate to combine (default normal)")
    parser.add_argument("--door-at", type=float, help="door opens at this simulated minute (default 60)")
    parser.add_argument("--door-minutes", type=float, help="door stays open this long (default 45)")
    parser.add_argument("--fault-at", type=float, help="compressor or thermostat fault from this minute (default 60)")
    parser.add_argument("--fault-minutes", type=float, help="fault lasts this long (default: to the end)")
    parser.add_argument("--outage-at", type=float, help="network or power outage from this minute (default 60)")
    parser.add_argument("--outage-minutes", type=float, help="outage lasts this long (default 60)")
    parser.add_argument("--duration-min", type=float, default=1440.0, help="simulated minutes (default a day)")
    parser.add_argument("--interval-s", type=float, default=300.0, help="logging interval (default 300)")
    parser.add_argument("--speed", type=float, default=0.0,
                        help="simulated seconds per wall second; 0: as fast as the broker acknowledges")
    parser.add_argument("--start", type=_aware, help="first reading's time, RFC 3339 with zone "
                        "(default: so that the last reading is stamped when it is sent, never in the future)")
    parser.add_argument("--clock-offset-s", type=float, default=0.0, help="logger clock error added to every ts")
    parser.add_argument("--seq-start", type=int, default=0)
    parser.add_argument("--seed", type=int, help="noise seed (default: derived from the sensor id)")
    parser.add_argument("--setpoint", type=float, default=5.0, help="thermostat setpoint in °C")
    parser.add_argument("--ambient", type=float, default=22.0, help="room temperature in °C")
    parser.add_argument("--battery", type=float, default=100.0, help="battery percent at the start")
    parser.add_argument("--buffer-size", type=int, default=4000, help="readings the logger keeps while offline")
    parser.add_argument("--client-id", help="MQTT client id (default fridge-<sensor>)")
    parser.add_argument("--kill", action="store_true", help="end without DISCONNECT, so the Last Will fires")


def run_fridge(args: argparse.Namespace) -> int:
    host, port, username, password, tls = parse_broker(args.broker)
    scenario = make_scenario(",".join(args.scenario or ["normal"]), door_at=args.door_at,
                             door_minutes=args.door_minutes, fault_at=args.fault_at,
                             fault_minutes=args.fault_minutes, outage_at=args.outage_at,
                             outage_minutes=args.outage_minutes)
    seed = args.seed if args.seed is not None else zlib.crc32(args.sensor.encode())
    fridge = SimulatedFridge(args.sensor, host, port, username, password, interval_s=args.interval_s,
                             start=args.start, speed=args.speed, tls=tls, client_id=args.client_id,
                             buffer_size=args.buffer_size)
    print(f"fridge {args.sensor}: {scenario.name} for {args.duration_min:g} min every {args.interval_s:g} s "
          f"to {host}:{port}", file=sys.stderr, flush=True)
    try:
        summary = fridge.run(scenario, timedelta(minutes=args.duration_min), seed=seed, seq_start=args.seq_start,
                             clock_offset_s=args.clock_offset_s, kill=args.kill, battery_pct=args.battery,
                             model=FridgeModel(setpoint_c=args.setpoint, ambient_c=args.ambient, seed=seed))
    except (OSError, TimeoutError) as exc:  # ConnectionError is an OSError
        s = fridge.summary
        print(f"fridge {args.sensor}: {exc} ({s.published} readings published, last seq {s.last_seq})",
              file=sys.stderr)
        return 1
    print(f"fridge {args.sensor}: {summary.line()}", flush=True)
    return 0

"""`python -m firmware_sim <device> ...`: run a simulated device over its real wire protocol.

Each device is one entry of `COMMANDS`: a function adding its arguments and a function running it
(returning the exit status). Fridge loggers and autoclaves are added beside `scanner`.

    python -m firmware_sim scanner --pty /tmp/scanner --terminator cr '010950110153000317140704<GS>10AB-123'
    python -m firmware_sim scanner --listen 127.0.0.1:7000 --terminator none --frames-file scans.txt
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from firmware_sim.autoclave import add_autoclave_arguments, run_autoclave
from firmware_sim.fridge.cli import add_fridge_arguments, run_fridge
from firmware_sim.scanner import (
    GS,
    GS_MODES,
    TERMINATORS,
    Link,
    PtyLink,
    ScannerProfile,
    SerialLink,
    SimulatedScanner,
    TcpServerLink,
)

_GS_ESCAPES = re.compile(r"<GS>|\\x1[dD]|\\u001[dD]")


def unescape(frame: str) -> str:
    """Frames on the command line or in a file write GS as `<GS>`, `\\x1d` or `\\u001d`."""
    return _GS_ESCAPES.sub(GS, frame)


def add_scanner_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="write through serial_for_url: a socat pty end, a real port, socket://")
    where.add_argument("--pty", metavar="LINK", help="make a pty, symlinked at LINK, for the reader to open")
    where.add_argument("--listen", metavar="HOST:PORT", help="listen like ser2net; the reader opens socket://")
    parser.add_argument("--terminator", choices=list(TERMINATORS), default="cr")
    parser.add_argument("--aim", default="", help="AIM symbology identifier to prepend, e.g. ]d2")
    parser.add_argument("--gs", choices=GS_MODES, default="keep", help="what happens to GS separators")
    parser.add_argument("--chunk-size", type=int, default=0, help="split writes, e.g. 64 like USB-CDC")
    parser.add_argument("--chunk-delay-ms", type=float, default=1.0)
    parser.add_argument("--duplicates", type=int, default=0, help="presentation-mode re-reads per frame")
    parser.add_argument("--duplicate-interval-ms", type=float, default=500.0)
    parser.add_argument("--gap-ms", type=float, default=200.0, help="silence between frames")
    parser.add_argument("--receiver-idle-ms", type=float, default=50.0)
    parser.add_argument("--junk", type=bytes.fromhex, default=b"", help="hex bytes sent after each plug-in")
    parser.add_argument("--wait-ms", type=float, default=1000.0,
                        help="after each (re)plug, time for the reader to open the port (pty, url)")
    parser.add_argument("--unplug-after", type=int, default=0, help="unplug after N frames, then replug")
    parser.add_argument("--unplugged-ms", type=float, default=1000.0)
    parser.add_argument("--frames-file", type=Path, help="one frame per line (blank lines skipped)")
    parser.add_argument("frames", nargs="*", help="frames to send before those of --frames-file; GS as <GS>")


def run_scanner(args: argparse.Namespace) -> int:
    frames = list(args.frames)
    if args.frames_file is not None:
        frames += args.frames_file.read_text(encoding="latin-1").splitlines()
    frames = [unescape(frame) for frame in frames if frame]
    if not frames:
        print("scanner: no frames given", file=sys.stderr)
        return 2
    profile = ScannerProfile(
        terminator=args.terminator, aim=args.aim, gs=args.gs, chunk_size=args.chunk_size,
        chunk_delay_ms=args.chunk_delay_ms, duplicates=args.duplicates,
        duplicate_interval_ms=args.duplicate_interval_ms, gap_ms=args.gap_ms,
        receiver_idle_ms=args.receiver_idle_ms, junk=args.junk,
    )
    link: Link
    wait = args.wait_ms / 1000
    if args.pty:
        link = PtyLink(args.pty)
    elif args.listen:
        host, _, port = args.listen.rpartition(":")
        link, wait = TcpServerLink(host or "127.0.0.1", int(port)), 0.0  # accept() waits for the reader
    else:
        link = SerialLink(args.url)
    scanner = SimulatedScanner(link, profile)
    with scanner:
        print(f"scanner: {_where(link)}", file=sys.stderr, flush=True)
        time.sleep(wait)
        for index, frame in enumerate(frames, start=1):
            scanner.scan(frame)
            if args.unplug_after and index % args.unplug_after == 0 and index < len(frames):
                scanner.unplug()
                time.sleep(args.unplugged_ms / 1000)
                scanner.replug()
                print(f"scanner: replugged, {_where(link)}", file=sys.stderr, flush=True)
                time.sleep(wait)
    print(f"scanner: sent {scanner.sent} frames", file=sys.stderr)
    return 0


def _where(link: Link) -> str:
    if isinstance(link, PtyLink):
        return f"pty {link.path} -> {link.slave_name}"
    if isinstance(link, TcpServerLink):
        return f"listening, open {link.url}"
    return f"writing to {getattr(link, 'url', link)}"


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "scanner": ("a barcode scanner on a serial port", add_scanner_arguments, run_scanner),
    "fridge": ("a vaccine-fridge data logger publishing over MQTT", add_fridge_arguments, run_fridge),
    "autoclave": ("a steam autoclave reporting its cycles over MQTT", add_autoclave_arguments, run_autoclave),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m firmware_sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="device", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
        sub.choices[name].set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:  # a profile the scanner cannot honour, a bad --listen port
        print(f"{args.device}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

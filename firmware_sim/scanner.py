"""Simulated barcode scanner: the device side of ARCHITECTURE §4 "Serial scanners".

It imports neither `devices` nor `inventory_service`, so simulator and parser cannot share a bug, and
reproduces what real scanners send (reference/barcodes.md): CR/LF/CRLF or no suffix, an AIM prefix, GS
lost, doubled or added, USB-CDC chunked writes, presentation-mode re-reads, line noise, unplug/replug.
A `Link` carries the bytes: `PtyLink` (own pty + symlink), `FdLink` (a descriptor you own),
`TcpServerLink` (ser2net-like, for `socket://`), `SerialLink` (anything `serial_for_url` opens).
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import tty
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import serial

GS = "\x1d"
TERMINATORS = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "none": b""}
GS_MODES = ("keep", "lose", "double", "leading", "trailing")


@dataclass(frozen=True)
class ScannerProfile:
    """How the simulated scanner behaves. Times in milliseconds. With terminator "none" frames are only
    told apart by silence, so every gap is stretched past `receiver_idle_ms` (x2) and chunk delays
    must stay well under it."""

    terminator: str = "cr"
    aim: str = ""  # AIM symbology identifier to prepend, e.g. "]d2"
    gs: str = "keep"
    chunk_size: int = 0  # 0: one write per frame; 64 mimics USB-CDC full-speed packets
    chunk_delay_ms: float = 1.0
    duplicates: int = 0  # extra re-reads of every frame (presentation mode)
    duplicate_interval_ms: float = 20.0
    gap_ms: float = 10.0  # silence between frames
    receiver_idle_ms: float = 50.0
    junk: bytes = b""  # sent as its own frame before the first scan after each (re)plug

    def __post_init__(self) -> None:
        if self.terminator not in TERMINATORS:
            raise ValueError(f"terminator must be one of {', '.join(TERMINATORS)}, got {self.terminator!r}")
        if self.gs not in GS_MODES:
            raise ValueError(f"gs must be one of {', '.join(GS_MODES)}, got {self.gs!r}")
        if self.chunk_size < 0 or self.duplicates < 0:
            raise ValueError("chunk_size and duplicates must be >= 0")
        if self.terminator == "none" and self.chunk_size and self.chunk_delay_ms * 2 >= self.receiver_idle_ms:
            raise ValueError("with terminator 'none' chunk_delay_ms must be under half of receiver_idle_ms")

    def gap_s(self, wanted_ms: float) -> float:
        if self.terminator == "none":
            wanted_ms = max(wanted_ms, 2 * self.receiver_idle_ms)
        return wanted_ms / 1000


def encode(text: str, profile: ScannerProfile) -> bytes:
    """The bytes a scanner sends for `text` (GS written as "\\x1d"), terminator included."""
    body = {
        "keep": text,
        "lose": text.replace(GS, ""),
        "double": text.replace(GS, GS * 2),
        "leading": GS + text,
        "trailing": text + GS,
    }[profile.gs]
    return (profile.aim + body).encode("latin-1") + TERMINATORS[profile.terminator]


class Link(Protocol):
    def open(self) -> None: ...
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


class FdLink:
    """Writes to a descriptor owned by the caller; close() leaves it open."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def open(self) -> None: ...
    def close(self) -> None: ...

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]


class PtyLink(FdLink):
    """A pty of its own, like `socat pty,link=PATH`: the reader opens `path` (the symlink `link` if
    given, else the slave's /dev/pts name). A replug makes a brand new pty and re-points the symlink,
    like a USB scanner coming back as another ttyACM node behind /dev/serial/by-id/."""

    def __init__(self, link: str | os.PathLike[str] | None = None) -> None:
        super().__init__(-1)
        self.link = Path(link) if link is not None else None
        self._slave = -1
        self.slave_name = ""

    @property
    def path(self) -> str:
        return str(self.link) if self.link is not None else self.slave_name

    def open(self) -> None:
        self.fd, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR->LF translation before the reader configures the port
        self.slave_name = os.ttyname(self._slave)
        if self.link is not None:
            fresh = self.link.with_name(self.link.name + ".new")
            fresh.unlink(missing_ok=True)
            fresh.symlink_to(self.slave_name)
            fresh.replace(self.link)  # atomic: the reader never sees a half-made link

    def close(self) -> None:
        """Unplug: the link disappears; the reader's next read fails (EIO or "returned no data")."""
        if self.link is not None:
            self.link.unlink(missing_ok=True)
        for fd in (self.fd, self._slave):
            if fd >= 0:
                os.close(fd)
        self.fd = self._slave = -1


class TcpServerLink:
    """Listens like a serial-to-Ethernet converter (ser2net) on host:port (0: any free port, kept across
    replugs); the reader opens `url`. Serves one reader at a time."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, accept_timeout: float = 5.0,
                 settle: float = 0.1) -> None:
        self.host, self.port = host, port
        self._accept_timeout, self._settle = accept_timeout, settle
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def open(self) -> None:
        listener = socket.create_server((self.host, self.port))
        self.port = listener.getsockname()[1]
        self._listener = listener

    def write(self, data: bytes) -> None:
        if self._client is None:
            if self._listener is None:
                raise OSError("link is closed (unplugged)")
            self._listener.settimeout(self._accept_timeout)
            self._client, _ = self._listener.accept()
            time.sleep(self._settle)  # pyserial flushes its input right after connecting
        self._client.sendall(data)

    def close(self) -> None:
        for sock in (self._client, self._listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self._client = self._listener = None


class SerialLink:
    """Writes through `serial.serial_for_url`: a socat pty end, a real port on a null-modem cable."""

    def __init__(self, url: str, baudrate: int = 9600) -> None:
        self.url, self.baudrate = url, baudrate
        self._port: serial.SerialBase | None = None

    def open(self) -> None:
        self._port = serial.serial_for_url(self.url, baudrate=self.baudrate)

    def write(self, data: bytes) -> None:
        if self._port is None:
            raise OSError("link is closed (unplugged)")
        self._port.write(data)
        self._port.flush()

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
        self._port = None


class SimulatedScanner:
    """Sends scans over a link. Use as a context manager, or open()/close(); unplug()/replug() in between.
    close() first waits out the gap after the last frame, so a receiver framing on silence completes it."""

    def __init__(self, link: Link, profile: ScannerProfile | None = None) -> None:
        self.link = link
        self.profile = profile or ScannerProfile()
        self.sent = 0  # frames written, re-reads and junk included
        self._last_end = float("-inf")
        self._junk_due = False

    def __enter__(self) -> SimulatedScanner:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        self.link.open()
        self._junk_due = bool(self.profile.junk)

    def close(self) -> None:
        self._quiet(self.profile.gap_ms)
        self.link.close()

    unplug = close
    replug = open

    def scan(self, text: str) -> None:
        """One scan, followed by `profile.duplicates` re-reads."""
        if self._junk_due:
            self._junk_due = False
            self._frame(self.profile.junk + TERMINATORS[self.profile.terminator], self.profile.gap_ms)
        payload = encode(text, self.profile)
        self._frame(payload, self.profile.gap_ms)
        for _ in range(self.profile.duplicates):
            self._frame(payload, self.profile.duplicate_interval_ms)

    def scan_all(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.scan(text)

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are, in chunks of `profile.chunk_size` with `chunk_delay_ms` between."""
        size = self.profile.chunk_size or max(1, len(data))
        for start in range(0, len(data), size):
            if start:
                time.sleep(self.profile.chunk_delay_ms / 1000)
            self.link.write(data[start:start + size])

    def _frame(self, data: bytes, gap_ms: float) -> None:
        self._quiet(gap_ms)
        self.send_raw(data)
        self.sent += 1
        self._last_end = time.monotonic()

    def _quiet(self, gap_ms: float) -> None:
        """Sleep until `gap_ms` of silence (stretched for terminator "none") followed the last frame."""
        wait = self._last_end + self.profile.gap_s(gap_ms) - time.monotonic()
        if wait > 0:
            time.sleep(wait)

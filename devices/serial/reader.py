"""The reader thread of one scanner: open the port, frame, suppress re-reads, hand frames over.

Contract (ARCHITECTURE §3 "Device hand-off"): the thread only frames and calls `on_frame`, which should
enqueue and return; an exception raised by a callback is logged and counted, never kills the loop.
When the port fails (pyserial's "device reports readiness to read but returned no data" on unplug,
EIO on a pty, "socket disconnected") the port is closed and reopened with exponential backoff;
`serial_for_url` resolves `/dev/serial/by-id/...` symlinks and `hwgrep://VID:PID` on every open, so a
scanner that comes back as a new node (ttyACM0 -> ttyACM1) is found again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import serial

from devices.serial.config import ScannerConfig
from devices.serial.framing import DEFAULT_MAX_LEN, Deduplicator, Frame, Framer

log = logging.getLogger(__name__)
_EXPECTED = (serial.SerialException, OSError)  # anything else is logged with its traceback, then retried
_HEALTHY_SESSION_S = 1.0
# A read's timeout while no frame is under way: only a frame's idle gap needs the short one, and
# stop() cancels a waiting read anyway. Ten quiet ports polled at the short timeout woke 400 times a
# second (3.5% of a CPU, taken from the thread that records the scans).
_QUIET_WAIT_S = 0.5


@dataclass(frozen=True, slots=True)
class ScanFrame:
    """One frame from one scanner. `received_at` is wall-clock UTC, `monotonic` is `time.monotonic()`,
    both of the frame's last byte. `suppressed_duplicates` counts re-reads of the previous accepted
    frame that were suppressed before this one. `rejected` is None for a frame to parse, else the
    reason to store it as a rejected input (over-long, no printable characters, cut by port loss)."""

    scanner_id: str
    text: str
    received_at: datetime
    monotonic: float
    suppressed_duplicates: int = 0
    rejected: str | None = None


class PortState(StrEnum):
    OPEN = "open"
    DISCONNECTED = "disconnected"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ScannerStatus:
    """A change of port state, with the error text when disconnected."""

    scanner_id: str
    state: PortState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReaderStats:
    """Counters for health and metrics, since the reader started."""

    frames: int  # accepted frames delivered
    rejected: int  # rejected frames delivered
    suppressed: int  # re-reads suppressed
    reopens: int  # successful opens after the first
    errors: int  # failed opens and lost ports
    callback_errors: int  # exceptions raised by on_frame / on_status
    is_open: bool


class ScannerReader(threading.Thread):
    """Daemon thread reading one scanner until `stop()`. Callbacks run on this thread."""

    def __init__(
        self,
        config: ScannerConfig,
        on_frame: Callable[[ScanFrame], None],
        on_status: Callable[[ScannerStatus], None] | None = None,
        *,
        max_len: int = DEFAULT_MAX_LEN,
        backoff: tuple[float, float] = (0.1, 5.0),
        open_port: Callable[..., Any] = serial.serial_for_url,
    ) -> None:
        super().__init__(name=f"scanner-{config.id}", daemon=True)
        self.config = config
        self._on_frame = on_frame
        self._on_status = on_status
        self._max_len = max_len
        self._backoff = backoff
        self._open_port = open_port
        self._read_timeout = min(0.05, max(0.005, config.idle_ms / 2000)) if config.idle_ms else 0.05
        self._dedupe = Deduplicator(config.dedupe_ms)
        self._halt = threading.Event()
        self._port: Any = None
        self._state: PortState | None = None
        self._frames = self._rejected = self._suppressed = 0
        self._opens = self._errors = self._callback_errors = 0

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading, close the port and wait up to `timeout` s for the thread to end."""
        self._halt.set()
        port = self._port
        if port is not None:
            with contextlib.suppress(Exception):
                port.cancel_read()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def stats(self) -> ReaderStats:
        return ReaderStats(
            frames=self._frames, rejected=self._rejected, suppressed=self._suppressed,
            reopens=max(0, self._opens - 1), errors=self._errors,
            callback_errors=self._callback_errors, is_open=self._port is not None,
        )

    def run(self) -> None:
        low, high = self._backoff
        delay = low
        try:
            while not self._halt.is_set():
                try:
                    port = self._open_port(
                        self.config.url, baudrate=self.config.baudrate, parity=self.config.parity,
                        bytesize=self.config.bytesize, stopbits=self.config.stopbits,
                        timeout=self._read_timeout, exclusive=True,
                    )
                except Exception as exc:
                    self._port_error(f"cannot open {self.config.url}", exc)
                else:
                    if self._session(port):
                        delay = low
                if self._halt.wait(delay):
                    break
                delay = min(delay * 2, high)
        finally:
            self._set_state(PortState.STOPPED)

    def _session(self, port: Any) -> bool:
        """Read one opened port until stop or failure; True if it was healthy (data or a long life)."""
        self._opens += 1
        self._port = port
        self._set_state(PortState.OPEN, str(self.config.url))
        framer = Framer(self.config.idle_ms, self._max_len)
        started = now = time.monotonic()
        got_data = False
        reason = "cut_by_stop"
        try:
            while not self._halt.is_set():
                wait = self._read_timeout if framer.pending else _QUIET_WAIT_S
                if port.timeout != wait:
                    port.timeout = wait
                buffered = port.in_waiting
                data = port.read(max(1, buffered))
                now = time.monotonic()
                got_data = got_data or bool(data)
                # Bytes already waiting in the OS buffer arrived earlier than `now`: if this thread was held
                # up (GIL, GC, a busy host), the time since the last read says nothing about the scanner's
                # gap, so only a read that had to wait for its first byte may end a frame by idle time.
                for frame in framer.feed(data, now, idle_check=not buffered):
                    self._deliver(frame, now)
        except Exception as exc:
            reason = "cut_by_port_loss"
            self._port_error("port lost", exc)
        finally:
            with contextlib.suppress(Exception):
                port.close()
            self._port = None
        for frame in framer.flush(now, reason):
            self._deliver(frame, now)
        return got_data or time.monotonic() - started >= _HEALTHY_SESSION_S

    def _deliver(self, frame: Frame, now: float) -> None:
        suppressed = 0
        if frame.rejected is None:
            previous = self._dedupe.offer(frame.text, frame.monotonic)
            if previous is None:
                self._suppressed += 1
                log.debug("scanner %s: re-read %d of %r suppressed", self.config.id,
                          self._dedupe.suppressed, frame.text)
                return
            suppressed = previous
            self._frames += 1
        else:
            self._rejected += 1
            log.warning("scanner %s: rejected frame (%s): %r", self.config.id, frame.rejected, frame.text[:80])
        received_at = datetime.now(UTC) - timedelta(seconds=max(0.0, now - frame.monotonic))
        scan = ScanFrame(self.config.id, frame.text, received_at, frame.monotonic, suppressed, frame.rejected)
        self._call(self._on_frame, scan)

    def _port_error(self, what: str, exc: Exception) -> None:
        self._errors += 1
        if not isinstance(exc, _EXPECTED):
            log.error("scanner %s: unexpected error", self.config.id, exc_info=exc)
        self._set_state(PortState.DISCONNECTED, f"{what}: {exc}")

    def _set_state(self, state: PortState, detail: str = "") -> None:
        if state == self._state:
            log.debug("scanner %s: still %s: %s", self.config.id, state, detail)
            return
        self._state = state
        level = logging.WARNING if state is PortState.DISCONNECTED else logging.INFO
        log.log(level, "scanner %s: %s %s", self.config.id, state, detail)
        if self._on_status is not None:
            self._call(self._on_status, ScannerStatus(self.config.id, state, detail))

    def _call(self, callback: Callable[[Any], None], arg: object) -> None:
        try:
            callback(arg)
        except Exception:
            self._callback_errors += 1
            log.exception("scanner %s: %s raised; the reader goes on", self.config.id, callback)

"""Scanner framing and duplicate suppression: pure, I/O-free, time is an argument.

Contract (ARCHITECTURE §4 "Serial scanners", reference/barcodes.md "Serial scanners in practice"):

* A frame ends at CR, LF or CRLF. CRLF is one terminator even when CR and LF arrive in different
  reads: the LF then ends an empty frame, and empty frames are ignored.
* A scanner with no suffix (Honeywell's default) is framed after an idle gap of `idle_ms` since the
  last byte; `idle_ms=0` disables the gap (terminators only).
* Bytes are decoded as latin-1, which is lossless, and only CR/LF are removed: GS (0x1D, the FNC1 of
  GS1 symbols) and trailing spaces, '+', '$', '.', '/' (valid HIBC check characters) are kept.
* A frame longer than `max_len` bytes is emitted once, truncated and rejected, then the rest up to
  the next terminator or idle gap is discarded; framing resumes after it. Nothing is silently lost.
* A frame without a single printable character (line noise on plug-in, NULs) is emitted as rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_MAX_LEN = 4096
_TERMINATORS = re.compile(rb"[\r\n]")
_PRINTABLE = re.compile(r"[\x21-\x7e\xa0-\xff]")


@dataclass(frozen=True, slots=True)
class Frame:
    """One framed read. `monotonic` is when its last byte arrived; `rejected` is None for a frame to
    parse, else the reason code to store it as a rejected input: `too_long`, `noise` (no printable
    character), `cut_by_port_loss` or `cut_by_stop` (a frame started when the port went away)."""

    text: str
    monotonic: float
    rejected: str | None = None


class Framer:
    """Reassembles reads of one port into frames. Not thread-safe: one per reader loop.

    Call `feed(data, now)` for every read and `poll(now)` whenever a read times out; both return the
    frames completed by then, oldest first.
    """

    def __init__(self, idle_ms: int = 50, max_len: int = DEFAULT_MAX_LEN) -> None:
        if idle_ms < 0:
            raise ValueError(f"idle_ms must be >= 0, got {idle_ms}")
        if max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {max_len}")
        self._idle = idle_ms / 1000
        self._max_len = max_len
        self._buf = bytearray()
        self._discarding = False  # inside an over-long frame, already reported
        self._last_byte_at: float | None = None

    @property
    def pending(self) -> bool:
        """True while a frame is started and not yet complete."""
        return bool(self._buf) or self._discarding

    def feed(self, data: bytes, now: float, *, idle_check: bool = True) -> list[Frame]:
        """Add the bytes of one read that arrived at `now` (monotonic seconds). With `idle_check` False
        the bytes are known to have been waiting already, so no idle gap is assumed before them."""
        out = self.poll(now) if idle_check else []  # the gap may have elapsed before this read arrived
        if not data:
            return out
        *ended, rest = _TERMINATORS.split(data)
        for piece in ended:
            self._append(piece, now, out)
            self._end(now, out)
        self._append(rest, now, out)
        self._last_byte_at = now
        return out

    def poll(self, now: float) -> list[Frame]:
        """Frames completed by the idle gap: the last byte arrived at least `idle_ms` before `now`."""
        out: list[Frame] = []
        last = self._last_byte_at
        if self._idle > 0 and last is not None and self.pending and now - last >= self._idle:
            self._end(last, out)
        return out

    def flush(self, now: float, reason: str) -> list[Frame]:
        """End the stream (port lost, reader stopped): a started frame is returned rejected with `reason`,
        since it may be cut short."""
        out: list[Frame] = []
        if self._buf:
            out.append(Frame(self._buf.decode("latin-1"), now, reason))
        self._buf.clear()
        self._discarding = False
        return out

    def _append(self, piece: bytes, now: float, out: list[Frame]) -> None:
        if self._discarding or not piece:
            return
        self._buf += piece
        if len(self._buf) > self._max_len:
            text = self._buf[: self._max_len].decode("latin-1")
            out.append(Frame(text, now, "too_long"))
            self._buf.clear()
            self._discarding = True

    def _end(self, at: float, out: list[Frame]) -> None:
        if self._buf:
            text = self._buf.decode("latin-1")
            rejected = None if _PRINTABLE.search(text) else "noise"
            out.append(Frame(text, at, rejected))
        self._buf.clear()
        self._discarding = False


class Deduplicator:
    """Suppresses presentation-mode re-reads: the same text again within `window_ms` of the previous
    identical read (accepted or suppressed, so a code left in view stays suppressed).

    A different text in between, or the same text once the window has passed, is accepted: staff
    count the same box twice by taking it out of view for longer than the window. `window_ms=0`
    disables suppression.
    """

    def __init__(self, window_ms: int = 1000) -> None:
        if window_ms < 0:
            raise ValueError(f"window_ms must be >= 0, got {window_ms}")
        self._window = window_ms / 1000
        self._text: str | None = None
        self._seen_at = 0.0
        self._suppressed = 0

    @property
    def suppressed(self) -> int:
        """Re-reads of the last accepted text suppressed so far."""
        return self._suppressed

    def offer(self, text: str, now: float) -> int | None:
        """None when `text` is a re-read to suppress. Otherwise `text` is accepted and the result is
        the number of re-reads of the previously accepted text that were suppressed (for the log)."""
        if text == self._text and now - self._seen_at < self._window:
            self._seen_at = now
            self._suppressed += 1
            return None
        previous = self._suppressed
        self._text, self._seen_at, self._suppressed = text, now, 0
        return previous

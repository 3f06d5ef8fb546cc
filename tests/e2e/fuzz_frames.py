"""What the scanner fuzz test (test_device_fuzz.py) writes to the pty, and what the reader must make of it.

Labels are built from the published rules (tests/e2e/scan_script.py: GTIN check digits, GS1 element
strings, HIBC mod 43), then broken as scanners and labels break; `FramingModel` restates the framing
contract (ARCHITECTURE §4 "Serial scanners", devices/serial/framing.py's docstring) to say which
`scans` row, or counted re-read, each frame must become.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from hypothesis import strategies as st

from tests.e2e.scan_script import (
    GS,
    HIBC_CHARSET,
    MAX_FRAME,
    ean13,
    element_string,
    escape_raw,
    gtin_check_digit,
    hibc_check,
    yymmdd,
)

PRINTABLE = re.compile(r"[\x21-\x7e\xa0-\xff]")  # a frame without one of these is noise (devices/serial/framing.py)
GTINS = (ean13("460100000011"), ean13("460100000028"))
UNKNOWN_GTIN = ean13("460100000097")
HIBC = "H101GAUZE51"  # LIC H101, PCN GAUZE5, unit of measure 1
LOTS = ("L1", "L2", "LOT-A", "10X3", "Z" * 20, "L" * 21)
EXPIRIES = (date(2030, 6, 30), date(2027, 1, 31), date(2020, 1, 1), date.today() + timedelta(days=10))
TERMINATORS = (b"\r", b"\n", b"\r\n", b"\n\r", b"\r\r\n", b"\n\n")
COMMANDS = ("#MODE:RECEIVE", "#MODE:CONSUME", "#MODE:COUNT", "#MODE:TRANSFER", "#MODE:NOPE", "#QTY:0", "#QTY:1",
            "#QTY:3", "#QTY:-1", "#QTY:999999999", "#QTY:x", "#LOC:EX1", "#LOC:SR", "#LOC:NOPE", "#DONE", "#",
            "#mode:count", "#DONE#DONE", "#DONE", "#DONE", "#DONE", "#MODE:RECEIVE", "#MODE:RECEIVE")
NOT_PRINTABLE = bytes([*range(0x00, 0x0A), 0x0B, 0x0C, *range(0x0E, 0x21), *range(0x7F, 0xA0)])
AIMS = ("", "]C1", "]d2", "]Q3", "]e0", "]C0", "]d1", "]E0", "]Zz")


class Long:
    """A line of `n` times `fill` (kept short in hypothesis's report of a failing batch)."""

    __slots__ = ("fill", "n")

    def __init__(self, n: int, fill: bytes) -> None:
        self.n, self.fill = n, fill

    def __repr__(self) -> str:
        return f"Long({self.n}, {self.fill!r})"

    def bytes(self) -> bytes:
        return self.fill * self.n


def gtin8(payload7: str) -> str:
    return payload7 + gtin_check_digit(payload7)


def no_terminators(data: bytes) -> bytes:
    return data.replace(b"\r", b"").replace(b"\n", b"")


@st.composite
def gs1_frames(draw: st.DrawFn) -> bytes:
    """A GS1 element string for a known or unknown GTIN, then one real-world fault or breakage."""
    fault = draw(st.sampled_from(("",) * 10 + ("lose GS", "double GS", "leading GS", "trailing GS", "check digit",
                                             "cut", "month 13", "letter in GTIN")))
    gtin = draw(st.sampled_from((*GTINS, *GTINS, UNKNOWN_GTIN))).zfill(14)
    if fault == "check digit":
        gtin = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    elif fault == "letter in GTIN":
        gtin = gtin[:5] + "O" + gtin[6:]
    pairs = [("01", gtin)]
    if draw(st.integers(0, 5)) > 0:
        pairs.append(("17", yymmdd(draw(st.sampled_from(EXPIRIES)))))
    if draw(st.integers(0, 5)) > 0:
        pairs.append(("10", draw(st.sampled_from(LOTS))))
    if draw(st.booleans()):
        pairs.append(("21", draw(st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1,
                                         max_size=22))))
    if draw(st.integers(0, 3)) == 3:
        pairs.append(("30", str(draw(st.integers(0, 10**9)))))
    text = element_string(*draw(st.permutations(pairs)))
    if fault == "lose GS":
        text = text.replace(GS, "")
    elif fault == "double GS":
        text = text.replace(GS, GS * 2)
    elif fault == "leading GS":
        text = GS + text
    elif fault == "trailing GS":
        text += GS
    elif fault == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif fault == "month 13":
        text = re.sub(r"17(\d\d)\d\d", r"17\g<1>13", text, count=1)
    aim = draw(st.one_of(st.sampled_from(AIMS[:4]), st.sampled_from(AIMS[:4]), st.sampled_from(AIMS)))
    return (aim + text).encode("latin-1")


@st.composite
def hibc_frames(draw: st.DrawFn) -> bytes:
    code = draw(st.sampled_from((HIBC, "X999UNKNOWN0", "A123BJC5D6E71")))
    expiry = yymmdd(draw(st.sampled_from(EXPIRIES)))
    lot = draw(st.sampled_from(LOTS[:4]))
    secondary = draw(st.sampled_from(("", f"/$$3{expiry}{lot}", f"/${lot}", f"/$$7{lot}", f"/$$8050{lot}",
                                      f"/S{lot}", f"/16D20240101/$$3{expiry}{lot}")))
    data = f"+{code}{secondary}"
    check = hibc_check(data)
    if draw(st.integers(0, 3)) == 3:  # a wrong check character
        check = HIBC_CHARSET[(HIBC_CHARSET.index(check) + draw(st.integers(1, 42))) % 43]
    text = data + check
    if draw(st.integers(0, 4)) == 4:
        text = text.lower()
    return (draw(st.sampled_from(("", "", "]C0", "]A0"))) + text).encode("latin-1")


@st.composite
def other_labels(draw: st.DrawFn) -> bytes:
    """Plain GTINs (13, 14 and 8 digits, right or wrong check digit) and GS1 Digital Link URIs."""
    gtin = draw(st.sampled_from((*GTINS, UNKNOWN_GTIN)))
    kind = draw(st.sampled_from(("ean13", "gtin14", "gtin8", "bad check", "link")))
    if kind == "ean13":
        text = draw(st.sampled_from(("", "]E0"))) + gtin
    elif kind == "gtin14":
        text = gtin.zfill(14)
    elif kind == "gtin8":
        text = draw(st.sampled_from(("", "]E4"))) + gtin8("4601000")
    elif kind == "bad check":
        text = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    else:
        scheme = draw(st.sampled_from(("https://id.gs1.org", "HTTPS://ID.GS1.ORG", "https://example.com/dl")))
        lot, expiry = draw(st.sampled_from(LOTS)), yymmdd(draw(st.sampled_from(EXPIRIES)))
        text = f"{scheme}/01/{gtin.zfill(14)}/10/{lot}?17={expiry}"
        text = draw(st.sampled_from(("", "]Q1", "]d1"))) + text
    return text.encode("latin-1")


FRAME_CONTENTS = st.one_of(
    gs1_frames(), gs1_frames(), gs1_frames(), gs1_frames(), gs1_frames(), hibc_frames(), hibc_frames(), other_labels(),
    *[st.sampled_from(COMMANDS).map(str.encode)] * 4,
    st.binary(max_size=120).map(no_terminators),
    st.text(st.characters(max_codepoint=0xFF, exclude_characters="\r\n"), max_size=60).map(
        lambda t: t.encode("latin-1")),
    st.builds(Long, st.sampled_from((4095, 4096, 4097, 6000, 12_000)), st.sampled_from((b"A", b"\x1d", b"\x00", b"0"))),
    st.lists(st.sampled_from(NOT_PRINTABLE), min_size=1, max_size=10).map(bytes),
    st.just(b""),  # a blank line: no frame
    st.just(None),  # the previous frame again: a presentation re-read
)


@dataclass(frozen=True)
class ScanBatch:
    """Frames (content, terminator) written as one stream cut at `cuts` (fractions), `pause_ms` apart;
    `split_crlf` also cuts after every CR; `idle_end` leaves the last frame without its terminator."""

    frames: tuple[tuple[bytes | Long | None, bytes], ...]
    cuts: tuple[float, ...]
    pause_ms: int
    split_crlf: bool
    idle_end: bool


SCAN_BATCHES = st.builds(
    ScanBatch, frames=st.lists(st.tuples(FRAME_CONTENTS, st.sampled_from(TERMINATORS)), min_size=1,
                               max_size=12).map(tuple),
    cuts=st.lists(st.floats(0, 1), max_size=8).map(tuple), pause_ms=st.sampled_from((0, 1, 3)),
    split_crlf=st.booleans(), idle_end=st.integers(0, 6).map(lambda n: n == 3))  # 1 in 7, not at an end of the range


def label(gtin: str, lot: str, expiry: date) -> bytes:
    return ("]d2" + element_string(("01", gtin.zfill(14)), ("17", yymmdd(expiry)), ("10", lot))).encode("latin-1")


def headline_frames() -> ScanBatch:
    """Every station mode with stock moving, re-reads, noise, an over-long line, CRLF split across
    writes, the last frame ended by the idle gap (the first, explicit example)."""
    good = date(2030, 6, 30)
    hibc = f"+{HIBC}/$$3{yymmdd(good)}10X3"
    frames = (
        (b"#MODE:RECEIVE", b"\r"), (label(GTINS[0], "L1", good), b"\r\n"), (None, b"\r\n"), (b"#QTY:3", b"\n"),
        (label(GTINS[1], "L2", good), b"\r"), ((hibc + hibc_check(hibc)).encode(), b"\r"),
        (label(GTINS[0], "OLD", date(2020, 1, 1)), b"\r"), (b"#MODE:CONSUME", b"\r\n"),
        (label(GTINS[0], "L1", good), b"\r"), (b"#MODE:TRANSFER", b"\r"), (b"#LOC:EX1", b"\r"),
        (label(GTINS[1], "L2", good), b"\r\n"), (b"#DONE", b"\r"), (b"#MODE:COUNT", b"\r"),
        (label(GTINS[1], "L2", good), b"\r"), (label(GTINS[0], "L1", good), b"\r"), (b"#DONE", b"\r"),
        (b"\x00\x00", b"\r"), (Long(5000, b"A"), b"\r\n"), (b"\xff\xfe\x1d", b"\n\r"), (b"#MODE:RECEIVE", b"\r"),
    )
    return ScanBatch(frames, cuts=(0.1, 0.5, 0.9), pause_ms=1, split_crlf=True, idle_end=True)


@dataclass
class FramingModel:
    """What the reader must make of the bytes (ARCHITECTURE §4 "Serial scanners"): a frame ends at CR or
    LF (CRLF is one end, since the LF then ends an empty frame, which is dropped) or at the idle gap;
    over MAX_FRAME bytes it is one `too_long` row cut to MAX_FRAME; without a printable character it
    is a `noise` row; the same text as the last frame accepted is a re-read, counted on that frame's
    row; anything else is one row for the station."""

    rows: list[tuple[str, str | None]] = field(default_factory=list)  # (escaped text, reader's reason)
    rereads: list[int] = field(default_factory=list)
    suppressed: int = 0
    last_text: str | None = None
    last_row: int | None = None

    def feed(self, content: bytes) -> None:
        if not content:
            return
        text = content.decode("latin-1")
        if len(content) > MAX_FRAME:
            self.rows.append((escape_raw(text[:MAX_FRAME]), "too_long"))
            self.rereads.append(0)
        elif not PRINTABLE.search(text):
            self.rows.append((escape_raw(text), "noise"))
            self.rereads.append(0)
        elif text == self.last_text:
            self.suppressed += 1
            assert self.last_row is not None
            self.rereads[self.last_row] += 1
        else:
            self.last_text, self.last_row = text, len(self.rows)
            self.rows.append((escape_raw(text), None))
            self.rereads.append(0)


def stream(batch: ScanBatch, model: FramingModel, previous: bytes) -> tuple[list[bytes], bytes]:
    """The batch's chunks to write, with the model fed; returns (chunks, the last content sent)."""
    data = bytearray()
    crs: list[int] = []
    for i, (content, terminator) in enumerate(batch.frames):
        body = previous if content is None else content.bytes() if isinstance(content, Long) else content
        previous = body
        model.feed(body)
        data += body
        if batch.idle_end and i == len(batch.frames) - 1:
            break
        for j, byte in enumerate(terminator):
            if byte == 0x0D and batch.split_crlf:
                crs.append(len(data) + j + 1)
        data += terminator
    cuts = sorted({0, len(data), *crs, *(int(c * len(data)) for c in batch.cuts)})
    return [bytes(data[a:b]) for a, b in itertools.pairwise(cuts) if b > a], previous

"""The scripted session of `test_scanners_e2e.py`: what three simulated scanners send, with which
faults, and what the service must make of every frame.

Nothing here imports `devices`, `inventory_service` or `firmware_sim`: GTIN check digits, HIBC mod-43
check characters, GS1 element strings and the expected outcomes are derived independently from
ARCHITECTURE §4 "Serial scanners" and reference/barcodes.md, so the service and this oracle cannot
share a bug. A small model of the station rules (mode, #QTY, #LOC, count sessions) and of the stock
(lots, FEFO, balances, movements) computes every expectation, and every step that is not a plain
success names its expected outcome explicitly: the builder refuses a step where the two disagree.

Rules the script keeps so that the outcome of every frame is deterministic:
- two consecutive frames that the reader accepts never carry the same text unless a pause longer
  than the scanner's `dedupe_ms` separates them (they would be suppressed as re-reads);
- a frame sent with presentation re-reads (`Fault.duplicates`) is followed by a frame the reader
  accepts: its re-reads are counted on the station's latest row when the next accepted frame is
  recorded, so they would land on a noise / too_long / cut row in between (a service defect);
- GS faults are applied to GS1 and HIBC labels only (a GS added to a command card breaks the card);
- a frame left unterminated before an unplug (`cut`) is only sent to a scanner without idle-gap
  framing (`idle_ms=0`), so it can only end as `cut_by_port_loss`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

GS = "\x1d"
MAX_FRAME = 4096  # the reader's frame length cap (devices.serial.framing.DEFAULT_MAX_LEN)
HIBC_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
PREDEFINED_LENGTH = ("00", "01", "02", "03", "04", *(str(n) for n in range(11, 21)),
                     "31", "32", "33", "34", "35", "36", "41")
CLINIC = "CLINIC-1"


# --- barcode data, built from the published rules --------------------------------------------------

def gtin_check_digit(payload: str) -> str:
    """Weights 3,1,3,1,... from the right of the payload; check = (10 - sum mod 10) mod 10."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return str((10 - total % 10) % 10)


def ean13(payload12: str) -> str:
    assert len(payload12) == 12 and payload12.isdigit()
    return payload12 + gtin_check_digit(payload12)


def yymmdd(day: dt.date, *, day00: bool = False) -> str:
    """A GS1 date; `day00` writes the last day of a month as DD=00."""
    if day00:
        assert day.day == calendar.monthrange(day.year, day.month)[1]
        return f"{day:%y%m}00"
    return f"{day:%y%m%d}"


def element_string(*pairs: tuple[str, str]) -> str:
    """GS1 element strings with a GS after every AI of undefined length that is followed by more."""
    out = []
    for index, (ai, value) in enumerate(pairs):
        out.append(ai + value)
        if index < len(pairs) - 1 and not ai.startswith(PREDEFINED_LENGTH):
            out.append(GS)
    return "".join(out)


def hibc_check(data: str) -> str:
    """Mod 43 over every character, the leading '+' and each '/' included."""
    return HIBC_CHARSET[sum(HIBC_CHARSET.index(c) for c in data) % 43]


def with_hibc_check(data: str) -> str:
    return data + hibc_check(data)


def escape_raw(text: str) -> str:
    """How the service stores a frame: printable ASCII as is (backslash doubled), else \\xNN."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
    return "".join(out)


# --- what is configured ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemDef:
    key: str
    name: str
    gtin: str | None = None  # EAN-13 as registered (the service stores GTIN-14)
    hibc: str | None = None  # HIBC LIC + PCN + unit of measure

    @property
    def gtin14(self) -> str:
        assert self.gtin is not None
        return self.gtin.zfill(14)


@dataclass(frozen=True)
class LocationDef:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class ScannerDef:
    id: str
    location: str
    mode: str
    idle_ms: int
    dedupe_ms: int = 500
    silence_ms: float = 20.0  # what the simulated scanner leaves after a frame without a suffix (> idle_ms)


ITEMS = {
    item.key: item
    for item in (
        ItemDef("syringe", "Syringe 5 ml", gtin=ean13("460100000011")),
        ItemDef("gloves", "Gloves nitrile M", gtin=ean13("460100000028")),
        ItemDef("gauze", "Gauze swab 10x10", hibc="H101GAUZE51"),
        ItemDef("catheter", "IV catheter 20G", gtin=ean13("460200000018")),
        ItemDef("dressing", "Film dressing", gtin=ean13("460200000025")),
        ItemDef("swab", "Alcohol swab", hibc="H303SWAB01"),
        ItemDef("mask", "Surgical mask", hibc="H303MASK22"),
        ItemDef("tape", "Medical tape", gtin=ean13("460300000015")),
    )
}
UNKNOWN_GTINS = (ean13("460100000097"), ean13("460200000094"), ean13("460300000091"))
LOCATIONS = (
    LocationDef("SR-1", "Stockroom 1", "stockroom"),
    LocationDef("SR-2", "Stockroom 2", "stockroom"),
    LocationDef("SR-3", "Stockroom 3", "stockroom"),
    LocationDef(CLINIC, "Clinic room 1", "clinic_room"),
)
SCANNERS = (
    # CR/LF/CRLF only: no idle-gap framing, so an unterminated frame waits for its end (or an unplug).
    ScannerDef("st-1", "SR-1", "receive", idle_ms=0),
    # CRLF/LF with chunked writes: a long idle gap, so no pause between chunks can end a frame early.
    ScannerDef("st-2", "SR-2", "consume", idle_ms=1000),
    # Mostly no suffix at all: a frame ends after 60 ms of silence; the scanner leaves 200 ms between frames,
    # so a reader thread held up for less than 140 ms cannot merge two frames.
    ScannerDef("st-3", "SR-3", "receive", idle_ms=60, silence_ms=200.0),
)


# --- steps ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fault:
    """How the simulated scanner sends one frame (firmware_sim.scanner.ScannerProfile)."""

    terminator: str = "cr"  # cr, lf, crlf, none
    aim: str = ""
    gs: str = "keep"  # keep, lose, double, leading, trailing
    chunk_size: int = 0
    duplicates: int = 0  # presentation re-reads, 20 ms apart (stretched past the idle gap without a suffix)

    def wire(self, text: str) -> str:
        """The frame's text as the reader delivers it (terminator removed)."""
        body = {"keep": text, "lose": text.replace(GS, ""), "double": text.replace(GS, GS + GS),
                "leading": GS + text, "trailing": text + GS}[self.gs]
        return self.aim + body


@dataclass(frozen=True)
class Expect:
    """One scan row: its outcome and reason, the stored (escaped) frame, re-reads counted on it, the
    number of movements it lists, and the lot it names when applied."""

    outcome: str
    reason: str | None
    raw: str
    rereads: int = 0
    movements: int = 0
    lot: str | None = None


@dataclass(frozen=True)
class Step:
    """`scan`: send `text` with `fault`; `pause`: stay silent `seconds`; `unplug`: close the pty
    (after sending `text` unterminated when it is set: that frame is cut) and plug a new one in."""

    action: str
    text: str = ""
    fault: Fault = Fault()
    expect: Expect | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Label:
    """What a frame means to the station. `item=None` on a product: a code no item has."""

    kind: str  # product, command, unreadable
    item: str | None = None
    lot: str | None = None
    expiry: dt.date | None = None
    quantity: int | None = None
    command: str | None = None
    argument: str | None = None
    reason: str | None = None  # unreadable: the rejection reason the parser leads to


# --- the model the expectations come from -----------------------------------------------------------

LotKey = tuple[str, str, dt.date]  # item key, lot number, expiry


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Station:
    location: str
    home: str
    mode: str
    pending: int | None = None
    target: str | None = None
    count_open: bool = False
    lines: Counter[tuple[str, LotKey]] = field(default_factory=Counter)


class Model:
    """Stock and stations as the service must leave them (ARCHITECTURE §4-5, the station rules)."""

    def __init__(self) -> None:
        self.lots: dict[LotKey, int] = {}  # creation order, like lot ids
        self.balances: Counter[tuple[str, LotKey]] = Counter()
        self.movements: Counter[str] = Counter()
        self.locations = {loc.code for loc in LOCATIONS}

    # station rules
    def scan(self, st: Station, label: Label) -> tuple[str, str | None, int]:
        """(outcome, reason, movements) of one frame; updates station and stock like the service."""
        if label.kind == "unreadable":
            return "rejected", label.reason, 0
        if label.kind == "command":
            return self._command(st, label)
        if st.mode == "transfer" and st.target is None:
            return "rejected", "no_target_location", 0
        quantity = label.quantity or st.pending or 1
        if label.item is None:
            self._used(st)
            return "pending", "unknown_gtin", 0
        try:
            moved = self._apply(st, label, quantity)
        except Refused as refused:
            return "rejected", refused.reason, 0
        self._used(st)
        return "applied", None, moved

    def _used(self, st: Station) -> None:
        st.pending = None
        st.count_open = st.count_open or st.mode == "count"

    def _command(self, st: Station, label: Label) -> tuple[str, str | None, int]:
        if label.command == "mode":
            assert label.argument is not None
            if st.count_open and label.argument != "count":
                return "rejected", "count_open", 0
            st.mode, st.pending, st.target = label.argument, None, None
            return "command", None, 0
        if label.command == "qty":
            assert label.quantity is not None
            if not 1 <= label.quantity <= 100_000:
                return "rejected", "bad_quantity", 0
            st.pending = label.quantity
            return "command", None, 0
        if label.command == "loc":
            if label.argument not in self.locations:  # refused as it is scanned; the station keeps its target
                return "rejected", "unknown_location", 0
            st.target = label.argument
            return "command", None, 0
        assert label.command == "done"
        moved = 0
        if st.count_open:
            for (location, key), counted in sorted(st.lines.items()):
                self.balances[(location, key)] = counted
                self.movements["count"] += 1
                moved += 1
        st.lines.clear()
        st.mode, st.pending, st.target, st.count_open = st.home, None, None, False
        return "command", None, moved

    # stock
    def _apply(self, st: Station, label: Label, quantity: int) -> int:
        assert label.item is not None
        here = st.location
        if st.mode == "receive":
            key = self._receiving_lot(label)
            self.balances[(here, key)] += quantity
            self.movements["receive"] += 1
            return 1
        if st.mode == "count":
            key = self._receiving_lot(label)
            st.lines[(here, key)] += quantity
            return 0
        named = self._existing_lot(label.item, label.lot, label.expiry, "unknown_lot") if label.lot else None
        if st.mode == "consume":
            plan = self._plan(label.item, here, quantity, named)
            for key, taken in plan:
                self.balances[(here, key)] -= taken
            self.movements["consume"] += len(plan)
            return len(plan)
        assert st.mode == "transfer" and st.target is not None
        if st.target not in self.locations:
            raise Refused("unknown_location")
        plan = self._plan(label.item, here, quantity, named)
        for key, taken in plan:
            self.balances[(here, key)] -= taken
            self.balances[(st.target, key)] += taken
        self.movements["transfer"] += 2 * len(plan)
        return 2 * len(plan)

    def _receiving_lot(self, label: Label) -> LotKey:
        assert label.item is not None
        if not label.lot:
            raise Refused("missing_lot")
        if label.expiry is None:
            return self._existing_lot(label.item, label.lot, None, "missing_expiry")
        key = (label.item, label.lot, label.expiry)
        self.lots.setdefault(key, len(self.lots))
        return key

    def _existing_lot(self, item: str, lot: str | None, expiry: dt.date | None, missing: str) -> LotKey:
        found = [k for k in self.lots if k[0] == item and k[1] == lot and (expiry is None or k[2] == expiry)]
        if not found:
            raise Refused(missing)
        if len(found) > 1:
            raise Refused("needs_confirmation")
        return found[0]

    def _plan(self, item: str, here: str, quantity: int, named: LotKey | None) -> list[tuple[LotKey, int]]:
        """A named lot, or FEFO over the lots with stock here (earliest expiry, then oldest lot)."""
        if named is not None:
            if self.balances[(here, named)] < quantity:
                raise Refused("insufficient_stock")
            return [(named, quantity)]
        lots = sorted((key for (loc, key), qty in self.balances.items() if loc == here and key[0] == item and qty > 0),
                      key=lambda k: (k[2], self.lots[k]))
        plan, remaining = [], quantity
        for key in lots:
            taken = min(remaining, self.balances[(here, key)])
            plan.append((key, taken))
            remaining -= taken
            if not remaining:
                return plan
        raise Refused("insufficient_stock")

    def expected_balances(self) -> dict[tuple[str, str, str, dt.date], int]:
        """{(location code, item key, lot number, expiry): quantity} for every non-zero balance."""
        return {(loc, *key): qty for (loc, key), qty in self.balances.items() if qty}


# --- building one scanner's script -------------------------------------------------------------------

class Builder:
    """Appends steps for one scanner, computing each expectation with the model and checking it
    against the expectation written in the script (required for everything but a plain success)."""

    def __init__(self, model: Model, scanner: ScannerDef) -> None:
        self.model, self.scanner = model, scanner
        self.station = Station(scanner.location, scanner.mode, scanner.mode)
        self.steps: list[Step] = []
        self._last_accepted: str | None = None  # text of the last frame the reader delivered for parsing
        self._quiet_since_last = 0.0  # seconds of deliberate pause since that frame
        self._rereads_owed = False  # the last delivered frame had re-reads: the next must be accepted

    # product labels, command cards and unreadable frames
    def product(self, text: str, item: str | None, lot: str | None = None, expiry: dt.date | None = None,
                qty: int | None = None, fault: Fault | None = None, expect: tuple[str, str | None] | None = None,
                ) -> None:
        label = Label("product", item=item, lot=lot, expiry=expiry, quantity=qty)
        self._frame(text, label, fault or Fault(), expect)

    def card(self, text: str, fault: Fault | None = None, expect: tuple[str, str | None] | None = None) -> None:
        name, _, argument = text[1:].partition(":")
        name = name.lower()
        if name == "qty":
            label = Label("command", command="qty", quantity=int(argument), argument=str(int(argument)))
        elif name == "mode":
            label = Label("command", command="mode", argument=argument.lower())
        else:
            label = Label("command", command=name, argument=argument or None)
        self._frame(text, label, fault or Fault(), expect)

    def unreadable(self, text: str, reason: str, fault: Fault | None = None) -> None:
        self._frame(text, Label("unreadable", reason=reason), fault or Fault(), ("rejected", reason))

    # frames the reader itself refuses
    def noise(self, data: str, fault: Fault | None = None) -> None:
        fault = fault or Fault()
        assert not any(0x21 <= ord(c) <= 0x7E or ord(c) >= 0xA0 for c in fault.wire(data)), "noise must not print"
        self._rejected_by_reader(Step("scan", data, fault, Expect("rejected", "noise", escape_raw(fault.wire(data)))))

    def too_long(self, data: str, fault: Fault | None = None) -> None:
        fault = fault or Fault()
        wire = fault.wire(data)
        assert len(wire) > MAX_FRAME
        expect = Expect("rejected", "too_long", escape_raw(wire[:MAX_FRAME]))
        self._rejected_by_reader(Step("scan", data, fault, expect))

    def unplug(self, cut: str | None = None, fault: Fault | None = None) -> None:
        """Unplug and replug; with `cut`, that frame is sent without its terminator first."""
        if cut is None:
            self.steps.append(Step("unplug"))
            return
        assert self.scanner.idle_ms == 0, "a cut frame needs a scanner without idle-gap framing"
        fault = Fault(aim=(fault or Fault()).aim, gs=(fault or Fault()).gs, terminator="none")
        self._rejected_by_reader(Step("unplug", cut, fault,
                                      Expect("rejected", "cut_by_port_loss", escape_raw(fault.wire(cut)))))

    def pause(self, seconds: float) -> None:
        self.steps.append(Step("pause", seconds=seconds))
        self._quiet_since_last += seconds

    # checks
    def _rejected_by_reader(self, step: Step) -> None:
        # Re-reads are reported with the next accepted frame; the script keeps a refused frame from coming
        # between (the service handles that case: tests/integration/test_station_scans.py).
        assert not self._rereads_owed, f"{self.scanner.id}: a frame with re-reads must be followed by an accepted one"
        assert step.fault.duplicates == 0
        self.steps.append(step)

    def _frame(self, text: str, label: Label, fault: Fault, expect: tuple[str, str | None] | None) -> None:
        if fault.gs != "keep" or GS in text:
            assert label.kind != "command", "GS faults are for GS1 and HIBC labels"
        wire = fault.wire(text)
        if fault.terminator == "none":
            assert self.scanner.idle_ms > 0, f"{self.scanner.id} frames on terminators only"
        if wire == self._last_accepted:
            assert self._quiet_since_last * 1000 > 2 * self.scanner.dedupe_ms, f"{wire!r} would be a re-read"
        outcome, reason, moved = self.model.scan(self.station, label)
        if expect is None:
            assert outcome in ("applied", "command"), (self.scanner.id, text, outcome, reason)
        else:
            assert (outcome, reason) == expect, (self.scanner.id, text, (outcome, reason), expect)
        lot = label.lot if outcome == "applied" else None
        self.steps.append(Step("scan", text, fault, Expect(outcome, reason, escape_raw(wire), fault.duplicates,
                                                           moved, lot)))
        self._last_accepted, self._quiet_since_last = wire, 0.0
        self._rereads_owed = fault.duplicates > 0

    def finish(self) -> list[Step]:
        assert not self._rereads_owed, f"{self.scanner.id}: the last frame's re-reads would never be reported"
        return self.steps


# --- label helpers ------------------------------------------------------------------------------------

def gs1_lot_last(item: str, lot: str, expiry: dt.date, *, day00: bool = False, serial: str | None = None) -> str:
    """(01) (17) (10) [GS (21)]: the common DataMatrix order."""
    pairs = [("01", ITEMS[item].gtin14), ("17", yymmdd(expiry, day00=day00)), ("10", lot)]
    if serial:
        pairs.append(("21", serial))
    return element_string(*pairs)


def gs1_lot_first(item: str, lot: str, expiry: dt.date, count: int | None = None) -> str:
    """(01) (10) GS (17) [(30)]: the lot is followed by another AI, so it needs its GS."""
    pairs = [("01", ITEMS[item].gtin14), ("10", lot), ("17", yymmdd(expiry))]
    if count is not None:
        pairs.append(("30", str(count)))
    return element_string(*pairs)


def gs1_code(gtin13: str, lot: str, expiry: dt.date) -> str:
    return element_string(("01", gtin13.zfill(14)), ("17", yymmdd(expiry)), ("10", lot))


def hibc_concat(item: str, lot: str, expiry: dt.date, flag: str = "3") -> str:
    """Primary and secondary in one symbol: +LIC PCN U/M / $$<flag><date><lot> C."""
    code = ITEMS[item].hibc
    date = {"3": f"3{expiry:%y%m%d}", "mmyy": f"{expiry:%m%y}", "2": f"2{expiry:%m%d%y}"}[flag]
    if flag == "mmyy":
        assert expiry.day == calendar.monthrange(expiry.year, expiry.month)[1]
    return with_hibc_check(f"+{code}/$${date}{lot}")


def hibc_14d(item: str, lot: str, expiry: dt.date) -> str:
    """+LIC PCN U/M / $<lot> / 14D<YYYYMMDD> C: lot, then the expiry as a supplemental field."""
    return with_hibc_check(f"+{ITEMS[item].hibc}/${lot}/14D{expiry:%Y%m%d}")


def hibc_pair(item: str, lot: str, expiry: dt.date) -> str:
    """A primary and a separate secondary symbol read back to back; the link character is the primary's check."""
    primary = with_hibc_check(f"+{ITEMS[item].hibc}")
    secondary = with_hibc_check(f"+$$3{expiry:%y%m%d}{lot}{primary[-1]}")
    return primary + secondary


def hibc_primary(item: str) -> str:
    return with_hibc_check(f"+{ITEMS[item].hibc}")


def hibc_bad_check(item: str, lot: str, expiry: dt.date) -> str:
    good = hibc_concat(item, lot, expiry)
    wrong = HIBC_CHARSET[(HIBC_CHARSET.index(good[-1]) + 7) % 43]
    if wrong == "+":
        wrong = HIBC_CHARSET[(HIBC_CHARSET.index(good[-1]) + 8) % 43]
    return good[:-1] + wrong


def ean(item: str) -> str:
    """The item's EAN-13, as a bare EAN-13 symbol sends it."""
    code = ITEMS[item].gtin
    assert code is not None
    return code


def bare_gtin_forms(item: str) -> Iterator[tuple[str, Fault]]:
    """One GTIN in the shapes scanners send it: EAN-13 with and without ]E0, GTIN-14 as ITF-14."""
    code = ean(item)
    forms = [(code, Fault()), (code, Fault(aim="]E0")), ("0" + code, Fault(aim="]I1")), ("0" + code, Fault())]
    while True:
        yield from forms


def d(year: int, month: int, day: int = 0) -> dt.date:
    """A date; day 0 means the last day of the month."""
    return dt.date(year, month, day or calendar.monthrange(year, month)[1])


# --- the three scripts ----------------------------------------------------------------------------------

def script_st1(b: Builder) -> None:
    """CR (some LF, CRLF) terminators; DataMatrix ]d2, GS1-128 ]C1, EAN; unplug with a frame cut short."""
    dm, c1 = Fault(aim="]d2"), Fault(aim="]C1")
    syringe_lots = [("SYA", d(2031, 3)), ("SYB", d(2030, 11)), ("SYC", d(2032, 1, 15)), ("SYD", d(2031, 7)),
                    ("SYE", d(2033, 2, 10)), ("SYF", d(2030, 9, 14)), ("SYG", d(2034, 5, 5)), ("SYH", d(2031, 12, 1))]
    faults = [dm, Fault(aim="]d2", duplicates=2), Fault(), Fault(aim="]d2", chunk_size=7),
              Fault(aim="]d2", terminator="lf"), Fault(aim="]d2", gs="leading"), Fault(aim="]d2", terminator="crlf"),
              Fault(aim="]d2", gs="trailing", chunk_size=5)]
    for i, ((lot, expiry), fault) in enumerate(zip(syringe_lots, faults, strict=True)):
        day00 = expiry.day == calendar.monthrange(expiry.year, expiry.month)[1] and i % 2 == 1
        b.product(gs1_lot_last("syringe", lot, expiry, day00=day00, serial=f"S{i}X" if i % 3 == 0 else None),
                  "syringe", lot, expiry, fault=fault)
    b.card("#QTY:10")
    b.product(gs1_lot_last("syringe", "SYA", d(2031, 3)), "syringe", "SYA", d(2031, 3), fault=dm)
    b.card("#QTY:0", expect=("rejected", "bad_quantity"))
    b.card("#QTY:4", fault=Fault(aim="]C0"))
    # GS1-128 with the lot before the expiry: the GS after the lot matters.
    glove_lots = [("GLA", d(2030, 10, 20)), ("GLB", d(2031, 1, 9)), ("GLC", d(2030, 6, 2)), ("GLD", d(2032, 8, 8))]
    glove_faults = [c1, Fault(aim="]C1", gs="double"), Fault(aim="]C1", gs="leading", duplicates=1),
                    Fault(gs="trailing", terminator="crlf", chunk_size=64)]
    for (lot, expiry), fault in zip(glove_lots, glove_faults, strict=True):
        b.product(gs1_lot_first("gloves", lot, expiry), "gloves", lot, expiry, fault=fault)  # first takes #QTY:4
    b.unreadable(gs1_lot_first("gloves", "GLE", d(2031, 4, 4)), "needs_confirmation", Fault(aim="]C1", gs="lose"))
    b.product(gs1_lot_first("gloves", "GLE", d(2031, 4, 4)), "gloves", "GLE", d(2031, 4, 4), fault=c1)
    b.product(gs1_lot_first("gloves", "GLF", d(2030, 12, 12), count=24), "gloves", "GLF", d(2030, 12, 12), qty=24,
              fault=Fault(aim="]C1", gs="double"))
    # GS1 data in a plain Code 128 cannot be trusted.
    b.unreadable(gs1_lot_first("gloves", "GLG", d(2031, 5, 5)), "needs_confirmation", Fault(aim="]C0"))
    # HIBC, concatenated, with its mod-43 check character.
    for lot, expiry, flag, fault in [("GZA", d(2031, 6, 30), "3", Fault()), ("GZB", d(2030, 8), "mmyy", Fault()),
                                     ("GZC", d(2032, 2, 2), "3", Fault(chunk_size=6, duplicates=2)),
                                     ("GZD", d(2031, 11, 11), "2", Fault(aim="]A0")),
                                     ("GZE", d(2033, 3, 3), "3", Fault(gs="leading", terminator="lf"))]:
        b.product(hibc_concat("gauze", lot, expiry, flag), "gauze", lot, expiry, fault=fault)
    b.product(hibc_14d("gauze", "GZF", d(2031, 9, 19)), "gauze", "GZF", d(2031, 9, 19))
    b.unreadable(hibc_bad_check("gauze", "GZG", d(2031, 9, 19)), "bad_check_character")
    b.product(ean("syringe"), "syringe", expect=("rejected", "missing_lot"))
    b.product(gs1_code(UNKNOWN_GTINS[0], "UNK1", d(2031, 1, 1)), None, fault=dm, expect=("pending", "unknown_gtin"))
    b.unreadable("HELLO?SCANNER", "unparseable")
    b.noise("\x00\x00\x7f\x00")
    b.unreadable(ean13("460100000011")[:-1] + "9", "bad_check_character", Fault(aim="]E0"))
    # Staff count the same box twice by taking it out of view for longer than the re-read window.
    b.product(gs1_lot_last("syringe", "SYB", d(2030, 11)), "syringe", "SYB", d(2030, 11), fault=dm)
    b.pause(1.2)
    b.product(gs1_lot_last("syringe", "SYB", d(2030, 11)), "syringe", "SYB", d(2030, 11), fault=dm)
    b.unplug(cut=gs1_lot_last("syringe", "SYC", d(2032, 1, 15))[:20], fault=dm)
    b.product(gs1_lot_last("syringe", "SYC", d(2032, 1, 15)), "syringe", "SYC", d(2032, 1, 15), fault=dm)
    for i in range(16):
        lot, expiry = f"SX{i}", d(2030 + i % 4, 1 + i % 12, 10 + i)
        b.product(gs1_lot_last("syringe", lot, expiry), "syringe", lot, expiry,
                  fault=[dm, Fault(aim="]d2", gs="double", terminator="crlf"), Fault(chunk_size=3), c1][i % 4])

    # Consume: plain EAN/GTIN-14 take FEFO, a DataMatrix names its lot.
    b.card("#MODE:CONSUME")
    forms = bare_gtin_forms("syringe")
    for i in range(16):
        text, fault = next(forms)
        if i % 3 == 2:
            b.card(f"#QTY:{2 + i // 3}")
        b.product(text, "syringe", fault=Fault(aim=fault.aim, chunk_size=4 if i % 4 == 1 else 0,
                                               duplicates=1 if i == 5 else 0))
    gloves = bare_gtin_forms("gloves")
    for _ in range(4):
        text, fault = next(gloves)
        b.product(text, "gloves", fault=fault)
    b.product(gs1_lot_last("syringe", "SYE", d(2033, 2, 10)), "syringe", "SYE", d(2033, 2, 10), fault=dm)
    b.product(gs1_lot_last("syringe", "SYZ", d(2033, 2, 10)), "syringe", "SYZ", d(2033, 2, 10), fault=dm,
              expect=("rejected", "unknown_lot"))
    b.product(hibc_concat("gauze", "GZA", d(2031, 6, 30)), "gauze", "GZA", d(2031, 6, 30))
    b.product(hibc_primary("gauze"), "gauze")
    b.card("#QTY:999")
    b.product(ean("syringe"), "syringe", expect=("rejected", "insufficient_stock"))
    b.product(ean("gloves"), "gloves", expect=("rejected", "insufficient_stock"))  # #QTY still pending
    b.card("#QTY:2")
    b.product(ean("gloves"), "gloves")
    b.product(ean13("460100000097"), None, expect=("pending", "unknown_gtin"))
    b.card("#DONE")

    # Transfer to the clinic room.
    b.card("#MODE:TRANSFER")
    b.product(ean("syringe"), "syringe", expect=("rejected", "no_target_location"))
    b.card(f"#LOC:{CLINIC}")
    b.card("#QTY:3")
    b.product(ean("syringe"), "syringe", fault=Fault(chunk_size=2))
    b.product(gs1_lot_last("syringe", "SYG", d(2034, 5, 5)), "syringe", "SYG", d(2034, 5, 5), fault=dm)
    b.card("#LOC:NOWHERE", expect=("rejected", "unknown_location"))
    b.product(ean("gloves"), "gloves")  # still to the clinic room
    b.card(f"#LOC:{CLINIC}", fault=Fault(aim="]C0"))
    b.product(ean("gloves"), "gloves")
    b.product(hibc_concat("gauze", "GZC", d(2032, 2, 2)), "gauze", "GZC", d(2032, 2, 2))
    b.card("#DONE")
    b.product(gs1_lot_last("syringe", "SYI", d(2032, 4, 4)), "syringe", "SYI", d(2032, 4, 4), fault=dm)


def script_st2(b: Builder) -> None:
    """CRLF and LF, chunked writes (USB-CDC), GS1-128, Digital Link, a count session, an over-long frame."""
    crlf, lf = Fault(terminator="crlf"), Fault(terminator="lf")
    b.product(ean("catheter"), "catheter", fault=crlf, expect=("rejected", "insufficient_stock"))
    b.card("#MODE:RECEIVE", fault=crlf)
    catheter_lots = [(f"CT{i:02d}", d(2030 + i % 5, 1 + (i * 5) % 12, 1 + (i * 7) % 28)) for i in range(24)]
    faults = [Fault(terminator="crlf", aim="]C1", chunk_size=64), Fault(terminator="crlf", aim="]C1", chunk_size=5),
              Fault(terminator="lf", aim="]C1", gs="double", chunk_size=16),
              Fault(terminator="crlf", aim="]C1", gs="trailing", duplicates=3),
              Fault(terminator="crlf", gs="leading", chunk_size=1), Fault(terminator="lf", aim="]d2", chunk_size=64)]
    for i, (lot, expiry) in enumerate(catheter_lots):
        if i % 5 == 4:
            b.card(f"#QTY:{i + 2}", fault=crlf)
        b.product(gs1_lot_first("catheter", lot, expiry), "catheter", lot, expiry, fault=faults[i % len(faults)])
    # GS lost after a lot that another AI follows: flagged, never guessed; the next read is fine.
    b.unreadable(gs1_lot_first("catheter", "CTX", d(2031, 2, 2)), "needs_confirmation",
                 Fault(terminator="crlf", aim="]C1", gs="lose", chunk_size=8))
    b.product(gs1_lot_first("catheter", "CTX", d(2031, 2, 2)), "catheter", "CTX", d(2031, 2, 2),
              fault=Fault(terminator="crlf", aim="]C1", chunk_size=8))
    # GS1 Digital Link in a plain QR Code, one upper-cased by the encoder.
    gtin14 = ITEMS["dressing"].gtin14
    b.product(f"https://id.gs1.org/01/{gtin14}/10/DLA?17=310430", "dressing", "DLA", d(2031, 4, 30),
              fault=Fault(terminator="crlf", aim="]Q1", chunk_size=64))
    b.product(f"HTTPS://ID.GS1.ORG/01/{gtin14}/10/DLB?17=320115", "dressing", "DLB", d(2032, 1, 15),
              fault=Fault(terminator="crlf", aim="]Q1", chunk_size=7))
    for i in range(12):
        lot, expiry = f"DR{i}", d(2031 + i % 3, 2 + i % 10, 3 + i)
        b.product(gs1_lot_last("dressing", lot, expiry, serial=f"SN{i:04d}"), "dressing", lot, expiry,
                  fault=[Fault(terminator="crlf", aim="]d2"), Fault(terminator="lf", aim="]d2", gs="double"),
                         Fault(terminator="crlf", chunk_size=9, gs="trailing")][i % 3])
    b.product(gs1_code(UNKNOWN_GTINS[1], "UNK2", d(2031, 1, 1)), None, fault=Fault(terminator="crlf", aim="]d2"),
              expect=("pending", "unknown_gtin"))
    b.too_long("Z" * 5000, crlf)
    b.product(gs1_lot_first("catheter", "CT00", d(2030, 1, 1)), "catheter", "CT00", d(2030, 1, 1),
              fault=Fault(terminator="crlf", aim="]C1"))
    b.unplug()
    b.noise("\x00\x1b\x00\x00", crlf)  # line noise when the scanner is plugged back in
    b.card("#DONE", fault=crlf)

    # Home mode is consume.
    forms = bare_gtin_forms("catheter")
    for i in range(20):
        text, fault = next(forms)
        if i % 4 == 3:
            b.card(f"#QTY:{2 + i // 4}", fault=lf)
        b.product(text, "catheter", fault=Fault(terminator="crlf" if i % 2 else "lf", aim=fault.aim,
                                                chunk_size=[0, 3, 64][i % 3], duplicates=2 if i == 6 else 0))
    b.product(gs1_lot_last("dressing", "DR2", d(2033, 4, 5), serial="SN0002"), "dressing", "DR2", d(2033, 4, 5),
              fault=Fault(terminator="crlf", aim="]d2"))
    b.card("#QTY:500", fault=crlf)
    b.product(ean("dressing"), "dressing", fault=crlf, expect=("rejected", "insufficient_stock"))
    b.card("#QTY:1", fault=crlf)

    # A count session: lines add up per lot, #DONE writes one count movement per lot.
    b.card("#MODE:COUNT", fault=crlf)
    b.card("#QTY:7", fault=crlf)
    b.product(gs1_lot_first("catheter", "CT01", d(2031, 6, 8)), "catheter", "CT01", d(2031, 6, 8),
              fault=Fault(terminator="crlf", aim="]C1", chunk_size=4))
    b.card("#MODE:CONSUME", fault=crlf, expect=("rejected", "count_open"))
    b.product(gs1_lot_first("catheter", "CT02", d(2032, 11, 15)), "catheter", "CT02", d(2032, 11, 15),
              fault=Fault(terminator="lf", aim="]C1"))
    b.card("#QTY:3", fault=crlf)
    b.product(gs1_lot_first("catheter", "CT01", d(2031, 6, 8)), "catheter", "CT01", d(2031, 6, 8),
              fault=Fault(terminator="crlf", aim="]C1", gs="double"))
    b.product(gs1_lot_first("catheter", "CTN", d(2033, 9, 9)), "catheter", "CTN", d(2033, 9, 9),
              fault=Fault(terminator="crlf", aim="]C1", duplicates=2))  # a lot never received
    b.product(ean("catheter"), "catheter", fault=crlf, expect=("rejected", "missing_lot"))
    b.product(f"https://id.gs1.org/01/{gtin14}/10/DLA?17=310430", "dressing", "DLA", d(2031, 4, 30),
              fault=Fault(terminator="crlf", aim="]Q1"))
    b.card("#DONE", fault=crlf)

    b.card("#MODE:TRANSFER", fault=crlf)
    b.card(f"#LOC:{CLINIC}", fault=lf)
    b.card("#QTY:4", fault=crlf)
    b.product(gs1_lot_first("catheter", "CT01", d(2031, 6, 8)), "catheter", "CT01", d(2031, 6, 8),
              fault=Fault(terminator="crlf", aim="]C1", chunk_size=6))
    b.product(ean("dressing"), "dressing", fault=Fault(terminator="crlf", aim="]E0"))
    b.card("#DONE", fault=crlf)
    text, fault = next(bare_gtin_forms("dressing"))
    b.product(text, "dressing", fault=crlf)


def script_st3(b: Builder) -> None:
    """No suffix (idle-gap framing) and some CR; HIBC concatenated and as two symbols, EAN, a count."""
    none, cr = Fault(terminator="none"), Fault(terminator="cr")
    swab_lots = [(f"SW{i}", d(2030 + i % 4, 1 + (i * 3) % 12, 5 + i)) for i in range(20)]
    for i, (lot, expiry) in enumerate(swab_lots):
        fault = [none, Fault(terminator="cr", aim="]A0"), Fault(terminator="none", chunk_size=8),
                 Fault(terminator="cr", gs="trailing", duplicates=1), Fault(terminator="none", gs="leading")][i % 5]
        if i % 4 == 3:
            b.card(f"#QTY:{i}", fault=cr)
        b.product(hibc_concat("swab", lot, expiry), "swab", lot, expiry, fault=fault)
    for i in range(6):
        lot, expiry = f"MK{i}", d(2031 + i % 2, 3 + i, 10 + i)
        b.product(hibc_pair("mask", lot, expiry), "mask", lot, expiry, fault=[none, cr][i % 2])
    b.product(hibc_14d("mask", "MK9", d(2034, 1, 31)), "mask", "MK9", d(2034, 1, 31), fault=none)
    for i in range(12):
        lot, expiry = f"TP{i}", d(2032, 1 + i, 20)
        b.product(gs1_lot_last("tape", lot, expiry), "tape", lot, expiry,
                  fault=[Fault(terminator="none", aim="]d2"), Fault(terminator="cr", aim="]d2", gs="leading"),
                         Fault(terminator="cr", aim="]d2", chunk_size=10)][i % 3])
    b.unreadable(hibc_bad_check("swab", "SW1", d(2031, 4, 6)), "bad_check_character", none)
    b.unreadable(hibc_bad_check("mask", "MK1", d(2032, 4, 11)), "bad_check_character", cr)
    b.product(gs1_code(UNKNOWN_GTINS[2], "UNK3", d(2031, 1, 1)), None, fault=Fault(terminator="none", aim="]d2"),
              expect=("pending", "unknown_gtin"))
    b.noise("\x00\x00\x00", none)
    b.unreadable("~~~ ERR 42 ~~~", "unparseable", none)
    b.product(hibc_primary("swab"), "swab", fault=none, expect=("rejected", "missing_lot"))
    b.unplug()
    b.noise("\x7f\x00", none)
    b.product(hibc_concat("swab", "SW0", d(2030, 1, 5)), "swab", "SW0", d(2030, 1, 5), fault=none)

    b.card("#MODE:CONSUME", fault=none)
    for i in range(14):
        item = ("swab", "mask", "swab")[i % 3]
        if i % 3 == 0:
            b.card(f"#QTY:{1 + i // 3}", fault=cr)
        b.product(hibc_primary(item), item, fault=[none, cr, Fault(terminator="cr", aim="]A0")][i % 3])
    tape = bare_gtin_forms("tape")
    for i in range(9):
        text, fault = next(tape)
        b.product(text, "tape", fault=Fault(terminator=("none", "cr")[i % 2], aim=fault.aim,
                                            duplicates=1 if i == 2 else 0))
    b.product(hibc_14d("mask", "MK9", d(2034, 1, 31)), "mask", "MK9", d(2034, 1, 31), fault=none)
    b.card("#QTY:300", fault=none)
    b.product(hibc_primary("swab"), "swab", fault=none, expect=("rejected", "insufficient_stock"))
    b.card("#DONE", fault=none)

    b.card("#MODE:COUNT", fault=none)
    b.card("#QTY:5", fault=none)
    b.product(hibc_concat("swab", "SW2", d(2032, 7, 7)), "swab", "SW2", d(2032, 7, 7), fault=none)
    b.product(hibc_concat("swab", "SW3", d(2033, 10, 8)), "swab", "SW3", d(2033, 10, 8), fault=cr)
    b.product(hibc_pair("mask", "MK4", d(2031, 7, 14)), "mask", "MK4", d(2031, 7, 14), fault=none)
    b.card("#MODE:RECEIVE", fault=none, expect=("rejected", "count_open"))
    b.product(gs1_lot_last("tape", "TP1", d(2032, 2, 20)), "tape", "TP1", d(2032, 2, 20),
              fault=Fault(terminator="none", aim="]d2"))
    b.card("#DONE", fault=cr)

    b.card("#MODE:TRANSFER", fault=none)
    b.card(f"#LOC:{CLINIC}", fault=none)
    b.product(hibc_concat("swab", "SW2", d(2032, 7, 7)), "swab", "SW2", d(2032, 7, 7), fault=none)
    b.card("#QTY:2", fault=none)
    b.product(ean("tape"), "tape", fault=none)
    b.card("#DONE", fault=none)
    b.product(hibc_concat("swab", "SW9", d(2034, 9, 9)), "swab", "SW9", d(2034, 9, 9), fault=none)


SCRIPTS = {"st-1": script_st1, "st-2": script_st2, "st-3": script_st3}


@dataclass(frozen=True)
class Script:
    steps: dict[str, list[Step]]  # per scanner id
    stations: dict[str, Station]  # each station's state at the end
    model: Model

    def expected(self, scanner_id: str) -> list[Expect]:
        return [s.expect for s in self.steps[scanner_id] if s.expect is not None]

    @property
    def frames(self) -> int:
        return sum(len(self.expected(s)) for s in self.steps)


def build() -> Script:
    model = Model()
    steps, stations = {}, {}
    for scanner in SCANNERS:
        builder = Builder(model, scanner)
        SCRIPTS[scanner.id](builder)
        steps[scanner.id], stations[scanner.id] = builder.finish(), builder.station
    return Script(steps, stations, model)

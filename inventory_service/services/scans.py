"""Every scanned frame becomes one `scans` row: applied (with its movements), a command, rejected
with a reason code, or pending a manager's decision (an unknown GTIN). Nothing is dropped.

The station rules are in `domain.station`; this module resolves items and lots and applies the
stock action inside a savepoint, so a refused action still leaves its rejected scan row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select, update

from devices.barcodes import ScanData

from ..db.direct import Direct
from ..db.models import CountLine, Item, Lot, Scan
from ..db.uow import UnitOfWork
from ..domain import fefo
from ..domain.errors import Conflict, DomainError, NotFound
from ..domain.lots import receive_warnings
from ..domain.station import Act, Label, Mode, NewState, Reject, decide
from . import catalog, ledger, stock
from .catalog import ItemRef
from .context import Context
from .pagination import Page, page_by_id
from .stations import Station, get_scanner, location_by_code, lock_station, save_state, state_of

OUTCOMES = ("applied", "command", "rejected", "pending")
#: Reasons the serial reader gives for frames it refused itself (devices.serial.framing), with what the
#: person at the station reads: what happened, then what to do.
READER_MESSAGES = {
    "too_long": "Too much read at once – scan one label at a time",
    "noise": "Nothing readable came in – scan again",
    "cut_by_port_loss": "Cut off: the scanner was unplugged – scan again",
    "cut_by_stop": "Cut off: the station was stopped – scan again",
}
READER_REJECTIONS = tuple(READER_MESSAGES)
#: Receiving a lot that expires within this many days warns (INVENTORY_RECEIVE_WARN_DAYS).
RECEIVE_WARN_DAYS = 30


_SCANS = Scan.__table__
_SCAN_FIELDS = tuple(c.key for c in _SCANS.c if c.key != "id")
_INSERT_SCAN = Direct(_SCANS.insert().returning(_SCANS.c.id))


class ScanRejected(DomainError):
    """Raised inside the savepoint: the scan is refused for `code` (missing_expiry, unknown_lot, ...)."""


def escape_raw(text: str) -> str:
    """Printable ASCII as is, backslash doubled, anything else as \\xNN or \\uNNNN: lossless and
    safe to store and show (a GS becomes \\x1d, a NUL cannot break a text column)."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)


def label_of(parsed: ScanData) -> Label:
    hibc = f"{parsed.lic}{parsed.pcn}{parsed.unit_of_measure}" if parsed.kind == "hibc" and parsed.lic else None
    return Label(kind=parsed.kind, gtin=parsed.gtin, hibc_code=hibc, lot=parsed.lot, expiry=parsed.expiry,
                 quantity=parsed.quantity, command=parsed.command, argument=parsed.argument, error=parsed.error,
                 needs_confirmation=parsed.needs_confirmation)


class NeedsSavepoint(Exception):
    """Raised by `record(..., savepoints=False)` when a stock action was refused: the caller rolls the
    transaction back and records the same frames again with savepoints (see `record`)."""


def record(uow: UnitOfWork, ctx: Context, scanner_id: str, parsed: ScanData, *,
           rejected: str | None = None, rereads_before: int = 0, savepoints: bool = True,
           receive_warn_days: int = RECEIVE_WARN_DAYS) -> Scan:
    """Store and act on one frame from `scanner_id`.

    `rejected` marks a frame the reader already refused (too long, noise, cut off by an unplug): it
    is stored with that reason and not acted on. `rereads_before` is the number of presentation
    re-reads of the station's previous frame that the reader suppressed: they are counted on that
    frame's row (`rereads`), so every frame that came in is accounted for.

    A stock action runs in a savepoint, so an action refused half-way (say, the second lot of a FEFO
    pick) leaves nothing behind but its rejected scan row. With `savepoints=False` (the scanner
    ingest's batches) it runs without one, which saves two statements per scan, and a refused action
    raises NeedsSavepoint instead of being recorded: the caller must then roll the whole transaction
    back and record its frames again with savepoints. Refusals are the exception, so most batches
    commit on the first pass.

    A received label whose lot is past its expiry is rejected (`lot_expired`); one expiring within
    `receive_warn_days` is applied with an `expires_soon:<date>` warning.
    """
    station = lock_station(uow, scanner_id)
    if station.location_id is None:  # never set up: it has no reader, so nothing should come from it
        raise Conflict(f"scanner {scanner_id!r} has no location (misconfigured)", code="station_misconfigured")
    if rereads_before:
        # The count refers to the previous frame the reader accepted, not to one it refused since.
        previous = (select(_SCANS.c.id).where(
            _SCANS.c.scanner_id == scanner_id,
            or_(_SCANS.c.reason.is_(None), _SCANS.c.reason.not_in(READER_REJECTIONS)))
            .order_by(_SCANS.c.id.desc()).limit(1).scalar_subquery())
        uow.session.execute(update(_SCANS).where(_SCANS.c.id == previous)
                            .values(rereads=_SCANS.c.rereads + rereads_before))
    label = label_of(parsed)
    scan = Scan(scanner_id=station.id, received_at=ctx.now, raw=escape_raw(parsed.raw), kind=parsed.kind,
                symbology=parsed.symbology, gtin=parsed.gtin, hibc_code=label.hibc_code, lot_number=parsed.lot,
                expiry=parsed.expiry, quantity=parsed.quantity, parsed=parsed.to_dict(),
                mode=station.state.mode.value, location_id=station.location_id,
                target_location=station.state.target_location, warnings=list(parsed.warnings), movement_ids=[],
                outcome="rejected", rereads=0)
    count_line: CountLine | None = None
    if rejected is not None:
        _reject(scan, rejected, READER_MESSAGES.get(rejected, "The scanner's read was cut or garbled – scan again"))
    else:
        decision = decide(station.state, label)
        if isinstance(decision, NewState) and label.command == "loc" and \
                location_by_code(uow, label.argument or "") is None:
            # Refused when it is scanned, not at the next label: the person still holds the card.
            decision = Reject("unknown_location", f"No location {label.argument} – scan a location label from the list")
        if isinstance(decision, Reject):
            _reject(scan, decision.reason, decision.message)
        elif isinstance(decision, NewState):
            scan.outcome, scan.message = "command", decision.note
            if decision.finish_count:
                scan.movement_ids = _finish_count(uow, ctx, station.id)
            save_state(uow, ctx, station, decision.state)
        else:
            count_line = _act(uow, ctx, station, scan, decision, savepoints, receive_warn_days)
    # The row is written once, with its outcome (the action runs first), by a plain INSERT: the
    # session need not track a row the scan path never changes again.
    scan.id = _INSERT_SCAN.run(uow, {c: getattr(scan, c) for c in _SCAN_FIELDS}).scalar_one()
    if count_line is not None:
        count_line.scan_id = scan.id
        uow.session.add(count_line)
    return scan


def done_message(act: Act, item_name: str) -> str:
    """What an applied scan did, as the person at the station reads it."""
    if act.mode is Mode.RECEIVE:
        return f"Received {act.quantity} × {item_name}"
    if act.mode is Mode.CONSUME:
        return f"Took out {act.quantity} × {item_name}"
    if act.mode is Mode.COUNT:
        return f"Counted {act.quantity} × {item_name} (saved at #DONE)"
    return f"Moved {act.quantity} × {item_name} to {act.target_location}"


def _reject(scan: Scan, reason: str, message: str) -> None:
    scan.outcome, scan.reason, scan.message = "rejected", reason, message


def _act(uow: UnitOfWork, ctx: Context, station: Station, scan: Scan, act: Act, savepoint: bool,
         warn_days: int) -> CountLine | None:
    """Apply the scan's action; returns the count line to store once the scan has its id (count mode)."""
    # Once per code and batch transaction; a code mapped meanwhile applies from the next batch.
    label, code_key = act.label, ("item_by_code", act.label.gtin, act.label.hibc_code)
    lot: stock.LotLookup | None = None
    if act.mode in (Mode.RECEIVE, Mode.COUNT) and label.lot and label.expiry and not uow.remembers(code_key):
        # The first receive of this code in the transaction: the item and its lot in one round trip.
        found, lot = stock.find_item_and_lot(uow, gtin=label.gtin, hibc_code=label.hibc_code,
                                             lot_number=label.lot, expiry=label.expiry)
        item = uow.once(code_key, lambda: found)
    else:
        item = uow.once(code_key, lambda: catalog.find_item(uow, gtin=label.gtin, hibc_code=label.hibc_code))
    scan.applied_quantity = act.quantity
    if item is None:
        scan.outcome, scan.reason = "pending", "unknown_gtin"
        scan.message = "Unknown product – set it aside for the manager, who adds its barcode to an item"
        save_state(uow, ctx, station, act.state)  # the quantity went with this scan
        return None
    scan.item_id = item.id
    if not savepoint:
        try:
            applied = _apply(uow, ctx, scan, item, act, lot, warn_days)
        except DomainError as exc:
            raise NeedsSavepoint(exc.code) from exc
    else:
        maybe = _apply_or_reject(uow, ctx, scan, item, act, lot, warn_days)
        if maybe is None:
            return None
        applied = maybe
    scan.outcome, scan.lot_id = "applied", applied.lot_id
    scan.movement_ids = applied.movement_ids
    scan.warnings = [*scan.warnings, *applied.warnings]
    scan.message = done_message(act, item.name)
    save_state(uow, ctx, station, act.state)
    return applied.count_line


def _apply_or_reject(uow: UnitOfWork, ctx: Context, scan: Scan, item: Item | ItemRef, act: Act,
                     lot: stock.LotLookup | None = None, warn_days: int = RECEIVE_WARN_DAYS) -> Applied | None:
    """`_apply` in a savepoint; a refused action is rolled back and the scan marked rejected (None)."""
    try:
        with ledger.savepoint(uow):
            return _apply(uow, ctx, scan, item, act, lot, warn_days)
    except DomainError as exc:
        _reject(scan, exc.code, exc.message)
        return None


@dataclass
class Applied:
    movement_ids: list[int]
    lot_id: int | None
    warnings: list[str] = field(default_factory=list)
    count_line: CountLine | None = None  # count mode: stored with the scan's id by the caller


def _apply(uow: UnitOfWork, ctx: Context, scan: Scan, item: Item | ItemRef, act: Act,
           lot: stock.LotLookup | None = None, warn_days: int = RECEIVE_WARN_DAYS) -> Applied:
    """Apply `act` for `scan` at the location the station had when it was scanned (`lot`: the label's
    lot as looked up with the item in this transaction, if it was)."""
    loc = scan.location_id
    label, qty = act.label, act.quantity
    if act.mode is Mode.RECEIVE:
        if label.lot and label.expiry is not None:  # refused before a lot is created for it
            stock.assert_receivable(label.lot, label.expiry, ctx.today)
        lot_id, expiry = _receiving_lot(uow, ctx, item, label.lot, label.expiry, lot)
        if label.expiry is None:  # the stored lot's expiry
            stock.assert_receivable(label.lot or "", expiry, ctx.today)
        ms = stock.receive_into(uow, ctx, item_id=item.id, location_id=loc, lot_id=lot_id, quantity=qty)
        return Applied([m.id for m in ms], lot_id, receive_warnings(expiry, ctx.today, warn_days))
    if act.mode is Mode.COUNT:
        lot_id, _ = _receiving_lot(uow, ctx, item, label.lot, label.expiry, lot)
        line = CountLine(scanner_id=scan.scanner_id, location_id=loc, item_id=item.id, lot_id=lot_id,
                         quantity=qty, closed=False)
        return Applied([], lot_id, count_line=line)
    lot_id = _existing_lot(uow, item, label.lot, label.expiry).id if label.lot else None
    if act.mode is Mode.CONSUME:
        warnings = _fefo_warning(uow, ctx, item.id, loc, lot_id) if lot_id else []
        ms = stock.consume(uow, ctx, item_id=item.id, location_id=loc, quantity=qty, lot_id=lot_id)
        return Applied([m.id for m in ms], lot_id, warnings)
    target = location_by_code(uow, act.target_location or "")
    if target is None:
        raise ScanRejected(f"No location {act.target_location} – scan a location label from the list",
                           code="unknown_location")
    ms = stock.transfer(uow, ctx, item_id=item.id, location_id=loc, to_location_id=target.id, quantity=qty,
                        lot_id=lot_id, reference=f"station:{scan.scanner_id}")
    return Applied([m.id for m in ms], lot_id)


def _receiving_lot(uow: UnitOfWork, ctx: Context, item: Item | ItemRef, lot_number: str | None,
                   expiry: date | None, known: stock.LotLookup | None = None) -> tuple[int, date]:
    """Id and expiry of the label's lot, created on first sight. A label without an expiry reuses the one
    lot of that number and never erases its stored expiry; without any such lot it is refused."""
    if not lot_number:
        raise ScanRejected("No lot number on this label – set it aside for the manager", code="missing_lot")
    if expiry is not None:
        return stock.find_or_create_lot_id(uow, ctx, item.id, lot_number, expiry, known), expiry
    found = _existing_lot(uow, item, lot_number, None, missing="missing_expiry")
    return found.id, found.expiry


def _existing_lot(uow: UnitOfWork, item: Item | ItemRef, lot_number: str | None, expiry: date | None,
                  missing: str = "unknown_lot") -> Lot:
    q = select(Lot).where(Lot.item_id == item.id, Lot.lot_number == lot_number)
    if expiry is not None:
        q = q.where(Lot.expiry == expiry)
    lots = list(uow.session.scalars(q.limit(2)))
    if not lots:
        what = ("No expiry date on this label and lot {lot} of {item} is not in stock yet – scan a label with "
                "its expiry" if missing == "missing_expiry" else "Lot {lot} of {item} is not in stock here – check "
                "the label, or set it aside for the manager")
        raise ScanRejected(what.format(lot=lot_number, item=item.name), code=missing)
    if len(lots) > 1:
        raise ScanRejected(f"Lot {lot_number} is in stock with several expiry dates – scan a label with its expiry",
                           code="needs_confirmation")
    return lots[0]


def _fefo_warning(uow: UnitOfWork, ctx: Context, item_id: int, location_id: int, lot_id: int) -> list[str]:
    """WHO TRS 961 Annex 9 §6.4 (FEFO): name a sooner-expiring usable lot at the same location."""
    balances = stock.lot_balances(uow, item_id, location_id)
    chosen = next((b for b in balances if b.lot_id == lot_id), None)
    usable = fefo.usable(balances, ctx.today)
    if chosen is None or not usable or usable[0].lot_id == lot_id or usable[0].expiry >= chosen.expiry:
        return []
    sooner = uow.session.get(Lot, usable[0].lot_id)
    return [f"fefo_sooner_lot:{sooner.lot_number if sooner else usable[0].lot_id}"]


def _finish_count(uow: UnitOfWork, ctx: Context, scanner_id: str) -> list[int]:
    """#DONE: one count movement per lot counted at this station since the count began."""
    lines = list(uow.session.scalars(select(CountLine).where(CountLine.scanner_id == scanner_id,
                                                             CountLine.closed.is_(False))))
    totals: dict[tuple[int, int, int], int] = {}
    for line in lines:
        key = (line.item_id, line.lot_id, line.location_id)
        totals[key] = totals.get(key, 0) + line.quantity
        line.closed = True
    movement_ids: list[int] = []
    for (item_id, lot_id, location_id), counted in sorted(totals.items()):
        ms, _ = stock.count(uow, ctx, item_id=item_id, location_id=location_id, lot_id=lot_id,
                            counted_quantity=counted, reason=f"station count at {scanner_id}")
        movement_ids += [m.id for m in ms]
    return movement_ids


def resolve(uow: UnitOfWork, ctx: Context, scan_id: int, item_id: int,
            receive_warn_days: int = RECEIVE_WARN_DAYS) -> Scan:
    """A manager maps a pending scan's code to an item; the scan is then applied exactly once, with
    the station's mode, quantity and location as they were when it was scanned."""
    scan = uow.session.get(Scan, scan_id, with_for_update=True)
    if scan is None:
        raise NotFound(f"scan {scan_id} not found", code="scan_not_found")
    if scan.outcome != "pending":
        raise Conflict(f"scan {scan_id} is {scan.outcome}, not pending", code="not_pending")
    item = catalog.get_item(uow, item_id)
    catalog.add_identifier(uow, item, gtin=scan.gtin, hibc_code=scan.hibc_code if not scan.gtin else None)
    scanner = get_scanner(uow, scan.scanner_id)
    label = Label(kind=scan.kind, gtin=scan.gtin, hibc_code=scan.hibc_code, lot=scan.lot_number, expiry=scan.expiry)
    act = Act(Mode(scan.mode), label, scan.applied_quantity or 1, scan.target_location, state_of(scanner))
    scan.item_id = item.id
    scan.resolved_at, scan.resolved_by = ctx.now, ctx.actor
    applied = _apply_or_reject(uow, ctx, scan, item, act, warn_days=receive_warn_days)
    if applied is None:
        return scan
    if applied.count_line is not None:
        applied.count_line.scan_id = scan.id
        uow.session.add(applied.count_line)
    scan.outcome, scan.reason, scan.lot_id, scan.movement_ids = "applied", None, applied.lot_id, applied.movement_ids
    scan.warnings = [*scan.warnings, *applied.warnings]
    scan.message = f"{done_message(act, item.name)} (mapped by {ctx.actor})"
    return scan


def scan_to_dict(s: Scan) -> dict[str, Any]:
    return {"id": s.id, "scanner_id": s.scanner_id, "received_at": s.received_at, "raw": s.raw, "kind": s.kind,
            "symbology": s.symbology, "gtin": s.gtin, "hibc_code": s.hibc_code, "lot_number": s.lot_number,
            "expiry": s.expiry, "quantity": s.applied_quantity, "mode": s.mode, "location_id": s.location_id,
            "target_location": s.target_location, "outcome": s.outcome, "reason": s.reason, "message": s.message,
            "warnings": s.warnings, "movement_ids": s.movement_ids, "item_id": s.item_id, "lot_id": s.lot_id,
            "resolved_at": s.resolved_at, "resolved_by": s.resolved_by, "rereads": s.rereads, "parsed": s.parsed}


def list_scans(uow: UnitOfWork, *, scanner_id: str | None, outcome: str | None, reason: str | None,
               after_id: int | None = None, limit: int | None, cursor: str | None) -> Page:
    """Scans newest first (or, with `after_id`, the ones after it, oldest first: for live feeds)."""
    q = select(Scan)
    if scanner_id:
        q = q.where(Scan.scanner_id == scanner_id)
    if outcome:
        q = q.where(Scan.outcome == outcome)
    if reason:
        q = q.where(Scan.reason == reason)
    if after_id is not None:
        q = q.where(Scan.id > after_id)
        return page_by_id(uow.session, q, Scan.id, limit=limit, cursor=cursor, to_dict=scan_to_dict)
    return page_by_id(uow.session, q, Scan.id, limit=limit, cursor=cursor, to_dict=scan_to_dict, newest_first=True)


def get_scan(uow: UnitOfWork, scan_id: int) -> Scan:
    scan = uow.session.get(Scan, scan_id)
    if scan is None:
        raise NotFound(f"scan {scan_id} not found", code="scan_not_found")
    return scan

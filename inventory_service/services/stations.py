"""Scanner stations: registered from INVENTORY_SCANNERS, their state edited through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, true, update

from devices.serial import ScannerConfig

from ..db.direct import Direct
from ..db.models import Location, Scanner
from ..db.uow import UnitOfWork
from ..domain.errors import InvalidRequest, NotFound
from ..domain.station import Mode, StationState
from . import ledger
from .context import Context


def scanner_to_dict(s: Scanner, location_code: str | None = None) -> dict[str, Any]:
    return {"id": s.id, "url": s.url, "port_settings": s.port_settings, "location_id": s.location_id,
            "location_code": location_code, "home_mode": s.home_mode, "mode": s.mode,
            "pending_quantity": s.pending_quantity, "target_location": s.target_location,
            "count_open": s.count_open, "updated_at": s.updated_at, "port_state": s.port_state,
            "port_detail": s.port_detail, "port_changed_at": s.port_changed_at, "config_error": s.config_error}


def state_of(s: Scanner) -> StationState:
    return StationState(Mode(s.mode), Mode(s.home_mode), s.pending_quantity, s.target_location, s.count_open)


#: The port state of a station whose definition could not be used: its reader is not started.
MISCONFIGURED = "misconfigured"


@dataclass
class Station:
    """A station as the scan path reads and changes it (see lock_station). `location_id` is None
    only for a station that was never set up with a usable definition (it has no reader)."""

    id: str
    location_id: int | None
    state: StationState


_SCANNERS = Scanner.__table__
_STATION_COLUMNS = (_SCANNERS.c.location_id, _SCANNERS.c.mode, _SCANNERS.c.home_mode, _SCANNERS.c.pending_quantity,
                    _SCANNERS.c.target_location, _SCANNERS.c.count_open)
_LOCK_STATION = Direct(select(*_STATION_COLUMNS).where(_SCANNERS.c.id == bindparam("s_id")).with_for_update())
# In id order: two transactions locking overlapping sets of stations then queue instead of deadlocking.
_LOCK_STATIONS = (select(_SCANNERS.c.id, *_STATION_COLUMNS)
                  .where(_SCANNERS.c.id.in_(bindparam("s_ids", expanding=True)))
                  .order_by(_SCANNERS.c.id).with_for_update())


def _station(scanner_id: str, row: Any) -> Station:
    location_id, mode, home_mode, quantity, target, count_open = row
    state = StationState(Mode(mode), Mode(home_mode), quantity, target, bool(count_open))
    return Station(scanner_id, location_id, state)


# The ledger head and one station in one statement, the head's row locked first (PostgreSQL locks a
# join's rows in FROM order): the one-frame transaction of a quiet stockroom saves a round trip.
_LOCK_STATION_AND_HEAD = Direct(
    select(*ledger.HEAD_COLUMNS, *_STATION_COLUMNS)
    .select_from(ledger.HEADS.join(_SCANNERS, true()))
    .where(ledger.HEADS.c.id == ledger.HEAD_ID, _SCANNERS.c.id == bindparam("s_id"))
    .with_for_update())


def lock_with_ledger_head(uow: UnitOfWork, scanner_ids: list[str]) -> None:
    """Lock the ledger head, then these stations (in id order), as a batch of scans needs them: one
    statement for one station, two for several (see lock_stations). Unknown ids are left to
    lock_station, which raises NotFound."""
    distinct = sorted(set(scanner_ids))
    if len(distinct) == 1:
        row = _LOCK_STATION_AND_HEAD.run(uow, {"s_id": distinct[0]}).first()
        if row is not None:
            ledger.hold_head(uow, row[:len(ledger.HEAD_COLUMNS)])
            station = _station(distinct[0], row[len(ledger.HEAD_COLUMNS):])
            uow.once(("station", distinct[0]), lambda: station)
            return
    ledger.lock_head(uow)
    lock_stations(uow, distinct)


def lock_stations(uow: UnitOfWork, scanner_ids: list[str]) -> None:
    """Lock several stations at once, ahead of `lock_station` for each (a batch of scans from
    many stations then takes one statement for them all). Unknown ids are left to lock_station."""
    distinct = sorted(set(scanner_ids))
    if len(distinct) == 1:  # an expanding IN is rendered again on every execution: skip it for one
        lock_station(uow, distinct[0])
        return
    rows = uow.session.execute(_LOCK_STATIONS, {"s_ids": distinct}).all()
    for scanner_id, *row in rows:
        station = _station(scanner_id, row)
        uow.once(("station", scanner_id), lambda s=station: s)


def lock_station(uow: UnitOfWork, scanner_id: str) -> Station:
    """The station with its row locked for the transaction (once per transaction), so its mode and
    pending quantity change one scan at a time. Read with a plain query: this runs for every scan."""

    def load() -> Station:
        row = _LOCK_STATION.run(uow, {"s_id": scanner_id}).first()
        if row is None:
            raise NotFound(f"scanner {scanner_id!r} not found", code="scanner_not_found")
        return _station(scanner_id, row)

    return uow.once(("station", scanner_id), load)


def save_state(uow: UnitOfWork, ctx: Context, station: Station, state: StationState) -> None:
    """Store the station's new state (nothing is written when it did not change, the usual case)."""
    if state == station.state:
        return
    t = Scanner.__table__
    uow.session.execute(update(t).where(t.c.id == station.id).values(
        mode=state.mode.value, home_mode=state.home_mode.value, pending_quantity=state.pending_quantity,
        target_location=state.target_location, count_open=state.count_open, updated_at=ctx.now))
    station.state = state


def location_by_code(uow: UnitOfWork, code: str) -> Location | None:
    return uow.session.scalar(select(Location).where(Location.code == code))


def register(uow: UnitOfWork, ctx: Context, config: ScannerConfig) -> Scanner:
    """Create the station on first sight; afterwards only its port settings follow the configuration,
    so a location or mode changed through the API survives a restart.

    Never raises for the definition's location: when its code names no location and the station has
    none yet (first sight, or only ever seen misconfigured), the station is stored misconfigured
    (`config_error` "no location with code 'X'", port_state `misconfigured`) and the caller must not
    start its reader. A station that has a location keeps it, whatever the code in the file. A
    usable registration clears an earlier `config_error`; a station that never had a location takes
    location and mode from this, its first usable definition.
    """
    settings = {"baudrate": config.baudrate, "parity": config.parity, "bytesize": config.bytesize,
                "stopbits": config.stopbits, "idle_ms": config.idle_ms, "dedupe_ms": config.dedupe_ms}
    scanner = uow.session.get(Scanner, config.id)
    if scanner is None:
        scanner = Scanner(id=config.id, url=config.url, port_settings=settings, location_id=None,
                          home_mode=config.mode, mode=config.mode, count_open=False, updated_at=ctx.now,
                          port_state="unknown")
        uow.session.add(scanner)
    elif scanner.location_id is None:
        scanner.home_mode = scanner.mode = config.mode
    scanner.url, scanner.port_settings = config.url, settings
    if scanner.location_id is None:
        loc = location_by_code(uow, config.location)
        if loc is None:
            misconfigure(scanner, ctx, f"no location with code {config.location!r}")
            uow.session.flush()
            return scanner
        scanner.location_id = loc.id
    if scanner.config_error is not None or scanner.port_state == MISCONFIGURED:
        scanner.config_error = None
        scanner.port_state, scanner.port_detail, scanner.port_changed_at = "unknown", None, ctx.now
    uow.session.flush()
    return scanner


def misconfigure(scanner: Scanner, ctx: Context, reason: str) -> None:
    """Mark the station as not set up: why (shown by the API and health), and no reader."""
    scanner.config_error = reason[:2000]
    scanner.port_state, scanner.port_detail, scanner.port_changed_at = MISCONFIGURED, None, ctx.now


def set_port_state(uow: UnitOfWork, ctx: Context, scanner_id: str, state: str, detail: str) -> None:
    """The reader opened, lost or closed the port: visible to the manager as the station's health."""
    scanner = get_scanner(uow, scanner_id)
    scanner.port_state, scanner.port_detail, scanner.port_changed_at = state, detail[:500] or None, ctx.now


def get_scanner(uow: UnitOfWork, scanner_id: str, *, lock: bool = False) -> Scanner:
    """The station; `lock` takes its row for the transaction (once per transaction), so its mode and
    pending quantity change one scan at a time."""
    q = select(Scanner).where(Scanner.id == scanner_id)
    if lock:
        scanner = uow.once(("scanner", scanner_id), lambda: uow.session.scalar(q.with_for_update()))
    else:
        scanner = uow.session.scalar(q)
    if scanner is None:
        raise NotFound(f"scanner {scanner_id!r} not found", code="scanner_not_found")
    return scanner


def list_scanners(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every station by id, with its location's code (None for a station without a location)."""
    rows = uow.session.execute(select(Scanner, Location.code).outerjoin(Location, Location.id == Scanner.location_id)
                               .order_by(Scanner.id))
    return [scanner_to_dict(s, code) for s, code in rows]


def update_scanner(uow: UnitOfWork, ctx: Context, scanner_id: str, *, location_id: int | None = None,
                   mode: str | None = None) -> Scanner:
    """Move a station to another location or change its home mode (the current mode follows)."""
    scanner = get_scanner(uow, scanner_id, lock=True)
    if location_id is not None:
        if uow.session.get(Location, location_id) is None:
            raise NotFound(f"location {location_id} not found", code="location_not_found")
        scanner.location_id = location_id
    if mode is not None:
        new = Mode(mode)
        if scanner.count_open:
            raise InvalidRequest("a count is open at this station: finish it with #DONE first", code="count_open")
        scanner.home_mode = scanner.mode = new.value
        scanner.pending_quantity = None
        scanner.target_location = None
    scanner.updated_at = ctx.now
    uow.session.flush()
    return scanner

"""What one process remembers of each storage unit's recent readings, so that evaluating a batch
need not read its units' windows back from the database every time.

A remembered window is a claim: "every reading of the unit stamped at or after `since`, in the
order of storage". It may be used only after the database has confirmed it (the caller counts the
unit's stored readings from `since` and compares with `len(rows)`): readings are never updated or
deleted and `(sensor_id, seq)` is unique, so a set of stored rows with as many members as the stored
set is the stored set. Another ingest instance (a shared subscription splits a sensor's messages
over instances), or a late reading from before `since`, makes the claim fail or not apply, and the
caller reads the window from the database as before (ARCHITECTURE §5: late readings are placed at
their timestamp and the affected window is re-evaluated).

Nothing learned inside a transaction is believed before that transaction commits: changes are
staged, then `commit()` keeps them or `discard()` forgets them (a rolled-back row remembered as
stored would make a later count match the wrong set).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

Row = tuple[datetime, float]  # (ts, temp_c)


@dataclass(frozen=True)
class Remembered:
    """Every reading of one unit with ts >= `since`, ordered by (ts, order of storage)."""

    since: datetime
    rows: tuple[Row, ...]

    def covers(self, start: datetime) -> bool:
        return self.since <= start

    def plus(self, added: Iterable[Row]) -> Remembered:
        """With rows stored after all of `rows` (newer ids): an equal instant goes after the ones
        already known, as ordering by (ts, id) would put it. Rows before `since` are outside the claim."""
        rows = list(self.rows)
        for row in added:
            if row[0] >= self.since:
                rows.insert(bisect.bisect_right(rows, row[0], key=_ts), row)
        return Remembered(self.since, tuple(rows))

    def trimmed(self, since: datetime) -> Remembered:
        """The same claim from a later `since` (an earlier one would claim rows never seen)."""
        if since <= self.since:
            return self
        return Remembered(since, self.rows[bisect.bisect_left(self.rows, since, key=_ts):])


def _ts(row: Row) -> datetime:
    return row[0]


class RecentReadings:
    """Remembered windows per unit, least recently used first out, within two bounds on memory: at
    most `max_rows_per_unit` rows per unit (a window is cut to its newest rows, a narrower claim, so a
    backfill of days of readings is not kept whole) and at most `max_rows` rows in all (about 130
    bytes each). A batch whose window reaches further back than what is kept reads the database."""

    def __init__(self, max_units: int = 5000, max_rows: int = 100_000, max_rows_per_unit: int = 1_500) -> None:
        self.max_units, self.max_rows, self.max_rows_per_unit = max_units, max_rows, max_rows_per_unit
        self._kept: dict[int, Remembered] = {}
        self._staged: dict[int, Remembered] = {}
        self._rows = 0  # rows in _kept

    def get(self, unit_id: int) -> Remembered | None:
        """What this transaction may try: its own staged window, else the last committed one."""
        return self._staged.get(unit_id) or self._kept.get(unit_id)

    def stage(self, unit_id: int, window: Remembered) -> None:
        if len(window.rows) > self.max_rows_per_unit:
            window = window.trimmed(window.rows[-self.max_rows_per_unit][0])
        self._staged[unit_id] = window

    def commit(self) -> None:
        """The transaction that staged the windows committed: keep them."""
        for unit_id, window in self._staged.items():
            old = self._kept.pop(unit_id, None)
            self._rows += len(window.rows) - (len(old.rows) if old else 0)
            self._kept[unit_id] = window  # re-inserted: dicts keep insertion order, the oldest first
        self._staged.clear()
        while self._kept and (len(self._kept) > self.max_units or self._rows > self.max_rows):
            self._rows -= len(self._kept.pop(next(iter(self._kept))).rows)

    def discard(self) -> None:
        """The transaction rolled back (or may have): forget what it staged."""
        self._staged.clear()

    def forget(self) -> None:
        self._kept.clear()
        self._staged.clear()
        self._rows = 0

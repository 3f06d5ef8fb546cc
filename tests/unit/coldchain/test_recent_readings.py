"""Remembered windows (domain.coldchain.recent): what they claim, and that nothing a transaction
learned is believed before it commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inventory_service.domain.coldchain.recent import RecentReadings, Remembered

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_added_rows_go_in_time_order_after_rows_already_known_at_the_same_instant():
    w = Remembered(at(0), ((at(0), 4.0), (at(10), 5.0)))
    w = w.plus([(at(5), 6.0), (at(10), 7.0), (at(15), 8.0)])
    assert w.rows == ((at(0), 4.0), (at(5), 6.0), (at(10), 5.0), (at(10), 7.0), (at(15), 8.0))


def test_rows_from_before_the_window_start_are_outside_its_claim():
    w = Remembered(at(10), ((at(10), 5.0),)).plus([(at(5), 9.0)])
    assert w.rows == ((at(10), 5.0),)
    assert not w.covers(at(5)) and w.covers(at(10))


def test_trimming_moves_the_start_forward_only():
    w = Remembered(at(0), ((at(0), 4.0), (at(5), 5.0), (at(10), 6.0)))
    assert w.trimmed(at(5)) == Remembered(at(5), ((at(5), 5.0), (at(10), 6.0)))
    assert w.trimmed(at(-5)) is w


def test_staged_windows_are_kept_only_when_the_transaction_commits():
    recent = RecentReadings()
    first = Remembered(at(0), ((at(0), 4.0),))
    recent.stage(1, first)
    assert recent.get(1) is first  # the transaction itself sees what it staged
    recent.discard()
    assert recent.get(1) is None
    recent.stage(1, first)
    recent.commit()
    second = first.plus([(at(5), 5.0)])
    recent.stage(1, second)
    recent.discard()
    assert recent.get(1) is first


def test_the_least_recently_evaluated_units_are_forgotten_first():
    recent = RecentReadings(max_units=2)
    for unit_id in (1, 2, 1, 3):
        recent.stage(unit_id, Remembered(at(unit_id), ()))
        recent.commit()
    assert recent.get(2) is None
    assert recent.get(1) is not None and recent.get(3) is not None


def test_memory_is_bounded_per_unit_and_in_all():
    recent = RecentReadings(max_rows=5, max_rows_per_unit=3)
    long = Remembered(at(0), tuple((at(5 * i), 4.0) for i in range(10)))  # a backfill of ten readings
    recent.stage(1, long)
    recent.commit()
    kept = recent.get(1)
    assert kept is not None and kept.rows == long.rows[-3:]
    assert kept.since == at(35) and not kept.covers(at(30))  # the claim narrowed with the rows
    recent.stage(2, Remembered(at(0), ((at(0), 4.0), (at(5), 5.0))))
    recent.stage(3, Remembered(at(0), ((at(0), 4.0),)))
    recent.commit()  # 3 + 2 + 1 rows > 5: the least recently kept unit goes
    assert recent.get(1) is None and recent.get(2) is not None and recent.get(3) is not None

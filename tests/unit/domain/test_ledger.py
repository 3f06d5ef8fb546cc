from datetime import UTC, datetime, timedelta, timezone

from inventory_service.domain.ledger import GENESIS, movement_hash, verify_chain


def fields(i: int, **over: object) -> dict:
    base = {"id": i, "kind": "receive", "item_id": 1, "lot_id": 1, "location_id": 1, "quantity": 5,
            "balance_after": 5 * i, "occurred_at": datetime(2026, 3, 10, 12, i, tzinfo=UTC), "actor": "a",
            "source": "api", "reason": None, "reference": None}
    return {**base, **over}


def chain(n: int) -> list[tuple[dict, str, str]]:
    rows, prev = [], GENESIS
    for i in range(1, n + 1):
        f = fields(i)
        h = movement_hash(prev, f)
        rows.append((f, prev, h))
        prev = h
    return rows


def test_an_untouched_chain_verifies():
    rows = chain(5)
    assert verify_chain(rows, rows[-1][2], 5) is None


def test_an_edited_row_is_named():
    rows = chain(5)
    f, prev, h = rows[2]
    rows[2] = ({**f, "quantity": 500}, prev, h)
    problem = verify_chain(rows, rows[-1][2], 5)
    assert problem is not None and problem.movement_id == 3


def test_a_deleted_row_breaks_the_next_link():
    rows = chain(5)
    del rows[1]
    problem = verify_chain(rows, rows[-1][2], 5)
    assert problem is not None and problem.movement_id == 3


def test_deleting_the_newest_rows_is_caught_by_the_head():
    rows = chain(5)
    problem = verify_chain(rows[:3], rows[-1][2], 5)
    assert problem is not None and problem.movement_id is None


def test_the_same_instant_hashes_the_same_in_any_zone_or_naive_utc():
    utc = fields(1)
    berlin = fields(1, occurred_at=utc["occurred_at"].astimezone(timezone(timedelta(hours=1))))
    naive = fields(1, occurred_at=utc["occurred_at"].replace(tzinfo=None))
    assert movement_hash(GENESIS, utc) == movement_hash(GENESIS, berlin) == movement_hash(GENESIS, naive)

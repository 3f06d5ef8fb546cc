"""Each device consumer gets its own engine: the scanner ingest without the pool's ping, the
readings ingest with rarer SQLite checkpoints (ingest.scanners.consumer_database,
ingest.mqtt.readings_database)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from inventory_service.db.engine import make_engine
from inventory_service.ingest.mqtt import readings_database
from inventory_service.ingest.scanners import consumer_database


def _checkpoint_pages(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def test_only_the_readings_ingest_checkpoints_rarely(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'engines.db'}"
    readings, scans, default = readings_database(url), consumer_database(url), make_engine(url)
    try:
        assert _checkpoint_pages(readings.engine) == 10_000
        assert _checkpoint_pages(scans.engine) == 1_000  # SQLite's default: short commits for the scanners
        assert _checkpoint_pages(default) == 1_000
    finally:
        readings.dispose()
        scans.dispose()
        default.dispose()


def test_the_scanner_ingest_does_not_ping_before_each_transaction(postgresql_url: str):
    scans, default = consumer_database(postgresql_url), make_engine(postgresql_url)
    try:
        assert (scans.engine.pool._pre_ping, default.pool._pre_ping) == (False, True)
        with scans.unit_of_work() as uow:  # and it works
            assert uow.session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        scans.dispose()
        default.dispose()

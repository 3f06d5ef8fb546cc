"""Times in and out: a time without a zone is the site's (New York here), a plain date where a time is
asked is the site's midnight, and every time the service writes is RFC 3339 (JSON, CSV, events)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from inventory_service.db.uow import Database
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.conftest import World
from tests.support.catalogue import Catalogue, seed_catalogue
from tests.support.clock import FrozenClock

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def instant(text: str) -> datetime:
    assert RFC3339.fullmatch(text), text
    return datetime.fromisoformat(text)


@pytest.fixture
def catalogue(api: Api, world: World, db: Database, clock: FrozenClock, ctx: Callable[..., Context]) -> Catalogue:
    """Readings every 5 minutes from 15:01 UTC (10:01 in New York) on 7 Dec 2026, cycles from 15:01 UTC."""
    clock.set(datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    return seed_catalogue(api, world, db, clock, ctx)


def test_a_plain_date_is_the_sites_midnight(api: Api, catalogue: Catalogue):
    r = api.get(f"/api/v1/storage-units/{catalogue.unit}/mkt?from=2026-12-07&to=2026-12-08", expect=200).json
    assert (instant(r["from"]), instant(r["to"])) == (datetime(2026, 12, 7, 5, tzinfo=UTC),
                                                      datetime(2026, 12, 8, 5, tzinfo=UTC))
    assert r["readings"] == 22
    assert len(api.get("/api/v1/equipment/ac-1/cycles?from=2026-12-07", expect=200).json["items"]) == 3
    assert api.get("/api/v1/equipment/ac-1/cycles?from=2026-12-08", expect=200).json["items"] == []


def test_a_time_without_a_zone_is_the_sites_wall_clock(api: Api, catalogue: Catalogue):
    local = api.get("/api/v1/readings?sensor_id=probe-1&from=2026-12-07T10:00:00&to=2026-12-07T10:30:00",
                    expect=200).json
    assert local["count"] == 6 and local["items"][0]["ts"] == "2026-12-07T15:01:00+00:00"
    same = api.get("/api/v1/readings?sensor_id=probe-1&from=2026-12-07T15:00:00Z&to=2026-12-07T15:30:00%2B00:00",
                   expect=200).json
    assert same["count"] == 6
    mkt = api.get(f"/api/v1/storage-units/{catalogue.unit}/mkt?from=2026-12-07T10:00&to=2026-12-07T11:00",
                  expect=200).json
    assert instant(mkt["from"]) == datetime(2026, 12, 7, 15, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["2026-12-07T25:00:00", "07/12/2026", "2026-12-07T10:00:00+0500", "1899-12-31",
                                 "3000-01-01T00:00:00Z", "20261207T100000"])
def test_a_time_that_is_not_one_is_a_422_naming_the_field(api: Api, catalogue: Catalogue, bad: str):
    r = api.get("/api/v1/readings", query_string={"from": bad}, expect=422).json["error"]
    assert list(r["details"]["query"]) == ["from"]


def test_times_in_plain_json_records_are_rfc3339(api: Api, catalogue: Catalogue):
    [change] = api.get("/api/v1/equipment/ac-1", expect=200).json["history"]
    assert RFC3339.fullmatch(change["changed_at"]), change
    sensor = api.post("/api/v1/sensors", {"id": "probe-1", "storage_unit_id": catalogue.unit}, role="manager",
                      expect=201).json
    assert sensor["assignments"] and all(RFC3339.fullmatch(a["assigned_at"]) for a in sensor["assignments"])
    [history] = api.get(f"/api/v1/routing-rules/{catalogue.rule}/history", expect=200).json["items"]
    assert RFC3339.fullmatch(history["changed_at"])


def test_csv_times_are_rfc3339(api: Api, catalogue: Catalogue):
    unit = f"/api/v1/storage-units/{catalogue.unit}"
    days = list(csv.DictReader(io.StringIO(api.get(f"{unit}/daily-summary?from=2026-12-07&to=2026-12-07&format=csv",
                                                   expect=200).data.decode())))
    assert days[0]["alarms"] and all(RFC3339.fullmatch(a.split("@")[1]) for a in days[0]["alarms"].split(";"))
    [row] = csv.DictReader(io.StringIO(api.get(f"{unit}/excursions?from=2026-12-07&to=2026-12-07&format=csv",
                                               expect=200).data.decode()))
    assert RFC3339.fullmatch(row["start"]) and RFC3339.fullmatch(row["end"]), row
    cycles = list(csv.DictReader(io.StringIO(api.get("/api/v1/equipment/ac-1/cycles?format=csv",
                                                     expect=200).data.decode())))
    assert cycles and all(RFC3339.fullmatch(c["ts"]) and RFC3339.fullmatch(c["received_at"]) for c in cycles)


def test_event_stream_times_are_rfc3339(api: Api, catalogue: Catalogue):
    body = api.get("/api/v1/scanners/sr-1/events?timeout=0.3", expect=200).data.decode()
    scans = [json.loads(block.split("data: ", 1)[1]) for block in body.split("\n\n") if "event: scan" in block]
    assert scans and all(RFC3339.fullmatch(s["received_at"]) for s in scans)
    states = [json.loads(block.split("data: ", 1)[1]) for block in body.split("\n\n") if "event: state" in block]
    assert RFC3339.fullmatch(states[0]["updated_at"])

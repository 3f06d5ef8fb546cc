"""Stations set up from INVENTORY_SCANNERS at start: a bad definition is reported (log, scanners list,
health) and only its reader is left out; a fixed or removed one is cleared at the next start."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from devices.barcodes import parse_scan
from devices.serial import ScannerConfig, read_scanner_definitions
from inventory_service.db.uow import Database
from inventory_service.domain.errors import DomainError
from inventory_service.ingest.scanners import ScannerIngest
from inventory_service.services import scans
from inventory_service.services.context import Context
from tests.conftest import Api
from tests.integration.conftest import World
from tests.support.clock import FrozenClock

GOOD = {"id": "stockroom-1", "url": "loop://", "location": "SR", "mode": "receive"}
BAD_LOCATION = {"id": "front-desk", "url": "socket://127.0.0.1:1", "location": "NOPE", "mode": "consume"}


class NoReader:
    """Stands in for ScannerReader: notes which stations were started, opens nothing."""

    def __init__(self, started: list[str], config: ScannerConfig, *_: Any, **__: Any) -> None:
        started.append(config.id)

    def start(self) -> None: ...
    def stop(self) -> None: ...


@pytest.fixture
def start(db: Database, clock: FrozenClock) -> Callable[..., tuple[ScannerIngest, list[str]]]:
    """Start (and stop) a scanner ingest from INVENTORY_SCANNERS as given (a list is JSON-encoded);
    returns it and the ids whose readers were started."""
    def go(definitions: Any, instance: str = "default") -> tuple[ScannerIngest, list[str]]:
        raw = definitions if isinstance(definitions, str) else json.dumps(definitions)
        started: list[str] = []
        read = read_scanner_definitions(raw)
        ingest = ScannerIngest(read.configs, db, clock, "America/New_York", problems=read.problems, instance=instance,
                               reader_factory=lambda config, *a, **kw: NoReader(started, config))
        ingest.start()
        ingest.stop()
        return ingest, started

    return go


def scanners(api: Api) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in api.get("/api/v1/scanners", role="staff", expect=200).json["items"]}


def health(api: Api) -> dict[str, Any]:
    return api.get("/api/v1/health", role="", expect=200).json  # type: ignore[no-any-return]


def test_an_unknown_location_leaves_only_that_station_out_and_says_why(start, api: Api, world: World,
                                                                       caplog: pytest.LogCaptureFixture):
    assert health(api)["problems"] == [] and health(api)["status"] == "ok"
    with caplog.at_level(logging.INFO, logger="inventory_service.ingest.scanners"):
        _, started = start([GOOD, BAD_LOCATION])
    assert started == ["stockroom-1"]
    listed = scanners(api)
    bad = listed["front-desk"]
    assert (bad["config_error"], bad["port_state"], bad["location_id"], bad["location_code"]) == (
        "no location with code 'NOPE'", "misconfigured", None, None)
    assert bad["url"] == "socket://127.0.0.1:1"
    assert (listed["stockroom-1"]["config_error"], listed["stockroom-1"]["location_code"]) == (None, "SR")
    h = health(api)
    assert (h["status"], h["database"]) == ("degraded", "ok")
    assert h["problems"] == [{"component": "scanner", "id": "front-desk", "reason": "no location with code 'NOPE'",
                              "instance": "default"}]
    assert set(h) == {"status", "database", "mqtt", "version", "problems"}
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "front-desk" in errors[0].getMessage() and "'NOPE'" in errors[0].getMessage()


def test_a_station_fixed_in_the_file_is_set_up_at_the_next_start(start, api: Api, world: World):
    start([GOOD, BAD_LOCATION])
    _, started = start([GOOD, {**BAD_LOCATION, "location": "EX1"}])
    assert started == ["stockroom-1", "front-desk"]
    fixed = scanners(api)["front-desk"]
    # It never had a location, so this first usable definition gives it its location and mode.
    assert (fixed["config_error"], fixed["port_state"], fixed["location_code"], fixed["mode"], fixed["home_mode"]) \
        == (None, "unknown", "EX1", "consume", "consume")
    assert (health(api)["status"], health(api)["problems"]) == ("ok", [])


def test_definitions_that_fail_validation_are_reported_by_id_or_by_position(start, api: Api, world: World):
    _, started = start([GOOD, {**GOOD, "id": "dispensary", "url": "loop://2", "baudrate": "fast"},
                        {"url": "loop://3", "location": "SR"}, 7])
    assert started == ["stockroom-1"]
    listed = scanners(api)
    assert listed["dispensary"]["config_error"] == "baudrate must be a positive integer, got 'fast'"
    assert (listed["dispensary"]["port_state"], listed["dispensary"]["location_id"]) == ("misconfigured", None)
    problems = {p["id"]: p["reason"] for p in health(api)["problems"]}
    assert problems == {"dispensary": "baudrate must be a positive integer, got 'fast'",
                        "INVENTORY_SCANNERS[2]": "missing field(s) id",
                        "INVENTORY_SCANNERS[3]": "a scanner definition must be an object, got int"}
    assert set(listed) == {"stockroom-1", "dispensary"}  # an entry without an id has no station to list


def test_an_existing_station_with_a_broken_definition_keeps_its_location_and_is_not_read(start, api: Api,
                                                                                         world: World):
    start([GOOD])
    _, started = start([{**GOOD, "parity": "Q"}])
    assert started == []
    s = scanners(api)["stockroom-1"]
    assert (s["location_code"], s["port_state"], s["url"]) == ("SR", "misconfigured", "loop://")
    assert s["config_error"].startswith("parity must be one of")


def test_invalid_json_as_a_whole_starts_no_station_but_the_ingest_runs(start, api: Api, world: World):
    start([GOOD, BAD_LOCATION])
    ingest, started = start('[{"id": "stockroom-1",')
    assert started == []
    [whole] = [p for p in ingest.problems if p.key == "INVENTORY_SCANNERS"]
    assert whole.reason.startswith("invalid JSON") and whole.reason.endswith("no scanner is started")
    h = health(api)
    assert h["status"] == "degraded"
    # What was known of the stations stays until the list can be read again.
    assert [p["id"] for p in h["problems"]] == ["INVENTORY_SCANNERS", "front-desk"]
    start([GOOD])
    assert health(api)["problems"] == []


@pytest.mark.parametrize("raw", ["{}", "/nonexistent/scanners.json", "[" * 100_000])
def test_an_unreadable_variable_is_one_problem(start, api: Api, raw: str):
    _, started = start(raw)
    assert started == []
    [problem] = health(api)["problems"]
    assert problem["id"] == "INVENTORY_SCANNERS" and "no scanner is started" in problem["reason"]


def test_a_station_removed_from_the_file_is_no_longer_a_problem(start, api: Api, world: World):
    start([GOOD, BAD_LOCATION])
    start([GOOD])
    gone = scanners(api)["front-desk"]
    assert (gone["config_error"], gone["port_state"], gone["port_detail"]) == (
        None, "stopped", "no longer in INVENTORY_SCANNERS")
    assert health(api)["status"] == "ok"
    start("")  # no scanners at all: still clears what this process stored
    assert health(api)["problems"] == []


def test_two_ingest_processes_keep_their_own_problems(start, api: Api, world: World):
    start([BAD_LOCATION], instance="desk-pc")
    start([GOOD, {**GOOD, "id": "x", "url": "loop://x", "bytesize": 9}], instance="stockroom-pc")
    start([GOOD], instance="stockroom-pc")  # fixed there; the other machine's problem stays
    assert [(p["instance"], p["id"]) for p in health(api)["problems"]] == [("desk-pc", "front-desk")]
    assert scanners(api)["front-desk"]["config_error"] == "no location with code 'NOPE'"


def test_duplicate_ids_and_shared_ports_start_none_of_the_stations_involved(start, api: Api, world: World):
    _, started = start([GOOD, {**GOOD, "url": "loop://b"}, {**GOOD, "id": "a", "url": "/dev/ttyACM0"},
                        {**GOOD, "id": "b", "url": "/dev/ttyACM0"}, {**GOOD, "id": "c", "url": "loop://c"}])
    assert started == ["c"]
    problems = {p["id"]: p["reason"] for p in health(api)["problems"]}
    assert problems["stockroom-1"] == "duplicate id: defined 2 times (INVENTORY_SCANNERS[0], INVENTORY_SCANNERS[1])"
    assert problems["a"].startswith("duplicate url: /dev/ttyACM0 is also the port of 'b'")
    assert set(problems) == {"stockroom-1", "a", "b"}


def test_a_located_station_stays_where_it_is_when_the_file_names_an_unknown_code(
        start, api: Api, world: World, caplog: pytest.LogCaptureFixture):
    start([GOOD])
    with caplog.at_level(logging.WARNING, logger="inventory_service.ingest.scanners"):
        _, started = start([{**GOOD, "location": "NOPE"}])
    assert started == ["stockroom-1"]
    assert scanners(api)["stockroom-1"]["location_code"] == "SR"
    assert health(api)["problems"] == []
    assert any(r.levelno == logging.WARNING and "'NOPE'" in r.getMessage() for r in caplog.records)


def test_a_frame_for_a_station_without_a_location_is_refused_as_a_domain_error(
        start, db: Database, ctx: Callable[..., Context], world: World):
    start([BAD_LOCATION])
    c = ctx("station:front-desk", "station")
    with db.unit_of_work() as uow, pytest.raises(DomainError) as refused:
        scans.record(uow, c, "front-desk", parse_scan("#MODE:COUNT", today=c.today))
    assert refused.value.code == "station_misconfigured"


def test_the_openapi_document_describes_the_new_fields(api: Api):
    spec = api.get("/api/v1/openapi.json", role="", expect=200).json
    schemas = spec["components"]["schemas"]
    health_schema = next(s for name, s in schemas.items() if name.startswith("Health") and "problems" in
                         s.get("properties", {}))
    assert health_schema["properties"]["problems"]["type"] == "array"
    scanner = next(s for name, s in schemas.items() if name.startswith("Scanner") and "config_error" in
                   s.get("properties", {}))
    assert "misconfigured" in scanner["properties"]["port_state"]["description"]

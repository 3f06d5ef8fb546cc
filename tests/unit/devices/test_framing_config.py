"""Scanner definitions (INVENTORY_SCANNERS) are validated at start-up with clear messages."""

import json

import pytest

from devices.serial.config import (
    DefinitionProblem,
    ScannerConfig,
    ScannerDefinitions,
    read_scanner_definitions,
    scanners_from_json,
)

BASE = {"id": "stockroom-1", "url": "/dev/serial/by-id/usb-Honeywell-if00", "location": "STOCK"}


def test_contract_example_is_accepted_with_defaults():
    config = ScannerConfig.from_dict(BASE)
    assert (config.baudrate, config.parity, config.bytesize, config.stopbits) == (9600, "N", 8, 1)
    assert (config.mode, config.idle_ms, config.dedupe_ms) == ("receive", 50, 1000)


def test_full_definition_is_normalised():
    config = ScannerConfig.from_dict(
        {**BASE, "baudrate": 19200, "parity": "o", "bytesize": 7, "stopbits": 1.5, "mode": "COUNT",
         "idle_ms": 0, "dedupe_ms": 0}
    )
    assert (config.parity, config.mode, config.stopbits, config.bytesize) == ("O", "count", 1.5, 7)


def test_config_is_frozen():
    config = ScannerConfig.from_dict(BASE)
    with pytest.raises(AttributeError):
        config.url = "loop://"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "bad id!"}, "id must be"),
        ({"url": ""}, "url must be a non-empty string"),
        ({"location": 7}, "location must be a non-empty string"),
        ({"mode": "sell"}, "mode must be one of receive, consume, count, transfer"),
        ({"parity": "X"}, "parity must be one of N, E, O, M, S"),
        ({"baudrate": "9600"}, "baudrate must be a positive integer"),
        ({"baudrate": True}, "baudrate must be a positive integer"),
        ({"bytesize": 9}, "bytesize must be one of 5, 6, 7, 8"),
        ({"stopbits": 3}, "stopbits must be 1, 1.5 or 2"),
        ({"idle_ms": -5}, "idle_ms must be an integer from 0 to 10000"),
        ({"dedupe_ms": 1.5}, "dedupe_ms must be an integer from 0 to 60000"),
        ({"baud": 9600}, "unknown field"),
    ],
)
def test_bad_field_is_named_in_the_error(change, message):
    with pytest.raises(ValueError, match=message):
        ScannerConfig.from_dict({**BASE, **change})


def test_missing_required_field_is_named():
    with pytest.raises(ValueError, match=r"'stockroom-1': missing field.*location"):
        ScannerConfig.from_dict({"id": "stockroom-1", "url": "loop://"})


def test_not_an_object_is_an_error():
    with pytest.raises(ValueError, match="must be an object"):
        ScannerConfig.from_dict(["stockroom-1"])  # type: ignore[arg-type]


def test_scanners_from_a_json_list_and_from_a_file(tmp_path):
    raw = json.dumps([BASE, {**BASE, "id": "room-2", "url": "socket://10.0.0.5:4001"}])
    assert [c.id for c in scanners_from_json(raw)] == ["stockroom-1", "room-2"]
    path = tmp_path / "scanners.json"
    path.write_text(raw)
    assert scanners_from_json(str(path)) == scanners_from_json(raw)
    assert scanners_from_json("  ") == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[1]", r"INVENTORY_SCANNERS\[0\]: a scanner definition must be an object"),
        ("[{", "invalid JSON"),
        (json.dumps([BASE, BASE]), "duplicate id"),
        (json.dumps([BASE, {**BASE, "id": "other"}]), "duplicate url"),
        ("/nonexistent/scanners.json", "cannot read"),
    ],
)
def test_bad_scanner_list_is_explained(raw, message):
    with pytest.raises(ValueError, match=message):
        scanners_from_json(raw)


def test_definitions_are_read_entry_by_entry_and_bad_ones_come_back_as_problems():
    raw = json.dumps([BASE, {**BASE, "id": "desk", "url": "loop://", "baudrate": 0}, {"url": "loop://2"},
                      {**BASE, "id": "room-2", "url": "socket://10.0.0.5:4001"}])
    got = read_scanner_definitions(raw)
    assert [c.id for c in got.configs] == ["stockroom-1", "room-2"]
    assert got.problems == (
        DefinitionProblem("desk", "baudrate must be a positive integer, got 0", "desk", "loop://"),
        DefinitionProblem("INVENTORY_SCANNERS[2]", "missing field(s) id, location", None, "loop://2"),
    )
    assert got.list_read


def test_a_broken_variable_is_one_problem_and_no_definition():
    got = read_scanner_definitions("[{")
    assert got.configs == () and not got.list_read
    [problem] = got.problems
    assert (problem.key, problem.scanner_id) == ("INVENTORY_SCANNERS", None)
    assert problem.reason.startswith("invalid JSON") and problem.reason.endswith("no scanner is started")
    assert read_scanner_definitions("  ") == ScannerDefinitions()


@pytest.mark.parametrize("raw", ["[" * 100_000, "\x00", "/nonexistent", '{"id": 1}', "[1, 2", "true"])
def test_reading_definitions_never_raises(raw):
    got = read_scanner_definitions(raw)
    assert got.configs == () and len(got.problems) == 1


def test_reasons_stay_short_and_ids_that_are_not_valid_are_not_used_as_keys():
    got = read_scanner_definitions(json.dumps([{**BASE, "id": "bad id!" * 50, "url": "x" * 400, "mode": "m" * 5000}]))
    [problem] = got.problems
    assert (problem.key, problem.scanner_id, problem.url) == ("INVENTORY_SCANNERS[0]", None, "")
    assert len(problem.reason) < 200
    [long_url] = read_scanner_definitions(json.dumps([{**BASE, "url": "/dev/" + "x" * 400}])).problems
    assert long_url.reason == "url must be at most 300 characters, got 405"

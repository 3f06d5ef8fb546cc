"""Every test vector of /work/shared/reference/barcodes.md, with the exact fields it must give."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from devices.barcodes import parse_scan

GS = "\x1d"
TODAY = dt.date(2025, 6, 1)

# (raw, expected fields); every field not listed must be None / empty / False.
VECTORS: list[tuple[str, dict[str, Any]]] = [
    (  # GS1 example data
        "]d2010950110153000317140704" + GS + "10AB-123",
        {"kind": "gs1", "symbology": "]d2", "gtin": "09501101530003", "expiry": dt.date(2014, 7, 4),
         "lot": "AB-123", "elements": (("01", "09501101530003"), ("17", "140704"), ("10", "AB-123"))},
    ),
    (  # real UDI label (biip issue 253)
        "0104150011164140211GTFG32DLF" + GS + "1723033110158993A",
        {"kind": "gs1", "gtin": "04150011164140", "serial": "1GTFG32DLF", "expiry": dt.date(2023, 3, 31),
         "lot": "158993A",
         "elements": (("01", "04150011164140"), ("21", "1GTFG32DLF"), ("17", "230331"), ("10", "158993A"))},
    ),
    (  # real pharma DataMatrix (biip issue 113): day 00
        "0110366302300017102100437" + GS + "1716020021925768618163",
        {"kind": "gs1", "gtin": "10366302300017", "lot": "2100437", "expiry": dt.date(2016, 2, 29),
         "serial": "925768618163",
         "elements": (("01", "10366302300017"), ("10", "2100437"), ("17", "160200"), ("21", "925768618163"))},
    ),
    (  # real drug pack with a leading GS
        GS + "010357466145194721118165795226" + GS + "17210331101724847.1",
        {"kind": "gs1", "gtin": "03574661451947", "serial": "118165795226", "expiry": dt.date(2021, 3, 31),
         "lot": "1724847.1",
         "elements": (("01", "03574661451947"), ("21", "118165795226"), ("17", "210331"), ("10", "1724847.1"))},
    ),
    (  # GS1 syntax engine tests
        "]C1011231231231233310ABC123" + GS + "99TESTING",
        {"kind": "gs1", "symbology": "]C1", "gtin": "12312312312333", "lot": "ABC123",
         "elements": (("01", "12312312312333"), ("10", "ABC123"), ("99", "TESTING"))},
    ),
    (  # GS1 syntax engine tests: Digital Link
        "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
        {"kind": "gs1", "gtin": "09520123456788", "lot": "ABC1", "serial": "12345", "expiry": dt.date(2018, 4, 26),
         "elements": (("01", "09520123456788"), ("10", "ABC1"), ("21", "12345"), ("17", "180426"))},
    ),
    (  # Zebra scanner programming guide: HIBC primary
        "+A123BJC5D6E71G",
        {"kind": "hibc", "lic": "A123", "pcn": "BJC5D6E7", "unit_of_measure": 1},
    ),
    (  # FDA UDI formats document: concatenated, $$0 MMYY means the end of the month
        "+X999123ABC0/$$05191234AB/S5678EDFG/16D20151001A",
        {"kind": "hibc", "lic": "X999", "pcn": "123ABC", "unit_of_measure": 0, "expiry": dt.date(2019, 5, 31),
         "lot": "1234AB", "serial": "5678EDFG", "production_date": dt.date(2015, 10, 1)},
    ),
    (  # public HIBC test fixture: $$5 YYJJJ
        "+A99912345/$$52001510X3/16D20111212/S77DEFG457",
        {"kind": "hibc", "lic": "A999", "pcn": "1234", "unit_of_measure": 5, "expiry": dt.date(2020, 1, 15),
         "lot": "10X3", "production_date": dt.date(2011, 12, 12), "serial": "77DEFG45"},
    ),
    (  # public HIBC test fixture: primary + secondary symbols back to back, secondary check is a SPACE
        "+A123BJCMD6E79++$$52001510X3+ ",
        {"kind": "hibc", "lic": "A123", "pcn": "BJCMD6E7", "unit_of_measure": 9, "expiry": dt.date(2020, 1, 15),
         "lot": "10X3"},
    ),
]

EMPTY: dict[str, Any] = {
    "symbology": None, "gtin": None, "lot": None, "expiry": None, "serial": None, "quantity": None,
    "production_date": None, "lic": None, "pcn": None, "unit_of_measure": None, "link_character": None,
    "command": None, "argument": None, "elements": (), "warnings": (), "error": None,
    "needs_confirmation": False,
}


@pytest.mark.parametrize(("raw", "expected"), VECTORS, ids=[raw[:24] for raw, _ in VECTORS])
def test_reference_vector_gives_exactly_the_expected_fields(raw: str, expected: dict[str, Any]) -> None:
    scan = parse_scan(raw, today=TODAY)
    actual = {name: getattr(scan, name) for name in ("kind", *EMPTY)}
    assert actual == {**EMPTY, **expected}
    assert scan.raw == raw


def test_lot_in_the_middle_without_gs_is_flagged_not_trusted() -> None:
    scan = parse_scan("010703206980498810032915210526", today=TODAY)
    assert scan.kind == "gs1"
    assert scan.needs_confirmation is True
    assert "missing_gs_suspected" in scan.warnings
    assert scan.error is None


def test_reference_vectors_are_json_ready() -> None:
    for raw, expected in VECTORS:
        data = parse_scan(raw, today=TODAY).to_dict()
        if expected.get("expiry"):
            assert data["expiry"] == expected["expiry"].isoformat()
        assert isinstance(data["warnings"], list)
        assert isinstance(data["elements"], dict)

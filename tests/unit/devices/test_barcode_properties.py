"""Property tests: parse_scan never raises, keeps raw, and its results honour the ScanData contract."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.barcodes import ScanData, parse_scan
from devices.barcodes.gtin import check_digit
from devices.barcodes.hibc import CHARSET, check_character
from devices.barcodes.scandata import DATA_FIELDS

PROPERTY = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TODAYS = st.one_of(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2150, 12, 31)), st.dates())

latin1_frames = st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
identifiers = st.sampled_from(["", "]C1", "]d2", "]Q3", "]E0", "]E4", "]I1", "]C0", "]d1", "]Q1", "]A0", "]A3"])
gs1_like = st.lists(st.sampled_from(["01", "10", "11", "17", "21", "30", "7003", "\x1d", "0", "9", "A", "-"]),
                    max_size=40).map("".join)
hibc_like = st.text(alphabet=CHARSET, max_size=60).map(lambda s: "+" + s)
url_like = st.text(max_size=60).map(lambda s: "HTTPS://id.gs1.org/01/" + s)
frames = st.one_of(st.text(max_size=200), latin1_frames,
                   st.tuples(identifiers, st.one_of(gs1_like, hibc_like, url_like, st.text())).map("".join))


def check_contract(raw: str, scan: ScanData) -> None:
    assert scan.raw == raw
    assert scan.error != "internal_error"
    json.dumps(scan.to_dict())
    if scan.error is not None:
        assert all(getattr(scan, name) is None for name in DATA_FIELDS)
        assert not scan.needs_confirmation
    if scan.gtin is not None:
        assert len(scan.gtin) == 14
        assert check_digit(scan.gtin[:-1]) == int(scan.gtin[-1])


@PROPERTY
@given(raw=frames, today=TODAYS)
def test_parse_scan_never_raises_and_preserves_raw(raw: str, today: dt.date) -> None:
    check_contract(raw, parse_scan(raw, today=today))


@PROPERTY
@given(raw=latin1_frames)
def test_any_latin1_decoded_bytes_are_answered_with_a_scan(raw: str) -> None:
    check_contract(raw, parse_scan(raw, today=dt.date(2025, 6, 1)))


@PROPERTY
@given(payload=st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_gtin13_with_its_check_digit_round_trips(payload: str) -> None:
    number = payload + str(check_digit(payload))
    assert parse_scan(number, today=dt.date(2025, 6, 1)).gtin == number.zfill(14)


@PROPERTY
@given(
    lic=st.tuples(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                  st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=3, max_size=3)).map("".join),
    pcn=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=18),
    unit=st.integers(0, 9),
)
def test_any_hibc_primary_with_its_check_character_round_trips(lic: str, pcn: str, unit: int) -> None:
    body = f"+{lic}{pcn}{unit}"
    scan = parse_scan(body + check_character(body), today=dt.date(2025, 6, 1))
    assert (scan.kind, scan.lic, scan.pcn, scan.unit_of_measure, scan.error) == ("hibc", lic, pcn, unit, None)


@PROPERTY
@given(lot=st.text(alphabet="ABCXYZ0123456789-.", min_size=1, max_size=20), day=st.dates(
    min_value=dt.date(2000, 1, 1), max_value=dt.date(2074, 12, 31)))
def test_gs1_with_all_separators_reads_back_what_was_encoded(lot: str, day: dt.date) -> None:
    raw = f"]d20109501101530003{GS}17{day:%y%m%d}10{lot}{GS}21S1"
    scan = parse_scan(raw, today=dt.date(2025, 6, 1))
    assert (scan.gtin, scan.expiry, scan.lot, scan.serial) == ("09501101530003", day, lot, "S1")


GS = "\x1d"

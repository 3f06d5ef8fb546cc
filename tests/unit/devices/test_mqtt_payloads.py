"""devices.mqtt: cycle payloads whose values no database column takes are refused by validation.

Regression tests for what tests/e2e/test_device_fuzz.py found: a cycle counter of 2**63 or more, and a
program name holding a NUL or a lone surrogate (a JSON "\\ud800" escape), passed validation and then
failed the INSERT (bigint out of range, "cannot contain NUL", "surrogates not allowed"), so the ingest
retried the whole batch, split it and finally stored the message as rejected only with the driver's
error ("could not be stored: ...").
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devices.mqtt import PayloadError, parse_cycle_payload

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TOPIC = "equipment/ac-1/cycle"


def cycle(**fields: Any) -> bytes:
    data = {"seq": 1, "ts": (NOW - timedelta(minutes=5)).isoformat(), "cycle": 1235, "program": "134C-4min",
            "result": "pass", "max_temp_c": 134.4, "hold_min": 4.2, **fields}
    return json.dumps(data).encode()


@pytest.mark.parametrize("counter", [2**63, 2**64, 10**30])
def test_a_cycle_counter_beyond_64_bits_is_refused(counter: int):
    with pytest.raises(PayloadError, match="cycle must be a non-negative integer below 2"):
        parse_cycle_payload(TOPIC, cycle(cycle=counter), now=NOW)


def test_the_largest_64_bit_counter_is_taken():
    assert parse_cycle_payload(TOPIC, cycle(cycle=2**63 - 1), now=NOW).cycle == 2**63 - 1


@pytest.mark.parametrize("program", ["a\x00b", "lone \ud800", "\udfff", "tab\there", "new\nline", "del\x7f"])
def test_a_program_name_with_control_characters_or_a_lone_surrogate_is_refused(program: str):
    with pytest.raises(PayloadError, match="without control characters"):
        parse_cycle_payload(TOPIC, cycle(program=program), now=NOW)


@pytest.mark.parametrize("program", ["134 °C / 4 min", "Bowie-Dick", "x" * 64, "滅菌 🦠"])
def test_printable_program_names_up_to_64_characters_are_taken(program: str):
    assert parse_cycle_payload(TOPIC, cycle(program=program), now=NOW).program == program

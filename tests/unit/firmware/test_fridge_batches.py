"""What the simulated logger would publish: single readings, backfill arrays, seq, and the CLI's options."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from devices.mqtt import parse_reading_payload
from firmware_sim.__main__ import build_parser
from firmware_sim.fridge import Scenario, Window, batches, default_start, generate, make_scenario, ticks
from firmware_sim.fridge.cli import parse_broker

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)


def series(scenario, hours=6, **kw):
    return generate(scenario, START, timedelta(hours=hours), FIVE_MIN, 3, **kw)


def test_outage_gives_one_array_of_the_buffered_readings_oldest_first_with_continuous_seq():
    readings = series(make_scenario("outage", outage_at=60, outage_minutes=60))
    out = batches(readings)
    arrays = [b for b in out if b.backfill]
    assert len(arrays) == 1
    backfill = arrays[0]
    assert [r.t_min for r in backfill.readings] == [60 + 5 * i for i in range(12)]
    decoded = json.loads(backfill.payload())
    assert isinstance(decoded, list)
    assert [o["seq"] for o in decoded] == list(range(12, 24))
    assert [o["ts"] for o in decoded] == sorted(o["ts"] for o in decoded)
    # the array goes out when the link returns, just before the first live reading
    index = out.index(backfill)
    assert [r.seq for r in out[index - 1].readings] == [11]
    assert [r.seq for r in out[index + 1].readings] == [24]
    # every reading is published exactly once, in seq order
    assert [r.seq for b in out for r in b.readings] == list(range(72))
    assert all(isinstance(json.loads(b.payload()), dict) for b in out if not b.backfill)


def test_link_goes_down_and_comes_back_around_the_outage():
    readings = series(make_scenario("outage", outage_at=30, outage_minutes=20))
    changes = [(t.reading.t_min, t.link) for t in ticks(readings) if t.link]
    assert changes == [(30, "down"), (50, "up")]


def test_an_outage_running_to_the_end_is_flushed_when_the_link_returns_at_the_end():
    readings = series(make_scenario("power_outage", outage_at=300, outage_minutes=500))
    last = list(ticks(readings))[-1]
    assert last.reading is None and last.link == "up"
    assert [r.seq for r in last.publish[0].readings] == list(range(60, 72))
    assert [r.seq for b in batches(readings) for r in b.readings] == list(range(72))


def test_a_full_buffer_drops_its_oldest_readings_and_seq_shows_the_gap():
    readings = series(make_scenario("outage", outage_at=60, outage_minutes=60))
    tick_list = list(ticks(readings, buffer_size=5))
    assert sum(t.dropped for t in tick_list) == 7
    (array,) = [b for b in batches(readings, buffer_size=5) if b.backfill]
    assert [r.seq for r in array.readings] == [19, 20, 21, 22, 23]


def test_overlapping_outages_give_one_array_separate_ones_two():
    same_window = make_scenario(["outage", "power_outage"], outage_at=60)
    assert sum(b.backfill for b in batches(series(same_window))) == 1
    two = Scenario(("custom",), (Window("network_down", 30, 15), Window("power_off", 120, 30)))
    assert sum(b.backfill for b in batches(series(two))) == 2


def test_every_message_is_accepted_by_the_services_parser():
    """Cross-check against devices.mqtt (the simulator itself must not import it)."""
    scenario = make_scenario(["door_open", "thermostat_fault", "outage"], door_at=30, fault_at=100, outage_at=150)
    readings = generate(scenario, START, timedelta(days=1), FIVE_MIN, 9, clock_offset_s=-30)
    now = START + timedelta(days=1)
    parsed = [p for b in batches(readings)
              for p in parse_reading_payload("coldchain/fridge-1/reading", b.payload(), now=now)]
    assert [p.seq for p in parsed] == list(range(288))
    assert [p.temp_c for p in parsed] == [r.temp_c for r in readings]
    assert all(p.ts.tzinfo is not None for p in parsed)
    assert any(p.door_open for p in parsed) and min(p.temp_c for p in parsed) < 0


def test_default_start_never_stamps_a_reading_in_the_future():
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    # speed 0: the whole run is in the past, the last reading at now
    assert default_start(288, FIVE_MIN, 0, now) == now - 287 * FIVE_MIN
    # speed 1: live from now
    assert default_start(288, FIVE_MIN, 1, now) == now
    # speed 60: reading i is sent at now + i*5 s, stamped at start + i*5 min; never later than its sending
    start = default_start(288, FIVE_MIN, 60, now)
    assert all(start + i * FIVE_MIN <= now + i * FIVE_MIN / 60 + timedelta(microseconds=1) for i in range(288))
    assert start + 287 * FIVE_MIN == pytest.approx(now + 287 * FIVE_MIN / 60, abs=timedelta(microseconds=1))


def test_parse_broker_urls():
    assert parse_broker("mqtt://127.0.0.1:1884") == ("127.0.0.1", 1884, None, None, False)
    assert parse_broker("mqtts://u%40x:p%3A@broker") == ("broker", 8883, "u@x", "p:", True)
    assert parse_broker("host") == ("host", 1883, None, None, False)
    with pytest.raises(ValueError, match="scheme"):
        parse_broker("http://host")


def test_command_line_options():
    args = build_parser().parse_args([
        "fridge", "--sensor", "fr-1", "--broker", "mqtt://h:1", "--scenario", "door_open", "--scenario", "outage",
        "--door-at", "60", "--door-minutes", "45", "--duration-min", "180", "--speed", "0", "--kill",
        "--start", "2026-01-05T08:00:00Z", "--clock-offset-s", "-30", "--seq-start", "5",
    ])
    assert args.device == "fridge" and args.sensor == "fr-1" and args.kill
    assert args.scenario == ["door_open", "outage"] and args.door_at == 60 and args.door_minutes == 45
    assert args.start == START and args.clock_offset_s == -30 and args.seq_start == 5
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fridge", "--sensor", "x", "--start", "2026-01-05T08:00:00"])

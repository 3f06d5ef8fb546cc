"""The simulated fridge's physics and the readings its logger takes, before any broker is involved."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from firmware_sim.fridge import (
    COMPRESSOR_FAILURE,
    DOOR_OPEN,
    THERMOSTAT_FAULT,
    FridgeModel,
    generate,
    make_scenario,
)

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
DAY, FIVE_MIN = timedelta(days=1), timedelta(minutes=5)


def day(scenario, seed=7, **kw):
    return generate(scenario, START, DAY, FIVE_MIN, seed, **kw)


def temps(readings, lo=0.0, hi=float("inf")):
    return [r.temp_c for r in readings if lo <= r.t_min < hi]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 42])
def test_normal_day_of_5_minute_readings_stays_within_2_to_8(seed):
    readings = day("normal", seed)
    assert len(readings) == 288
    values = temps(readings)
    assert all(2.0 <= t <= 8.0 for t in values)
    assert 4.0 <= sum(values) / len(values) <= 6.0  # centred on the 5 °C setpoint
    assert max(values) - min(values) >= 0.8  # the compressor cycles: not a flat line


def test_compressor_cycles_with_hysteresis_around_the_setpoint():
    model = FridgeModel(setpoint_c=5.0, band_c=1.5, seed=3)
    states, airs = [], []
    for _ in range(6 * 60 * 6):  # six hours in 10-second steps
        airs.append(model.advance(10))
        states.append(model.compressor_on)
    switches = sum(a != b for a, b in pairwise(states))
    assert switches >= 10  # several on/off cycles
    assert 0.1 < sum(states) / len(states) < 0.6  # duty cycle of a healthy fridge
    assert min(airs) > 4.0 and max(airs) < 6.0  # the true air stays near the band 4.25..5.75


def test_readings_are_rounded_to_a_tenth_with_bounded_noise():
    model = FridgeModel(seed=5, noise_c=0.2)
    model.advance(600)
    for _ in range(200):
        value = model.read()
        assert value == round(value, 1)
        assert abs(value - model.air_c) <= 0.2 + 0.05 + 1e-9


def test_door_open_exceeds_8_during_the_window_and_recovers():
    readings = day(make_scenario("door_open", door_at=120, door_minutes=45))
    during = [r for r in readings if 120 <= r.t_min < 165]
    assert all(r.door_open for r in during)
    assert not any(r.door_open for r in readings if not 120 <= r.t_min < 165)
    assert max(r.temp_c for r in during) > 8.0
    # about +1 °C per minute at first: well above 8 within 10 minutes
    assert temps(readings, 130, 131)[0] > 8.0
    # closed at 165: back in range within 45 minutes and for the rest of the day
    assert all(2.0 <= t <= 8.0 for t in temps(readings, 210))
    assert all(2.0 <= t <= 8.0 for t in temps(readings, 0, 120))


def test_short_door_opening_between_two_readings_still_shows():
    readings = day(make_scenario("door_open", door_at=61, door_minutes=3))
    before, after = temps(readings, 60, 61)[0], temps(readings, 65, 66)[0]
    assert after > before + 1.0


def test_compressor_failure_warms_steadily_and_ends_above_8():
    readings = day(make_scenario("compressor_failure", fault_at=60))
    assert all(2.0 <= t <= 8.0 for t in temps(readings, 0, 60))
    after = temps(readings, 90)
    assert after[-1] > 8.0
    assert after[-1] > 15.0  # a day without cooling approaches the room
    first_high = next(r.t_min for r in readings if r.temp_c > 8.0)
    assert 60 < first_high < 60 + 180
    # steady warming: never drops by more than the noise
    assert all(b >= a - 0.4 for a, b in pairwise(after))


def test_thermostat_fault_drives_the_fridge_below_0():
    readings = day(make_scenario("thermostat_fault", fault_at=60))
    after = temps(readings, 60)
    assert min(after) < 2.0
    assert min(after) < 0.0
    assert next(r.t_min for r in readings if r.temp_c < 0.0) < 60 + 120
    assert after[-1] < 0.0


def test_a_fault_with_an_end_lets_the_fridge_recover():
    readings = day(make_scenario("thermostat_fault", fault_at=60, fault_minutes=60))
    assert min(temps(readings, 60, 130)) < 2.0
    assert all(2.0 <= t <= 8.0 for t in temps(readings, 240))


def test_power_outage_warms_while_off_and_buffers_the_readings():
    readings = day(make_scenario("power_outage", outage_at=60, outage_minutes=240))
    off = [r for r in readings if 60 <= r.t_min < 300]
    assert all(r.buffered for r in off)
    assert not any(r.buffered for r in readings if not 60 <= r.t_min < 300)
    assert off[-1].temp_c > 8.0 and off[-1].temp_c > off[0].temp_c
    assert all(2.0 <= t <= 8.0 for t in temps(readings, 420))  # cooled down again once power is back


def test_same_seed_same_series_other_seed_other_series():
    scenario = make_scenario(["door_open", "outage"], door_at=30, outage_at=200)
    assert day(scenario, seed=11) == day(scenario, seed=11)
    assert [r.temp_c for r in day(scenario, seed=11)] != [r.temp_c for r in day(scenario, seed=12)]


def test_ts_are_rfc3339_utc_with_a_zone_and_follow_the_clock_offset():
    readings = generate("normal", START, timedelta(hours=2), FIVE_MIN, seed=1, clock_offset_s=-90.5)
    for i, r in enumerate(readings):
        ts = r.payload()["ts"]
        assert isinstance(ts, str) and ts.endswith("Z")
        parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        assert parsed.utcoffset() == timedelta(0)
        assert parsed == START + i * FIVE_MIN - timedelta(seconds=90.5)
    whole = generate("normal", START, FIVE_MIN, FIVE_MIN, seed=1)[0].payload()["ts"]
    assert whole == "2026-01-05T08:00:00Z"


def test_start_in_another_zone_is_sent_as_utc():
    start = datetime(2026, 1, 5, 3, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert generate("normal", start, FIVE_MIN, FIVE_MIN)[0].payload()["ts"] == "2026-01-05T08:00:00Z"


def test_naive_start_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        generate("normal", datetime(2026, 1, 5), DAY, FIVE_MIN)


def test_seq_is_continuous_from_seq_start_and_battery_drains_slowly():
    readings = day("normal", seq_start=1000, battery_pct=80.0)
    assert [r.seq for r in readings] == list(range(1000, 1288))
    battery = [r.battery_pct for r in readings]
    assert battery[0] == 80.0 and 78.0 <= battery[-1] < 80.0
    assert all(b <= a for a, b in pairwise(battery))


def test_payload_has_only_contract_fields():
    payload = day("door_open")[20].payload()
    assert set(payload) == {"seq", "ts", "temp_c", "battery_pct", "door_open"}
    assert isinstance(payload["seq"], int) and isinstance(payload["temp_c"], float)
    assert isinstance(payload["door_open"], bool)
    json.dumps(payload)


def test_model_events_are_checked():
    model = FridgeModel(seed=0)
    with pytest.raises(ValueError, match="unknown event"):
        model.advance(60, {"door_ajar"})
    for event in (DOOR_OPEN, COMPRESSOR_FAILURE, THERMOSTAT_FAULT):
        model.advance(60, {event})
    with pytest.raises(ValueError, match="coil_c"):
        FridgeModel(setpoint_c=30.0, ambient_c=22.0)


def test_unknown_scenarios_and_options_are_refused():
    with pytest.raises(ValueError, match="unknown scenario"):
        make_scenario("door_ajar")
    with pytest.raises(ValueError, match="timing"):
        make_scenario("door_open", door_at_min=3)
    combined = make_scenario("door_open, power_outage", door_at=10, outage_at=100, outage_minutes=20)
    assert combined.name == "door_open+power_outage"
    assert combined.events_at(10) == {"door_open"} and combined.events_at(110) == {"power_off"}
    assert combined.events_at(120) == frozenset()

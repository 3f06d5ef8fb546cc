"""What the simulated autoclave reports: counter, seq, time stamps, programs, injected failures, the CLI."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from devices.mqtt import parse_cycle_payload
from firmware_sim.__main__ import build_parser, main
from firmware_sim.autoclave import (
    FAULTS,
    LOW_TEMPERATURE,
    PROGRAMS,
    SHORT_HOLD,
    SimulatedAutoclave,
    generate,
    program_named,
)

END = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TOPIC = "equipment/ac-1/cycle"


def test_fifty_cycles_count_up_with_continuous_seq_and_end_at_the_given_time():
    cycles = generate(50, fail_at={45}, seed=7, end=END)
    assert [c.cycle for c in cycles] == list(range(1, 51))
    assert [c.seq for c in cycles] == list(range(50))
    assert cycles[-1].ts == END
    assert all(b.ts - a.ts == HOUR for a, b in itertools.pairwise(cycles))
    assert [c.cycle for c in cycles if c.result == "fail"] == [45]


def test_every_payload_is_what_the_service_accepts():
    for c in generate(50, fail_at={45}, seed=7, end=END):
        raw = c.message()
        data = json.loads(raw)
        assert set(data) == {"seq", "ts", "cycle", "program", "result", "max_temp_c", "hold_min"}
        assert data["ts"].endswith("Z") and data["ts"] == c.ts.strftime("%Y-%m-%dT%H:%M:%SZ")
        parsed = parse_cycle_payload(TOPIC, raw, now=END)
        assert (parsed.device_id, parsed.seq, parsed.ts, parsed.cycle, parsed.program, parsed.result) == (
            "ac-1", c.seq, c.ts, c.cycle, c.program, c.result)
        assert (parsed.max_temp_c, parsed.hold_min) == (c.max_temp_c, c.hold_min)


def test_passing_cycles_reach_the_set_point_and_hold_failing_ones_do_not():
    cycles = generate(400, fail_every=4, seed=1, end=END)
    faults = set()
    for c in cycles:
        program = program_named(c.program)
        reached = program.temp_c <= c.max_temp_c <= program.temp_c + 3.0  # EN 13060: at most +3 °C
        held = c.hold_min >= program.hold_min
        if c.result == "pass":
            assert reached and held and c.fault is None, c
            assert c.hold_min <= program.hold_min + 0.5
        else:
            assert c.fault in FAULTS
            faults.add(c.fault)
            if c.fault == LOW_TEMPERATURE:
                assert program.temp_c - 6.0 <= c.max_temp_c <= program.temp_c - 1.5 and held, c
            else:
                assert reached and 0.3 * program.hold_min - 0.05 <= c.hold_min < program.hold_min, c
    assert faults == {LOW_TEMPERATURE, SHORT_HOLD}
    assert [c.cycle for c in cycles if c.result == "fail"] == list(range(4, 401, 4))


def test_programs_are_realistic_and_the_everyday_cycle_is_the_most_common():
    cycles = generate(1000, seed=3, end=END)
    counts = {p.name: sum(c.program == p.name for c in cycles) for p in PROGRAMS}
    assert set(counts) == {"134C-3.5min", "132C-4min", "121C-20min", "121C-30min", "134C-18min"}
    assert max(counts, key=counts.__getitem__) == "134C-3.5min"
    assert all(n > 0 for n in counts.values())
    assert {c.result for c in cycles} == {"pass"}


def test_a_run_continued_later_reports_what_one_long_run_would():
    whole = generate(51, seed=9, end=END, fail_at={51})
    first = generate(50, seed=9, end=END - HOUR, fail_at={51})
    rest = generate(1, start_cycle=50, seed=9, end=END, fail_at={51})
    assert [c.payload() for c in first + rest] == [c.payload() for c in whole]
    assert rest[0].seq == 50 and rest[0].result == "fail"


def test_an_injected_failure_changes_only_that_cycle():
    plain = generate(50, seed=5, end=END)
    failing = generate(50, seed=5, end=END, fail_at={45})
    changed = [a.cycle for a, b in zip(plain, failing, strict=True) if a.payload() != b.payload()]
    assert changed == [45]
    assert plain[44].program == failing[44].program


def test_the_same_seed_gives_the_same_series_and_another_seed_another():
    assert generate(30, seed=1, end=END) == generate(30, seed=1, end=END)
    assert [c.program for c in generate(30, seed=1, end=END)] != [c.program for c in generate(30, seed=2, end=END)]


def test_the_default_end_is_now_so_nothing_is_stamped_in_the_future():
    before = datetime.now(UTC).replace(microsecond=0)
    cycles = generate(10, interval=timedelta(minutes=45))
    after = datetime.now(UTC)
    assert before <= cycles[-1].ts <= after
    assert cycles[0].ts == cycles[-1].ts - 9 * timedelta(minutes=45)
    assert cycles[-1].ts.microsecond == 0


def test_seq_follows_the_counter_unless_given():
    assert [c.seq for c in generate(3, start_cycle=120, end=END)] == [120, 121, 122]
    assert [c.seq for c in generate(3, start_cycle=120, seq_start=0, end=END)] == [0, 1, 2]
    assert [c.cycle for c in generate(3, start_cycle=120, end=END)] == [121, 122, 123]


def test_the_device_keeps_its_counter_and_seed_and_series_sends_nothing():
    ac = SimulatedAutoclave("ac-1", "127.0.0.1", 1, start_cycle=10, seq_start=3, fail_at={12})
    first = ac.series(5, END)
    assert ac.series(5, END) == first and (ac.cycle, ac.seq) == (10, 3)  # nothing was sent, nothing advanced
    assert [(c.cycle, c.seq, c.result) for c in first[:3]] == [(11, 3, "pass"), (12, 4, "fail"), (13, 5, "pass")]
    assert first == generate(5, start_cycle=10, seq_start=3, fail_at={12}, seed=ac.seed, end=END)
    assert ac.cycle_topic == "equipment/ac-1/cycle" and ac.status_topic == "equipment/ac-1/status"
    assert ac.client_id == "autoclave-ac-1" and not ac.connected


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"count": -1}, ">= 0"), ({"start_cycle": -1}, ">= 0"), ({"seq_start": -1}, ">= 0"),
    ({"fail_every": 0}, "fail_every"), ({"interval": timedelta(0)}, "interval"),
    ({"end": datetime(2026, 1, 5, 8, 0)}, "time zone"), ({"programs": ()}, "no programs"),
])
def test_bad_options_are_refused(kwargs, message):
    options = {"count": 3, "end": END, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate(**options)


@pytest.mark.parametrize("device", ["", "a/b", "x" * 65, "ac 1", "ac+1"])
def test_a_device_id_that_cannot_be_a_topic_segment_is_refused(device):
    with pytest.raises(ValueError, match="device id"):
        SimulatedAutoclave(device)


def test_the_cli_takes_the_documented_options():
    args = build_parser().parse_args(["autoclave", "--device", "ac-1", "--broker", "mqtt://u:p@host:1884",
                                      "--cycles", "50", "--fail-at", "45", "--fail-at", "47,49", "--start-cycle", "0",
                                      "--interval-min", "30", "--end", "2026-01-05T18:00:00Z"])
    assert (args.device, args.cycles, args.start_cycle, args.seq_start) == ("ac-1", 50, 0, None)
    assert args.fail_at == [{45}, {47, 49}] and args.interval_min == 30.0 and args.end == END


def test_the_cli_dry_run_prints_the_payloads(capsys):
    assert main(["autoclave", "--device", "ac-1", "--cycles", "50", "--fail-at", "45", "--start-cycle", "0",
                 "--end", "2026-01-05T18:00:00Z", "--seed", "7", "--dry-run"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [c.payload() for c in generate(50, fail_at={45}, seed=7, end=END)]


def test_the_cli_refuses_an_unknown_program_and_bad_cycle_numbers(capsys):
    assert main(["autoclave", "--device", "ac-1", "--program", "140C-1min", "--dry-run"]) == 2
    assert "unknown program" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["autoclave", "--device", "ac-1", "--fail-at", "x"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["autoclave", "--device", "ac-1", "--end", "2026-01-05T18:00:00"])

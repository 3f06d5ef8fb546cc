"""The scanner framer and re-read suppression, like a rulebook: explicit monotonic times, no sleeps."""

import pytest

from devices.serial.framing import Deduplicator, Frame, Framer

GS = "\x1d"


def texts(frames: list[Frame]) -> list[str]:
    return [f.text for f in frames]


def test_cr_ends_a_frame():
    assert texts(Framer().feed(b"0123\r", 0.0)) == ["0123"]


def test_lf_ends_a_frame():
    assert texts(Framer().feed(b"0123\n", 0.0)) == ["0123"]


def test_crlf_is_one_terminator():
    assert texts(Framer().feed(b"A\r\nB\r\n", 0.0)) == ["A", "B"]


def test_crlf_split_across_reads_is_one_terminator():
    framer = Framer()
    assert texts(framer.feed(b"ABC\r", 0.0)) == ["ABC"]
    assert framer.feed(b"\nDEF", 0.001) == []
    assert texts(framer.feed(b"\r", 0.002)) == ["DEF"]


def test_several_frames_in_one_read_come_out_in_order():
    assert texts(Framer().feed(b"1\r2\n3\r\n4", 0.0)) == ["1", "2", "3"]


def test_partial_reads_are_reassembled():
    framer = Framer()
    payload = b"]d2" + b"01095011015300031714070410" + b"X" * 100
    out: list[Frame] = []
    for i in range(0, len(payload), 64):
        out += framer.feed(payload[i:i + 64], i / 64 * 0.001)
    out += framer.feed(b"\r", 0.01)
    assert texts(out) == [payload.decode("latin-1")]


def test_empty_frames_are_ignored():
    assert Framer().feed(b"\r\r\n\n\r", 0.0) == []


def test_no_suffix_scanner_is_framed_after_the_idle_gap():
    framer = Framer(idle_ms=50)
    assert framer.feed(b"0950110153000", 1.000) == []
    assert framer.feed(b"3", 1.020) == []
    assert framer.poll(1.069) == []
    frames = framer.poll(1.070)
    assert texts(frames) == ["09501101530003"]
    assert frames[0].monotonic == pytest.approx(1.020)  # time of the last byte, not of the poll
    assert framer.poll(2.0) == []


def test_a_read_after_the_gap_first_completes_the_previous_frame():
    framer = Framer(idle_ms=50)
    framer.feed(b"FIRST", 0.0)
    assert texts(framer.feed(b"SECOND", 0.2)) == ["FIRST"]
    assert texts(framer.poll(0.3)) == ["SECOND"]


def test_idle_gap_zero_frames_on_terminators_only():
    framer = Framer(idle_ms=0)
    framer.feed(b"ABC", 0.0)
    assert framer.poll(100.0) == []
    assert texts(framer.feed(b"\r", 100.0)) == ["ABC"]


def test_gs_is_kept():
    text = f"0104150011164140211GTFG32DLF{GS}1723033110158993A"
    assert texts(Framer().feed(text.encode("latin-1") + b"\r", 0.0)) == [text]


def test_leading_and_trailing_gs_are_kept():
    assert texts(Framer().feed(b"\x1d0103574661451947\x1d\r", 0.0)) == [f"{GS}0103574661451947{GS}"]


@pytest.mark.parametrize("check", [" ", "+", "$", ".", "/"])
def test_trailing_hibc_check_character_is_kept(check):
    text = f"+A123BJCMD6E79++$$52001510X3+{check}"
    assert texts(Framer().feed(text.encode() + b"\r\n", 0.0)) == [text]


def test_bytes_are_decoded_as_latin1_losslessly():
    raw = bytes(range(0x20, 0x100)).replace(b"\x7f", b"")
    frames = Framer().feed(raw + b"\r", 0.0)
    assert frames[0].text.encode("latin-1") == raw
    assert frames[0].rejected is None


def test_over_long_frame_is_rejected_truncated_and_framing_resumes():
    framer = Framer(max_len=10)
    out = framer.feed(b"0123456789ABC", 0.0)
    assert [(f.text, f.rejected) for f in out] == [("0123456789", "too_long")]
    assert framer.feed(b"DEF" * 50, 0.001) == []  # the rest of the long frame is discarded
    assert texts(framer.feed(b"GHI\rOK\r", 0.002)) == ["OK"]


def test_over_long_frame_without_suffix_ends_at_the_idle_gap():
    framer = Framer(idle_ms=50, max_len=4)
    assert len(framer.feed(b"TOOLONG", 0.0)) == 1
    assert framer.poll(0.1) == []
    assert texts(framer.feed(b"OK", 0.2)) == []
    assert texts(framer.poll(0.3)) == ["OK"]


def test_frame_of_exactly_the_cap_is_accepted():
    frames = Framer(max_len=4).feed(b"ABCD\r", 0.0)
    assert [(f.text, f.rejected) for f in frames] == [("ABCD", None)]


def test_line_noise_is_emitted_as_rejected_not_dropped():
    frames = Framer().feed(b"\x00\x00\x1d \x7f\r", 0.0)
    assert [(f.text, f.rejected) for f in frames] == [("\x00\x00\x1d \x7f", "noise")]


def test_flush_returns_a_started_frame_as_rejected():
    framer = Framer()
    framer.feed(b"0109501101", 0.0)
    assert [(f.text, f.rejected) for f in framer.flush(0.01, "port lost")] == [("0109501101", "port lost")]
    assert framer.flush(0.02, "port lost") == []
    assert not framer.pending


@pytest.mark.parametrize(("idle_ms", "max_len"), [(-1, 10), (50, 0)])
def test_framer_rejects_bad_settings(idle_ms, max_len):
    with pytest.raises(ValueError, match="must be >="):
        Framer(idle_ms=idle_ms, max_len=max_len)


def test_reread_within_the_window_is_suppressed():
    dedupe = Deduplicator(window_ms=1000)
    assert dedupe.offer("A", 0.0) == 0
    assert dedupe.offer("A", 0.5) is None
    assert dedupe.suppressed == 1


def test_code_left_in_view_stays_suppressed_while_rereads_continue():
    dedupe = Deduplicator(window_ms=1000)
    dedupe.offer("A", 0.0)
    assert [dedupe.offer("A", t) for t in (0.5, 1.0, 1.5, 2.0)] == [None] * 4
    assert dedupe.suppressed == 4


def test_same_code_after_the_window_is_accepted_and_reports_the_suppressed_count():
    dedupe = Deduplicator(window_ms=1000)
    dedupe.offer("A", 0.0)
    dedupe.offer("A", 0.5)
    dedupe.offer("A", 0.9)
    assert dedupe.offer("A", 2.0) == 2
    assert dedupe.suppressed == 0


def test_window_boundary_is_exclusive():
    dedupe = Deduplicator(window_ms=1000)
    dedupe.offer("A", 0.0)
    assert dedupe.offer("A", 1.0) == 0


def test_a_different_frame_in_between_resets_suppression():
    dedupe = Deduplicator(window_ms=1000)
    assert dedupe.offer("A", 0.0) == 0
    assert dedupe.offer("A", 0.1) is None
    assert dedupe.offer("B", 0.2) == 1
    assert dedupe.offer("A", 0.3) == 0  # staff scanned A, B, A on purpose


def test_window_zero_disables_suppression():
    dedupe = Deduplicator(window_ms=0)
    assert [dedupe.offer("A", 0.0), dedupe.offer("A", 0.0)] == [0, 0]


def test_deduplicator_rejects_a_negative_window():
    with pytest.raises(ValueError, match="window_ms"):
        Deduplicator(window_ms=-1)


def test_bytes_that_were_already_waiting_never_end_a_frame_by_idle_time():
    framer = Framer(idle_ms=50)
    assert framer.feed(b"]", 0.0) == []
    # The reader thread was held up for 80 ms, but the rest of the scan was already in the OS buffer.
    assert framer.feed(b"d2010950110153000310AB", 0.080, idle_check=False) == []
    assert [f.text for f in framer.feed(b"\r", 0.081)] == ["]d2010950110153000310AB"]

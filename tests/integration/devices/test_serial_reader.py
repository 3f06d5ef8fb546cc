"""ScannerReader against real ptys and a real TCP socket, driven by raw writes or by firmware_sim."""

import os
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Iterator

import pytest
import serial

from devices.serial import PortState, ScanFrame, ScannerConfig, ScannerReader, ScannerStatus
from firmware_sim.scanner import FdLink, PtyLink, ScannerProfile, SimulatedScanner, TcpServerLink
from tests.support.wait import wait_for

pytestmark = pytest.mark.timeout(10)
GS = "\x1d"
WAIT = 3.0


class Collector:
    """Records callbacks from the reader thread; `wait_*` block until a condition holds or fail."""

    def __init__(self) -> None:
        self.frames: list[ScanFrame] = []
        self.statuses: list[ScannerStatus] = []
        self._cond = threading.Condition()

    def on_frame(self, frame: ScanFrame) -> None:
        with self._cond:
            self.frames.append(frame)
            self._cond.notify_all()

    def on_status(self, status: ScannerStatus) -> None:
        with self._cond:
            self.statuses.append(status)
            self._cond.notify_all()

    def texts(self) -> list[str]:
        return [f.text for f in self.frames]

    def wait_frames(self, count: int) -> list[str]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.frames) >= count, WAIT), self.texts()
        return self.texts()

    def wait_opened(self, times: int = 1) -> None:
        def opened() -> bool:
            return sum(s.state is PortState.OPEN for s in self.statuses) >= times

        with self._cond:
            assert self._cond.wait_for(opened, WAIT), self.statuses


def start_reader(url: str, collector: Collector, **config: object) -> ScannerReader:
    reader = ScannerReader(
        ScannerConfig(id="test-scanner", url=url, location="STOCK", **config),  # type: ignore[arg-type]
        collector.on_frame, collector.on_status, backoff=(0.02, 0.1),
    )
    reader.start()
    return reader


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


@pytest.fixture
def collector() -> Collector:
    return Collector()


@pytest.fixture
def pty_reader(pty, collector) -> Iterator[tuple[int, ScannerReader]]:
    master, path = pty
    reader = start_reader(path, collector, idle_ms=200)  # wide gap: a loaded CI box must not split writes
    collector.wait_opened()
    yield master, reader
    reader.stop()
    assert not reader.is_alive()


def test_frames_split_reads_over_a_real_pty(pty_reader, collector):
    master, reader = pty_reader
    os.write(master, b"]d20109501101530003")
    time.sleep(0.01)
    os.write(master, b"1714070410AB-123\r")
    time.sleep(0.01)
    os.write(master, b"\nSECOND\r\nTHI")
    time.sleep(0.01)
    os.write(master, b"RD\n")
    assert collector.wait_frames(3) == ["]d201095011015300031714070410AB-123", "SECOND", "THIRD"]
    frame = collector.frames[0]
    assert (frame.scanner_id, frame.rejected, frame.received_at.tzinfo is not None) == ("test-scanner", None, True)
    assert reader.stats().frames == 3


def test_gs_and_trailing_space_survive_and_no_suffix_is_framed_by_idle_gap(pty_reader, collector):
    master, _ = pty_reader
    os.write(master, f"{GS}0103574661451947{GS}17210331\r".encode("latin-1"))
    os.write(master, b"+A123BJCMD6E79++$$52001510X3+ \r")
    os.write(master, b"NO-SUFFIX")
    assert collector.wait_frames(3) == [f"{GS}0103574661451947{GS}17210331", "+A123BJCMD6E79++$$52001510X3+ ",
                                        "NO-SUFFIX"]


def test_rereads_are_suppressed_and_counted(pty_reader, collector):
    master, reader = pty_reader
    os.write(master, b"A\r")
    time.sleep(0.01)
    os.write(master, b"A\r")
    time.sleep(0.01)
    os.write(master, b"A\rB\rA\r")
    assert collector.wait_frames(3) == ["A", "B", "A"]
    assert [f.suppressed_duplicates for f in collector.frames] == [0, 2, 0]
    assert reader.stats().suppressed == 2


def test_over_long_frame_is_delivered_rejected_and_reading_goes_on(pty_reader, collector):
    master, reader = pty_reader
    os.write(master, b"X" * 5000 + b"\rOK\r")
    assert collector.wait_frames(2)[1] == "OK"
    assert collector.frames[0].rejected == "too_long"
    assert reader.stats().rejected == 1


def test_a_failing_callback_never_kills_the_loop(pty, caplog):
    master, path = pty
    seen = Collector()

    def on_frame(frame: ScanFrame) -> None:
        seen.on_frame(frame)
        if frame.text == "BOOM":
            raise RuntimeError("consumer bug")

    reader = ScannerReader(ScannerConfig(id="s1", url=path, location="L"), on_frame, seen.on_status)
    reader.start()
    try:
        seen.wait_opened()
        os.write(master, b"BOOM\rAFTER\r")
        assert seen.wait_frames(2) == ["BOOM", "AFTER"]
        assert reader.stats().callback_errors == 1
        assert "consumer bug" in caplog.text
    finally:
        reader.stop()


def test_replug_through_a_symlink_to_a_brand_new_pty(tmp_path, collector):
    link = PtyLink(tmp_path / "usb-Honeywell_1900-if00")  # stands for /dev/serial/by-id/...
    with SimulatedScanner(link, ScannerProfile(terminator="crlf", chunk_size=8)) as scanner:
        first_node = link.slave_name
        # holding the old node keeps its number taken, so the scanner comes back as another node
        # (ttyACM0 -> ttyACM1) whatever other processes do with ptys meanwhile
        hold = os.open(first_node, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        reader = start_reader(link.path, collector)
        try:
            collector.wait_opened()
            scanner.scan("BEFORE")
            assert collector.wait_frames(1) == ["BEFORE"]
            scanner.unplug()
            assert not (tmp_path / "usb-Honeywell_1900-if00").exists()
            time.sleep(0.1)  # the reader fails to reopen a few times
            scanner.replug()
            assert link.slave_name != first_node
            collector.wait_opened(times=2)
            scanner.scan("AFTER")
            assert collector.wait_frames(2) == ["BEFORE", "AFTER"]
            stats = reader.stats()
            assert (stats.reopens, stats.is_open) == (1, True)
            assert stats.errors >= 2  # the lost port and at least one failed open
            assert [s.state for s in collector.statuses[:3]] == [PortState.OPEN, PortState.DISCONNECTED,
                                                                   PortState.OPEN]
        finally:
            reader.stop()
            os.close(hold)
    assert collector.statuses[-1].state is PortState.STOPPED


def test_port_missing_at_start_is_opened_when_it_appears(tmp_path, collector):
    link = PtyLink(tmp_path / "scanner")
    reader = start_reader(link.path, collector)
    try:
        time.sleep(0.1)
        assert collector.statuses[0].state is PortState.DISCONNECTED
        with SimulatedScanner(link) as scanner:
            collector.wait_opened()
            scanner.scan("HELLO")
            assert collector.wait_frames(1) == ["HELLO"]
    finally:
        reader.stop()


def test_simulator_without_suffix_in_usb_chunks_with_rereads_and_junk(pty, collector):
    master, path = pty
    # Frames told apart by silence alone: the simulator keeps 500 ms between them against the reader's 100 ms
    # idle gap, so a reader held up for a while on a busy host (both frames then wait in the buffer together,
    # and buffered bytes never end a frame by idle time) does not merge them.
    profile = ScannerProfile(terminator="none", aim="]d2", chunk_size=64, duplicates=2, junk=b"\x00\x00",
                             receiver_idle_ms=250)
    long_scan = "01095011015300031714070410" + "L" * 150
    reader = start_reader(path, collector, idle_ms=100)
    try:
        collector.wait_opened()
        with SimulatedScanner(FdLink(master), profile) as scanner:
            scanner.scan_all([long_scan, "0104150011164140"])
        texts = collector.wait_frames(3)
        assert texts == ["\x00\x00", "]d2" + long_scan, "]d20104150011164140"]
        assert collector.frames[0].rejected == "noise"
        assert collector.frames[2].suppressed_duplicates == 2
        wait_for(lambda: reader.stats().suppressed == 4, WAIT, "four re-reads suppressed", 0.01)
    finally:
        reader.stop()


def test_socket_url_with_reconnect(collector):
    link = TcpServerLink("127.0.0.1", 0)
    with SimulatedScanner(link, ScannerProfile(terminator="cr", gs="double")) as scanner:
        reader = start_reader(link.url, collector)
        try:
            collector.wait_opened()
            scanner.scan(f"01{GS}10LOT")
            assert collector.wait_frames(1) == [f"01{GS}{GS}10LOT"]
            scanner.unplug()
            time.sleep(0.1)
            scanner.replug()
            collector.wait_opened(times=2)
            scanner.scan("AFTER")
            assert collector.wait_frames(2)[1] == "AFTER"
        finally:
            reader.stop()


def test_device_reporting_readiness_without_data_is_reopened(collector):
    """pyserial's unplug error on a real USB device, which a pty cannot produce."""
    opened: list[object] = []

    class Unplugged:
        in_waiting = 0
        timeout = None

        def read(self, size: int) -> bytes:
            raise serial.SerialException("device reports readiness to read but returned no data")

        def close(self) -> None:
            pass

    def open_port(url: str, **kwargs: object) -> object:
        if not opened:
            opened.append(Unplugged())
        else:
            opened.append(serial.serial_for_url("loop://", **kwargs))
            opened[-1].write(b"BACK\r")
        return opened[-1]

    reader = ScannerReader(ScannerConfig(id="usb", url="hwgrep://0c2e:0b81", location="L"),
                           collector.on_frame, collector.on_status, backoff=(0.01, 0.05), open_port=open_port)
    reader.start()
    try:
        assert collector.wait_frames(1) == ["BACK"]
        assert "device reports readiness" in collector.statuses[1].detail
        assert reader.stats().reopens == 1
    finally:
        reader.stop()


def test_stop_is_prompt_even_during_backoff(tmp_path, collector):
    reader = ScannerReader(ScannerConfig(id="gone", url=str(tmp_path / "none"), location="L"),
                           collector.on_frame, collector.on_status, backoff=(5.0, 5.0))
    reader.start()
    time.sleep(0.05)
    started = time.monotonic()
    reader.stop()
    assert not reader.is_alive()
    assert time.monotonic() - started < 0.5


def test_firmware_sim_command_line_feeds_the_reader(tmp_path, collector):
    frames_file = tmp_path / "scans.txt"
    frames_file.write_text("0104150011164140211GTFG32DLF<GS>1723033110158993A\n\n#MODE:COUNT\n", encoding="latin-1")
    link = tmp_path / "scanner"
    reader = start_reader(str(link), collector)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "firmware_sim", "scanner", "--pty", str(link), "--terminator", "crlf",
             "--wait-ms", "500", "--gap-ms", "20", "--frames-file", str(frames_file), "+A123BJC5D6E71G"],
            capture_output=True, text=True, timeout=8, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert collector.wait_frames(3) == [
            "+A123BJC5D6E71G", f"0104150011164140211GTFG32DLF{GS}1723033110158993A", "#MODE:COUNT"]
        assert "sent 3 frames" in done.stderr
    finally:
        reader.stop()


def test_a_quiet_port_waits_long_reads_and_a_started_frame_short_ones(collector):
    """No frame under way: reads wait 0.5 s (stop() cancels them), so idle ports do not poll; once
    bytes of a suffix-less frame are in, reads time out at the idle gap's pace to end it."""
    timeouts: list[float | None] = []
    reads = iter([b"NOSUFFIX"])

    class Port:
        in_waiting = 0
        timeout: float | None = None

        def read(self, size: int) -> bytes:
            timeouts.append(self.timeout)
            data = next(reads, b"")
            if not data:
                time.sleep(min(self.timeout or 0.0, 0.06))  # as a real read waits out its timeout
            return data

        def cancel_read(self) -> None:
            pass

        def close(self) -> None:
            pass

    reader = ScannerReader(ScannerConfig(id="q", url="loop://", location="L", idle_ms=50),
                           collector.on_frame, collector.on_status, open_port=lambda url, **kw: Port())
    reader.start()
    try:
        assert collector.wait_frames(1) == ["NOSUFFIX"]
        wait_for(lambda: len(timeouts) >= 4, WAIT, "four reads", 0.01)
    finally:
        reader.stop()
    short = reader._read_timeout
    assert short < 0.5
    # first read: quiet; then the frame is under way (short) until the gap ends it; then quiet again
    assert timeouts[:2] == [0.5, short]
    assert 0.5 in timeouts[2:] and set(timeouts) == {0.5, short}

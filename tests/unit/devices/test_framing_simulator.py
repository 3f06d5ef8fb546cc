"""What the simulated scanner puts on the wire, before any port is involved."""

import pytest

from firmware_sim.__main__ import build_parser, unescape
from firmware_sim.scanner import ScannerProfile, encode

GS = "\x1d"
GS1 = f"0104150011164140211GTFG32DLF{GS}1723033110158993A"


@pytest.mark.parametrize(
    ("terminator", "suffix"), [("cr", b"\r"), ("lf", b"\n"), ("crlf", b"\r\n"), ("none", b"")]
)
def test_terminators(terminator, suffix):
    assert encode("ABC", ScannerProfile(terminator=terminator)) == b"ABC" + suffix


def test_aim_prefix_is_prepended():
    assert encode("0109501101530003", ScannerProfile(aim="]d2")) == b"]d20109501101530003\r"


@pytest.mark.parametrize(
    ("gs", "expected"),
    [
        ("keep", GS1),
        ("lose", GS1.replace(GS, "")),
        ("double", GS1.replace(GS, GS + GS)),
        ("leading", GS + GS1),
        ("trailing", GS1 + GS),
    ],
)
def test_gs_handling(gs, expected):
    assert encode(GS1, ScannerProfile(gs=gs, terminator="none")) == expected.encode("latin-1")


def test_no_suffix_gaps_are_stretched_past_the_receivers_idle_gap():
    profile = ScannerProfile(terminator="none", receiver_idle_ms=50, gap_ms=10)
    assert profile.gap_s(10) == pytest.approx(0.1)
    assert ScannerProfile(terminator="cr").gap_s(10) == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"terminator": "etx"}, "terminator must be one of"),
        ({"gs": "swap"}, "gs must be one of"),
        ({"chunk_size": -1}, ">= 0"),
        ({"terminator": "none", "chunk_size": 8, "chunk_delay_ms": 30}, "under half"),
    ],
)
def test_profile_rejects_what_the_receiver_could_not_frame(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ScannerProfile(**kwargs)


def test_gs_escapes_in_frames():
    assert unescape("01<GS>10\\x1d17\\u001D") == f"01{GS}10{GS}17{GS}"


def test_cli_scanner_subcommand_parses():
    args = build_parser().parse_args(
        ["scanner", "--pty", "/tmp/s", "--terminator", "crlf", "--junk", "00ff", "--chunk-size", "64", "A", "B"]
    )
    assert (args.device, args.pty, args.terminator, args.junk, args.chunk_size) == (
        "scanner", "/tmp/s", "crlf", b"\x00\xff", 64)
    assert args.frames == ["A", "B"]


def test_cli_needs_exactly_one_destination():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["scanner", "A"])

"""Command cards printed by the service: #MODE:..., #QTY:<n>, #LOC:<code>, #DONE."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.barcodes import parse_scan

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize("mode", ["RECEIVE", "CONSUME", "COUNT", "TRANSFER"])
def test_mode_cards_switch_to_the_lower_case_mode_name(mode: str) -> None:
    scan = parse_scan(f"#MODE:{mode}", today=TODAY)
    assert (scan.kind, scan.command, scan.argument, scan.error) == ("command", "mode", mode.lower(), None)


def test_quantity_card_gives_command_qty_and_the_quantity() -> None:
    scan = parse_scan("#QTY:12", today=TODAY)
    assert (scan.command, scan.argument, scan.quantity) == ("qty", "12", 12)


def test_quantity_zero_is_allowed_for_counting_an_empty_shelf() -> None:
    assert parse_scan("#QTY:0", today=TODAY).quantity == 0


def test_location_card_keeps_the_code_as_printed() -> None:
    scan = parse_scan("#LOC:Fridge-2.Shelf_B", today=TODAY)
    assert (scan.command, scan.argument) == ("loc", "Fridge-2.Shelf_B")


def test_done_card_ends_a_count_or_transfer() -> None:
    scan = parse_scan("#DONE", today=TODAY)
    assert (scan.kind, scan.command, scan.argument, scan.error) == ("command", "done", None, None)


def test_commands_behind_a_code128_identifier_are_read() -> None:
    scan = parse_scan("]C0#MODE:COUNT", today=TODAY)
    assert (scan.command, scan.argument, scan.symbology) == ("mode", "count", "]C0")


def test_keywords_are_accepted_in_any_letter_case() -> None:
    assert parse_scan("#mode:receive", today=TODAY).argument == "receive"
    assert parse_scan("#done", today=TODAY).command == "done"


@pytest.mark.parametrize("raw", ["#MODE:SELL", "#MODE:", "#MODE", "#QTY:", "#QTY:-1", "#QTY:1.5",
                                 "#QTY:1234567", "#LOC:", "#LOC:has space", "#DONE:NOW"])
def test_bad_arguments_give_bad_command_argument(raw: str) -> None:
    scan = parse_scan(raw, today=TODAY)
    assert (scan.kind, scan.error, scan.command, scan.argument) == ("command", "bad_command_argument", None, None)


@pytest.mark.parametrize("raw", ["#RESET", "#", "#12", "#MODE;RECEIVE"])
def test_unknown_commands_give_unknown_command(raw: str) -> None:
    assert parse_scan(raw, today=TODAY).error == "unknown_command"

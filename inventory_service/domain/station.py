"""What a scan means at a stockroom station: the station's state machine.

A station is a scanner bound to a location with a current mode. Command cards change the state;
a product label becomes one stock action in the current mode, or a rejection with a reason code.
Pure: the caller resolves items and lots and applies the action (ARCHITECTURE §4, Serial scanners).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

MAX_QUANTITY = 100_000


class Mode(StrEnum):
    RECEIVE = "receive"
    CONSUME = "consume"
    COUNT = "count"
    TRANSFER = "transfer"


@dataclass(frozen=True)
class StationState:
    mode: Mode
    home_mode: Mode
    pending_quantity: int | None = None
    target_location: str | None = None  # location code chosen with #LOC
    count_open: bool = False


@dataclass(frozen=True)
class Label:
    """What the parser read, in the domain's terms (kind: gs1, hibc, gtin, command, unknown)."""

    kind: str
    gtin: str | None = None
    hibc_code: str | None = None
    lot: str | None = None
    expiry: date | None = None
    quantity: int | None = None
    command: str | None = None
    argument: str | None = None
    error: str | None = None
    needs_confirmation: bool = False


@dataclass(frozen=True)
class NewState:
    state: StationState
    note: str
    finish_count: bool = False


@dataclass(frozen=True)
class Act:
    mode: Mode
    label: Label
    quantity: int
    target_location: str | None
    state: StationState  # the state after the action (pending quantity used up)


@dataclass(frozen=True)
class Reject:
    reason: str
    message: str


Decision = NewState | Act | Reject

#: Parser errors that mean "the label was read but its check character is wrong".
CHECK_ERRORS = frozenset({"bad_check_character", "bad_gtin_check_digit", "bad_link_character"})


def decide(state: StationState, label: Label) -> Decision:
    """The one decision for one scan. Never applies anything silently that needs a person.

    Messages are for the person at the station: what happened, then what to do (the parser's own
    error code stays in the scan's parsed fields)."""
    if label.error is not None:
        reason = "bad_check_character" if label.error in CHECK_ERRORS else "unparseable"
        if reason == "bad_check_character":
            return Reject(reason, "Label unclear – scan again slowly")
        return Reject(reason, "Barcode not understood – scan the product label or a station card")
    if label.needs_confirmation:
        # GS1 GenSpecs §7.8: a variable-length field without its FNC1 swallows what follows.
        return Reject("needs_confirmation", "Label unclear: its lot may run into the next field – set it aside for "
                      "the manager")
    if label.kind == "command":
        return _command(state, label)
    if label.kind not in ("gs1", "hibc", "gtin") or (label.gtin is None and label.hibc_code is None):
        return Reject("unparseable", "Not a product barcode – scan the product label or a station card")
    if state.mode is Mode.TRANSFER and state.target_location is None:
        return Reject("no_target_location", "No destination yet – scan the location label of where it goes")
    quantity = label.quantity or state.pending_quantity or 1
    return Act(state.mode, label, quantity, state.target_location,
               replace(state, pending_quantity=None, count_open=state.count_open or state.mode is Mode.COUNT))


def _command(state: StationState, label: Label) -> Decision:
    if label.command == "mode":
        mode = Mode(label.argument.lower()) if label.argument else None
        if mode is None:
            return Reject("unparseable", "Mode card not understood – scan it again")
        if state.count_open and mode is not Mode.COUNT:
            return Reject("count_open", "Count still open – scan Done to finish it first")
        return NewState(StationState(mode, state.home_mode, count_open=state.count_open),
                        f"{mode.value.capitalize()} mode")
    if label.command == "qty":
        try:
            qty = int(label.argument or "")
        except ValueError:
            return Reject("unparseable", "Quantity card not understood – scan it again")
        if not 1 <= qty <= MAX_QUANTITY:
            return Reject("bad_quantity", f"Quantity must be 1 to {MAX_QUANTITY} – scan another quantity card")
        return NewState(replace(state, pending_quantity=qty), f"Next scan counts {qty}")
    if label.command == "loc":
        return NewState(replace(state, target_location=label.argument), f"Destination {label.argument}")
    if label.command == "done":
        finished = state.count_open
        return NewState(StationState(state.home_mode, state.home_mode),
                        "Count saved" if finished else f"Back to {state.home_mode.value} mode", finish_count=finished)
    return Reject("unparseable", "Card not understood – scan a card from the station's list")

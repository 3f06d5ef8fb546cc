"""Command barcodes printed on station cards by the service (ARCHITECTURE.md section 4).

    #MODE:RECEIVE  #MODE:CONSUME  #MODE:COUNT  #MODE:TRANSFER
    #QTY:<n>       #LOC:<location code>        #DONE

Contract: `parse_command(text)` never raises and returns kind "command" with `command` one of
"mode", "qty", "loc", "done" and `argument` the normalised argument (mode in lower case, as in the
scanner definitions; quantity as digits; location code exactly as printed). Keywords and modes
are accepted in any letter case (wedges with caps lock invert it); surrounding spaces are ignored.
Unknown commands give error "unknown_command", bad arguments "bad_command_argument".
"""

from __future__ import annotations

import re

from devices.barcodes.scandata import ScanData, failed

MODES = frozenset({"receive", "consume", "count", "transfer"})
MAX_QUANTITY_DIGITS = 6
_COMMAND = re.compile(r"#(?P<name>[A-Za-z]+)(?::(?P<argument>.*))?", re.DOTALL)
_QUANTITY = re.compile(rf"[0-9]{{1,{MAX_QUANTITY_DIGITS}}}")
_LOCATION = re.compile(r"[A-Za-z0-9._/-]{1,64}")


def is_command(text: str) -> bool:
    """True when `text` is shaped like a command card (starts with '#')."""
    return text.lstrip(" ").startswith("#")


def parse_command(text: str) -> ScanData:
    """Parse one command barcode."""
    match = _COMMAND.fullmatch(text.strip(" "))
    if match is None:
        return failed("command", "unknown_command")
    name, argument = match["name"].lower(), match["argument"]
    if name == "done":
        if argument is not None:
            return failed("command", "bad_command_argument")
        return ScanData(kind="command", command="done")
    if name not in ("mode", "qty", "loc"):
        return failed("command", "unknown_command")
    if name == "mode":
        mode = (argument or "").lower()
        if mode not in MODES:
            return failed("command", "bad_command_argument")
        return ScanData(kind="command", command="mode", argument=mode)
    if name == "qty":
        if argument is None or _QUANTITY.fullmatch(argument) is None:
            return failed("command", "bad_command_argument")
        return ScanData(kind="command", command="qty", argument=str(int(argument)), quantity=int(argument))
    if argument is None or _LOCATION.fullmatch(argument) is None:
        return failed("command", "bad_command_argument")
    return ScanData(kind="command", command="loc", argument=argument)

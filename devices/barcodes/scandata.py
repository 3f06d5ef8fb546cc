"""The result of parsing one scan: `ScanData`, a frozen, JSON-ready record.

Contract:
- `raw` is always the caller's input, unchanged (no stripping, no decoding).
- `error` is None when the scan was read and validated. When `error` is set the scan must not be
  applied, and every data field (gtin, lot, expiry, ...) is None: nothing half-validated leaks out.
  `kind` still names the format that was recognised ("hibc" with "bad_check_character"), or
  "unknown" when nothing was recognised.
- `needs_confirmation` is True when the reading is plausible but not certain (for example a
  variable-length GS1 field that may have swallowed the fields after it): show it to staff.
- `warnings` holds short codes, never free text.

Error codes: empty, too_long, not_text, unparseable, internal_error (a parser bug, never expected),
bad_gtin_check_digit, bad_date, conflicting_duplicate_ai (GS1), bad_check_character,
bad_link_character, bad_hibc_syntax, conflicting_fields (HIBC), unknown_command,
bad_command_argument.
Warning codes: missing_gs_suspected, gs1_data_in_plain_symbology, no_gtin, gtin_of_contained_items,
expiry_from_7003, upc_e_expanded, add_on_ignored, hibc_secondary_only, check_verified_by_scanner,
hibc_unknown_supplemental_ignored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

Kind = Literal["gs1", "hibc", "gtin", "command", "unknown"]

# Fields that carry data read from the barcode; cleared whenever an error is set.
DATA_FIELDS = (
    "gtin", "lot", "expiry", "serial", "quantity", "production_date",
    "lic", "pcn", "unit_of_measure", "link_character", "command", "argument",
)


@dataclass(frozen=True)
class ScanData:
    """One parsed scan. See the module docstring for the contract."""

    kind: Kind
    raw: str = ""
    symbology: str | None = None
    gtin: str | None = None
    lot: str | None = None
    expiry: dt.date | None = None
    serial: str | None = None
    quantity: int | None = None
    production_date: dt.date | None = None
    lic: str | None = None
    pcn: str | None = None
    unit_of_measure: int | None = None
    link_character: str | None = None
    command: str | None = None
    argument: str | None = None
    elements: tuple[tuple[str, str], ...] = ()  # every GS1 (AI, value) read, in order
    warnings: tuple[str, ...] = ()
    error: str | None = None
    needs_confirmation: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return every field as JSON-ready values: dates as YYYY-MM-DD, warnings as a list,
        elements as an object {AI: value}."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif f.name == "elements":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


def failed(kind: Kind, error: str, *warnings: str) -> ScanData:
    """A result for a scan that was (maybe) recognised but must not be applied."""
    return ScanData(kind=kind, error=error, warnings=tuple(warnings))


def with_error(scan: ScanData, error: str) -> ScanData:
    """Return `scan` with `error` set and every data field cleared (see the contract)."""
    cleared: dict[str, Any] = dict.fromkeys(DATA_FIELDS)
    return replace(scan, error=error, needs_confirmation=False, elements=(), **cleared)

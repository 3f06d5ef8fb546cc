"""Serial barcode scanners: bytes in, `ScanFrame`s out (ARCHITECTURE §4 "Serial scanners").

* `framing`: pure `Framer` (CR/LF/CRLF/idle gap, length cap) and `Deduplicator` (re-read window).
* `config`: `ScannerConfig`, `read_scanner_definitions` (entry by entry, with the problems found) and
  `scanners_from_json` (all or nothing) for `INVENTORY_SCANNERS`.
* `reader`: `ScannerReader`, the thread that opens a port, frames and reopens after an unplug.
"""

from devices.serial.config import (
    DefinitionProblem,
    ScannerConfig,
    ScannerDefinitions,
    read_scanner_definitions,
    scanners_from_json,
)
from devices.serial.framing import Deduplicator, Frame, Framer
from devices.serial.reader import PortState, ReaderStats, ScanFrame, ScannerReader, ScannerStatus

__all__ = [
    "Deduplicator",
    "DefinitionProblem",
    "Frame",
    "Framer",
    "PortState",
    "ReaderStats",
    "ScanFrame",
    "ScannerConfig",
    "ScannerDefinitions",
    "ScannerReader",
    "ScannerStatus",
    "read_scanner_definitions",
    "scanners_from_json",
]

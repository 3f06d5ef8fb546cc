"""Serial barcode scanners: bytes in, `ScanFrame`s out (ARCHITECTURE §4 "Serial scanners").

* `framing`: pure `Framer` (CR/LF/CRLF/idle gap, length cap) and `Deduplicator` (re-read window).
* `config`: `ScannerConfig` and `scanners_from_json` for `INVENTORY_SCANNERS`.
* `reader`: `ScannerReader`, the thread that opens a port, frames and reopens after an unplug.
"""

from devices.serial.config import ScannerConfig, scanners_from_json
from devices.serial.framing import Deduplicator, Frame, Framer
from devices.serial.reader import PortState, ReaderStats, ScanFrame, ScannerReader, ScannerStatus

__all__ = [
    "Deduplicator",
    "Frame",
    "Framer",
    "PortState",
    "ReaderStats",
    "ScanFrame",
    "ScannerConfig",
    "ScannerReader",
    "ScannerStatus",
    "scanners_from_json",
]

"""GS1 Digital Link URIs (https://id.gs1.org/01/<GTIN>/10/<lot>?17=<YYMMDD>) read with biip.

Digital Link URIs ride in plain QR Code or Data Matrix, so scanners send them behind `]Q1` or
`]d1` (the caller has already split the identifier off). A QR encoder may upper-case the whole
URI to use its compact alphanumeric mode; scheme and host are case-insensitive (RFC 3986 3.1,
3.2.2) but biip only accepts a lower-case scheme, so both are lower-cased here. The path and
query (the GS1 data) are left exactly as scanned.

Contract: `parse_digital_link(text, today)` never raises; it returns a "gs1" ScanData, or kind
"unknown" with error "unparseable" for a URI that is not a GS1 Digital Link.
"""

from __future__ import annotations

import datetime as dt
import re

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI

from devices.barcodes.gs1 import BIIP_CONFIG, from_elements
from devices.barcodes.scandata import ScanData, failed

_SCHEME_AND_HOST = re.compile(r"(?P<scheme>https?)://(?P<host>[^/?#]*)", re.IGNORECASE)


def looks_like_uri(text: str) -> bool:
    """True when `text` starts with http:// or https:// in any letter case."""
    return _SCHEME_AND_HOST.match(text) is not None


def normalise(text: str) -> str:
    """Lower-case the scheme and host; leave path, query and fragment untouched."""
    match = _SCHEME_AND_HOST.match(text)
    if match is None:
        return text
    head = f"{match['scheme'].lower()}://{match['host'].lower()}"
    return head + text[match.end() :]


def parse_digital_link(text: str, today: dt.date) -> ScanData:
    """Parse a GS1 Digital Link URI; GS at either end (some scanners add one) is ignored."""
    uri = normalise(text.strip("\x1d"))
    try:
        link = GS1DigitalLinkURI.parse(uri, config=BIIP_CONFIG)
    except (ParseError, ValueError):
        return failed("unknown", "unparseable")
    return from_elements(((es.ai.ai, es.value) for es in link.element_strings), today)

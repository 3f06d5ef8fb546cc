"""Readings of a GS1 element string when FNC1 separators (GS, 0x1D) may have been lost.

GS1 General Specifications 7.8.5: only AIs starting 00-04, 11-19, 20, 31-36 and 41 have a
predefined length; every other element string must be followed by FNC1 when more data follows.
A keyboard wedge or a misconfigured scanner can drop that FNC1, and then a variable-length field
(a lot, a serial) silently swallows the element strings printed after it. The data alone cannot
tell a long lot from a short lot followed by more fields, so this module only *finds* the other
readings; the caller flags the scan for confirmation rather than picking one silently.

An "anchor" is an element string that is unlikely to appear by chance (a valid date AI, a GTIN
with a correct check digit). The best reading is the one with the most anchors, then the fewest
cut fields, then the fewest elements. Contract: never raises; gives up (None) on long input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier

GS = "\x1d"
MAX_SEARCH_LENGTH = 300  # the search is O(n * field length); real GS1 symbols are far shorter

Element = tuple[str, str]  # (AI, value)


@dataclass(frozen=True)
class Reading:
    """One way to split the data into element strings."""

    elements: tuple[Element, ...]
    anchors: int
    cuts: int  # variable-length fields that end where no GS was sent

    @property
    def score(self) -> tuple[int, int, int]:
        """Higher is more plausible."""
        return (self.anchors, -self.cuts, -len(self.elements))


@functools.lru_cache(maxsize=1024)
def _value_pattern(ai: GS1ApplicationIdentifier) -> re.Pattern[str]:
    # biip's patterns are "^<AI>(<value groups>)$"; keep only the value part.
    return re.compile(ai.pattern.removeprefix(f"^{ai.ai}").removesuffix("$"))


def _ai_at(data: str, pos: int) -> GS1ApplicationIdentifier | None:
    return _ai_of_prefix(data[pos : pos + 4])


@functools.lru_cache(maxsize=16_384)
def _ai_of_prefix(prefix: str) -> GS1ApplicationIdentifier | None:
    # biip looks an AI up by scanning its whole table; the search below asks at every position of
    # every candidate reading, so the answer per 4-character prefix is remembered (10,000 at most
    # for digits; other prefixes are rare and bounded by the cache size).
    try:
        return GS1ApplicationIdentifier.extract(prefix)
    except ParseError:
        return None


def count_cuts(data: str, elements: list[Element] | tuple[Element, ...]) -> int:
    """How many variable-length elements in a reading of `data` are not followed by GS or the end."""
    pos, cuts = 0, 0
    for ai_code, value in elements:
        pos += len(ai_code) + len(value)
        ai = _ai_at(ai_code, 0)
        if ai is not None and ai.separator_required and pos < len(data) and data[pos] != GS:
            cuts += 1
        while pos < len(data) and data[pos] == GS:
            pos += 1
    return cuts


def best_reading(data: str, is_anchor: Callable[[str, str], bool]) -> Reading | None:
    """The most plausible reading of `data` allowing variable-length fields to end without GS."""
    if len(data) > MAX_SEARCH_LENGTH:
        return None
    n = len(data)

    @functools.cache
    def best_from(pos: int) -> Reading | None:
        while pos < n and data[pos] == GS:
            pos += 1
        if pos == n:
            return Reading((), 0, 0)
        ai = _ai_at(data, pos)
        if ai is None:
            return None
        start = pos + len(ai.ai)
        stop = data.find(GS, start)
        segment = data[start : stop if stop >= 0 else n]
        pattern = _value_pattern(ai)
        greedy = pattern.match(segment)
        if greedy is None:
            return None
        longest = greedy.end()
        lengths = range(longest, 0, -1) if ai.separator_required and longest else (longest,)
        best: Reading | None = None
        for length in lengths:
            value = segment[:length]
            if length != longest and pattern.fullmatch(value) is None:
                continue
            rest = best_from(start + length)
            if rest is None:
                continue
            cut = int(ai.separator_required and length < len(segment))
            candidate = Reading(
                ((ai.ai, value), *rest.elements),
                rest.anchors + int(is_anchor(ai.ai, value)),
                rest.cuts + cut,
            )
            if best is None or candidate.score > best.score:
                best = candidate
        return best

    return best_from(0)

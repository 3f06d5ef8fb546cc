"""Does a ticket's result list answer its checklist exactly?

Item names match after canonical caseless matching and whitespace collapse: "Bowie-Dick  test" is
"bowie-dick test", but "Bowie-Dik test" is not "Bowie-Dick test". Canonical caseless matching is
NFD(casefold(NFD(s))) (Unicode §3.13, D145), here recomposed to NFC, so a precomposed "é" and "e" +
combining acute are the same letter. Whitespace collapse: any run of Unicode whitespace is one space,
none at either end.

A result is `pass`, `fail` or `n/a`; any `fail` fails the ticket, `n/a` does not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FAIL = "fail"


def item_key(name: str) -> str:
    """The form two item names are compared in."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())
    return " ".join(folded.split())


def duplicates(names: Iterable[str]) -> list[str]:
    """Names that repeat an earlier one (compared by `item_key`), each listed once, as first repeated."""
    seen: set[str] = set()
    reported: set[str] = set()
    out = []
    for name in names:
        key = item_key(name)
        if key in seen and key not in reported:
            out.append(name)
            reported.add(key)
        seen.add(key)
    return out


@dataclass(frozen=True)
class Mismatch:
    """What keeps results from answering a checklist: items of the checklist without a result
    (`missing`, as the checklist spells them), results for items it does not have (`unknown`, as
    given) and items answered more than once (`duplicated`, as given)."""

    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unknown or self.duplicated)

    def describe(self) -> str:
        parts = []
        if self.missing:
            parts.append("no result for " + ", ".join(repr(n) for n in self.missing))
        if self.unknown:
            parts.append("not on the checklist: " + ", ".join(repr(n) for n in self.unknown))
        if self.duplicated:
            parts.append("answered more than once: " + ", ".join(repr(n) for n in self.duplicated))
        return "the results do not answer the checklist exactly: " + "; ".join(parts)


def mismatch(checklist: Sequence[str], answered: Sequence[str]) -> Mismatch:
    """Compare the checklist's item names with the names results were given for.

    With an empty checklist nothing is missing or unknown (the results are free-form); duplicates
    are refused either way.
    """
    if not checklist:
        return Mismatch(duplicated=duplicates(answered))
    given = {item_key(n) for n in answered}
    wanted = {item_key(n) for n in checklist}
    return Mismatch(
        missing=[n for n in checklist if item_key(n) not in given],
        unknown=[n for n in answered if item_key(n) not in wanted],
        duplicated=duplicates(answered),
    )


def passed(results: Iterable[str]) -> bool:
    """A fail anywhere is a fail; `pass` and `n/a` are not."""
    return all(r != FAIL for r in results)

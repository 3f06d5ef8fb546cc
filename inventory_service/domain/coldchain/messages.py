"""What the manager reads when a temperature alarm fires: a subject that says what happened, and a
message with the unit, the excursion, the stock on hold and what to do next.

CDC Vaccine Storage and Handling Toolkit, "Temperature excursion": Notify (the person responsible),
Document (temperatures, time out of range, lots), Contact (the manufacturer or the immunization
program) and Correct; meanwhile keep the vaccine stored at the right temperature, labelled "Do Not
Use", and do not discard it before a decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .ranges import AlarmRule, Direction, Range, RuleMode


@dataclass(frozen=True)
class HeldStock:
    item_name: str
    lot_number: str
    quantity: int
    location: str  # where the held stock is


@dataclass(frozen=True)
class AlarmFacts:
    unit_name: str
    unit_range: Range
    rule: AlarmRule
    start: datetime  # when the condition began (the run's start; a cumulative alarm's day start)
    triggered_at: datetime
    end: datetime | None  # None while the excursion goes on
    peak_c: float | None
    duration_min: float | None  # of the excursion, so far
    held: tuple[HeldStock, ...]
    link: str  # the page where the manager decides (a path the console serves)


def _limit(rule: AlarmRule, unit: Range) -> str:
    value = rule.threshold_c if rule.threshold_c is not None else (
        unit.max_c if rule.kind is Direction.HIGH else unit.min_c)
    word = ("at or above" if rule.inclusive else "above") if rule.kind is Direction.HIGH else (
        "at or below" if rule.inclusive else "below")
    return f"{word} {value:.1f} °C"


def _minutes(value: float) -> str:
    return f"{value:g} min" if value < 120 else f"{value / 60:.1f} h"


def _when(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return f"{local:%H:%M} on {local:%a} {local.day} {local:%b %Y}"


def subject(facts: AlarmFacts) -> str:
    """E.g. "Vaccine fridge A above 8.0 °C for 30 min"; a cumulative rule says "... in total today"."""
    rule = facts.rule
    text = f"{facts.unit_name} {_limit(rule, facts.unit_range)} for {_minutes(rule.delay_min)}"
    return text + (" in total today" if rule.mode is RuleMode.CUMULATIVE else "")


def message(facts: AlarmFacts, tz: ZoneInfo) -> str:
    """The alarm e-mail's text, in the site's time zone."""
    rule, unit = facts.rule, facts.unit_range
    limit = _limit(rule, unit)
    peak = f"; peak {facts.peak_c:.1f} °C" if facts.peak_c is not None else ""
    if facts.end is None:
        lasted = f" ({_minutes(round(facts.duration_min, 1))} so far{peak})" if facts.duration_min else ""
        what = f"{facts.unit_name} has been {limit} since {_when(facts.start, tz)}{lasted}."
    else:
        lasted = f" ({_minutes(round(facts.duration_min or 0, 1))}{peak})"
        what = f"{facts.unit_name} was {limit} from {_when(facts.start, tz)} to {_when(facts.end, tz)}{lasted}."
    if rule.mode is RuleMode.CUMULATIVE:
        what += f" Out-of-range time today reached {_minutes(rule.delay_min)} at {_when(facts.triggered_at, tz)}."
    lines = [what, f"Its range is {unit.min_c:.1f} to {unit.max_c:.1f} °C.", ""]
    if facts.held:
        lines.append("On hold, not to be used until a manager decides:")
        lines += [f"  - {h.item_name} lot {h.lot_number}: {h.quantity} in {h.location}" for h in facts.held]
    else:
        lines.append("No stock was in the unit during the excursion.")
    lines += [
        "",
        "What to do now:",
        '  1. Keep the vaccine cold where it is, labelled "Do not use". Do not throw it away.',
        "  2. Check the unit: door shut, power on, thermostat setting. If it cannot hold its range, "
        "move the vaccine to a unit that can.",
        "  3. Contact the manufacturer (or your immunization program) with the lot numbers, the "
        "temperatures and the time out of range.",
        f"  4. Record a decision for each lot (release, discard or ask the manufacturer): {facts.link}",
    ]
    return "\n".join(lines)

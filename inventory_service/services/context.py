"""Who acts, through what, and at which instant: passed to every use case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from ..domain.lots import site_today

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """`source` is one of api, station, job, cli; `actor` the token, station or job name."""

    actor: str
    source: str
    now: datetime
    tz: ZoneInfo

    @property
    def today(self) -> date:
        """The site's calendar date, computed per call from `now` (never at import)."""
        return site_today(self.now, self.tz)

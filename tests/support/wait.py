"""Waiting for something another thread or process does: the one polling helper of the test suite."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_SHOWN = 500  # characters of the last value quoted in a failure


def wait_for(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.05, *,
             details: Callable[[], str] | None = None) -> T:
    """Call `predicate` every `interval` seconds until it returns a truthy value, and return that value.

    The predicate is called at least once, and once more when `timeout` seconds have passed, so a
    condition met just at the deadline still counts. If it never returns a truthy value, the test
    fails with an AssertionError that names `what` (written as what is awaited: "the ingest to
    connect"), the timeout and the last value the predicate returned (`False`, `0`, `[]`, ...);
    `details`, when given, is called then and its text appended (a service's log, say). An exception
    raised by the predicate is not caught: it ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            shown = repr(value)
            if len(shown) > _SHOWN:
                shown = shown[:_SHOWN] + "..."
            message = f"timed out after {timeout:g}s waiting for {what} (last value: {shown})"
            if details is not None:
                message += "\n" + details()
            raise AssertionError(message)
        time.sleep(min(interval, remaining))

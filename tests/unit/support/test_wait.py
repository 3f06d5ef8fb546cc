"""tests.support.wait.wait_for: the value it returns, and what a timed-out wait says."""

from __future__ import annotations

import itertools

import pytest

from tests.support.wait import wait_for


def test_returns_the_first_truthy_value_of_the_predicate():
    calls = itertools.count()
    assert wait_for(lambda: [n] if (n := next(calls)) >= 2 else [], 5, "the third call", 0.001) == [2]


def test_a_predicate_true_at_once_is_called_once_and_never_sleeps():
    calls: list[int] = []
    assert wait_for(lambda: calls.append(1) or "ready", 0, "nothing", 60) == "ready"
    assert calls == [1]


def test_a_timeout_names_what_was_awaited_the_last_value_and_the_details():
    values = iter(range(1000))
    with pytest.raises(AssertionError) as failed:
        wait_for(lambda: next(values) > 10**6 or [], 0.05, "a million", 0.01, details=lambda: "the log's end")
    message = str(failed.value)
    assert message.startswith("timed out after 0.05s waiting for a million (last value: [])")
    assert message.endswith("\nthe log's end")


def test_the_predicate_is_checked_once_more_at_the_deadline():
    calls: list[int] = []
    with pytest.raises(AssertionError):
        wait_for(lambda: calls.append(1), 0.03, "never", 1.0)
    assert len(calls) == 2  # at once, then after the one (shortened) sleep


def test_an_exception_in_the_predicate_ends_the_wait():
    def broken() -> bool:
        raise ConnectionError("gone")

    with pytest.raises(ConnectionError):
        wait_for(broken, 5, "a broken check")

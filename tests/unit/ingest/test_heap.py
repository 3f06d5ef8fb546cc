"""freeze_startup_heap: what is alive is out of the collector's reach, later garbage is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from inventory_service.ingest.heap import freeze_startup_heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # other tests expect the interpreter's usual state


def test_objects_alive_at_start_up_are_frozen_and_later_cycles_still_collected(unfrozen: None) -> None:
    long_lived = Node()
    frozen = freeze_startup_heap()
    assert frozen == gc.get_freeze_count() > 0
    assert not any(o is long_lived for o in gc.get_objects())  # full collections no longer walk it

    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage
    gc.collect()
    assert gone() is None

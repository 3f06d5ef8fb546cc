"""The ingest process's heap after start-up: frozen, so the cyclic collector stops walking it.

A long-running process that imported Flask, SQLAlchemy, biip and paho and built its mappers holds
hundreds of thousands of objects that live as long as it does. Python's full (generation 2)
collections walk all of them every time: 60-100 ms with every thread stopped, measured in the scan
ingest on a 2-CPU machine (bench/scan_latency.py), longer than the whole budget of a scan (its movement
committed within 50 ms of the last byte, 99 times in 100). `gc.freeze()` moves everything
alive at that point to a permanent generation that collections skip; what is allocated afterwards is
collected as usual, so nothing leaks that would not have leaked anyway.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_startup_heap() -> int:
    """Collect once, then freeze every object still alive; returns how many are now frozen.

    Call it once the process has started its components (the objects made at start-up are the
    long-lived ones); calling it again freezes what accumulated since, which is harmless.
    """
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("froze %d start-up objects out of the cyclic collector's reach", frozen)
    return frozen

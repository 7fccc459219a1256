"""Garbage collection set for streaming pages of JSON: fewer collections, same memory.

A decoded page of 100 orders is about 6,000 dicts and lists that live only until the page
is written, and none of them is part of a reference cycle: reference counting frees them.
CPython's default collects the young generation every 700 new containers, so the collector
scans each page's objects again and again while the page is alive, promotes them, and then
scans the older generations too: about a tenth of the tap's CPU in the bench.

``streaming_heap`` collects every 50,000 new containers instead, and first moves what
start-up made (modules, schemas, the catalog) out of the collector's way with
``gc.freeze``. Cycles are still collected, later; peak RSS is unchanged in the bench.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: New containers between collections of the young generation (CPython's default: 700).
YOUNG_COLLECTION_EVERY = 50_000


@contextmanager
def streaming_heap() -> Iterator[None]:
    """Collect less often while the body runs; the previous thresholds come back after."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()

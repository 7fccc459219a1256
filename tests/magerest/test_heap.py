"""streaming_heap: fewer young collections while a sync runs, the process's own settings after."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from magerest.heap import YOUNG_COLLECTION_EVERY, streaming_heap
from tap_magento2.order_streams import OrdersStream
from tests.conftest import sandbox_config
from tests.tap.support import run_tap


def test_thresholds_and_frozen_objects_come_back() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with streaming_heap():
        assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, *before[1:])
        assert gc.get_freeze_count() > frozen  # start-up's objects out of the way
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_thresholds_come_back_after_a_failure() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), streaming_heap():
        raise RuntimeError
    assert gc.get_threshold() == before


def test_the_tap_streams_orders_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from magento2_sandbox import MagentoSandbox

    seen: list[int] = []
    original = OrdersStream.post_process

    def post_process(self: OrdersStream, row: dict[str, Any], context: Any = None) -> Any:
        seen.append(gc.get_threshold()[0])
        return original(self, row, context)

    monkeypatch.setattr(OrdersStream, "post_process", post_process)
    with MagentoSandbox(order_count=30, seed=3) as sb:
        run = run_tap(sandbox_config(sb, order_import_status="processing,pending,complete"))
    assert run.records()
    assert set(seen) == {YOUNG_COLLECTION_EVERY}

"""Long syncs: progress against total_count, STATE every few thousand orders, safe resumes,
and one log line per run (not per order) for order_items."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from magento2_sandbox import MagentoSandbox
from tap_magento2.order_streams import OrdersStream
from tap_magento2.progress import SyncProgress
from tap_magento2.timestamps import magento_to_rfc3339
from tests.conftest import sandbox_config
from tests.tap.support import TapRun, run_tap

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
EVERY_STATUS = ["pending", "processing", "holded", "complete", "canceled"]


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [r["entity_id"] for r in records]


def orders_in_stream_order(run: TapRun) -> list[tuple[str, Any]]:
    """("record", order) and ("state", orders bookmark) in the order the tap wrote them."""
    events: list[tuple[str, Any]] = []
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == "orders":
            events.append(("record", message["record"]))
        elif message["type"] == "STATE":
            bookmark = message["value"].get("bookmarks", {}).get("orders", {})
            if "replication_key_value" in bookmark:
                events.append(("state", bookmark["replication_key_value"]))
    return events


def assert_states_never_pass_an_unsent_order(run: TapRun, at_least: int) -> None:
    """Each STATE followed by orders is at or before every one of them (read backwards:
    the oldest ``updated_at`` still to come is carried along)."""
    oldest_to_come: str | None = None
    mid_run = 0
    for kind, value in reversed(orders_in_stream_order(run)):
        if kind == "record":
            updated = value["updated_at"]
            oldest_to_come = updated if oldest_to_come is None else min(oldest_to_come, updated)
        elif oldest_to_come is not None:
            mid_run += 1
            assert value <= oldest_to_come, f"bookmark {value} passes an order of {oldest_to_come}"
    assert mid_run >= at_least


@pytest.fixture(scope="module")
def big_store() -> Any:
    with MagentoSandbox(order_count=3_500, seed=21, now=NOW) as sb:
        yield sb


@pytest.fixture(scope="module")
def first_sync(big_store: Any) -> TapRun:
    """A first sync of every order, four requests at once (the time-sliced path)."""
    return run_tap(big_config(big_store), streams=("orders",))


def big_config(sb: Any) -> dict[str, Any]:
    return sandbox_config(
        sb, order_import_status=EVERY_STATUS, page_size=100, max_concurrent_requests=4
    )


def test_a_long_first_sync_writes_state_that_never_passes_an_unsent_order(
    big_store: Any, first_sync: TapRun
) -> None:
    expected = big_store.data.matching(statuses=EVERY_STATUS)
    assert ids(first_sync.records()) == ids(expected)
    assert len(expected) // OrdersStream.STATE_MSG_FREQUENCY >= 3
    assert_states_never_pass_an_unsent_order(first_sync, at_least=3)


def test_one_request_at_a_time_writes_the_same_safe_states(
    make_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OrdersStream, "STATE_MSG_FREQUENCY", 50)
    sb = make_sandbox(order_count=400, seed=22, now=NOW)
    config = sandbox_config(
        sb, order_import_status=EVERY_STATUS, page_size=30, max_concurrent_requests=1
    )
    run = run_tap(config, streams=("orders",))
    assert ids(run.records()) == ids(sb.data.matching(statuses=EVERY_STATUS))
    assert_states_never_pass_an_unsent_order(run, at_least=6)


def test_a_rerun_from_a_mid_run_state_completes_without_skipping(
    big_store: Any, first_sync: TapRun
) -> None:
    states = [s for s in first_sync.states if "replication_key_value" in s["bookmarks"]["orders"]]
    assert len(states) >= 4  # three mid-run, one at the end
    middle = len(states) // 2
    killed_at = states[middle]  # as if the run had been killed right after this STATE
    sent = first_sync.records()[: OrdersStream.STATE_MSG_FREQUENCY * (middle + 1)]

    rerun = run_tap(big_config(big_store), state=killed_at, streams=("orders",))

    bookmark = killed_at["bookmarks"]["orders"]["replication_key_value"]
    expected = big_store.data.matching(statuses=EVERY_STATUS)
    after = [o for o in expected if magento_to_rfc3339(o["updated_at"]) >= bookmark]
    got = ids(rerun.records())
    assert set(ids(after)) <= set(got)  # nothing after the bookmark is skipped
    assert set(ids(expected)) == set(ids(sent)) | set(got)  # together: every order
    assert rerun.bookmark() == first_sync.bookmark()


def test_progress_is_logged_against_total_count(
    make_sandbox: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(OrdersStream, "progress_every_pages", 5)
    sb = make_sandbox(order_count=300, seed=23, now=NOW)
    config = sandbox_config(
        sb, order_import_status=EVERY_STATUS, page_size=10, max_concurrent_requests=1
    )
    total = len(sb.data.matching(statuses=EVERY_STATUS))
    with caplog.at_level(logging.INFO):
        run_tap(config, streams=("orders",))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("orders: ")]
    assert re.fullmatch(rf"orders: 50 of {total}, [\d,]+/s", lines[0])
    assert len(lines) == total // 50 + 1  # every 5 pages, and the final count
    assert re.fullmatch(rf"orders: {total} read in [\d,]+ s, [\d,]+/s", lines[-1])


def test_progress_total_grows_when_more_orders_remain_than_first_said() -> None:
    logger = logging.getLogger("test-progress")
    ticks = iter([0.0, 2.0, 4.0])
    progress = SyncProgress("orders", logger, every_pages=2, clock=lambda: next(ticks))
    progress.page(100, 1_000)
    progress.page(100, 1_100)  # 100 read before it, 1,100 left from its cursor
    assert progress.total == 1_200
    assert progress.line() == "orders: 200 of 1,200, 50/s"


def test_order_items_log_one_beginning_line_per_run(
    make_sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sb = make_sandbox(order_count=80, seed=9, now=NOW)
    config = sandbox_config(sb, page_size=20)
    expected_orders = sb.data.matching(statuses=["processing"])
    with caplog.at_level(logging.INFO):
        run = run_tap(config, streams=("orders", "order_items"))
    assert len(run.records()) == len(expected_orders) > 1
    assert len(run.records("order_items")) == sum(len(o["items"]) for o in expected_orders)
    beginning = [
        r for r in caplog.records if r.getMessage().startswith("Beginning sync of 'order_items'")
    ]
    assert len(beginning) == 1
    item_metrics = [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("METRIC") and '"stream":"order_items"' in r.getMessage()
    ]
    assert len(item_metrics) == 2  # the run's record count and sync time
    assert f'"value":{len(run.records("order_items"))}' in item_metrics[0]

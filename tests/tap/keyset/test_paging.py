"""Keyset paging against the sandbox: clusters, Magento versions, changes during the sync."""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import sandbox_config
from tests.tap.support import run_tap

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [r["entity_id"] for r in records]


def keys(records: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["updated_at"], r["entity_id"]) for r in records]


def order_requests(sb: Any) -> list[Any]:
    return [r for r in sb.requests if r.route == "/V1/orders"]


@pytest.mark.parametrize("version", ["2.3", "2.4"])
@pytest.mark.parametrize("page_size", [7, 10, 300])
def test_every_order_once_on_both_magento_versions(
    make_sandbox: Any, version: str, page_size: int
) -> None:
    sb = make_sandbox(order_count=200, seed=2, now=NOW, magento_version=version)
    expected = sb.data.matching(statuses=["processing", "complete"])
    run = run_tap(
        sandbox_config(sb, order_import_status=["processing", "complete"], page_size=page_size)
    )
    assert ids(run.records()) == ids(expected)
    # Never a request past the end: the page holding all remaining matches is the last.
    assert len(order_requests(sb)) == math.ceil(len(expected) / page_size)
    assert all(dict(r.query)["searchCriteria[currentPage]"] == "1" for r in order_requests(sb))


def test_page_size_divides_the_total_exactly(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=200, seed=2, now=NOW, magento_version="2.3")
    expected = sb.data.matching(statuses=["processing"])
    total = len(expected)
    page_size = next(p for p in range(max(2, total // 8), total + 1) if total % p == 0)
    run = run_tap(sandbox_config(sb, page_size=page_size))
    assert ids(run.records()) == ids(expected)
    assert len(order_requests(sb)) == len(expected) // page_size


def test_same_second_cluster_larger_than_a_page(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=150, seed=4, now=NOW)
    processing = sb.data.matching(statuses=["processing"])
    cluster_second = processing[len(processing) // 3]["updated_at"]
    cluster = [o["entity_id"] for o in processing[::2][:23]]
    for entity_id in cluster:
        sb.data.update_order(entity_id, updated_at=cluster_second)
    expected = sb.data.matching(statuses=["processing"])
    in_cluster = [o for o in expected if o["updated_at"] == cluster_second]
    assert len(in_cluster) > 2 * 5  # several pages of one second

    run = run_tap(sandbox_config(sb, page_size=5))
    assert ids(run.records()) == ids(expected)
    assert len(set(ids(run.records()))) == len(expected)
    # Requests inside the cluster continued by entity_id within the same second.
    cursor_filters = [
        dict(r.query).get("searchCriteria[filter_groups][2][filters][1][value]")
        for r in order_requests(sb)
    ]
    assert sum(1 for r in order_requests(sb) if cluster_second in dict(r.query).values()) >= 3
    assert cursor_filters[0] is None  # the first page has no cursor


def test_orders_updated_and_added_during_the_sync_are_not_missed(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=200, seed=6, now=NOW)
    before = sb.data.matching(statuses=["processing"])
    page_size = 10
    seen_early = before[2]["entity_id"]  # on page 1: already emitted when it changes
    not_yet = before[35]["entity_id"]  # on page 4: changes before it is reached
    became_processing = sb.data.matching(statuses=["pending"])[0]["entity_id"]
    changes: dict[str, Any] = {}
    lock = threading.Lock()

    def change_data_mid_sync(info: Any) -> None:
        if info.route != "/V1/orders":
            return
        with lock:
            count = changes.setdefault("requests", 0) + 1
            changes["requests"] = count
            if count == 3:
                sb.clock.advance(1)  # the second of the changes ends while the sync runs
            if count != 2:
                return
        sb.clock.advance(30)
        sb.data.update_order(seen_early, customer_note="edited while syncing")
        sb.data.update_order(not_yet, customer_note="edited while syncing")
        sb.data.update_order(became_processing, status="processing")
        changes["added"] = sb.data.add_order(status="processing")["entity_id"]

    sb.on_request(change_data_mid_sync)
    run = run_tap(sandbox_config(sb, page_size=page_size))
    records = run.records()

    after = sb.data.matching(statuses=["processing"])
    assert set(ids(after)) <= set(ids(records)), "an order present at the end was missed"
    assert keys(records) == sorted(keys(records))
    assert len(set(keys(records))) == len(records)
    emitted = {}
    for record in records:
        emitted.setdefault(record["entity_id"], []).append(record)
    # Already emitted before the change: emitted again with the new version.
    assert [r.get("customer_note") for r in emitted[seen_early]] == [None, "edited while syncing"]
    # Changed before it was reached: emitted once, in its new position.
    assert len(emitted[not_yet]) == 1
    assert emitted[not_yet][0]["customer_note"] == "edited while syncing"
    assert became_processing in emitted
    assert changes["added"] in emitted
    latest = max(after, key=lambda o: (o["updated_at"], o["entity_id"]))
    assert run.bookmark() == latest["updated_at"].replace(" ", "T") + "+00:00"


def test_max_page_size_is_accepted_with_input_limits_on(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=400, seed=9, now=NOW, input_limits=True)
    statuses = ["processing", "complete", "canceled"]
    expected = sb.data.matching(statuses=statuses)
    assert len(expected) > 300
    run = run_tap(sandbox_config(sb, order_import_status=statuses, page_size=300))
    assert ids(run.records()) == ids(expected)
    assert all(r.status == 200 for r in order_requests(sb))


def test_orders_changed_in_the_current_second_wait_for_the_next_run(make_sandbox: Any) -> None:
    """An order changed in a second that has not ended is read by the next run, not lost.

    Reading into Magento's current second would let an order with a lower entity_id be
    updated behind the cursor; its new version would then be lost once the bookmark
    moved past that second.
    """
    sb = make_sandbox(order_count=120, seed=9, now=NOW)
    processing = sb.data.matching(statuses=["processing"])
    changed = processing[0]["entity_id"]
    requests_seen: list[int] = []

    def change_once(info: Any) -> None:
        if info.route != "/V1/orders":
            return
        requests_seen.append(1)
        if len(requests_seen) == 2:
            # Far from any second already read, and at the start of a second, so that the
            # second of the change stays current for the rest of this run's requests (the
            # sandbox clock ticks with the wall clock; on a loaded machine a change made at
            # x.9 s could otherwise see its second end before the next page is asked for).
            fraction = sb.clock.now().microsecond / 1_000_000
            sb.clock.advance(600 + (1 - fraction))
            sb.data.update_order(changed, customer_note="changed just now")

    remove = sb.on_request(change_once)
    first = run_tap(sandbox_config(sb, page_size=10))
    remove()
    changed_at = sb.data.orders[changed]["updated_at"]
    first_versions = [r for r in first.records() if r["entity_id"] == changed]
    assert [r.get("customer_note") for r in first_versions] == [None]
    assert first.bookmark() < changed_at.replace(" ", "T") + "+00:00"

    sb.clock.advance(2)  # that second is over now
    second = run_tap(sandbox_config(sb, page_size=10), state=first.final_state)
    again = [r for r in second.records() if r["entity_id"] == changed]
    assert [r.get("customer_note") for r in again] == ["changed just now"]

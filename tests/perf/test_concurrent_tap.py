"""The concurrent order fetch emits exactly what the sequential one does.

Large syncs are cut into time slices fetched by several threads (``tap_magento2.keyset.parallel``);
these tests run the same sync with ``max_concurrent_requests`` 1 and 4 against the sandbox
and compare records (content and order), state, and behaviour under failures and changes
made while the sync runs. Page size 5 makes a few hundred orders enough pages to cut.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from tap_magento2.keyset.parallel import MIN_PAGES_TO_SPLIT, split_points
from tests.conftest import sandbox_config
from tests.tap.support import run_tap

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ALL = ["pending", "processing", "holded", "complete", "canceled"]
PAGE = 5


def keys(records: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["updated_at"], r["entity_id"]) for r in records]


def truth(sb: Any) -> list[tuple[str, int]]:
    """(updated_at, entity_id) of every matching sandbox order, as the tap emits them."""
    return [
        (o["updated_at"].replace(" ", "T") + "+00:00", o["entity_id"])
        for o in sb.data.matching(statuses=ALL)
    ]


def slice_first_pages(sb: Any) -> list[Any]:
    """Requests that start a time slice: an updated_at range and no keyset cursor."""
    found = []
    for request in sb.requests:
        if request.route != "/V1/orders":
            continue
        conditions = [v for k, v in request.query if k.endswith("[condition_type]")]
        if "gteq" in conditions and "lt" in conditions and "gt" not in conditions:
            found.append(request)
    return found


def sync(sb: Any, concurrency: int, state: dict | None = None, **settings: Any) -> Any:
    config = sandbox_config(
        sb,
        order_import_status=ALL,
        page_size=PAGE,
        max_concurrent_requests=concurrency,
        **settings,
    )
    return run_tap(config, state=state, streams=("orders",))


def test_concurrent_sync_emits_the_sequential_records_and_state(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=600, seed=3, now=NOW)
    assert len(sb.data.matching(statuses=ALL)) > PAGE * MIN_PAGES_TO_SPLIT * 2

    sequential = sync(sb, 1)
    assert not slice_first_pages(sb)
    sb.clear_requests()
    concurrent = sync(sb, 4)

    assert len(slice_first_pages(sb)) > 4, "the range was not cut into slices"
    assert concurrent.records() == sequential.records()
    assert keys(concurrent.records()) == truth(sb)
    assert concurrent.final_state == sequential.final_state


def test_incremental_run_from_a_bookmark_matches(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=600, seed=5, now=NOW)
    everything = sb.data.matching(statuses=ALL)
    middle = everything[len(everything) // 3]["updated_at"].replace(" ", "T") + "+00:00"
    state = {
        "bookmarks": {"orders": {"replication_key": "updated_at", "replication_key_value": middle}}
    }
    sequential = sync(sb, 1, state=state)
    concurrent = sync(sb, 4, state=state)
    assert concurrent.records() == sequential.records()
    assert concurrent.final_state == sequential.final_state
    assert all(r["updated_at"] >= middle for r in concurrent.records())


@pytest.mark.parametrize("concurrency", [2, 3, 8])
def test_other_concurrency_levels_match(make_sandbox: Any, concurrency: int) -> None:
    sb = make_sandbox(order_count=400, seed=8, now=NOW, magento_version="2.3")
    run = sync(sb, concurrency)
    assert keys(run.records()) == truth(sb)


def test_one_second_holding_many_pages_is_paged_not_cut(make_sandbox: Any) -> None:
    sb = make_sandbox(order_count=500, seed=4, now=NOW)
    everything = sb.data.matching(statuses=ALL)
    second = everything[len(everything) // 2]["updated_at"]
    for order in everything[::3][:120]:  # 24 pages inside one second
        sb.data.update_order(order["entity_id"], updated_at=second)
    sequential = sync(sb, 1)
    concurrent = sync(sb, 4)
    assert concurrent.records() == sequential.records()
    assert keys(concurrent.records()) == truth(sb)


def _changes_mid_sync(sb: Any, at_request: int) -> dict[str, Any]:
    """Edit, re-status and add orders when the ``at_request``-th orders request arrives."""
    before = sb.data.matching(statuses=ALL)
    plan = {
        "early": before[3]["entity_id"],
        "late": before[-40]["entity_id"],
        "middle": before[len(before) // 2]["entity_id"],
    }
    seen = {"count": 0}
    lock = threading.Lock()

    def change(info: Any) -> None:
        if info.route != "/V1/orders":
            return
        with lock:
            seen["count"] += 1
            if seen["count"] != at_request:
                return
            sb.clock.advance(30)
            for key in ("early", "late", "middle"):
                sb.data.update_order(plan[key], customer_note=f"edited ({key})")
            sb.data.update_order(plan["middle"], status="canceled")
            plan["added"] = sb.data.add_order(status="processing")["entity_id"]
            sb.clock.advance(2)

    sb.on_request(change)
    return plan


@pytest.mark.parametrize("at_request", [2, 9])
def test_changes_during_the_sync_reach_the_same_final_store(
    make_sandbox: Any, at_request: int
) -> None:
    """Run, change data mid-run, run again from the state: same final store either way."""
    finals = {}
    for concurrency in (1, 4):
        sb = make_sandbox(order_count=500, seed=11, now=NOW)
        plan = _changes_mid_sync(sb, at_request)
        first = sync(sb, concurrency)
        records = first.records()
        assert keys(records) == sorted(keys(records))
        assert len(set(keys(records))) == len(records)
        sb.clock.advance(5)
        second = sync(sb, concurrency, state=first.final_state)
        latest: dict[int, dict[str, Any]] = {}
        for record in records + second.records():
            latest[record["entity_id"]] = record
        truth = {o["entity_id"]: o for o in sb.data.matching(statuses=ALL)}
        assert set(latest) == set(truth), "an order was lost or invented"
        for entity_id, order in truth.items():
            assert latest[entity_id]["updated_at"] == order["updated_at"].replace(" ", "T") + (
                "+00:00"
            ), f"order {entity_id} ended in an old version"
        assert latest[plan["added"]]["status"] == "processing"
        assert latest[plan["middle"]]["status"] == "canceled"
        finals[concurrency] = {
            k: (v["updated_at"], v.get("customer_note")) for k, v in latest.items()
        }
        assert second.bookmark() >= first.bookmark()
    assert finals[4] == finals[1]


def test_a_retried_failure_in_a_slice_changes_nothing(make_sandbox: Any, fast_retries: Any) -> None:
    sb = make_sandbox(order_count=500, seed=12, now=NOW)
    expected = sync(sb, 1).records()
    sb.faults.add(path="/V1/orders", method="GET", times=3, status=503)
    assert sync(sb, 4).records() == expected


def test_a_fatal_failure_emits_no_record_after_a_gap(make_sandbox: Any, fast_retries: Any) -> None:
    """Pages after a failed slice are never emitted, so the bookmark cannot skip rows."""
    sb = make_sandbox(order_count=500, seed=13, now=NOW)
    expected = keys(sync(sb, 1).records())
    count = {"n": 0}
    lock = threading.Lock()

    def fail_later(info: Any) -> None:
        if info.route == "/V1/orders":
            with lock:
                count["n"] += 1
                if count["n"] == 12:
                    sb.faults.add(path="/V1/orders", method="GET", times=1, status=400)

    sb.on_request(fail_later)
    import contextlib
    import io
    import json

    from tap_magento2.tap import TapMagento2

    tap = TapMagento2(
        config=sandbox_config(
            sb, order_import_status=ALL, page_size=PAGE, max_concurrent_requests=4
        ),
        parse_env_config=False,
    )
    for name, stream in tap.streams.items():
        stream.selected = name == "orders"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(Exception, match=r"400|Magento"):
        tap.sync_all()
    emitted = [
        json.loads(line)["record"]
        for line in out.getvalue().splitlines()
        if line.strip() and json.loads(line)["type"] == "RECORD"
    ]
    assert 0 < len(emitted) < len(expected)
    assert keys(emitted) == expected[: len(emitted)], "records after a gap were emitted"


def test_split_points_stay_strictly_inside_the_range() -> None:
    points = split_points("2026-01-01 00:00:00", "2026-01-01 00:00:10", 4)
    assert points == ["2026-01-01 00:00:03", "2026-01-01 00:00:05", "2026-01-01 00:00:08"]
    assert split_points("2026-01-01 00:00:00", "2026-01-01 00:00:01", 4) == []
    assert split_points("2026-01-01 00:00:00", "2026-01-01 00:00:03", 10) == [
        "2026-01-01 00:00:01",
        "2026-01-01 00:00:02",
    ]
    assert split_points("not a time", "2026-01-01 00:00:03", 3) == []

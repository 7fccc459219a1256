"""One order Magento's list endpoint cannot load must not stop every sync forever.

A single order with odd data makes every ``GET /V1/orders`` page holding it answer HTTP
500 (magento/magento2#36213, #2069, #7526). The tap reads the orders before it in smaller
pages, finds it by bisection on ``entity_id``, reads it with ``GET /V1/orders/{id}`` and
goes on; if that fails too it stops naming the order, with every order before it synced.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_magento2.keyset.poison import PoisonOrderError
from tap_magento2.tap import TapMagento2
from tests.conftest import sandbox_config
from tests.tap.support import TapRun, run_tap

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ALL = ["pending", "processing", "holded", "complete", "canceled"]
MASKED_500 = "Internal Error. Details are available in Magento log file. Report ID: webapi-"


def keys(records: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["updated_at"], r["entity_id"]) for r in records]


def rfc3339(order: dict[str, Any]) -> str:
    return order["updated_at"].replace(" ", "T") + "+00:00"


def truth(orders: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(rfc3339(o), o["entity_id"]) for o in orders]


def config(sb: Any, concurrency: int, page_size: int) -> dict[str, Any]:
    return sandbox_config(
        sb,
        order_import_status=ALL,
        page_size=page_size,
        max_concurrent_requests=concurrency,
    )


def run_until_failure(cfg: dict[str, Any]) -> tuple[TapRun, BaseException]:
    """Run the tap in-process; return what it wrote and the error it stopped with."""
    tap = TapMagento2(config=dict(cfg), parse_env_config=False)
    for name, stream in tap.streams.items():
        stream.selected = name == "orders"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(FatalAPIError) as caught:
        tap.sync_all()
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return TapRun(lines), caught.value


def list_requests(sb: Any) -> list[Any]:
    return [r for r in sb.requests if r.route == "/V1/orders"]


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_an_order_the_list_cannot_load_is_read_alone_in_its_place(
    make_sandbox: Any,
    fast_retries: Any,
    caplog: pytest.LogCaptureFixture,
    concurrency: int,
    where: str,
) -> None:
    sb = make_sandbox(order_count=600, seed=3, now=NOW)
    expected = sb.data.matching(statuses=ALL)
    clean = run_tap(config(sb, concurrency, 5), streams=("orders",))
    assert keys(clean.records()) == truth(expected)
    index = {"first": 0, "middle": len(expected) // 2, "last": len(expected) - 1}[where]
    bad = expected[index]
    sb.faults.poison_order(bad["entity_id"])
    sb.clear_requests()

    with caplog.at_level(logging.WARNING):
        run = run_tap(config(sb, concurrency, 5), streams=("orders",))

    assert 500 in {r.status for r in list_requests(sb)}, "the poison order was never hit"
    assert keys(run.records()) == truth(expected)
    assert run.records() == clean.records()
    assert run.final_state == clean.final_state
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    named = [
        w
        for w in warnings
        if f"entity_id {bad['entity_id']} (increment_id {bad['increment_id']})" in w
    ]
    assert len(named) == 1, warnings
    assert "GET /rest/V1/orders fails with HTTP 500" in named[0]
    assert f"GET /rest/V1/orders/{bad['entity_id']}" in named[0]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_an_order_that_cannot_be_read_at_all_stops_the_sync_after_the_orders_before_it(
    make_sandbox: Any, fast_retries: Any, concurrency: int
) -> None:
    sb = make_sandbox(order_count=600, seed=4, now=NOW)
    expected = sb.data.matching(statuses=ALL)
    index = len(expected) * 2 // 3
    bad = expected[index]
    sb.faults.poison_order(bad["entity_id"], get_fails=True)

    run, error = run_until_failure(config(sb, concurrency, 5))

    assert isinstance(error, PoisonOrderError)
    assert error.entity_id == bad["entity_id"]
    message = str(error)
    assert f"entity_id {bad['entity_id']}" in message
    assert f"GET /rest/V1/orders/{bad['entity_id']} failed too" in message
    assert "HTTP 500" in message
    assert MASKED_500 in message
    assert "Every order before it was synced" in message
    assert "Fix order" in message
    assert keys(run.records()) == truth(expected[:index])
    last = expected[index - 1]
    assert run.bookmark() == rfc3339(last)
    assert f"updated_at {last['updated_at']}, entity_id {last['entity_id']}" in message

    # Once the order is fixed, the next run starts at the bookmark and reads it.
    sb.faults.cure_order(bad["entity_id"])
    tap_config = config(sb, concurrency, 5)
    second = run_tap(tap_config, state=run.final_state, streams=("orders",))
    # The bookmark is inclusive (its whole second is read again), and nothing is missing.
    again = [o for o in expected if o["updated_at"] >= last["updated_at"]]
    assert keys(second.records()) == truth(again)
    assert truth(expected[index:]) == truth(again)[-len(expected[index:]) :]


def test_an_unreadable_first_order_leaves_the_bookmark_unchanged(
    make_sandbox: Any, fast_retries: Any
) -> None:
    sb = make_sandbox(order_count=50, seed=5, now=NOW)
    expected = sb.data.matching(statuses=ALL)
    sb.faults.poison_order(expected[0]["entity_id"], get_fails=True)
    run, error = run_until_failure(config(sb, 1, 10))
    assert isinstance(error, PoisonOrderError)
    assert run.records() == []
    assert "the bookmark is unchanged" in str(error)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_the_search_costs_few_requests(
    make_sandbox: Any, fast_retries: Any, concurrency: int
) -> None:
    sb = make_sandbox(order_count=2000, seed=6, now=NOW)
    expected = sb.data.matching(statuses=ALL)
    assert len(expected) == 2000
    sb.faults.poison_order(expected[1234]["entity_id"])
    run = run_tap(config(sb, concurrency, 100), streams=("orders",))
    assert keys(run.records()) == truth(expected)
    sent = [r for r in sb.requests if (r.route or "").startswith("/V1/orders")]
    # 21 pages, 4 attempts at the failing one, about log2(100) + log2(2000) + 4 to search.
    assert len(sent) < 60, len(sent)


def test_two_unlistable_orders_in_a_row_are_both_read(make_sandbox: Any, fast_retries: Any) -> None:
    sb = make_sandbox(order_count=300, seed=8, now=NOW)
    expected = sb.data.matching(statuses=ALL)
    clean = run_tap(config(sb, 1, 20), streams=("orders",))
    # Consecutive in (updated_at, entity_id) order, the second with the lower id if any.
    pair = sorted(expected[100:102], key=lambda o: -o["entity_id"])
    for order in pair:
        sb.faults.poison_order(order["entity_id"])
    run = run_tap(config(sb, 1, 20), streams=("orders",))
    assert run.records() == clean.records()


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "html"},  # 503 maintenance page
        {"kind": "gateway", "status": 502},
        {"kind": "gateway", "status": 504},
        {"kind": "response", "status": 429, "body": {"message": "Too many requests"}},
    ],
)
def test_other_failures_are_not_searched(make_sandbox: Any, fast_retries: Any, fault: Any) -> None:
    sb = make_sandbox(order_count=60, seed=1, now=NOW)
    sb.faults.add(path="/V1/orders", times=100, **fault)
    with pytest.raises(FatalAPIError) as caught:
        run_tap(config(sb, 1, 10), streams=("orders",))
    assert not isinstance(caught.value, PoisonOrderError)
    assert len(list_requests(sb)) == fast_retries.max_tries
    assert all(r.route == "/V1/orders" for r in sb.requests if r.route != "/V1/store/storeViews")


def test_with_batch_files_the_bookmark_stays_at_the_last_file_sent(
    make_sandbox: Any, fast_retries: Any, tmp_path: Any
) -> None:
    """With ``batch_config`` the rows read since the last file are in no file when the sync
    stops: no STATE may claim them, or the next run would start after orders never sent."""
    sb = make_sandbox(order_count=600, seed=4, now=NOW)
    expected = sb.data.matching(statuses=ALL)
    # An order inside a file of 100, read after a second the last whole file does not reach.
    index = next(
        i
        for i in range(len(expected) * 2 // 3, len(expected))
        if i % 100 and expected[i - 1]["updated_at"] > expected[i // 100 * 100 - 1]["updated_at"]
    )
    bad = expected[index]
    sb.faults.poison_order(bad["entity_id"], get_fails=True)
    files = tmp_path / "batches"
    files.mkdir()
    cfg = {
        **config(sb, 4, 5),
        "batch_config": {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": files.as_uri(), "prefix": "orders-"},
            "batch_size": 100,
        },
    }

    run, error = run_until_failure(cfg)

    assert isinstance(error, PoisonOrderError)
    assert "in batch files already sent were synced" in str(error)
    assert "Every order before it was synced" not in str(error)
    sent = [
        json.loads(line)
        for message in run.messages
        if message["type"] == "BATCH"
        for url in message["manifest"]
        for line in gzip.decompress(Path(url.removeprefix("file://")).read_bytes()).splitlines()
    ]
    assert len(sent) == index // 100 * 100  # whole files only
    assert keys(sent) == truth(expected[: len(sent)])
    # The bookmark is the last whole file's last order, not the last order read.
    assert run.bookmark() == rfc3339(expected[len(sent) - 1])
    assert run.bookmark() != rfc3339(expected[index - 1])

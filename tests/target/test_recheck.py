"""Held orders coming due are re-checked against Magento (the sandbox) before release."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from magento2_sandbox import MagentoSandbox
from magerest.client import MagentoClient
from magerest.retry import RetryPolicy
from target_dropstream.cli import main
from target_dropstream.models import Order
from target_dropstream.release import RECHECK_BATCH, release_due_orders
from target_dropstream.rules import shippable_lines
from target_dropstream.settings import TargetSettings
from target_dropstream.store import FulfillmentStore
from tests.conftest import sandbox_config
from tests.target.conftest import NOW, no_new_orders, orders_stream, run_target

DELAY_MINUTES = 60 * 24 * 365 * 20  # seeded orders are months old: hold them for 20 years
LATER = NOW + timedelta(days=365 * 21)


@pytest.fixture
def sandbox() -> Iterator[MagentoSandbox]:
    with MagentoSandbox(order_count=600, seed=3, now=NOW) as sb:
        yield sb


def _states(url: str) -> dict[int, tuple[str, str | None, str | None]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT order_id, state, magento_status, state_reason FROM fulfillment_orders")
        )
        result = {row[0]: (row[1], row[2], row[3]) for row in found}
    engine.dispose()
    return result


def _load_held(sandbox: MagentoSandbox, url: str, count: int) -> tuple[dict, list[int]]:
    processing = [
        o
        for o in sandbox.data.matching(statuses=["processing"])
        if shippable_lines(Order.from_magento(o).items, include_bundle_parent=False)[
            0
        ]  # orders with something to ship (not skipped)
    ][:count]
    assert len(processing) == count, "the sandbox seed has too few processing orders"
    config = sandbox_config(sandbox, database_url=url, delay_minutes=DELAY_MINUTES)
    run_target(config, orders_stream(processing))
    ids = [o["entity_id"] for o in processing]
    assert {state for state, _, _ in _states(url).values()} == {"held"}
    return config, ids


def test_due_orders_are_rechecked_in_batches_of_100(
    sandbox: MagentoSandbox, sqlite_url: str
) -> None:
    config, ids = _load_held(sandbox, sqlite_url, 130)
    holded, canceled, closed = ids[0], ids[1], ids[2]
    sandbox.data.update_order(holded, status="holded", state="holded")
    sandbox.data.update_order(canceled, status="canceled", state="canceled")
    sandbox.data.update_order(closed, status="closed", state="closed")
    sandbox.clear_requests()

    settings = TargetSettings.from_config(config)
    store = FulfillmentStore.open(sqlite_url, now=LATER)
    try:
        report = release_due_orders(store, settings, now=LATER)
    finally:
        store.close()

    assert report.errors == []
    assert (report.rechecked, report.released, report.canceled, report.still_held) == (
        130,
        127,
        2,
        1,
    )
    states = _states(sqlite_url)
    assert states[holded][0] == "held"
    assert states[holded][1] == "holded"
    assert "holded" in states[holded][2]
    assert states[canceled][0] == "canceled"
    assert states[closed][0] == "canceled"
    assert all(states[i][0] == "ready" for i in ids[3:])

    searches = [r for r in sandbox.requests if r.path.endswith("/V1/orders")]
    assert len(searches) == 2  # ONE request per up to 100 orders
    for request in searches:
        query = dict(request.query)
        assert query["fields"].startswith("items[entity_id,")
        in_filter = [v for k, v in request.query if k.endswith("[value]")]
        assert len(in_filter[0].split(",")) <= RECHECK_BATCH

    # nothing left to ask about: a second pass makes no request
    sandbox.clear_requests()
    store = FulfillmentStore.open(sqlite_url, now=LATER)
    try:
        again = release_due_orders(store, settings, now=LATER)
    finally:
        store.close()
    assert again.rechecked == 0
    assert [r for r in sandbox.requests if r.path.endswith("/V1/orders")] == []


def test_magento_unavailable_keeps_orders_held(sandbox: MagentoSandbox, sqlite_url: str) -> None:
    config, _ = _load_held(sandbox, sqlite_url, 5)
    sandbox.faults.add(path="/V1/orders", method="GET", times=3, status=503)
    settings = TargetSettings.from_config(config)

    def fast_client(s: TargetSettings, view: str | None) -> MagentoClient:
        client = MagentoClient.from_settings(s, view)
        client.retry_policy = RetryPolicy(max_tries=2, base_seconds=0.01)
        return client

    store = FulfillmentStore.open(sqlite_url, now=LATER)
    try:
        report = release_due_orders(store, settings, now=LATER, client_factory=fast_client)
        assert report.released == 0
        assert len(report.errors) == 1
        assert "503" in report.errors[0]
        assert {state for state, _, _ in _states(sqlite_url).values()} == {"held"}
        # Magento is back: the next pass releases them
        retry = release_due_orders(store, settings, now=LATER, client_factory=fast_client)
    finally:
        store.close()
    assert (retry.released, retry.errors) == (5, [])
    assert {state for state, _, _ in _states(sqlite_url).values()} == {"ready"}


def test_cli_release_shows_magentos_message(
    sandbox: MagentoSandbox, sqlite_url: str, tmp_path: Path
) -> None:
    config, _ = _load_held(sandbox, sqlite_url, 2)
    sandbox.faults.add(
        path="/V1/orders",
        method="GET",
        status=400,
        body={"message": "Field %1 is not allowed here", "parameters": ["entity_id"]},
    )
    config_file = tmp_path / "target.json"
    config_file.write_text(json.dumps(config))
    result = CliRunner().invoke(
        main, ["release", "--config", str(config_file)], obj={"clock": lambda: LATER}
    )
    assert result.exit_code == 1
    assert "Magento re-check failed" in result.output
    assert "Field entity_id is not allowed here" in result.output
    assert sandbox.access_token not in result.output
    assert {state for state, _, _ in _states(sqlite_url).values()} == {"held"}


def test_end_of_run_release_rechecks_too(sandbox: MagentoSandbox, sqlite_url: str) -> None:
    config, ids = _load_held(sandbox, sqlite_url, 3)
    sandbox.data.update_order(ids[0], status="holded", state="holded")
    run_target(config, no_new_orders(), now=LATER)
    states = _states(sqlite_url)
    assert [states[i][0] for i in ids] == ["held", "ready", "ready"]

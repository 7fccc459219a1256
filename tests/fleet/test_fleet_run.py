"""The fleet on Dagster against four sandbox stores, into one PostgreSQL store.

Healthy stores load every paid order of their store views; the broken store fails alone,
with Magento's words, after Dagster's retry; a store whose variables are missing fails
without a retry; a rerun adds nothing twice; a backfill keeps to its own state ID.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from dropstream_fleet.runner import FleetRun, StepResult
from dropstream_fleet.state_ids import orders_bookmark
from tests.fleet.conftest import (
    BROKEN_TOKEN,
    STORE_VIEW_IDS,
    FleetStory,
    backfill_state_id,
    state_id,
)
from tests.meltano.observe import newest_streamed, order_ids, parse_time

LOADING = {"healthy": ["default", "fr"], "slow": ["default"]}
KEY = "source, order_id, item_id"


def step(run: FleetRun, store: str, view: str | None) -> StepResult:
    return next(s for s in run.steps if s.store == store and s.view == view)


def query(story: FleetStory, sql: str) -> list[Any]:
    engine = create_engine(story.store_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def orders_of(story: FleetStory, store: str) -> list[int]:
    """The store's order IDs, one per row (read_store keys by order_id alone: stores collide)."""
    base = story.sandboxes[store].base_url.rstrip("/")
    rows = query(story, "SELECT source, order_id FROM fulfillment_orders")
    return sorted(int(order_id) for source, order_id in rows if source == base)


def expected_orders(story: FleetStory, store: str) -> set[int]:
    ids = [STORE_VIEW_IDS[view] for view in LOADING[store]]
    return order_ids(story.sandboxes[store].data.matching(["processing"], store_ids=ids))


def test_healthy_stores_load_every_paid_order_of_their_store_views(fleet_story: FleetStory):
    for store, views in LOADING.items():
        for view in views:
            result = step(fleet_story.first, store, view)
            assert result.status == "loaded", f"{store}/{view}: {result.reason}"
        assert orders_of(fleet_story, store) == sorted(expected_orders(fleet_story, store)), store
        notify = step(fleet_story.first, store, None)
        assert notify.status == "notified", notify.reason
    sources = {source for (source,) in query(fleet_story, "SELECT source FROM fulfillment_orders")}
    assert sources == {fleet_story.sandboxes[s].base_url.rstrip("/") for s in LOADING}, (
        "the broken store must have loaded nothing"
    )


def test_the_broken_store_fails_alone_with_magentos_words_after_a_retry(fleet_story: FleetStory):
    broken = step(fleet_story.first, "broken", "default")
    assert broken.status == "failed"
    assert broken.attempts == 2, "Dagster's RetryPolicy (retries: 1) should have run it again"
    assert "store broken, store view default failed" in broken.reason
    assert "HTTP 401" in broken.reason
    assert "Specified token does not exist" in broken.reason  # the sandbox's (Magento's) words
    assert BROKEN_TOKEN not in broken.reason
    assert step(fleet_story.first, "broken", None).status != "notified"
    assert fleet_story.first.failed_stores() == {"broken", "nokeys"}


def test_a_store_whose_variables_are_missing_fails_without_retrying(fleet_story: FleetStory):
    nokeys = step(fleet_story.first, "nokeys", "de")
    assert nokeys.status == "failed"
    assert nokeys.attempts == 1, "retrying cannot set a variable"
    assert "FLEET_DEMO_NOKEYS_" in nokeys.reason
    assert "is not set on this worker" in nokeys.reason


def test_each_store_view_keeps_its_own_bookmark(fleet_story: FleetStory):
    states = fleet_story.states_after_second
    for store, views in LOADING.items():
        sandbox = fleet_story.sandboxes[store]
        for view in views:
            bookmark = orders_bookmark(states[state_id(f"{store}-{view}")])
            newest = newest_streamed(sandbox, store_ids=[STORE_VIEW_IDS[view]])
            assert parse_time(bookmark) == parse_time(newest), f"{store}/{view}"
    assert state_id("broken-default") not in states
    assert step(fleet_story.first, "healthy", "fr").state_id == state_id("healthy-fr")


def test_a_rerun_is_incremental_and_adds_no_duplicate(fleet_story: FleetStory):
    for store, views in LOADING.items():
        for view in views:
            again = step(fleet_story.second, store, view)
            assert again.status == "loaded", again.reason
            assert again.metadata["orders_new"] == 0
            first = step(fleet_story.first, store, view).metadata["orders_received"]
            assert again.metadata["orders_received"] < first, "the rerun read everything again"
        assert orders_of(fleet_story, store) == sorted(expected_orders(fleet_story, store))
    for table, key in (("fulfillment_orders", "source, order_id"), ("fulfillment_lines", KEY)):
        twice = query(fleet_story, f"SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1")
        assert twice == [], f"{table} holds a row twice"


def test_a_backfill_uses_its_own_state_id_and_leaves_production_alone(fleet_story: FleetStory):
    success, figures, reason = fleet_story.backfill
    assert success, reason
    assert figures["default.state_id"] == backfill_state_id()
    assert figures["default.orders_received"] > 0
    before, after = fleet_story.states_after_second, fleet_story.states_after_backfill
    production = state_id("healthy-default")
    assert after[production] == before[production], "the backfill moved a production bookmark"
    assert orders_bookmark(after[backfill_state_id()]) is not None
    assert orders_of(fleet_story, "healthy") == sorted(expected_orders(fleet_story, "healthy"))

"""Saved state with the real `meltano run`: incremental runs, replays, full refresh, backfills.

The promise to the warehouse: whatever Meltano's state says, each order is in the
fulfillment store once, with its latest data, and a shipped order stays shipped.
"""

from __future__ import annotations

from typing import Any

from magento2_sandbox import MagentoSandbox
from tests.meltano.meltano_project import PIPELINE_STATE_ID, MeltanoProject, orders_state
from tests.meltano.observe import (
    LOOKBACK,
    PIPELINE,
    StoreSnapshot,
    assert_store_matches,
    magento_time,
    mark_shipped,
    newest_streamed,
    order_ids,
    paid_orders,
    parse_time,
    read_store,
    window_starts,
)


def first_load(
    project: MeltanoProject, sandbox: MagentoSandbox, store_url: str
) -> tuple[StoreSnapshot, str]:
    """Run the pipeline on a fresh project: every paid order loaded, bookmark at the newest."""
    project.run(*PIPELINE)
    snapshot = read_store(store_url)
    paid = paid_orders(sandbox)
    assert_store_matches(snapshot, order_ids(paid))
    bookmark = project.bookmark()
    assert bookmark is not None, "the first run saved no bookmark"
    assert parse_time(bookmark) == parse_time(newest_streamed(sandbox))
    return snapshot, bookmark


def ship_to(order: dict[str, Any]) -> dict[str, Any] | None:
    """The shipping address of an order (None for virtual-only orders)."""
    assignments = order.get("extension_attributes", {}).get("shipping_assignments") or [{}]
    return assignments[0].get("shipping", {}).get("address")


def edit_ship_to_city(sandbox: MagentoSandbox, entity_id: int, city: str) -> None:
    """The customer changes the delivery address (Magento bumps updated_at)."""
    order = sandbox.data.editable_order(entity_id)
    address = ship_to(order)
    assert address is not None, f"order {entity_id} has no shipping address"
    address["city"] = city
    sandbox.data.commit_order(entity_id, order)


def test_second_run_loads_only_orders_updated_in_between(
    project: MeltanoProject, sandbox: MagentoSandbox, store_url: str
) -> None:
    before, first_bookmark = first_load(project, sandbox, store_url)

    sandbox.clock.advance(120)
    moved = [int(o["entity_id"]) for o in paid_orders(sandbox) if ship_to(o)][:3]
    for entity_id in moved:
        edit_ship_to_city(sandbox, entity_id, f"Newtown {entity_id}")
    (pending, *_) = order_ids(sandbox.data.matching(["pending"]))
    sandbox.data.update_order(pending, status="processing")  # payment captured
    placed = int(sandbox.data.add_order(status="processing", store_id=2)["entity_id"])
    seen = len(sandbox.requests)

    project.run(*PIPELINE)

    (start,) = window_starts(sandbox.requests[seen:])
    assert start == magento_time(parse_time(first_bookmark) - LOOKBACK), (
        "the second run did not start at the bookmark less lookback_seconds"
    )
    bookmark = magento_time(first_bookmark)
    at_bookmark = order_ids(paid_orders(sandbox, updated_from=bookmark, updated_to=bookmark))
    asked = order_ids(paid_orders(sandbox, updated_from=bookmark)) - at_bookmark
    assert asked == {*moved, pending, placed}  # what changed since the bookmark
    after = read_store(store_url)
    assert_store_matches(after, set(before.orders) | {pending, placed})
    for entity_id in moved:
        assert after.orders[entity_id]["ship_to_city"] == f"Newtown {entity_id}"
    unchanged = set(before.orders) - set(moved)
    assert all(
        after.orders[i]["ship_to_city"] == before.orders[i]["ship_to_city"] for i in unchanged
    )
    assert parse_time(project.bookmark()) == parse_time(newest_streamed(sandbox))


def test_replay_and_full_refresh_add_nothing_twice(
    project: MeltanoProject, sandbox: MagentoSandbox, store_url: str
) -> None:
    """`meltano state set` to an earlier bookmark, then `--full-refresh`: orders re-arrive,
    the store keeps one row per order and line, shipped orders stay shipped."""
    before, final_bookmark = first_load(project, sandbox, store_url)
    paid = paid_orders(sandbox)
    newest, oldest = int(paid[-1]["entity_id"]), int(paid[0]["entity_id"])
    mark_shipped(store_url, newest)  # both runs below resend it
    mark_shipped(store_url, oldest)  # only the full refresh resends it

    earlier = paid[len(paid) // 2]["updated_at"]
    project.set_state(orders_state(parse_time(earlier).isoformat()))
    assert parse_time(project.bookmark()) == parse_time(earlier)
    seen = len(sandbox.requests)
    project.run(*PIPELINE)

    (start,) = window_starts(sandbox.requests[seen:])
    assert start == magento_time(parse_time(earlier) - LOOKBACK), (
        "the run did not start at the bookmark set, less lookback_seconds"
    )
    replayed = order_ids(paid_orders(sandbox, updated_from=start))
    assert newest in replayed
    assert len(replayed) >= len(paid) // 2
    after_replay = read_store(store_url)
    assert_store_matches(after_replay, set(before.orders))
    assert after_replay.line_keys() == before.line_keys()
    assert after_replay.orders[newest]["state"] == "shipped"

    seen = len(sandbox.requests)
    project.run("run", "--full-refresh", "tap-magento2", "target-dropstream")

    assert window_starts(sandbox.requests[seen:]) == [None], "a full refresh must ignore state"
    after_refresh = read_store(store_url)
    assert_store_matches(after_refresh, set(before.orders))
    assert after_refresh.line_keys() == before.line_keys()
    assert after_refresh.orders[newest]["state"] == "shipped"
    assert after_refresh.orders[oldest]["state"] == "shipped"
    assert parse_time(project.bookmark()) == parse_time(final_bookmark)


def test_backfill_under_its_own_state_id_leaves_the_bookmark_alone(
    project: MeltanoProject, sandbox: MagentoSandbox, store_url: str
) -> None:
    paid = paid_orders(sandbox)
    recent_from = paid[len(paid) // 2]["updated_at"]
    recent = order_ids(paid_orders(sandbox, updated_from=recent_from))
    project.run(*PIPELINE, env={"TAP_MAGENTO2_START_DATE": parse_time(recent_from).isoformat()})
    assert set(read_store(store_url).orders) == recent
    production = project.get_state()
    assert parse_time(project.bookmark()) == parse_time(newest_streamed(sandbox))

    history_from = parse_time(paid[0]["updated_at"]).isoformat()
    project.run(
        "run",
        "--state-id-suffix",
        "backfill",
        "tap-magento2",
        "target-dropstream",
        env={"TAP_MAGENTO2_START_DATE": history_from},
    )

    assert_store_matches(read_store(store_url), order_ids(paid))
    assert project.get_state() == production, "the backfill moved the production bookmark"
    backfill_id = f"{PIPELINE_STATE_ID}:backfill"
    assert parse_time(project.bookmark(backfill_id)) == parse_time(newest_streamed(sandbox))
    listed = project.run("state", "list").stdout.split()
    assert PIPELINE_STATE_ID in listed
    assert backfill_id in listed

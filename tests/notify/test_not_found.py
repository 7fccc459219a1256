"""404s on notify: an order Magento no longer has fails only its own shipment, a wrong store
code (Magento's 400 "Specified request cannot be processed.") stops the run naming
store_view_code, and no store code is ever guessed."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from magento2_sandbox.catalog import STORE_VIEWS
from magento2_sandbox.errors import ENTITY_NOT_FOUND

from .conftest import NOW, Shop, find_order, refuse

UPS = ("--carrier-code", "ups", "--title", "United Parcel Service")
GONE_ID = 9_000_001  # an order id the sandbox (like a store after a deletion) does not have
SIMPLE_ONLY = {"configurable", "together", "separately"}


def simple_order(shop: Shop) -> dict[str, Any]:
    order = find_order(shop.sb, {"simple"}, exclude=SIMPLE_ONLY)
    shop.load(order["entity_id"])
    return order


def configurable_order(shop: Shop) -> dict[str, Any]:
    order = find_order(shop.sb, {"configurable"}, exclude={"simple", "together", "separately"})
    shop.load(order["entity_id"])
    return order


def gone(shop: Shop, like: dict[str, Any]) -> dict[str, Any]:
    """An order the target loaded that Magento no longer has (deleted since)."""
    order = copy.deepcopy(like)
    order["entity_id"] = GONE_ID
    order["increment_id"] = "900000001"
    for line in order["items"]:
        line["order_id"] = GONE_ID
    shop.load_json(order)
    return order


def record(shop: Shop, order: dict[str, Any], key: str, track: str) -> None:
    result = shop.cli("ship", order["increment_id"], *UPS, "--track", track, "--key", key)
    assert result.exit_code == 0, result.output


def by_key(shop: Shop) -> dict[str, dict[str, Any]]:
    return {row["idempotency_key"]: row for row in shop.shipments()}


def block_store_views(shop: Shop) -> None:
    """The integration lacks Magento_Backend::store: GET /V1/store/storeViews answers 401."""
    refuse(shop, "/V1/store/storeViews", "Magento_Backend::store")


def test_a_deleted_order_fails_its_shipment_and_the_later_ones_are_sent(shop: Shop) -> None:
    real = simple_order(shop)
    missing = gone(shop, real)
    record(shop, missing, "WH-GONE", "1ZGONE")  # the oldest: notified first
    record(shop, real, "WH-REAL", "1ZREAL")

    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert "1 notified, 0 already in Magento, 1 refused" in result.output
    assert "stopped" not in result.output
    assert f"Magento has no order with id {GONE_ID}" in result.output
    assert ENTITY_NOT_FOUND in result.output
    # The order is read before posting: the deleted one is never posted.
    reads = [r for r in shop.sb.requests if r.route == f"/V1/orders/{GONE_ID}"]
    assert [r.status for r in reads] == [404]
    assert [p.status for p in shop.posts()] == [200]
    rows = by_key(shop)
    assert rows["WH-GONE"]["state"] == "failed"
    assert ENTITY_NOT_FOUND in rows["WH-GONE"]["last_error"]
    [doc] = shop.magento_shipments(real["entity_id"])
    assert (rows["WH-REAL"]["state"], rows["WH-REAL"]["magento_shipment_id"]) == (
        "notified",
        doc["entity_id"],
    )

    status = shop.cli("status")
    assert "Failed notifications (1):" in status.output
    assert "WH-GONE  order #900000001  track 1ZGONE" in status.output
    assert ENTITY_NOT_FOUND in status.output
    [failed] = json.loads(shop.cli("status", "--json").output)["shipments"]["failed"]
    assert (failed["key"], failed["order_id"]) == ("WH-GONE", GONE_ID)

    # Retryable like any refusal; Magento still has no such order, nothing else is re-sent.
    assert "WH-GONE: queued again" in shop.cli("retry", "WH-GONE").output
    again = shop.cli("notify")
    assert again.exit_code == 0, again.output
    assert "0 notified, 0 already in Magento, 1 refused" in again.output
    assert [p.status for p in shop.posts()] == [200]
    assert by_key(shop)["WH-GONE"]["state"] == "failed"
    assert len(shop.magento_shipments(real["entity_id"])) == 1


def test_a_deleted_bundle_order_fails_when_its_items_are_read(shop: Shop) -> None:
    """Bundle components need the order's items first: GET /V1/orders/{id} answers 404."""
    bundle = find_order(shop.sb, {"together"}, exclude={"simple", "configurable", "separately"})
    missing = gone(shop, bundle)
    real = simple_order(shop)
    record(shop, missing, "WH-GONE", "1ZGONE")
    record(shop, real, "WH-REAL", "1ZREAL")

    report = shop.notify()
    assert report.error is None, report.error
    assert len(report.notified) == 1
    [failed] = report.failed
    assert f"Magento has no order with id {GONE_ID}" in failed
    assert ENTITY_NOT_FOUND in failed
    assert [p.path.rsplit("/", 2)[-2] for p in shop.posts()] == [str(real["entity_id"])]
    rows = by_key(shop)
    assert (rows["WH-GONE"]["state"], rows["WH-GONE"]["attempts"]) == ("failed", 0)
    assert rows["WH-REAL"]["state"] == "notified"


def test_wrong_store_view_code_stops_the_run_naming_the_setting(shop: Shop) -> None:
    """An unknown store code is not "no such order": nothing is marked failed, the run stops.

    A real store answers it with HTTP 400 "Specified request cannot be processed." (no REST
    processor takes /<code>/V1/...), not with a 404.
    """
    first = simple_order(shop)
    second = configurable_order(shop)
    record(shop, first, "WH-1", "1ZONE")
    record(shop, second, "WH-2", "1ZTWO")

    result = shop.cli("notify", TARGET_DROPSTREAM_STORE_VIEW_CODE="nl")
    assert result.exit_code == 1
    assert "HTTP 400 'Specified request cannot be processed.'" in result.output
    assert "store_view_code 'nl' is not a store view code of this store" in result.output
    assert "one of this store's codes (default, de, fr, es)" in result.output
    [read] = [r for r in shop.sb.requests if r.store_code is None]  # the order, read first
    assert (read.path, read.status) == (f"/rest/nl/V1/orders/{first['entity_id']}", 400)
    assert shop.posts() == []  # nothing posted; the second shipment was not tried
    rows = by_key(shop)
    assert [rows[k]["state"] for k in ("WH-1", "WH-2")] == ["pending", "pending"]
    assert "store_view_code 'nl'" in rows["WH-1"]["last_error"]
    assert shop.magento_shipments(first["entity_id"]) == []

    # With the setting fixed (removed), both go out.
    fixed = shop.cli("notify")
    assert fixed.exit_code == 0, fixed.output
    assert "2 notified" in fixed.output
    assert len(shop.magento_shipments(first["entity_id"])) == 1
    assert len(shop.magento_shipments(second["entity_id"])) == 1


def test_a_posted_shipment_under_a_wrong_code_is_looked_up_first_next_time(shop: Shop) -> None:
    """An earlier attempt is looked up first, under the same wrong code: the run stops."""
    order = simple_order(shop)
    record(shop, order, "WH-1", "1ZONE")
    store = shop.open()
    try:
        [row] = shop.shipments()
        assert store.shipments.mark_attempt(row["id"], 0, NOW)
    finally:
        store.close()
    again = shop.cli("notify", TARGET_DROPSTREAM_STORE_VIEW_CODE="nl")
    assert again.exit_code == 1
    assert "cannot check whether Magento already has it" in again.output
    assert "store_view_code 'nl' is not a store view code of this store" in again.output
    assert shop.posts() == []


@pytest.mark.parametrize("mode", ["shop", "full_shop"])
def test_unreadable_store_views_post_to_rest_v1_with_one_warning(
    request: pytest.FixtureRequest, mode: str
) -> None:
    shop: Shop = request.getfixturevalue(mode)
    block_store_views(shop)
    first = simple_order(shop)
    record(shop, first, "WH-1", "1ZONE")
    other = configurable_order(shop)
    record(shop, other, "WH-2", "1ZTWO")

    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert "2 notified" in result.output
    [warning] = [line for line in result.output.splitlines() if "store views" in line]
    assert "HTTP 401" in warning
    assert "Magento_Backend::store" in warning
    assert "posting to /rest/V1/..., Magento's default store view" in warning
    assert "store_view_code" in warning
    route = "/V1/shipment" if mode == "full_shop" else "/V1/order/{}/ship"
    assert [p.path for p in shop.posts()] == [
        "/rest" + route.format(first["entity_id"]),
        "/rest" + route.format(other["entity_id"]),
    ]


def test_unreadable_store_views_with_a_renamed_default_view(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default view's code need not be "default": /rest/default/V1 would be a 404."""
    default_view = next(view for view in STORE_VIEWS if view["id"] == 1)
    monkeypatch.setitem(default_view, "code", "main")
    block_store_views(shop)
    order = simple_order(shop)
    record(shop, order, "WH-1", "1ZONE")
    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert "1 notified" in result.output
    [post] = shop.posts()
    assert (post.path, post.status) == (f"/rest/V1/order/{order['entity_id']}/ship", 200)


def test_configured_store_view_code_is_used_as_given(shop: Shop) -> None:
    block_store_views(shop)
    order = simple_order(shop)
    record(shop, order, "WH-1", "1ZONE")
    result = shop.cli("notify", TARGET_DROPSTREAM_STORE_VIEW_CODE="fr")
    assert result.exit_code == 0, result.output
    assert "store views" not in result.output
    [post] = shop.posts()
    assert (post.path, post.status) == (f"/rest/fr/V1/order/{order['entity_id']}/ship", 200)
    assert not [r for r in shop.sb.requests if r.route == "/V1/store/storeViews"]

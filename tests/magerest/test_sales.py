"""magerest.sales, the Magento sales calls the target makes, against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from magento2_sandbox import MagentoSandbox
from magerest import sales
from magerest.client import MagentoAPIError, MagentoClient
from magerest.retry import RetryPolicy
from tests.conftest import oauth_keys

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def sb() -> Iterator[MagentoSandbox]:
    with MagentoSandbox(order_count=60, seed=7, now=NOW) as started:
        yield started


@pytest.fixture
def client(sb: MagentoSandbox) -> Iterator[MagentoClient]:
    with MagentoClient(
        sb.base_url,
        **oauth_keys(sb),
        retry_policy=RetryPolicy(max_tries=2, base_seconds=0.01),
        sleep=lambda _seconds: None,
    ) as made:
        yield made


def shippable(sb: MagentoSandbox) -> tuple[int, int]:
    """(order id, item id) of a processing order's simple item with something left to ship."""
    for order in sb.data.matching(statuses=["processing"]):
        for item in order["items"]:
            left = item["qty_ordered"] - item.get("qty_shipped", 0) - item.get("qty_refunded", 0)
            if item["product_type"] == "simple" and not item.get("parent_item_id") and left >= 1:
                return order["entity_id"], item["item_id"]
    raise AssertionError("the seeded sandbox has no shippable simple item")


def track(number: str) -> dict[str, str]:
    return {"track_number": number, "title": "UPS", "carrier_code": "ups"}


def test_ship_order_then_find_it_by_tracking_number(
    sb: MagentoSandbox, client: MagentoClient
) -> None:
    order_id, item_id = shippable(sb)
    body = {"items": [{"order_item_id": item_id, "qty": 1}], "tracks": [track("1Z-SALES-1")]}

    magento_id = sales.ship_order(client, order_id, body)

    assert isinstance(magento_id, int)
    assert sales.find_shipment_by_tracking(client, order_id, ["nope", "1Z-SALES-1"]) == magento_id
    assert sales.find_shipment_by_tracking(client, order_id, ["1Z-OTHER"]) is None
    # a shipment already claimed by another of ours is passed over
    assert (
        sales.find_shipment_by_tracking(client, order_id, ["1Z-SALES-1"], skip={magento_id}) is None
    )
    assert [s["entity_id"] for s in sales.order_shipments(client, order_id)] == [magento_id]
    document = sales.get_shipment(client, magento_id)
    assert [(i["order_item_id"], float(i["qty"])) for i in document["items"]] == [(item_id, 1.0)]
    assert [r.path for r in sb.requests if r.method == "POST"] == [
        f"/rest/V1/order/{order_id}/ship"
    ]


def test_ship_order_is_sent_once_even_when_magento_answers_503(
    sb: MagentoSandbox, client: MagentoClient
) -> None:
    order_id, item_id = shippable(sb)
    sb.faults.add(path="/V1/order/*/ship", method="POST", status=503, times=3)
    with pytest.raises(MagentoAPIError) as caught:
        sales.ship_order(client, order_id, {"items": [{"order_item_id": item_id, "qty": 1}]})
    assert caught.value.status == 503
    assert len([r for r in sb.requests if r.method == "POST"]) == 1


def test_create_shipment_returns_the_id_of_a_readable_shipment(
    sb: MagentoSandbox, client: MagentoClient
) -> None:
    order_id, item_id = shippable(sb)
    entity = {
        "order_id": order_id,
        "items": [{"order_item_id": item_id, "qty": 1}],
        "tracks": [track("1Z-FULL-1")],
    }

    magento_id = sales.create_shipment(client, {"entity": entity})

    assert isinstance(magento_id, int)
    document = sales.get_shipment(client, magento_id)
    assert document["order_id"] == order_id
    assert [t["track_number"] for t in document["tracks"]] == ["1Z-FULL-1"]
    assert sales.find_shipment_by_tracking(client, order_id, {"1Z-FULL-1"}) == magento_id


def test_store_view_codes_by_id_without_the_admin_view(
    sb: MagentoSandbox, client: MagentoClient
) -> None:
    expected = {int(v["id"]): v["code"] for v in sb.data.store_views if int(v["id"]) != 0}
    assert expected
    assert sales.store_view_codes(client) == expected


def test_get_order_returns_only_the_requested_fields(
    sb: MagentoSandbox, client: MagentoClient
) -> None:
    order_id, item_id = shippable(sb)
    order = sales.get_order(client, order_id, "entity_id,status,items[item_id,qty_ordered]")
    assert order is not None
    assert set(order) == {"entity_id", "status", "items"}
    assert order["entity_id"] == order_id
    assert item_id in [item["item_id"] for item in order["items"]]
    assert all(set(item) == {"item_id", "qty_ordered"} for item in order["items"])


def test_get_order_of_a_missing_order_raises_404(client: MagentoClient) -> None:
    with pytest.raises(MagentoAPIError) as caught:
        sales.get_order(client, 999_999, "entity_id")
    assert caught.value.status == 404


def test_read_orders_returns_only_the_requested_ids_and_fields(
    sb: MagentoSandbox, client: MagentoClient
) -> None:
    wanted = [o["entity_id"] for o in sb.data.matching()][:5]
    fields = "items[entity_id,status],total_count"

    found = sales.read_orders(client, [*wanted, 999_999], fields, page_size=2)

    assert sorted(found) == sorted(wanted)
    assert all(set(order) == {"entity_id", "status"} for order in found.values())
    pages = [r for r in sb.requests if r.route == "/V1/orders"]
    assert len(pages) == 3  # 5 orders, 2 per page


def test_product_by_id_finds_a_bundle_the_sku_would_not(client: MagentoClient) -> None:
    product = sales.product_by_id(client, 40)  # BND-DESK, shipped separately
    assert product is not None
    assert (product["id"], product["sku"]) == (40, "BND-DESK")
    attributes = {a["attribute_code"]: a["value"] for a in product["custom_attributes"]}
    assert attributes["shipment_type"] == "1"
    assert sales.product_by_id(client, 999_999) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, 12), ("12", 12), (" 7 ", 7), (True, None), ("x", None), (None, None), (1.5, None)],
)
def test_as_id(value: Any, expected: int | None) -> None:
    assert sales.as_id(value) == expected

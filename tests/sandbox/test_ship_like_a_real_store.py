"""Ship endpoints as a real 2.4.6 store answers them (reference §9.3-§9.10)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.kits import place_virtual_option_bundle
from magerest.auth import build_auth
from tests.conftest import SANDBOX_NOW, oauth_keys

PREFIX = "Shipment Document Validation Error(s):\n"


def call(
    sb: MagentoSandbox, method: str, path: str, body: Any = None, **params: str
) -> requests.Response:
    """A request signed with the Integration's OAuth 1.0a keys (works on a store's defaults)."""
    keys = oauth_keys(sb)
    auth = build_auth(
        keys["access_token"],
        consumer_key=keys["consumer_key"],
        consumer_secret=keys["consumer_secret"],
        access_token_secret=keys["access_token_secret"],
    )
    return requests.request(
        method, f"{sb.base_url}{path}", json=body, params=params or None, auth=auth, timeout=10
    )


def processing_order(sb: MagentoSandbox, min_qty: int = 1) -> tuple[dict, dict]:
    """A processing order and one of its plain simple lines ordered ``min_qty`` or more."""
    for entity_id in range(1, len(sb.data.orders) + 1):
        order = sb.data.orders[entity_id]
        if order["status"] != "processing":
            continue
        for line in order["items"]:
            if (
                line["product_type"] == "simple"
                and "parent_item_id" not in line
                and line["qty_ordered"] >= min_qty
            ):
                return order, line
    raise AssertionError("no processing order with such a line")


def test_qty_left_to_ship_is_ordered_minus_max_of_shipped_and_refunded(
    sandbox: MagentoSandbox,
) -> None:
    """Magento's unit test: 12 ordered, 5 refunded, 4 shipped -> 7 left (not 3)."""
    order, line = processing_order(sandbox)
    items = sandbox.data.orders[order["entity_id"]]["items"]
    for item in items:
        if item["item_id"] == line["item_id"]:
            item.update(qty_ordered=12, qty_refunded=5, qty_shipped=4, qty_canceled=0)
    sandbox.data.update_order(order["entity_id"], items=items)
    answer = call(
        sandbox,
        "POST",
        f"/rest/V1/order/{order['entity_id']}/ship",
        {"items": [{"order_item_id": line["item_id"], "qty": 20}]},
    )
    assert answer.status_code == 200, answer.text
    doc = sandbox.data.shipments[int(answer.json())]
    assert [(i["order_item_id"], i["qty"]) for i in doc["items"]] == [(line["item_id"], 7)]


def test_partial_shipment_leaves_updated_at_and_the_full_one_moves_it(
    sandbox: MagentoSandbox,
) -> None:
    order, line = processing_order(sandbox, min_qty=2)
    oid = order["entity_id"]
    before = sandbox.data.orders[oid]["updated_at"]
    sandbox.clock.advance(3600)
    partial = call(
        sandbox,
        "POST",
        f"/rest/V1/order/{oid}/ship",
        {"items": [{"order_item_id": line["item_id"], "qty": 1}]},
    )
    assert partial.status_code == 200, partial.text
    after = sandbox.data.orders[oid]
    assert after["state"] == "processing"
    assert after["updated_at"] == before  # only sales_order_item rows were written
    shipped = next(i for i in after["items"] if i["item_id"] == line["item_id"])
    assert shipped["qty_shipped"] == 1
    sandbox.clock.advance(60)
    rest = call(sandbox, "POST", f"/rest/V1/order/{oid}/ship", {})
    assert rest.status_code == 200, rest.text
    done = sandbox.data.orders[oid]
    assert done["state"] == "complete"
    assert done["updated_at"] == sandbox.clock.now_text()


def test_over_shipment_is_trimmed_and_a_shipped_order_refused(sandbox: MagentoSandbox) -> None:
    order, line = processing_order(sandbox, min_qty=2)
    oid = order["entity_id"]
    over = {"items": [{"order_item_id": line["item_id"], "qty": 99}]}
    answer = call(sandbox, "POST", f"/rest/V1/order/{oid}/ship", over)
    assert answer.status_code == 200, answer.text
    doc = sandbox.data.shipments[int(answer.json())]
    # 99 asked: what was left is shipped, and the shipment says so.
    assert [(i["order_item_id"], i["qty"]) for i in doc["items"]] == [
        (line["item_id"], line["qty_ordered"])
    ]
    assert call(sandbox, "POST", f"/rest/V1/order/{oid}/ship", {}).status_code == 200
    again = call(sandbox, "POST", f"/rest/V1/order/{oid}/ship", over)
    assert again.status_code == 400
    assert again.json() == {
        "message": PREFIX + "The order does not allow a shipment to be created.\n"
        "You can't create a shipment without products."
    }


def test_bundle_shipped_together_with_a_virtual_option(sandbox: MagentoSandbox) -> None:
    order = place_virtual_option_bundle(sandbox.data, qty=2)
    parent, pot, plan = order["items"]
    assert (parent["product_type"], pot["sku"], plan["sku"]) == (
        "bundle",
        "BND-POT",
        "VRT-WARRANTY",
    )
    assert (plan["product_type"], plan["is_virtual"], plan["parent_item_id"]) == (
        "virtual",
        1,
        parent["item_id"],
    )
    answer = call(
        sandbox,
        "POST",
        f"/rest/V1/order/{order['entity_id']}/ship",
        {"items": [{"order_item_id": parent["item_id"], "qty": 2}]},
    )
    assert answer.status_code == 200, answer.text
    after = {i["item_id"]: i for i in sandbox.data.orders[order["entity_id"]]["items"]}
    assert after[parent["item_id"]]["qty_shipped"] == 2
    assert after[pot["item_id"]]["qty_shipped"] == 2
    assert after[plan["item_id"]]["qty_shipped"] == 0  # never shipped: virtual
    assert sandbox.data.orders[order["entity_id"]]["state"] == "complete"
    product = call(sandbox, "GET", "/rest/V1/products/BND-TRAVEL").json()
    assert [
        a["value"] for a in product["custom_attributes"] if a["attribute_code"] == "shipment_type"
    ] == ["0"]


@pytest.mark.parametrize("code", ["nl", "admin", "v1"])
def test_unknown_store_code_answers_400_before_authentication(
    sandbox: MagentoSandbox, code: str
) -> None:
    for method in ("GET", "POST"):
        path = f"/rest/{code}/V1/orders/1" if method == "GET" else f"/rest/{code}/V1/order/1/ship"
        answer = requests.request(method, f"{sandbox.base_url}{path}", json={}, timeout=10)
        assert answer.status_code == 400
        assert answer.json() == {"message": "Specified request cannot be processed."}
    known = call(sandbox, "GET", "/rest/fr/V1/orders/1")
    assert known.status_code == 200
    no_route = call(sandbox, "GET", "/rest/V1/nothing-here")
    assert (no_route.status_code, no_route.json()["message"]) == (
        404,
        "Request does not match any route.",
    )


def test_validation_messages_follow_the_store_views_language(sandbox: MagentoSandbox) -> None:
    order = next(
        sandbox.data.orders[i]
        for i in range(1, 201)
        if sandbox.data.orders[i]["status"] == "processing"
        and any(item["sku"].startswith("BND-CAMP-") for item in sandbox.data.orders[i]["items"])
    )
    parent = next(i for i in order["items"] if i["product_type"] == "bundle")
    option = next(i for i in order["items"] if i.get("parent_item_id") == parent["item_id"])
    body = {"items": [{"order_item_id": option["item_id"], "qty": 1}]}
    english = call(sandbox, "POST", f"/rest/fr/V1/order/{order['entity_id']}/ship", body)
    german = call(sandbox, "POST", f"/rest/de/V1/order/{order['entity_id']}/ship", body)
    assert english.status_code == german.status_code == 400
    assert 'has shipment type "Together"' in english.json()["message"]
    message = german.json()["message"]
    assert message.startswith("Fehler bei der Validierung des Lieferscheins:\n")
    assert f'Bundle-Produkt "{parent["sku"]}" die Versandart "Zusammen" hat' in message
    assert "Together" not in message
    assert "shipment" not in message


def test_slow_commit_drops_the_answer_and_commits_later_under_the_order_lock() -> None:
    with MagentoSandbox(order_count=50, seed=1, now=SANDBOX_NOW, ship_commit_delay=90) as sb:
        order, line = processing_order(sb, min_qty=2)
        oid = order["entity_id"]
        body = {
            "items": [{"order_item_id": line["item_id"], "qty": 1}],
            "tracks": [{"track_number": "1ZLOCK", "carrier_code": "ups", "title": "UPS"}],
        }
        with pytest.raises(requests.exceptions.ConnectionError):
            call(sb, "POST", f"/rest/V1/order/{oid}/ship", body)
        criteria = {
            "searchCriteria[filter_groups][0][filters][0][field]": "order_id",
            "searchCriteria[filter_groups][0][filters][0][value]": str(oid),
        }
        early = call(sb, "GET", "/rest/V1/shipments", **criteria).json()
        assert early["total_count"] == 0  # still running inside Magento
        # A second request waits on the order lock: the first commits, then it ships 1 more.
        with pytest.raises(requests.exceptions.ConnectionError):
            call(sb, "POST", f"/rest/V1/order/{oid}/ship", body)
        assert len(sb.data.shipments) == 1
        sb.clock.advance(91)
        late = call(sb, "GET", "/rest/V1/shipments", **criteria).json()
        assert late["total_count"] == 2
        shipped = next(i for i in sb.data.orders[oid]["items"] if i["item_id"] == line["item_id"])
        assert shipped["qty_shipped"] == 2

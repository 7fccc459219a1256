"""The sandbox's sales documents (tied to its orders), customers and stock, searched like orders."""

from __future__ import annotations

from typing import Any

import requests

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.inventory import source_items
from magento2_sandbox.sales_documents import (
    creditmemos,
    invoices,
    refund_order,
    shipments,
)
from tests.sandbox.helpers import bearer, criteria


def get(sb: MagentoSandbox, path: str, pairs: list[tuple[str, str]] | None = None) -> Any:
    return requests.get(
        f"{sb.base_url}/rest{path}", params=pairs or [], headers=bearer(sb), timeout=30
    )


def all_of(sb: MagentoSandbox, path: str) -> list[dict[str, Any]]:
    resp = get(sb, path, criteria(sort=[("entity_id", "ASC")], page_size=300))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total_count"] == len(body["items"])
    return body["items"]


def test_each_complete_order_has_one_shipment_with_its_shipped_items_and_a_track(
    sandbox: MagentoSandbox,
) -> None:
    listed = all_of(sandbox, "/V1/shipments")
    complete = sandbox.data.matching("complete")
    assert complete
    by_order = {s["order_id"]: s for s in listed}
    assert len(by_order) == len(listed)
    # A complete order of virtual or downloadable items only has nothing to ship.
    shippable = [o for o in complete if any(i["qty_shipped"] for i in o["items"])]
    assert 0 < len(shippable) < len(complete)
    assert set(by_order) == {o["entity_id"] for o in shippable}
    for order in shippable:
        shipment = by_order[order["entity_id"]]
        shipped = {i["item_id"]: i["qty_shipped"] for i in order["items"] if i["qty_shipped"]}
        assert {i["order_item_id"]: i["qty"] for i in shipment["items"]} == shipped
        assert shipment["store_id"] == order["store_id"]
        assert shipment["updated_at"] == order["updated_at"]
        assert shipment["tracks"]
        assert shipment["tracks"][0]["track_number"]
        assert shipment["tracks"][0]["order_id"] == order["entity_id"]


def test_posted_shipments_are_listed_with_the_seeded_ones(sandbox: MagentoSandbox) -> None:
    before = all_of(sandbox, "/V1/shipments")
    order = sandbox.data.matching("processing")[0]
    resp = requests.post(
        f"{sandbox.base_url}/rest/V1/order/{order['entity_id']}/ship",
        json={"tracks": [{"track_number": "POSTED-1", "title": "UPS", "carrier_code": "ups"}]},
        headers=bearer(sandbox),
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    posted_id = int(resp.json())
    after = all_of(sandbox, "/V1/shipments")
    assert len(after) == len(before) + 1
    posted = [s for s in after if s["entity_id"] == posted_id]
    assert len(posted) == 1
    assert posted[0]["order_id"] == order["entity_id"]
    assert posted[0]["tracks"][0]["track_number"] == "POSTED-1"
    assert get(sandbox, f"/V1/shipment/{posted_id}").json()["entity_id"] == posted_id
    assert {s["entity_id"] for s in after} == {s["entity_id"] for s in shipments(sandbox.data)}


def test_invoices_cover_invoiced_orders_with_their_invoiced_quantities(
    sandbox: MagentoSandbox,
) -> None:
    listed = all_of(sandbox, "/V1/invoices")
    invoiced = [o for o in sandbox.data.matching() if any(i["qty_invoiced"] for i in o["items"])]
    assert {i["order_id"] for i in listed} == {o["entity_id"] for o in invoiced}
    statuses = {sandbox.data.orders[i["order_id"]]["status"] for i in listed}
    assert statuses <= {"processing", "complete", "holded"}
    for invoice in listed:
        order = sandbox.data.orders[invoice["order_id"]]
        expected = {i["item_id"]: i["qty_invoiced"] for i in order["items"] if i["qty_invoiced"]}
        assert {i["order_item_id"]: i["qty"] for i in invoice["items"]} == expected
        assert invoice["grand_total"] == order["grand_total"]
    one = listed[0]
    assert get(sandbox, f"/V1/invoices/{one['entity_id']}").json() == one
    assert listed == sorted(invoices(sandbox.data), key=lambda d: d["entity_id"])


def test_a_refund_closes_the_order_and_lists_its_credit_memo(sandbox: MagentoSandbox) -> None:
    assert all_of(sandbox, "/V1/creditmemos") == []
    order = sandbox.data.matching("complete")[0]
    refund_order(sandbox.data, order["entity_id"])
    memos = all_of(sandbox, "/V1/creditmemos")
    assert [m["order_id"] for m in memos] == [order["entity_id"]]
    closed = sandbox.data.orders[order["entity_id"]]
    assert closed["status"] == "closed"
    assert memos[0]["grand_total"] == closed["total_refunded"]
    assert memos[0]["updated_at"] == closed["updated_at"]
    assert {i["order_item_id"] for i in memos[0]["items"]} == {
        i["item_id"] for i in closed["items"] if i["qty_refunded"]
    }
    assert get(sandbox, f"/V1/creditmemo/{memos[0]['entity_id']}").json() == memos[0]
    assert memos == creditmemos(sandbox.data)


def test_search_criteria_filter_sort_and_page_like_orders(sandbox: MagentoSandbox) -> None:
    truth = [s for s in invoices(sandbox.data) if s["store_id"] == 2]
    assert len(truth) > 3
    cut = truth[1]
    pairs = criteria(
        [
            [("store_id", "2", "eq")],
            [("updated_at", cut["updated_at"], "gteq")],
            [("updated_at", cut["updated_at"], "gt"), ("entity_id", str(cut["entity_id"]), "gt")],
        ],
        sort=[("updated_at", "ASC"), ("entity_id", "ASC")],
        page_size=2,
        current_page=1,
    )
    body = get(sandbox, "/V1/invoices", pairs).json()
    assert body["total_count"] == len(truth) - 2
    assert [i["entity_id"] for i in body["items"]] == [i["entity_id"] for i in truth[2:4]]


def test_input_limits_and_unknown_columns_fail_as_magento_does(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(order_count=200, input_limits=True)
    too_big = get(sandbox, "/V1/shipments", criteria(page_size=301))
    assert too_big.status_code == 400
    unknown = get(sandbox, "/V1/creditmemos", criteria([[("no_such_column", "1", "eq")]]))
    assert unknown.status_code == 500
    default = get(sandbox, "/V1/invoices", [("searchCriteria", "")]).json()
    assert len(default["items"]) == 20 < default["total_count"]


def test_each_list_names_its_own_acl_resource(sandbox: MagentoSandbox) -> None:
    for path, resource in [
        ("/V1/shipments", "Magento_Sales::shipment"),
        ("/V1/invoices", "Magento_Sales::sales_invoice"),
        ("/V1/creditmemos", "Magento_Sales::sales_creditmemo"),
    ]:
        resp = requests.get(
            f"{sandbox.base_url}/rest{path}", params={"searchCriteria": ""}, timeout=30
        )
        assert resp.status_code == 401
        assert resp.json()["parameters"]["resources"] == resource


def test_customers_search_lists_each_registered_customer_of_the_orders(
    sandbox: MagentoSandbox,
) -> None:
    listed = all_of(sandbox, "/V1/customers/search")
    orders = sorted(sandbox.data.matching(), key=lambda o: o["entity_id"])
    first: dict[int, dict[str, Any]] = {}
    for order in orders:
        if order.get("customer_id") is not None:
            first.setdefault(order["customer_id"], order)
    assert [c["id"] for c in listed] == sorted(first)
    for customer in listed:
        order = first[customer["id"]]
        assert customer["email"] == order["customer_email"]
        assert customer["store_id"] == order["store_id"]
        assert customer["created_at"] == order["created_at"]
        assert customer["addresses"][0]["customer_id"] == customer["id"]
    assert "entity_id" not in listed[0]
    by_store = get(
        sandbox, "/V1/customers/search", criteria([[("store_id", "2", "eq")]], page_size=300)
    ).json()
    assert {c["store_id"] for c in by_store["items"]} == {2}
    assert by_store["total_count"] == sum(1 for c in listed if c["store_id"] == 2)
    refused = requests.get(
        f"{sandbox.base_url}/rest/V1/customers/search", params={"searchCriteria": ""}, timeout=30
    )
    assert refused.json()["parameters"]["resources"] == "Magento_Customer::customer"


def test_source_items_list_stock_per_product_and_source(sandbox: MagentoSandbox) -> None:
    listed = all_of_sorted(sandbox, "/V1/inventory/source-items", ("sku", "source_code"))
    assert listed == source_items()
    skus = {row["sku"] for row in listed}
    assert "SIM-MUG" in skus
    assert "CFG-HOODIE" not in skus  # a configurable product keeps no stock of its own
    assert all(row["status"] == (1 if row["quantity"] > 0 else 0) for row in listed)
    page = get(
        sandbox,
        "/V1/inventory/source-items",
        criteria([[("source_code", "eu_warehouse", "eq")]], page_size=2, current_page=1),
    ).json()
    assert page["total_count"] == sum(1 for r in listed if r["source_code"] == "eu_warehouse")
    assert len(page["items"]) == 2
    refused = requests.get(
        f"{sandbox.base_url}/rest/V1/inventory/source-items",
        params={"searchCriteria": ""},
        timeout=30,
    )
    assert refused.json()["parameters"]["resources"] == "Magento_InventoryApi::source_item"


def all_of_sorted(sb: MagentoSandbox, path: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    resp = get(sb, path, criteria(sort=[(f, "ASC") for f in fields], page_size=300))
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]

"""Seed data: deterministic, shaped like Magento 2.4 orders, with the traps real stores have."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.clock import parse_ts
from magento2_sandbox.seed import build_index

from .helpers import bearer

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def orders() -> list[dict[str, Any]]:
    sb = MagentoSandbox(order_count=300, seed=7, now=NOW)
    return [sb.data.orders[i] for i in range(1, 301)]


def test_same_inputs_same_data_other_seed_other_data() -> None:
    a = MagentoSandbox(order_count=50, seed=3, now=NOW).data
    b = MagentoSandbox(order_count=50, seed=3, now=NOW).data
    c = MagentoSandbox(order_count=50, seed=4, now=NOW).data
    assert [a.orders[i] for i in range(1, 51)] == [b.orders[i] for i in range(1, 51)]
    assert [a.orders[i] for i in range(1, 51)] != [c.orders[i] for i in range(1, 51)]


def test_served_json_equals_data_view(sandbox: MagentoSandbox) -> None:
    resp = requests.get(
        f"{sandbox.base_url}/rest/V1/orders/42", headers=bearer(sandbox), timeout=10
    )
    assert resp.json() == sandbox.data.orders[42]


def test_statuses_states_and_stores(orders: list[dict[str, Any]]) -> None:
    pairs = Counter((o["status"], o["state"]) for o in orders)
    assert set(pairs) == {
        ("pending", "new"),
        ("processing", "processing"),
        ("holded", "holded"),
        ("complete", "complete"),
        ("canceled", "canceled"),
    }
    assert {o["store_id"] for o in orders} == {1, 2, 3}
    for o in orders:
        view = {1: "Default Store View", 2: "French Store View", 3: "German Store View"}
        assert o["store_name"] == f"Main Website\nMain Website Store\n{view[o['store_id']]}"


def test_timestamps_spread_and_newest_within_last_hour(orders: list[dict[str, Any]]) -> None:
    now = int(NOW.timestamp())
    created = [parse_ts(o["created_at"]) for o in orders]
    assert max(created) == now - 1  # every seeded second has ended when the sandbox opens
    assert all(parse_ts(o["updated_at"]) < now for o in orders)
    assert now - min(created) > 5 * 7 * 86400
    assert sum(1 for c in created if now - c <= 3600) >= 2
    assert all(parse_ts(o["updated_at"]) >= parse_ts(o["created_at"]) for o in orders)
    assert all(len(o["updated_at"]) == 19 and o["updated_at"][10] == " " for o in orders)


def test_orders_share_updated_at_seconds(orders: list[dict[str, Any]]) -> None:
    biggest = Counter(o["updated_at"] for o in orders).most_common(1)[0][1]
    assert biggest >= 10


def test_large_cluster_bigger_than_a_max_page() -> None:
    idx = build_index(1, 5000, int(NOW.timestamp()))
    biggest_second, size = Counter(idx.updated).most_common(1)[0]
    assert size > 300
    statuses = {
        idx.status_names[idx.status[p]] for p in range(5000) if idx.updated[p] == biggest_second
    }
    assert statuses == {"processing"}


def _lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    return order["items"]


def test_configurable_parent_and_child(orders: list[dict[str, Any]]) -> None:
    seen = 0
    for o in orders:
        by_id = {i["item_id"]: i for i in o["items"]}
        for child in o["items"]:
            parent = by_id.get(child.get("parent_item_id"))
            if parent is None or parent["product_type"] != "configurable":
                continue
            seen += 1
            assert child["product_type"] == "simple"
            assert child["sku"] == parent["sku"]
            assert child["price"] == 0
            assert child["row_total"] == 0
            assert parent["price"] > 0
            assert child["qty_shipped"] == 0
            assert child["qty_canceled"] == 0
            assert child["parent_item"]["item_id"] == parent["item_id"]
            assert "price_incl_tax" not in child
            if o["status"] == "complete":
                assert parent["qty_shipped"] == parent["qty_ordered"]
            opts = parent["product_option"]["extension_attributes"]["configurable_item_options"]
            assert all(isinstance(x["option_id"], str) for x in opts)
    assert seen >= 10


def test_bundle_shapes(orders: list[dict[str, Any]]) -> None:
    kinds = set()
    for o in orders:
        for parent in (i for i in o["items"] if i["product_type"] == "bundle"):
            children = [i for i in o["items"] if i.get("parent_item_id") == parent["item_id"]]
            assert len(children) >= 2
            assert parent["sku"] == "-".join(
                [
                    parent["sku"].split("-")[0] + "-" + parent["sku"].split("-")[1],
                    *(c["sku"] for c in children),
                ]
            )
            assert parent["price"] * parent["qty_ordered"] == pytest.approx(
                sum(c["price"] * c["qty_ordered"] for c in children)
            )
            assert all(c["price"] > 0 and "bundle_selection_attributes" not in c for c in children)
            assert "shipment_type" not in str(parent)
            kinds.add(parent["sku"].split("-")[1])
    assert kinds == {"CAMP", "DESK"}


def test_virtual_downloadable_guest_and_streets(orders: list[dict[str, Any]]) -> None:
    types = Counter(i["product_type"] for o in orders for i in o["items"])
    assert {"simple", "configurable", "bundle", "virtual", "downloadable"} <= set(types)
    virtual_orders = [o for o in orders if o["is_virtual"] == 1]
    assert virtual_orders
    for o in virtual_orders:
        assert "address" not in o["extension_attributes"]["shipping_assignments"][0]["shipping"]
    guests = [o for o in orders if o["customer_is_guest"] == 1]
    assert guests
    assert all("customer_id" not in o for o in guests)
    assert all("customer_id" in o for o in orders if o["customer_is_guest"] == 0)
    assert any(len(o["billing_address"]["street"]) > 1 for o in orders)


def test_order_envelope_shape(orders: list[dict[str, Any]]) -> None:
    o = next(x for x in orders if x["is_virtual"] == 0 and x["status"] == "complete")
    assert isinstance(o["increment_id"], str)
    assert isinstance(o["grand_total"], (int, float))
    assert o["payment"]["account_status"] is None
    assert "cc_last4" in o["payment"]
    ship = o["extension_attributes"]["shipping_assignments"]
    assert len(ship) == 1
    assert ship[0]["items"] == o["items"]
    assert {"address", "method", "total"} == set(ship[0]["shipping"])
    assert ship[0]["shipping"]["address"]["address_type"] == "shipping"
    assert o["billing_address"]["parent_id"] == o["entity_id"]
    assert o["status_histories"][0]["parent_id"] == o["entity_id"]
    shippable = [
        i
        for i in o["items"]
        if (
            i["is_virtual"] == 0
            and i["product_type"] != "configurable"
            and "parent_item_id" not in i
        )
        or i["product_type"] == "configurable"
    ]
    assert all(
        i["qty_shipped"] == i["qty_ordered"] for i in shippable if i["product_type"] != "bundle"
    )
    top = [i for i in o["items"] if "parent_item_id" not in i]
    assert o["subtotal"] == pytest.approx(sum(i["row_total"] for i in top))
    for key in ("customer_middlename", "relation_child_id", "ext_order_id"):
        assert key not in o  # null-valued nullable getters are omitted


def test_catalog_products(sandbox: MagentoSandbox) -> None:
    def product(sku: str) -> requests.Response:
        return requests.get(
            f"{sandbox.base_url}/rest/V1/products/{sku}", headers=bearer(sandbox), timeout=10
        )

    attrs = {}
    for sku in ("BND-CAMP", "BND-DESK"):
        p = product(sku).json()
        assert p["type_id"] == "bundle"
        assert p["extension_attributes"]["bundle_product_options"]
        custom = {a["attribute_code"]: a["value"] for a in p["custom_attributes"]}
        assert custom["sku_type"] == "0"
        attrs[sku] = custom["shipment_type"]
    assert attrs == {"BND-CAMP": "0", "BND-DESK": "1"}
    for sku in ("CFG-HOODIE", "CFG-HOODIE-S-GRAY", "SIM-MUG", "VRT-WARRANTY", "DL-GUIDE"):
        assert product(sku).json()["sku"] == sku
    missing = product("BND-CAMP-BND-STOVE-BND-POT")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "The product that was requested doesn't exist. Verify the product and try again."
    }
    encoded = product("SIM%2DMUG")
    assert encoded.status_code == 200


def test_million_row_index_is_fast() -> None:
    started = time.perf_counter()
    idx = build_index(1, 1_000_000, int(NOW.timestamp()))
    elapsed = time.perf_counter() - started
    assert len(idx) == 1_000_000
    assert elapsed < 10, f"1M index rows took {elapsed:.1f}s"
    assert Counter(idx.updated).most_common(1)[0][1] > 300


def test_index_serves_a_page_of_twenty_thousand_quickly() -> None:
    from magento2_sandbox.query import OrderQuery
    from magento2_sandbox.search_criteria import parse_php_query, parse_search_criteria

    from .helpers import criteria

    sb = MagentoSandbox(order_count=20_000, now=NOW)
    pairs = criteria(
        [[("updated_at", "2026-01-01 00:00:00", "gteq")], [("status", "processing", "eq")]],
        [("updated_at", "ASC"), ("entity_id", "ASC")],
        100,
        3,
    )
    parsed = parse_search_criteria(parse_php_query(pairs))
    with sb.data.lock:
        OrderQuery(sb.data).run(parsed, input_limits=True, default_page_size=20, version="2.4")
        started = time.process_time()
        for _ in range(20):
            page, total = OrderQuery(sb.data).run(
                parsed, input_limits=True, default_page_size=20, version="2.4"
            )
        per_query = (time.process_time() - started) / 20
    assert len(page) == 100
    idx = sb.data.index
    since = parse_ts("2026-01-01 00:00:00")
    expected = sum(
        1
        for p in range(len(idx))
        if idx.updated[p] >= since and idx.status_names[idx.status[p]] == "processing"
    )
    assert total == expected
    assert per_query < 0.02, f"{per_query * 1000:.1f} ms per query"


def test_fixed_product_tax_lines_carry_weee_fields_as_magento_types_them(
    orders: list[dict[str, Any]],
) -> None:
    """The Desk Lamp sold in the French and German stores carries a Fixed Product Tax."""
    taxed = [o for o in orders if any("weee_tax_applied" in i for i in o["items"])]
    assert len(taxed) >= 5
    for o in taxed:
        lines = [i for i in o["items"] if "weee_tax_applied" in i]
        assert {(i["sku"], o["store_id"]) for i in lines} <= {("BND-LAMP", 2), ("BND-LAMP", 3)}
        for i in lines:
            applied = json.loads(i["weee_tax_applied"])  # a JSON-encoded string, as stored
            assert [a["title"] for a in applied] == ["recycling_fee"]
            assert isinstance(i["base_weee_tax_applied_row_amnt"], (int, float))
            assert i["weee_tax_applied_row_amount"] == i["base_weee_tax_applied_row_amnt"]
            assert i["weee_tax_applied_row_amount"] == pytest.approx(
                i["weee_tax_applied_amount"] * i["qty_ordered"]
            )
            assert applied[0]["row_amount"] == i["weee_tax_applied_row_amount"]
        fee = sum(i["weee_tax_applied_row_amount"] for i in lines)
        assert o["grand_total"] == pytest.approx(
            o["subtotal"] + o["shipping_amount"] + o["tax_amount"] + fee
        )
        assert o["payment"]["amount_ordered"] == o["grand_total"]
    untaxed = [o for o in orders if o not in taxed]
    assert all(
        o["grand_total"] == pytest.approx(o["subtotal"] + o["shipping_amount"] + o["tax_amount"])
        for o in untaxed
    )


def test_paypal_payments_carry_a_string_address_status(orders: list[dict[str, Any]]) -> None:
    paypal = [o["payment"] for o in orders if o["payment"]["method"] == "paypal_express"]
    assert 0.05 * len(orders) < len(paypal) < 0.3 * len(orders)
    assert {p["address_status"] for p in paypal} == {"confirmed", "unconfirmed"}
    others = [o["payment"] for o in orders if o["payment"]["method"] != "paypal_express"]
    assert all("address_status" not in p for p in others)
    paid = [p for p in paypal if "amount_paid" in p]
    assert paid
    assert all(isinstance(p["last_trans_id"], str) for p in paid)
    for o in orders:
        info = o["extension_attributes"]["payment_additional_info"]
        assert info == [{"key": "method_title", "value": o["payment"]["additional_information"][0]}]

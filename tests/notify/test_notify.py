"""`dropstream notify` against the sandbox: payloads per product kind, compact and full modes."""

from __future__ import annotations

from typing import Any

import pytest

from magento2_sandbox.catalog import store_view

from .conftest import Shop, children, find_order, item, refuse, top

UPS = ("--carrier-code", "ups", "--title", "United Parcel Service")
KINDS = {
    "simple": ({"simple"}, {"configurable", "together", "separately"}),
    "configurable": ({"configurable"}, {"simple", "together", "separately"}),
    "together": ({"together"}, {"simple", "configurable", "separately"}),
    "separately": ({"separately"}, {"simple", "configurable", "together"}),
}


def order_of(shop: Shop, kind: str) -> dict[str, Any]:
    want, exclude = KINDS[kind]
    return find_order(shop.sb, want, exclude=exclude)


def expected_items(order: dict[str, Any], kind: str) -> list[tuple[int, float]]:
    """The order items Magento must be told about, with quantities."""
    if kind == "simple":
        line = top(order, "simple")
        return [(line["item_id"], line["qty_ordered"])]
    if kind == "configurable":
        parent = top(order, "configurable")
        return [(parent["item_id"], parent["qty_ordered"])]
    parent = top(order, "bundle")
    if kind == "together":
        return [(parent["item_id"], parent["qty_ordered"])]
    return [(c["item_id"], c["qty_ordered"]) for c in children(order, parent)]


def block_catalog(shop: Shop) -> None:
    """The integration may not read the catalog: GET /V1/products answers 401."""
    refuse(shop, "/V1/products", "Magento_Catalog::products")


def record(shop: Shop, order: dict[str, Any], *extra: str) -> str:
    result = shop.cli("ship", order["increment_id"], *UPS, *extra)
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1].removeprefix("key: ")


@pytest.mark.parametrize("kind", list(KINDS))
def test_compact_notification_ships_the_right_items(shop: Shop, kind: str) -> None:
    order = order_of(shop, kind)
    oid = order["entity_id"]
    shop.load(oid)
    record(shop, order, "--track", f"1Z-{kind}")
    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert "1 notified, 0 already in Magento, 0 refused" in result.output
    [post] = shop.posts()
    view = store_view(order["store_id"])["code"]
    assert post.path == f"/rest/{view}/V1/order/{oid}/ship"
    body = post.json()
    assert sorted((i["order_item_id"], i["qty"]) for i in body["items"]) == sorted(
        expected_items(order, kind)
    )
    assert body["notify"] is True
    assert body["tracks"] == [
        {"track_number": f"1Z-{kind}", "title": "United Parcel Service", "carrier_code": "ups"}
    ]
    [doc] = shop.magento_shipments(oid)
    assert [t["track_number"] for t in doc["tracks"]] == [f"1Z-{kind}"]
    # What Magento registered on the order items.
    for line in order["items"]:
        now = item(shop.sb, oid, line["item_id"])
        parent = next(
            (p for p in order["items"] if p["item_id"] == line.get("parent_item_id")), None
        )
        if parent is not None and parent["product_type"] == "configurable":
            assert now["qty_shipped"] == 0  # Magento never moves the configurable child
        elif line["product_type"] == "bundle" and kind == "separately":
            assert now["qty_shipped"] == 1  # the dummy parent: +1 per shipment
        elif not line.get("is_virtual") and line["product_type"] not in ("downloadable",):
            assert now["qty_shipped"] == line["qty_ordered"], line["sku"]
    assert shop.sb.data.orders[oid]["state"] == "complete"
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"], row["attempts"]) == (
        "notified",
        doc["entity_id"],
        1,
    )
    if kind in ("together", "separately"):
        # The bundle's type came from the catalog, looked up by product id, and is cached.
        lookups = [r for r in shop.sb.requests if r.route == "/V1/products"]
        assert len(lookups) == 1
        assert ("searchCriteria[filter_groups][0][filters][0][field]", "entity_id") in lookups[
            0
        ].query
        cached = shop.rows(
            "SELECT item_id, ship_item_id FROM fulfillment_lines "
            "WHERE line_type = 'bundle_component'"
        )
        parent_id = top(order, "bundle")["item_id"]
        for line in cached:
            want = line["item_id"] if kind == "separately" else parent_id
            assert line["ship_item_id"] == want


@pytest.mark.parametrize("kind", list(KINDS))
def test_full_mode_posts_a_shipment_document_only(full_shop: Shop, kind: str) -> None:
    shop = full_shop
    order = order_of(shop, kind)
    oid = order["entity_id"]
    shop.load(oid)
    record(shop, order, "--track", f"FULL-{kind}")
    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    [post] = shop.posts()
    view = store_view(order["store_id"])["code"]
    assert post.path == f"/rest/{view}/V1/shipment"
    entity = post.json()["entity"]
    assert entity["order_id"] == oid
    assert entity["store_id"] == order["store_id"]
    by_id = {i["item_id"]: i for i in order["items"]}
    assert sorted((i["order_item_id"], i["qty"]) for i in entity["items"]) == sorted(
        expected_items(order, kind)
    )
    for sent in entity["items"]:
        assert sent["sku"] == by_id[sent["order_item_id"]]["sku"]
        assert sent["name"] == by_id[sent["order_item_id"]]["name"]
    assert entity["tracks"] == [
        {
            "order_id": oid,
            "track_number": f"FULL-{kind}",
            "title": "United Parcel Service",
            "carrier_code": "ups",
        }
    ]
    [doc] = shop.magento_shipments(oid)
    assert sorted(i["order_item_id"] for i in doc["items"]) == sorted(
        i for i, _ in expected_items(order, kind)
    )
    # The document only: Magento's quantities and order state do not move.
    assert all(item(shop.sb, oid, i["item_id"])["qty_shipped"] == 0 for i in order["items"])
    assert shop.sb.data.orders[oid]["state"] == "processing"
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"]) == ("notified", doc["entity_id"])


@pytest.mark.parametrize("mode", ["shop", "full_shop"])
def test_unreadable_catalog_fails_the_bundle_shipment_naming_the_acl(
    request: pytest.FixtureRequest, mode: str
) -> None:
    """Without the catalog the bundle type is unknown: nothing is posted, the ACL is named."""
    shop: Shop = request.getfixturevalue(mode)
    block_catalog(shop)
    order = order_of(shop, "separately")
    oid = order["entity_id"]
    parent = top(order, "bundle")
    shop.load(oid)
    key = record(shop, order, "--track", "SEP-1")
    report = shop.notify()
    assert report.error is None
    assert report.notified == []
    [failed] = report.failed
    assert f"cannot tell whether bundle {parent['sku']} (product id 40)" in failed
    assert "HTTP 401" in failed
    assert "Grant the integration the ACL resource Magento_Catalog::products" in failed
    assert shop.posts() == []
    assert shop.magento_shipments(oid) == []
    [row] = shop.shipments()
    assert (row["state"], row["attempts"]) == ("failed", 0)
    assert "Magento_Catalog::products" in row["last_error"]
    # Once the resource is granted, the shipment goes out with the type the catalog gives.
    shop.sb.faults.clear()
    assert f"{key}: queued again" in shop.cli("retry", key).output
    again = shop.notify()
    assert len(again.notified) == 1, again
    [doc] = shop.magento_shipments(oid)
    wanted = expected_items(order, "separately")
    assert sorted((i["order_item_id"], i["qty"]) for i in doc["items"]) == sorted(wanted)


def test_bundle_types_never_come_from_magentos_translated_messages(shop: Shop) -> None:
    """Under /rest/de/V1 Magento answers in German: a stale cached type is corrected from the
    catalog after the refusal, whatever the refusal's language."""
    order = order_of(shop, "together")
    oid = order["entity_id"]
    shop.sb.data.update_order(oid, store_id=3)  # the German store view ("de")
    parent = top(order, "bundle")
    shop.load(oid)
    with shop.open().write() as conn:  # cached as "separately": the product was edited since
        conn.exec_driver_sql(
            "UPDATE fulfillment_lines SET ship_item_id = item_id "
            "WHERE line_type = 'bundle_component'"
        )
    record(shop, order, "--track", "DE-1")
    report = shop.notify()
    assert report.error is None, report.error
    assert len(report.notified) == 1, report
    first, second = shop.posts()
    assert first.path == f"/rest/de/V1/order/{oid}/ship"
    assert first.status == 400  # "Die Lieferung kann nicht erstellt werden, da ..."
    assert second.json()["items"] == [
        {"order_item_id": parent["item_id"], "qty": parent["qty_ordered"]}
    ]
    [doc] = shop.magento_shipments(oid)
    assert [i["order_item_id"] for i in doc["items"]] == [parent["item_id"]]
    cached = shop.rows(
        "SELECT DISTINCT ship_item_id FROM fulfillment_lines WHERE line_type = 'bundle_component'"
    )
    assert cached == [{"ship_item_id": parent["item_id"]}]


def test_partial_bundle_then_the_rest_uses_the_cached_type(shop: Shop) -> None:
    """Options of a bundle shipped separately are named; the type is read once and cached."""
    order = order_of(shop, "separately")
    oid = order["entity_id"]
    parent = top(order, "bundle")
    parts = children(order, parent)
    assert len(parts) >= 2
    first, rest = parts[0], parts[1:]
    shop.load(oid)
    record(shop, order, "--track", "SEP-1", "--line", f"{first['sku']}={first['qty_ordered']}")
    report = shop.notify()
    assert len(report.notified) == 1, report
    [post] = shop.posts()
    assert post.json()["items"] == [
        {"order_item_id": first["item_id"], "qty": first["qty_ordered"]}
    ]
    assert len([r for r in shop.sb.requests if r.route == "/V1/products"]) == 1
    assert item(shop.sb, oid, first["item_id"])["qty_shipped"] == first["qty_ordered"]
    assert all(item(shop.sb, oid, c["item_id"])["qty_shipped"] == 0 for c in rest)
    assert shop.sb.data.orders[oid]["state"] == "processing"
    assert shop.rows("SELECT state FROM fulfillment_orders") == [{"state": "partially_shipped"}]
    shop.sb.clear_requests()
    record(shop, order, "--track", "SEP-2")
    report = shop.notify()
    assert len(report.notified) == 1
    [post] = shop.posts()
    assert post.status == 200
    assert sorted(i["order_item_id"] for i in post.json()["items"]) == [c["item_id"] for c in rest]
    assert not [r for r in shop.sb.requests if r.route == "/V1/products"]
    assert len(shop.magento_shipments(oid)) == 2
    assert all(item(shop.sb, oid, c["item_id"])["qty_shipped"] == c["qty_ordered"] for c in parts)
    assert shop.sb.data.orders[oid]["state"] == "complete"
    assert shop.rows("SELECT state FROM fulfillment_orders") == [{"state": "shipped"}]


def test_together_refusal_switches_to_the_bundle_parent(shop: Shop) -> None:
    """A stale cached type (options named) is read again from the catalog after the refusal."""
    order = order_of(shop, "together")
    oid = order["entity_id"]
    parent = top(order, "bundle")
    shop.load(oid)
    with shop.open().write() as conn:
        conn.exec_driver_sql(
            "UPDATE fulfillment_lines SET ship_item_id = item_id "
            "WHERE line_type = 'bundle_component'"
        )
    record(shop, order, "--track", "TOG-1")
    report = shop.notify()
    assert report.error is None, report.error
    assert len(report.notified) == 1
    posts = shop.posts()
    assert len(posts) == 2
    assert posts[0].status == 400
    assert sorted(i["order_item_id"] for i in posts[0].json()["items"]) == sorted(
        c["item_id"] for c in children(order, parent)
    )
    assert posts[1].json()["items"] == [
        {"order_item_id": parent["item_id"], "qty": parent["qty_ordered"]}
    ]
    assert len(shop.magento_shipments(oid)) == 1
    cached = shop.rows(
        "SELECT DISTINCT ship_item_id FROM fulfillment_lines WHERE line_type = 'bundle_component'"
    )
    assert cached == [{"ship_item_id": parent["item_id"]}]


def test_partial_then_final_shipment(shop: Shop) -> None:
    order = next(
        o
        for o in (shop.sb.data.orders[i] for i in range(1, 201))
        if o["status"] == "processing"
        and any(
            i["product_type"] == "simple" and "parent_item_id" not in i and i["qty_ordered"] >= 2
            for i in o["items"]
        )
    )
    oid = order["entity_id"]
    line = next(
        i for i in order["items"] if i["product_type"] == "simple" and i["qty_ordered"] >= 2
    )
    shop.load(oid)
    record(shop, order, "--track", "PART-1", "--line", f"{line['sku']}=1")
    assert shop.cli("notify").exit_code == 0
    assert item(shop.sb, oid, line["item_id"])["qty_shipped"] == 1
    assert shop.sb.data.orders[oid]["state"] == "processing"
    assert shop.rows("SELECT state FROM fulfillment_orders") == [{"state": "partially_shipped"}]
    record(shop, order, "--track", "PART-2")
    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert item(shop.sb, oid, line["item_id"])["qty_shipped"] == line["qty_ordered"]
    assert shop.sb.data.orders[oid]["state"] == "complete"
    docs = shop.magento_shipments(oid)
    assert [[t["track_number"] for t in d["tracks"]] for d in docs] == [["PART-1"], ["PART-2"]]
    rows = shop.shipments()
    assert [r["state"] for r in rows] == ["notified", "notified"]
    assert [r["magento_shipment_id"] for r in rows] == [d["entity_id"] for d in docs]
    assert shop.rows("SELECT state FROM fulfillment_orders") == [{"state": "shipped"}]


def test_two_tracking_numbers_on_one_shipment(shop: Shop) -> None:
    order = order_of(shop, "simple")
    shop.load(order["entity_id"])
    record(shop, order, "--track", "1ZBOX1", "--track", "1ZBOX2")
    assert shop.cli("notify").exit_code == 0
    [doc] = shop.magento_shipments(order["entity_id"])
    assert [(t["track_number"], t["carrier_code"], t["title"]) for t in doc["tracks"]] == [
        ("1ZBOX1", "ups", "United Parcel Service"),
        ("1ZBOX2", "ups", "United Parcel Service"),
    ]


def test_nothing_pending_posts_nothing(shop: Shop) -> None:
    shop.load(order_of(shop, "simple")["entity_id"])
    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert "0 notified, 0 already in Magento, 0 refused" in result.output
    assert shop.posts() == []


@pytest.mark.parametrize("compact", [True, False])
def test_source_code_names_the_msi_source_in_either_mode(
    shop: Shop, full_shop: Shop, compact: bool
) -> None:
    """Multi-source stores: the stock is deducted from the configured source."""
    chosen = shop if compact else full_shop
    order = order_of(chosen, "simple")
    chosen.load(order["entity_id"])
    record(chosen, order, "--track", "1ZMSI")
    result = chosen.cli("notify", TARGET_DROPSTREAM_SOURCE_CODE="eu_warehouse")
    assert result.exit_code == 0, result.output
    [post] = chosen.posts()
    body = post.json()
    if compact:
        assert body["arguments"] == {"extension_attributes": {"source_code": "eu_warehouse"}}
    else:
        assert body["entity"]["extension_attributes"] == {"source_code": "eu_warehouse"}


def test_without_source_code_magento_chooses_the_source(shop: Shop) -> None:
    order = order_of(shop, "simple")
    shop.load(order["entity_id"])
    record(shop, order, "--track", "1ZNOMSI")
    assert shop.cli("notify").exit_code == 0
    [post] = shop.posts()
    assert "arguments" not in post.json()

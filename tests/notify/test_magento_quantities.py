"""Notify checks Magento's current quantities before posting and the created shipment after.

Magento trims an over-shipment silently (200, fewer items) and refuses one for an order it
shows shipped in full (reference §9.5); a bundle shipped together ships through its parent
even with a virtual option (§9.6).
"""

from __future__ import annotations

from typing import Any

from magento2_sandbox.kits import place_virtual_option_bundle
from magento2_sandbox.shipping import ship_order

from .conftest import Shop, find_order, item, top

UPS = ("--carrier-code", "ups", "--title", "United Parcel Service")


def simple_order(shop: Shop, min_qty: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    """A processing order of plain simple lines, one ordered ``min_qty`` or more; loaded."""
    for entity_id in range(1, 201):
        order = shop.sb.data.orders[entity_id]
        if order["status"] != "processing":
            continue
        tops = [i for i in order["items"] if "parent_item_id" not in i]
        if any(i["product_type"] != "simple" for i in tops):
            continue
        line = next((i for i in tops if i["qty_ordered"] >= min_qty), None)
        if line is not None:
            shop.load(entity_id)
            return order, line
    raise AssertionError("no such order")


def record(shop: Shop, order: dict[str, Any], *extra: str) -> None:
    result = shop.cli("ship", order["increment_id"], *UPS, *extra)
    assert result.exit_code == 0, result.output


def ship_in_magento(shop: Shop, order_id: int, items: list[tuple[int, float]] | None) -> None:
    """The merchant ships in Magento's admin (no tracking number of ours)."""
    body = {"items": [{"order_item_id": i, "qty": q} for i, q in items]} if items else {}
    ship_order(shop.sb.data, order_id, body)


def test_a_shipment_magento_would_trim_is_failed_and_never_posted(shop: Shop) -> None:
    order, line = simple_order(shop)
    oid = order["entity_id"]
    record(shop, order, "--track", "1ZFULL", "--key", "WH-1")
    ship_in_magento(shop, oid, [(line["item_id"], 1)])  # updated_at does not move: never streamed

    report = shop.notify()
    assert report.error is None
    assert report.notified == []
    [failed] = report.failed
    assert f"Magento already shipped 1 of {line['sku']} outside the warehouse" in failed
    assert (
        f"this shipment names {line['qty_ordered']}, Magento has {line['qty_ordered'] - 1} left"
    ) in failed
    assert "nothing was posted" in failed
    assert shop.posts() == []
    [row] = shop.shipments()
    assert (row["state"], row["attempts"]) == ("failed", 0)
    assert f"Magento already shipped 1 of {line['sku']}" in row["last_error"]
    assert len(shop.magento_shipments(oid)) == 1  # the merchant's only


def test_our_own_notified_shipments_are_not_counted_as_outside(shop: Shop) -> None:
    order, line = simple_order(shop, min_qty=3)
    oid = order["entity_id"]
    record(shop, order, "--track", "1ZONE", "--line", f"{line['sku']}=1", "--key", "WH-1")
    assert len(shop.notify().notified) == 1
    record(shop, order, "--track", "1ZREST", "--key", "WH-2")  # the rest of the order
    ship_in_magento(shop, oid, [(line["item_id"], 1)])  # and 1 more shipped by the merchant
    [failed] = shop.notify().failed
    assert f"Magento already shipped 1 of {line['sku']} outside the warehouse" in failed


def test_an_order_magento_shows_shipped_is_reported_and_marked_shipped(shop: Shop) -> None:
    order, _line = simple_order(shop)
    oid = order["entity_id"]
    record(shop, order, "--track", "1ZLATE", "--key", "WH-1")
    assert shop.rows("SELECT state FROM fulfillment_orders") == [{"state": "shipped"}]
    with shop.open().write() as conn:  # as if the warehouse had shipped part of it only
        conn.exec_driver_sql("UPDATE fulfillment_orders SET state = 'partially_shipped'")
    ship_in_magento(shop, oid, None)  # the merchant shipped everything in Magento

    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert "0 notified, 0 already in Magento, 1 refused" in result.output
    assert "already shipped in Magento" in result.output
    assert shop.posts() == []
    [row] = shop.shipments()
    assert row["state"] == "failed"
    assert row["last_error"].startswith("already shipped in Magento")
    [stored] = shop.rows("SELECT state, state_reason, magento_status FROM fulfillment_orders")
    assert (stored["state"], stored["magento_status"]) == ("shipped", "complete")
    assert stored["state_reason"].startswith("already shipped in Magento")


def test_magentos_refusal_of_an_order_shipped_meanwhile_says_already_shipped(
    shop: Shop,
) -> None:
    """Shipped in Magento between our check and our post: Magento's 400 is explained."""
    order, _line = simple_order(shop)
    oid = order["entity_id"]
    record(shop, order, "--track", "1ZRACE", "--key", "WH-1")

    def merchant_ships_first(info: Any) -> None:
        if info.method == "POST" and not shop.magento_shipments(oid):
            ship_in_magento(shop, oid, None)

    shop.sb.on_request(merchant_ships_first)
    report = shop.notify()
    [failed] = report.failed
    assert failed.startswith("WH-1 (order #")
    assert "already shipped in Magento" in failed
    assert "The order does not allow a shipment to be created." in failed  # Magento's words
    assert [p.status for p in shop.posts()] == [400]
    assert shop.rows("SELECT state FROM fulfillment_orders") == [{"state": "shipped"}]


def test_the_created_shipment_is_read_back_and_a_trim_is_reported(shop: Shop) -> None:
    """Magento trimmed the post (the merchant shipped 1 just before): kept with a warning."""
    order, line = simple_order(shop)
    oid = order["entity_id"]
    record(shop, order, "--track", "1ZTRIM", "--line", f"{line['sku']}={line['qty_ordered']}")

    def merchant_ships_one_first(info: Any) -> None:
        if info.method == "POST" and not shop.magento_shipments(oid):
            ship_in_magento(shop, oid, [(line["item_id"], 1)])

    shop.sb.on_request(merchant_ships_one_first)
    report = shop.notify()
    assert report.error is None
    [_notified] = report.notified
    ours = next(d for d in shop.magento_shipments(oid) if d["tracks"])
    assert [(i["order_item_id"], i["qty"]) for i in ours["items"]] == [
        (line["item_id"], line["qty_ordered"] - 1)
    ]
    reads = [r for r in shop.sb.requests if r.route == f"/V1/shipment/{ours['entity_id']}"]
    assert [r.status for r in reads] == [200]
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"]) == ("notified", ours["entity_id"])
    warning = (
        f"Magento shipment {ours['entity_id']} holds other quantities than recorded: "
        f"{line['sku']} {line['qty_ordered'] - 1} (recorded {line['qty_ordered']})"
    )
    assert row["last_error"].startswith(warning)
    assert any(warning in note for note in report.notes)


def test_a_shipment_holding_what_was_recorded_has_no_warning(shop: Shop) -> None:
    order, _line = simple_order(shop)
    record(shop, order, "--track", "1ZOK")
    assert len(shop.notify().notified) == 1
    [row] = shop.shipments()
    assert (row["state"], row["last_error"]) == ("notified", None)
    assert [r.status for r in shop.sb.requests if r.route.startswith("/V1/shipment/")] == [200]


def test_bundle_shipped_together_with_a_virtual_option_names_its_parent(shop: Shop) -> None:
    order = place_virtual_option_bundle(shop.sb.data, qty=2)
    oid = order["entity_id"]
    parent = top(order, "bundle")
    pot, plan = (i for i in order["items"] if i.get("parent_item_id") == parent["item_id"])
    shop.load(oid)
    assert shop.rows("SELECT sku FROM fulfillment_lines") == [{"sku": "BND-POT"}]
    record(shop, order, "--track", "1ZKIT")

    report = shop.notify()
    assert report.error is None
    assert len(report.notified) == 1, report
    [post] = shop.posts()
    assert post.json()["items"] == [{"order_item_id": parent["item_id"], "qty": 2}]
    assert item(shop.sb, oid, pot["item_id"])["qty_shipped"] == 2
    assert item(shop.sb, oid, plan["item_id"])["qty_shipped"] == 0  # virtual: never shipped
    assert shop.sb.data.orders[oid]["state"] == "complete"
    [row] = shop.shipments()
    assert (row["state"], row["last_error"]) == ("notified", None)


def test_a_bundle_together_kit_part_is_still_refused_before_posting(shop: Shop) -> None:
    """Only whole kits ship together: part of a kit fails (virtual options aside)."""
    order = find_order(shop.sb, {"together"}, exclude={"simple", "configurable", "separately"})
    parent = top(order, "bundle")
    options = [i for i in order["items"] if i.get("parent_item_id") == parent["item_id"]]
    shop.load(order["entity_id"])
    record(shop, order, "--track", "1ZPART", "--line", f"{options[0]['sku']}=1")
    [failed] = shop.notify().failed
    assert "Magento only ships whole kits" in failed
    assert shop.posts() == []

"""What Magento holds now for the suite's own orders, read back with the admin token."""

from __future__ import annotations

from typing import Any

from tests.contract.fixtures import Fixtures, Product
from tests.contract.store import MagentoRest


def our_orders(rest: MagentoRest, fixtures: Fixtures) -> dict[int, dict[str, Any]]:
    """Every order of this run, by entity_id, as GET /V1/orders returns it now."""
    rows = rest.search("/orders", "entity_id", fixtures.entity_ids)
    found = {int(order["entity_id"]): order for order in rows}
    missing = sorted(set(fixtures.entity_ids) - set(found))
    assert not missing, f"GET /V1/orders does not return the run's orders {missing}"
    return found


def documents(rest: MagentoRest, kind: str, order_ids: list[int]) -> list[dict[str, Any]]:
    """Shipments, invoices or credit memos (``kind``) of these orders."""
    return rest.search(f"/{kind}", "order_id", order_ids)


def shipments_of(rest: MagentoRest, order_id: int) -> list[dict[str, Any]]:
    return documents(rest, "shipments", [order_id])


def tracks(shipment: dict[str, Any]) -> list[str]:
    return [track["track_number"] for track in shipment.get("tracks") or []]


def check_shipment_items(
    shipment: dict[str, Any], order: dict[str, Any], expected: set[tuple[int, float]]
) -> None:
    """A Magento shipment holds ``expected`` (order_item_id, qty); anything else it lists
    must be a parent or child of one of them (Magento adds a configurable's child, the
    options of a bundle shipped together, the parent of a bundle shipped separately)."""
    shipped = {(int(i["order_item_id"]), float(i["qty"])) for i in shipment["items"]}
    missing = expected - shipped
    named = {item_id for item_id, _ in expected}
    relatives = set()
    for item in order["items"]:
        parent = item.get("parent_item_id")
        if parent and (int(parent) in named or int(item["item_id"]) in named):
            relatives.update({int(parent), int(item["item_id"])})
    extra = {item_id for item_id, _ in shipped - expected} - relatives
    holds = f"Magento shipment {shipment.get('entity_id')} holds {sorted(shipped)}"
    assert not missing, f"{holds}; missing {sorted(missing)} of {sorted(expected)}"
    assert not extra, f"{holds}; unrelated to {sorted(expected)}: {sorted(extra)}"


def top_item(order: dict[str, Any], product: Product) -> dict[str, Any]:
    """The top-level order item (no parent) a cart line of ``product`` became."""
    matches = [
        item
        for item in order["items"]
        if not item.get("parent_item_id") and int(item["product_id"]) == product.id
    ]
    assert len(matches) == 1, f"order {order['entity_id']}: one top-level {product.sku} expected"
    return matches[0]


def children(order: dict[str, Any], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in order["items"] if item.get("parent_item_id") == parent["item_id"]]

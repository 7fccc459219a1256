"""What an order may ship, per ``Magento\\Sales\\Model\\ShipOrder`` and ``Order\\ShipmentFactory``,
the messages a refused ship request answers with, and the order's state afterwards.

Requested quantities are clamped silently to what is left, unknown or virtual lines are dropped,
a configurable child ships only through its parent, Together bundles ship through the parent and
Separately bundles through their children, and a Together bundle's virtual options are skipped
(``canShipItem``). Messages are translated into the locale of the store view in the URL
(``/rest/de/V1/...`` answers in German).
"""

from __future__ import annotations

from typing import Any

from .product_store import ProductStore

VALIDATION_PREFIX = "Shipment Document Validation Error(s):\n"
NOT_ALLOWED = "The order does not allow a shipment to be created."
BAD_STATE = "A shipment cannot be created when an order has a status of %s"
NO_PRODUCTS = "You can't create a shipment without products."
NO_TRACK_NUMBER = "Please enter a tracking number."
TOGETHER = (
    'Cannot create shipment as bundle product "%s" has shipment type "Together". '
    "Bundle product itself should be shipped instead."
)
SEPARATELY = (
    'Cannot create shipment as bundle product "%s" has shipment type "Separately". '
    "Bundle product options should be shipped instead."
)
#: Magento's de_DE translations of the ship validation phrases (a store view whose locale
#: has no entry answers in English, like a store without that language pack).
TRANSLATIONS: dict[str, dict[str, str]] = {
    "de_DE": {
        VALIDATION_PREFIX: "Fehler bei der Validierung des Lieferscheins:\n",
        NOT_ALLOWED: "Für diese Bestellung kann keine Lieferung erstellt werden.",
        BAD_STATE: (
            "Eine Lieferung kann nicht erstellt werden, wenn die Bestellung den Status %s hat"
        ),
        NO_PRODUCTS: "Eine Lieferung kann nicht ohne Produkte erstellt werden.",
        NO_TRACK_NUMBER: "Bitte geben Sie eine Sendungsnummer ein.",
        TOGETHER: (
            'Die Lieferung kann nicht erstellt werden, da das Bundle-Produkt "%s" die '
            'Versandart "Zusammen" hat. Stattdessen sollte das Bundle-Produkt selbst versendet '
            "werden."
        ),
        SEPARATELY: (
            'Die Lieferung kann nicht erstellt werden, da das Bundle-Produkt "%s" die '
            'Versandart "Getrennt" hat. Stattdessen sollten die Optionen des Bundle-Produkts '
            "versendet werden."
        ),
    },
}


def translate(phrase: str, locale: str | None) -> str:
    """The phrase (a template, before ``%s`` is filled) in the store view's locale."""
    return TRANSLATIONS.get(locale or "", {}).get(phrase, phrase)


def ships_separately(item: dict[str, Any], catalog: ProductStore) -> bool:
    """Whether a bundle line ships its options separately (known only to the catalog)."""
    return catalog.shipment_type(item.get("product_id")) == "1"


def qty_to_ship(item: dict[str, Any]) -> float:
    """``Item::getSimpleQtyToShip``: ordered - max(shipped, refunded) - canceled."""
    left = (
        item.get("qty_ordered", 0)
        - max(item.get("qty_shipped", 0), item.get("qty_refunded", 0))
        - item.get("qty_canceled", 0)
    )
    return max(left, 0)


def plan_shipment(
    order: dict[str, Any],
    requested: dict[int, float],
    catalog: ProductStore,
    locale: str | None = None,
) -> tuple[dict[int, float], list[str]]:
    """Quantities to ship per order item id, plus bundle validation messages."""
    items = order["items"]
    by_id = {i["item_id"]: i for i in items}
    children: dict[int, list[dict[str, Any]]] = {}
    for i in items:
        if "parent_item_id" in i:
            children.setdefault(i["parent_item_id"], []).append(i)
    ship_all = not requested
    plan: dict[int, float] = {}
    bundle_errors: list[str] = []
    for item in items:
        iid = item["item_id"]
        parent = by_id.get(item.get("parent_item_id"))
        if item.get("is_virtual"):
            continue
        if parent is None and item["product_type"] == "bundle":
            if ships_separately(item, catalog):
                if iid in requested:
                    bundle_errors.append(translate(SEPARATELY, locale) % item["sku"])
                continue  # options ship themselves; the parent is a dummy
            want = qty_to_ship(item) if ship_all else min(requested.get(iid, 0), qty_to_ship(item))
            if want > 0:
                plan[iid] = want
                for child in children.get(iid, []):
                    if child.get("is_virtual"):
                        continue  # canShipItem skips a virtual option: it never ships
                    per_bundle = child["qty_ordered"] / max(item["qty_ordered"], 1)
                    plan[child["item_id"]] = min(per_bundle * want, qty_to_ship(child))
            continue
        if parent is not None and parent["product_type"] == "bundle":
            if not ships_separately(parent, catalog):
                if iid in requested and parent["item_id"] not in requested:
                    bundle_errors.append(translate(TOGETHER, locale) % parent["sku"])
                continue  # derived from the parent above
            want = qty_to_ship(item) if ship_all else min(requested.get(iid, 0), qty_to_ship(item))
            if want > 0:
                plan[iid] = want
            continue
        if parent is not None and parent["product_type"] == "configurable":
            continue  # ships only through its parent; keeps qty_shipped 0
        want = qty_to_ship(item) if ship_all else min(requested.get(iid, 0), qty_to_ship(item))
        if want > 0:
            plan[iid] = want
    return plan, bundle_errors


def can_ship(order: dict[str, Any]) -> bool:
    if order.get("state") in ("holded", "payment_review", "canceled") or order.get("is_virtual"):
        return False
    by_id = {i["item_id"]: i for i in order["items"]}
    for item in order["items"]:
        parent = by_id.get(item.get("parent_item_id"))
        if parent is not None and parent["product_type"] == "configurable":
            continue
        if item.get("is_virtual") or item.get("locked_do_ship"):
            continue
        if qty_to_ship(item) > 0:
            return True
    return False


def update_state(order: dict[str, Any], catalog: ProductStore) -> bool:
    """new -> processing; everything shipped (and invoiced) -> complete; custom statuses kept.

    Returns whether the order's state changed (Magento then writes the order row).
    """
    by_id = {i["item_id"]: i for i in order["items"]}
    remaining = False
    for item in order["items"]:
        parent = by_id.get(item.get("parent_item_id"))
        if item.get("is_virtual") or (parent is not None and parent["product_type"] != "bundle"):
            continue
        if item["product_type"] == "bundle" and ships_separately(item, catalog):
            continue
        if qty_to_ship(item) > 0:
            remaining = True
    invoiced = all(
        i.get("qty_invoiced", 0) >= i.get("qty_ordered", 0) - i.get("qty_canceled", 0)
        for i in order["items"]
        if "parent_item_id" not in i
    )
    old_state = order.get("state")
    new_state = "complete" if not remaining and invoiced else "processing"
    if new_state == old_state:
        return False
    order["state"] = new_state
    order["status"] = new_state
    return True

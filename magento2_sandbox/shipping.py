"""Shipment endpoints: ``POST /V1/order/{id}/ship`` with Magento's validation and side effects,
``POST /V1/shipment`` (document only), ``POST /V1/shipment/track`` and shipment reads.

Ship semantics follow ``Magento\\Sales\\Model\\ShipOrder`` and ``Order\\ShipmentFactory``: requested
quantities are clamped silently to what is left, unknown or virtual lines are dropped, a
configurable child ships only through its parent, Together bundles ship through the parent and
Separately bundles through their children (the parent then gets ``qty_shipped += 1`` per shipment),
a Together bundle's virtual options are skipped (``canShipItem``), and validation messages are
joined with "\\n" after "Shipment Document Validation Error(s):", translated into the locale of
the store view in the URL (``/rest/de/V1/...`` answers in German).

The order row (and so ``updated_at``) is written only when the shipment changes the order's
state or status (e.g. the shipment that completes it): a partial shipment of a processing order
only writes its items, like Magento (reference §9.4).
"""

from __future__ import annotations

import copy
from typing import Any

from .data import SandboxData
from .errors import MagentoError, entity_not_found, field_required
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


def _param(body: dict[str, Any], name: str, snake: str) -> Any:
    return body.get(name, body.get(snake))


def _requested(body: dict[str, Any]) -> dict[int, float]:
    out: dict[int, float] = {}
    for entry in _param(body, "items", "items") or []:
        if not isinstance(entry, dict):
            continue
        try:
            item_id = int(entry.get("order_item_id", entry.get("orderItemId")))
            qty = float(entry.get("qty", 0))
        except (TypeError, ValueError):
            continue
        out[item_id] = out.get(item_id, 0) + qty
    return out


def _plan(
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


def _can_ship(order: dict[str, Any]) -> bool:
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


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def ship_order(
    data: SandboxData, entity_id: int, body: dict[str, Any], locale: str | None = None
) -> str:
    """Create a shipment the way ShipOrder::execute does; returns the new id as a string.

    ``locale``: the store view's locale (from the store code in the URL) for the messages.
    """
    with data.order_shipment_lock, data.lock:
        if not data.exists(entity_id):
            raise entity_not_found()
        order = data.editable_order(entity_id)
        messages: list[str] = []
        if order.get("state") in ("holded", "payment_review", "canceled") or order.get(
            "is_virtual"
        ):
            messages.append(translate(BAD_STATE, locale) % order.get("status"))
        elif not _can_ship(order):
            messages.append(translate(NOT_ALLOWED, locale))
        plan, bundle_errors = _plan(order, _requested(body), data.catalog, locale)
        if sum(plan.values()) <= 0:
            messages.append(translate(NO_PRODUCTS, locale))
        tracks = _param(body, "tracks", "tracks") or []
        for track in tracks:
            if not isinstance(track, dict) or not track.get(
                "track_number", track.get("trackNumber")
            ):
                messages.append(translate(NO_TRACK_NUMBER, locale))
        messages += bundle_errors
        if messages:
            raise MagentoError(400, translate(VALIDATION_PREFIX, locale) + "\n".join(messages))
        now = data.clock.now_text()
        by_id = {i["item_id"]: i for i in order["items"]}
        touched_bundles: set[int] = set()
        for iid, qty in plan.items():
            item = by_id[iid]
            item["qty_shipped"] = _num(item.get("qty_shipped", 0) + qty)
            item["updated_at"] = now
            parent = by_id.get(item.get("parent_item_id"))
            if (
                parent is not None
                and parent["product_type"] == "bundle"
                and ships_separately(parent, data.catalog)
            ):
                touched_bundles.add(parent["item_id"])
        for pid in touched_bundles:  # dummy Separately parent: +1 per shipment
            by_id[pid]["qty_shipped"] = _num(by_id[pid].get("qty_shipped", 0) + 1)
            by_id[pid]["updated_at"] = now
        _refresh_parent_snapshots(order)
        order_row_written = _update_state(order, data.catalog)
        comment = _param(body, "comment", "comment")
        notify = bool(_param(body, "notify", "notify"))
        shipment = _new_shipment(data, order, plan, tracks, comment, notify, body, now)
        # Only a state/status change writes sales_order (ON UPDATE CURRENT_TIMESTAMP).
        data.commit_order(entity_id, order, touch=order_row_written)
        return str(shipment["entity_id"])


def _refresh_parent_snapshots(order: dict[str, Any]) -> None:
    by_id = {i["item_id"]: i for i in order["items"]}
    for item in order["items"]:
        parent = by_id.get(item.get("parent_item_id"))
        if parent is not None:
            item["parent_item"] = dict(sorted(parent.items()))


def _update_state(order: dict[str, Any], catalog: ProductStore) -> bool:
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


def _new_shipment(
    data: SandboxData,
    order: dict[str, Any],
    plan: dict[int, float],
    tracks: list[Any],
    comment: Any,
    notify: bool,
    body: dict[str, Any],
    now: str,
) -> dict[str, Any]:
    shipment_id = len(data.shipments) + 1
    by_id = {i["item_id"]: i for i in order["items"]}
    items = []
    for iid, qty in plan.items():
        item = by_id[iid]
        parent = by_id.get(item.get("parent_item_id"))
        if parent is not None and not ships_separately(parent, data.catalog):
            continue  # Together-bundle options are carried by the parent line
        items.append(
            {
                "entity_id": shipment_id * 100 + len(items) + 1,
                "name": item["name"],
                "parent_id": shipment_id,
                "price": item["price"],
                "product_id": item["product_id"],
                "sku": item["sku"],
                "weight": item.get("weight", 0),
                "order_item_id": iid,
                "qty": _num(qty),
            }
        )
    track_rows = [
        {
            "order_id": order["entity_id"],
            "created_at": now,
            "entity_id": shipment_id * 100 + k + 1,
            "parent_id": shipment_id,
            "updated_at": now,
            "track_number": t.get("track_number", t.get("trackNumber")),
            "title": t.get("title"),
            "carrier_code": t.get("carrier_code", t.get("carrierCode")),
        }
        for k, t in enumerate(tracks)
    ]
    comments = []
    if isinstance(comment, dict) and comment.get("comment"):
        comments.append(
            {
                "comment": comment["comment"],
                "created_at": now,
                "entity_id": shipment_id,
                "is_customer_notified": 1 if notify else 0,
                "is_visible_on_front": int(comment.get("is_visible_on_front", 0) or 0),
                "parent_id": shipment_id,
            }
        )
    args = _param(body, "arguments", "arguments") or {}
    source = ((args.get("extension_attributes") or {}) if isinstance(args, dict) else {}).get(
        "source_code", "default"
    )
    shipment = {
        "billing_address_id": order.get("billing_address_id"),
        "created_at": now,
        "customer_id": order.get("customer_id"),
        "email_sent": 1 if notify else None,
        "entity_id": shipment_id,
        "increment_id": f"{shipment_id:09d}",
        "order_id": order["entity_id"],
        "packages": [],
        "shipping_address_id": order["entity_id"] * 2 if not order.get("is_virtual") else None,
        "store_id": order["store_id"],
        "total_qty": _num(sum(i["qty"] for i in items)),
        "updated_at": now,
        "items": items,
        "tracks": track_rows,
        "comments": comments,
        "extension_attributes": {"source_code": source},
    }
    shipment = {k: v for k, v in shipment.items() if v is not None}
    data.shipments[shipment_id] = shipment
    return shipment


def save_shipment(data: SandboxData, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /V1/shipment``: persist the document only (no qty_shipped, no state change)."""
    entity = body.get("entity")
    if not isinstance(entity, dict):
        raise field_required("entity")
    with data.lock:
        try:
            order_id = int(entity.get("order_id"))
        except (TypeError, ValueError):
            order_id = 0
        if not data.exists(order_id):
            raise MagentoError(400, "The shipment couldn't be saved.")
        order = data.get_order(order_id)
        now = data.clock.now_text()
        shipment_id = len(data.shipments) + 1
        doc = copy.deepcopy(entity)
        doc.update(
            {
                "entity_id": shipment_id,
                "increment_id": doc.get("increment_id") or f"{shipment_id:09d}",
                "order_id": order_id,
                "store_id": doc.get("store_id", order["store_id"]),
                "created_at": now,
                "updated_at": now,
            }
        )
        for k, item in enumerate(doc.setdefault("items", [])):
            item.setdefault("entity_id", shipment_id * 100 + k + 1)
            item["parent_id"] = shipment_id
        for k, track in enumerate(doc.setdefault("tracks", [])):
            track.setdefault("entity_id", shipment_id * 100 + 50 + k)
            track.update({"parent_id": shipment_id, "order_id": order_id})
            track.setdefault("created_at", now)
            track.setdefault("updated_at", now)
        doc.setdefault("comments", [])
        doc.setdefault("packages", [])
        doc["total_qty"] = doc.get("total_qty") or _num(
            sum(float(i.get("qty", 0)) for i in doc["items"])
        )
        data.shipments[shipment_id] = doc
        return copy.deepcopy(doc)


def add_track(data: SandboxData, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /V1/shipment/track``: attach a tracking number to an existing shipment."""
    entity = body.get("entity")
    if not isinstance(entity, dict):
        raise field_required("entity")
    with data.lock:
        shipment = data.shipments.get(_int(entity.get("parent_id")))
        if shipment is None:
            raise MagentoError(400, "Could not save the shipment tracking.")
        if not entity.get("track_number"):
            raise MagentoError(400, "Could not save the shipment tracking.")
        now = data.clock.now_text()
        track = {
            **copy.deepcopy(entity),
            "entity_id": shipment["entity_id"] * 100 + 50 + len(shipment["tracks"]),
            "order_id": shipment["order_id"],
            "parent_id": shipment["entity_id"],
            "created_at": now,
            "updated_at": now,
        }
        shipment["tracks"].append(track)
        return copy.deepcopy(track)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

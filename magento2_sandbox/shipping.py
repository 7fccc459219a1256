"""``POST /V1/order/{id}/ship``: validate the request, then create the shipment and ship the
order's items, like ``Magento\\Sales\\Model\\ShipOrder::execute``.

What may ship and the validation messages are ``ship_rules``. Validation messages are joined
with "\\n" after "Shipment Document Validation Error(s):", a Separately bundle's parent gets
``qty_shipped += 1`` per shipment, and the order row (and so ``updated_at``) is written only when
the shipment changes the order's state or status (e.g. the shipment that completes it): a
partial shipment of a processing order only writes its items, like Magento (reference §9.4).
"""

from __future__ import annotations

from typing import Any

from .data import SandboxData
from .errors import MagentoError, entity_not_found
from .ship_rules import (
    BAD_STATE,
    NO_PRODUCTS,
    NO_TRACK_NUMBER,
    NOT_ALLOWED,
    VALIDATION_PREFIX,
    can_ship,
    plan_shipment,
    ships_separately,
    translate,
    update_state,
)


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
        elif not can_ship(order):
            messages.append(translate(NOT_ALLOWED, locale))
        plan, bundle_errors = plan_shipment(order, _requested(body), data.catalog, locale)
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
        order_row_written = update_state(order, data.catalog)
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

"""``POST /V1/shipment`` (the document only: no ``qty_shipped``, no state change) and
``POST /V1/shipment/track`` (a tracking number on an existing shipment)."""

from __future__ import annotations

import copy
from typing import Any

from .data import SandboxData
from .errors import MagentoError, field_required


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


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

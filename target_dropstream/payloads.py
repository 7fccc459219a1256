"""Magento request bodies for a recorded shipment: compact ``/ship`` or full ``/shipment``.

Magento wants the order item it tracks shipping on: the item itself, the configurable parent
(its simple child is never named), the bundle parent for a bundle shipped together (child
quantities follow from the parent's), and the components for a bundle shipped separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from target_dropstream.models import magento_bool
from target_dropstream.rules import qty_to_ship
from target_dropstream.shipment_models import OutgoingShipment


class PayloadError(ValueError):
    """The recorded shipment cannot be expressed the way Magento needs it."""


@dataclass(frozen=True)
class ShipItem:
    """One entry of the request's ``items``."""

    order_item_id: int
    qty: Decimal
    sku: str
    name: str | None


def ship_items(
    shipment: OutgoingShipment,
    separately: Mapping[int, bool],
    order_items: Mapping[int, Mapping[str, Any]] | None = None,
) -> list[ShipItem]:
    """The items to name in the request.

    Args:
        shipment: the recorded shipment.
        separately: for every bundle parent item id in the shipment, whether it ships
            separately.
        order_items: Magento's order items by item id (needed for bundles shipped together:
            the parent's quantity is the number of whole kits).

    Raises:
        PayloadError: a bundle shipped together is not shipped as whole kits.
    """
    items: dict[int, ShipItem] = {}
    kits: dict[int, list[Any]] = {}
    for line in shipment.lines:
        if line.is_bundle_component and line.parent_item_id is not None:
            if separately.get(line.parent_item_id, False):
                _add(items, ShipItem(line.item_id, line.qty, line.sku, line.name))
            else:
                kits.setdefault(line.parent_item_id, []).append(line)
            continue
        target = line.ship_item_id or line.item_id
        _add(items, ShipItem(target, line.qty, line.sku, line.name))
    for parent_id, components in kits.items():
        _add(items, _whole_kits(parent_id, components, order_items or {}))
    if not items:
        # An empty list would tell Magento to ship everything left on the order.
        raise PayloadError("the shipment has no items to name")
    return list(items.values())


def _add(items: dict[int, ShipItem], item: ShipItem) -> None:
    known = items.get(item.order_item_id)
    if known is None:
        items[item.order_item_id] = item
    else:
        items[item.order_item_id] = ShipItem(
            item.order_item_id, known.qty + item.qty, known.sku, known.name
        )


def _whole_kits(
    parent_id: int, components: Sequence[Any], order_items: Mapping[int, Mapping[str, Any]]
) -> ShipItem:
    parent = order_items.get(parent_id)
    if parent is None:
        raise PayloadError(f"bundle item {parent_id} is not in Magento's order any more")
    parent_ordered = as_qty(parent.get("qty_ordered"))
    if parent_ordered <= 0:
        raise PayloadError(f"bundle {parent.get('sku')} has no ordered quantity in Magento")
    per_kit: dict[int, Decimal] = {}
    open_children: set[int] = set()
    for child_id, child in _physical_children(parent_id, order_items):
        per_kit[child_id] = as_qty(child.get("qty_ordered")) / parent_ordered
        if qty_left(child) > 0:
            open_children.add(child_id)
    kit_counts = set()
    for line in components:
        share = per_kit.get(line.item_id)
        if not share:
            raise PayloadError(f"{line.sku} is not an option of bundle {parent.get('sku')}")
        kit_counts.add(line.qty / share)
    shipped_ids = {line.item_id for line in components}
    recipe = ", ".join(
        f"{order_items[child_id].get('sku')} x{_text(share)}"
        for child_id, share in sorted(per_kit.items())
    )
    if len(kit_counts) != 1 or not open_children <= shipped_ids:
        raise PayloadError(
            f"bundle {parent.get('sku')} ships together: Magento only ships whole kits "
            f"({recipe} per kit); record the shipment again with every option in whole kits"
        )
    return ShipItem(parent_id, kit_counts.pop(), str(parent.get("sku")), parent.get("name"))


def _physical_children(
    parent_id: int, order_items: Mapping[int, Mapping[str, Any]]
) -> list[tuple[int, Mapping[str, Any]]]:
    """A bundle's options that ship: Magento skips virtual ones (``canShipItem``)."""
    return [
        (child_id, child)
        for child_id, child in order_items.items()
        if child.get("parent_item_id") == parent_id and not magento_bool(child.get("is_virtual"))
    ]


def qty_left(item: Mapping[str, Any]) -> Decimal:
    """Magento's quantity left to ship of an order item as Magento answers it (JSON)."""
    return qty_to_ship(
        as_qty(item.get("qty_ordered")),
        as_qty(item.get("qty_shipped")),
        as_qty(item.get("qty_refunded")),
        as_qty(item.get("qty_canceled")),
    )


@dataclass(frozen=True)
class Shortfall:
    """An item the request names for more than Magento has left to ship."""

    item_id: int
    sku: str
    wanted: Decimal
    left: Decimal
    item: Mapping[str, Any]


def shortfalls(
    items: Sequence[ShipItem], order_items: Mapping[int, Mapping[str, Any]]
) -> list[Shortfall]:
    """What Magento would trim (or refuse) in this request, from its current quantities.

    A bundle shipped together is checked on its parent and on each physical option (the
    option's share of the kits named); every other item on itself.
    """
    found: list[Shortfall] = []
    for entry in items:
        item = order_items.get(entry.order_item_id)
        if item is None:
            found.append(Shortfall(entry.order_item_id, entry.sku, entry.qty, Decimal(0), {}))
            continue
        wanted = {entry.order_item_id: entry.qty}
        if item.get("product_type") == "bundle":  # named only when shipped together
            ordered = as_qty(item.get("qty_ordered"))
            for child_id, child in _physical_children(entry.order_item_id, order_items):
                if ordered > 0:
                    wanted[child_id] = entry.qty * as_qty(child.get("qty_ordered")) / ordered
        for item_id, qty in wanted.items():
            line = order_items[item_id]
            left = qty_left(line)
            if qty > left:
                found.append(Shortfall(item_id, str(line.get("sku")), qty, left, line))
    return found


def nothing_left_to_ship(order_items: Mapping[int, Mapping[str, Any]]) -> bool:
    """True when every item that ships in Magento has nothing left (shipped, refunded, canceled).

    Bundle parents (their options tell), virtual items and configurable children (never
    moved by Magento) are left out.
    """
    for item in order_items.values():
        parent = order_items.get(item.get("parent_item_id"))  # type: ignore[arg-type]
        if magento_bool(item.get("is_virtual")) or item.get("product_type") == "bundle":
            continue
        if parent is not None and parent.get("product_type") == "configurable":
            continue
        if qty_left(item) > 0:
            return False
    return True


def compact_payload(
    items: Sequence[ShipItem], shipment: OutgoingShipment, source_code: str | None = None
) -> dict[str, Any]:
    """Body of ``POST /V1/order/{order_id}/ship`` (the customer is notified).

    ``source_code``: the MSI source whose stock the shipment deducts; without it Magento
    takes the stock's only source, else the default source.
    """
    body: dict[str, Any] = {
        "items": [
            {"order_item_id": item.order_item_id, "qty": _number(item.qty)} for item in items
        ],
        "notify": True,
        "tracks": [
            {
                "track_number": track.track_number,
                "title": track.title,
                "carrier_code": track.carrier_code,
            }
            for track in shipment.tracks
        ],
    }
    if source_code is not None:
        body["arguments"] = {"extension_attributes": {"source_code": source_code}}
    return body


def full_payload(
    items: Sequence[ShipItem],
    shipment: OutgoingShipment,
    store_id: int | None,
    source_code: str | None = None,
) -> dict[str, Any]:
    """Body of ``POST /V1/shipment`` (a ShipmentInterface document)."""
    entity: dict[str, Any] = {
        "order_id": shipment.order_id,
        "items": [
            {
                "order_item_id": item.order_item_id,
                "qty": _number(item.qty),
                "sku": item.sku,
                **({"name": item.name} if item.name else {}),
            }
            for item in items
        ],
        "tracks": [
            {
                "order_id": shipment.order_id,
                "track_number": track.track_number,
                "title": track.title,
                "carrier_code": track.carrier_code,
            }
            for track in shipment.tracks
        ],
        "total_qty": _number(sum((item.qty for item in items), Decimal(0))),
    }
    if store_id is not None:
        entity["store_id"] = store_id
    if source_code is not None:
        entity["extension_attributes"] = {"source_code": source_code}
    return {"entity": entity}


def as_qty(value: Any) -> Decimal:
    """A quantity from Magento's JSON (number, string or null; unreadable = 0)."""
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _number(qty: Decimal) -> int | float:
    return int(qty) if qty == qty.to_integral_value() else float(qty)


def _text(qty: Decimal) -> str:
    return f"{qty.normalize():f}"

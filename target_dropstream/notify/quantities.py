"""Only what Magento will ship: the order's quantities checked before a post, and the
created shipment read back after it.

Before posting, the order is read from Magento (``GET /V1/orders/{id}``, its items'
quantities only): Magento silently trims a shipment to what is left and refuses one for an
order shipped in full, so a shipment naming more than is left (shipped, refunded or canceled
outside the warehouse) is marked failed with the reason and never posted. After a post, the
created shipment is read back (``GET /V1/shipment/{id}``) and a difference from what was
recorded is kept as a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from magerest import sales
from magerest.client import MagentoAPIError
from magerest.sales import as_id
from target_dropstream.notify.magento_errors import missing_message, order_missing
from target_dropstream.notify.session import Session
from target_dropstream.notify.store_views import explain
from target_dropstream.payloads import ShipItem, Shortfall, as_qty, nothing_left_to_ship
from target_dropstream.shipment_models import OutgoingShipment

#: The fields of ``GET /V1/orders/{id}`` the pre-post check reads.
ORDER_FIELDS = (
    "entity_id,state,status,items[item_id,parent_item_id,product_id,product_type,sku,name,"
    "is_virtual,qty_ordered,qty_shipped,qty_refunded,qty_canceled]"
)


def magento_order(session: Session, shipment: OutgoingShipment) -> Mapping[str, Any] | None:
    """The order's current state and item quantities; None (marked failed) if it is gone."""
    try:
        order = sales.get_order(session.reader, shipment.order_id, ORDER_FIELDS)
    except MagentoAPIError as exc:
        if order_missing(exc):
            session.refused(shipment, missing_message(shipment, exc), posted=False)
            return None
        reason = explain(session, exc, session.settings.store_view_code)
        session.stop(shipment, f"cannot read the order from Magento: {reason}")
    if order is None:
        session.stop(shipment, "cannot read the order from Magento: the answer is not an order")
    return order


def items_by_id(order: Mapping[str, Any]) -> dict[int, Mapping[str, Any]]:
    out: dict[int, Mapping[str, Any]] = {}
    for item in order.get("items") or []:
        item_id = as_id(item.get("item_id")) if isinstance(item, Mapping) else None
        if item_id is not None:
            out[item_id] = item
    return out


def trim_reason(session: Session, shipment: OutgoingShipment, short: list[Shortfall]) -> str:
    """Why Magento would ship less than recorded, item by item; nothing is posted."""
    ours = session.store.shipments.notified_quantities(shipment.source, shipment.order_id)
    parts = [_shortfall_text(gap, ours.get(gap.item_id, Decimal(0))) for gap in short]
    return (
        f"{'; '.join(parts)}. Magento would ship less than recorded (it trims a shipment "
        "to what is left), so nothing was posted: record the shipment again under the "
        "same --key with what is left, or leave it failed if Magento is right"
    )


def nothing_left(
    session: Session,
    shipment: OutgoingShipment,
    order: Mapping[str, Any],
    refusal: str | None,
    *,
    posted: bool,
) -> None:
    """Magento has nothing left to ship on the order: fail the shipment and say why."""
    items = items_by_id(order)
    shipped = any(
        Decimal(str(item.get("qty_shipped") or 0)) > 0
        for item in items.values()
        if item.get("product_type") != "bundle"
    )
    said = f" (Magento answered: {refusal})" if refusal else ""
    if not shipped:
        session.refused(
            shipment,
            "Magento has nothing left to ship on this order: every item is refunded or "
            f"canceled in Magento{said}",
            posted=posted,
        )
        return
    reason = "already shipped in Magento: every item is shipped (or refunded/canceled) there"
    message = (
        f"{reason}, outside this warehouse's notifications{said}; the order is now "
        "marked shipped in the fulfillment store"
    )
    if not session.refused(shipment, message, posted=posted):
        return
    session.store.shipments.mark_order_shipped_in_magento(
        shipment.source,
        shipment.order_id,
        magento_status=_text_or_none(order.get("status")),
        magento_state=_text_or_none(order.get("state")),
        reason=reason,
        now=session.clock(),
    )


def refused_by_magento(session: Session, shipment: OutgoingShipment, exc: MagentoAPIError) -> None:
    """A 400 on the post: when Magento now shows the order shipped in full, say so."""
    try:
        order = sales.get_order(session.reader, shipment.order_id, ORDER_FIELDS)
    except MagentoAPIError:
        order = None
    if order is not None and nothing_left_to_ship(items_by_id(order)):
        nothing_left(session, shipment, order, str(exc), posted=True)
        return
    session.refused(shipment, str(exc))


def check_created(
    session: Session, shipment: OutgoingShipment, magento_id: int | None, items: list[ShipItem]
) -> str | None:
    """Read the new shipment back; a warning when it holds other quantities than sent."""
    if magento_id is None:
        return "Magento's answer carried no shipment id; the shipment was not read back"
    try:
        document = sales.get_shipment(session.reader, magento_id)
    except MagentoAPIError as exc:
        said = exc.magento_message or str(exc)
        return (
            f"Magento shipment {magento_id} could not be read back to check its items "
            f"(HTTP {exc.status}: {said}); grant Magento_Sales::shipment to check it"
        )
    held: dict[int, Decimal] = {}
    for entry in document.get("items") or []:
        item_id = as_id(entry.get("order_item_id")) if isinstance(entry, Mapping) else None
        if item_id is not None:
            held[item_id] = held.get(item_id, Decimal(0)) + as_qty(entry.get("qty"))
    differences = [
        f"{item.sku} {_qty_text(held.get(item.order_item_id, Decimal(0)))} "
        f"(recorded {_qty_text(item.qty)})"
        for item in items
        if held.get(item.order_item_id, Decimal(0)) != item.qty
    ]
    if not differences:
        return None
    return (
        f"Magento shipment {magento_id} holds other quantities than recorded: "
        f"{', '.join(differences)}; Magento shipped what it holds"
    )


def _shortfall_text(gap: Shortfall, ours: Decimal) -> str:
    """``Magento already shipped 1 of MH01-S-Gray outside the warehouse`` and the numbers."""
    if not gap.item:
        return f"{gap.sku}: Magento's order has no item {gap.item_id} any more"
    shipped = as_qty(gap.item.get("qty_shipped"))
    refunded = as_qty(gap.item.get("qty_refunded"))
    canceled = as_qty(gap.item.get("qty_canceled"))
    causes = []
    if shipped > ours:
        causes.append(
            f"Magento already shipped {_qty_text(shipped - ours)} of {gap.sku} "
            "outside the warehouse"
        )
    if refunded > shipped:
        causes.append(f"Magento refunded {_qty_text(refunded)} of {gap.sku}")
    if canceled > 0:
        causes.append(f"Magento canceled {_qty_text(canceled)} of {gap.sku}")
    if not causes:
        causes.append(f"Magento has less of {gap.sku} left to ship than recorded")
    numbers = (
        f"this shipment names {_qty_text(gap.wanted)}, Magento has {_qty_text(gap.left)} left "
        f"(ordered {_qty_text(as_qty(gap.item.get('qty_ordered')))}, shipped "
        f"{_qty_text(shipped)}, refunded {_qty_text(refunded)}, canceled {_qty_text(canceled)})"
    )
    return f"{'; '.join(causes)}: {numbers}"


def _qty_text(qty: Decimal) -> str:
    return f"{qty.normalize():f}"


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)

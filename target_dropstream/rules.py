"""The fulfillment rules as pure functions: no clock reads, no I/O, no database.

Orders: which lines ship, when an order is held, ready, canceled or skipped. Shipments: what
a warehouse shipment may hold, and the state it leaves the order in. Callers pass ``now``
and the stored rows in. Table-tested in ``tests/target/test_rules.py`` and
``tests/target/test_shipment_rules.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from target_dropstream.models import LineType, OrderItem
from target_dropstream.shipment_models import ShipmentError, ShipmentRequest, qty_text

NOT_SHIPPED_TYPES = frozenset({"virtual", "downloadable"})
CANCELED_MAGENTO = frozenset({"canceled", "closed"})
#: Magento statuses (and, for holded and payment_review, states) that stop an order while it
#: is in them, with why. Magento itself refuses shipments in states holded and payment_review
#: (``CanShip``); ``fraud`` is a status of state payment_review.
HOLD_STATUSES: Mapping[str, str] = {
    "holded": "the order is on hold in Magento",
    "payment_review": "payment under review",
    "fraud": "suspected fraud, payment under review",
}
#: Every Magento status an imported order can move to that stops its fulfillment: the tap
#: follows these by default (``order_follow_status``) so the target sees the change.
STOPPING_STATUSES = frozenset({*HOLD_STATUSES, *CANCELED_MAGENTO, "complete"})
_UNTIL_MOVED_BACK = "held until Magento moves it back"


class OrderState(StrEnum):
    """Where an order stands in fulfillment."""

    HELD = "held"
    READY = "ready"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELED = "canceled"
    SKIPPED = "skipped"


SHIPPED_STATES = frozenset({OrderState.SHIPPED, OrderState.PARTIALLY_SHIPPED})


@dataclass(frozen=True)
class Line:
    """A line the warehouse ships.

    ``ship_item_id`` is the Magento order item a shipment must reference. It is None for
    bundle components: the bundle parent when the bundle ships together, the component
    itself when it ships separately, and the order JSON does not say which.
    """

    item_id: int
    sku: str
    name: str | None
    qty: Decimal
    line_type: LineType
    parent_item_id: int | None
    product_type: str
    product_id: int | None
    ship_item_id: int | None


def qty_to_ship(
    ordered: Decimal, shipped: Decimal, refunded: Decimal, canceled: Decimal
) -> Decimal:
    """Magento's ``Item::getSimpleQtyToShip``: ordered - max(shipped, refunded) - canceled.

    Magento counts a refunded unit as one of the shipped ones when it can (a return), so
    12 ordered, 4 shipped and 5 refunded leave 7 to ship, not 3. Never below zero.
    """
    return max(ordered - max(shipped, refunded) - canceled, Decimal(0))


def remaining_qty(item: OrderItem) -> Decimal:
    """What Magento still lets ship of this item (see :func:`qty_to_ship`)."""
    return qty_to_ship(item.qty_ordered, item.qty_shipped, item.qty_refunded, item.qty_canceled)


def is_shipped_physically(item: OrderItem) -> bool:
    """Virtual and downloadable items never reach the warehouse."""
    return not item.is_virtual and item.product_type not in NOT_SHIPPED_TYPES


def shippable_lines(
    items: Sequence[OrderItem], *, include_bundle_parent: bool
) -> tuple[list[Line], str | None]:
    """The lines to ship and, when there are none, the reason.

    - a configurable product is one line: the parent item (its SKU is the chosen simple's);
      its child is skipped and quantities come from the parent (Magento never updates the
      child's);
    - bundle components are lines of their own, read from their own quantities; the bundle
      parent is a line only with ``include_bundle_parent``; a virtual or downloadable
      option is never a line (Magento ships the kit without it and never marks it shipped);
    - lines with nothing left to ship are dropped.
    """
    if not items:
        return [], "nothing to ship: the order has no items"
    by_id = {item.item_id: item for item in items}
    lines: list[Line] = []
    bundle_parents: list[OrderItem] = []
    physical = 0
    for item in items:
        parent = by_id.get(item.parent_item_id) if item.parent_item_id is not None else None
        if parent is not None and parent.product_type == "configurable":
            continue  # the configurable parent is the line
        if not is_shipped_physically(item):
            continue
        if item.product_type == "bundle":
            bundle_parents.append(item)  # its physical options count, not the kit itself
            continue
        physical += 1
        qty = remaining_qty(item)
        if qty <= 0:
            continue
        if parent is not None and parent.product_type == "bundle":
            lines.append(_line(item, qty, LineType.BUNDLE_COMPONENT, parent.item_id, None))
        else:
            lines.append(_line(item, qty, LineType.ITEM, item.parent_item_id, item.item_id))
    if include_bundle_parent:
        for parent in bundle_parents:
            qty = _bundle_parent_qty(parent, [line for line in lines if _child_of(line, parent)])
            if qty > 0:
                lines.append(_line(parent, qty, LineType.BUNDLE_PARENT, None, parent.item_id))
    if lines:
        order = {item.item_id: index for index, item in enumerate(items)}
        lines.sort(key=lambda line: order[line.item_id])
        return lines, None
    if physical == 0:
        return [], "nothing to ship: only virtual or downloadable items"
    return [], "nothing left to ship: every item is shipped, canceled or refunded"


def _child_of(line: Line, parent: OrderItem) -> bool:
    return line.line_type is LineType.BUNDLE_COMPONENT and line.parent_item_id == parent.item_id


def _bundle_parent_qty(parent: OrderItem, open_components: list[Line]) -> Decimal:
    """The bundle parent's quantity, trusting the components over the parent's qty_shipped.

    For a bundle shipped separately, Magento adds 1 to the parent's qty_shipped for every
    shipment that holds any component, so the parent's own remainder can read 0 while
    components are still open. No open component: nothing left. Otherwise the parent's
    remainder, or (when that reads 0) the remainder as if the parent had shipped nothing.
    """
    if not open_components:
        return Decimal(0)
    own = remaining_qty(parent)
    if own > 0:
        return own
    return qty_to_ship(parent.qty_ordered, Decimal(0), parent.qty_refunded, parent.qty_canceled)


def _line(
    item: OrderItem,
    qty: Decimal,
    line_type: LineType,
    parent_item_id: int | None,
    ship_item_id: int | None,
) -> Line:
    return Line(
        item_id=item.item_id,
        sku=item.sku,
        name=item.name,
        qty=qty,
        line_type=line_type,
        parent_item_id=parent_item_id,
        product_type=item.product_type,
        product_id=item.product_id,
        ship_item_id=ship_item_id,
    )


def release_at(placed_at: datetime, delay_minutes: int) -> datetime:
    """When a held order becomes ready: placed_at + delay, in UTC."""
    if placed_at.tzinfo is None:
        msg = "placed_at must be timezone-aware (UTC)"
        raise ValueError(msg)
    return placed_at + timedelta(minutes=delay_minutes)


def is_due(release: datetime, now: datetime) -> bool:
    """True once ``now`` has reached the release time."""
    return now >= release


def stop_reason(state: str | None, status: str | None) -> str | None:
    """Why Magento's status or state stops this order whatever the import statuses say.

    On hold, payment review and fraud: Magento refuses to ship the order until it moves it
    back, so the warehouse must not ship it either. None when neither applies.
    """
    if status in HOLD_STATUSES:
        return f"Magento status is {status!r}: {HOLD_STATUSES[status]}; {_UNTIL_MOVED_BACK}"
    if state in HOLD_STATUSES:  # a custom status assigned to state holded or payment_review
        return (
            f"Magento state is {state!r} (status {status!r}): {HOLD_STATUSES[state]}; "
            f"{_UNTIL_MOVED_BACK}"
        )
    return None


def status_hold_reason(status: str | None, import_statuses: Iterable[str]) -> str | None:
    """Why an order with this Magento status must not be released, or None when it may."""
    stop = stop_reason(None, status)
    if stop is not None:
        return stop
    if status is None:
        return (
            "Magento status is empty (NULL): Magento clears it when a comment is added "
            "without a status; held until Magento sets a status again"
        )
    allowed = tuple(import_statuses)
    if status in allowed:
        return None
    return (
        f"Magento status is {status!r}, not an import status ({', '.join(allowed)}): "
        f"{_UNTIL_MOVED_BACK}"
    )


def hold_reason(
    state: str | None, status: str | None, import_statuses: Iterable[str]
) -> str | None:
    """Why an order in this Magento state and status must stay held, or None when it may go."""
    return stop_reason(state, status) or status_hold_reason(status, import_statuses)


def is_canceled_in_magento(state: str | None, status: str | None) -> bool:
    """Canceled or closed (fully refunded) orders are not fulfilled."""
    return state in CANCELED_MAGENTO or status in CANCELED_MAGENTO


@dataclass(frozen=True)
class Decision:
    """The state an order should be in and why (reason is None when nothing to explain)."""

    state: OrderState
    reason: str | None = None


def decide_state(
    *,
    previous: OrderState | None,
    magento_state: str | None,
    magento_status: str | None,
    import_statuses: Iterable[str],
    skip_reason: str | None,
    release: datetime,
    now: datetime,
) -> Decision:
    """The fulfillment state for an order the stream (re)delivered.

    Order of precedence: shipped/partially shipped stay as they are; canceled or closed in
    Magento means canceled; nothing to ship means skipped (with the reason); on hold,
    payment review, fraud, an empty status or a status outside the import statuses holds
    it; an order already released stays ready; otherwise it is held until due.
    """
    if previous in SHIPPED_STATES:
        return Decision(previous)
    if is_canceled_in_magento(magento_state, magento_status):
        return Decision(OrderState.CANCELED, f"Magento order is {magento_status or magento_state}")
    if skip_reason is not None:
        return Decision(OrderState.SKIPPED, skip_reason)
    hold = hold_reason(magento_state, magento_status, import_statuses)
    if hold is not None:
        return Decision(OrderState.HELD, hold)
    if previous is OrderState.READY or is_due(release, now):
        return Decision(OrderState.READY)
    return Decision(OrderState.HELD)


def should_apply(stored_updated_at: datetime | None, incoming_updated_at: datetime) -> bool:
    """An older Magento ``updated_at`` never overwrites a newer one (equal = replay, applied)."""
    return stored_updated_at is None or incoming_updated_at >= stored_updated_at


def refreshes_content(previous: OrderState | None) -> bool:
    """Address and lines follow Magento until the warehouse has shipped something."""
    return previous not in SHIPPED_STATES


def recheck_decision(
    *, magento_state: str | None, magento_status: str | None, import_statuses: Iterable[str]
) -> Decision:
    """What a held order coming due becomes after asking Magento for its current status."""
    if is_canceled_in_magento(magento_state, magento_status):
        return Decision(OrderState.CANCELED, f"Magento order is {magento_status or magento_state}")
    hold = hold_reason(magento_state, magento_status, import_statuses)
    if hold is not None:
        return Decision(OrderState.HELD, hold)
    return Decision(OrderState.READY)


# Shipments --------------------------------------------------------------------------------


def plan_shipment(
    request: ShipmentRequest,
    lines: Sequence[Mapping[str, Any]],
    shipped: Mapping[int, Decimal],
    label: str,
) -> dict[int, Decimal]:
    """Line quantities (by item id) for the request, never more than may still be recorded.

    ``lines`` are the order's stored lines; ``shipped`` what the warehouse's shipments
    already hold per line. A line's ``qty`` is what Magento left to ship when the order was
    last read (:func:`qty_to_ship`); every shipment the warehouse recorded since comes on
    top of Magento's shipped count and never overlaps its refunds, so what is left is
    ``qty`` minus those shipments. Bundle parents are never shipped by themselves, and
    virtual options are not lines at all.

    Raises:
        ShipmentError: nothing left, an unknown SKU or a bundle's own, or over-shipping.
    """
    shippable = [line for line in lines if line["line_type"] != LineType.BUNDLE_PARENT.value]
    left = {
        line["item_id"]: line["qty"] - shipped.get(line["item_id"], Decimal(0))
        for line in shippable
    }
    if request.lines is None:
        planned = {item_id: qty for item_id, qty in left.items() if qty > 0}
        if not planned:
            raise ShipmentError(
                f"order {label}: nothing left to ship (every line is shipped or recorded "
                "in a shipment already)"
            )
        return planned
    planned: dict[int, Decimal] = {}
    for sku, qty in request.lines:
        if qty <= 0:
            raise ShipmentError(f"order {label}: quantity for SKU {sku} must be above 0", sku=sku)
        matching = [line for line in lines if line["sku"] == sku] or [
            line for line in lines if line["sku"].lower() == sku.lower()
        ]
        if not matching:
            skus = ", ".join(sorted({line["sku"] for line in shippable}))
            raise ShipmentError(
                f"order {label}: unknown SKU {sku} (lines to ship: {skus or 'none'})", sku=sku
            )
        if all(line["line_type"] == LineType.BUNDLE_PARENT.value for line in matching):
            bundles = {m["item_id"] for m in matching}
            components = ", ".join(
                line["sku"] for line in lines if line["parent_item_id"] in bundles
            )
            raise ShipmentError(
                f"order {label}: {sku} is a bundle; ship its components instead ({components})",
                sku=sku,
            )
        need = qty
        for line in matching:
            if line["line_type"] == LineType.BUNDLE_PARENT.value:
                continue
            free = left[line["item_id"]] - planned.get(line["item_id"], Decimal(0))
            take = min(free, need)
            if take > 0:
                planned[line["item_id"]] = planned.get(line["item_id"], Decimal(0)) + take
                need -= take
            if need <= 0:
                break
        if need > 0:
            raise ShipmentError(
                f"order {label}: over-shipping SKU {sku}: {qty_text(qty)} requested but only "
                f"{qty_text(qty - need)} left to ship (pending shipments included)",
                sku=sku,
            )
    return planned


def state_after_shipment(
    lines: Sequence[Mapping[str, Any]],
    shipped: Mapping[int, Decimal],
    planned: Mapping[int, Decimal],
) -> OrderState:
    """Shipped when the earlier shipments and this one leave nothing on any line."""
    left = sum(
        (line["qty"] - shipped.get(line["item_id"], 0) - planned.get(line["item_id"], 0))
        for line in lines
        if line["line_type"] != LineType.BUNDLE_PARENT.value
    )
    return OrderState.SHIPPED if left <= 0 else OrderState.PARTIALLY_SHIPPED


def state_when_shipped_in_magento(state: str) -> OrderState | None:
    """Magento shows every item shipped: the order is shipped, unless it is canceled (None)."""
    return None if state == OrderState.CANCELED.value else OrderState.SHIPPED

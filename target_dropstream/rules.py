"""The fulfillment rules as pure functions: no clock reads, no I/O, no database.

Callers pass ``now`` in. Everything here is table-tested in ``tests/target/test_rules.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from target_dropstream.models import OrderItem

NOT_SHIPPED_TYPES = frozenset({"virtual", "downloadable"})
CANCELED_MAGENTO = frozenset({"canceled", "closed"})


class OrderState(StrEnum):
    """Where an order stands in fulfillment."""

    HELD = "held"
    READY = "ready"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELED = "canceled"
    SKIPPED = "skipped"


SHIPPED_STATES = frozenset({OrderState.SHIPPED, OrderState.PARTIALLY_SHIPPED})


class LineType(StrEnum):
    """Why a line is in the order: a plain item, or part of a bundle."""

    ITEM = "item"
    BUNDLE_PARENT = "bundle_parent"
    BUNDLE_COMPONENT = "bundle_component"


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


def remaining_qty(item: OrderItem) -> Decimal:
    """Ordered minus canceled, refunded and already shipped (never below zero)."""
    left = item.qty_ordered - item.qty_canceled - item.qty_refunded - item.qty_shipped
    return max(left, Decimal(0))


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
      parent is a line only with ``include_bundle_parent``;
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
        physical += 1
        if item.product_type == "bundle":
            bundle_parents.append(item)
            continue
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
    remainder, or (when that reads 0) ordered - canceled - refunded.
    """
    if not open_components:
        return Decimal(0)
    own = remaining_qty(parent)
    if own > 0:
        return own
    return max(parent.qty_ordered - parent.qty_canceled - parent.qty_refunded, Decimal(0))


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


def status_hold_reason(status: str | None, import_statuses: Iterable[str]) -> str | None:
    """Why an order with this Magento status must not be released, or None when it may."""
    allowed = tuple(import_statuses)
    if status in allowed:
        return None
    return (
        f"Magento status is {status!r}, not an import status ({', '.join(allowed)}): "
        "held until Magento moves it back"
    )


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
    Magento means canceled; nothing to ship means skipped (with the reason); a status
    outside the import statuses holds it; an order already released stays ready; otherwise
    it is held until due.
    """
    if previous in SHIPPED_STATES:
        return Decision(previous)
    if is_canceled_in_magento(magento_state, magento_status):
        return Decision(OrderState.CANCELED, f"Magento order is {magento_status or magento_state}")
    if skip_reason is not None:
        return Decision(OrderState.SKIPPED, skip_reason)
    hold = status_hold_reason(magento_status, import_statuses)
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
    hold = status_hold_reason(magento_status, import_statuses)
    if hold is not None:
        return Decision(OrderState.HELD, hold)
    return Decision(OrderState.READY)

"""What reading an open order back from Magento changes in the store. Pure: no I/O.

Magento never bumps ``sales_order.updated_at`` for an address edit, a partial shipment the
merchant makes while the order stays processing, or a comment that keeps (or clears) the
status, so the stream never delivers those changes. The re-check reads the order again
and applies what Magento shows now:

- held (coming due) and ready orders are rebuilt exactly as a load of that order would
  build them (``rows.order_rows``): address, lines from Magento's quantities left to ship
  (``rules.remaining_qty``), and the state from its status (canceled, held with the
  reason, ready). Nothing left because Magento shipped it all: ``shipped``;
- partially shipped orders keep their lines and the warehouse's shipments; the address is
  refreshed and each line's quantity becomes what Magento still lets ship plus what the
  warehouse already notified (Magento counts those as shipped), so what Magento shipped
  by itself is taken off. Nothing left for the warehouse: ``shipped``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from target_dropstream import rules
from target_dropstream.models import LineType, Order
from target_dropstream.rules import OrderState
from target_dropstream.store.rows import LoadPolicy, order_rows

#: States the re-check may change. Shipped, canceled and skipped orders are final for it.
RECHECKED_STATES = frozenset(
    {OrderState.HELD.value, OrderState.READY.value, OrderState.PARTIALLY_SHIPPED.value}
)
NOT_FOUND = "not found in Magento on re-check (deleted?): held until it is found again"
SHIPPED_IN_MAGENTO = "Magento shows every item shipped: shipped outside the warehouse"
ADDRESS_COLUMNS = (
    "ship_to_name",
    "ship_to_company",
    "ship_to_street",
    "ship_to_city",
    "ship_to_region",
    "ship_to_postcode",
    "ship_to_country",
    "ship_to_phone",
    "ship_to_email",
    "shipping_method",
)


@dataclass(frozen=True)
class Recorded:
    """The warehouse's shipments of one order, summed per line (item id)."""

    all: Mapping[int, Decimal]  # pending, notified and failed: physically shipped
    notified: Mapping[int, Decimal]  # already in Magento's qty_shipped


@dataclass(frozen=True)
class Change:
    """What to write for one order.

    ``row`` holds the order columns to set; ``lines`` replaces every line when not None;
    ``line_qty`` sets the quantity of existing lines (partially shipped orders).
    """

    state: str
    row: dict[str, Any]
    lines: list[dict[str, Any]] | None = None
    line_qty: dict[int, Decimal] | None = None
    address_changed: bool = False
    lines_reduced: bool = False


def plan_change(
    stored: Mapping[str, Any],
    current: Order | None,
    *,
    stored_lines: Sequence[Mapping[str, Any]],
    recorded: Recorded,
    policy: LoadPolicy,
    now: datetime,
) -> Change | None:
    """The change Magento's current view of ``stored`` calls for; None to leave it alone.

    ``current`` is None when Magento did not return the order.
    """
    state = stored["state"]
    if state not in RECHECKED_STATES:
        return None
    if current is None:
        if state == OrderState.PARTIALLY_SHIPPED.value:
            return None  # part of it is shipped: keep it; the report names it
        return Change(
            OrderState.HELD.value,
            {"state": OrderState.HELD.value, "state_reason": NOT_FOUND, "released_at": None},
        )
    if not rules.should_apply(stored["magento_updated_at"], current.updated_at):
        return None  # the store already holds a newer version than this read
    if state == OrderState.PARTIALLY_SHIPPED.value:
        return _partially_shipped(stored, current, stored_lines, recorded, policy, now)
    return _reloaded(stored, current, stored_lines, policy, now)


def _reloaded(
    stored: Mapping[str, Any],
    current: Order,
    stored_lines: Sequence[Mapping[str, Any]],
    policy: LoadPolicy,
    now: datetime,
) -> Change:
    row, lines = order_rows(current, stored, policy=policy, now=now)
    if row["state"] == OrderState.SKIPPED.value and _all_shipped_in_magento(current):
        row.update(state=OrderState.SHIPPED.value, state_reason=SHIPPED_IN_MAGENTO)
    row["rechecked_at"] = now
    new_lines = lines or []
    return Change(
        row["state"],
        row,
        lines=new_lines,
        address_changed=_address_changed(stored, row),
        lines_reduced=_reduced(stored_lines, {line["item_id"]: line["qty"] for line in new_lines}),
    )


def _partially_shipped(
    stored: Mapping[str, Any],
    current: Order,
    stored_lines: Sequence[Mapping[str, Any]],
    recorded: Recorded,
    policy: LoadPolicy,
    now: datetime,
) -> Change:
    fresh, fresh_lines = order_rows(current, None, policy=policy, now=now)
    left_in_magento = {line["item_id"]: line["qty"] for line in fresh_lines or []}
    line_qty = {
        line["item_id"]: left_in_magento.get(line["item_id"], Decimal(0))
        + recorded.notified.get(line["item_id"], Decimal(0))
        for line in stored_lines
    }
    left_for_warehouse = sum(
        (
            max(line_qty[line["item_id"]] - recorded.all.get(line["item_id"], Decimal(0)), 0)
            for line in stored_lines
            if line["line_type"] != LineType.BUNDLE_PARENT.value
        ),
        Decimal(0),
    )
    row: dict[str, Any] = {
        column: fresh[column] for column in ("magento_status", "magento_state", *ADDRESS_COLUMNS)
    }
    row.update(magento_updated_at=current.updated_at, rechecked_at=now, updated_at=now)
    if rules.is_canceled_in_magento(current.state, current.status):
        stop: str | None = f"Magento order is {current.status or current.state}"
    else:
        stop = rules.hold_reason(current.state, current.status, policy.import_statuses)
    if left_for_warehouse <= 0:
        row.update(
            state=OrderState.SHIPPED.value,
            state_reason="nothing left to ship in Magento (shipped, refunded or canceled there)",
        )
    elif stop is not None:
        # The warehouse has shipped part of it: the state stays, the reason tells it to stop.
        row["state_reason"] = f"{stop}: do not ship the rest"
    else:
        row["state_reason"] = None
    return Change(
        row.get("state", OrderState.PARTIALLY_SHIPPED.value),
        row,
        line_qty=line_qty,
        address_changed=_address_changed(stored, row),
        lines_reduced=_reduced(stored_lines, line_qty),
    )


def _all_shipped_in_magento(order: Order) -> bool:
    """Nothing left to ship and Magento shipped at least one physical unit."""
    return any(item.qty_shipped > 0 and rules.is_shipped_physically(item) for item in order.items)


def _address_changed(stored: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    return any(stored.get(column) != row.get(column) for column in ADDRESS_COLUMNS)


def _reduced(stored_lines: Sequence[Mapping[str, Any]], new_qty: Mapping[int, Decimal]) -> bool:
    return any(
        Decimal(str(new_qty.get(line["item_id"], 0))) < Decimal(str(line["qty"]))
        for line in stored_lines
    )

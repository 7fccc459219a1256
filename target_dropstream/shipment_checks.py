"""Whether a warehouse shipment may be recorded now. Pure: stored rows in, an error out.

Two checks guard recording, next to the planning in ``rules`` (``plan_shipment``): the
order's state must let it ship, and a shipment already recorded under the same key may take
new content only while Magento cannot have it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_dropstream.rules import OrderState, stop_reason
from target_dropstream.shipment_models import ShipmentError

#: Order states a warehouse shipment may be recorded in.
SHIPPABLE_STATES = frozenset(
    {OrderState.READY.value, OrderState.PARTIALLY_SHIPPED.value, OrderState.SHIPPED.value}
)


def check_shippable(order: Mapping[str, Any], label: str) -> None:
    """Raise :class:`ShipmentError` when the stored order (a row) must not ship now."""
    state = order["state"]
    if state in SHIPPABLE_STATES:
        # A partly shipped order keeps its state when Magento holds it; Magento then refuses
        # its shipments, so the warehouse must not ship more until Magento moves it back.
        stop = stop_reason(order["magento_state"], order["magento_status"])
        if stop is not None:
            raise ShipmentError(f"order {label} cannot ship now: {stop}")
        return
    reason = order["state_reason"]
    if state == OrderState.HELD.value:
        why = reason or f"held until {order['release_at'].isoformat()}"
        msg = f"order {label} is held and cannot ship yet: {why}"
    elif state == OrderState.CANCELED.value:
        msg = f"order {label} is canceled and cannot ship" + (f": {reason}" if reason else "")
    else:
        msg = f"order {label} was skipped and cannot ship" + (f": {reason}" if reason else "")
    raise ShipmentError(msg)


def check_replaceable(existing: Mapping[str, Any], key: str) -> None:
    """Raise :class:`ShipmentError` unless the recorded shipment (a row) may get new content.

    A failed one may, and a pending one never posted; one Magento has, or one whose last
    post lost its answer, may not.
    """
    state = existing["state"]
    if state == "notified":
        msg = (
            f"shipment {key} was already sent to Magento (shipment "
            f"{existing['magento_shipment_id']}) with different content: record further "
            "shipped items under a new key"
        )
        raise ShipmentError(msg)
    if state != "failed" and existing["attempts"]:
        msg = (
            f"shipment {key} is being sent to Magento (the last answer was lost): run "
            "`dropstream notify` first; it is recorded with different content"
        )
        raise ShipmentError(msg)

"""Turn a Magento order into fulfillment_orders / fulfillment_lines rows, applying the rules.

Pure: the stored row (or None) and ``now`` come in, the rows to write go out. The store
does the reading and writing around it in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from target_dropstream import rules
from target_dropstream.models import Order
from target_dropstream.rules import OrderState


@dataclass(frozen=True)
class LoadPolicy:
    """The settings the load rules depend on."""

    source: str
    delay_minutes: int = 0
    include_bundle_parent: bool = False
    import_statuses: tuple[str, ...] = ("processing",)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def raw_json(record: Any) -> str:
    """A record as canonical JSON text (sorted keys) for rejected_records."""
    return json.dumps(record, sort_keys=True, default=_json_default, ensure_ascii=False)


def order_rows(
    order: Order, stored: Mapping[str, Any] | None, *, policy: LoadPolicy, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """The new order row and, when content is refreshed, its new lines."""
    previous = OrderState(stored["state"]) if stored is not None else None
    lines, skip_reason = rules.shippable_lines(
        order.items, include_bundle_parent=policy.include_bundle_parent
    )
    release = rules.release_at(order.placed_at, policy.delay_minutes)
    decision = rules.decide_state(
        previous=previous,
        magento_state=order.state,
        magento_status=order.status,
        import_statuses=policy.import_statuses,
        skip_reason=skip_reason,
        release=release,
        now=now,
    )
    magento = {
        "magento_status": order.status,
        "magento_state": order.state,
        "magento_updated_at": order.updated_at,
        "updated_at": now,
    }
    if stored is not None and not rules.refreshes_content(previous):
        return {**stored, **magento}, None
    if decision.state is OrderState.READY:
        released_at = stored.get("released_at") if previous is OrderState.READY else now
    else:
        released_at = None
    to = order.ship_to
    row = {
        "source": policy.source,
        "order_id": order.order_id,
        "increment_id": order.increment_id,
        "store_id": order.store_id,
        "placed_at": order.placed_at,
        "release_at": release,
        "state": decision.state.value,
        "state_reason": decision.reason,
        "ship_to_name": to.name,
        "ship_to_company": to.company,
        "ship_to_street": to.street,
        "ship_to_city": to.city,
        "ship_to_region": to.region,
        "ship_to_postcode": to.postcode,
        "ship_to_country": to.country,
        "ship_to_phone": to.phone,
        "ship_to_email": to.email,
        "shipping_method": order.shipping_method,
        "released_at": released_at,
        "created_at": stored["created_at"] if stored is not None else now,
        **magento,
    }
    line_rows = [
        {
            "source": policy.source,
            "order_id": order.order_id,
            "item_id": line.item_id,
            "sku": line.sku,
            "name": line.name,
            "qty": line.qty,
            "line_type": line.line_type.value,
            "parent_item_id": line.parent_item_id,
            "product_type": line.product_type,
            "product_id": line.product_id,
            "ship_item_id": line.ship_item_id,
        }
        for line in lines
    ]
    return row, line_rows

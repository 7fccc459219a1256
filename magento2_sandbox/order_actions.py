"""Admin sales actions: ``POST /V1/order/{id}/invoice``, ``/V1/order/{id}/refund`` and
``/V1/orders/{id}/hold|unhold|cancel``, with Magento's validation and effects.

Each one writes the order row, so ``updated_at`` moves (reference §9.4). Invoices and credit
memos are the documents :mod:`.sales_documents` derives from the order (one per order, id =
the order's id), so the id answered here is the one ``GET /V1/invoices/{id}`` and
``GET /V1/creditmemo/{id}`` serve. Quantities follow the seed's conventions: a configurable's
child line is a dummy (never invoiced, refunded or canceled), a bundle's lines all move with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MagentoError, entity_not_found
from .order_items import money
from .ship_rules import update_state

if TYPE_CHECKING:
    from .data import SandboxData
    from .endpoints import Call

INVOICE_ERRORS = "Invoice Document Validation Error(s):\n"
INVOICE_BAD_STATE = "An invoice cannot be created when an order has a status of %s"
CANNOT_INVOICE = "The order does not allow an invoice to be created."
NO_INVOICE_ITEMS = "You can't create an invoice without products."
CREDITMEMO_ERRORS = "Creditmemo Document Validation Error(s):\n"
CREDITMEMO_BAD_STATE = "A creditmemo can not be created when an order has a status of %s"
CANNOT_REFUND = "The order does not allow a creditmemo to be created."
NOT_IN_ORDER = "The creditmemo contains product item that is not part of the original order."
TOO_MUCH_REFUND = (
    "The quantity to creditmemo must not be greater than the unrefunded quantity"
    ' for product SKU "%s".'
)
NOT_POSITIVE = "The credit memo's total must be positive."
HOLD_NOT_AVAILABLE = "A hold action is not available."
CANNOT_UNHOLD = "You cannot remove the hold."
NOT_INVOICEABLE_STATES = ("payment_review", "holded", "canceled", "complete", "closed")
NOT_REFUNDABLE_STATES = ("payment_review", "holded", "canceled", "closed")
NOT_HOLDABLE_STATES = ("payment_review", "holded", "canceled", "complete", "closed")


def _order(call: Call) -> tuple[int, dict[str, Any]]:
    entity_id = call.int_param("id")
    data = call.app.data
    if not data.exists(entity_id):
        raise entity_not_found()
    return entity_id, data.editable_order(entity_id)


def _is_dummy(item: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> bool:
    parent = by_id.get(item.get("parent_item_id"))
    return parent is not None and parent["product_type"] == "configurable"


def _requested(body: Any) -> dict[int, float]:
    out: dict[int, float] = {}
    for entry in (body.get("items") if isinstance(body, dict) else None) or []:
        try:
            item_id, qty = int(entry["order_item_id"]), float(entry["qty"])
        except (KeyError, TypeError, ValueError):
            continue
        out[item_id] = out.get(item_id, 0) + qty
    return out


def _with_children(order: dict[str, Any], plan: dict[int, float], left: Any) -> dict[int, float]:
    """A bundle parent's share carries its children; each quantity capped by ``left``."""
    items = order["items"]
    by_id = {i["item_id"]: i for i in items}
    out = dict(plan)
    for item in items:
        parent = by_id.get(item.get("parent_item_id"))
        if parent is None or parent["item_id"] not in plan or _is_dummy(item, by_id):
            continue
        share = plan[parent["item_id"]] / max(float(parent["qty_ordered"]), 1)
        out.setdefault(item["item_id"], min(float(item["qty_ordered"]) * share, left(item)))
    return {k: v for k, v in out.items() if v > 0}


def _share(item: dict[str, Any], qty: float, key: str) -> float:
    ordered = float(item.get("qty_ordered") or 0)
    return float(item.get(key) or 0) * qty / ordered if ordered else 0.0


def _top_amount(order: dict[str, Any], plan: dict[int, float]) -> float:
    """Row totals and tax of the top-level lines in ``plan`` (children are inside them)."""
    return sum(
        _share(i, plan[i["item_id"]], "row_total") + _share(i, plan[i["item_id"]], "tax_amount")
        for i in order["items"]
        if i["item_id"] in plan and "parent_item_id" not in i
    )


def _commit(data: SandboxData, entity_id: int, order: dict[str, Any]) -> None:
    by_id = {i["item_id"]: i for i in order["items"]}
    for item in order["items"]:  # children embed their parent as it is now
        parent = by_id.get(item.get("parent_item_id"))
        if parent is not None:
            item["parent_item"] = dict(sorted(parent.items()))
    order["extension_attributes"]["shipping_assignments"][0]["items"] = order["items"]
    data.commit_order(entity_id, order)


# -- invoice --------------------------------------------------------------------------------------


def _qty_to_invoice(item: dict[str, Any]) -> float:
    left = item["qty_ordered"] - item.get("qty_invoiced", 0) - item.get("qty_canceled", 0)
    return max(float(left), 0.0)


def invoice(call: Call) -> tuple[int, Any]:
    """``InvoiceOrderInterface::execute``: invoice (and capture) the order; the invoice id."""
    data = call.app.data
    body = call.json_body()
    with data.lock:
        entity_id, order = _order(call)
        by_id = {i["item_id"]: i for i in order["items"]}
        requested = _requested(body)
        top = [i for i in order["items"] if "parent_item_id" not in i]
        if requested:
            wanted = {
                k: min(v, _qty_to_invoice(by_id[k])) for k, v in requested.items() if k in by_id
            }
        else:
            wanted = {i["item_id"]: _qty_to_invoice(i) for i in top}
        plan = _with_children(order, {k: v for k, v in wanted.items() if v > 0}, _qty_to_invoice)
        messages = []
        if order.get("state") in NOT_INVOICEABLE_STATES:
            messages.append(INVOICE_BAD_STATE % order.get("status"))
        elif not any(_qty_to_invoice(i) > 0 for i in top):
            messages.append(CANNOT_INVOICE)
        if not plan:
            messages.append(NO_INVOICE_ITEMS)
        if messages:
            raise MagentoError(400, INVOICE_ERRORS + "\n".join(messages))
        amount = _top_amount(order, plan)
        if not order.get("shipping_invoiced"):
            amount += float(order.get("shipping_amount") or 0)
            order["shipping_invoiced"] = order["base_shipping_invoiced"] = order.get(
                "shipping_amount", 0
            )
        for item_id, qty in plan.items():
            item = by_id[item_id]
            item["qty_invoiced"] = money(float(item.get("qty_invoiced", 0)) + qty)
            for key, source in (("row_invoiced", "row_total"), ("tax_invoiced", "tax_amount")):
                item[key] = money(float(item.get(key) or 0) + _share(item, qty, source))
                item[f"base_{key}"] = item[key]
        if all(_qty_to_invoice(i) <= 0 for i in top):  # fully invoiced: exact totals
            amount = float(order["grand_total"]) - float(order.get("total_invoiced") or 0)
        invoiced = money(float(order.get("total_invoiced") or 0) + amount)
        for key in ("total_invoiced", "base_total_invoiced", "total_paid", "base_total_paid"):
            order[key] = invoiced
        due = money(max(float(order["grand_total"]) - float(invoiced), 0))
        order["total_due"] = order["base_total_due"] = due
        order["payment"]["amount_paid"] = order["payment"]["base_amount_paid"] = invoiced
        update_state(order, data.catalog)
        _commit(data, entity_id, order)
    return 200, entity_id


# -- refund ---------------------------------------------------------------------------------------


def _qty_to_refund(item: dict[str, Any]) -> float:
    return max(float(item.get("qty_invoiced", 0)) - float(item.get("qty_refunded", 0)), 0.0)


def refund(call: Call) -> tuple[int, Any]:
    """``RefundOrderInterface::execute``: an offline credit memo; its id."""
    data = call.app.data
    body = call.json_body()
    arguments = (body.get("arguments") if isinstance(body, dict) else None) or {}
    with data.lock:
        entity_id, order = _order(call)
        by_id = {i["item_id"]: i for i in order["items"]}
        requested = _requested(body)
        messages = []
        if order.get("state") in NOT_REFUNDABLE_STATES:
            messages.append(CREDITMEMO_BAD_STATE % order.get("status"))
        elif (
            abs(float(order.get("total_paid") or 0) - float(order.get("total_refunded") or 0))
            < 1e-4
        ):
            messages.append(CANNOT_REFUND)
        for item_id, qty in requested.items():
            item = by_id.get(item_id)
            if item is None:
                messages.append(NOT_IN_ORDER)
            elif qty > _qty_to_refund(item) and not _is_dummy(item, by_id):
                messages.append(TOO_MUCH_REFUND % item["sku"])
        if not requested:
            requested = {
                i["item_id"]: _qty_to_refund(i) for i in order["items"] if "parent_item_id" not in i
            }
        plan = _with_children(
            order, {k: v for k, v in requested.items() if k in by_id and v > 0}, _qty_to_refund
        )
        shipping_left = float(order.get("shipping_invoiced") or order.get("shipping_amount") or 0)
        shipping_left -= float(order.get("shipping_refunded") or 0)
        shipping = float(arguments.get("shipping_amount", shipping_left))
        amount = _top_amount(order, plan) + shipping
        if not messages and amount <= 0:
            messages.append(NOT_POSITIVE)
        if messages:
            raise MagentoError(400, CREDITMEMO_ERRORS + "\n".join(messages))
        for item_id, qty in plan.items():
            item = by_id[item_id]
            item["qty_refunded"] = money(float(item.get("qty_refunded", 0)) + qty)
            refunded = float(item.get("amount_refunded") or 0) + _share(item, qty, "row_total")
            item["amount_refunded"] = item["base_amount_refunded"] = money(refunded)
        order["shipping_refunded"] = order["base_shipping_refunded"] = money(
            float(order.get("shipping_refunded") or 0) + shipping
        )
        total = min(float(order.get("total_refunded") or 0) + amount, float(order["total_paid"]))
        for key in ("total_refunded", "base_total_refunded", "total_offline_refunded"):
            order[key] = money(total)
        order["payment"]["amount_refunded"] = order["payment"]["base_amount_refunded"] = money(
            total
        )
        if float(order["total_paid"]) - total < 1e-4:  # canCreditmemo() is false: closed
            order["state"] = order["status"] = "closed"
        else:
            update_state(order, data.catalog)
        _commit(data, entity_id, order)
    return 200, entity_id


# -- hold, unhold, cancel -------------------------------------------------------------------------


def hold(call: Call) -> tuple[int, Any]:
    """``OrderManagementInterface::hold`` (``Order::hold``): true, or 400 when not allowed."""
    data = call.app.data
    with data.lock:
        entity_id, order = _order(call)
        if order.get("state") in NOT_HOLDABLE_STATES:
            raise MagentoError(400, HOLD_NOT_AVAILABLE)
        order["hold_before_state"] = order.get("state")
        order["hold_before_status"] = order.get("status")
        order["state"] = order["status"] = "holded"
        _commit(data, entity_id, order)
    return 200, True


def unhold(call: Call) -> tuple[int, Any]:
    """``Order::unhold``: back to the state and status it had before the hold."""
    data = call.app.data
    with data.lock:
        entity_id, order = _order(call)
        if order.get("state") != "holded":
            raise MagentoError(400, CANNOT_UNHOLD)
        # A seeded held order has no hold_before_*: it was invoiced, so processing.
        order["state"] = order.pop("hold_before_state", None) or "processing"
        order["status"] = order.pop("hold_before_status", None) or order["state"]
        _commit(data, entity_id, order)
    return 200, True


def cancel(call: Call) -> tuple[int, Any]:
    """``OrderManagementInterface::cancel``: true when canceled, false when it cannot be.

    ``Order::canCancel`` refuses held, fully invoiced, canceled, complete and closed orders;
    each line's ``qty_canceled`` becomes what was neither invoiced nor shipped, and the
    stock reservations are compensated.
    """
    data = call.app.data
    with data.lock:
        entity_id, order = _order(call)
        by_id = {i["item_id"]: i for i in order["items"]}
        top = [i for i in order["items"] if "parent_item_id" not in i]
        if order.get("state") in ("holded", "canceled", "complete", "closed", "payment_review"):
            return 200, False
        if not any(_qty_to_invoice(i) > 0 for i in top):
            return 200, False
        canceled_total = 0.0
        for item in order["items"]:
            if _is_dummy(item, by_id):
                continue
            left = min(_qty_to_invoice(item), item["qty_ordered"] - item.get("qty_shipped", 0))
            item["qty_canceled"] = money(float(item.get("qty_canceled", 0)) + max(left, 0))
            if "parent_item_id" not in item:
                canceled_total += _share(item, max(left, 0), "row_total")
        for item in order["items"]:  # give back what was reserved and is not coming
            source = by_id.get(item.get("parent_item_id")) if _is_dummy(item, by_id) else item
            if item["product_type"] in ("simple", "virtual", "downloadable") and source:
                data.catalog.reserve(item["sku"], -float(source.get("qty_canceled", 0)))
        order["subtotal_canceled"] = order["base_subtotal_canceled"] = money(canceled_total)
        order["total_canceled"] = order["base_total_canceled"] = money(
            float(order["grand_total"]) - float(order.get("total_invoiced") or 0)
        )
        order["state"] = order["status"] = _state_after_cancel(order, by_id)
        _commit(data, entity_id, order)
    return 200, True


def _state_after_cancel(order: dict[str, Any], by_id: dict[int, dict[str, Any]]) -> str:
    """``Order::registerCancellation``: canceled, unless invoiced lines remain to refund
    (then processing while they still ship, else complete)."""
    billed = [
        i
        for i in order["items"]
        if not _is_dummy(i, by_id) and _qty_to_refund(i) > 0 and not i.get("is_virtual")
    ]
    if not billed:
        return "canceled"
    to_ship = any(float(i.get("qty_invoiced", 0)) > float(i.get("qty_shipped", 0)) for i in billed)
    return "processing" if to_ship else "complete"

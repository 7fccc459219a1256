"""Invoices, shipments and credit memos tied to the sandbox's orders, and their list endpoints.

Documents are derived from the orders as they are now, so they follow every change made
through the sandbox: an invoice for each order with invoiced items, a shipment for each
order seeded as shipped (complete) unless it was shipped through
``POST /V1/order/{id}/ship`` (those shipments are stored by ``shipping`` and listed as
they are), and a credit memo for each order with refunded items (see
:func:`refund_order`). A derived document carries its order's ``updated_at`` as its own
``created_at``/``updated_at``. The lists answer searchCriteria with the same semantics as
``GET /V1/orders``.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import entity_not_found
from .query import SALES_SHIPMENT_COLUMNS
from .search_answer import search_answer

if TYPE_CHECKING:
    from .data import SandboxData
    from .endpoints import Call

#: Seeded shipments are numbered after this, so they never collide with posted ones.
SEEDED_SHIPMENT_ID_BASE = 1_000_000

_TOTALS = """
    base_discount_amount base_grand_total base_discount_tax_compensation_amount
    base_shipping_amount base_shipping_discount_tax_compensation_amnt base_shipping_incl_tax
    base_shipping_tax_amount base_subtotal base_subtotal_incl_tax base_tax_amount
    base_to_global_rate base_to_order_rate discount_amount grand_total
    discount_tax_compensation_amount shipping_amount shipping_incl_tax shipping_tax_amount
    store_to_base_rate store_to_order_rate subtotal subtotal_incl_tax tax_amount
    base_currency_code global_currency_code order_currency_code store_currency_code
""".split()  # noqa: SIM905
SALES_INVOICE_COLUMNS = frozenset(
    [
        *_TOTALS,
        *"""
        entity_id store_id total_qty billing_address_id is_used_for_refund order_id email_sent
        send_email can_void_flag state shipping_address_id transaction_id increment_id
        created_at updated_at shipping_discount_tax_compensation_amount base_total_refunded
        discount_description customer_note customer_note_notify
        """.split(),  # noqa: SIM905
    ]
)
SALES_CREDITMEMO_COLUMNS = frozenset(
    [
        *_TOTALS,
        *"""
        entity_id store_id adjustment_positive base_adjustment_positive adjustment_negative
        base_adjustment_negative adjustment base_adjustment billing_address_id order_id
        email_sent send_email creditmemo_status state shipping_address_id invoice_id
        transaction_id increment_id created_at updated_at discount_description customer_note
        customer_note_notify
        """.split(),  # noqa: SIM905
    ]
)
_SHIPMENT_ITEM_FIELDS = (
    "entity_id",
    "parent_id",
    "order_item_id",
    "product_id",
    "sku",
    "name",
    "qty",
    "price",
    "row_total",
)
INVOICE_STATE_PAID = 2
CREDITMEMO_STATE_REFUNDED = 2


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(float(x), 4)


def _header(order: dict[str, Any], entity_id: int) -> dict[str, Any]:
    """Fields every sales document copies from its order."""
    fields = {key: order.get(key) for key in _TOTALS}
    fields.update(
        {
            "billing_address_id": order.get("billing_address_id"),
            "created_at": order["updated_at"],
            "email_sent": 1,
            "entity_id": entity_id,
            "increment_id": order.get("increment_id"),
            "order_id": order["entity_id"],
            "shipping_address_id": None if order.get("is_virtual") else order["entity_id"] * 2,
            "store_id": order.get("store_id"),
            "updated_at": order["updated_at"],
            "comments": [],
            "extension_attributes": {},
        }
    )
    return fields


def _document_item(item: dict[str, Any], doc_id: int, k: int, qty: float) -> dict[str, Any]:
    share = qty / item["qty_ordered"] if item.get("qty_ordered") else 0
    row: dict[str, Any] = {
        "entity_id": doc_id * 100 + k + 1,
        "parent_id": doc_id,
        "order_item_id": item["item_id"],
        "product_id": item.get("product_id"),
        "sku": item.get("sku"),
        "name": item.get("name"),
        "qty": _num(qty),
        "price": item.get("price"),
        "base_price": item.get("base_price"),
        "price_incl_tax": item.get("price_incl_tax"),
        "base_price_incl_tax": item.get("base_price_incl_tax"),
        "row_total": _num(float(item.get("row_total") or 0) * share),
        "base_row_total": _num(float(item.get("base_row_total") or 0) * share),
        "tax_amount": _num(float(item.get("tax_amount") or 0) * share),
        "base_tax_amount": _num(float(item.get("base_tax_amount") or 0) * share),
        "discount_amount": 0,
        "base_discount_amount": 0,
    }
    return row


def invoice_of(order: dict[str, Any]) -> dict[str, Any] | None:
    """The order's invoice (one per order, id = order id) when any item is invoiced."""
    lines = [i for i in order.get("items", []) if float(i.get("qty_invoiced") or 0) > 0]
    if not lines:
        return None
    doc = _header(order, order["entity_id"])
    items = [_document_item(i, doc["entity_id"], k, i["qty_invoiced"]) for k, i in enumerate(lines)]
    doc.update(
        {
            "can_void_flag": 0,
            "is_used_for_refund": 1 if order.get("total_refunded") else 0,
            "state": INVOICE_STATE_PAID,
            "total_qty": _num(sum(float(i["qty"]) for i in items)),
            "base_total_refunded": order.get("base_total_refunded"),
            "items": items,
        }
    )
    return doc


def seeded_shipment_of(order: dict[str, Any]) -> dict[str, Any] | None:
    """The shipment of an order seeded as shipped (complete), whatever happened to it since."""
    lines = [
        i
        for i in order.get("items", [])
        if float(i.get("qty_shipped") or 0) > 0 and not i.get("is_virtual")
    ]
    if not lines:
        return None
    shipment_id = SEEDED_SHIPMENT_ID_BASE + order["entity_id"]
    items = []
    for k, i in enumerate(lines):
        row = _document_item(i, shipment_id, k, i["qty_shipped"])
        items.append(
            {key: row[key] for key in _SHIPMENT_ITEM_FIELDS} | {"weight": i.get("weight", 0)}
        )
    now = order["updated_at"]
    carrier = ("ups", "United Parcel Service") if order["entity_id"] % 2 else ("usps", "USPS")
    track = {
        "entity_id": shipment_id * 100 + 51,
        "parent_id": shipment_id,
        "order_id": order["entity_id"],
        "carrier_code": carrier[0],
        "title": carrier[1],
        "track_number": f"1Z{order['entity_id']:010d}",
        "created_at": now,
        "updated_at": now,
    }
    return {
        "billing_address_id": order.get("billing_address_id"),
        "created_at": now,
        "customer_id": order.get("customer_id"),
        "email_sent": 1,
        "entity_id": shipment_id,
        "increment_id": f"{shipment_id:09d}",
        "order_id": order["entity_id"],
        "packages": [],
        "shipping_address_id": order["entity_id"] * 2,
        "store_id": order.get("store_id"),
        "total_qty": _num(sum(float(i["qty"]) for i in items)),
        "updated_at": now,
        "items": items,
        "tracks": [track],
        "comments": [],
        "extension_attributes": {"source_code": "default"},
    }


def creditmemo_of(order: dict[str, Any]) -> dict[str, Any] | None:
    """The order's credit memo (id = order id) when any item was refunded."""
    lines = [i for i in order.get("items", []) if float(i.get("qty_refunded") or 0) > 0]
    if not lines:
        return None
    doc = _header(order, order["entity_id"])
    items = [_document_item(i, doc["entity_id"], k, i["qty_refunded"]) for k, i in enumerate(lines)]
    doc.update(
        {
            "adjustment": 0,
            "adjustment_negative": 0,
            "adjustment_positive": 0,
            "base_adjustment": 0,
            "base_adjustment_negative": 0,
            "base_adjustment_positive": 0,
            "creditmemo_status": CREDITMEMO_STATE_REFUNDED,
            "invoice_id": order["entity_id"],
            "state": CREDITMEMO_STATE_REFUNDED,
            "grand_total": order.get("total_refunded", doc.get("grand_total")),
            "base_grand_total": order.get("base_total_refunded", doc.get("base_grand_total")),
            "items": items,
        }
    )
    return doc


def refund_order(data: SandboxData, entity_id: int) -> dict[str, Any]:
    """Refund everything invoiced (the order becomes ``closed``), as an admin credit memo does."""
    with data.lock:
        order = data.editable_order(entity_id)
        for item in order["items"]:
            qty = float(item.get("qty_invoiced") or 0)
            if qty <= 0:
                continue
            item["qty_refunded"] = _num(qty)
            item["amount_refunded"] = item.get("row_invoiced", item.get("row_total"))
            item["base_amount_refunded"] = item.get("base_row_invoiced", item.get("base_row_total"))
        order["total_refunded"] = order.get("total_paid", order.get("grand_total"))
        order["base_total_refunded"] = order.get("base_total_paid", order.get("base_grand_total"))
        order["status"] = order["state"] = "closed"
        data.commit_order(entity_id, order)
        return copy.deepcopy(order)


# -- ground truth and list endpoints ------------------------------------------------------------

_CACHE: weakref.WeakKeyDictionary[Any, tuple[Any, dict[str, list[dict[str, Any]]]]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LOCK = threading.Lock()
_KINDS: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
    "invoices": invoice_of,
    "shipments": seeded_shipment_of,
    "creditmemos": creditmemo_of,
}


def _documents(data: SandboxData) -> dict[str, list[dict[str, Any]]]:
    """Every document: derived ones rebuilt only after a change, posted shipments as stored."""
    with data.lock:
        posted = frozenset(s.get("order_id") for s in data.shipments.values())
        key = (data.version, posted)
        with _CACHE_LOCK:
            cached = _CACHE.get(data)
        if cached is None or cached[0] != key:
            derived: dict[str, list[dict[str, Any]]] = {name: [] for name in _KINDS}
            for pos in range(len(data.index)):
                order = data.order_json(pos)
                for kind, build in _KINDS.items():
                    if kind == "shipments" and order["entity_id"] in posted:
                        continue
                    doc = build(order)
                    if doc is not None:
                        derived[kind].append(doc)
            cached = (key, derived)
            with _CACHE_LOCK:
                _CACHE[data] = cached
        documents = dict(cached[1])
        documents["shipments"] = [
            *documents["shipments"],
            *(copy.deepcopy(s) for s in data.shipments.values()),
        ]
        return documents


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(copy.deepcopy(rows), key=lambda r: (r["updated_at"], r["entity_id"]))


def shipments(data: SandboxData) -> list[dict[str, Any]]:
    """All shipments (seeded and posted), ascending (updated_at, entity_id)."""
    return _ordered(_documents(data)["shipments"])


def invoices(data: SandboxData) -> list[dict[str, Any]]:
    """All invoices, ascending (updated_at, entity_id)."""
    return _ordered(_documents(data)["invoices"])


def creditmemos(data: SandboxData) -> list[dict[str, Any]]:
    """All credit memos, ascending (updated_at, entity_id)."""
    return _ordered(_documents(data)["creditmemos"])


def _list_handler(
    kind: str, columns: frozenset[str]
) -> Callable[[Call], tuple[int, dict[str, Any]]]:
    def handle(call: Call) -> tuple[int, dict[str, Any]]:
        rows = [copy.deepcopy(r) for r in _documents(call.app.data)[kind]]
        return search_answer(call, rows, columns)

    return handle


def _get_handler(kind: str) -> Callable[[Call], tuple[int, dict[str, Any]]]:
    def handle(call: Call) -> tuple[int, dict[str, Any]]:
        wanted = call.int_param("id")
        for row in _documents(call.app.data)[kind]:
            if row["entity_id"] == wanted:
                return 200, copy.deepcopy(row)
        raise entity_not_found()

    return handle


shipments_list = _list_handler("shipments", SALES_SHIPMENT_COLUMNS)
invoices_list = _list_handler("invoices", SALES_INVOICE_COLUMNS)
creditmemos_list = _list_handler("creditmemos", SALES_CREDITMEMO_COLUMNS)
shipment_get = _get_handler("shipments")
invoice_get = _get_handler("invoices")
creditmemo_get = _get_handler("creditmemos")

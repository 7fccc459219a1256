"""The order statuses every Magento 2.4 store has, and how to ask whether any order has one.

Magento's REST API has no list of order statuses, so a misspelt status in a filter simply
matches nothing. A configured status is trusted when it is built in; any other is looked
up with one cheap search (``status eq X``, one row, only ``total_count`` sent back).
"""

from __future__ import annotations

from magerest.search import search_criteria_params

#: Status code -> admin label, as installed by Magento_Sales
#: (``Setup/Patch/Data/InstallOrderStatusesAndInitialSalesConfig``) and Magento_Paypal
#: (``Setup/Patch/Data/AddPaypalOrderStatuses``), both part of every 2.4 store.
BUILT_IN_STATUSES: dict[str, str] = {
    "pending": "Pending",
    "pending_payment": "Pending Payment",
    "processing": "Processing",
    "holded": "On Hold",
    "complete": "Complete",
    "closed": "Closed",
    "canceled": "Canceled",
    "fraud": "Suspected Fraud",
    "payment_review": "Payment Review",
    "pending_paypal": "Pending PayPal",
    "paypal_reversed": "PayPal Reversed",
    "paypal_canceled_reversal": "PayPal Canceled Reversal",
}


def is_built_in(status: str) -> bool:
    """True for a status code every Magento 2.4 store has."""
    return status in BUILT_IN_STATUSES


def status_count_params(status: str) -> dict[str, str]:
    """``GET /V1/orders`` parameters that count the orders with ``status`` (one row at most).

    ``fields=total_count`` keeps the order out of the answer; a page size of 1 (not 0,
    which means "no limit") keeps Magento from loading more than one.
    """
    params = search_criteria_params([[("status", status, "eq")]], page_size=1, current_page=1)
    params["fields"] = "total_count"
    return params


def unknown_status_message(setting: str, status: str) -> str:
    """Why ``status`` of ``setting`` cannot be right, and the codes that would be."""
    hint = ""
    for code, label in BUILT_IN_STATUSES.items():
        if status.strip().lower() in {label.lower(), code.lower()}:
            hint = f" ({label!r} is the label of the status code {code!r}: use the code)"
            break
    built_in = ", ".join(BUILT_IN_STATUSES)
    return (
        f"{setting} {status!r} is not a Magento order status: it is none of the built-in "
        f"statuses ({built_in}) and no order in the store has it{hint}. Use status codes "
        "as listed under Stores > Settings > Order Status; a custom status is accepted once "
        "an order has it"
    )

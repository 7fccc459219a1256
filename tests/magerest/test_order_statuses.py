"""Magento's built-in order statuses and the one-row status look-up."""

from __future__ import annotations

from magerest.order_statuses import (
    BUILT_IN_STATUSES,
    is_built_in,
    status_count_params,
    unknown_status_message,
)


def test_the_built_in_statuses_are_magentos_sales_and_paypal_ones() -> None:
    assert set(BUILT_IN_STATUSES) == {
        "pending", "pending_payment", "processing", "holded", "complete", "closed",
        "canceled", "fraud", "payment_review",  # Magento_Sales
        "pending_paypal", "paypal_reversed", "paypal_canceled_reversal",  # Magento_Paypal
    }  # fmt: skip
    assert is_built_in("holded")
    assert not is_built_in("suspected_fraud")  # the label of "fraud", not a code


def test_the_look_up_asks_for_one_row_and_only_the_count() -> None:
    assert status_count_params("ready_to_ship") == {
        "searchCriteria[filter_groups][0][filters][0][field]": "status",
        "searchCriteria[filter_groups][0][filters][0][value]": "ready_to_ship",
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "eq",
        "searchCriteria[pageSize]": "1",
        "searchCriteria[currentPage]": "1",
        "fields": "total_count",
    }


def test_the_message_names_setting_status_and_the_code_of_a_label() -> None:
    message = unknown_status_message("order_import_status", "Suspected Fraud")
    assert message.startswith("order_import_status 'Suspected Fraud' is not a Magento order")
    assert "'Suspected Fraud' is the label of the status code 'fraud'" in message
    assert "pending_payment" in message

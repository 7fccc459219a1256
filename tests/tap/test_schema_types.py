"""Scalar types of the stream schemas follow Magento's Data interfaces.

Magento's REST output casts each scalar to its getter's ``@return`` type (float to a JSON
number, int to a JSON integer, string to a string), so a schema that types a field otherwise
makes a validating target reject every real record carrying it. The tables below are the
getter types of ``magento/magento2`` ``app/code/Magento/Sales/Api/Data/OrderItemInterface.php``,
``OrderPaymentInterface.php``, ``Magento/Bundle/Api/Data/BundleOptionInterface.php`` and
``Magento/Customer/Api/Data/CustomerInterface.php``; fields a schema does not declare are
skipped, and every declared field stays nullable.
"""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from tap_magento2 import schemas


def load(name: str) -> dict[str, Any]:
    return json.loads(files(schemas).joinpath(f"{name}.json").read_text())


def by_type(**names: str) -> dict[str, str]:
    return {field: kind for kind, fields in names.items() for field in fields.split()}


ORDER_ITEM = by_type(
    integer="""
        event_id free_shipping gw_id is_qty_decimal is_virtual item_id locked_do_invoice
        locked_do_ship no_discount order_id parent_item_id product_id quote_item_id store_id
    """,
    string="""
        additional_data applied_rule_ids created_at description ext_order_item_id name
        product_type sku updated_at weee_tax_applied
    """,
    number="""
        amount_refunded base_amount_refunded base_cost base_discount_amount
        base_discount_invoiced base_discount_refunded base_discount_tax_compensation_amount
        base_discount_tax_compensation_invoiced base_discount_tax_compensation_refunded
        base_original_price base_price base_price_incl_tax base_row_invoiced base_row_total
        base_row_total_incl_tax base_tax_amount base_tax_before_discount base_tax_invoiced
        base_tax_refunded base_weee_tax_applied_amount base_weee_tax_applied_row_amnt
        base_weee_tax_disposition base_weee_tax_row_disposition discount_amount
        discount_invoiced discount_percent discount_refunded discount_tax_compensation_amount
        discount_tax_compensation_canceled discount_tax_compensation_invoiced
        discount_tax_compensation_refunded gw_base_price gw_base_price_invoiced
        gw_base_price_refunded gw_base_tax_amount gw_base_tax_amount_invoiced
        gw_base_tax_amount_refunded gw_price gw_price_invoiced gw_price_refunded gw_tax_amount
        gw_tax_amount_invoiced gw_tax_amount_refunded original_price price price_incl_tax
        qty_backordered qty_canceled qty_invoiced qty_ordered qty_refunded qty_returned
        qty_shipped row_invoiced row_total row_total_incl_tax row_weight tax_amount
        tax_before_discount tax_canceled tax_invoiced tax_percent tax_refunded
        weee_tax_applied_amount weee_tax_applied_row_amount weee_tax_disposition
        weee_tax_row_disposition weight
    """,
)
ORDER_PAYMENT = by_type(
    integer="entity_id parent_id quote_payment_id",
    string="""
        account_status additional_data address_status anet_trans_method cc_approval
        cc_avs_status cc_cid_status cc_debug_request_body cc_debug_response_body
        cc_debug_response_serialized cc_exp_month cc_exp_year cc_last4 cc_number_enc cc_owner
        cc_secure_verify cc_ss_issue cc_ss_start_month cc_ss_start_year cc_status
        cc_status_description cc_trans_id cc_type echeck_account_name echeck_account_type
        echeck_bank_name echeck_routing_number echeck_type last_trans_id method po_number
        protection_eligibility
    """,
    number="""
        amount_authorized amount_canceled amount_ordered amount_paid amount_refunded
        base_amount_authorized base_amount_canceled base_amount_ordered base_amount_paid
        base_amount_paid_online base_amount_refunded base_amount_refunded_online
        base_shipping_amount base_shipping_captured base_shipping_refunded shipping_amount
        shipping_captured shipping_refunded
    """,
)
BUNDLE_OPTION = by_type(integer="option_id option_qty")
CUSTOMER = by_type(
    integer="id group_id gender store_id website_id disable_auto_group_change",
    string="""
        confirmation created_at created_in default_billing default_shipping dob email
        firstname lastname middlename prefix suffix taxvat updated_at
    """,
)

_ITEM_PATHS = ("items[]", "extension_attributes.shipping_assignments[].items[]")
_BUNDLE = "product_option.extension_attributes.bundle_options[]"


def at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The sub-schema at a dotted path of property names (``name[]``: the array's items)."""
    for step in path.split(".") if path else []:
        schema = schema["properties"][step.removesuffix("[]")]
        if step.endswith("[]"):
            schema = schema["items"]
    return schema


def locations() -> list[tuple[str, str, dict[str, str]]]:
    """(stream, object path, Magento getter types) for every object that a table covers."""
    found: list[tuple[str, str, dict[str, str]]] = [
        ("orders", "payment", ORDER_PAYMENT),
        ("customers", "", CUSTOMER),
    ]
    for stream, paths in (("orders", _ITEM_PATHS), ("order_items", ("",))):
        for path in paths:
            for item in (path, f"{path}.parent_item" if path else "parent_item"):
                found.append((stream, item, ORDER_ITEM))
                found.append((stream, f"{item}.{_BUNDLE}".lstrip("."), BUNDLE_OPTION))
    return found


@pytest.mark.parametrize(
    ("stream", "path", "table"), locations(), ids=[f"{s}:{p}" for s, p, _ in locations()]
)
def test_scalar_types_follow_the_magento_getters(
    stream: str, path: str, table: dict[str, str]
) -> None:
    props = at(load(stream), path)["properties"]
    declared = set(props) & set(table)
    assert len(declared) >= min(2, len(table))  # the path really points at that object
    wrong = {
        key: props[key]["type"]
        for key in sorted(declared)
        if props[key]["type"] != [table[key], "null"] and not _primary_key(stream, path, key)
    }
    assert wrong == {}


def _primary_key(stream: str, path: str, key: str) -> bool:
    return path == "" and (stream, key) in {("order_items", "item_id"), ("customers", "id")}


# --- records shaped as Magento sends them --------------------------------------------------

WEEE = {
    "weee_tax_applied": json.dumps(
        [{"title": "recycling_fee", "base_amount": 0.42, "amount": 0.42, "row_amount": 0.84}],
        separators=(",", ":"),
    ),
    "weee_tax_applied_amount": 0.42,
    "base_weee_tax_applied_amount": 0.42,
    "weee_tax_applied_row_amount": 0.84,
    "base_weee_tax_applied_row_amnt": 0.84,
    "weee_tax_disposition": 0,
    "base_weee_tax_disposition": 0,
    "weee_tax_row_disposition": 0,
    "base_weee_tax_row_disposition": 0,
    "event_id": 7,
}


def order_item(item_id: int, **extra: Any) -> dict[str, Any]:
    return {"item_id": item_id, "order_id": 1, "sku": "BND-DESK", "qty_ordered": 2, **extra}


def magento_order() -> dict[str, Any]:
    bundle = {"extension_attributes": {"bundle_options": [{"option_id": 401, "option_qty": 1}]}}
    parent = order_item(20, product_type="bundle", product_option=bundle, **WEEE)
    child = order_item(21, parent_item_id=20, parent_item=copy.deepcopy(parent), **WEEE)
    items = [parent, child]
    return {
        "entity_id": 1,
        "items": items,
        "payment": {"method": "paypal_express", "address_status": "confirmed", "entity_id": 1},
        "extension_attributes": {
            "shipping_assignments": [{"shipping": {"method": "flatrate_flatrate"}, "items": items}]
        },
    }


def errors(record: dict[str, Any], stream: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(load(stream))
    return sorted(f"{e.json_path}: {e.message}" for e in validator.iter_errors(record))


def test_an_order_with_magentos_types_for_fpt_payment_and_bundle_fields_validates() -> None:
    order = magento_order()
    assert errors(order, "orders") == []
    item = order["items"][1]
    assert errors(item, "order_items") == []
    assert errors({"id": 5, "confirmation": "6b1f0c0e8e2a4c52a4cf0f7d3b1e9a10"}, "customers") == []


@pytest.mark.parametrize(
    ("stream", "path", "value"),
    [
        ("orders", ("items", 1, "parent_item", "base_weee_tax_applied_row_amnt"), "0.84"),
        ("orders", ("payment", "address_status"), 1),
        ("orders", ("items", 0, "event_id"), 7.5),
        (
            "orders",
            (
                "items",
                0,
                "product_option",
                "extension_attributes",
                "bundle_options",
                0,
                "option_qty",
            ),
            1.5,
        ),
        ("customers", ("confirmation",), 1),
    ],
)
def test_other_types_for_those_fields_are_rejected(
    stream: str, path: tuple[Any, ...], value: Any
) -> None:
    record = magento_order() if stream == "orders" else {"id": 5, "confirmation": "abc"}
    target: Any = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert errors(record, stream) != []

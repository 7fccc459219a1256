"""The order a guest checkout places from its cart lines, and the cart's totals.

The order has the seeded orders' shape (:func:`.order_json.build_order`, whose item factory builds
the lines): a configurable gives a parent line (the child's SKU and price) and a dummy child
line (price 0); a bundle gives a parent line (a dynamic SKU, ``bundle_options``) and one child
line per selection, virtual when the selected product is. Flat rate shipping is 5.00 per
shipped top-level unit, as on a new store; tax follows the store view, like the seed.
"""

from __future__ import annotations

from typing import Any

from .cart_lines import VIRTUAL_TYPES, CartLine, bundle_options, chosen_values
from .catalog import store_name
from .order_items import ItemFactory, money
from .order_json import ADDRESSES, build_order

FLAT_RATE_PER_ITEM = 5.0
SHIPPING_DESCRIPTION = "Flat Rate - Fixed"
PAYMENT_TITLE = "Check / Money order"
SHIPPING_TOTALS = (
    "base_shipping_amount",
    "base_shipping_incl_tax",
    "shipping_amount",
    "shipping_incl_tax",
)
ADDRESS_REQUIRED = (
    "firstname",
    "lastname",
    "street",
    "city",
    "telephone",
    "postcode",
    "country_id",
)
REQUIRED = '"%fieldName" is required. Enter and try again.'
#: region_id -> region code, for the regions the seeded addresses use.
REGION_CODES = {row[4]: row[3] for rows in ADDRESSES.values() for row in rows}


# -- order items and totals -----------------------------------------------------------------------


def _items(
    lines: list[CartLine], entity_id: int, store_id: int, created: str
) -> list[dict[str, Any]]:
    """The order items of the cart lines, parents followed by their children."""
    f = ItemFactory(entity_id, store_id, created, created, "pending")
    for line in lines:
        product = line.product
        if line.child is not None:
            child = line.child
            options = [
                {"option_id": str(o["attribute_id"]), "option_value": int(v)}
                for o, v in chosen_values(line)
            ]
            parent = f.add(
                child["sku"],
                line.qty,
                line.unit_price(),
                product_type="configurable",
                name=product["name"],
                weight=child.get("weight"),
                product_id=product["id"],
                shippable=not line.is_virtual,
                product_option={"extension_attributes": {"configurable_item_options": options}},
            )
            dummy = f.add(
                child["sku"],
                line.qty,
                0,
                product_type=child["type_id"],
                name=child["name"],
                parent=parent,
                dummy=True,
                weight=child.get("weight"),
                product_id=child["id"],
                shippable=not line.is_virtual,
            )
            for key in ("price_incl_tax", "base_price_incl_tax", "base_original_price"):
                dummy.pop(key, None)
        elif line.selections:
            parent = f.add(
                line.sku,
                line.qty,
                line.unit_price(),
                product_type="bundle",
                name=product["name"],
                product_id=product["id"],
                shippable=not line.is_virtual,
                product_option={"extension_attributes": {"bundle_options": bundle_options(line)}},
            )
            for _, _, child, per in line.selections:
                price = 0 if line.fixed_price_bundle else float(child.get("price") or 0)
                f.add(
                    child["sku"],
                    money(per * line.qty),
                    price,
                    product_type=child["type_id"],
                    name=child["name"],
                    parent=parent,
                    product_id=child["id"],
                    shippable=child["type_id"] not in VIRTUAL_TYPES,
                    weight=child.get("weight"),
                )
        else:
            f.add(
                product["sku"],
                line.qty,
                line.unit_price(),
                product_type=product["type_id"],
                name=product["name"],
                weight=product.get("weight"),
                product_id=product["id"],
                shippable=not line.is_virtual,
            )
    return f.items


def _sums(items: list[dict[str, Any]], shipped: bool) -> dict[str, float]:
    top = [i for i in items if "parent_item_id" not in i]
    subtotal = sum(i["row_total"] for i in top)
    tax = round(sum(i["tax_amount"] for i in top), 2)
    units = sum(i["qty_ordered"] for i in top if not i["is_virtual"])
    shipping = FLAT_RATE_PER_ITEM * units if shipped else 0.0
    fpt = sum(i.get("weee_tax_applied_row_amount", 0) for i in items)
    return {
        "subtotal": subtotal,
        "tax": tax,
        "shipping": shipping,
        "grand": subtotal + shipping + tax + fpt,
        "qty": sum(i["qty_ordered"] for i in top),
    }


def totals(lines: list[CartLine], store_id: int, shipping_method: str | None) -> dict[str, Any]:
    """TotalsInterface of the cart, as ``shipping-information`` answers it."""
    items = _items(lines, 0, store_id, "")
    s = _sums(items, shipping_method is not None)
    rows = [i for i in items if "parent_item_id" not in i]
    return {
        "grand_total": money(s["grand"]),
        "base_grand_total": money(s["grand"]),
        "subtotal": money(s["subtotal"]),
        "base_subtotal": money(s["subtotal"]),
        "discount_amount": 0,
        "base_discount_amount": 0,
        "subtotal_with_discount": money(s["subtotal"]),
        "base_subtotal_with_discount": money(s["subtotal"]),
        "shipping_amount": money(s["shipping"]),
        "base_shipping_amount": money(s["shipping"]),
        "shipping_discount_amount": 0,
        "base_shipping_discount_amount": 0,
        "tax_amount": money(s["tax"]),
        "base_tax_amount": money(s["tax"]),
        "weee_tax_applied_amount": None,
        "shipping_tax_amount": 0,
        "base_shipping_tax_amount": 0,
        "subtotal_incl_tax": money(s["subtotal"] + s["tax"]),
        "shipping_incl_tax": money(s["shipping"]),
        "base_shipping_incl_tax": money(s["shipping"]),
        "base_currency_code": "USD",
        "quote_currency_code": "USD",
        "items_qty": money(s["qty"]),
        "items": [
            {
                "item_id": line.item_id,
                "price": row["price"],
                "base_price": row["base_price"],
                "qty": row["qty_ordered"],
                "row_total": row["row_total"],
                "base_row_total": row["base_row_total"],
                "row_total_with_discount": 0,
                "tax_amount": row["tax_amount"],
                "base_tax_amount": row["base_tax_amount"],
                "tax_percent": row["tax_percent"],
                "discount_amount": 0,
                "base_discount_amount": 0,
                "discount_percent": 0,
                "price_incl_tax": row["price_incl_tax"],
                "base_price_incl_tax": row["base_price_incl_tax"],
                "row_total_incl_tax": row["row_total_incl_tax"],
                "base_row_total_incl_tax": row["base_row_total_incl_tax"],
                "options": "[]",
                "weee_tax_applied_amount": None,
                "weee_tax_applied": None,
                "name": row["name"],
            }
            for line, row in zip(lines, rows, strict=True)
        ],
        "total_segments": [
            {"code": "subtotal", "title": "Subtotal", "value": money(s["subtotal"])},
            {
                "code": "shipping",
                "title": f"Shipping & Handling ({SHIPPING_DESCRIPTION})",
                "value": money(s["shipping"]),
            },
            {"code": "tax", "title": "Tax", "value": money(s["tax"]), "area": "taxes"},
            {
                "code": "grand_total",
                "title": "Grand Total",
                "value": money(s["grand"]),
                "area": "footer",
            },
        ],
    }


# -- the order ----------------------------------------------------------------------------------


def address_errors(address: dict[str, Any]) -> list[str]:
    """The quote address validator's messages for the missing required fields."""
    return [
        REQUIRED.replace("%fieldName", name)
        for name in ADDRESS_REQUIRED
        if address.get(name) in (None, "", [])
    ]


def _order_address(
    address: dict[str, Any], kind: str, entity_id: int, email: str
) -> dict[str, Any]:
    street = address.get("street")
    out: dict[str, Any] = {
        "address_type": kind,
        "city": address.get("city"),
        "country_id": address.get("country_id"),
        "email": address.get("email") or email,
        "entity_id": entity_id * 2 - (1 if kind == "billing" else 0),
        "firstname": address.get("firstname"),
        "lastname": address.get("lastname"),
        "parent_id": entity_id,
        "postcode": address.get("postcode"),
        "street": list(street) if isinstance(street, list) else [str(street or "")],
        "telephone": address.get("telephone"),
    }
    region_id = address.get("region_id")
    if address.get("region"):
        out["region"] = address["region"] if isinstance(address["region"], str) else None
    if region_id:
        out["region_id"] = int(region_id)
    code = address.get("region_code") or REGION_CODES.get(int(region_id or 0))
    if code:
        out["region_code"] = code
    if address.get("company"):
        out["company"] = address["company"]
    return dict(sorted((k, v) for k, v in out.items() if v is not None))


def build(
    seed: int | str,
    row: dict[str, Any],
    lines: list[CartLine],
    email: str,
    billing: dict[str, Any],
    shipping: dict[str, Any] | None,
    shipping_method: str | None,
) -> dict[str, Any]:
    """The order JSON of a guest checkout (``shipping`` None: a virtual-only order)."""
    entity_id, store_id, created = row["entity_id"], row["store_id"], row["created_at"]
    items = _items(lines, entity_id, store_id, created)
    s = _sums(items, shipping is not None)
    top = [i for i in items if "parent_item_id" not in i]
    bill = _order_address(billing, "billing", entity_id, email)
    order = build_order(seed, row)  # the seeded shape; every value of this order is set below
    order.pop("customer_id", None)
    grand, ship = money(s["grand"]), money(s["shipping"])
    order.update(
        {
            "base_grand_total": grand,
            "grand_total": grand,
            "base_total_due": grand,
            "total_due": grand,
            "base_subtotal": money(s["subtotal"]),
            "subtotal": money(s["subtotal"]),
            "base_subtotal_incl_tax": money(s["subtotal"] + s["tax"]),
            "subtotal_incl_tax": money(s["subtotal"] + s["tax"]),
            "base_tax_amount": money(s["tax"]),
            "tax_amount": money(s["tax"]),
            "base_shipping_amount": ship,
            "shipping_amount": ship,
            "base_shipping_incl_tax": ship,
            "shipping_incl_tax": ship,
            "billing_address_id": bill["entity_id"],
            "customer_email": email,
            "customer_firstname": bill.get("firstname"),
            "customer_lastname": bill.get("lastname"),
            "customer_group_id": 0,
            "customer_is_guest": 1,
            "is_virtual": 0 if shipping is not None else 1,
            "quote_id": row["entity_id"] + 1000,
            "store_name": store_name(store_id),
            "total_item_count": len(top),
            "total_qty_ordered": money(s["qty"]),
            "weight": money(sum(i.get("row_weight", 0) for i in top)),
            "items": items,
            "billing_address": bill,
            "status_histories": [],
        }
    )
    order.pop("shipping_description", None)
    if shipping is not None:
        order["shipping_description"] = SHIPPING_DESCRIPTION
    order["payment"] = {
        "account_status": None,
        "additional_information": [PAYMENT_TITLE],
        "amount_ordered": grand,
        "base_amount_ordered": grand,
        "base_shipping_amount": ship,
        "cc_last4": None,
        "entity_id": entity_id,
        "method": "checkmo",
        "parent_id": entity_id,
        "shipping_amount": ship,
    }
    ship_total = order["extension_attributes"]["shipping_assignments"][0]["shipping"]["total"]
    for key in SHIPPING_TOTALS:
        ship_total[key] = ship
    shipping_obj: dict[str, Any] = {"total": ship_total}
    if shipping is not None:
        shipping_obj = {
            "address": _order_address(shipping, "shipping", entity_id, email),
            "method": shipping_method,
            "total": ship_total,
        }
    order["extension_attributes"].update(
        {
            "shipping_assignments": [{"shipping": shipping_obj, "items": items}],
            "payment_additional_info": [{"key": "method_title", "value": PAYMENT_TITLE}],
        }
    )
    return order

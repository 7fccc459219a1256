"""One order's Magento JSON (OrderInterface), rebuilt from ``(seed, entity_id)`` and the index row:
customer, addresses, items, payment, totals, shipping assignment and status history.
"""

from __future__ import annotations

import random
from typing import Any

from .catalog import (
    BUNDLE_SEPARATELY_SKU,
    BUNDLE_TOGETHER_SKU,
    PRODUCTS,
    SIMPLE_SKUS,
    store_name,
)
from .order_items import ItemFactory, add_bundle, add_configurable, choose_lines, money

# --- order JSON ---------------------------------------------------------------------------------

FIRST_NAMES = [
    "Veronica",
    "Jonas",
    "Amelie",
    "Karim",
    "Sofia",
    "Liam",
    "Chloe",
    "Mateo",
    "Hanna",
    "Noah",
    "Ines",
    "Felix",
    "Maya",
    "Oskar",
    "Lea",
    "Ravi",
]
LAST_NAMES = [
    "Costello",
    "Schneider",
    "Dubois",
    "Haddad",
    "Rossi",
    "Murphy",
    "Lefevre",
    "Garcia",
    "Becker",
    "Okafor",
    "Moreau",
    "Weber",
    "Nakamura",
    "Lindqvist",
]
ADDRESSES = {
    1: [
        ("US", "Calder", "Michigan", "MI", 33, "49628-7978", ["6146 Honey Bluff Parkway"]),
        ("US", "Austin", "Texas", "TX", 57, "78701", ["500 Congress Ave", "Suite 210"]),
        ("US", "Portland", "Oregon", "OR", 49, "97205", ["1120 SW 5th Ave", "Floor 3", "Room 12"]),
    ],
    2: [
        ("FR", "Lyon", "Rhône", "69", 270, "69002", ["12 Rue de la République"]),
        ("FR", "Paris", "Paris", "75", 257, "75011", ["4 Rue Oberkampf", "Bâtiment B"]),
    ],
    3: [
        ("DE", "Berlin", "Berlin", "BER", 82, "10115", ["Invalidenstraße 43"]),
        ("DE", "München", "Bayern", "BAY", 81, "80331", ["Marienplatz 8", "Hinterhaus, 2. OG"]),
    ],
}
SHIPPING = [
    ("flatrate_flatrate", "Flat Rate - Fixed"),
    ("tablerate_bestway", "Best Way - Table Rate"),
]
PAYMENTS = [
    ("checkmo", "Check / Money order"),
    ("banktransfer", "Bank Transfer Payment"),
    ("cashondelivery", "Cash On Delivery"),
]
#: Share of orders paid with PayPal Express, whose payment row carries PayPal's payer
#: ``address_status`` (OrderPaymentInterface::getAddressStatus, ``string|null``).
PAYPAL_SHARE = 0.15
PAYPAL = ("paypal_express", "PayPal Express Checkout")
PAYPAL_ADDRESS_STATUSES = ("confirmed", "confirmed", "confirmed", "unconfirmed")


def _address(
    rng: random.Random,
    entity_id: int,
    store_id: int,
    kind: str,
    person: tuple[str, str],
    email: str,
    customer_id: int | None,
) -> dict[str, Any]:
    country, city, region, region_code, region_id, postcode, street = rng.choice(
        ADDRESSES.get(store_id, ADDRESSES[1])
    )
    addr: dict[str, Any] = {
        "address_type": kind,
        "city": city,
        "country_id": country,
        "email": email,
        "entity_id": entity_id * 2 - (1 if kind == "billing" else 0),
        "firstname": person[0],
        "lastname": person[1],
        "parent_id": entity_id,
        "postcode": postcode,
        "region": region,
        "region_code": region_code,
        "region_id": region_id,
        "street": list(street),
        "telephone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
    }
    if customer_id is not None:
        addr["customer_address_id"] = customer_id * 3
    if rng.random() < 0.2:
        addr["company"] = rng.choice(["Northwind Outfitters", "Bergwerk GmbH", "Atelier Sud"])
    return addr


def build_order(seed: int | str, row: dict[str, Any]) -> dict[str, Any]:
    """Build one order's Magento 2.4 JSON (OrderInterface) from its index row."""
    entity_id = row["entity_id"]
    rng = random.Random(f"sandbox-order:{seed}:{entity_id}")
    status, state, store_id = row["status"], row["state"], row["store_id"]
    created, updated = row["created_at"], row["updated_at"]
    f = ItemFactory(entity_id, store_id, created, updated, status)
    for kind in choose_lines(rng, entity_id):
        if kind == "simple":
            p = PRODUCTS[rng.choice(SIMPLE_SKUS)]
            f.add(
                p.sku,
                rng.choice([1, 1, 2, 3]),
                p.price,
                product_type="simple",
                name=p.name,
                weight=p.weight,
            )
        elif kind == "configurable":
            add_configurable(f, rng)
        elif kind == "bundle_together":
            add_bundle(f, rng, BUNDLE_TOGETHER_SKU)
        elif kind == "bundle_separately":
            add_bundle(f, rng, BUNDLE_SEPARATELY_SKU)
        else:
            p = PRODUCTS["VRT-WARRANTY" if kind == "virtual" else "DL-GUIDE"]
            f.add(p.sku, 1, p.price, product_type=kind, name=p.name, shippable=False)
    items = f.items
    top = [i for i in items if "parent_item_id" not in i]
    is_virtual = all(i["is_virtual"] for i in top)
    subtotal = sum(i["row_total"] for i in top)
    tax = round(sum(i["tax_amount"] for i in top), 2)
    ship_qty = sum(i["qty_ordered"] for i in top if not i["is_virtual"])
    method, description = rng.choice(SHIPPING)
    shipping = 0.0 if is_virtual else (5.0 * ship_qty if method == "flatrate_flatrate" else 10.0)
    fpt = sum(i.get("weee_tax_applied_row_amount", 0) for i in items)
    grand = subtotal + shipping + tax + fpt
    guest = rng.random() < 0.2
    person = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
    email = f"{person[0].lower()}.{person[1].lower()}{entity_id % 97}@example.com"
    customer_id = None if guest else 1000 + rng.randint(1, 400)
    billing = _address(rng, entity_id, store_id, "billing", person, email, customer_id)
    invoiced = status in ("processing", "complete", "holded")
    pay_method, pay_title = rng.choice(PAYMENTS)
    order: dict[str, Any] = {
        "base_currency_code": "USD",
        "base_discount_amount": 0,
        "base_grand_total": money(grand),
        "base_discount_tax_compensation_amount": 0,
        "base_shipping_amount": money(shipping),
        "base_shipping_discount_amount": 0,
        "base_shipping_discount_tax_compensation_amnt": 0,
        "base_shipping_incl_tax": money(shipping),
        "base_shipping_tax_amount": 0,
        "base_subtotal": money(subtotal),
        "base_subtotal_incl_tax": money(subtotal + tax),
        "base_tax_amount": money(tax),
        "base_to_global_rate": 1,
        "base_to_order_rate": 1,
        "base_total_due": 0 if invoiced else money(grand),
        "billing_address_id": billing["entity_id"],
        "created_at": created,
        "customer_email": email,
        "customer_firstname": person[0],
        "customer_group_id": 0 if guest else 1,
        "customer_is_guest": 1 if guest else 0,
        "customer_lastname": person[1],
        "customer_note_notify": 1,
        "discount_amount": 0,
        "discount_tax_compensation_amount": 0,
        "email_sent": 1,
        "entity_id": entity_id,
        "global_currency_code": "USD",
        "grand_total": money(grand),
        "increment_id": row["increment_id"],
        "is_virtual": 1 if is_virtual else 0,
        "order_currency_code": "USD",
        "protect_code": f"{rng.getrandbits(24):06x}",
        "quote_id": entity_id + 1000,
        "remote_ip": f"198.51.100.{rng.randint(1, 254)}",
        "send_email": 1,
        "shipping_amount": money(shipping),
        "shipping_discount_amount": 0,
        "shipping_discount_tax_compensation_amount": 0,
        "shipping_incl_tax": money(shipping),
        "shipping_tax_amount": 0,
        "state": state,
        "status": status,
        "store_currency_code": "USD",
        "store_id": store_id,
        "store_name": store_name(store_id),
        "store_to_base_rate": 0,
        "store_to_order_rate": 0,
        "subtotal": money(subtotal),
        "subtotal_incl_tax": money(subtotal + tax),
        "tax_amount": money(tax),
        "total_due": 0 if invoiced else money(grand),
        "total_item_count": len(top),
        "total_qty_ordered": money(sum(i["qty_ordered"] for i in top)),
        "updated_at": updated,
        "weight": money(sum(i.get("row_weight", 0) for i in top)),
    }
    if not is_virtual:
        order["shipping_description"] = description
    if customer_id is not None:
        order["customer_id"] = customer_id
    if invoiced:
        for key in ("total_invoiced", "base_total_invoiced", "total_paid", "base_total_paid"):
            order[key] = money(grand)
    if status == "canceled":
        order["total_canceled"] = order["base_total_canceled"] = money(grand)
        order["subtotal_canceled"] = order["base_subtotal_canceled"] = money(subtotal)
    order["items"] = items
    order["billing_address"] = billing
    payment: dict[str, Any] = {
        "account_status": None,
        "additional_information": [pay_title],
        "amount_ordered": money(grand),
        "base_amount_ordered": money(grand),
        "base_shipping_amount": money(shipping),
        "cc_last4": None,
        "entity_id": entity_id,
        "method": pay_method,
        "parent_id": entity_id,
        "shipping_amount": money(shipping),
    }
    if invoiced:
        payment["amount_paid"] = payment["base_amount_paid"] = money(grand)
    order["payment"] = payment
    order["status_histories"] = _histories(entity_id, status, created, updated)
    ship_total = {
        "base_shipping_amount": money(shipping),
        "base_shipping_discount_amount": 0,
        "base_shipping_discount_tax_compensation_amnt": 0,
        "base_shipping_incl_tax": money(shipping),
        "base_shipping_tax_amount": 0,
        "shipping_amount": money(shipping),
        "shipping_discount_amount": 0,
        "shipping_discount_tax_compensation_amount": 0,
        "shipping_incl_tax": money(shipping),
        "shipping_tax_amount": 0,
    }
    shipping_obj: dict[str, Any] = {"total": ship_total}
    if not is_virtual:
        same = rng.random() < 0.7
        ship_addr = (
            dict(billing)
            if same
            else _address(
                rng,
                entity_id,
                store_id,
                "shipping",
                (rng.choice(FIRST_NAMES), person[1]),
                email,
                customer_id,
            )
        )
        ship_addr["address_type"] = "shipping"
        ship_addr["entity_id"] = entity_id * 2
        shipping_obj = {
            "address": dict(sorted(ship_addr.items())),
            "method": method,
            "total": ship_total,
        }
    # Drawn last, so that every value drawn before stays what it was without PayPal.
    if rng.random() < PAYPAL_SHARE:
        pay_title = PAYPAL[1]
        payment["method"] = PAYPAL[0]
        payment["additional_information"] = [pay_title]
        payment["address_status"] = rng.choice(PAYPAL_ADDRESS_STATUSES)
        if invoiced:
            alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXY"  # PayPal ids: 17 characters
            payment["last_trans_id"] = "".join(rng.choice(alphabet) for _ in range(17))
    order["extension_attributes"] = {
        "shipping_assignments": [{"shipping": shipping_obj, "items": items}],
        "payment_additional_info": [{"key": "method_title", "value": pay_title}],
        "applied_taxes": [],
        "item_applied_taxes": [],
        "converting_from_quote": False,
    }
    return order


def _histories(entity_id: int, status: str, created: str, updated: str) -> list[dict[str, Any]]:
    """Status history, newest first, like Magento's getStatusHistories on a loaded order."""
    entries = []
    if status != "pending":
        entries.append((updated, status, _history_comment(status)))
    entries.append((created, "pending", None))
    out = []
    for k, (when, st, comment) in enumerate(entries):
        out.append(
            {
                "comment": comment,
                "created_at": when,
                "entity_id": entity_id * 10 + len(entries) - k,
                "entity_name": "order" if k else ("invoice" if st == "processing" else "order"),
                "is_customer_notified": 0 if k else 1,
                "is_visible_on_front": 0,
                "parent_id": entity_id,
                "status": st,
            }
        )
    return out


def _history_comment(status: str) -> str:
    return {
        "processing": "Captured amount of the order online.",
        "complete": "Order shipped.",
        "canceled": "Canceled by the merchant.",
        "holded": "Waiting for stock confirmation.",
    }.get(status, "Status changed.")

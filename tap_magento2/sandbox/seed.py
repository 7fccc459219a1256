"""Deterministic seed data: a compact order index plus order JSON built on demand.

Everything derives from ``(seed, order_count, now)``. The index holds only what filtering and
sorting need (created/updated epoch seconds, status, state, store, increment id) in ``array``
columns, so a million orders fit in a few tens of MB; each order's full Magento JSON is rebuilt
from ``(seed, entity_id)`` when asked for.
"""

from __future__ import annotations

import json
import random
from array import array
from dataclasses import dataclass, field
from typing import Any

from .catalog import (
    BUNDLE_SEPARATELY_SKU,
    BUNDLE_TOGETHER_SKU,
    CONFIGURABLE_SKUS,
    PRODUCTS,
    SIMPLE_SKUS,
    store_name,
)
from .clock import format_ts

STATE_FOR_STATUS = {
    "pending": "new",
    "processing": "processing",
    "holded": "holded",
    "complete": "complete",
    "canceled": "canceled",
    "closed": "closed",
    "fraud": "payment_review",
    "pending_payment": "pending_payment",
}
STATUS_LABELS = {
    "pending": "Pending",
    "processing": "Processing",
    "holded": "On Hold",
    "complete": "Complete",
    "canceled": "Canceled",
}
SEED_SPAN_SECONDS = 42 * 86400  # created_at spreads over the six weeks before `now`
STORE_PREFIX = {1: "", 2: "2", 3: "3", 4: "4", 0: "9"}


@dataclass
class OrderIndex:
    """Columns indexed by row position; entity_id == position + 1."""

    created: array = field(default_factory=lambda: array("q"))
    updated: array = field(default_factory=lambda: array("q"))
    status: array = field(default_factory=lambda: array("B"))  # codes into status_names
    state: array = field(default_factory=lambda: array("B"))  # codes into state_names
    store: array = field(default_factory=lambda: array("h"))
    sequence: array = field(default_factory=lambda: array("l"))  # per-store increment number
    status_names: list[str] = field(default_factory=list)
    state_names: list[str] = field(default_factory=list)
    next_sequence: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.created)

    def code(self, names: list[str], value: str) -> int:
        try:
            return names.index(value)
        except ValueError:
            names.append(value)
            return len(names) - 1

    def append(self, created: int, updated: int, status: str, state: str, store_id: int) -> int:
        seq = self.next_sequence.get(store_id, 1)
        self.next_sequence[store_id] = seq + 1
        self.created.append(created)
        self.updated.append(updated)
        self.status.append(self.code(self.status_names, status))
        self.state.append(self.code(self.state_names, state))
        self.store.append(store_id)
        self.sequence.append(seq)
        return len(self.created)  # entity_id

    def increment_id(self, pos: int) -> str:
        return f"{STORE_PREFIX.get(self.store[pos], '8')}{self.sequence[pos]:08d}".rjust(9, "0")

    def row(self, pos: int) -> dict[str, Any]:
        return {
            "entity_id": pos + 1,
            "created_at": format_ts(self.created[pos]),
            "updated_at": format_ts(self.updated[pos]),
            "status": self.status_names[self.status[pos]],
            "state": self.state_names[self.state[pos]],
            "store_id": self.store[pos],
            "increment_id": self.increment_id(pos),
        }


def cluster_plan(order_count: int) -> list[tuple[float, int, str]]:
    """(position fraction, size, status) of orders updated in one second (mass actions)."""
    n = order_count
    plan: list[tuple[float, int, str]] = []
    if n >= 10:
        plan += [
            (0.3, max(2, n // 20), "complete"),
            (0.5, max(2, n // 50), "canceled"),
            (0.7, 5, "processing"),
            (0.95, 3, "processing"),
        ]
    if n > 400:
        plan.append((0.8, min(n // 2, 300 + max(12, min(n // 100, 700))), "processing"))
    return plan


def build_index(seed: int | str, order_count: int, now_epoch: int) -> OrderIndex:
    """Generate the order index: fast enough for a million rows."""
    rng = random.Random(f"sandbox-index:{seed}:{order_count}:{now_epoch}")
    rand = rng.random
    idx = OrderIndex()
    idx.status_names.extend(["pending", "processing", "holded", "complete", "canceled"])
    idx.state_names.extend(["new", "processing", "holded", "complete", "canceled"])
    n = order_count
    if n <= 0:
        return idx
    recent = max(1, n // 50)
    older = n - recent
    start = now_epoch - SEED_SPAN_SECONDS
    created = idx.created
    step = (SEED_SPAN_SECONDS - 3600) / older if older else 0.0
    for i in range(older):
        created.append(start + int((i + rand()) * step))
    rstep = 3600 / recent
    for j in range(recent):
        created.append(now_epoch - 3600 + int((j + rand()) * rstep))
    # The newest order was placed in the last second before the sandbox opened: every
    # seeded second has ended by the time a client asks (updates come with the clock).
    created[n - 1] = now_epoch - 1
    updated = idx.updated
    status = idx.status
    store = idx.store
    seqs = idx.sequence
    counters = {1: 0, 2: 0, 3: 0}
    for i in range(n):
        c = created[i]
        age = now_epoch - c
        r = rand()
        if age < 3600:
            code = 0 if r < 0.5 else 1
        elif r < 0.12:
            code = 0
        elif r < 0.45:
            code = 1
        elif r < 0.50:
            code = 2
        elif r < 0.88:
            code = 3
        else:
            code = 4
        status.append(code)
        updated.append(c if code == 0 else c + int(rand() * min(age, 3 * 86400)))
        r = rand()
        sid = 1 if r < 0.6 else 2 if r < 0.85 else 3
        store.append(sid)
        counters[sid] += 1
        seqs.append(counters[sid])
    for frac, size, cluster_status in cluster_plan(n):
        p = min(n - 1, int(frac * n))
        if size > p:
            continue
        moment = created[p]
        code = idx.status_names.index(cluster_status)
        for m in rng.sample(range(p), size):
            updated[m] = moment
            status[m] = code
    idx.state.extend(status)  # state codes were registered in the same order as the statuses
    idx.next_sequence = {sid: cnt + 1 for sid, cnt in counters.items()}
    return idx


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
TAX_PERCENT = {1: 8.25, 2: 20.0, 3: 19.0}
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
#: Fixed Product Tax (module Weee: a recycling fee on electrical goods, set per country on
#: the product's FPT attribute): (sku, store_id) -> amount per unit. The Weee item fields
#: are floats except ``weee_tax_applied``, a JSON-encoded list (OrderItemInterface) whose
#: entries are titled with the attribute code. Prices exclude tax, so the fee is added to
#: the grand total.
FPT_ATTRIBUTE = "recycling_fee"
FIXED_PRODUCT_TAX = {("BND-LAMP", 2): 0.42, ("BND-LAMP", 3): 0.25}
FIXED_LINES = {  # the first orders cover every line type, whatever the randomness
    1: ["simple", "configurable"],
    2: ["bundle_together"],
    3: ["bundle_separately", "simple"],
    4: ["virtual"],
    5: ["downloadable", "configurable"],
    6: [
        "simple",
        "bundle_together",
        "bundle_separately",
        "configurable",
        "virtual",
        "downloadable",
    ],
}


def money(x: float) -> float | int:
    """Magento prints whole amounts as integers and keeps cents otherwise."""
    v = round(x + 0.0, 4)
    return int(v) if v.is_integer() else round(v, 2)


def choose_lines(rng: random.Random, entity_id: int) -> list[str]:
    if entity_id in FIXED_LINES:
        return FIXED_LINES[entity_id]
    if rng.random() < 0.06:
        return rng.choice([["virtual"], ["downloadable"], ["virtual", "downloadable"]])
    kinds = [
        "simple",
        "configurable",
        "bundle_together",
        "bundle_separately",
        "virtual",
        "downloadable",
    ]
    weights = [40, 25, 12, 12, 6, 5]
    lines = {rng.choices(kinds, weights)[0] for _ in range(1 + int(rng.random() * 3))}
    if not lines - {"virtual", "downloadable"}:
        lines.add("simple")
    return sorted(lines, key=kinds.index)


class _ItemFactory:
    """Builds OrderItemInterface dicts for one order."""

    def __init__(self, entity_id: int, store_id: int, created: str, updated: str, status: str):
        self.entity_id = entity_id
        self.store_id = store_id
        self.created = created
        self.updated = updated
        self.status = status
        self.items: list[dict[str, Any]] = []
        self.tax_percent = TAX_PERCENT.get(store_id, 0.0)

    def _qtys(self, qty: float, *, shippable: bool, dummy: bool) -> dict[str, Any]:
        invoiced = self.status in ("processing", "complete", "holded")
        shipped = self.status == "complete" and shippable and not dummy
        canceled = self.status == "canceled" and not dummy
        return {
            "qty_canceled": qty if canceled else 0,
            "qty_invoiced": qty if invoiced and not dummy else 0,
            "qty_ordered": qty,
            "qty_refunded": 0,
            "qty_shipped": qty if shipped else 0,
        }

    def add(
        self,
        sku: str,
        qty: float,
        price: float,
        *,
        product_type: str,
        name: str,
        parent: dict[str, Any] | None = None,
        shippable: bool = True,
        dummy: bool = False,
        weight: float | None = None,
        product_id: int | None = None,
        product_option: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        item_id = self.entity_id * 20 + len(self.items) + 1
        row_total = price * qty
        tax = round(row_total * self.tax_percent / 100, 2)
        item: dict[str, Any] = {
            "amount_refunded": 0,
            "base_amount_refunded": 0,
            "base_discount_amount": 0,
            "base_discount_invoiced": 0,
            "base_discount_tax_compensation_amount": 0,
            "base_original_price": money(price),
            "base_price": money(price),
            "base_price_incl_tax": money(price * (1 + self.tax_percent / 100)),
            "base_row_invoiced": 0,
            "base_row_total": money(row_total),
            "base_row_total_incl_tax": money(row_total + tax),
            "base_tax_amount": money(tax),
            "base_tax_invoiced": 0,
            "created_at": self.created,
            "discount_amount": 0,
            "discount_invoiced": 0,
            "discount_percent": 0,
            "free_shipping": 0,
            "discount_tax_compensation_amount": 0,
            "is_qty_decimal": 0,
            "is_virtual": 0 if shippable else 1,
            "item_id": item_id,
            "name": name,
            "no_discount": 0,
            "order_id": self.entity_id,
            "original_price": money(price),
            "price": money(price),
            "price_incl_tax": money(price * (1 + self.tax_percent / 100)),
            "product_id": product_id if product_id is not None else PRODUCTS[sku].id,
            "product_type": product_type,
            "quote_item_id": item_id + 5000,
            "row_invoiced": 0,
            "row_total": money(row_total),
            "row_total_incl_tax": money(row_total + tax),
            "row_weight": money((weight or 0) * qty),
            "sku": sku,
            "store_id": self.store_id,
            "tax_amount": money(tax),
            "tax_invoiced": 0,
            "tax_percent": money(self.tax_percent),
            "updated_at": self.updated,
        }
        if weight is not None:
            item["weight"] = money(weight)
        fee = FIXED_PRODUCT_TAX.get((sku, self.store_id))
        if fee is not None:
            item.update(_fixed_product_tax(fee, qty))
        item.update(self._qtys(qty, shippable=shippable, dummy=dummy))
        if self.status in ("processing", "complete", "holded") and not dummy:
            item["row_invoiced"] = item["row_total"]
            item["base_row_invoiced"] = item["base_row_total"]
            item["tax_invoiced"] = item["tax_amount"]
            item["base_tax_invoiced"] = item["base_tax_amount"]
        if product_option is not None:
            item["product_option"] = product_option
        if parent is not None:
            item["parent_item_id"] = parent["item_id"]
            item["parent_item"] = dict(sorted(parent.items()))
        self.items.append(item)
        return item


def _fixed_product_tax(fee: float, qty: float) -> dict[str, Any]:
    """The Weee fields of an order item carrying a Fixed Product Tax of ``fee`` per unit."""
    row = money(fee * qty)
    applied = {
        "title": FPT_ATTRIBUTE,
        "base_amount": money(fee),
        "amount": money(fee),
        "row_amount": row,
        "base_row_amount": row,
        "base_amount_incl_tax": money(fee),
        "amount_incl_tax": money(fee),
        "row_amount_incl_tax": row,
        "base_row_amount_incl_tax": row,
    }
    return {
        "weee_tax_applied": json.dumps([applied], separators=(",", ":")),  # PHP json_encode
        "weee_tax_applied_amount": money(fee),
        "base_weee_tax_applied_amount": money(fee),
        "weee_tax_applied_row_amount": row,
        "base_weee_tax_applied_row_amnt": row,
        "weee_tax_disposition": 0,
        "base_weee_tax_disposition": 0,
        "weee_tax_row_disposition": 0,
        "base_weee_tax_row_disposition": 0,
    }


def _configurable(f: _ItemFactory, rng: random.Random) -> None:
    parent_p = PRODUCTS[rng.choice(CONFIGURABLE_SKUS)]
    child_p = PRODUCTS[rng.choice(parent_p.children)]
    qty = rng.choice([1, 1, 1, 2])
    options = [{"option_id": k, "option_value": v} for k, v in child_p.options.items()]
    parent = f.add(
        child_p.sku,
        qty,
        child_p.price,
        product_type="configurable",
        name=parent_p.name,
        weight=child_p.weight,
        product_id=parent_p.id,
        product_option={"extension_attributes": {"configurable_item_options": options}},
    )
    # The child row is a "dummy": price 0, and qty_shipped/qty_canceled stay 0 forever.
    child = f.add(
        child_p.sku,
        qty,
        0,
        product_type="simple",
        name=child_p.name,
        parent=parent,
        dummy=True,
        weight=child_p.weight,
    )
    for key in ("price_incl_tax", "base_price_incl_tax", "base_original_price"):
        child.pop(key, None)
    child["qty_invoiced"] = 0


def _bundle(f: _ItemFactory, rng: random.Random, sku: str) -> None:
    bundle = PRODUCTS[sku]
    picks = [s for s in bundle.selections if rng.random() < 0.8]
    if len(picks) < 2:
        picks = list(bundle.selections[:2])
    qty = rng.choice([1, 1, 2])
    price = sum(PRODUCTS[s].price * q for s, q in picks)
    bundle_options = [
        {
            "option_id": bundle.id * 10 + bundle.selections.index((s, q)) + 1,
            "option_qty": q,
            "option_selections": [bundle.id * 100 + bundle.selections.index((s, q)) + 1],
        }
        for s, q in picks
    ]
    separately = bundle.shipment_type == "1"
    parent = f.add(
        "-".join([bundle.sku, *(s for s, _ in picks)]),
        qty,
        price,
        product_type="bundle",
        name=bundle.name,
        product_id=bundle.id,
        product_option={"extension_attributes": {"bundle_options": bundle_options}},
    )
    if f.status == "complete" and separately:
        parent["qty_shipped"] = 1  # dummy parent: +1 per shipment holding any of its children
    for s, q in picks:
        child_p = PRODUCTS[s]
        f.add(
            s,
            q * qty,
            child_p.price,
            product_type=child_p.type_id,
            name=child_p.name,
            parent=parent,
            shippable=child_p.type_id != "virtual",
            weight=child_p.weight,
        )


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
    f = _ItemFactory(entity_id, store_id, created, updated, status)
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
            _configurable(f, rng)
        elif kind == "bundle_together":
            _bundle(f, rng, BUNDLE_TOGETHER_SKU)
        elif kind == "bundle_separately":
            _bundle(f, rng, BUNDLE_SEPARATELY_SKU)
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

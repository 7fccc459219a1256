"""Order items as Magento writes them: simple, configurable (parent + child), bundles (parent +
one line per option, shipped together or separately), virtual and downloadable lines, with
their prices, taxes and Fixed Product Tax. Used by the seed and by guest checkout.
"""

from __future__ import annotations

import json
import random
from typing import Any

from .catalog import (
    CONFIGURABLE_SKUS,
    PRODUCTS,
)

TAX_PERCENT = {1: 8.25, 2: 20.0, 3: 19.0}
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


class ItemFactory:
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


def add_configurable(f: ItemFactory, rng: random.Random) -> None:
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


def add_bundle(f: ItemFactory, rng: random.Random, sku: str) -> None:
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

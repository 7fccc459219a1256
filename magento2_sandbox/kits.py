"""Orders the seed never draws but a real store takes: a bundle shipped together with a
virtual option (reference §9.6).

``place_virtual_option_bundle`` places one now, like a customer would: the bundle parent, its
physical option (``BND-POT``) and its virtual option (``VRT-WARRANTY``, ``is_virtual`` 1).
Magento ships such a bundle through its parent and never moves the virtual option's
``qty_shipped``.
"""

from __future__ import annotations

from typing import Any

from .catalog import BUNDLE_WITH_VIRTUAL_SKU, PRODUCTS
from .data import SandboxData
from .order_items import ItemFactory, money


def place_virtual_option_bundle(
    data: SandboxData, *, qty: int = 1, status: str = "processing", store_id: int = 1
) -> dict[str, Any]:
    """Place an order (now) holding ``qty`` Travel Cook Sets; returns its JSON."""
    placed = data.add_order(status=status, store_id=store_id)
    while placed["is_virtual"]:  # a kit is shipped: it needs an order with a shipping address
        placed = data.add_order(status=status, store_id=store_id)
    entity_id = placed["entity_id"]
    bundle = PRODUCTS[BUNDLE_WITH_VIRTUAL_SKU]
    factory = ItemFactory(entity_id, store_id, placed["created_at"], placed["updated_at"], status)
    options = [
        {
            "option_id": bundle.id * 10 + position,
            "option_qty": per_kit,
            "option_selections": [bundle.id * 100 + position],
        }
        for position, (_sku, per_kit) in enumerate(bundle.selections, start=1)
    ]
    parent = factory.add(
        "-".join([bundle.sku, *(sku for sku, _ in bundle.selections)]),
        qty,
        sum(PRODUCTS[sku].price * per_kit for sku, per_kit in bundle.selections),
        product_type="bundle",
        name=bundle.name,
        product_id=bundle.id,
        product_option={"extension_attributes": {"bundle_options": options}},
    )
    for sku, per_kit in bundle.selections:
        option = PRODUCTS[sku]
        factory.add(
            sku,
            per_kit * qty,
            option.price,
            product_type=option.type_id,
            name=option.name,
            parent=parent,
            shippable=option.type_id != "virtual",
            weight=option.weight,
        )
    subtotal = parent["row_total"]
    tax = parent["tax_amount"]
    grand = subtotal + tax + float(placed.get("shipping_amount") or 0)
    invoiced = status in ("processing", "complete", "holded")
    totals = {
        "items": factory.items,
        "is_virtual": 0,
        "subtotal": money(subtotal),
        "base_subtotal": money(subtotal),
        "tax_amount": money(tax),
        "base_tax_amount": money(tax),
        "grand_total": money(grand),
        "base_grand_total": money(grand),
        "total_due": 0 if invoiced else money(grand),
        "base_total_due": 0 if invoiced else money(grand),
        "total_item_count": 1,
        "total_qty_ordered": money(qty),
    }
    return data.update_order(entity_id, updated_at=placed["updated_at"], **totals)

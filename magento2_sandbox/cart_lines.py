"""A guest cart's lines: what was chosen of each product, and what the line costs and takes.

A configurable line holds its chosen child, a bundle line its selections (option, selection
link, selected product, quantity per bundle); a line's SKU is the one Magento gives the order
item (the child's SKU, or the bundle's dynamic SKU).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .order_items import money
from .product_store import attribute_code, custom_attribute

VIRTUAL_TYPES = ("virtual", "downloadable")


@dataclass
class CartLine:
    """One quote line: a product, and for composite products what was chosen."""

    item_id: int
    product: dict[str, Any]
    qty: float
    child: dict[str, Any] | None = None  # configurable: the chosen child
    # bundle: (option, selection link, selected product, qty per bundle)
    selections: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], float]] = field(
        default_factory=list
    )

    @property
    def key(self) -> tuple[Any, ...]:
        """Lines with the same key merge when added again."""
        chosen = tuple(sorted((str(link["id"]), per) for _, link, _, per in self.selections))
        return self.product["id"], (self.child or {}).get("id"), chosen

    @property
    def is_virtual(self) -> bool:
        if self.child is not None:
            return self.child["type_id"] in VIRTUAL_TYPES
        if self.selections:
            return all(child["type_id"] in VIRTUAL_TYPES for _, _, child, _ in self.selections)
        return self.product["type_id"] in VIRTUAL_TYPES

    @property
    def fixed_price_bundle(self) -> bool:
        return str(custom_attribute(self.product, "price_type")) == "1"

    @property
    def sku(self) -> str:
        """The line's SKU: a configurable's child SKU, a bundle's dynamic SKU."""
        if self.child is not None:
            return str(self.child["sku"])
        if self.selections and str(custom_attribute(self.product, "sku_type")) != "1":
            return "-".join([self.product["sku"], *(c["sku"] for _, _, c, _ in self.selections)])
        return str(self.product["sku"])

    def unit_price(self) -> float:
        if self.child is not None:
            return float(self.child.get("price") or 0)
        if self.selections and self.fixed_price_bundle:
            extra = sum(float(link.get("price") or 0) * per for _, link, _, per in self.selections)
            return float(self.product.get("price") or 0) + extra
        if self.selections:
            return sum(float(child.get("price") or 0) * per for _, _, child, per in self.selections)
        return float(self.product.get("price") or 0)

    def stocked_qtys(self) -> dict[str, float]:
        """Quantity of each stock-keeping product this line takes."""
        if self.child is not None:
            return {self.child["sku"]: self.qty}
        if self.selections:
            out: dict[str, float] = {}
            for _, _, child, per in self.selections:
                out[child["sku"]] = out.get(child["sku"], 0) + per * self.qty
            return out
        return {self.product["sku"]: self.qty}

    def cart_item(self, quote_id: int) -> dict[str, Any]:
        """CartItemInterface, as ``POST .../items`` answers it."""
        item: dict[str, Any] = {
            "item_id": self.item_id,
            "sku": self.sku,
            "qty": money(self.qty),
            "name": self.product["name"],
            "price": money(self.unit_price()),
            "product_type": self.product["type_id"],
            "quote_id": str(quote_id),
        }
        if self.child is not None:
            options = [
                {"option_id": str(o["attribute_id"]), "option_value": int(v)}
                for o, v in chosen_values(self)
            ]
            item["product_option"] = {
                "extension_attributes": {"configurable_item_options": options}
            }
        if self.selections:
            item["product_option"] = {
                "extension_attributes": {"bundle_options": bundle_options(self)}
            }
        return item


def chosen_values(line: CartLine) -> list[tuple[dict[str, Any], Any]]:
    """Each configurable option of the parent with the chosen child's value for it."""
    options = (line.product.get("extension_attributes") or {}).get("configurable_product_options")
    out = []
    for option in options or []:
        code = attribute_code(option["attribute_id"])
        out.append((option, custom_attribute(line.child or {}, code)))
    return out


def bundle_options(line: CartLine) -> list[dict[str, Any]]:
    """The item's ``bundle_options``: per option its quantity and selection ids."""
    by_option: dict[int, dict[str, Any]] = {}
    for option, link, _, per in line.selections:
        entry = by_option.setdefault(
            int(option["option_id"]),
            {
                "option_id": int(option["option_id"]),
                "option_qty": money(per),
                "option_selections": [],
            },
        )
        entry["option_selections"].append(int(link["id"]))
    return list(by_option.values())

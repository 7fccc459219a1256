"""One sandbox's catalog as it is now: the seeded products plus those saved through the API.

Products saved with ``POST /V1/products`` are kept as the ProductInterface JSON Magento answers
with, so every catalog read (``GET /V1/products``, ``GET /V1/products/{sku}``), the cart and the
ship rules (a bundle's ``shipment_type``, looked up by product id) see them. Stock follows
Magento's MSI: placing an order adds a reservation that lowers the salable quantity, while the
product's own ``stock_item.qty`` (the source quantity) stays until the goods ship.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from .catalog import PRODUCTS, product_json
from .inventory import source_items

FIRST_CREATED_PRODUCT_ID = 101
#: eav_attribute_option ids are shared by every attribute, so new ones follow the seeded ones.
FIRST_CREATED_OPTION_ID = 170
#: Attribute id and the seeded options (id -> admin label) of the select attributes.
ATTRIBUTES: dict[str, tuple[str, dict[int, str]]] = {
    "color": ("93", {49: "Black", 50: "Blue", 52: "Gray", 58: "Red"}),
    "size": ("142", {167: "S", 168: "M", 169: "L"}),
}


def attribute_code(attribute_id: Any) -> str:
    """The code of a select attribute by id (``"93"`` -> ``"color"``)."""
    for code, (known_id, _) in ATTRIBUTES.items():
        if known_id == str(attribute_id):
            return code
    return str(attribute_id)


class ProductStore:
    """Products, attribute options, and reservations of one sandbox (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._saved: dict[str, dict[str, Any]] = {}  # lower-case sku -> product JSON
        self._ids: dict[int, str] = {}  # product id -> lower-case sku of a saved product
        self._counters = {
            "product": FIRST_CREATED_PRODUCT_ID,
            "option": FIRST_CREATED_OPTION_ID,
            "bundle_option": 1001,
            "selection": 10001,
            "configurable_option": 1001,
            "stock_item": 1001,
        }
        self._options = {code: dict(values) for code, (_, values) in ATTRIBUTES.items()}
        self._reserved: dict[str, float] = {}

    def next_id(self, kind: str) -> int:
        with self.lock:
            value = self._counters[kind]
            self._counters[kind] = value + 1
            return value

    # -- products ------------------------------------------------------------------------------
    def get(self, sku: str) -> dict[str, Any] | None:
        """The product (a copy) by SKU, case-insensitively like MySQL's collation."""
        wanted = sku.lower()
        with self.lock:
            saved = self._saved.get(wanted)
            if saved is not None:
                return copy.deepcopy(saved)
        for seeded in PRODUCTS:
            if seeded.lower() == wanted:
                return product_json(seeded)
        return None

    def by_id(self, product_id: Any) -> dict[str, Any] | None:
        with self.lock:
            sku = self._ids.get(_as_int(product_id))
            if sku is not None:
                return copy.deepcopy(self._saved[sku])
        for seeded in PRODUCTS.values():
            if seeded.id == _as_int(product_id):
                return self.get(seeded.sku)
        return None

    def put(self, product: dict[str, Any]) -> None:
        """Store a saved product (its ``id`` already set)."""
        with self.lock:
            key = product["sku"].lower()
            self._saved[key] = copy.deepcopy(product)
            self._ids[int(product["id"])] = key

    def rows(self) -> list[dict[str, Any]]:
        """Every product as a list row (``entity_id`` for filters): seeded, then saved ones."""
        with self.lock:
            seeded = [self.get(sku) for sku in PRODUCTS]
            saved_ids = {int(p["id"]) for p in self._saved.values()}
            rows = [p for p in seeded if p is not None and int(p["id"]) not in saved_ids]
            rows += [copy.deepcopy(p) for p in self._saved.values()]
        return [{**p, "entity_id": p["id"]} for p in rows]

    def shipment_type(self, product_id: Any) -> str | None:
        """A bundle's ``shipment_type`` ("0" together, "1" separately); None otherwise."""
        product = self.by_id(product_id)
        if product is None or product.get("type_id") != "bundle":
            return None
        return custom_attribute(product, "shipment_type")

    # -- attribute options ---------------------------------------------------------------------
    def attribute_id(self, code: str) -> str | None:
        known = ATTRIBUTES.get(code)
        return known[0] if known else None

    def add_option(self, code: str, label: str) -> int | None:
        """A new option's id; None when the label is taken."""
        with self.lock:
            options = self._options[code]
            if label in options.values():
                return None
            option_id = self.next_id("option")
            options[option_id] = label
            return option_id

    # -- stock (MSI reservations) --------------------------------------------------------------
    def salable_qty(self, product: dict[str, Any]) -> float:
        """Source quantity minus reservations; 0 when out of stock."""
        stock = (product.get("extension_attributes") or {}).get("stock_item")
        if isinstance(stock, dict):
            if not stock.get("is_in_stock"):
                return 0
            quantity = float(stock.get("qty") or 0)
        else:
            quantity = sum(
                float(row["quantity"])
                for row in source_items()
                if row["sku"] == product["sku"] and row["source_code"] == "default"
            )
        with self.lock:
            return quantity - self._reserved.get(product["sku"].lower(), 0)

    def reserve(self, sku: str, qty: float) -> None:
        """Place (qty > 0) or compensate (qty < 0) a reservation."""
        with self.lock:
            key = sku.lower()
            self._reserved[key] = self._reserved.get(key, 0) + qty


def custom_attribute(product: dict[str, Any], code: str) -> Any:
    for attribute in product.get("custom_attributes") or []:
        if isinstance(attribute, dict) and attribute.get("attribute_code") == code:
            return attribute.get("value")
    return None


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1

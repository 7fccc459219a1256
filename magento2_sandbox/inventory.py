"""Source items (MSI stock per product and source) and ``GET /V1/inventory/source-items``.

Every stock-keeping product (simple, virtual, downloadable) has a row in the ``default``
source; products with an even id are also stocked in ``eu_warehouse``. Quantities are
fixed per product and source. Configurable and bundle products keep no stock of their own.
"""

from __future__ import annotations

from typing import Any

from .catalog import PRODUCTS
from .search_answer import search_answer

SOURCE_ITEM_COLUMNS = frozenset({"source_item_id", "sku", "source_code", "quantity", "status"})
STOCKED_TYPES = frozenset({"simple", "virtual", "downloadable"})


def source_items() -> list[dict[str, Any]]:
    """Every source item, in (sku, source_code) order."""
    rows = []
    for product in PRODUCTS.values():
        if product.type_id not in STOCKED_TYPES:
            continue
        sources = ["default"] + (["eu_warehouse"] if product.id % 2 == 0 else [])
        for k, source in enumerate(sources):
            quantity = (product.id * 7 + k * 5) % 40
            rows.append(
                {
                    "sku": product.sku,
                    "source_code": source,
                    "quantity": quantity,
                    "status": 1 if quantity > 0 else 0,
                }
            )
    return sorted(rows, key=lambda r: (r["sku"].lower(), r["source_code"]))


def source_items_list(call: Any) -> tuple[int, Any]:
    """``GET /V1/inventory/source-items`` (SourceItemRepositoryInterface::getList)."""
    rows = [{**row, "source_item_id": n + 1} for n, row in enumerate(source_items())]
    return search_answer(call, rows, SOURCE_ITEM_COLUMNS, hidden="source_item_id")

"""How a bundle ships (together or separately), read from the catalog.

The order JSON does not say. The catalog product does (``shipment_type`` "0" together, "1"
separately), but the bundle's order SKU is usually the dynamic concatenation of its options'
SKUs, so the product is found by id (``GET /V1/products`` with ``entity_id eq``). Magento's
validation messages are never parsed for it: under ``/rest/<code>/V1`` they are translated
into the store view's language (reference §9.9).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from magerest import sales
from magerest.client import MagentoClient
from magerest.sales import as_id

TOGETHER = "0"
SEPARATELY = "1"
#: The ACL resource ``GET /V1/products`` needs.
CATALOG_RESOURCE = "Magento_Catalog::products"


def shipment_type_of(product: Mapping[str, Any]) -> str | None:
    """``"0"``/``"1"`` from a catalog product (custom or extension attribute), else None."""
    extension = product.get("extension_attributes")
    if isinstance(extension, Mapping) and str(extension.get("shipment_type")) in (
        TOGETHER,
        SEPARATELY,
    ):
        return str(extension["shipment_type"])
    for attribute in product.get("custom_attributes") or []:
        if isinstance(attribute, Mapping) and attribute.get("attribute_code") == "shipment_type":
            value = str(attribute.get("value"))
            return value if value in (TOGETHER, SEPARATELY) else None
    return None


def from_catalog(client: MagentoClient, product_ids: Iterable[int]) -> dict[int, str]:
    """Shipment types by product id, read from the catalog (``GET /V1/products`` by id).

    Products the catalog no longer has, or that are not bundles, are simply missing.

    Raises:
        magerest.client.MagentoAPIError: the catalog cannot be read (e.g. HTTP 401 when
            the integration lacks ``Magento_Catalog::products``).
    """
    found: dict[int, str] = {}
    for product_id in sorted(set(product_ids)):
        product = sales.product_by_id(client, product_id)
        kind = None if product is None else shipment_type_of(product)
        if kind is not None:
            found[product_id] = kind
    return found


def separately_by_parent(
    client: MagentoClient, parents: set[int], order_items: Mapping[int, Mapping[str, Any]]
) -> dict[int, bool]:
    """Separately (True) or together (False) by bundle parent item id, from the catalog.

    ``order_items`` (the order's items by item id) gives each parent's product id; parents
    whose product the catalog does not have as a bundle are missing.
    """
    product_of = {
        parent: as_id(order_items.get(parent, {}).get("product_id")) for parent in parents
    }
    types = from_catalog(client, [pid for pid in product_of.values() if pid is not None])
    return {parent: types[pid] == SEPARATELY for parent, pid in product_of.items() if pid in types}

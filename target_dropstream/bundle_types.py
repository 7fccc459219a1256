"""How a bundle ships (together or separately): from the catalog, or from Magento's refusal.

The order JSON does not say. The catalog product does (``shipment_type`` "0" together, "1"
separately), but the bundle's order SKU is usually the dynamic concatenation of its options'
SKUs, so the product is found by id (``GET /V1/products`` with ``entity_id eq``). When the
catalog cannot be read (the integration lacks ``Magento_Catalog::products``, or the lookup
fails), the ship endpoint's validation message names the bundle and its type instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

import requests

from tap_magento2.api import MagentoAPIError

TOGETHER = "0"
SEPARATELY = "1"
_MESSAGE = re.compile(
    r'bundle product "(?P<sku>.*?)" has shipment type "(?P<type>Together|Separately)"'
)


class CatalogReader(Protocol):
    """The part of ``tap_magento2.api.MagentoClient`` the catalog lookup uses."""

    def search(
        self,
        path: str,
        filter_groups: Any = (),
        sort: Any = (),
        page_size: int = 100,
        fields: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of a searchCriteria query."""
        ...


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


def from_catalog(
    client: CatalogReader, product_ids: Iterable[int]
) -> tuple[dict[int, str], str | None]:
    """Shipment types by product id, and why the lookup failed (None when it did not).

    Products the catalog no longer has, or that are not bundles, are simply missing.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}, None
    found: dict[int, str] = {}
    try:
        for product_id in ids:
            for product in client.search(
                "/V1/products",
                filter_groups=[[("entity_id", str(product_id), "eq")]],
                page_size=10,
            ):
                kind = shipment_type_of(product)
                if kind is not None and str(product.get("id")) == str(product_id):
                    found[product_id] = kind
    except MagentoAPIError as exc:
        if exc.status is not None and exc.magento_message:
            return found, f"HTTP {exc.status} from {exc.endpoint}: {exc.magento_message}"
        return found, str(exc)
    except requests.RequestException as exc:
        return found, f"{exc.__class__.__name__} reading the catalog"
    return found, None


def from_message(message: str | None) -> list[tuple[str, str]]:
    """(order SKU of the bundle, type) pairs named in a ship validation message."""
    if not message:
        return []
    return [
        (match["sku"], SEPARATELY if match["type"] == "Separately" else TOGETHER)
        for match in _MESSAGE.finditer(message)
    ]

"""Products and customers, read like orders (keyset on updated_at and their ``id``)."""

from __future__ import annotations

from typing import ClassVar

from tap_magento2.streams import KeysetSearchStream


class ProductsStream(KeysetSearchStream):
    """``GET /V1/products``: every product of the catalog (default scope), incrementally.

    Products have no ``store_id`` column: ``store_view_code`` does not filter them. Their
    JSON calls the id ``id``; searchCriteria filters and sorts it as ``entity_id``.
    """

    name = "products"
    path = "/V1/products"
    noun = "products"
    primary_keys = ("id",)
    id_key: ClassVar[str] = "id"
    id_field: ClassVar[str] = "entity_id"
    has_store_id: ClassVar[bool] = False


class CustomersStream(KeysetSearchStream):
    """``GET /V1/customers/search``: customer accounts (of the configured store view).

    Like products, the JSON calls the id ``id`` and searchCriteria calls it ``entity_id``.
    """

    name = "customers"
    path = "/V1/customers/search"
    noun = "customers"
    primary_keys = ("id",)
    id_key: ClassVar[str] = "id"
    id_field: ClassVar[str] = "entity_id"

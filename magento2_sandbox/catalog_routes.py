"""Catalog endpoints over the sandbox's live catalog: ``GET /V1/products`` (search),
``GET /V1/products/{sku}``, ``POST /V1/products`` (simple, virtual, configurable, bundle; an
upsert by SKU, like ProductRepository::save) and ``POST /V1/products/attributes/{code}/options``.

A saved product is answered as ``GET /V1/products/{sku}`` then shows it: bundle options with
their ``option_id`` and each link's selection ``id``, configurable options with their ``id``,
and ``extension_attributes.stock_item``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .catalog import PRODUCT_COLUMNS
from .errors import MagentoError, field_required, product_not_found
from .product_store import ProductStore, attribute_code, custom_attribute
from .search_answer import search_answer

if TYPE_CHECKING:
    from .endpoints import Call

PRODUCT_TYPES = ("simple", "virtual", "downloadable", "configurable", "bundle")
#: Types without weight (``Product\Type\AbstractType::hasWeight`` is false).
WEIGHTLESS = ("virtual", "downloadable")
INVALID_DATA = "Invalid product data: %1"
EMPTY_VALUE = 'The "%1" attribute value is empty. Set the attribute and try again.'
NO_ATTRIBUTE = (
    'The attribute with a "%1" attributeCode doesn\'t exist. Verify the attribute and try again.'
)
EMPTY_LABEL = "The attribute option label is empty. Enter the value and try again."
LABEL_TAKEN = 'Admin store attribute option label "%1" is already exists.'
MISSING_ATTRIBUTE = 'Product with id "%1" does not contain required attribute "%2".'
SAME_VALUES = 'Products "%1" and "%2" have the same set of attribute values.'
BUNDLE_DEFAULTS = {
    "price_type": "0",
    "sku_type": "0",
    "weight_type": "0",
    "price_view": "0",
    "shipment_type": "0",
}


def product_get(call: Call) -> tuple[int, Any]:
    """``GET /V1/products/{sku}``."""
    product = call.app.data.catalog.get(call.params["sku"])
    if product is None:
        raise product_not_found()
    return 200, product


def product_save(call: Call) -> tuple[int, Any]:
    """``POST /V1/products``: create, or update the product with that SKU."""
    body = call.json_body()
    posted = body.get("product") if isinstance(body, dict) else None
    if not isinstance(posted, dict):
        raise field_required("product")
    store = call.app.data.catalog
    with store.lock:
        existing = store.get(str(posted.get("sku") or ""))
        product = _merged(store, posted, existing, call.app.data.clock.now_text())
        store.put(product)
    return 200, product


def attribute_option_add(call: Call) -> tuple[int, Any]:
    """``POST /V1/products/attributes/{code}/options``: the new option id, as a string."""
    code = call.params["code"]
    store = call.app.data.catalog
    if store.attribute_id(code) is None:
        raise MagentoError(404, NO_ATTRIBUTE, [code])
    body = call.json_body()
    option = body.get("option") if isinstance(body, dict) else None
    if not isinstance(option, dict):
        raise field_required("option")
    label = str(option.get("label") or "").strip()
    if not label:
        raise MagentoError(400, EMPTY_LABEL)
    option_id = store.add_option(code, label)
    if option_id is None:
        raise MagentoError(400, LABEL_TAKEN, [label])
    return 200, str(option_id)


# -- building the saved product -------------------------------------------------------------------


def _merged(
    store: ProductStore, posted: dict[str, Any], existing: dict[str, Any] | None, now: str
) -> dict[str, Any]:
    """The product as saved: the existing one (if any) with the posted values over it."""
    base = existing or {}
    type_id = str(posted.get("type_id") or base.get("type_id") or "simple")
    sku = str(posted.get("sku") or "").strip()
    name = str(posted.get("name") or base.get("name") or "").strip()
    _require(sku, "SKU")
    _require(name, "Product Name")
    if type_id not in PRODUCT_TYPES:
        raise MagentoError(400, INVALID_DATA, [f'Product type "{type_id}" is not available.'])
    price = posted.get("price", base.get("price"))
    if type_id not in ("configurable", "bundle"):
        _require(price, "Price")
    product_id = int(base["id"]) if base else store.next_id("product")
    product: dict[str, Any] = {
        "id": product_id,
        "sku": sku,
        "name": name,
        "attribute_set_id": int(posted.get("attribute_set_id", base.get("attribute_set_id", 4))),
        "price": _number(price if price is not None else 0),
        "status": int(posted.get("status", base.get("status", 1))),
        "visibility": int(posted.get("visibility", base.get("visibility", 4))),
        "type_id": type_id,
        "created_at": base.get("created_at", now),
        "updated_at": now,
    }
    weight = posted.get("weight", base.get("weight"))
    if weight is not None and type_id not in WEIGHTLESS:
        product["weight"] = _number(weight)
    custom = _custom_attributes(posted, base, type_id, name)
    product.update(
        {
            "extension_attributes": _extension(store, posted, base, product),
            "product_links": [],
            "options": [],
            "media_gallery_entries": [],
            "tier_prices": [],
            "custom_attributes": custom,
        }
    )
    return product


def _require(value: Any, label: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise MagentoError(400, INVALID_DATA, [EMPTY_VALUE.replace("%1", label)])


def _number(value: Any) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def _custom_attributes(
    posted: dict[str, Any], base: dict[str, Any], type_id: str, name: str
) -> list[dict[str, Any]]:
    values: dict[str, Any] = {"url_key": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")}
    values["tax_class_id"] = "0" if type_id in WEIGHTLESS else "2"
    if type_id == "bundle":
        values.update(BUNDLE_DEFAULTS)
    for source in (base.get("custom_attributes") or [], posted.get("custom_attributes") or []):
        for attribute in source:
            if isinstance(attribute, dict) and attribute.get("attribute_code"):
                values[str(attribute["attribute_code"])] = attribute.get("value")
    return [{"attribute_code": code, "value": value} for code, value in values.items()]


def _extension(
    store: ProductStore,
    posted: dict[str, Any],
    base: dict[str, Any],
    product: dict[str, Any],
) -> dict[str, Any]:
    old = base.get("extension_attributes") or {}
    new = posted.get("extension_attributes") or {}
    ext: dict[str, Any] = {"website_ids": list(new.get("website_ids", old.get("website_ids", [1])))}
    ext["stock_item"] = _stock_item(store, new.get("stock_item"), old.get("stock_item"), product)
    if product["type_id"] == "bundle":
        options = new.get("bundle_product_options", old.get("bundle_product_options")) or []
        ext["bundle_product_options"] = _bundle_options(store, options, product["sku"])
    if product["type_id"] == "configurable":
        options = new.get("configurable_product_options", old.get("configurable_product_options"))
        links = new.get("configurable_product_links", old.get("configurable_product_links"))
        ext["configurable_product_options"] = _configurable_options(
            store, options or [], product["id"]
        )
        ext["configurable_product_links"] = _configurable_links(
            store, [int(link) for link in links or []], ext["configurable_product_options"]
        )
    return ext


def _stock_item(
    store: ProductStore, posted: Any, old: Any, product: dict[str, Any]
) -> dict[str, Any]:
    """``cataloginventory_stock_item`` of the default stock (source ``default``)."""
    merged = {**(old or {}), **(posted if isinstance(posted, dict) else {})}
    return {
        "item_id": int(merged.get("item_id") or store.next_id("stock_item")),
        "product_id": product["id"],
        "stock_id": 1,
        "qty": _number(merged.get("qty") or 0),
        "is_in_stock": bool(merged.get("is_in_stock", False)),
        "is_qty_decimal": False,
        "manage_stock": True,
        "min_qty": 0,
        "min_sale_qty": 1,
        "max_sale_qty": 10000,
        "backorders": 0,
        "notify_stock_qty": 1,
    }


def _bundle_options(store: ProductStore, options: list[Any], sku: str) -> list[dict[str, Any]]:
    out = []
    for position, option in enumerate(options, start=1):
        if not isinstance(option, dict):
            continue
        option_id = int(option.get("option_id") or store.next_id("bundle_option"))
        links = []
        for link_position, link in enumerate(option.get("product_links") or [], start=1):
            if store.get(str(link.get("sku") or "")) is None:
                raise product_not_found()
            links.append(
                {
                    "id": str(link.get("id") or store.next_id("selection")),
                    "sku": link["sku"],
                    "option_id": option_id,
                    "qty": _number(link.get("qty", 1)),
                    "position": int(link.get("position", link_position)),
                    "is_default": bool(link.get("is_default", False)),
                    "price": _number(link.get("price", 0)),
                    "price_type": int(link.get("price_type", 0)),
                    "can_change_quantity": int(link.get("can_change_quantity", 0)),
                }
            )
        out.append(
            {
                "option_id": option_id,
                "title": str(option.get("title") or ""),
                "required": bool(option.get("required", True)),
                "type": str(option.get("type") or "select"),
                "position": int(option.get("position", position)),
                "sku": sku,
                "product_links": links,
            }
        )
    return out


def _configurable_options(
    store: ProductStore, options: list[Any], product_id: int
) -> list[dict[str, Any]]:
    return [
        {
            "id": int(option.get("id") or store.next_id("configurable_option")),
            "attribute_id": str(option.get("attribute_id")),
            "label": str(option.get("label") or ""),
            "position": int(option.get("position", position)),
            "values": [
                {"value_index": int(value["value_index"])}
                for value in option.get("values") or []
                if isinstance(value, dict) and "value_index" in value
            ],
            "product_id": product_id,
        }
        for position, option in enumerate(options)
        if isinstance(option, dict)
    ]


def _configurable_links(
    store: ProductStore, links: list[int], options: list[dict[str, Any]]
) -> list[int]:
    """Check each child has a value for every option, and no two children share them."""
    seen: dict[tuple[Any, ...], str] = {}
    for link in links:
        child = store.by_id(link)
        if child is None:
            raise product_not_found()
        values = []
        for option in options:
            code = attribute_code(option["attribute_id"])
            value = custom_attribute(child, code)
            if value in (None, ""):
                raise MagentoError(400, MISSING_ATTRIBUTE, [link, code])
            values.append(str(value))
        key = tuple(values)
        if key in seen:
            raise MagentoError(400, SAME_VALUES, [seen[key], child["sku"]])
        seen[key] = child["sku"]
    return links


def products_list(call: Call) -> tuple[int, Any]:
    """``GET /V1/products`` (ProductRepositoryInterface::getList) over the live catalog.

    The usual way to find a product by id: an order's bundle SKU is the dynamic
    concatenation of its options' SKUs, so ``GET /V1/products/{sku}`` does not find it.
    """
    rows = call.app.data.catalog.rows()  # seeded products and those saved through the API
    return search_answer(call, rows, PRODUCT_COLUMNS, hidden="entity_id")

"""The sandbox's small product catalog and store views.

The catalog knows what an order cannot tell: whether a bundle ships its items together or
separately (``shipment_type`` custom attribute, "0" together / "1" separately), just like a real
store's catalog.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

WEBSITE_NAME = "Main Website"
GROUP_NAME = "Main Website Store"
CATALOG_CREATED_AT = "2025-06-02 09:14:27"

# In configuration order (not by id), with the admin store and an inactive view, like Magento.
STORE_VIEWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "code": "default",
        "name": "Default Store View",
        "website_id": 1,
        "store_group_id": 1,
        "is_active": 1,
    },
    {
        "id": 0,
        "code": "admin",
        "name": "Admin",
        "website_id": 0,
        "store_group_id": 0,
        "is_active": 1,
    },
    {
        "id": 3,
        "code": "de",
        "name": "German Store View",
        "website_id": 1,
        "store_group_id": 1,
        "is_active": 1,
    },
    {
        "id": 2,
        "code": "fr",
        "name": "French Store View",
        "website_id": 1,
        "store_group_id": 1,
        "is_active": 1,
    },
    {
        "id": 4,
        "code": "es",
        "name": "Spanish Store View",
        "website_id": 1,
        "store_group_id": 1,
        "is_active": 0,
    },
]


#: general/locale/code per store view (admin and unlisted views: Magento's en_US).
LOCALES = {"default": "en_US", "de": "de_DE", "fr": "fr_FR", "es": "es_ES"}


def locale_of(store_code: str | None) -> str:
    """The locale Magento answers in under ``/rest/<store_code>/V1`` (``/rest/V1``: default)."""
    return LOCALES.get(store_code or "default", "en_US")


def store_view(store_id: int) -> dict[str, Any]:
    for view in STORE_VIEWS:
        if view["id"] == store_id:
            return view
    raise KeyError(store_id)


def store_name(store_id: int) -> str:
    """Order ``store_name``: website, store group and view names on separate lines."""
    return f"{WEBSITE_NAME}\n{GROUP_NAME}\n{store_view(store_id)['name']}"


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    name: str
    type_id: str
    price: float
    weight: float | None = None
    children: tuple[str, ...] = ()  # configurable: child SKUs
    options: dict[str, int] = field(default_factory=dict)  # configurable child: attr id -> value
    selections: tuple[tuple[str, int], ...] = ()  # bundle: (component sku, qty per bundle)
    shipment_type: str | None = None  # bundle: "0" together, "1" separately


_PRODUCTS = [
    Product(1, "SIM-MUG", "Enamel Camp Mug", "simple", 12.5, 0.4),
    Product(2, "SIM-BOTTLE", "Insulated Bottle", "simple", 24, 0.6),
    Product(3, "SIM-SOCKS", "Merino Hiking Socks", "simple", 16, 0.2),
    Product(
        10,
        "CFG-HOODIE",
        "Trail Hoodie",
        "configurable",
        52,
        None,
        children=("CFG-HOODIE-S-GRAY", "CFG-HOODIE-M-GRAY", "CFG-HOODIE-L-BLACK"),
    ),
    Product(
        11,
        "CFG-HOODIE-S-GRAY",
        "Trail Hoodie-S-Gray",
        "simple",
        52,
        1,
        options={"93": 52, "142": 167},
    ),
    Product(
        12,
        "CFG-HOODIE-M-GRAY",
        "Trail Hoodie-M-Gray",
        "simple",
        52,
        1,
        options={"93": 52, "142": 168},
    ),
    Product(
        13,
        "CFG-HOODIE-L-BLACK",
        "Trail Hoodie-L-Black",
        "simple",
        54,
        1,
        options={"93": 49, "142": 169},
    ),
    Product(
        20,
        "CFG-JACKET",
        "Rain Jacket",
        "configurable",
        89,
        None,
        children=("CFG-JACKET-M-BLUE", "CFG-JACKET-L-RED"),
    ),
    Product(
        21,
        "CFG-JACKET-M-BLUE",
        "Rain Jacket-M-Blue",
        "simple",
        89,
        1.2,
        options={"93": 50, "142": 168},
    ),
    Product(
        22,
        "CFG-JACKET-L-RED",
        "Rain Jacket-L-Red",
        "simple",
        92,
        1.2,
        options={"93": 58, "142": 169},
    ),
    Product(
        30,
        "BND-CAMP",
        "Camp Kitchen Kit",
        "bundle",
        0,
        None,
        selections=(("BND-STOVE", 1), ("BND-POT", 1), ("BND-SPORK", 2)),
        shipment_type="0",
    ),
    Product(31, "BND-STOVE", "Pocket Stove", "simple", 45, 0.3),
    Product(32, "BND-POT", "Titanium Pot", "simple", 38, 0.2),
    Product(33, "BND-SPORK", "Spork", "simple", 6, 0.05),
    Product(
        40,
        "BND-DESK",
        "Home Office Set",
        "bundle",
        0,
        None,
        selections=(("BND-LAMP", 1), ("BND-ORGANIZER", 1), ("BND-MAT", 1)),
        shipment_type="1",
    ),
    Product(41, "BND-LAMP", "Desk Lamp", "simple", 35, 1.5),
    Product(42, "BND-ORGANIZER", "Desk Organizer", "simple", 19, 0.8),
    Product(43, "BND-MAT", "Desk Mat", "simple", 14, 0.5),
    Product(
        70,
        "BND-TRAVEL",
        "Travel Cook Set",
        "bundle",
        0,
        None,
        selections=(("BND-POT", 1), ("VRT-WARRANTY", 1)),
        shipment_type="0",
    ),
    Product(50, "VRT-WARRANTY", "2-Year Protection Plan", "virtual", 15),
    Product(60, "DL-GUIDE", "Trail Guide eBook", "downloadable", 9.99),
]

PRODUCTS: dict[str, Product] = {p.sku: p for p in _PRODUCTS}
SIMPLE_SKUS = ("SIM-MUG", "SIM-BOTTLE", "SIM-SOCKS")
CONFIGURABLE_SKUS = ("CFG-HOODIE", "CFG-JACKET")
BUNDLE_TOGETHER_SKU = "BND-CAMP"
BUNDLE_SEPARATELY_SKU = "BND-DESK"
#: Shipped together, with a virtual option (a protection plan): never in the seeded orders,
#: placed on demand by ``kits.place_virtual_option_bundle``.
BUNDLE_WITH_VIRTUAL_SKU = "BND-TRAVEL"


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def product_json(sku: str) -> dict[str, Any]:
    """ProductInterface JSON as ``GET /V1/products/{sku}`` returns it."""
    p = PRODUCTS[sku]
    ext: dict[str, Any] = {"website_ids": [1]}
    custom: list[dict[str, Any]] = [
        {"attribute_code": "url_key", "value": p.sku.lower()},
        {"attribute_code": "tax_class_id", "value": "2"},
    ]
    if p.type_id == "bundle":
        links = []
        for pos, (child_sku, qty) in enumerate(p.selections, start=1):
            child = PRODUCTS[child_sku]
            links.append(
                {
                    "id": str(p.id * 100 + pos),
                    "sku": child_sku,
                    "option_id": p.id * 10 + pos,
                    "qty": qty,
                    "position": pos,
                    "is_default": True,
                    "price": 0,
                    "price_type": 0,
                    "can_change_quantity": 0,
                }
            )
            del child
        ext["bundle_product_options"] = [
            {
                "option_id": p.id * 10 + i,
                "title": PRODUCTS[link["sku"]].name,
                "required": True,
                "type": "checkbox",
                "position": i,
                "sku": p.sku,
                "product_links": [link],
            }
            for i, link in enumerate(links, start=1)
        ]
        custom += [
            {"attribute_code": "price_type", "value": "0"},
            {"attribute_code": "sku_type", "value": "0"},
            {"attribute_code": "weight_type", "value": "0"},
            {"attribute_code": "price_view", "value": "0"},
            {"attribute_code": "shipment_type", "value": p.shipment_type},
        ]
    for attribute_id, value in p.options.items():  # a configurable child's own values
        code = {"93": "color", "142": "size"}[attribute_id]
        custom.append({"attribute_code": code, "value": str(value)})
    if p.type_id == "configurable":
        ext["configurable_product_links"] = [PRODUCTS[c].id for c in p.children]
        ext["configurable_product_options"] = [
            {
                "id": p.id * 10 + 1,
                "attribute_id": "93",
                "label": "Color",
                "position": 0,
                "values": [{"value_index": PRODUCTS[c].options["93"]} for c in p.children],
                "product_id": p.id,
            },
            {
                "id": p.id * 10 + 2,
                "attribute_id": "142",
                "label": "Size",
                "position": 1,
                "values": [{"value_index": PRODUCTS[c].options["142"]} for c in p.children],
                "product_id": p.id,
            },
        ]
    out: dict[str, Any] = {
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "attribute_set_id": 4,
        "price": _num(p.price),
        "status": 1,
        "visibility": 1 if p.options else 4,
        "type_id": p.type_id,
        "created_at": CATALOG_CREATED_AT,
        "updated_at": CATALOG_CREATED_AT,
    }
    if p.weight is not None:
        out["weight"] = _num(p.weight)
    out.update(
        {
            "extension_attributes": ext,
            "product_links": [],
            "options": [],
            "media_gallery_entries": [],
            "tier_prices": [],
            "custom_attributes": custom,
        }
    )
    return copy.deepcopy(out)


# Columns of the catalog product collection a search may filter or sort on.
PRODUCT_COLUMNS = frozenset(
    {
        "entity_id",
        "sku",
        "name",
        "type_id",
        "price",
        "status",
        "visibility",
        "attribute_set_id",
        "created_at",
        "updated_at",
    }
)

"""The suite's own catalog and orders, made through Magento's REST API as a shop makes them.

Products are created with the admin token; orders are placed as guests through guest carts
(check/money order, flat rate) in both store views, then invoiced by the admin to
``processing`` or left ``pending``. Every SKU, product name and e-mail starts with the run
prefix, so the suite reads only what it made. Later admin actions (address edit, shipments,
refunds, hold, cancel) are made by the tests that prove what they do, on orders kept for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.contract.store import MagentoRest

#: Magento's "color" attribute in a default installation (the configurable's axis).
COLOR_ATTRIBUTE_ID = "93"
#: tap start_date = the store's clock when the run began, minus this (clock skew, lag).
START_MARGIN = timedelta(minutes=2)
STOCK = 10_000


@dataclass(frozen=True)
class Product:
    sku: str
    id: int
    type_id: str
    name: str


@dataclass(frozen=True)
class Bundle:
    """A bundle and what a cart needs to choose its options: (option_id, selection_id)."""

    product: Product
    shipment_type: str  # "0" together, "1" separately
    components: tuple[Product, ...]
    choices: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Catalog:
    simple_a: Product
    simple_b: Product
    simple_c: Product
    virtual: Product
    configurable: Product
    child_red: Product
    red_option: int
    together: Bundle
    separately: Bundle
    together_virtual: Bundle


@dataclass(frozen=True)
class CartLine:
    sku: str
    qty: int
    product_option: dict[str, Any] | None = None


@dataclass(frozen=True)
class PlacedOrder:
    """An order the suite placed: who it is in Magento and in which store view."""

    role: str
    entity_id: int
    increment_id: str
    email: str
    view: str


@dataclass
class Fixtures:
    prefix: str
    start_date: str  # ISO 8601 UTC, the tap's start_date for every run
    views: tuple[str, str]
    view_ids: dict[str, int]
    catalog: Catalog
    orders: dict[str, PlacedOrder] = field(default_factory=dict)

    def order(self, role: str) -> PlacedOrder:
        return self.orders[role]

    @property
    def entity_ids(self) -> list[int]:
        return sorted(order.entity_id for order in self.orders.values())


# -- catalog ------------------------------------------------------------------------------------
def _product_body(
    sku: str, name: str, type_id: str, price: float, **extension: Any
) -> dict[str, Any]:
    custom = extension.pop("custom_attributes", [])
    body: dict[str, Any] = {
        "sku": sku,
        "name": name,
        "attribute_set_id": 4,
        "price": price,
        "status": 1,
        "visibility": 4,
        "type_id": type_id,
        "extension_attributes": {
            "website_ids": [1],
            "stock_item": {"qty": STOCK, "is_in_stock": True},
            **extension,
        },
    }
    if type_id != "virtual":
        body["weight"] = 1
    if custom:
        body["custom_attributes"] = custom
    return {"product": body}


def _save(rest: MagentoRest, body: dict[str, Any]) -> Product:
    saved = rest.admin("POST", "/products", body)
    product = body["product"]
    return Product(product["sku"], int(saved["id"]), product["type_id"], product["name"])


def _simple(rest: MagentoRest, prefix: str, key: str, price: float) -> Product:
    return _save(rest, _product_body(f"{prefix}{key}", f"{prefix}{key} product", "simple", price))


def _bundle(
    rest: MagentoRest, prefix: str, key: str, shipment_type: str, components: list[Product]
) -> Bundle:
    options = [
        {
            "title": f"{component.name} option",
            "type": "select",
            "required": True,
            "product_links": [
                {
                    "sku": component.sku,
                    "qty": 1,
                    "is_default": True,
                    "can_change_quantity": 0,
                    "price": 0,
                    "price_type": 0,
                }
            ],
        }
        for component in components
    ]
    body = _product_body(
        f"{prefix}{key}",
        f"{prefix}{key} kit",
        "bundle",
        60,
        bundle_product_options=options,
        custom_attributes=[
            {"attribute_code": "shipment_type", "value": shipment_type},
            {"attribute_code": "price_type", "value": "1"},
            # Required on a real store (its product form always sends it): price shown as
            # "price range".
            {"attribute_code": "price_view", "value": "0"},
        ],
    )
    product = _save(rest, body)
    saved = rest.admin("GET", f"/products/{product.sku}")
    choices = []
    for option in saved["extension_attributes"]["bundle_product_options"]:
        [link] = option["product_links"]
        choices.append((int(option["option_id"]), int(link["id"])))
    return Bundle(product, shipment_type, tuple(components), tuple(choices))


def _configurable(rest: MagentoRest, prefix: str) -> tuple[Product, Product, int]:
    """A configurable with a red and a blue child; returns it, the red child, red's option."""
    colours = {}
    children = []
    for colour in ("red", "blue"):
        option = rest.admin(
            "POST", "/products/attributes/color/options", {"option": {"label": f"{prefix}{colour}"}}
        )
        colours[colour] = int(str(option).removeprefix("id_"))
        body = _product_body(
            f"{prefix}hoodie-{colour}",
            f"{prefix}hoodie {colour}",
            "simple",
            40,
            custom_attributes=[{"attribute_code": "color", "value": str(colours[colour])}],
        )
        children.append(_save(rest, body))
    body = _product_body(
        f"{prefix}hoodie",
        f"{prefix}hoodie",
        "configurable",
        40,
        configurable_product_options=[
            {
                "attribute_id": COLOR_ATTRIBUTE_ID,
                "label": "Color",
                "position": 0,
                "values": [{"value_index": value} for value in colours.values()],
            }
        ],
        configurable_product_links=[child.id for child in children],
    )
    return _save(rest, body), children[0], colours["red"]


def create_catalog(rest: MagentoRest, prefix: str) -> Catalog:
    simple_a = _simple(rest, prefix, "mug", 12)
    simple_b = _simple(rest, prefix, "bottle", 20)
    simple_c = _simple(rest, prefix, "socks", 8)
    tent = _simple(rest, prefix, "tent", 90)
    stove = _simple(rest, prefix, "stove", 45)
    virtual = _save(rest, _product_body(f"{prefix}warranty", f"{prefix}warranty", "virtual", 15))
    configurable, child_red, red = _configurable(rest, prefix)
    return Catalog(
        simple_a=simple_a,
        simple_b=simple_b,
        simple_c=simple_c,
        virtual=virtual,
        configurable=configurable,
        child_red=child_red,
        red_option=red,
        together=_bundle(rest, prefix, "camp-kit", "0", [tent, stove]),
        separately=_bundle(rest, prefix, "desk-kit", "1", [simple_b, simple_c]),
        together_virtual=_bundle(rest, prefix, "travel-kit", "0", [stove, virtual]),
    )


# -- carts ----------------------------------------------------------------------------------------
def configurable_line(catalog: Catalog, qty: int = 1) -> CartLine:
    option = {"option_id": COLOR_ATTRIBUTE_ID, "option_value": catalog.red_option}
    return CartLine(
        catalog.configurable.sku,
        qty,
        {"extension_attributes": {"configurable_item_options": [option]}},
    )


def bundle_line(bundle: Bundle, qty: int = 1) -> CartLine:
    options = [
        {"option_id": option_id, "option_qty": 1, "option_selections": [selection_id]}
        for option_id, selection_id in bundle.choices
    ]
    return CartLine(bundle.product.sku, qty, {"extension_attributes": {"bundle_options": options}})


def every_kind(catalog: Catalog) -> list[CartLine]:
    """One order with each product type: simple, virtual, configurable, three bundles."""
    return [
        CartLine(catalog.simple_a.sku, 2),
        CartLine(catalog.virtual.sku, 1),
        configurable_line(catalog),
        bundle_line(catalog.together),
        bundle_line(catalog.separately),
        bundle_line(catalog.together_virtual),
    ]


def address(email: str) -> dict[str, Any]:
    return {
        "firstname": "Casey",
        "lastname": "Contract",
        "street": ["1 Contract Way"],
        "city": "Austin",
        "region": "Texas",
        "region_id": 57,
        "postcode": "78701",
        "country_id": "US",
        "telephone": "5125550100",
        "email": email,
    }


def place_guest_order(
    rest: MagentoRest, view: str, email: str, lines: list[CartLine], *, virtual_only: bool = False
) -> int:
    """Check out as a guest in ``view``: cart, items, addresses, flat rate, check/money order."""
    cart = rest.guest("POST", "/guest-carts", view=view)
    for line in lines:
        item: dict[str, Any] = {"sku": line.sku, "qty": line.qty, "quote_id": cart}
        if line.product_option:
            item["product_option"] = line.product_option
        rest.guest("POST", f"/guest-carts/{cart}/items", {"cartItem": item}, view=view)
    where = address(email)
    if virtual_only:
        rest.guest("POST", f"/guest-carts/{cart}/billing-address", {"address": where}, view=view)
    else:
        information = {
            "shipping_address": where,
            "billing_address": where,
            "shipping_carrier_code": "flatrate",
            "shipping_method_code": "flatrate",
        }
        rest.guest(
            "POST",
            f"/guest-carts/{cart}/shipping-information",
            {"addressInformation": information},
            view=view,
        )
    payment = {"email": email, "paymentMethod": {"method": "checkmo"}, "billingAddress": where}
    order_id = rest.guest("POST", f"/guest-carts/{cart}/payment-information", payment, view=view)
    return int(order_id)


def invoice(rest: MagentoRest, order_id: int) -> int:
    return int(rest.admin("POST", f"/order/{order_id}/invoice", {"capture": True}))


# -- admin actions (the tests make them; the documents order gets them at build time) ----------
def order_json(rest: MagentoRest, order_id: int) -> dict[str, Any]:
    return rest.admin("GET", f"/orders/{order_id}")


def item_of(order: dict[str, Any], sku: str) -> dict[str, Any]:
    """The top-level order item of ``sku`` (children of bundles and configurables left out)."""
    return next(i for i in order["items"] if i["sku"] == sku and not i.get("parent_item_id"))


def ship_in_magento(rest: MagentoRest, order_id: int, items: dict[int, int]) -> int:
    """What a merchant's partial shipment in the admin does: POST /V1/order/{id}/ship."""
    body = {
        "items": [{"order_item_id": item_id, "qty": qty} for item_id, qty in items.items()],
        "notify": False,
    }
    return int(rest.admin("POST", f"/order/{order_id}/ship", body))


def refund_in_magento(rest: MagentoRest, order_id: int, items: dict[int, int]) -> int:
    body = {
        "items": [{"order_item_id": item_id, "qty": qty} for item_id, qty in items.items()],
        "notify": False,
    }
    return int(rest.admin("POST", f"/order/{order_id}/refund", body))


def edit_shipping_address(rest: MagentoRest, order_id: int, street: str) -> dict[str, Any]:
    """PUT /V1/orders/{parent_id}: the admin's address edit (Magento keeps updated_at)."""
    order = order_json(rest, order_id)
    shipping = order["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
    entity = {**shipping, "street": [street], "address_type": "shipping"}
    return rest.admin("PUT", f"/orders/{shipping['parent_id']}", {"entity": entity})


# -- the whole set ---------------------------------------------------------------------------
def order_plan(catalog: Catalog) -> dict[str, tuple[int, list[CartLine], str]]:
    """role -> (store view: 0 first, 1 second; the cart; left "pending" or "invoiced").

    Each order that a test changes in Magento belongs to that test alone, so the tests
    do not depend on their order."""
    a, b, c = catalog.simple_a.sku, catalog.simple_b.sku, catalog.simple_c.sku
    return {
        "kinds_lines": (0, every_kind(catalog), "invoiced"),
        "kinds_compact": (1, every_kind(catalog), "invoiced"),
        "kinds_full": (0, every_kind(catalog), "invoiced"),
        "virtual_only": (1, [CartLine(catalog.virtual.sku, 1)], "invoiced"),
        "pending_0": (0, [CartLine(b, 1)], "pending"),
        "pending_1": (1, [CartLine(b, 1)], "pending"),
        "incremental": (0, [CartLine(c, 1)], "pending"),
        "address_edit": (0, [CartLine(a, 1)], "invoiced"),
        "partial_magento": (1, [CartLine(a, 3)], "invoiced"),
        "refund": (0, [CartLine(a, 3), CartLine(b, 1)], "invoiced"),
        "hold": (0, [CartLine(c, 1)], "invoiced"),
        "cancel": (1, [CartLine(c, 1)], "pending"),
        "overship": (0, [CartLine(a, 3)], "invoiced"),
        "documents": (0, [CartLine(a, 2), CartLine(b, 1)], "invoiced"),
        "meltano": (1, [CartLine(b, 2)], "invoiced"),
    }


def build_fixtures(rest: MagentoRest, prefix: str, views: tuple[str, str]) -> Fixtures:
    """Make the catalog and every order of the run; the ``documents`` order also gets a
    shipment and a credit memo, so every sales stream has rows of this run."""
    rest.admin_token()
    started = rest.server_now() - START_MARGIN
    known = {view["code"]: int(view["id"]) for view in rest.admin("GET", "/store/storeViews")}
    missing = [view for view in views if view not in known]
    if missing:
        raise AssertionError(
            f"store view(s) {', '.join(missing)} do not exist in this store "
            f"(MAGENTO_CONTRACT_STORE_VIEWS); it has {', '.join(sorted(known))}"
        )
    catalog = create_catalog(rest, prefix)
    fixtures = Fixtures(
        prefix=prefix,
        start_date=_iso(started),
        views=views,
        view_ids={view: known[view] for view in views},
        catalog=catalog,
    )
    for role, (view_index, lines, left_as) in order_plan(catalog).items():
        view = views[view_index]
        email = f"{prefix}{role.replace('_', '-')}@example.com"
        virtual_only = all(line.sku == catalog.virtual.sku for line in lines)
        entity_id = place_guest_order(rest, view, email, lines, virtual_only=virtual_only)
        if left_as == "invoiced":
            invoice(rest, entity_id)
        increment_id = str(order_json(rest, entity_id)["increment_id"])
        fixtures.orders[role] = PlacedOrder(role, entity_id, increment_id, email, view)
    _add_documents(rest, fixtures)
    return fixtures


def _add_documents(rest: MagentoRest, fixtures: Fixtures) -> None:
    order_id = fixtures.order("documents").entity_id
    order = order_json(rest, order_id)
    mug = item_of(order, fixtures.catalog.simple_a.sku)
    bottle = item_of(order, fixtures.catalog.simple_b.sku)
    ship_in_magento(rest, order_id, {mug["item_id"]: 1})
    refund_in_magento(rest, order_id, {bottle["item_id"]: 1})


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")

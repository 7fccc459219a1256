"""Guest checkout: ``/V1/guest-carts`` and its items, shipping information, billing address and
payment information (anonymous routes), placing a real sandbox order.

The cart lives in the store view of the URL (``/rest/<code>/V1``), and so does its order
(numbered in that view's sequence). Only what an untouched store offers is offered here: flat
rate shipping (5.00 per item) and Check / Money order. Items are resolved like Magento's product
types do it: a configurable by its chosen attribute values, a bundle by its selections, and the
salable quantity (MSI) is checked when an item is added. The order itself is built by
:mod:`.checkout_order`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import checkout_order
from .cart_lines import CartLine
from .catalog import STORE_VIEWS
from .errors import MagentoError, field_required, product_not_found
from .order_items import money
from .product_store import attribute_code
from .search_criteria import INVALID_TYPE as INVALID_QTY

if TYPE_CHECKING:
    from .data import SandboxData
    from .endpoints import Call

NO_SUCH_CART = "No such entity with %fieldName = %fieldValue"
NOT_AVAILABLE = "Product that you are trying to add is not available."
QTY_NOT_AVAILABLE = "The requested qty is not available"
CHOOSE_OPTIONS = "You need to choose options for your item."
SPECIFY_OPTIONS = "Please specify product option(s)."
REQUIRED_OPTIONS = "Please select all required options."
EMPTY_CART = (
    "The shipping method can't be set for an empty cart. Add an item to cart and try again."
)
NO_SHIPPING_ADDRESS = "The shipping address is missing. Set the address and try again."
NO_SHIPPING_METHOD = "The shipping method is missing. Select the shipping method and try again."
NO_CARRIER = "Carrier with such method not found: %1, %2"
PAYMENT_NOT_AVAILABLE = "The requested Payment Method is not available."
#: Active on an untouched store: flat rate (5.00 per item) and Check / Money order.
CARRIERS = {("flatrate", "flatrate"): "Flat Rate - Fixed"}
PAYMENT_METHODS = [{"code": "checkmo", "title": "Check / Money order"}]
STOCKED_TYPES = ("simple", "virtual", "downloadable")


@dataclass
class Cart:
    """A guest quote: its lines, addresses and shipping method."""

    masked_id: str
    quote_id: int
    store_id: int
    lines: list[CartLine] = field(default_factory=list)
    shipping_address: dict[str, Any] | None = None
    billing_address: dict[str, Any] | None = None
    shipping_method: str | None = None
    active: bool = True

    @property
    def is_virtual(self) -> bool:
        """``Quote::isVirtual``: every line virtual (an empty cart is not virtual)."""
        return bool(self.lines) and all(line.is_virtual for line in self.lines)


def _store_id(store_code: str | None) -> int:
    """The store view of ``/rest/<code>/V1`` (``/rest/V1`` and ``/rest/all/V1``: default)."""
    for view in STORE_VIEWS:
        if view["code"] == store_code and view["id"] != 0:
            return int(view["id"])
    return 1


def _cart(call: Call) -> Cart:
    """The active cart of the masked id in the URL (``QuoteIdMask``), else Magento's 404."""
    masked = call.params["cart"]
    cart = call.app.data.carts.get(masked)
    if cart is None or not cart.active:
        raise MagentoError(404, NO_SUCH_CART, {"fieldName": "cartId", "fieldValue": None})
    return cart


def cart_create(call: Call) -> tuple[int, Any]:
    """``POST /V1/guest-carts``: a new cart's masked id (32 characters)."""
    data = call.app.data
    with data.lock:
        masked = secrets.token_hex(16)
        data.carts[masked] = Cart(masked, len(data.carts) + 1, _store_id(call.store_code))
    return 200, masked


# -- items ----------------------------------------------------------------------------------------


def item_add(call: Call) -> tuple[int, Any]:
    """``POST /V1/guest-carts/{cartId}/items``: add (or merge) a line; answers the cart item."""
    cart = _cart(call)
    body = call.json_body()
    item = body.get("cartItem") if isinstance(body, dict) else None
    if not isinstance(item, dict):
        raise field_required("cartItem")
    data = call.app.data
    product = data.catalog.get(str(item.get("sku") or ""))
    if product is None:
        raise product_not_found()
    try:
        qty = money(float(item.get("qty") or 1))
    except (TypeError, ValueError):
        raise MagentoError(400, INVALID_QTY, {"value": item.get("qty"), "type": "float"}) from None
    options = ((item.get("product_option") or {}).get("extension_attributes")) or {}
    with data.catalog.lock:
        line = _resolve(data, cart, product, qty, options)
        same = next((old for old in cart.lines if old.key == line.key), None)
        _check_stock(data, cart, line)
        if same is not None:
            same.qty = money(same.qty + qty)
            line = same
        else:
            cart.lines.append(line)
    return 200, line.cart_item(cart.quote_id)


def _resolve(
    data: SandboxData, cart: Cart, product: dict[str, Any], qty: float, options: dict[str, Any]
) -> CartLine:
    if int(product.get("status", 1)) != 1 or product["type_id"] not in (
        *STOCKED_TYPES,
        "configurable",
        "bundle",
    ):
        raise MagentoError(400, NOT_AVAILABLE)
    item_id = cart.quote_id * 100 + len(cart.lines) + 1
    if product["type_id"] == "configurable":
        child = _configurable_child(data, product, options.get("configurable_item_options"))
        return CartLine(item_id, product, qty, child=child)
    if product["type_id"] == "bundle":
        picks = _bundle_selections(data, product, options.get("bundle_options"))
        return CartLine(item_id, product, qty, selections=picks)
    return CartLine(item_id, product, qty)


def _configurable_child(data: SandboxData, product: dict[str, Any], chosen: Any) -> dict[str, Any]:
    """The child whose attribute values are the chosen ones (``Configurable::_prepareProduct``)."""
    wanted = {
        str(o.get("option_id")): str(o.get("option_value"))
        for o in chosen or []
        if isinstance(o, dict)
    }
    ext = product.get("extension_attributes") or {}
    attributes = [str(o["attribute_id"]) for o in ext.get("configurable_product_options") or []]
    if not attributes or set(wanted) != set(attributes):
        raise MagentoError(400, CHOOSE_OPTIONS)
    for child_id in ext.get("configurable_product_links") or []:
        child = data.catalog.by_id(child_id)
        if child is None:
            continue
        values = {
            a["attribute_code"]: str(a.get("value")) for a in child.get("custom_attributes") or []
        }
        if all(values.get(attribute_code(a)) == wanted[a] for a in attributes):
            return child
    raise MagentoError(400, CHOOSE_OPTIONS)


def _bundle_selections(
    data: SandboxData, product: dict[str, Any], chosen: Any
) -> list[tuple[dict[str, Any], dict[str, Any], float]]:
    """(option, selection link, child product, qty per bundle) of each chosen selection."""
    if not isinstance(chosen, list) or not chosen:
        raise MagentoError(400, SPECIFY_OPTIONS)
    options = {
        int(o["option_id"]): o
        for o in (product.get("extension_attributes") or {}).get("bundle_product_options") or []
    }
    picks = []
    for entry in chosen:
        option = options.get(_int(entry.get("option_id")) if isinstance(entry, dict) else None)
        if option is None:
            raise MagentoError(400, SPECIFY_OPTIONS)
        links = {int(link["id"]): link for link in option["product_links"]}
        for selection in entry.get("option_selections") or []:
            link = links.get(_int(selection))
            child = data.catalog.get(link["sku"]) if link else None
            if link is None or child is None:
                raise MagentoError(400, SPECIFY_OPTIONS)
            per_bundle = float(link.get("qty") or 1)
            if link.get("can_change_quantity") and entry.get("option_qty"):
                per_bundle = float(entry["option_qty"])
            picks.append((option, link, child, per_bundle))
    chosen_ids = {p[0]["option_id"] for p in picks}
    if any(o.get("required") and o["option_id"] not in chosen_ids for o in options.values()):
        raise MagentoError(400, REQUIRED_OPTIONS)
    return picks


def _check_stock(data: SandboxData, cart: Cart, line: CartLine) -> None:
    """The quote item quantity validation: what the cart already holds of each stocked
    product, plus this line, within its salable quantity."""
    stock = (line.product.get("extension_attributes") or {}).get("stock_item")
    if isinstance(stock, dict) and not stock.get("is_in_stock"):
        raise MagentoError(400, NOT_AVAILABLE)
    for sku, qty in line.stocked_qtys().items():
        product = data.catalog.get(sku)
        if product is None:
            raise product_not_found()
        in_cart = sum(other.stocked_qtys().get(sku, 0) for other in cart.lines)
        salable = data.catalog.salable_qty(product)
        if salable <= 0:
            raise MagentoError(400, NOT_AVAILABLE)
        if in_cart + qty > salable:
            raise MagentoError(400, QTY_NOT_AVAILABLE)


# -- addresses, shipping, payment -----------------------------------------------------------------


def shipping_information(call: Call) -> tuple[int, Any]:
    """``POST /V1/guest-carts/{cartId}/shipping-information``: payment methods and totals."""
    cart = _cart(call)
    body = call.json_body()
    info = body.get("addressInformation") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        raise field_required("addressInformation")
    if not cart.lines:
        raise MagentoError(400, EMPTY_CART)
    address = info.get("shipping_address")
    if not isinstance(address, dict) or not address.get("country_id"):
        raise MagentoError(400, NO_SHIPPING_ADDRESS)
    carrier = str(info.get("shipping_carrier_code") or "")
    method = str(info.get("shipping_method_code") or "")
    if not cart.is_virtual:
        if not method:
            raise MagentoError(404, NO_SHIPPING_METHOD)
        if (carrier, method) not in CARRIERS:
            raise MagentoError(404, NO_CARRIER, [carrier, method])
        cart.shipping_method = f"{carrier}_{method}"
    cart.shipping_address = dict(address)
    if isinstance(info.get("billing_address"), dict):
        cart.billing_address = dict(info["billing_address"])
    totals = checkout_order.totals(cart.lines, cart.store_id, cart.shipping_method)
    return 200, {"payment_methods": list(PAYMENT_METHODS), "totals": totals}


def billing_address(call: Call) -> tuple[int, Any]:
    """``POST /V1/guest-carts/{cartId}/billing-address``: the quote address id."""
    cart = _cart(call)
    body = call.json_body()
    address = body.get("address") if isinstance(body, dict) else None
    if not isinstance(address, dict):
        raise field_required("address")
    cart.billing_address = dict(address)
    return 200, cart.quote_id * 2 - 1


def payment_information(call: Call) -> tuple[int, Any]:
    """``POST /V1/guest-carts/{cartId}/payment-information``: place the order; its id."""
    cart = _cart(call)
    body = call.json_body()
    body = body if isinstance(body, dict) else {}
    email = body.get("email")
    if not isinstance(email, str) or not email.strip():
        raise field_required("email")
    payment = body.get("paymentMethod")
    if not isinstance(payment, dict):
        raise field_required("paymentMethod")
    if isinstance(body.get("billingAddress"), dict):
        cart.billing_address = dict(body["billingAddress"])
    if payment.get("method") not in {m["code"] for m in PAYMENT_METHODS}:
        raise MagentoError(400, PAYMENT_NOT_AVAILABLE)
    _validate_before_submit(cart)
    data = call.app.data
    with data.lock:
        if not cart.active:  # placed meanwhile by a concurrent request
            raise MagentoError(404, NO_SUCH_CART, {"fieldName": "cartId", "fieldValue": None})
        order = data.place_order(
            cart.store_id,
            lambda row: checkout_order.build(
                data.seed,
                row,
                cart.lines,
                email.strip(),
                cart.billing_address or {},
                None if cart.is_virtual else cart.shipping_address,
                cart.shipping_method,
            ),
        )
        cart.active = False
    for item in order["items"]:
        if item["product_type"] in STOCKED_TYPES:
            data.catalog.reserve(item["sku"], float(item["qty_ordered"]))
    return 200, str(order["entity_id"])


def _validate_before_submit(cart: Cart) -> None:
    """``QuoteValidator::validateBeforeSubmit``: addresses, then the shipping method."""
    if not cart.is_virtual:
        errors = checkout_order.address_errors(cart.shipping_address or {})
        if errors:
            raise MagentoError(
                400, "Please check the shipping address information. %1", [" ".join(errors)]
            )
        if cart.shipping_method is None:
            raise MagentoError(400, NO_SHIPPING_METHOD)
    errors = checkout_order.address_errors(cart.billing_address or {})
    if errors:
        raise MagentoError(
            400, "Please check the billing address information. %1", [" ".join(errors)]
        )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

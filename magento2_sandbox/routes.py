"""The sandbox's route table: which handler serves which Magento REST path, under which ACL
resource, and how a URL's ``/rest/<store code>/V1/...`` resolves (Magento's REST front
controller and ``webapi.xml``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from . import (
    admin_auth,
    catalog_routes,
    customers,
    endpoints,
    guest_checkout,
    inventory,
    order_actions,
    sales_documents,
)
from .catalog import STORE_VIEWS
from .errors import route_not_found

#: What a real store answers (HTTP 400) for ``/rest/<code>/...`` when ``<code>`` is no store
#: code: the path stays ``/<code>/V1/...`` and no request processor takes it
#: (``Webapi/Controller/Rest/RequestProcessorPool::getProcessor``).
NO_PROCESSOR = "Specified request cannot be processed."
#: The ACL of routes anyone may call (webapi.xml ``<resource ref="anonymous"/>``).
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    acl: str
    handler: Callable[[endpoints.Call], tuple[int, Any]]


def route(method: str, path: str, acl: str, handler: Callable[..., Any]) -> Route:
    return Route(method, re.compile(f"^{path}$"), acl, handler)


ROUTES = [
    route("GET", "/V1/store/storeViews", "Magento_Backend::store", endpoints.store_views),
    route("GET", "/V1/orders", "Magento_Sales::actions_view", endpoints.orders_list),
    route("GET", "/V1/orders/(?P<id>[^/]+)", "Magento_Sales::actions_view", endpoints.order_get),
    route(
        "PUT",
        "/V1/orders/(?P<parent_id>[^/]+)",
        "Magento_Sales::actions_edit",
        endpoints.order_address_save,
    ),
    route(
        "POST",
        "/V1/orders/(?P<id>[^/]+)/comments",
        "Magento_Sales::comment",
        endpoints.order_comment_add,
    ),
    route("GET", "/V1/products", "Magento_Catalog::products", catalog_routes.products_list),
    route(
        "GET",
        "/V1/products/(?P<sku>[^/]+)",
        "Magento_Catalog::products",
        catalog_routes.product_get,
    ),
    route("POST", "/V1/products/?", "Magento_Catalog::products", catalog_routes.product_save),
    route(
        "POST",
        "/V1/products/attributes/(?P<code>[^/]+)/options",
        "Magento_Catalog::attributes_attributes",
        catalog_routes.attribute_option_add,
    ),
    route("POST", "/V1/integration/admin/token", ANONYMOUS, admin_auth.admin_token),
    route("POST", "/V1/guest-carts/?", ANONYMOUS, guest_checkout.cart_create),
    route("POST", "/V1/guest-carts/(?P<cart>[^/]+)/items", ANONYMOUS, guest_checkout.item_add),
    route(
        "POST",
        "/V1/guest-carts/(?P<cart>[^/]+)/shipping-information",
        ANONYMOUS,
        guest_checkout.shipping_information,
    ),
    route(
        "POST",
        "/V1/guest-carts/(?P<cart>[^/]+)/billing-address",
        ANONYMOUS,
        guest_checkout.billing_address,
    ),
    route(
        "POST",
        "/V1/guest-carts/(?P<cart>[^/]+)/payment-information",
        ANONYMOUS,
        guest_checkout.payment_information,
    ),
    route(
        "POST", "/V1/order/(?P<id>[^/]+)/invoice", "Magento_Sales::invoice", order_actions.invoice
    ),
    route(
        "POST", "/V1/order/(?P<id>[^/]+)/refund", "Magento_Sales::creditmemo", order_actions.refund
    ),
    route("POST", "/V1/orders/(?P<id>[^/]+)/hold", "Magento_Sales::hold", order_actions.hold),
    route("POST", "/V1/orders/(?P<id>[^/]+)/unhold", "Magento_Sales::unhold", order_actions.unhold),
    route("POST", "/V1/orders/(?P<id>[^/]+)/cancel", "Magento_Sales::cancel", order_actions.cancel),
    route("POST", "/V1/order/(?P<id>[^/]+)/ship", "Magento_Sales::ship", endpoints.ship_order),
    route("POST", "/V1/shipment/?", "Magento_Sales::shipment", endpoints.shipment_save),
    route("POST", "/V1/shipment/track", "Magento_Sales::shipment", endpoints.track_save),
    route("GET", "/V1/shipments", "Magento_Sales::shipment", sales_documents.shipments_list),
    route(
        "GET", "/V1/shipment/(?P<id>[^/]+)", "Magento_Sales::shipment", sales_documents.shipment_get
    ),
    route("GET", "/V1/invoices", "Magento_Sales::sales_invoice", sales_documents.invoices_list),
    route(
        "GET",
        "/V1/invoices/(?P<id>[^/]+)",
        "Magento_Sales::sales_invoice",
        sales_documents.invoice_get,
    ),
    route(
        "GET",
        "/V1/creditmemos",
        "Magento_Sales::sales_creditmemo",
        sales_documents.creditmemos_list,
    ),
    route(
        "GET",
        "/V1/creditmemo/(?P<id>[^/]+)",
        "Magento_Sales::sales_creditmemo",
        sales_documents.creditmemo_get,
    ),
    route("GET", "/V1/customers/search", "Magento_Customer::customer", customers.customers_search),
    route(
        "GET",
        "/V1/inventory/source-items",
        "Magento_InventoryApi::source_item",
        inventory.source_items_list,
    ),
]


def is_rest_path(path: str) -> bool:
    """Under ``/[index.php/]rest/``: Magento's REST front controller answers it."""
    return path.startswith(("/rest/", "/index.php/rest/"))


def resolve_path(path: str) -> tuple[str | None, str | None]:
    """Split ``/[index.php/]rest/<store>/V1/...`` into (store code, route); Nones = no route.

    An unknown store code also gives Nones; under ``/rest/`` that is Magento's 400
    ``Specified request cannot be processed.``, elsewhere a 404.
    """
    if path.startswith("/index.php/"):
        path = path[len("/index.php") :]
    if not path.startswith("/rest/"):
        return None, None
    rest = path[len("/rest") :]
    first = rest.split("/", 2)[1] if rest.count("/") >= 1 else ""
    if re.fullmatch(r"V\d+", first):  # /V<n>/... has a REST processor: a route or a 404
        return "default", rest
    codes = {v["code"] for v in STORE_VIEWS if v["id"] != 0} | {"all"}
    if first in codes:
        return first, rest[len(first) + 1 :]
    return None, None


def match(method: str, route_path: str) -> tuple[Route, dict[str, str]]:
    """The route serving ``method route_path`` and its path parameters; Magento's 404 if none."""
    for candidate in ROUTES:
        found = candidate.pattern.match(route_path)
        if found and candidate.method == method:
            return candidate, {k: unquote(v) for k, v in found.groupdict().items()}
    raise route_not_found()

"""Which of Magento's error answers mean what, read from status and Magento's own message.

Magento's refusals (HTTP 400) and "this order does not exist" (HTTP 404 with Magento's own
message on an existing route: the order was deleted, so nothing was created) fail only that
shipment. "No such route" (404 "Request does not match any route." or 400 "Specified
request cannot be processed.") means a wrong store_url or store_view_code and stops the run.
"""

from __future__ import annotations

from magerest.client import MagentoAPIError
from magerest.errors import NO_ROUTE
from target_dropstream.shipment_models import OutgoingShipment

#: Magento's answer under /rest/<code>/... when <code> is no store code (no REST processor).
NO_PROCESSOR = "Specified request cannot be processed."
#: NoSuchEntityException texts (2.4 OrderRepository::get; older default), reference §5.1.
_NO_SUCH_ENTITY = ("The entity that was requested doesn't exist", "No such entity")


def no_route(exc: MagentoAPIError) -> bool:
    """Magento has no such route: a wrong store code in the URL, or a wrong store_url.

    An unknown store code answers 400 "Specified request cannot be processed." on a real
    store (no REST processor takes ``/<code>/V1/...``); a wrong path 404 "Request does not
    match any route.".
    """
    if exc.status == 404:
        return exc.magento_message == NO_ROUTE
    return exc.status == 400 and exc.magento_message == NO_PROCESSOR


def order_missing(exc: MagentoAPIError) -> bool:
    """A route that exists answered 404 with Magento's own message: no such order.

    Magento maps NoSuchEntityException to 404 ("The entity that was requested doesn't
    exist. ..." from OrderRepository::get). A 404 without Magento's JSON body (a proxy's
    page) or with the no-route message says nothing about the order.
    """
    return exc.status == 404 and bool(exc.magento_message) and not no_route(exc)


def missing_message(shipment: OutgoingShipment, exc: MagentoAPIError) -> str:
    said = exc.magento_message or ""
    if said.startswith(_NO_SUCH_ENTITY):
        what = f"Magento has no order with id {shipment.order_id} (deleted in Magento?)"
    else:
        what = "Magento did not find something this shipment names"
    return f"{what}, nothing was shipped: {exc}"

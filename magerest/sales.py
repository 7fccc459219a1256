"""The Magento sales calls the target makes, one function each: plain data in, plain data out.

Every Magento path the target uses lives here. Each function takes a ``MagentoClient`` and
plain values (ids, dicts, ``fields`` strings) and raises ``MagentoAPIError`` as the client
does: GETs are retried on transient failures, POSTs are sent once. What an answer means for
the fulfillment store (refused, lost, shipped elsewhere) is the caller's to decide.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from magerest.client import MagentoClient


def as_id(value: Any) -> int | None:
    """An entity id as Magento sends it (a number or a digit string); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# Shipping ------------------------------------------------------------------------------------


def ship_order(client: MagentoClient, order_id: int, body: Mapping[str, Any]) -> int | None:
    """``POST /V1/order/{id}/ship``: the new shipment's id (None if the answer has none).

    Sent once, never retried: Magento may still commit a shipment whose answer was lost
    (it runs under the order's lock), so only the caller, after a look-up, may post again.
    """
    return _new_shipment_id(client.post(f"/V1/order/{order_id}/ship", body))


def create_shipment(client: MagentoClient, body: Mapping[str, Any]) -> int | None:
    """``POST /V1/shipment`` (the full ShipmentInterface): the new shipment's id, or None.

    Sent once, never retried, for the same reason as ``ship_order``.
    """
    return _new_shipment_id(client.post("/V1/shipment", body))


def get_shipment(client: MagentoClient, shipment_id: int) -> dict[str, Any]:
    """``GET /V1/shipment/{id}``: the shipment document ({} when Magento answers nothing).

    Read to check what Magento really created (it trims a shipment silently) and for the
    tracks a shipment list may leave out.
    """
    document = client.get(f"/V1/shipment/{shipment_id}")
    return document if isinstance(document, dict) else {}


def order_shipments(client: MagentoClient, order_id: int) -> Iterator[dict[str, Any]]:
    """``GET /V1/shipments`` for one order, oldest first: its shipment documents."""
    return client.search(
        "/V1/shipments",
        filter_groups=[[("order_id", str(order_id), "eq")]],
        sort=[("entity_id", "ASC")],
    )


def find_shipment_by_tracking(
    client: MagentoClient,
    order_id: int,
    track_numbers: Iterable[str],
    *,
    skip: Collection[int] = (),
) -> int | None:
    """The id of the order's first shipment carrying one of ``track_numbers``, else None.

    This is how a post whose answer was lost is found: Magento has no idempotency key,
    the tracking number is ours. Shipments in ``skip`` (already claimed by another of our
    shipments) are passed over; one listed without tracks is read on its own.
    """
    numbers = set(track_numbers)
    for document in order_shipments(client, order_id):
        magento_id = as_id(document.get("entity_id"))
        if magento_id is None or magento_id in skip:
            continue
        tracks = document.get("tracks")
        if tracks is None:  # a list without tracks: read the shipment itself
            tracks = get_shipment(client, magento_id).get("tracks")
        if any(str(t.get("track_number")) in numbers for t in tracks or [] if t):
            return magento_id
    return None


# Store views --------------------------------------------------------------------------------


def store_view_codes(client: MagentoClient) -> dict[int, str]:
    """``GET /V1/store/storeViews``: store view code by id (the admin view, id 0, left out).

    A shipment is posted under its order's store view; the codes also name the valid
    choices when a configured ``store_view_code`` is wrong. ACL Magento_Backend::store.
    """
    codes: dict[int, str] = {}
    for view in client.get("/V1/store/storeViews") or []:
        if not isinstance(view, Mapping):
            continue
        view_id = as_id(view.get("id"))
        if view_id and view.get("code"):
            codes[view_id] = str(view["code"])
    return codes


# Orders -------------------------------------------------------------------------------------


def get_order(client: MagentoClient, order_id: int, fields: str) -> dict[str, Any] | None:
    """``GET /V1/orders/{id}`` limited to ``fields``; None when the answer is not an order.

    Read just before shipping: Magento trims a shipment to what is left without saying so.
    """
    order = client.get(f"/V1/orders/{order_id}", params={"fields": fields})
    return order if isinstance(order, dict) else None


def read_orders(
    client: MagentoClient, order_ids: Iterable[int], fields: str, page_size: int
) -> dict[int, dict[str, Any]]:
    """Orders by id, ``GET /V1/orders`` with ``entity_id in`` (``page_size`` per page).

    One request for up to ``page_size`` orders, each cut to ``fields`` (applied to every
    element of ``items``; name ``total_count`` too, or it is added). Ids Magento does not
    return are missing from the answer.
    """
    ids = ",".join(str(order_id) for order_id in order_ids)
    found: dict[int, dict[str, Any]] = {}
    for item in client.search(
        "/V1/orders",
        filter_groups=[[("entity_id", ids, "in")]],
        sort=[("entity_id", "ASC")],
        page_size=page_size,
        fields=fields,
    ):
        try:
            found[int(item["entity_id"])] = item
        except (KeyError, TypeError, ValueError):
            continue
    return found


# Catalog ------------------------------------------------------------------------------------


def product_by_id(client: MagentoClient, product_id: int) -> dict[str, Any] | None:
    """``GET /V1/products`` with ``entity_id eq``: the catalog product, None if there is none.

    Found by id, not SKU: a bundle's order SKU is usually its options' SKUs joined, which
    ``GET /V1/products/{sku}`` does not find. ACL Magento_Catalog::products.
    """
    for product in client.search(
        "/V1/products",
        filter_groups=[[("entity_id", str(product_id), "eq")]],
        page_size=10,
    ):
        if str(product.get("id")) == str(product_id):
            return product
    return None


def _new_shipment_id(answer: Any) -> int | None:
    """The new shipment's id: a bare scalar (often a JSON string) or a shipment document."""
    if isinstance(answer, Mapping):
        return as_id(answer.get("entity_id"))
    return as_id(answer)

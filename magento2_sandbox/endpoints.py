"""Service handlers behind the routes: store views, orders (get/list, edits) and shipments."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import shipment_documents, shipping
from .catalog import STORE_VIEWS, locale_of
from .errors import (
    MAX_PAGE_SIZE,
    MagentoError,
    entity_not_found,
    field_required,
    internal_error,
)
from .query import OrderQuery
from .search_criteria import INVALID_TYPE, parse_php_query, parse_search_criteria

if TYPE_CHECKING:
    from email.message import Message

    from .app import SandboxApp


@dataclass
class Call:
    """One authorised service call."""

    app: SandboxApp
    params: dict[str, str]
    pairs: list[tuple[str, str]]
    body: bytes
    headers: Message
    method: str
    store_code: str | None = None  # from /rest/<code>/V1 ("default" for /rest/V1)

    def int_param(self, name: str) -> int:
        raw = self.params[name]
        if not re.fullmatch(r"\d+", raw):
            raise MagentoError(400, INVALID_TYPE, {"value": raw, "type": "int"})
        return int(raw)

    def json_body(self) -> Any:
        """Decode the request body like Magento's REST request (Content-Type, then JSON)."""
        ctype = (self.headers.get("Content-Type") or "").strip()
        if not ctype:
            raise MagentoError(400, "Content-Type header is empty.")
        mime = ctype.split(";", 1)[0].strip().lower()
        if mime not in ("application/json", "application/xml", "text/xml"):
            raise MagentoError(
                400, "Server cannot understand Content-Type HTTP header media type %1", [mime]
            )
        if mime != "application/json":
            raise MagentoError(400, "Decoding error.")
        try:
            return json.loads(self.body.decode("utf-8")) if self.body.strip() else {}
        except (UnicodeDecodeError, ValueError) as exc:
            raise MagentoError(400, "Decoding error.") from exc


def store_views(call: Call) -> tuple[int, Any]:
    return 200, [dict(v) for v in STORE_VIEWS]


def order_get(call: Call) -> tuple[int, Any]:
    entity_id = call.int_param("id")
    data = call.app.data
    with data.lock:
        if not data.exists(entity_id):
            raise entity_not_found()
        if call.app.faults.get_fails(entity_id):
            raise internal_error()  # the order's data breaks the repository load
        return 200, data.order_encoded(entity_id - 1)


def orders_list(call: Call) -> tuple[int, Any]:
    app = call.app
    settings = app.settings
    criteria = parse_search_criteria(parse_php_query(call.pairs))
    if settings.input_limits:
        if criteria.page_size is not None and criteria.page_size > settings.max_page_size:
            raise MagentoError(400, MAX_PAGE_SIZE, {"max": settings.max_page_size})
        if criteria.page_size is None:
            criteria.page_size = settings.default_page_size
    data = app.data
    with data.lock:
        positions, total = OrderQuery(data).run(
            criteria,
            input_limits=settings.input_limits,
            default_page_size=settings.default_page_size,
            version=settings.magento_version,
        )
        if app.faults.list_fails([p + 1 for p in positions]):
            # getList loads every order of the page; one that throws fails the whole page.
            raise internal_error()
        items = [data.order_encoded(p) for p in positions]
    delay = settings.latency_ms + settings.latency_per_order_ms * len(items)
    if delay > 0:
        app.stopping.wait(delay / 1000)
    return 200, {"items": items, "search_criteria": criteria.echo(), "total_count": total}


#: OrderAddressRepository::save wraps every failure (the address validator's required
#: fields included) in this CouldNotSaveException.
ADDRESS_NOT_SAVED = "The order address couldn't be saved."
#: The fields of Magento\Sales\Model\Order\Address\Validator::$required.
ADDRESS_REQUIRED = (
    "parent_id",
    "postcode",
    "lastname",
    "street",
    "city",
    "email",
    "country_id",
    "firstname",
    "address_type",
)


def order_address_save(call: Call) -> tuple[int, Any]:
    """PUT /V1/orders/{parent_id} (admin edit of an order address; updated_at stays)."""
    call.int_param("parent_id")
    body = call.json_body()
    entity = body.get("entity") if isinstance(body, dict) else None
    if not isinstance(entity, dict):
        raise field_required("entity")
    if any(entity.get(name) in (None, "", []) for name in ADDRESS_REQUIRED):
        raise MagentoError(400, ADDRESS_NOT_SAVED)
    try:
        return 200, call.app.data.save_order_address(entity)
    except LookupError:
        raise MagentoError(400, ADDRESS_NOT_SAVED) from None


def order_comment_add(call: Call) -> tuple[int, Any]:
    """POST /V1/orders/{id}/comments: the order takes the comment's status (NULL without)."""
    entity_id = call.int_param("id")
    body = call.json_body()
    history = body.get("statusHistory") if isinstance(body, dict) else None
    if not isinstance(history, dict):
        raise field_required("statusHistory")
    data = call.app.data
    if not data.exists(entity_id):
        raise entity_not_found()
    data.add_order_comment(entity_id, history)
    return 200, True


def ship_order(call: Call) -> tuple[int, Any]:
    entity_id = call.int_param("id")
    body = call.json_body()
    return 200, shipping.ship_order(
        call.app.data,
        entity_id,
        body if isinstance(body, dict) else {},
        locale_of(call.store_code),
    )


def shipment_save(call: Call) -> tuple[int, Any]:
    body = call.json_body()
    return 200, shipment_documents.save_shipment(
        call.app.data, body if isinstance(body, dict) else {}
    )


def track_save(call: Call) -> tuple[int, Any]:
    body = call.json_body()
    return 200, shipment_documents.add_track(call.app.data, body if isinstance(body, dict) else {})

"""The parts of a Magento order the fulfillment store needs, as plain immutable values.

``Order.from_magento`` is the only place that reads Magento's order JSON. A record that
cannot be trusted (no id, unparsable dates, a non-numeric quantity, an item without SKU or
product type, parent and child items that do not fit together) raises
:class:`RecordRejected` with a reason a person can act on. The orders as the store
hands them back (held, open, rejected) are here too; shipments are in ``shipment_models``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any


class RecordRejected(ValueError):  # noqa: N818 - the name the rest of the code speaks
    """The record cannot be loaded; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class LineType(StrEnum):
    """Why a line is in the order: a plain item, or part of a bundle."""

    ITEM = "item"
    BUNDLE_PARENT = "bundle_parent"
    BUNDLE_COMPONENT = "bundle_component"


@dataclass(frozen=True)
class OrderItem:
    """One entry of the order's flat ``items`` list (parents and children are siblings)."""

    item_id: int
    sku: str
    name: str | None
    product_type: str
    product_id: int | None
    parent_item_id: int | None
    is_virtual: bool
    qty_ordered: Decimal
    qty_canceled: Decimal
    qty_refunded: Decimal
    qty_shipped: Decimal


@dataclass(frozen=True)
class ShipTo:
    """Where the parcel goes (the order's shipping address)."""

    name: str | None = None
    company: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Order:
    """A Magento order as the fulfillment rules see it. Timestamps are aware UTC."""

    order_id: int
    increment_id: str | None
    store_id: int | None
    status: str | None
    state: str | None
    placed_at: datetime
    updated_at: datetime
    ship_to: ShipTo
    shipping_method: str | None
    items: tuple[OrderItem, ...]

    @classmethod
    def from_magento(cls, record: Mapping[str, Any]) -> Order:
        """Map a Magento order record (tap output or raw REST JSON).

        Raises:
            RecordRejected: when a field the rules depend on is missing or malformed.
        """
        if not isinstance(record, Mapping):
            raise RecordRejected("record is not a JSON object")
        order_id = _integer(record.get("entity_id"), "entity_id")
        if order_id is None:
            raise RecordRejected("entity_id is missing: the order id is required")
        placed_at = parse_utc(record.get("created_at"), "created_at")
        updated_at = parse_utc(record.get("updated_at"), "updated_at")
        raw_items = record.get("items")
        if raw_items is None:
            raw_items = []
        if not isinstance(raw_items, list):
            raise RecordRejected("items is not a list")
        items = tuple(_item(raw, index) for index, raw in enumerate(raw_items))
        seen: set[int] = set()
        for item in items:
            if item.item_id in seen:
                raise RecordRejected(f"items: item_id {item.item_id} appears twice")
            seen.add(item.item_id)
        _check_parents_and_children(items)
        shipping = _shipping(record)
        address = shipping.get("address")
        method = shipping.get("method")
        return cls(
            order_id=order_id,
            increment_id=_text(record.get("increment_id")),
            store_id=_integer(record.get("store_id"), "store_id"),
            status=_text(record.get("status")),
            state=_text(record.get("state")),
            placed_at=placed_at,
            updated_at=updated_at,
            ship_to=_ship_to(address) if isinstance(address, Mapping) else ShipTo(),
            shipping_method=_text(method),
            items=items,
        )


@dataclass(frozen=True)
class Rejection:
    """A record that could not be loaded, kept with its reason."""

    stream: str
    record: Any
    reason: str
    order_id: int | None = None


@dataclass(frozen=True)
class HeldOrder:
    """A held order as the release logic and ``dropstream status`` see it."""

    source: str
    order_id: int
    increment_id: str | None
    magento_status: str | None
    release_at: datetime
    reason: str | None


@dataclass(frozen=True)
class OpenOrder:
    """An order the re-check reads back from Magento."""

    source: str
    order_id: int
    increment_id: str | None
    state: str


def parse_utc(value: Any, field: str) -> datetime:
    """Parse Magento's ``YYYY-MM-DD HH:MM:SS`` (UTC) or RFC 3339 into aware UTC.

    Raises:
        RecordRejected: naming the field when the value is missing or not a date-time.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise RecordRejected(f"{field} {value!r} is not a date-time") from None
    elif value is None or value == "":
        raise RecordRejected(f"{field} is missing")
    else:
        raise RecordRejected(f"{field} {value!r} is not a date-time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # Magento prints UTC without a zone
    return moment.astimezone(UTC)


def _shipping(record: Mapping[str, Any]) -> Mapping[str, Any]:
    extension = record.get("extension_attributes")
    if not isinstance(extension, Mapping):
        return {}
    assignments = extension.get("shipping_assignments")
    if not isinstance(assignments, list) or not assignments:
        return {}
    first = assignments[0]
    if not isinstance(first, Mapping):
        return {}
    shipping = first.get("shipping")
    return shipping if isinstance(shipping, Mapping) else {}


def _ship_to(address: Mapping[str, Any]) -> ShipTo:
    names = [_text(address.get(key)) for key in ("prefix", "firstname", "middlename", "lastname")]
    street = address.get("street")
    if isinstance(street, list):
        street_text = "\n".join(str(line).strip() for line in street if str(line).strip())
    else:
        street_text = _text(street) or ""
    return ShipTo(
        name=" ".join(n for n in names if n) or None,
        company=_text(address.get("company")),
        street=street_text or None,
        city=_text(address.get("city")),
        region=_text(address.get("region")) or _text(address.get("region_code")),
        postcode=_text(address.get("postcode")),
        country=_text(address.get("country_id")),
        phone=_text(address.get("telephone")),
        email=_text(address.get("email")),
    )


def _item(raw: Any, index: int) -> OrderItem:
    if not isinstance(raw, Mapping):
        raise RecordRejected(f"items[{index}] is not a JSON object")
    item_id = _integer(raw.get("item_id"), f"items[{index}].item_id")
    if item_id is None:
        raise RecordRejected(f"items[{index}] has no item_id")
    where = f"item {item_id}"
    sku = _text(raw.get("sku")) if isinstance(raw.get("sku"), str) else None
    if sku is None:
        raise RecordRejected(f"{where} has no SKU")
    ordered = _quantity(raw.get("qty_ordered"), f"{where} qty_ordered")
    if ordered is None:
        raise RecordRejected(f"{where} has no qty_ordered")
    product_type = _text(raw.get("product_type"))
    if product_type is None:
        raise RecordRejected(
            f"{where} (SKU {sku}) has no product_type: Magento always sends it, and without it "
            "a virtual item, a bundle or a configurable cannot be told from a plain item"
        )
    return OrderItem(
        item_id=item_id,
        sku=sku,
        name=_text(raw.get("name")),
        product_type=product_type,
        product_id=_integer(raw.get("product_id"), f"{where} product_id"),
        parent_item_id=_parent_item_id(raw, where),
        is_virtual=magento_bool(raw.get("is_virtual")),
        qty_ordered=ordered,
        qty_canceled=_quantity(raw.get("qty_canceled"), f"{where} qty_canceled") or Decimal(0),
        qty_refunded=_quantity(raw.get("qty_refunded"), f"{where} qty_refunded") or Decimal(0),
        qty_shipped=_quantity(raw.get("qty_shipped"), f"{where} qty_shipped") or Decimal(0),
    )


def _parent_item_id(raw: Mapping[str, Any], where: str) -> int | None:
    """``parent_item_id``, else the id of the embedded ``parent_item`` (Magento sends both).

    A top-level item has neither. When both are there they must name the same item.
    """
    parent_id = _integer(raw.get("parent_item_id"), f"{where} parent_item_id")
    embedded = raw.get("parent_item")
    if not isinstance(embedded, Mapping):
        return parent_id
    embedded_id = _integer(embedded.get("item_id"), f"{where} parent_item.item_id")
    if parent_id is None:
        return embedded_id
    if embedded_id is not None and embedded_id != parent_id:
        raise RecordRejected(
            f"{where} has parent_item_id {parent_id} but its parent_item is item {embedded_id}"
        )
    return parent_id


#: Product types whose order item always comes with child items in Magento's order JSON:
#: the chosen simple of a configurable, the selected options of a bundle.
TYPES_WITH_CHILDREN: Mapping[str, str] = {
    "configurable": "its chosen simple product",
    "bundle": "its selected options",
}


def _check_parents_and_children(items: tuple[OrderItem, ...]) -> None:
    """Refuse items whose parent/child relation the rules would misread.

    Without it a configurable's child would ship as a second line, and a bundle whose
    options lost their ``parent_item_id`` would look like an order with nothing to ship.
    A missing ``parent_item_id`` on a top-level item is normal (Magento leaves it out).
    """
    by_id = {item.item_id: item for item in items}
    parents: set[int] = set()
    for item in items:
        parent = item.parent_item_id
        if parent is None:
            continue
        if parent == item.item_id or parent not in by_id:
            raise RecordRejected(
                f"item {item.item_id} (SKU {item.sku}) has parent_item_id {parent}, "
                f"but the order has no other item {parent}"
            )
        parents.add(parent)
    for item in items:
        children = TYPES_WITH_CHILDREN.get(item.product_type)
        if children is not None and item.item_id not in parents:
            raise RecordRejected(
                f"{item.product_type} item {item.item_id} (SKU {item.sku}) has no child item: "
                f"Magento lists {children} as items with parent_item_id {item.item_id}; without "
                "them (or without their parent_item_id) the lines to ship cannot be worked out"
            )


#: Ids are stored as 64-bit integers; Magento's own are unsigned 32-bit.
MAX_ID = 2**63 - 1
#: Magento keeps quantities as decimal(12,4), and so does the fulfillment store.
MAX_QUANTITY = Decimal("99999999.9999")


def _integer(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordRejected(f"{field} {value!r} is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal | float) and value == int(value):
        number = int(value)
    elif isinstance(value, str) and is_digit_string(value):
        number = int(value.strip())
    else:
        raise RecordRejected(f"{field} {value!r} is not an integer")
    if not 0 <= number <= MAX_ID:
        raise RecordRejected(f"{field} {number} is outside the range of an id (0 to 2^63-1)")
    return number


def is_digit_string(value: str) -> bool:
    """ASCII digits, perhaps between spaces (``str.isdigit`` also accepts "²", which
    ``int`` refuses)."""
    text = value.strip()
    return text.isascii() and text.isdigit()


def _quantity(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordRejected(f"{field} {value!r} is not a number")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise RecordRejected(f"{field} {value!r} is not a number") from None
    if not number.is_finite():
        raise RecordRejected(f"{field} {value!r} is not a number")
    if abs(number) > MAX_QUANTITY:
        raise RecordRejected(f"{field} {value!r} is beyond Magento's quantity range (12,4)")
    return number


def magento_bool(value: Any) -> bool:
    """A flag as Magento sends it in order JSON: true/false, 1/0 or their strings."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if "\x00" in text:
        # PostgreSQL cannot store it, and no real name, SKU or address holds one.
        raise RecordRejected(f"text {text[:40]!r} contains a NUL character")
    return text or None

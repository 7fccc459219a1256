"""Order.from_magento: what is read from Magento's order JSON, and what is rejected."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from target_dropstream.models import Order, RecordRejected
from tests.target.conftest import item, order, tutorial_order


def test_maps_order_fields_and_shipping_address() -> None:
    parsed = Order.from_magento(tutorial_order())
    assert parsed.order_id == 3
    assert parsed.increment_id == "000000003"
    assert parsed.placed_at == datetime(2017, 8, 21, 22, 22, 19, tzinfo=UTC)
    assert parsed.status == "processing"
    assert parsed.shipping_method == "flatrate_flatrate"
    assert parsed.ship_to.name == "Veronica Costello"
    assert parsed.ship_to.street == "6146 Honey Bluff Parkway\nBuilding 2"
    assert (parsed.ship_to.city, parsed.ship_to.region, parsed.ship_to.postcode) == (
        "Calder",
        "Michigan",
        "49628-7978",
    )
    assert (parsed.ship_to.country, parsed.ship_to.phone) == ("US", "(555) 229-3326")
    assert [i.item_id for i in parsed.items] == [3, 4, 5, 6, 7, 8, 9, 10, 11]


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-15 10:00:00",
        "2026-01-15T10:00:00+00:00",
        "2026-01-15T10:00:00Z",
        "2026-01-15T11:00:00+01:00",
    ],
)
def test_accepts_magento_and_rfc3339_timestamps_as_utc(value: str) -> None:
    parsed = Order.from_magento(order(1, created_at=value))
    assert parsed.placed_at == datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def test_virtual_order_without_shipping_address() -> None:
    record = order(1, items=[item(1, "E", product_type="virtual", is_virtual=1)])
    record["extension_attributes"]["shipping_assignments"][0]["shipping"].pop("address")
    parsed = Order.from_magento(record)
    assert parsed.ship_to.name is None


def _without(key: str) -> dict[str, Any]:
    record = order(1)
    record.pop(key)
    return record


def _item_with(**fields: Any) -> dict[str, Any]:
    record = order(1)
    record["items"][0].update(fields)
    return record


REJECTED = [
    ("no entity_id", _without("entity_id"), "entity_id is missing"),
    (
        "non-numeric entity_id",
        {**order(1), "entity_id": "abc"},
        "entity_id 'abc' is not an integer",
    ),
    ("unparsable created_at", {**order(1), "created_at": "yesterday"}, "created_at 'yesterday'"),
    ("missing updated_at", _without("updated_at"), "updated_at is missing"),
    ("non-numeric quantity", _item_with(qty_ordered="two"), "qty_ordered 'two' is not a number"),
    ("non-numeric shipped", _item_with(qty_shipped="n/a"), "qty_shipped 'n/a' is not a number"),
    ("item without SKU", _item_with(sku=""), "item 10 has no SKU"),
    ("item SKU null", _item_with(sku=None), "has no SKU"),
    ("items not a list", {**order(1), "items": "x"}, "items is not a list"),
    ("record not an object", ["x"], "not a JSON object"),
]


@pytest.mark.parametrize(
    ("record", "reason"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED]
)
def test_bad_records_are_rejected_with_a_reason(record: Any, reason: str) -> None:
    with pytest.raises(RecordRejected) as caught:
        Order.from_magento(record)
    assert reason in caught.value.reason

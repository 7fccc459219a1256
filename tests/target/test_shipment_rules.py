"""Table-driven tests of the pure shipment rules: planning, the state it leaves, the checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from target_dropstream.rules import (
    OrderState,
    plan_shipment,
    state_after_shipment,
    state_when_shipped_in_magento,
)
from target_dropstream.shipment_checks import check_replaceable, check_shippable
from target_dropstream.shipment_models import (
    ShipmentError,
    ShipmentRequest,
    Track,
    checked_tracks,
    qty_text,
)

UPS = (Track("ups", "UPS", "1Z1"),)
LABEL = "#1 (order id 1)"


def line(item_id: int, sku: str, qty: str, line_type: str = "item", parent: int | None = None):
    return {
        "item_id": item_id,
        "sku": sku,
        "qty": Decimal(qty),
        "line_type": line_type,
        "parent_item_id": parent,
    }


LINES = [
    line(1, "A", "3"),
    line(2, "KIT", "1", "bundle_parent"),
    line(3, "KIT-X", "2", "bundle_component", parent=2),
    line(4, "a", "1"),  # another line whose SKU differs only in case
]


def request(*pairs: tuple[str, str] | None) -> ShipmentRequest:
    if pairs == (None,):
        return ShipmentRequest("1", UPS)
    return ShipmentRequest("1", UPS, tuple((sku, Decimal(qty)) for sku, qty in pairs))


@pytest.mark.parametrize(
    ("wanted", "shipped", "planned"),
    [
        ((None,), {}, {1: 3, 3: 2, 4: 1}),  # everything left, never the bundle parent
        ((None,), {1: Decimal(3)}, {3: 2, 4: 1}),
        ((("A", "2"),), {}, {1: 2}),  # exact SKU first
        ((("KIT-X", "1"), ("KIT-X", "1")), {}, {3: 2}),  # the same SKU twice adds up
        ((("A", "1"),), {1: Decimal(2)}, {1: 1}),
    ],
)
def test_plan_shipment(wanted: tuple, shipped: dict[int, Decimal], planned: dict) -> None:
    expected = {item_id: Decimal(qty) for item_id, qty in planned.items()}
    assert plan_shipment(request(*wanted), LINES, shipped, LABEL) == expected


@pytest.mark.parametrize(
    ("wanted", "shipped", "message", "sku"),
    [
        ((None,), {1: Decimal(3), 3: Decimal(2), 4: Decimal(1)}, "nothing left to ship", None),
        ((("A", "0"),), {}, "quantity for SKU A must be above 0", "A"),
        ((("B", "1"),), {}, "unknown SKU B (lines to ship: A, KIT-X, a)", "B"),
        ((("KIT", "1"),), {}, "KIT is a bundle; ship its components instead (KIT-X)", "KIT"),
        ((("A", "4"),), {}, "over-shipping SKU A: 4 requested but only 3 left", "A"),
        ((("A", "1.5"),), {1: Decimal(2)}, "1.5 requested but only 1 left", "A"),
    ],
)
def test_plan_shipment_refuses(
    wanted: tuple, shipped: dict[int, Decimal], message: str, sku: str | None
) -> None:
    with pytest.raises(ShipmentError, match=re.escape(message)) as exc:
        plan_shipment(request(*wanted), LINES, shipped, LABEL)
    assert exc.value.sku == sku


@pytest.mark.parametrize(
    ("shipped", "planned", "state"),
    [
        ({}, {1: Decimal(3), 3: Decimal(2), 4: Decimal(1)}, OrderState.SHIPPED),
        ({1: Decimal(3)}, {3: Decimal(2), 4: Decimal(1)}, OrderState.SHIPPED),
        ({}, {1: Decimal(3)}, OrderState.PARTIALLY_SHIPPED),  # the bundle parent never counts
    ],
)
def test_state_after_shipment(shipped: dict, planned: dict, state: OrderState) -> None:
    assert state_after_shipment(LINES, shipped, planned) is state


@pytest.mark.parametrize(
    ("stored", "state"),
    [
        ("ready", OrderState.SHIPPED),
        ("partially_shipped", OrderState.SHIPPED),
        ("shipped", OrderState.SHIPPED),
        ("canceled", None),
    ],
)
def test_state_when_shipped_in_magento(stored: str, state: OrderState | None) -> None:
    assert state_when_shipped_in_magento(stored) is state


def stored_order(state: str, **changes: Any) -> dict[str, Any]:
    return {
        "state": state,
        "state_reason": None,
        "release_at": datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
        "magento_state": "processing",
        "magento_status": "processing",
        **changes,
    }


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (stored_order("ready"), None),
        (stored_order("partially_shipped"), None),
        (stored_order("shipped"), None),
        (stored_order("partially_shipped", magento_status="holded"), "cannot ship now"),
        (stored_order("held"), "is held and cannot ship yet: held until 2026-01-15T12:00"),
        (stored_order("held", state_reason="fraud"), "is held and cannot ship yet: fraud"),
        (stored_order("canceled", state_reason="gone"), "is canceled and cannot ship: gone"),
        (stored_order("skipped"), "was skipped and cannot ship"),
    ],
)
def test_check_shippable(order: dict[str, Any], message: str | None) -> None:
    if message is None:
        check_shippable(order, LABEL)
        return
    with pytest.raises(ShipmentError, match=message):
        check_shippable(order, LABEL)


@pytest.mark.parametrize(
    ("state", "attempts", "message"),
    [
        ("failed", 2, None),
        ("pending", 0, None),  # never posted: may still be corrected
        ("pending", 1, "the last answer was lost"),
        ("notified", 1, "already sent to Magento"),
    ],
)
def test_check_replaceable(state: str, attempts: int, message: str | None) -> None:
    existing = {"state": state, "attempts": attempts, "magento_shipment_id": 9}
    if message is None:
        check_replaceable(existing, "WH-1")
        return
    with pytest.raises(ShipmentError, match=message):
        check_replaceable(existing, "WH-1")


def test_checked_tracks_trims_defaults_the_title_and_drops_repeats() -> None:
    tracks = (Track(" ups ", "", " 1Z1 "), Track("ups", "ups", "1Z1"), Track("dhl", "DHL", "9"))
    assert checked_tracks(tracks, LABEL) == [Track("ups", "ups", "1Z1"), Track("dhl", "DHL", "9")]
    for bad, message in [((), "at least one"), ((Track("ups", "", " "),), "empty tracking")]:
        with pytest.raises(ShipmentError, match=message):
            checked_tracks(bad, LABEL)


def test_the_derived_key_depends_on_content_only() -> None:
    one = request(("A", "1"), ("B", "2.50"))
    same = request(("B", "2.5"), ("A", "1"))
    assert one.derived_key("s", 1) == same.derived_key("s", 1)
    assert one.derived_key("s", 1).startswith("auto-")
    assert one.derived_key("s", 1) != one.derived_key("s", 2)
    assert qty_text(Decimal("2.500")) == "2.5"

"""What the warehouse may ship: Magento's quantity left to ship, and never while Magento stops
the order (on hold, payment review, suspected fraud, empty status)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from target_dropstream.models import Order
from target_dropstream.shipment_models import ShipmentError, ShipmentRequest, Track
from target_dropstream.store import FulfillmentStore, LoadPolicy
from tests.target.conftest import NOW, item, order

SOURCE = "https://shop.example.com"
POLICY = LoadPolicy(source=SOURCE)
UPS = (Track("ups", "UPS", "1Z999"),)


def save(store: FulfillmentStore, *records: dict, policy: LoadPolicy = POLICY) -> None:
    store.orders.save_batch([Order.from_magento(r) for r in records], [], policy=policy, now=NOW)


def ship(store: FulfillmentStore, qty: str, sku: str = "S", key: str = "K1") -> str:
    request = ShipmentRequest("000000001", UPS, ((sku, Decimal(qty)),), key)
    [outcome] = store.shipments.record([request], source=SOURCE, now=NOW)
    return outcome.order_state


def state_of(store: FulfillmentStore, order_id: int = 1) -> tuple[str, str]:
    """The order's fulfillment state and its reason ("" when none)."""
    query = text("SELECT state, state_reason FROM fulfillment_orders WHERE order_id = :id")
    with store.read() as conn:
        state, reason = conn.execute(query, {"id": order_id}).one()
    return state, reason or ""


def magentos_example(**changes: object) -> dict:
    """Magento's own unit test: 12 ordered, 4 shipped, 5 refunded leave 7 to ship."""
    return order(1, items=[item(10, "S", qty=12, qty_shipped=4, qty_refunded=5)], **changes)


def test_the_warehouse_may_record_what_magento_leaves_to_ship(store: FulfillmentStore) -> None:
    save(store, magentos_example())
    assert ship(store, "7") == "shipped"


def test_and_not_one_more(store: FulfillmentStore) -> None:
    save(store, magentos_example())
    with pytest.raises(ShipmentError, match="8 requested but only 7 left to ship"):
        ship(store, "8")
    assert ship(store, "5") == "partially_shipped"
    with pytest.raises(ShipmentError, match="3 requested but only 2 left to ship"):
        ship(store, "3", key="K2")


def test_a_bundle_with_a_virtual_option_ships_whole_without_it(store: FulfillmentStore) -> None:
    kit = item(10, "KIT", product_type="bundle", qty=2)
    virtual = item(12, "WARRANTY", parent=kit, qty=2, product_type="virtual", is_virtual=1)
    save(store, order(1, items=[kit, item(11, "A", parent=kit, qty=2), virtual]))
    request = ShipmentRequest("000000001", UPS, None, "ALL")  # everything left on the order
    [outcome] = store.shipments.record([request], source=SOURCE, now=NOW)
    assert (outcome.lines, outcome.order_state) == ({11: Decimal(2)}, "shipped")


@pytest.mark.parametrize(
    ("mstate", "status", "why"),
    [
        ("payment_review", "payment_review", "'payment_review': payment under review"),
        ("payment_review", "fraud", "'fraud': suspected fraud"),
        ("holded", "holded", "'holded': the order is on hold in Magento"),
    ],
)
def test_a_partly_shipped_order_ships_no_more_while_magento_stops_it(
    store: FulfillmentStore, mstate: str, status: str, why: str
) -> None:
    save(store, order(1, items=[item(10, "S", qty=2)]))
    assert ship(store, "1") == "partially_shipped"
    later = "2026-01-15 11:00:00"
    save(
        store, order(1, items=[item(10, "S", qty=2)], status=status, state=mstate, updated_at=later)
    )
    assert state_of(store)[0] == "partially_shipped"  # what was shipped stays known
    with pytest.raises(ShipmentError, match=f"cannot ship now: Magento status is {why}"):
        ship(store, "1", key="K2")
    back = "2026-01-15 12:00:00"
    save(store, order(1, items=[item(10, "S", qty=2)], updated_at=back))
    assert ship(store, "1", key="K2") == "shipped"


@pytest.mark.parametrize("status", ["payment_review", "fraud"])
def test_review_and_fraud_are_never_released_even_as_import_statuses(
    store: FulfillmentStore, status: str
) -> None:
    """A delayed order that went into payment review stays held when it comes due."""
    policy = LoadPolicy(
        source=SOURCE, delay_minutes=60, import_statuses=("processing", "payment_review", "fraud")
    )
    save(store, order(1, status=status, state="payment_review"), policy=policy)
    state, reason = state_of(store)
    assert state == "held"
    assert f"Magento status is '{status}'" in reason
    due = NOW + timedelta(days=1)
    assert store.orders.due_held_orders(due, import_statuses=policy.import_statuses) == []
    assert store.orders.release_due(due, import_statuses=policy.import_statuses) == 0
    assert state_of(store)[0] == "held"


def test_an_order_whose_status_magento_emptied_is_held_not_ready(store: FulfillmentStore) -> None:
    save(store, order(1))
    assert state_of(store)[0] == "ready"
    save(store, order(1, status=None, state="processing", updated_at="2026-01-15 11:00:00"))
    state, reason = state_of(store)
    assert state == "held"
    assert reason.startswith("Magento status is empty (NULL)")
    assert store.orders.release_due(NOW + timedelta(days=1), import_statuses=("processing",)) == 0
    with pytest.raises(ShipmentError, match="is held and cannot ship yet: Magento status is empty"):
        ship(store, "1")

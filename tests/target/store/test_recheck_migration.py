"""Schema v3 adds fulfillment_orders.rechecked_at; an upgraded store re-checks every open order."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from target_dropstream.store import FulfillmentStore
from target_dropstream.store.schema import upgrade
from tests.target.conftest import NOW


def test_upgrade_from_version_2_adds_rechecked_at_and_keeps_rows(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        assert upgrade(conn, target=2, now=NOW) == 2
        conn.execute(
            text(
                "INSERT INTO fulfillment_orders (source, order_id, increment_id, store_id, "
                "magento_status, placed_at, release_at, state, ship_to_name, "
                "magento_updated_at, created_at, updated_at) VALUES "
                "('default', 7, '000000007', 1, 'processing', :t, :t, 'ready', 'Ann', :t, :t, :t)"
            ),
            {"t": NOW.replace(tzinfo=None)},
        )
    assert "rechecked_at" not in {
        c["name"] for c in inspect(engine).get_columns("fulfillment_orders")
    }
    engine.dispose()

    store = FulfillmentStore.open(database_url, now=NOW)
    try:
        due = store.orders.orders_to_recheck(
            NOW, import_statuses=["processing"], source="default", interval_minutes=60
        )
        assert [(o.order_id, o.state) for o in due] == [(7, "ready")]  # never read back yet
        with store.read() as conn:
            row = conn.execute(
                text("SELECT ship_to_name, rechecked_at FROM fulfillment_orders")
            ).one()
            versions = conn.execute(text("SELECT version FROM schema_version")).scalars().all()
    finally:
        store.close()
    assert tuple(row) == ("Ann", None)
    assert sorted(versions) == [1, 2, 3]

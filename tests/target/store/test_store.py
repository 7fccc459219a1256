"""FulfillmentStore on SQLite and PostgreSQL: upserts, transitions, releases, migrations."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from target_dropstream.models import Order, Rejection
from target_dropstream.store import LATEST_VERSION, FulfillmentStore, LoadPolicy, StoreError
from target_dropstream.store.schema import upgrade
from tests.target.conftest import (
    NOW,
    PG_SERVER_URL,
    imported_first,
    item,
    order,
    tutorial_order,
)

POLICY = LoadPolicy(source="https://shop.example.com")


def save(store: FulfillmentStore, *records: dict, policy: LoadPolicy = POLICY, now=NOW):
    return store.orders.save_batch(
        [Order.from_magento(r) for r in records], [], policy=policy, now=now
    )


def rows(store: FulfillmentStore, sql: str, **params) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def order_row(store: FulfillmentStore, order_id: int) -> dict:
    found = rows(store, "SELECT * FROM fulfillment_orders WHERE order_id = :id", id=order_id)
    assert len(found) == 1
    return found[0]


def line_skus(store: FulfillmentStore, order_id: int) -> dict[str, Decimal]:
    found = rows(store, "SELECT sku, qty FROM fulfillment_lines WHERE order_id = :id", id=order_id)
    return {r["sku"]: Decimal(str(r["qty"])).normalize() for r in found}


def test_same_order_twice_is_one_order(store: FulfillmentStore) -> None:
    first = save(store, tutorial_order())
    second = save(store, tutorial_order())
    assert (first.inserted, second.inserted, second.updated) == (1, 0, 1)
    assert len(rows(store, "SELECT order_id FROM fulfillment_orders")) == 1
    assert len(rows(store, "SELECT item_id FROM fulfillment_lines")) == 6
    row = order_row(store, 3)
    assert row["source"] == "https://shop.example.com"
    assert row["state"] == "ready"
    assert row["ship_to_street"] == "6146 Honey Bluff Parkway\nBuilding 2"


def test_newer_update_refreshes_address_and_lines_older_is_ignored(store: FulfillmentStore) -> None:
    save(store, order(1, items=[item(10, "A", qty=2)], updated_at="2026-01-15 10:00:00"))
    newer = order(
        1,
        items=[item(10, "A", qty=2, qty_refunded=1), item(11, "B")],
        updated_at="2026-01-15 11:00:00",
    )
    newer["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]["city"] = (
        "Ann Arbor"
    )
    save(store, newer)
    assert line_skus(store, 1) == {"A": Decimal(1), "B": Decimal(1)}
    assert order_row(store, 1)["ship_to_city"] == "Ann Arbor"

    older = order(1, items=[item(10, "A", qty=9)], updated_at="2026-01-15 10:30:00")
    result = save(store, older)
    assert result.stale == 1
    assert line_skus(store, 1) == {"A": Decimal(1), "B": Decimal(1)}
    assert order_row(store, 1)["ship_to_city"] == "Ann Arbor"


def test_newest_wins_inside_one_batch_whatever_the_order(store: FulfillmentStore) -> None:
    new = order(1, items=[item(10, "NEW")], updated_at="2026-01-15 11:00:00")
    old = order(1, items=[item(10, "OLD")], updated_at="2026-01-15 10:00:00")
    save(store, new, old)
    assert line_skus(store, 1) == {"NEW": Decimal(1)}


def test_shipped_and_partially_shipped_never_fall_back(store: FulfillmentStore) -> None:
    save(store, order(1), order(2))
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE fulfillment_orders SET state = 'shipped' WHERE order_id = 1"))
        conn.execute(
            text("UPDATE fulfillment_orders SET state = 'partially_shipped' WHERE order_id = 2")
        )
    later = "2026-01-15 12:00:00"
    save(
        store,
        order(1, items=[item(99, "CHANGED")], updated_at=later, status="canceled"),
        order(2, items=[item(98, "CHANGED")], updated_at=later),
    )
    assert order_row(store, 1)["state"] == "shipped"
    assert order_row(store, 1)["magento_status"] == "canceled"  # still recorded
    assert order_row(store, 2)["state"] == "partially_shipped"
    assert line_skus(store, 1) == {"SKU-1": Decimal(1)}  # lines kept as shipped
    assert line_skus(store, 2) == {"SKU-2": Decimal(1)}


def test_canceled_and_skipped_orders_keep_their_reason(store: FulfillmentStore) -> None:
    save(
        store,
        *imported_first(order(1, status="canceled")),
        order(2, items=[item(20, "EBOOK", product_type="downloadable", is_virtual=1)]),
    )
    assert order_row(store, 1)["state"] == "canceled"
    skipped = order_row(store, 2)
    assert skipped["state"] == "skipped"
    assert skipped["state_reason"] == "nothing to ship: only virtual or downloadable items"
    assert line_skus(store, 2) == {}


def test_held_orders_are_released_when_due(store: FulfillmentStore) -> None:
    policy = LoadPolicy(source=POLICY.source, delay_minutes=60)
    placed = "2026-01-15 11:30:00"  # release at 12:30, NOW is 12:00
    save(
        store,
        order(1, created_at=placed),
        *imported_first(order(2, created_at=placed, status="holded")),
        policy=policy,
    )
    held = order_row(store, 1)
    assert held["state"] == "held"
    assert [(h.order_id, h.release_at) for h in store.orders.status().held] == [
        (1, NOW + timedelta(minutes=30)),
        (2, NOW + timedelta(minutes=30)),
    ]

    assert store.orders.release_due(NOW, import_statuses=["processing"]) == 0
    later = NOW + timedelta(minutes=30)
    assert [
        o.order_id for o in store.orders.due_held_orders(later, import_statuses=["processing"])
    ] == [1]
    assert store.orders.release_due(later, import_statuses=["processing"]) == 1
    assert order_row(store, 1)["state"] == "ready"
    assert order_row(store, 1)["released_at"] is not None
    assert [h.order_id for h in store.orders.status().held] == [2]
    # an order Magento holds is not released by time alone
    assert order_row(store, 2)["state"] == "held"
    assert "holded" in order_row(store, 2)["state_reason"]
    assert store.orders.release_due(later, import_statuses=["processing"]) == 0


def test_rejected_records_are_kept_once(store: FulfillmentStore) -> None:
    bad = Rejection(stream="orders", record={"increment_id": "x"}, reason="entity_id is missing")
    for _ in range(2):
        store.orders.save_batch([], [bad], policy=POLICY, now=NOW)
    found = rows(store, "SELECT * FROM rejected_records")
    assert len(found) == 1
    assert found[0]["record_json"] == '{"increment_id": "x"}'
    assert found[0]["reason"] == "entity_id is missing"
    assert store.orders.status().rejected_total == 1


def test_status_counts_every_state(store: FulfillmentStore) -> None:
    save(store, order(1), *imported_first(order(2, status="canceled")))
    report = store.orders.status()
    assert report.counts == {
        "held": 0,
        "ready": 1,
        "partially_shipped": 0,
        "shipped": 0,
        "canceled": 1,
        "skipped": 0,
    }
    assert report.schema_version == LATEST_VERSION


def _v1_database(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        assert upgrade(conn, target=1, now=NOW) == 1
        conn.execute(
            text(
                "INSERT INTO fulfillment_orders (source, order_id, increment_id, store_id, "
                "magento_status, placed_at, release_at, state, ship_to_name, "
                "magento_updated_at, created_at, updated_at) VALUES "
                "('default', 7, '000000007', 1, 'processing', :t, :t, 'ready', 'Ann', :t, :t, :t)"
            ),
            {"t": NOW.replace(tzinfo=None)},
        )
        conn.execute(
            text(
                "INSERT INTO fulfillment_lines (source, order_id, item_id, sku, name, qty, "
                "line_type, parent_item_id) VALUES "
                "('default', 7, 70, 'A', 'A', 2, 'item', NULL), "
                "('default', 7, 71, 'KIT', 'Kit', 1, 'bundle_parent', NULL), "
                "('default', 7, 72, 'B', 'B', 1, 'bundle_component', 71)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO rejected_records (source, stream, order_id, reason, record_json, "
                "record_sha256, received_at) VALUES "
                "('default', 'orders', NULL, 'entity_id is missing', '{}', 'abc', :t)"
            ),
            {"t": NOW.replace(tzinfo=None)},
        )
    engine.dispose()


def test_upgrade_from_version_1_keeps_rows(database_url: str) -> None:
    _v1_database(database_url)
    engine = create_engine(database_url)
    v1_tables = set(inspect(engine).get_table_names())
    assert "shipments" not in v1_tables
    assert "ship_item_id" not in {
        c["name"] for c in inspect(engine).get_columns("fulfillment_lines")
    }
    engine.dispose()

    store = FulfillmentStore.open(database_url, now=NOW)
    try:
        assert store.orders.status().schema_version == LATEST_VERSION
        assert order_row(store, 7)["ship_to_name"] == "Ann"
        lines = {
            r["item_id"]: r["ship_item_id"]
            for r in rows(store, "SELECT item_id, ship_item_id FROM fulfillment_lines")
        }
        assert lines == {70: 70, 71: 71, 72: None}  # components stay unresolved
        assert store.orders.status().rejected_total == 1
        # the upgraded store works like a fresh one
        save(store, order(8), policy=LoadPolicy(source="default"))
        assert order_row(store, 8)["state"] == "ready"
        assert rows(store, "SELECT COUNT(*) AS n FROM shipments")[0]["n"] == 0
        versions = [r["version"] for r in rows(store, "SELECT version FROM schema_version")]
        assert sorted(versions) == list(range(1, LATEST_VERSION + 1))
    finally:
        store.close()

    # same columns as a database created at the latest version
    fresh_url = database_url + ("_fresh" if database_url.startswith("sqlite") else "")
    if database_url.startswith("sqlite"):
        FulfillmentStore.open(fresh_url, now=NOW).close()
        upgraded, fresh = create_engine(database_url), create_engine(fresh_url)
        for table in ("fulfillment_orders", "fulfillment_lines", "shipments", "rejected_records"):
            assert {c["name"] for c in inspect(upgraded).get_columns(table)} == {
                c["name"] for c in inspect(fresh).get_columns(table)
            }
        upgraded.dispose()
        fresh.dispose()


def test_refuses_a_database_from_a_newer_version(database_url: str) -> None:
    FulfillmentStore.open(database_url, now=NOW).close()
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO schema_version (version, applied_at) VALUES (99, :t)"),
            {"t": NOW.replace(tzinfo=None)},
        )
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 99, newer"):
        FulfillmentStore.open(database_url, now=NOW)


def test_sqlite_uses_wal_and_a_reader_is_not_blocked_by_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    store = FulfillmentStore.open(f"sqlite:///{path}", now=NOW)
    save(store, order(1))
    try:
        with store.write() as conn:
            conn.execute(text("UPDATE fulfillment_orders SET state = 'held'"))
            # while the writer holds its transaction, a separate reader still sees the
            # last committed state immediately
            reader = sqlite3.connect(path, timeout=0.1)
            assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert reader.execute("SELECT state FROM fulfillment_orders").fetchall() == [("ready",)]
            reader.close()
        assert store.orders.status().counts["held"] == 1
    finally:
        store.close()


def test_missing_sqlite_file_is_not_created_by_operator_commands(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no fulfillment store"):
        FulfillmentStore.open(f"sqlite:///{tmp_path / 'nope.db'}", now=NOW, create=False)
    assert not (tmp_path / "nope.db").exists()


def test_connection_errors_never_show_the_password(pg_database_url: str) -> None:
    url = PG_SERVER_URL.replace("postgres@", "postgres:s3cr3t-pw@").replace(
        "/postgres", "/no_such_database_here"
    )
    with pytest.raises(StoreError) as caught:
        FulfillmentStore.open(url, now=NOW)
    assert "s3cr3t-pw" not in str(caught.value)
    assert "no_such_database_here" in str(caught.value)

"""Large batches: PostgreSQL's bulk paths (``= ANY``, COPY of the lines) store exactly what
SQLite's IN lists and executemany store, and a failing COPY fails like an INSERT."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from target_dropstream.models import Order, Rejection
from target_dropstream.store import BatchResult, FulfillmentStore, LoadPolicy
from target_dropstream.store.schema import LINES, ORDERS, REJECTED
from tests.target.conftest import NOW, _reset_pg, item, order

STATUSES = ["processing", "pending", "holded", "canceled", "complete"]
# Every status is an import status here, so every order is stored whatever its status.
POLICY = LoadPolicy(
    source="https://shop.example.com", delay_minutes=30, import_statuses=tuple(STATUSES)
)
# Text that COPY's text format must escape, and values it must not read as NULL.
TRICKY = ["\\N", "tab\there", "line\r\nbreak", "back\\slash", "quote ' \" ,;|", "ünïcødé ✓ 🚚"]
COUNT = 1_200  # more than one SQLite IN list (500 ids)


def _record(n: int, *, updated_at: str, fewer_items: bool = False) -> dict[str, Any]:
    tricky = TRICKY[n % len(TRICKY)]
    parent = item(n * 10 + 1, f"CFG-{n}", product_type="configurable")
    items = [
        item(n * 10, tricky if n % 2 else f"SKU-{n}", qty=1.2345, name=tricky),
        parent,
        item(n * 10 + 2, f"CFG-{n}-S", parent=parent, qty=3),
    ]
    record = order(
        n,
        items=items[:1] if fewer_items else items,
        status=STATUSES[n % len(STATUSES)],
        updated_at=updated_at,
    )
    address = record["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
    address["city"] = tricky
    address["company"] = None if n % 3 else tricky
    return record


def _orders(records: list[dict[str, Any]]) -> list[Order]:
    return [Order.from_magento(r) for r in records]


def _load(url: str) -> tuple[list[BatchResult], dict[str, list[tuple]]]:
    """The same batches on any store: inserts, replays, updates, stale and duplicates."""
    store = FulfillmentStore.open(url, now=NOW)
    first = [_record(n, updated_at="2026-01-15 10:00:00") for n in range(1, COUNT + 1)]
    newer = [
        _record(n, updated_at="2026-01-15 11:00:00", fewer_items=n % 4 == 0)
        for n in range(1, COUNT // 2)
    ]
    older = [_record(n, updated_at="2026-01-15 09:00:00") for n in range(COUNT // 2, COUNT)]
    rejection = Rejection("orders", {"entity_id": 7, "qty": Decimal("1.5")}, "bad", order_id=7)
    try:
        results = [
            store.orders.save_batch(_orders(first), [], policy=POLICY, now=NOW),
            store.orders.save_batch(
                _orders(first), [], policy=POLICY, now=NOW + timedelta(minutes=1)
            ),
            store.orders.save_batch(
                _orders(newer + older + newer[:5]),
                [rejection],
                policy=POLICY,
                now=NOW + timedelta(hours=1),
            ),
        ]
        with store.read() as conn:
            stored = {
                table.name: sorted(
                    tuple(_plain(v) for k, v in row.items() if k != "id")
                    for row in conn.execute(select(table)).mappings()
                )
                for table in (ORDERS, LINES, REJECTED)
            }
    finally:
        store.close()
    return results, stored


def _plain(value: Any) -> Any:
    return value.normalize() if isinstance(value, Decimal) else value


def test_large_batches_store_the_same_rows_on_sqlite_and_postgresql(
    sqlite_url: str, pg_database_url: str
) -> None:
    _reset_pg(pg_database_url)
    on_sqlite = _load(sqlite_url)
    on_postgresql = _load(pg_database_url)

    assert on_postgresql == on_sqlite
    results, stored = on_postgresql
    assert [(r.inserted, r.updated, r.stale, r.rejected) for r in results] == [
        (COUNT, 0, 0, 0),
        (0, COUNT, 0, 0),
        (0, COUNT // 2 - 1 + 5, COUNT // 2, 1),  # the 5 repeats apply again
    ]
    assert len(stored["fulfillment_orders"]) == COUNT
    cities = {row[ORDERS.c.keys().index("ship_to_city")] for row in stored["fulfillment_orders"]}
    assert cities == set(TRICKY)  # none read back as NULL or altered by COPY escaping
    assert Decimal("1.2345") in {row[LINES.c.keys().index("qty")] for row in stored[LINES.name]}


@pytest.mark.parametrize("table", ["fulfillment_orders", "fulfillment_lines"])
def test_a_failing_bulk_write_on_postgresql_rolls_back_and_raises_like_an_insert(
    pg_database_url: str, table: str
) -> None:
    _reset_pg(pg_database_url)
    store = FulfillmentStore.open(pg_database_url, now=NOW)
    column = "ship_to_company" if table == "fulfillment_orders" else "sku"
    good = order(1, items=[item(10, "OK")])
    bad = order(2, items=[item(20, "OK" if table == "fulfillment_orders" else "BOOM")])
    bad["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]["company"] = (
        "BOOM"
    )
    try:
        with store.engine.begin() as conn:
            conn.execute(
                text(f"ALTER TABLE {table} ADD CONSTRAINT boom CHECK ({column} <> 'BOOM')")
            )
        with pytest.raises(IntegrityError, match="boom"):
            store.orders.save_batch(_orders([good, bad]), [], policy=POLICY, now=NOW)
        with store.read() as conn:
            assert conn.execute(select(ORDERS.c.order_id)).all() == []

        # The pooled connection is clean again: the next batches commit.
        results = [
            store.orders.save_batch(_orders([good]), [], policy=POLICY, now=NOW) for _ in "ab"
        ]
        assert [(r.inserted, r.updated) for r in results] == [(1, 0), (0, 1)]
        with store.read() as conn:
            assert conn.execute(select(LINES.c.order_id, LINES.c.sku)).all() == [(1, "OK")]
    finally:
        with store.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS boom"))
        store.close()

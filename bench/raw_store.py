"""The raw store limit: the target's rows written with one executemany per batch.

Reads the same prepared Singer file the target reads, parses each line with ``json``,
maps each order on arrival with the target's own rules (``Order.from_magento``,
``order_rows``) and writes fulfillment_orders and fulfillment_lines with plain
DB-API ``executemany``, one transaction per batch of 2,500 records (the target's batch
size). No singer-sdk, no schema validation, no SQLAlchemy on the write path (it only
creates the tables, as the target does).

    python -m bench.raw_store FILE DATABASE_URL SOURCE
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import make_url

from target_dropstream.models import Order
from target_dropstream.store import FulfillmentStore, LoadPolicy
from target_dropstream.store.rows import order_rows
from target_dropstream.store.schema import LINES, ORDERS

BATCH = 2_500  # OrdersSink.MAX_SIZE_DEFAULT


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, Decimal):
        return float(value)
    return value


def main() -> int:
    path, database_url, source = sys.argv[1:4]
    now = datetime.now(UTC)
    FulfillmentStore.open(database_url, now=now).close()  # tables, as the target creates them
    url = make_url(database_url)
    policy = LoadPolicy(source=source)
    order_cols = [c.name for c in ORDERS.columns]
    line_cols = [c.name for c in LINES.columns]
    keys = {"source", "order_id", "created_at"}
    updates = ", ".join(f"{c} = excluded.{c}" for c in order_cols if c not in keys)
    upsert = (
        f"INSERT INTO fulfillment_orders ({', '.join(order_cols)}) VALUES "
        f"({', '.join(['{p}'] * len(order_cols))}) "
        f"ON CONFLICT (source, order_id) DO UPDATE SET {updates}"
    )
    delete = "DELETE FROM fulfillment_lines WHERE source = {p} AND order_id = {p}"
    insert = (
        f"INSERT INTO fulfillment_lines ({', '.join(line_cols)}) VALUES "
        f"({', '.join(['{p}'] * len(line_cols))})"
    )
    if url.get_backend_name() == "sqlite":
        conn: Any = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        mark, convert = "?", _sqlite_value
    else:
        import psycopg

        conn = psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, dbname=url.database
        )
        mark, convert = "%s", (lambda v: v)
    upsert, delete, insert = (s.replace("{p}", mark) for s in (upsert, delete, insert))

    def flush(rows: list[tuple], lines: list[tuple]) -> None:
        cursor = conn.cursor()
        if mark == "?":
            cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(upsert, rows)
        cursor.executemany(delete, [(source, r[order_cols.index("order_id")]) for r in rows])
        cursor.executemany(insert, lines)
        conn.commit()

    rows: list[tuple] = []
    lines: list[tuple] = []
    with open(path, encoding="utf-8") as lines_in:
        for line in lines_in:
            message = json.loads(line, parse_float=Decimal)
            if message.get("type") != "RECORD" or message.get("stream") != "orders":
                continue
            order = Order.from_magento(message["record"])
            row, order_lines = order_rows(order, None, policy=policy, now=now)
            rows.append(tuple(convert(row.get(c)) for c in order_cols))
            lines += [tuple(convert(ln.get(c)) for c in line_cols) for ln in order_lines or []]
            if len(rows) >= BATCH:
                flush(rows, lines)
                rows, lines = [], []
    if rows:
        flush(rows, lines)
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

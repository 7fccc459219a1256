"""Orders, lines and rejected records read and written in bulk, inside a caller's transaction.

One query per batch of order ids (``sql.order_id_filters``); new lines go to PostgreSQL by
COPY. Nothing here decides anything: the rows come from ``rows.order_rows`` and
``recheck.plan_change``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from target_dropstream.models import Rejection
from target_dropstream.store.rows import raw_json
from target_dropstream.store.schema import LINES, ORDERS, REJECTED, SHIPMENT_LINES, SHIPMENTS
from target_dropstream.store.sql import copy_rows, insert, order_id_filters

if TYPE_CHECKING:
    from target_dropstream.recheck import Change

_KEYS = {"source", "order_id", "created_at"}  # never rewritten once an order is stored


def load_known(conn: Connection, source: str, ids: Iterable[int]) -> dict[int, dict]:
    """The stored rows of these orders, by order id."""
    known: dict[int, dict] = {}
    for matches in order_id_filters(conn, ORDERS.c.order_id, ids):
        query = select(ORDERS).where(ORDERS.c.source == source, matches)
        for found in conn.execute(query).mappings():
            known[found["order_id"]] = dict(found)
    return known


def write_orders(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert or update these order rows."""
    if not rows:
        return
    stmt = insert(conn, ORDERS)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ORDERS.c.source, ORDERS.c.order_id],
        set_={c.name: stmt.excluded[c.name] for c in ORDERS.columns if c.name not in _KEYS},
    )
    conn.execute(stmt, rows)


def replace_lines(conn: Connection, source: str, lines: Mapping[int, list[dict[str, Any]]]) -> None:
    """Every line of these orders becomes the given ones."""
    ids = sorted(lines)
    for matches in order_id_filters(conn, LINES.c.order_id, ids):
        conn.execute(LINES.delete().where(LINES.c.source == source, matches))
    new_rows = [row for order_id in ids for row in lines[order_id]]
    if not new_rows:
        return
    if conn.dialect.name == "postgresql":
        copy_rows(conn, LINES, new_rows)  # plain inserts: COPY them
    else:
        conn.execute(LINES.insert(), new_rows)


def write_rejections(
    conn: Connection, source: str, rejections: Sequence[Rejection], now: datetime
) -> None:
    """Keep these rejected records; one already kept (same content) is not added again."""
    if not rejections:
        return
    rows = []
    for rejection in rejections:
        body = raw_json(rejection.record)
        rows.append(
            {
                "source": source,
                "stream": rejection.stream,
                "order_id": rejection.order_id,
                "reason": rejection.reason,
                "record_json": body,
                "record_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
                "received_at": now,
            }
        )
    stmt = insert(conn, REJECTED).on_conflict_do_nothing(
        index_elements=[REJECTED.c.source, REJECTED.c.stream, REJECTED.c.record_sha256]
    )
    conn.execute(stmt, rows)


def lines_by_order(conn: Connection, source: str, ids: set[int]) -> dict[int, list[dict]]:
    """The stored lines of these orders, by order id (one query per batch of ids)."""
    found: dict[int, list[dict[str, Any]]] = {}
    for matches in order_id_filters(conn, LINES.c.order_id, ids):
        query = select(LINES).where(LINES.c.source == source, matches).order_by(LINES.c.item_id)
        for row in conn.execute(query).mappings():
            found.setdefault(row["order_id"], []).append(dict(row))
    return found


def shipped_by_order(
    conn: Connection, source: str, ids: set[int]
) -> dict[int, tuple[dict[int, Decimal], dict[int, Decimal]]]:
    """The warehouse's shipped quantities per order and line: all of them, and those Magento
    has (notified)."""
    every: dict[int, dict[int, Decimal]] = {}
    notified: dict[int, dict[int, Decimal]] = {}
    for matches in order_id_filters(conn, SHIPMENTS.c.order_id, ids):
        query = (
            select(
                SHIPMENTS.c.order_id,
                SHIPMENT_LINES.c.item_id,
                SHIPMENTS.c.state,
                func.sum(SHIPMENT_LINES.c.qty),
            )
            .join(SHIPMENTS, SHIPMENTS.c.id == SHIPMENT_LINES.c.shipment_id)
            .where(SHIPMENTS.c.source == source, matches)
            .group_by(SHIPMENTS.c.order_id, SHIPMENT_LINES.c.item_id, SHIPMENTS.c.state)
        )
        for order_id, item_id, state, qty in conn.execute(query):
            amount = Decimal(str(qty))
            per_line = every.setdefault(order_id, {})
            per_line[item_id] = per_line.get(item_id, Decimal(0)) + amount
            if state == "notified":
                done = notified.setdefault(order_id, {})
                done[item_id] = done.get(item_id, Decimal(0)) + amount
    return {order_id: (lines, notified.get(order_id, {})) for order_id, lines in every.items()}


def write_change(
    conn: Connection,
    source: str,
    order_id: int,
    change: Change,
    stored_lines: Sequence[Mapping[str, Any]],
) -> None:
    """Write a re-check's change to one order and its lines (only what differs)."""
    this_order = (ORDERS.c.source == source) & (ORDERS.c.order_id == order_id)
    conn.execute(
        ORDERS.update()
        .where(this_order)
        .values(**{k: v for k, v in change.row.items() if k not in _KEYS})
    )
    this_line = (LINES.c.source == source) & (LINES.c.order_id == order_id)
    if change.lines is not None and not _same_lines(stored_lines, change.lines):
        conn.execute(LINES.delete().where(this_line))
        if change.lines:
            conn.execute(LINES.insert(), change.lines)
    current = {line["item_id"]: line["qty"] for line in stored_lines}
    for item_id, qty in (change.line_qty or {}).items():
        if current.get(item_id) != qty:
            conn.execute(
                LINES.update().where(this_line, LINES.c.item_id == item_id).values(qty=qty)
            )


def _same_lines(stored: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> bool:
    """True when rewriting the lines would change nothing (the usual re-check)."""
    if len(stored) != len(new):
        return False
    by_item = {line["item_id"]: line for line in stored}
    return all(
        line["item_id"] in by_item
        and all(by_item[line["item_id"]].get(key) == value for key, value in line.items())
        for line in new
    )

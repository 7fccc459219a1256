"""Recording warehouse shipments in the fulfillment store.

A shipment is idempotent by its warehouse key: recording the same key with the same content
again changes nothing; a failed (refused) shipment may be re-recorded with new content, which
puts it back in the queue. Quantities are checked against what is left on each line after
every shipment already recorded (pending ones included), so the warehouse cannot over-ship.
What may be recorded is decided by ``rules.plan_shipment`` and ``shipment_checks``; this
module reads what they need and writes the outcome, inside the caller's write transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from target_dropstream import rules, shipment_checks
from target_dropstream.shipment_models import (
    ShipmentError,
    ShipmentRequest,
    Track,
    checked_tracks,
    qty_text,
)
from target_dropstream.store.schema import (
    LINES,
    ORDERS,
    SHIPMENT_LINES,
    SHIPMENT_TRACKS,
    SHIPMENTS,
)


@dataclass
class RecordOutcome:
    """What recording one request did."""

    key: str
    order_id: int
    increment_id: str | None
    action: str  # "recorded", "unchanged" or "replaced"
    order_state: str
    lines: dict[int, Decimal] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the CLI."""
        label = f"#{self.increment_id}" if self.increment_id else f"id {self.order_id}"
        if self.action == "unchanged":
            return f"shipment {self.key}: already recorded for order {label}, nothing new"
        units = sum(self.lines.values(), Decimal(0))
        verb = "re-recorded (queued again)" if self.action == "replaced" else "recorded"
        return (
            f"shipment {self.key}: {verb} for order {label}, {len(self.lines)} line(s), "
            f"{qty_text(units)} unit(s); order is now {self.order_state}"
        )


def record_one(
    conn: Connection, request: ShipmentRequest, *, source: str | None, now: datetime
) -> RecordOutcome:
    """Check and record one request (the caller holds the write lock).

    Raises:
        ShipmentError: why it cannot be recorded; the caller rolls back.
    """
    order = find_order(conn, request.order_ref, source)
    label = _label(order)
    tracks = checked_tracks(request.tracks, label)
    key = (request.key or "").strip() or request.derived_key(order["source"], order["order_id"])
    existing = (
        conn.execute(
            select(SHIPMENTS).where(
                SHIPMENTS.c.source == order["source"], SHIPMENTS.c.idempotency_key == key
            )
        )
        .mappings()
        .first()
    )
    if existing is not None and existing["order_id"] != order["order_id"]:
        msg = (
            f"shipment key {key!r} is already used for order id {existing['order_id']}, "
            f"not {label}: keys must be unique per store"
        )
        raise ShipmentError(msg)
    lines = _order_lines(conn, order)
    shipped = _shipped_qty(conn, order, exclude=existing["id"] if existing else None)
    if existing is None or existing["state"] != "notified":
        shipment_checks.check_shippable(order, label)
    planned = rules.plan_shipment(request, lines, shipped, label)
    if existing is not None:
        if _same_content(conn, existing["id"], planned, tracks):
            return RecordOutcome(
                key, order["order_id"], order["increment_id"], "unchanged", order["state"]
            )
        shipment_checks.check_replaceable(existing, key)
        shipment_id = existing["id"]
        conn.execute(SHIPMENT_LINES.delete().where(SHIPMENT_LINES.c.shipment_id == shipment_id))
        conn.execute(SHIPMENT_TRACKS.delete().where(SHIPMENT_TRACKS.c.shipment_id == shipment_id))
        conn.execute(
            SHIPMENTS.update()
            .where(SHIPMENTS.c.id == shipment_id)
            .values(state="pending", last_error=None, updated_at=now, **_first_track(tracks))
        )
        action = "replaced"
    else:
        shipment_id = conn.execute(
            SHIPMENTS.insert().values(
                source=order["source"],
                order_id=order["order_id"],
                idempotency_key=key,
                state="pending",
                attempts=0,
                created_at=now,
                updated_at=now,
                **_first_track(tracks),
            )
        ).inserted_primary_key[0]
        action = "recorded"
    _write_content(conn, shipment_id, lines, planned, tracks)
    state = rules.state_after_shipment(lines, shipped, planned)
    conn.execute(
        ORDERS.update()
        .where(ORDERS.c.source == order["source"], ORDERS.c.order_id == order["order_id"])
        .values(state=state.value, state_reason=None, updated_at=now)
    )
    return RecordOutcome(
        key, order["order_id"], order["increment_id"], action, state.value, dict(planned)
    )


def find_order(conn: Connection, ref: str, source: str | None) -> Mapping[str, Any]:
    """The order with this increment_id (or, failing that, this Magento order id).

    Raises:
        ShipmentError: unknown, or found in several stores of the same database.
    """
    ref = (ref or "").strip()
    if not ref:
        raise ShipmentError("the order is missing: give its increment_id or order id")
    query = select(ORDERS).where(ORDERS.c.increment_id == ref)
    if source is not None:
        query = query.where(ORDERS.c.source == source)
    rows = list(conn.execute(query).mappings())
    if not rows and ref.isdigit():
        query = select(ORDERS).where(ORDERS.c.order_id == int(ref))
        if source is not None:
            query = query.where(ORDERS.c.source == source)
        rows = list(conn.execute(query).mappings())
    if not rows:
        where = f" of {source}" if source else ""
        msg = (
            f"unknown order {ref!r}: no order{where} with that increment_id or order id in the "
            "fulfillment store (has target-dropstream loaded it?)"
        )
        raise ShipmentError(msg)
    if len(rows) > 1:
        stores = ", ".join(sorted({row["source"] for row in rows}))
        msg = (
            f"order {ref!r} exists in several stores ({stores}): set store_url "
            "(--config or TARGET_DROPSTREAM_STORE_URL) to pick one"
        )
        raise ShipmentError(msg)
    return rows[0]


def _label(order: Mapping[str, Any]) -> str:
    if order["increment_id"]:
        return f"#{order['increment_id']} (order id {order['order_id']})"
    return f"order id {order['order_id']}"


def _first_track(tracks: Sequence[Track]) -> dict[str, str]:
    first = tracks[0]
    return {
        "carrier_code": first.carrier_code,
        "title": first.title,
        "track_number": first.track_number,
    }


def _order_lines(conn: Connection, order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(
        conn.execute(
            select(LINES)
            .where(LINES.c.source == order["source"], LINES.c.order_id == order["order_id"])
            .order_by(LINES.c.item_id)
        ).mappings()
    )


def _shipped_qty(
    conn: Connection, order: Mapping[str, Any], *, exclude: int | None
) -> dict[int, Decimal]:
    """Quantity per line in every shipment recorded for the order (but ``exclude``)."""
    query = (
        select(SHIPMENT_LINES.c.item_id, func.sum(SHIPMENT_LINES.c.qty))
        .join(SHIPMENTS, SHIPMENTS.c.id == SHIPMENT_LINES.c.shipment_id)
        .where(SHIPMENTS.c.source == order["source"], SHIPMENTS.c.order_id == order["order_id"])
        .group_by(SHIPMENT_LINES.c.item_id)
    )
    if exclude is not None:
        query = query.where(SHIPMENTS.c.id != exclude)
    return {item_id: Decimal(str(qty)) for item_id, qty in conn.execute(query)}


def _same_content(
    conn: Connection, shipment_id: int, planned: Mapping[int, Decimal], tracks: Sequence[Track]
) -> bool:
    stored_lines = {
        row.item_id: Decimal(str(row.qty))
        for row in conn.execute(
            select(SHIPMENT_LINES.c.item_id, SHIPMENT_LINES.c.qty).where(
                SHIPMENT_LINES.c.shipment_id == shipment_id
            )
        )
    }
    stored_tracks = {
        Track(row.carrier_code or "", row.title or "", row.track_number)
        for row in conn.execute(
            select(SHIPMENT_TRACKS).where(SHIPMENT_TRACKS.c.shipment_id == shipment_id)
        )
    }
    return stored_lines == dict(planned) and stored_tracks == set(tracks)


def _write_content(
    conn: Connection,
    shipment_id: int,
    lines: Sequence[Mapping[str, Any]],
    planned: Mapping[int, Decimal],
    tracks: Sequence[Track],
) -> None:
    """The shipment's lines and tracking numbers."""
    by_id = {line["item_id"]: line for line in lines}
    conn.execute(
        SHIPMENT_LINES.insert(),
        [
            {
                "shipment_id": shipment_id,
                "item_id": item_id,
                # Bundle components not yet resolved reference themselves until notify
                # learns whether their bundle ships together or separately.
                "order_item_id": by_id[item_id]["ship_item_id"] or item_id,
                "qty": qty,
            }
            for item_id, qty in planned.items()
        ],
    )
    conn.execute(
        SHIPMENT_TRACKS.insert(),
        [
            {
                "shipment_id": shipment_id,
                "carrier_code": t.carrier_code,
                "title": t.title,
                "track_number": t.track_number,
            }
            for t in tracks
        ],
    )

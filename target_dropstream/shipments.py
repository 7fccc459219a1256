"""Recording warehouse shipments in the fulfillment store.

A shipment is idempotent by its warehouse key: recording the same key with the same content
again changes nothing; a failed (refused) shipment may be re-recorded with new content, which
puts it back in the queue. Quantities are checked against what is left on each line after
every shipment already recorded (pending ones included), so the warehouse cannot over-ship.
Every request of one call is validated and written in ONE transaction: a bad request loses
nothing and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from target_dropstream import rules
from target_dropstream.rules import LineType, OrderState
from target_dropstream.schema import TABLES
from target_dropstream.store import FulfillmentStore

ORDERS = TABLES.tables["fulfillment_orders"]
LINES = TABLES.tables["fulfillment_lines"]
SHIPMENTS = TABLES.tables["shipments"]
SHIPMENT_LINES = TABLES.tables["shipment_lines"]
SHIPMENT_TRACKS = TABLES.tables["shipment_tracks"]
SHIPPABLE_STATES = frozenset(
    {OrderState.READY.value, OrderState.PARTIALLY_SHIPPED.value, OrderState.SHIPPED.value}
)


class ShipmentError(ValueError):
    """A shipment cannot be recorded; ``index`` is the request it came from."""

    def __init__(self, reason: str, index: int = 0, sku: str | None = None) -> None:
        self.reason = reason
        self.index = index
        self.sku = sku  # the SKU the problem is about, when there is one
        super().__init__(reason)


@dataclass(frozen=True)
class Track:
    """One tracking number (a shipment may carry several)."""

    carrier_code: str
    title: str
    track_number: str


@dataclass(frozen=True)
class ShipmentRequest:
    """What the warehouse says it shipped.

    ``lines`` is None for "everything still left on the order"; otherwise (SKU, qty) pairs.
    ``key`` is the warehouse's shipment id; None derives one from the content.
    """

    order_ref: str
    tracks: tuple[Track, ...]
    lines: tuple[tuple[str, Decimal], ...] | None = None
    key: str | None = None


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
            f"{_qty_text(units)} unit(s); order is now {self.order_state}"
        )


def derive_key(source: str, order_id: int, request: ShipmentRequest) -> str:
    """A stable key from the request's content, so repeating a command records one shipment."""
    content = {
        "source": source,
        "order_id": order_id,
        "lines": "*"
        if request.lines is None
        else sorted([sku, _qty_text(qty)] for sku, qty in request.lines),
        "tracks": sorted([t.carrier_code, t.title, t.track_number] for t in request.tracks),
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()
    return f"auto-{digest[:20]}"


def record_shipments(
    store: FulfillmentStore,
    requests: Sequence[ShipmentRequest],
    *,
    source: str | None,
    now: datetime,
) -> list[RecordOutcome]:
    """Validate and record every request in ONE transaction (all or nothing).

    Args:
        store: the fulfillment store.
        requests: what the warehouse shipped.
        source: only orders of this store URL (None: any store in the database).
        now: recording time (UTC).

    Raises:
        ShipmentError: naming the first bad request (``index``) and why; nothing is written.
    """
    outcomes: list[RecordOutcome] = []
    with store.write() as conn:
        for index, request in enumerate(requests):
            try:
                outcomes.append(_record_one(conn, request, source=source, now=now))
            except ShipmentError as exc:
                raise ShipmentError(exc.reason, index, exc.sku) from None
    return outcomes


def _record_one(
    conn: Connection, request: ShipmentRequest, *, source: str | None, now: datetime
) -> RecordOutcome:
    order = find_order(conn, request.order_ref, source)
    label = _label(order)
    tracks = _checked_tracks(request.tracks, label)
    key = (request.key or "").strip() or derive_key(order["source"], order["order_id"], request)
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
        _check_state(order, label)
    planned = _plan(request, lines, shipped, label)
    if existing is not None:
        if _same_content(conn, existing["id"], planned, tracks):
            return RecordOutcome(
                key, order["order_id"], order["increment_id"], "unchanged", order["state"]
            )
        _check_replaceable(existing, key)
        conn.execute(SHIPMENT_LINES.delete().where(SHIPMENT_LINES.c.shipment_id == existing["id"]))
        conn.execute(
            SHIPMENT_TRACKS.delete().where(SHIPMENT_TRACKS.c.shipment_id == existing["id"])
        )
        shipment_id = existing["id"]
        conn.execute(
            SHIPMENTS.update()
            .where(SHIPMENTS.c.id == shipment_id)
            .values(
                state="pending",
                last_error=None,
                updated_at=now,
                **_first_track(tracks),
            )
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
    left = sum(
        (line["qty"] - shipped.get(line["item_id"], 0) - planned.get(line["item_id"], 0))
        for line in lines
        if line["line_type"] != LineType.BUNDLE_PARENT.value
    )
    state = OrderState.SHIPPED if left <= 0 else OrderState.PARTIALLY_SHIPPED
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


def _checked_tracks(tracks: Sequence[Track], label: str) -> list[Track]:
    if not tracks:
        raise ShipmentError(f"order {label}: a shipment needs at least one tracking number")
    seen: list[Track] = []
    for track in tracks:
        number = (track.track_number or "").strip()
        if not number:
            raise ShipmentError(f"order {label}: empty tracking number")
        carrier = (track.carrier_code or "").strip()
        if not carrier:
            raise ShipmentError(f"order {label}: tracking number {number} has no carrier code")
        clean = Track(carrier, (track.title or "").strip() or carrier, number)
        if clean not in seen:
            seen.append(clean)
    return seen


def _first_track(tracks: Sequence[Track]) -> dict[str, str]:
    first = tracks[0]
    return {
        "carrier_code": first.carrier_code,
        "title": first.title,
        "track_number": first.track_number,
    }


def _check_state(order: Mapping[str, Any], label: str) -> None:
    state = order["state"]
    if state in SHIPPABLE_STATES:
        # A partly shipped order keeps its state when Magento holds it; Magento then refuses
        # its shipments, so the warehouse must not ship more until Magento moves it back.
        stop = rules.stop_reason(order["magento_state"], order["magento_status"])
        if stop is not None:
            raise ShipmentError(f"order {label} cannot ship now: {stop}")
        return
    reason = order["state_reason"]
    if state == OrderState.HELD.value:
        why = reason or f"held until {order['release_at'].isoformat()}"
        msg = f"order {label} is held and cannot ship yet: {why}"
    elif state == OrderState.CANCELED.value:
        msg = f"order {label} is canceled and cannot ship" + (f": {reason}" if reason else "")
    else:
        msg = f"order {label} was skipped and cannot ship" + (f": {reason}" if reason else "")
    raise ShipmentError(msg)


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


def _plan(
    request: ShipmentRequest,
    lines: Sequence[Mapping[str, Any]],
    shipped: Mapping[int, Decimal],
    label: str,
) -> dict[int, Decimal]:
    """Line quantities for the request, never more than the warehouse may still record.

    A line's ``qty`` is what Magento left to ship when the order was last read
    (``rules.qty_to_ship``: ordered - max(shipped, refunded) - canceled); every shipment the
    warehouse recorded since comes on top of Magento's shipped count and never overlaps its
    refunds, so what is left is ``qty`` minus those shipments. Bundle parents are never
    shipped by themselves, and virtual options are not lines at all.
    """
    left = {
        line["item_id"]: line["qty"] - shipped.get(line["item_id"], Decimal(0))
        for line in lines
        if line["line_type"] != LineType.BUNDLE_PARENT.value
    }
    if request.lines is None:
        planned = {item_id: qty for item_id, qty in left.items() if qty > 0}
        if not planned:
            raise ShipmentError(
                f"order {label}: nothing left to ship (every line is shipped or recorded "
                "in a shipment already)"
            )
        return planned
    planned: dict[int, Decimal] = {}
    for sku, qty in request.lines:
        if qty <= 0:
            raise ShipmentError(f"order {label}: quantity for SKU {sku} must be above 0", sku=sku)
        matching = [line for line in lines if line["sku"] == sku] or [
            line for line in lines if line["sku"].lower() == sku.lower()
        ]
        if not matching:
            skus = ", ".join(
                sorted(
                    {
                        line["sku"]
                        for line in lines
                        if line["line_type"] != LineType.BUNDLE_PARENT.value
                    }
                )
            )
            raise ShipmentError(
                f"order {label}: unknown SKU {sku} (lines to ship: {skus or 'none'})", sku=sku
            )
        if all(line["line_type"] == LineType.BUNDLE_PARENT.value for line in matching):
            components = ", ".join(
                line["sku"]
                for line in lines
                if line["parent_item_id"] in {m["item_id"] for m in matching}
            )
            raise ShipmentError(
                f"order {label}: {sku} is a bundle; ship its components instead ({components})",
                sku=sku,
            )
        need = qty
        for line in matching:
            if line["line_type"] == LineType.BUNDLE_PARENT.value:
                continue
            free = left[line["item_id"]] - planned.get(line["item_id"], Decimal(0))
            take = min(free, need)
            if take > 0:
                planned[line["item_id"]] = planned.get(line["item_id"], Decimal(0)) + take
                need -= take
            if need <= 0:
                break
        if need > 0:
            available = qty - need
            raise ShipmentError(
                f"order {label}: over-shipping SKU {sku}: {_qty_text(qty)} requested but only "
                f"{_qty_text(available)} left to ship (pending shipments included)",
                sku=sku,
            )
    return planned


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


def _check_replaceable(existing: Mapping[str, Any], key: str) -> None:
    state = existing["state"]
    if state == "failed":
        return
    if state == "notified":
        msg = (
            f"shipment {key} was already sent to Magento (shipment "
            f"{existing['magento_shipment_id']}) with different content: record further "
            "shipped items under a new key"
        )
        raise ShipmentError(msg)
    if existing["attempts"]:
        msg = (
            f"shipment {key} is being sent to Magento (the last answer was lost): run "
            "`dropstream notify` first; it is recorded with different content"
        )
        raise ShipmentError(msg)
    # A pending shipment never posted may still be corrected.


def _qty_text(qty: Decimal | int) -> str:
    value = Decimal(qty).normalize()
    return f"{value:f}"

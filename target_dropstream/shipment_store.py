"""The notification side of the shipments tables: what to send, attempts, outcomes, status.

Every state change is its own short write transaction, so an attempt is on disk BEFORE the
request leaves: a crash or a lost answer is always followed by a look-up in Magento.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select

from target_dropstream.rules import LineType
from target_dropstream.schema import SHIPMENT_STATES, TABLES
from target_dropstream.shipments import Track
from target_dropstream.store import FulfillmentStore

ORDERS = TABLES.tables["fulfillment_orders"]
LINES = TABLES.tables["fulfillment_lines"]
SHIPMENTS = TABLES.tables["shipments"]
SHIPMENT_LINES = TABLES.tables["shipment_lines"]
SHIPMENT_TRACKS = TABLES.tables["shipment_tracks"]


@dataclass(frozen=True)
class ShippedLine:
    """One line of a shipment, with what the order line says about it."""

    item_id: int
    order_item_id: int
    qty: Decimal
    sku: str
    name: str | None
    line_type: str
    parent_item_id: int | None
    product_id: int | None
    ship_item_id: int | None

    @property
    def is_bundle_component(self) -> bool:
        """A bundle option: referenced by itself or its bundle, depending on the bundle."""
        return self.line_type == LineType.BUNDLE_COMPONENT.value


@dataclass(frozen=True)
class OutgoingShipment:
    """A shipment to tell Magento about."""

    id: int
    source: str
    order_id: int
    increment_id: str | None
    store_id: int | None
    key: str
    state: str
    attempts: int
    lines: tuple[ShippedLine, ...]
    tracks: tuple[Track, ...]
    last_attempt_at: datetime | None = None

    @property
    def label(self) -> str:
        """``KEY (order #100000123)`` for messages."""
        order = f"#{self.increment_id}" if self.increment_id else f"id {self.order_id}"
        return f"{self.key} (order {order})"


@dataclass(frozen=True)
class FailedShipment:
    """A refused notification, as ``dropstream status`` lists it."""

    source: str
    key: str
    order_id: int
    increment_id: str | None
    track_number: str | None
    attempts: int
    last_error: str | None
    updated_at: datetime


def to_notify(
    store: FulfillmentStore, source: str, *, include_failed: bool
) -> list[OutgoingShipment]:
    """Pending shipments of one store (and failed ones when asked), oldest first."""
    states = ["pending", "failed"] if include_failed else ["pending"]
    with store.read() as conn:
        rows = list(
            conn.execute(
                select(SHIPMENTS, ORDERS.c.increment_id, ORDERS.c.store_id)
                .join(
                    ORDERS,
                    (ORDERS.c.source == SHIPMENTS.c.source)
                    & (ORDERS.c.order_id == SHIPMENTS.c.order_id),
                )
                .where(SHIPMENTS.c.source == source, SHIPMENTS.c.state.in_(states))
                .order_by(SHIPMENTS.c.id)
            ).mappings()
        )
        return [_outgoing(conn, row) for row in rows]


def reload(store: FulfillmentStore, shipment_id: int) -> OutgoingShipment:
    """The shipment as stored now (after bundle types were cached)."""
    with store.read() as conn:
        row = (
            conn.execute(
                select(SHIPMENTS, ORDERS.c.increment_id, ORDERS.c.store_id)
                .join(
                    ORDERS,
                    (ORDERS.c.source == SHIPMENTS.c.source)
                    & (ORDERS.c.order_id == SHIPMENTS.c.order_id),
                )
                .where(SHIPMENTS.c.id == shipment_id)
            )
            .mappings()
            .one()
        )
        return _outgoing(conn, row)


def _outgoing(conn: Connection, row: dict) -> OutgoingShipment:
    lines = tuple(
        ShippedLine(
            item_id=line.item_id,
            order_item_id=line.order_item_id,
            qty=Decimal(str(line.qty)),
            sku=line.sku,
            name=line.name,
            line_type=line.line_type,
            parent_item_id=line.parent_item_id,
            product_id=line.product_id,
            ship_item_id=line.ship_item_id,
        )
        for line in conn.execute(
            select(
                SHIPMENT_LINES.c.item_id,
                SHIPMENT_LINES.c.order_item_id,
                SHIPMENT_LINES.c.qty,
                LINES.c.sku,
                LINES.c.name,
                LINES.c.line_type,
                LINES.c.parent_item_id,
                LINES.c.product_id,
                LINES.c.ship_item_id,
            )
            .join(
                LINES,
                (LINES.c.source == row["source"])
                & (LINES.c.order_id == row["order_id"])
                & (LINES.c.item_id == SHIPMENT_LINES.c.item_id),
            )
            .where(SHIPMENT_LINES.c.shipment_id == row["id"])
            .order_by(SHIPMENT_LINES.c.item_id)
        )
    )
    tracks = tuple(
        Track(track.carrier_code or "", track.title or "", track.track_number)
        for track in conn.execute(
            select(SHIPMENT_TRACKS)
            .where(SHIPMENT_TRACKS.c.shipment_id == row["id"])
            .order_by(SHIPMENT_TRACKS.c.id)
        )
    )
    return OutgoingShipment(
        id=row["id"],
        source=row["source"],
        order_id=row["order_id"],
        increment_id=row["increment_id"],
        store_id=row["store_id"],
        key=row["idempotency_key"],
        state=row["state"],
        attempts=row["attempts"],
        lines=lines,
        tracks=tracks,
        last_attempt_at=row["last_attempt_at"],
    )


def mark_attempt(store: FulfillmentStore, shipment_id: int, seen: int, now: datetime) -> bool:
    """Count an attempt BEFORE posting, if nobody else did since we read ``seen`` attempts.

    ``last_attempt_at`` becomes ``now``: if the run dies with the request in flight, the
    next run waits ship_lookup_delay_seconds from here before it may post again.
    False when another notify run got there first or the shipment is no longer to be sent:
    then this run must not post it.
    """
    with store.write() as conn:
        done = conn.execute(
            SHIPMENTS.update()
            .where(
                SHIPMENTS.c.id == shipment_id,
                SHIPMENTS.c.state.in_(["pending", "failed"]),
                SHIPMENTS.c.attempts == seen,
            )
            .values(attempts=seen + 1, last_attempt_at=now, updated_at=now)
        )
        return bool(done.rowcount)


def mark_notified(
    store: FulfillmentStore,
    shipment_id: int,
    magento_shipment_id: int | None,
    now: datetime,
    warning: str | None = None,
) -> None:
    """Magento has the shipment (answered, or found by a look-up).

    ``warning``: kept in last_error, e.g. when the created shipment holds other quantities
    than were recorded.
    """
    with store.write() as conn:
        conn.execute(
            SHIPMENTS.update()
            .where(SHIPMENTS.c.id == shipment_id)
            .values(
                state="notified",
                magento_shipment_id=magento_shipment_id,
                last_error=warning,
                notified_at=now,
                updated_at=now,
            )
        )


def mark_failed(
    store: FulfillmentStore,
    shipment_id: int,
    message: str,
    now: datetime,
    *,
    attempts: int | None = None,
) -> bool:
    """Refused (or never posted): keep the reason until the operator acts.

    No answer is outstanding any more, so last_attempt_at is cleared. A notified shipment
    is never marked failed; with ``attempts``, only if no run posted it since it was read.
    Returns whether the shipment was marked.
    """
    condition = (SHIPMENTS.c.id == shipment_id) & (SHIPMENTS.c.state != "notified")
    if attempts is not None:
        condition = condition & (SHIPMENTS.c.attempts == attempts)
    with store.write() as conn:
        done = conn.execute(
            SHIPMENTS.update()
            .where(condition)
            .values(state="failed", last_error=message, last_attempt_at=None, updated_at=now)
        )
        return bool(done.rowcount)


def note_error(
    store: FulfillmentStore,
    shipment_id: int,
    message: str,
    now: datetime,
    *,
    answered: bool = False,
) -> None:
    """The run could not finish this shipment (it stays pending); remember why.

    ``answered``: the last post got an answer (e.g. 401, 503), so none is outstanding and
    last_attempt_at is cleared: the next run may post again at once after its look-up.
    """
    values: dict[str, object] = {"state": "pending", "last_error": message, "updated_at": now}
    if answered:
        values["last_attempt_at"] = None
    with store.write() as conn:
        conn.execute(SHIPMENTS.update().where(SHIPMENTS.c.id == shipment_id).values(**values))


def note_lost_answer(
    store: FulfillmentStore, shipment_id: int, message: str, now: datetime
) -> None:
    """The post's answer was lost: pending, with the moment it was lost (the look-up clock)."""
    with store.write() as conn:
        conn.execute(
            SHIPMENTS.update()
            .where(SHIPMENTS.c.id == shipment_id)
            .values(state="pending", last_error=message, last_attempt_at=now, updated_at=now)
        )


def notified_quantities(store: FulfillmentStore, source: str, order_id: int) -> dict[int, Decimal]:
    """Quantities Magento was told of by our notified shipments, by order item id."""
    with store.read() as conn:
        rows = conn.execute(
            select(SHIPMENT_LINES.c.item_id, func.sum(SHIPMENT_LINES.c.qty))
            .join(SHIPMENTS, SHIPMENTS.c.id == SHIPMENT_LINES.c.shipment_id)
            .where(
                SHIPMENTS.c.source == source,
                SHIPMENTS.c.order_id == order_id,
                SHIPMENTS.c.state == "notified",
            )
            .group_by(SHIPMENT_LINES.c.item_id)
        )
        return {int(item_id): Decimal(str(qty)) for item_id, qty in rows}


def mark_order_shipped_in_magento(
    store: FulfillmentStore,
    source: str,
    order_id: int,
    *,
    magento_status: str | None,
    magento_state: str | None,
    reason: str,
    now: datetime,
) -> None:
    """Magento shows the order shipped in full: the store says so too (unless canceled)."""
    values: dict[str, object] = {"state": "shipped", "state_reason": reason, "updated_at": now}
    if magento_status is not None:
        values["magento_status"] = magento_status
    if magento_state is not None:
        values["magento_state"] = magento_state
    with store.write() as conn:
        conn.execute(
            ORDERS.update()
            .where(
                ORDERS.c.source == source,
                ORDERS.c.order_id == order_id,
                ORDERS.c.state != "canceled",
            )
            .values(**values)
        )


def claimed_magento_ids(store: FulfillmentStore, source: str, order_id: int) -> set[int]:
    """Magento shipment ids already matched to one of our shipments of this order."""
    with store.read() as conn:
        return {
            int(value)
            for (value,) in conn.execute(
                select(SHIPMENTS.c.magento_shipment_id).where(
                    SHIPMENTS.c.source == source,
                    SHIPMENTS.c.order_id == order_id,
                    SHIPMENTS.c.magento_shipment_id.is_not(None),
                )
            )
        }


def cache_bundle_types(
    store: FulfillmentStore, source: str, order_id: int, separately: dict[int, bool]
) -> None:
    """Remember how each bundle (by parent item id) ships, on its component lines.

    Components of a bundle shipped separately reference themselves, of one shipped together
    the bundle parent; unsent shipment lines follow.
    """
    if not separately:
        return
    with store.write() as conn:
        for parent_id, apart in separately.items():
            components = [
                item_id
                for (item_id,) in conn.execute(
                    select(LINES.c.item_id).where(
                        LINES.c.source == source,
                        LINES.c.order_id == order_id,
                        LINES.c.parent_item_id == parent_id,
                        LINES.c.line_type == LineType.BUNDLE_COMPONENT.value,
                    )
                )
            ]
            for item_id in components:
                ship_item_id = item_id if apart else parent_id
                conn.execute(
                    LINES.update()
                    .where(
                        LINES.c.source == source,
                        LINES.c.order_id == order_id,
                        LINES.c.item_id == item_id,
                    )
                    .values(ship_item_id=ship_item_id)
                )
                unsent = select(SHIPMENTS.c.id).where(
                    SHIPMENTS.c.source == source,
                    SHIPMENTS.c.order_id == order_id,
                    SHIPMENTS.c.state != "notified",
                )
                conn.execute(
                    SHIPMENT_LINES.update()
                    .where(
                        SHIPMENT_LINES.c.item_id == item_id,
                        SHIPMENT_LINES.c.shipment_id.in_(unsent),
                    )
                    .values(order_item_id=ship_item_id)
                )


def retry_failed(
    store: FulfillmentStore, keys: Iterable[str], *, source: str | None, now: datetime
) -> list[str]:
    """Put failed shipments back in the queue; returns the keys that were failed.

    Raises:
        LookupError: a key is unknown, or in several stores.
    """
    changed: list[str] = []
    with store.write() as conn:
        for key in keys:
            query = select(SHIPMENTS).where(SHIPMENTS.c.idempotency_key == key)
            if source is not None:
                query = query.where(SHIPMENTS.c.source == source)
            rows = list(conn.execute(query).mappings())
            if not rows:
                raise LookupError(f"no shipment with key {key!r}")
            if len(rows) > 1:
                raise LookupError(
                    f"shipment key {key!r} exists in several stores: set store_url to pick one"
                )
            row = rows[0]
            if row["state"] != "failed":
                continue
            conn.execute(
                SHIPMENTS.update()
                .where(SHIPMENTS.c.id == row["id"])
                .values(state="pending", last_error=None, updated_at=now)
            )
            changed.append(key)
    return changed


def shipment_counts(store: FulfillmentStore) -> dict[str, int]:
    """Shipments by state (pending, notified, failed)."""
    with store.read() as conn:
        counts = dict.fromkeys(SHIPMENT_STATES, 0)
        for state, count in conn.execute(
            select(SHIPMENTS.c.state, func.count()).group_by(SHIPMENTS.c.state)
        ):
            counts[state] = int(count)
        return counts


def failed_shipments(
    store: FulfillmentStore, *, limit: int = 100, pending: bool = False
) -> list[FailedShipment]:
    """Refused notifications, newest first, with Magento's message.

    With ``pending``: shipments still pending after a run stopped on them (401, 5xx...),
    with that error.
    """
    condition = (
        (SHIPMENTS.c.state == "pending") & SHIPMENTS.c.last_error.is_not(None)
        if pending
        else SHIPMENTS.c.state == "failed"
    )
    with store.read() as conn:
        rows = conn.execute(
            select(SHIPMENTS, ORDERS.c.increment_id)
            .join(
                ORDERS,
                (ORDERS.c.source == SHIPMENTS.c.source)
                & (ORDERS.c.order_id == SHIPMENTS.c.order_id),
            )
            .where(condition)
            .order_by(SHIPMENTS.c.updated_at.desc(), SHIPMENTS.c.id.desc())
            .limit(limit)
        ).mappings()
        return [
            FailedShipment(
                source=row["source"],
                key=row["idempotency_key"],
                order_id=row["order_id"],
                increment_id=row["increment_id"],
                track_number=row["track_number"],
                attempts=row["attempts"],
                last_error=row["last_error"],
                updated_at=row["updated_at"],
            )
            for row in rows
        ]

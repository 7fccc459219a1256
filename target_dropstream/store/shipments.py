"""ShipmentRepository: recording warehouse shipments, and their way to Magento.

Every state change is its own short write transaction, so an attempt is on disk BEFORE the
request leaves: a crash or a lost answer is always followed by a look-up in Magento.
Recording (``record``) checks and writes a whole file of requests in ONE transaction: a bad
request loses nothing and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select

from target_dropstream import rules
from target_dropstream.models import LineType
from target_dropstream.shipment_models import (
    OutgoingShipment,
    ShipmentError,
    ShipmentRequest,
    ShippedLine,
    Track,
)
from target_dropstream.store.recording import RecordOutcome, record_one
from target_dropstream.store.schema import (
    LINES,
    ORDERS,
    SHIPMENT_LINES,
    SHIPMENT_TRACKS,
    SHIPMENTS,
)
from target_dropstream.store.sql import Transactions
from target_dropstream.store.status import FailedShipment, failed_shipments, shipment_counts

_WITH_ORDER = select(SHIPMENTS, ORDERS.c.increment_id, ORDERS.c.store_id).join(
    ORDERS, (ORDERS.c.source == SHIPMENTS.c.source) & (ORDERS.c.order_id == SHIPMENTS.c.order_id)
)


class ShipmentRepository:
    """shipments, shipment_lines and shipment_tracks (and the order state they change)."""

    def __init__(self, db: Transactions) -> None:
        self._db = db

    def record(
        self, requests: Sequence[ShipmentRequest], *, source: str | None, now: datetime
    ) -> list[RecordOutcome]:
        """Validate and record every request in ONE transaction (all or nothing).

        Args:
            requests: what the warehouse shipped.
            source: only orders of this store URL (None: any store in the database).
            now: recording time (UTC).

        Raises:
            ShipmentError: naming the first bad request (``index``) and why; nothing is written.
        """
        outcomes: list[RecordOutcome] = []
        with self._db.write() as conn:
            for index, request in enumerate(requests):
                try:
                    outcomes.append(record_one(conn, request, source=source, now=now))
                except ShipmentError as exc:
                    raise ShipmentError(exc.reason, index, exc.sku) from None
        return outcomes

    def to_notify(self, source: str, *, include_failed: bool) -> list[OutgoingShipment]:
        """Pending shipments of one store (and failed ones when asked), oldest first."""
        states = ["pending", "failed"] if include_failed else ["pending"]
        query = _WITH_ORDER.where(SHIPMENTS.c.source == source, SHIPMENTS.c.state.in_(states))
        with self._db.read() as conn:
            rows = list(conn.execute(query.order_by(SHIPMENTS.c.id)).mappings())
            return [_outgoing(conn, row) for row in rows]

    def reload(self, shipment_id: int) -> OutgoingShipment:
        """The shipment as stored now (after bundle types were cached)."""
        with self._db.read() as conn:
            row = conn.execute(_WITH_ORDER.where(SHIPMENTS.c.id == shipment_id)).mappings().one()
            return _outgoing(conn, row)

    def mark_attempt(self, shipment_id: int, seen: int, now: datetime) -> bool:
        """Count an attempt BEFORE posting, if nobody else did since we read ``seen`` attempts.

        ``last_attempt_at`` becomes ``now``: if the run dies with the request in flight, the
        next run waits ship_lookup_delay_seconds from here before it may post again.
        False when another notify run got there first or the shipment is no longer to be sent:
        then this run must not post it.
        """
        with self._db.write() as conn:
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
        self,
        shipment_id: int,
        magento_shipment_id: int | None,
        now: datetime,
        warning: str | None = None,
    ) -> None:
        """Magento has the shipment (answered, or found by a look-up).

        ``warning``: kept in last_error, e.g. when the created shipment holds other quantities
        than were recorded.
        """
        with self._db.write() as conn:
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
        self, shipment_id: int, message: str, now: datetime, *, attempts: int | None = None
    ) -> bool:
        """Refused (or never posted): keep the reason until the operator acts.

        No answer is outstanding any more, so last_attempt_at is cleared. A notified shipment
        is never marked failed; with ``attempts``, only if no run posted it since it was read.
        Returns whether the shipment was marked.
        """
        condition = (SHIPMENTS.c.id == shipment_id) & (SHIPMENTS.c.state != "notified")
        if attempts is not None:
            condition = condition & (SHIPMENTS.c.attempts == attempts)
        with self._db.write() as conn:
            done = conn.execute(
                SHIPMENTS.update()
                .where(condition)
                .values(state="failed", last_error=message, last_attempt_at=None, updated_at=now)
            )
            return bool(done.rowcount)

    def note_error(
        self, shipment_id: int, message: str, now: datetime, *, answered: bool = False
    ) -> None:
        """The run could not finish this shipment (it stays pending); remember why.

        ``answered``: the last post got an answer (e.g. 401, 503), so none is outstanding and
        last_attempt_at is cleared: the next run may post again at once after its look-up.
        """
        values: dict[str, object] = {"state": "pending", "last_error": message, "updated_at": now}
        if answered:
            values["last_attempt_at"] = None
        with self._db.write() as conn:
            conn.execute(SHIPMENTS.update().where(SHIPMENTS.c.id == shipment_id).values(**values))

    def note_lost_answer(self, shipment_id: int, message: str, now: datetime) -> None:
        """The post's answer was lost: pending, with the moment it was lost (the look-up clock)."""
        with self._db.write() as conn:
            conn.execute(
                SHIPMENTS.update()
                .where(SHIPMENTS.c.id == shipment_id)
                .values(state="pending", last_error=message, last_attempt_at=now, updated_at=now)
            )

    def notified_quantities(self, source: str, order_id: int) -> dict[int, Decimal]:
        """Quantities Magento was told of by our notified shipments, by order item id."""
        with self._db.read() as conn:
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
        self,
        source: str,
        order_id: int,
        *,
        magento_status: str | None,
        magento_state: str | None,
        reason: str,
        now: datetime,
    ) -> None:
        """Magento shows the order shipped in full: the store says so too (unless canceled)."""
        this_order = (ORDERS.c.source == source) & (ORDERS.c.order_id == order_id)
        with self._db.write() as conn:
            stored = conn.execute(select(ORDERS.c.state).where(this_order)).scalar_one_or_none()
            state = None if stored is None else rules.state_when_shipped_in_magento(stored)
            if state is None:
                return
            values: dict[str, object] = {
                "state": state.value,
                "state_reason": reason,
                "updated_at": now,
            }
            if magento_status is not None:
                values["magento_status"] = magento_status
            if magento_state is not None:
                values["magento_state"] = magento_state
            conn.execute(ORDERS.update().where(this_order).values(**values))

    def claimed_magento_ids(self, source: str, order_id: int) -> set[int]:
        """Magento shipment ids already matched to one of our shipments of this order."""
        with self._db.read() as conn:
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

    def cache_bundle_types(self, source: str, order_id: int, separately: dict[int, bool]) -> None:
        """Remember how each bundle (by parent item id) ships, on its component lines.

        Components of a bundle shipped separately reference themselves, of one shipped together
        the bundle parent; unsent shipment lines follow.
        """
        if not separately:
            return
        this_order = (LINES.c.source == source) & (LINES.c.order_id == order_id)
        unsent = select(SHIPMENTS.c.id).where(
            SHIPMENTS.c.source == source,
            SHIPMENTS.c.order_id == order_id,
            SHIPMENTS.c.state != "notified",
        )
        with self._db.write() as conn:
            for parent_id, apart in separately.items():
                components = conn.execute(
                    select(LINES.c.item_id).where(
                        this_order,
                        LINES.c.parent_item_id == parent_id,
                        LINES.c.line_type == LineType.BUNDLE_COMPONENT.value,
                    )
                ).scalars()
                for item_id in components.all():
                    ship_item_id = item_id if apart else parent_id
                    conn.execute(
                        LINES.update()
                        .where(this_order, LINES.c.item_id == item_id)
                        .values(ship_item_id=ship_item_id)
                    )
                    conn.execute(
                        SHIPMENT_LINES.update()
                        .where(
                            SHIPMENT_LINES.c.item_id == item_id,
                            SHIPMENT_LINES.c.shipment_id.in_(unsent),
                        )
                        .values(order_item_id=ship_item_id)
                    )

    def retry_failed(self, keys: Iterable[str], *, source: str | None, now: datetime) -> list[str]:
        """Put failed shipments back in the queue; returns the keys that were failed.

        Raises:
            LookupError: a key is unknown, or in several stores.
        """
        changed: list[str] = []
        with self._db.write() as conn:
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

    def counts(self) -> dict[str, int]:
        """Shipments by state (pending, notified, failed)."""
        with self._db.read() as conn:
            return shipment_counts(conn)

    def failed(self, *, limit: int = 100, pending: bool = False) -> list[FailedShipment]:
        """Refused notifications, newest first, with Magento's message.

        With ``pending``: shipments still pending after a run stopped on them (401, 5xx...),
        with that error.
        """
        with self._db.read() as conn:
            return failed_shipments(conn, limit=limit, pending=pending)


def _outgoing(conn: Connection, row: Mapping) -> OutgoingShipment:
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

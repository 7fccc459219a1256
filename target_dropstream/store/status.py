"""What ``dropstream status`` shows, read in one transaction: orders, rejects, shipments.

Each function takes an open connection; the repositories open the read transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from target_dropstream.models import HeldOrder, RecordRejected, parse_utc
from target_dropstream.rules import OrderState
from target_dropstream.store.schema import (
    ORDERS,
    REJECTED,
    SHIPMENT_STATES,
    SHIPMENTS,
    STATES,
    current_version,
)


@dataclass(frozen=True)
class RejectedRecord:
    """A row of rejected_records."""

    id: int
    source: str
    stream: str
    order_id: int | None
    reason: str
    received_at: datetime
    record_json: str
    #: A version of the order at least as new as the rejected one has loaded since.
    superseded: bool = False


@dataclass
class StatusReport:
    """Everything ``dropstream status`` shows."""

    counts: dict[str, int]
    held: list[HeldOrder]
    rejected: list[RejectedRecord]
    rejected_total: int
    schema_version: int
    database: str = ""


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


def read_status(conn: Connection, *, limit: int, database: str) -> StatusReport:
    """Counts by state, held orders by release time, newest rejected records."""
    counts = dict.fromkeys(STATES, 0)
    for state, count in conn.execute(select(ORDERS.c.state, func.count()).group_by(ORDERS.c.state)):
        counts[state] = int(count)
    held = [
        held_order(row)
        for row in conn.execute(
            select(ORDERS)
            .where(ORDERS.c.state == OrderState.HELD.value)
            .order_by(ORDERS.c.release_at, ORDERS.c.source, ORDERS.c.order_id)
            .limit(limit)
        ).mappings()
    ]
    rejected_total = conn.execute(select(func.count()).select_from(REJECTED)).scalar_one()
    loaded = ORDERS.c.magento_updated_at.label("loaded_version")
    rejected = [
        RejectedRecord(
            id=row["id"],
            source=row["source"],
            stream=row["stream"],
            order_id=row["order_id"],
            reason=row["reason"],
            received_at=row["received_at"],
            record_json=row["record_json"],
            superseded=_superseded(row["record_json"], row["loaded_version"]),
        )
        for row in conn.execute(
            select(REJECTED, loaded)
            .outerjoin(
                ORDERS,
                (ORDERS.c.source == REJECTED.c.source) & (ORDERS.c.order_id == REJECTED.c.order_id),
            )
            .order_by(REJECTED.c.id.desc())
            .limit(limit)
        ).mappings()
    ]
    return StatusReport(
        counts=counts,
        held=held,
        rejected=rejected,
        rejected_total=int(rejected_total),
        schema_version=current_version(conn),
        database=database,
    )


def held_order(row: Mapping[str, Any]) -> HeldOrder:
    """A fulfillment_orders row as a :class:`HeldOrder`."""
    return HeldOrder(
        source=row["source"],
        order_id=row["order_id"],
        increment_id=row["increment_id"],
        magento_status=row["magento_status"],
        release_at=row["release_at"],
        reason=row["state_reason"],
    )


def shipment_counts(conn: Connection) -> dict[str, int]:
    """Shipments by state (pending, notified, failed)."""
    counts = dict.fromkeys(SHIPMENT_STATES, 0)
    for state, count in conn.execute(
        select(SHIPMENTS.c.state, func.count()).group_by(SHIPMENTS.c.state)
    ):
        counts[state] = int(count)
    return counts


def failed_shipments(conn: Connection, *, limit: int, pending: bool) -> list[FailedShipment]:
    """Refused notifications (or, with ``pending``, pending ones with an error), newest first."""
    condition = (
        (SHIPMENTS.c.state == "pending") & SHIPMENTS.c.last_error.is_not(None)
        if pending
        else SHIPMENTS.c.state == "failed"
    )
    rows = conn.execute(
        select(SHIPMENTS, ORDERS.c.increment_id)
        .join(
            ORDERS,
            (ORDERS.c.source == SHIPMENTS.c.source) & (ORDERS.c.order_id == SHIPMENTS.c.order_id),
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


def _superseded(record_json: str, loaded_version: datetime | None) -> bool:
    """A good version of the order, as new as the rejected one or newer, is in the store.

    Rejections stay listed (they are the record of what went wrong); this tells the
    operator which ones a later load has already made good.
    """
    if loaded_version is None:
        return False
    try:
        record = json.loads(record_json)
        rejected_version = parse_utc(record.get("updated_at"), "updated_at")
    except (ValueError, AttributeError, RecordRejected):
        return False  # the rejected record has no readable version: keep it open
    return loaded_version >= rejected_version

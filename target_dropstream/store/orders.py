"""OrderRepository: loading orders, releasing held ones, the re-check, the status report.

Each method is one transaction. Writers hold the store-wide write lock, so a batch reads the
stored rows, applies the rules (``rows.order_rows``, ``recheck.plan_change``) and writes in
one atomic step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

# ``recheck`` imports ``store.rows`` (pure, no SQL, nothing else of the store), so there is
# no cycle through this module.
from target_dropstream import recheck, rules
from target_dropstream.models import HeldOrder, OpenOrder, Order, Rejection
from target_dropstream.rules import OrderState
from target_dropstream.settings import redact_url
from target_dropstream.store import order_tables
from target_dropstream.store.rows import LoadPolicy, order_rows
from target_dropstream.store.schema import ORDERS
from target_dropstream.store.sql import Transactions
from target_dropstream.store.status import StatusReport, held_order, read_status


@dataclass
class BatchResult:
    """What one batch did."""

    inserted: int = 0
    updated: int = 0
    stale: int = 0
    rejected: int = 0
    not_imported: int = 0  # new to the store, status outside order_import_status


@dataclass(frozen=True)
class RecheckResult:
    """One order after a re-check: the row as it was, and the change written (None: none)."""

    before: Mapping[str, Any]
    change: recheck.Change | None


class OrderRepository:
    """fulfillment_orders, their lines and rejected_records."""

    def __init__(self, db: Transactions) -> None:
        self._db = db

    def save_batch(
        self,
        orders: Sequence[Order],
        rejections: Sequence[Rejection],
        *,
        policy: LoadPolicy,
        now: datetime,
    ) -> BatchResult:
        """Upsert a batch of orders and rejected records in ONE transaction.

        Orders are applied in the order given, so the same order twice in a batch ends as
        the newer one. An order the store has not seen is stored only with an import status;
        a stored order follows every later change (canceled, on hold, payment review, shipped
        elsewhere), which the tap sends for the statuses of ``order_follow_status`` (by default
        every status that stops fulfillment). Returns the counts.
        """
        result = BatchResult(rejected=len(rejections))
        with self._db.write() as conn:
            known = order_tables.load_known(conn, policy.source, {o.order_id for o in orders})
            rows: dict[int, dict[str, Any]] = {}
            lines: dict[int, list[dict[str, Any]]] = {}
            for order in orders:
                stored = known.get(order.order_id)
                if stored is None and order.status not in policy.import_statuses:
                    result.not_imported += 1
                    continue
                if stored is not None and not rules.should_apply(
                    stored["magento_updated_at"], order.updated_at
                ):
                    result.stale += 1
                    continue
                row, order_lines = order_rows(order, stored, policy=policy, now=now)
                if stored is None and order.order_id not in rows:
                    result.inserted += 1
                else:
                    result.updated += 1
                rows[order.order_id] = row
                known[order.order_id] = row
                if order_lines is not None:
                    lines[order.order_id] = order_lines
                    row["rechecked_at"] = None  # read back at the end of this run
                else:
                    lines.pop(order.order_id, None)
            order_tables.write_orders(conn, list(rows.values()))
            order_tables.replace_lines(conn, policy.source, lines)
            order_tables.write_rejections(conn, policy.source, rejections, now)
        return result

    # Releasing ---------------------------------------------------------------------------

    def due_held_orders(
        self, now: datetime, *, import_statuses: Iterable[str], source: str | None = None
    ) -> list[HeldOrder]:
        """Held orders whose release time has come and whose stored status allows release."""
        query = (
            select(ORDERS)
            .where(_due_condition(now, tuple(import_statuses)))
            .order_by(ORDERS.c.source, ORDERS.c.order_id)
        )
        if source is not None:
            query = query.where(ORDERS.c.source == source)
        with self._db.read() as conn:
            return [held_order(row) for row in conn.execute(query).mappings()]

    def release_due(
        self,
        now: datetime,
        *,
        import_statuses: Iterable[str],
        except_source: str | None = None,
    ) -> int:
        """Move every due held order (optionally of other sources only) to ready."""
        condition = _due_condition(now, tuple(import_statuses))
        if except_source is not None:
            condition = condition & (ORDERS.c.source != except_source)
        with self._db.write() as conn:
            done = conn.execute(
                ORDERS.update()
                .where(condition)
                .values(
                    state=OrderState.READY.value, state_reason=None, released_at=now, updated_at=now
                )
            )
            return done.rowcount or 0

    # Re-checking -------------------------------------------------------------------------

    def orders_to_recheck(
        self,
        now: datetime,
        *,
        import_statuses: Iterable[str],
        source: str,
        interval_minutes: int,
    ) -> list[OpenOrder]:
        """Orders of ``source`` to read back from Magento now, by order id.

        Held orders coming due (always, before they become ready), and ready or partially
        shipped ones never read back or last read ``interval_minutes`` or more ago.
        """
        cutoff = now - timedelta(minutes=interval_minutes)
        open_states = (OrderState.READY.value, OrderState.PARTIALLY_SHIPPED.value)
        stale = ORDERS.c.state.in_(open_states) & (
            ORDERS.c.rechecked_at.is_(None) | (ORDERS.c.rechecked_at <= cutoff)
        )
        query = (
            select(ORDERS.c.source, ORDERS.c.order_id, ORDERS.c.increment_id, ORDERS.c.state)
            .where(
                ORDERS.c.source == source,
                _due_condition(now, tuple(import_statuses)) | stale,
            )
            .order_by(ORDERS.c.order_id)
        )
        with self._db.read() as conn:
            return [OpenOrder(*row) for row in conn.execute(query)]

    def apply_magento_view(
        self,
        source: str,
        views: Mapping[int, Order | None],
        *,
        policy: LoadPolicy,
        now: datetime,
    ) -> list[RecheckResult]:
        """Apply what Magento shows now (None: not found) to these orders, in ONE transaction.

        Each order is re-read under the write lock, so a shipment the warehouse recorded
        meanwhile is taken into account (``recheck.plan_change``).
        """
        results: list[RecheckResult] = []
        with self._db.write() as conn:
            ids = set(views)
            known = order_tables.load_known(conn, source, ids)
            lines = order_tables.lines_by_order(conn, source, ids)
            shipped = order_tables.shipped_by_order(conn, source, ids)
            for order_id in sorted(views):
                stored = known.get(order_id)
                if stored is None:
                    continue
                stored_lines = lines.get(order_id, [])
                every, notified = shipped.get(order_id, ({}, {}))
                change = recheck.plan_change(
                    stored,
                    views[order_id],
                    stored_lines=stored_lines,
                    recorded=recheck.Recorded(all=every, notified=notified),
                    policy=policy,
                    now=now,
                )
                if change is not None:
                    order_tables.write_change(conn, source, order_id, change, stored_lines)
                results.append(RecheckResult(stored, change))
        return results

    # Reporting ---------------------------------------------------------------------------

    def status(self, *, limit: int = 100) -> StatusReport:
        """Counts by state, held orders by release time, newest rejected records."""
        with self._db.read() as conn:
            return read_status(conn, limit=limit, database=redact_url(self._db.engine.url))


def _due_condition(now: datetime, statuses: tuple[str, ...]) -> Any:
    """Held, due, with an import status, and neither on hold nor in payment review or fraud.

    An empty (NULL) status matches no import status, so such an order is never due.
    """
    stopping = tuple(rules.HOLD_STATUSES)
    return (
        (ORDERS.c.state == OrderState.HELD.value)
        & (ORDERS.c.release_at <= now)
        & ORDERS.c.magento_status.in_(statuses)
        & ORDERS.c.magento_status.not_in(stopping)
        & (ORDERS.c.magento_state.is_(None) | ORDERS.c.magento_state.not_in(stopping))
    )

"""FulfillmentStore: transactions, dialect-aware upserts and state transitions.

Writers (target batches, releases) take one store-wide write lock per transaction
(SQLite ``BEGIN IMMEDIATE``, PostgreSQL transaction advisory lock), so each batch reads the
stored rows, applies the rules (``rows.order_rows``) and writes in one atomic step. Readers
never take the lock, so ``dropstream status`` works while the target writes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from target_dropstream import recheck, rules
from target_dropstream.database import READ_ONLY_OPTION, StoreError, make_engine, without_password
from target_dropstream.models import Order, RecordRejected, parse_utc
from target_dropstream.rows import LoadPolicy, order_rows, raw_json
from target_dropstream.rules import OrderState
from target_dropstream.schema import (
    LATEST_VERSION,
    STATES,
    TABLES,
    SchemaTooNewError,
    current_version,
    upgrade,
)
from target_dropstream.settings import redact_url

ORDERS = TABLES.tables["fulfillment_orders"]
LINES = TABLES.tables["fulfillment_lines"]
REJECTED = TABLES.tables["rejected_records"]
SHIPMENTS = TABLES.tables["shipments"]
SHIPMENT_LINES = TABLES.tables["shipment_lines"]
_LOCK_KEY = 7_363_401_902  # PostgreSQL advisory lock id shared by every dropstream writer
_CHUNK = 500  # SQLite: order ids per IN (...) list


@dataclass(frozen=True)
class Rejection:
    """A record that could not be loaded, kept with its reason."""

    stream: str
    record: Any
    reason: str
    order_id: int | None = None


@dataclass
class BatchResult:
    """What one batch did."""

    inserted: int = 0
    updated: int = 0
    stale: int = 0
    rejected: int = 0
    not_imported: int = 0  # new to the store, status outside order_import_status


@dataclass(frozen=True)
class HeldOrder:
    """A held order as the release logic and ``dropstream status`` see it."""

    source: str
    order_id: int
    increment_id: str | None
    magento_status: str | None
    release_at: datetime
    reason: str | None


@dataclass(frozen=True)
class OpenOrder:
    """An order the re-check reads back from Magento."""

    source: str
    order_id: int
    increment_id: str | None
    state: str


@dataclass(frozen=True)
class RecheckResult:
    """One order after a re-check: the row as it was, and the change written (None: none)."""

    before: Mapping[str, Any]
    change: recheck.Change | None


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


class FulfillmentStore:
    """Owns the engine; every method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, database_url: str, *, now: datetime, create: bool = True) -> FulfillmentStore:
        """Connect, then create or upgrade the tables.

        Args:
            database_url: SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``).
            now: time recorded in schema_version for applied steps.
            create: False refuses to create a missing SQLite file (operator commands).

        Raises:
            StoreError: when the database cannot be reached or is too new.
        """
        url = make_url(database_url)
        shown = redact_url(url)
        engine = make_engine(url, create=create, shown=shown)
        store = cls(engine)
        try:
            # Only take the write lock when a step is missing, so `dropstream status`
            # never waits for a running target.
            with store.read() as conn:
                version = current_version(conn)
            if version != LATEST_VERSION:
                with store.write() as conn:
                    upgrade(conn, now=now)
        except SchemaTooNewError as exc:
            engine.dispose()
            raise StoreError(f"fulfillment store {shown}: {exc}") from None
        except Exception as exc:
            engine.dispose()
            detail = getattr(exc, "orig", None) or exc
            raise StoreError(
                f"cannot open the fulfillment store {shown}: {detail.__class__.__name__}: "
                f"{without_password(str(detail), url.password)}"
            ) from None
        return store

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction holding the store-wide write lock."""
        with self.engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction that never waits for a writer."""
        with self.engine.connect() as raw:
            conn = raw.execution_options(**{READ_ONLY_OPTION: True})
            with conn.begin():
                yield conn

    # Loading -----------------------------------------------------------------------------

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
        with self.write() as conn:
            known = self._load_known(conn, policy.source, {o.order_id for o in orders})
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
            self._write_orders(conn, list(rows.values()))
            self._replace_lines(conn, policy.source, lines)
            self._write_rejections(conn, policy.source, rejections, now)
        return result

    def _load_known(self, conn: Connection, source: str, ids: set[int]) -> dict[int, dict]:
        known: dict[int, dict] = {}
        for matches in _order_id_filters(conn, ORDERS.c.order_id, ids):
            query = select(ORDERS).where(ORDERS.c.source == source, matches)
            for found in conn.execute(query).mappings():
                known[found["order_id"]] = dict(found)
        return known

    def _write_orders(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = _insert(conn, ORDERS)
        keys = {"source", "order_id", "created_at"}
        stmt = stmt.on_conflict_do_update(
            index_elements=[ORDERS.c.source, ORDERS.c.order_id],
            set_={c.name: stmt.excluded[c.name] for c in ORDERS.columns if c.name not in keys},
        )
        conn.execute(stmt, rows)

    def _replace_lines(
        self, conn: Connection, source: str, lines: Mapping[int, list[dict[str, Any]]]
    ) -> None:
        ids = sorted(lines)
        for matches in _order_id_filters(conn, LINES.c.order_id, ids):
            conn.execute(LINES.delete().where(LINES.c.source == source, matches))
        new_rows = [row for order_id in ids for row in lines[order_id]]
        if not new_rows:
            return
        if conn.dialect.name == "postgresql":
            _copy_rows(conn, LINES, new_rows)  # plain inserts: COPY them
        else:
            conn.execute(LINES.insert(), new_rows)

    def _write_rejections(
        self, conn: Connection, source: str, rejections: Sequence[Rejection], now: datetime
    ) -> None:
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
        stmt = _insert(conn, REJECTED).on_conflict_do_nothing(
            index_elements=[REJECTED.c.source, REJECTED.c.stream, REJECTED.c.record_sha256]
        )
        conn.execute(stmt, rows)

    # Releasing ---------------------------------------------------------------------------

    def due_held_orders(
        self, now: datetime, *, import_statuses: Iterable[str], source: str | None = None
    ) -> list[HeldOrder]:
        """Held orders whose release time has come and whose stored status allows release."""
        query = _due_query(now, tuple(import_statuses))
        if source is not None:
            query = query.where(ORDERS.c.source == source)
        with self.read() as conn:
            return [_held(row) for row in conn.execute(query).mappings()]

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
        with self.write() as conn:
            done = conn.execute(
                ORDERS.update()
                .where(condition)
                .values(
                    state=OrderState.READY.value, state_reason=None, released_at=now, updated_at=now
                )
            )
            return done.rowcount or 0

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
        with self.read() as conn:
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
        with self.write() as conn:
            ids = set(views)
            known = self._load_known(conn, source, ids)
            lines = _lines_by_order(conn, source, ids)
            recorded = _recorded_by_order(conn, source, ids)
            for order_id in sorted(views):
                stored = known.get(order_id)
                if stored is None:
                    continue
                stored_lines = lines.get(order_id, [])
                change = recheck.plan_change(
                    stored,
                    views[order_id],
                    stored_lines=stored_lines,
                    recorded=recorded.get(order_id, NOTHING_RECORDED),
                    policy=policy,
                    now=now,
                )
                if change is not None:
                    _write_change(conn, source, order_id, change, stored_lines)
                results.append(RecheckResult(stored, change))
        return results

    # Reading -----------------------------------------------------------------------------

    def status(self, *, limit: int = 100) -> StatusReport:
        """Counts by state, held orders by release time, newest rejected records."""
        with self.read() as conn:
            counts = dict.fromkeys(STATES, 0)
            for state, count in conn.execute(
                select(ORDERS.c.state, func.count()).group_by(ORDERS.c.state)
            ):
                counts[state] = int(count)
            held = [
                _held(row)
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
                        (ORDERS.c.source == REJECTED.c.source)
                        & (ORDERS.c.order_id == REJECTED.c.order_id),
                    )
                    .order_by(REJECTED.c.id.desc())
                    .limit(limit)
                ).mappings()
            ]
            version = current_version(conn)
        return StatusReport(
            counts=counts,
            held=held,
            rejected=rejected,
            rejected_total=int(rejected_total),
            schema_version=version,
            database=redact_url(self.engine.url),
        )


NOTHING_RECORDED = recheck.Recorded(all={}, notified={})


def _lines_by_order(conn: Connection, source: str, ids: set[int]) -> dict[int, list[dict]]:
    """The stored lines of these orders, by order id (one query per batch of ids)."""
    found: dict[int, list[dict[str, Any]]] = {}
    for matches in _order_id_filters(conn, LINES.c.order_id, ids):
        query = select(LINES).where(LINES.c.source == source, matches).order_by(LINES.c.item_id)
        for row in conn.execute(query).mappings():
            found.setdefault(row["order_id"], []).append(dict(row))
    return found


def _recorded_by_order(conn: Connection, source: str, ids: set[int]) -> dict[int, recheck.Recorded]:
    """The warehouse's shipped quantities per order and line: all of them, and those Magento
    has (notified)."""
    every: dict[int, dict[int, Decimal]] = {}
    notified: dict[int, dict[int, Decimal]] = {}
    for matches in _order_id_filters(conn, SHIPMENTS.c.order_id, ids):
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
    return {
        order_id: recheck.Recorded(all=lines, notified=notified.get(order_id, {}))
        for order_id, lines in every.items()
    }


def _write_change(
    conn: Connection,
    source: str,
    order_id: int,
    change: recheck.Change,
    stored_lines: Sequence[Mapping[str, Any]],
) -> None:
    this_order = (ORDERS.c.source == source) & (ORDERS.c.order_id == order_id)
    keys = {"source", "order_id", "created_at"}
    conn.execute(
        ORDERS.update()
        .where(this_order)
        .values(**{k: v for k, v in change.row.items() if k not in keys})
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


def _due_query(now: datetime, statuses: tuple[str, ...]) -> Any:
    return (
        select(ORDERS)
        .where(_due_condition(now, statuses))
        .order_by(ORDERS.c.source, ORDERS.c.order_id)
    )


def _held(row: Mapping[str, Any]) -> HeldOrder:
    return HeldOrder(
        source=row["source"],
        order_id=row["order_id"],
        increment_id=row["increment_id"],
        magento_status=row["magento_status"],
        release_at=row["release_at"],
        reason=row["state_reason"],
    )


def _order_id_filters(conn: Connection, column: Any, ids: Iterable[int]) -> list[Any]:
    """WHERE clauses that together match ``column`` against every id in ``ids``.

    PostgreSQL gets one ``= ANY(array)`` for all of them: psycopg prepares a statement run
    five times, and PostgreSQL's generic plan for a long ``IN ($1, …, $500)`` on a table it
    has not analyzed yet tests every row against every parameter (tens of ms per query,
    seconds per load); ``= ANY($1)`` stays an index scan. SQLite gets chunked ``IN`` lists,
    under its bound-parameter limit.
    """
    ordered = sorted(ids)
    if not ordered:
        return []
    if conn.dialect.name == "postgresql":
        return [column == any_(bindparam("ids", ordered, type_=postgresql.ARRAY(BigInteger)))]
    return [column.in_(ordered[start : start + _CHUNK]) for start in range(0, len(ordered), _CHUNK)]


def _copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY ``rows`` (dicts keyed by ``table``'s columns) into that PostgreSQL table.

    For plain inserts (a batch's lines): about half the time of psycopg's executemany.
    Upserts stay INSERT … ON CONFLICT; staging them through a COPY to a temporary table
    saved only ~5% of a load and would need the TEMP privilege.

    Values go through the columns' own bind processing first (UTC datetimes), as an INSERT
    would; a database error is raised as SQLAlchemy's, as an INSERT's would be.
    """
    names = [c.name for c in table.columns]
    processors = [
        (c.name, c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect))
        for c in table.columns
    ]
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [row[name] if bind is None else bind(row[name]) for name, bind in processors]
                )
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi_error, dialect=conn.dialect) from None


def _insert(conn: Connection, table: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


__all__ = [
    "LATEST_VERSION",
    "BatchResult",
    "FulfillmentStore",
    "HeldOrder",
    "LoadPolicy",
    "Rejection",
    "StatusReport",
    "StoreError",
]

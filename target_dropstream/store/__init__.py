"""The fulfillment store: the orders the warehouse ships and the shipments it reports back.

:class:`FulfillmentStore` owns the engine and the transactions; its repositories do the
reading and writing: ``store.orders`` (loading, releasing, re-checking, the status report)
and ``store.shipments`` (recording warehouse shipments and their way to Magento).

Writers (target batches, releases, recorded shipments) take one store-wide write lock per
transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL transaction advisory lock), so each
reads the stored rows, applies the rules and writes in one atomic step. Readers never take
the lock, so ``dropstream status`` works while the target writes.

What the store may import: ``target_dropstream.models``, ``shipment_models``, ``rules``,
``shipment_checks``, ``recheck``, ``settings`` and ``clock``, and SQLAlchemy. Never magerest's
HTTP client, singer_sdk or the tap: the rules decide, the store keeps what they decided
(``tests/architecture/test_layering.py`` holds it to that).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from target_dropstream.settings import redact_url
from target_dropstream.store.database import (
    READ_ONLY_OPTION,
    StoreError,
    make_engine,
    without_password,
)
from target_dropstream.store.orders import BatchResult, OrderRepository, RecheckResult
from target_dropstream.store.recording import RecordOutcome
from target_dropstream.store.rows import LoadPolicy
from target_dropstream.store.schema import (
    LATEST_VERSION,
    SchemaTooNewError,
    current_version,
    upgrade,
)
from target_dropstream.store.shipments import ShipmentRepository
from target_dropstream.store.status import FailedShipment, RejectedRecord, StatusReport

_LOCK_KEY = 7_363_401_902  # PostgreSQL advisory lock id shared by every dropstream writer


class FulfillmentStore:
    """Owns the engine; ``orders`` and ``shipments`` run one transaction per method."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.orders = OrderRepository(self)
        self.shipments = ShipmentRepository(self)

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


__all__ = [
    "LATEST_VERSION",
    "BatchResult",
    "FailedShipment",
    "FulfillmentStore",
    "LoadPolicy",
    "OrderRepository",
    "RecheckResult",
    "RecordOutcome",
    "RejectedRecord",
    "ShipmentRepository",
    "StatusReport",
    "StoreError",
]

"""The fulfillment store's tables and the ordered migration steps that build them.

Every column and table carries the schema version that added it (``info["since"]``), so
``build_tables(version)`` gives the exact layout of any released version. A step for
version N adds what arrived in N and fixes data; ``upgrade`` applies the missing steps in
order inside one locked transaction, keeping every row. ``ORDERS``, ``LINES`` and the
other handles are the latest tables, as the store reads and writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)
from sqlalchemy.types import TypeDecorator

STATES = ("held", "ready", "partially_shipped", "shipped", "canceled", "skipped")
LINE_TYPES = ("item", "bundle_parent", "bundle_component")
SHIPMENT_STATES = ("pending", "notified", "failed")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (no zone support) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given to the fulfillment store: pass UTC-aware values"
            raise ValueError(msg)
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _since(version: int, *items: Any) -> list[Any]:
    for item in items:
        item.info["since"] = version
    return list(items)


def build_tables(version: int, metadata: MetaData | None = None) -> MetaData:
    """The tables exactly as schema ``version`` has them."""
    md = metadata if metadata is not None else MetaData()

    def cols(*groups: list[Any]) -> list[Any]:
        return [item for group in groups for item in group if item.info["since"] <= version]

    Table(
        "schema_version",
        md,
        *cols(
            _since(
                1,
                Column("version", Integer, primary_key=True, autoincrement=False),
                Column("applied_at", UTCDateTime, nullable=False),
            )
        ),
    )
    Table(
        "fulfillment_orders",
        md,
        *cols(
            _since(
                1,
                Column("source", Text, primary_key=True),
                Column("order_id", BigInteger, primary_key=True, autoincrement=False),
                Column("increment_id", Text),
                Column("store_id", Integer),
                Column("magento_status", Text),
                Column("placed_at", UTCDateTime, nullable=False),
                Column("release_at", UTCDateTime, nullable=False),
                Column("state", String(32), nullable=False),
                Column("state_reason", Text),
                Column("ship_to_name", Text),
                Column("ship_to_company", Text),
                Column("ship_to_street", Text),
                Column("ship_to_city", Text),
                Column("ship_to_region", Text),
                Column("ship_to_postcode", Text),
                Column("ship_to_country", Text),
                Column("ship_to_phone", Text),
                Column("shipping_method", Text),
                Column("magento_updated_at", UTCDateTime, nullable=False),
                Column("created_at", UTCDateTime, nullable=False),
                Column("updated_at", UTCDateTime, nullable=False),
                CheckConstraint(_in("state", STATES), name="ck_fulfillment_orders_state"),
                Index("ix_fulfillment_orders_state_release", "state", "release_at"),
            ),
            _since(
                2,
                Column("magento_state", Text),
                Column("ship_to_email", Text),
                Column("released_at", UTCDateTime),
            ),
            # When the order was last read back from Magento (address, quantities, status):
            # changes that never bump Magento's updated_at are never streamed again.
            _since(3, Column("rechecked_at", UTCDateTime)),
        ),
    )
    Table(
        "fulfillment_lines",
        md,
        *cols(
            _since(
                1,
                Column("source", Text, primary_key=True),
                Column("order_id", BigInteger, primary_key=True, autoincrement=False),
                Column("item_id", BigInteger, primary_key=True, autoincrement=False),
                Column("sku", Text, nullable=False),
                Column("name", Text),
                Column("qty", Numeric(12, 4), nullable=False),
                Column("line_type", String(32), nullable=False),
                Column("parent_item_id", BigInteger),
                CheckConstraint(_in("line_type", LINE_TYPES), name="ck_fulfillment_lines_type"),
                ForeignKeyConstraint(
                    ["source", "order_id"],
                    ["fulfillment_orders.source", "fulfillment_orders.order_id"],
                    ondelete="CASCADE",
                    name="fk_fulfillment_lines_order",
                ),
            ),
            _since(
                2,
                Column("product_type", Text),
                Column("product_id", BigInteger),
                # The Magento order item a shipment references; NULL for bundle components
                # until the bundle's shipment type (together/separately) is known.
                Column("ship_item_id", BigInteger),
            ),
        ),
    )
    Table(
        "rejected_records",
        md,
        *cols(
            _since(
                1,
                Column("id", _ID, primary_key=True, autoincrement=True),
                Column("source", Text, nullable=False),
                Column("stream", Text, nullable=False),
                Column("order_id", BigInteger),
                Column("reason", Text, nullable=False),
                Column("record_json", Text, nullable=False),
                Column("record_sha256", String(64), nullable=False),
                Column("received_at", UTCDateTime, nullable=False),
                UniqueConstraint(
                    "source", "stream", "record_sha256", name="uq_rejected_records_record"
                ),
            )
        ),
    )
    if version >= 2:
        _shipment_tables(md, version)
    return md


def _shipment_tables(md: MetaData, version: int) -> None:
    """Tables of the ship-notification feature (empty until that feature lands)."""
    shipments = Table(
        "shipments",
        md,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("source", Text, nullable=False),
        Column("order_id", BigInteger, nullable=False),
        Column("idempotency_key", Text, nullable=False),
        Column("carrier_code", Text),
        Column("title", Text),
        Column("track_number", Text),
        Column("state", String(32), nullable=False),
        Column("magento_shipment_id", BigInteger),
        Column("last_error", Text),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("notified_at", UTCDateTime),
        UniqueConstraint("source", "idempotency_key", name="uq_shipments_key"),
        CheckConstraint(_in("state", SHIPMENT_STATES), name="ck_shipments_state"),
        ForeignKeyConstraint(
            ["source", "order_id"],
            ["fulfillment_orders.source", "fulfillment_orders.order_id"],
            name="fk_shipments_order",
        ),
    )
    for column in shipments.columns:
        column.info["since"] = 2
    if version >= 3:
        # When the last post left (then when its answer was lost): no new post until a
        # look-up made ship_lookup_delay_seconds after it finds nothing (reference §9.8).
        shipments.append_column(_since(3, Column("last_attempt_at", UTCDateTime))[0])
    Table(
        "shipment_lines",
        md,
        Column("shipment_id", _ID, primary_key=True, autoincrement=False),
        Column("item_id", BigInteger, primary_key=True, autoincrement=False),
        Column("order_item_id", BigInteger, nullable=False),
        Column("qty", Numeric(12, 4), nullable=False),
        ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], ondelete="CASCADE", name="fk_shipment_lines"
        ),
    )
    Table(
        "shipment_tracks",
        md,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("shipment_id", _ID, nullable=False),
        Column("carrier_code", Text),
        Column("title", Text),
        Column("track_number", Text, nullable=False),
        ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], ondelete="CASCADE", name="fk_shipment_tracks"
        ),
    )


def _add_new_columns_and_tables(conn: Connection, version: int) -> None:
    """Generic part of a step: create the tables and add the columns that ``version`` added."""
    md = build_tables(version)
    existing = set(inspect(conn).get_table_names())
    for table in md.sorted_tables:
        if table.name not in existing:
            table.create(conn)
            continue
        present = {col["name"] for col in inspect(conn).get_columns(table.name)}
        for column in table.columns:
            if column.info.get("since") == version and column.name not in present:
                if not column.nullable:
                    msg = f"column {table.name}.{column.name} added in v{version} must be nullable"
                    raise RuntimeError(msg)
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def _step_1(conn: Connection) -> None:
    build_tables(1).create_all(conn)


def _step_2(conn: Connection) -> None:
    _add_new_columns_and_tables(conn, 2)
    # Lines loaded by version 1 are plain items, configurable parents or bundle parents:
    # each ships under its own item id. Bundle components stay NULL (unresolved).
    conn.execute(
        text(
            "UPDATE fulfillment_lines SET ship_item_id = item_id "
            "WHERE ship_item_id IS NULL AND line_type IN ('item', 'bundle_parent')"
        )
    )


def _step_3(conn: Connection) -> None:
    # NULL rechecked_at: every open order is read back from Magento on the next run.
    _add_new_columns_and_tables(conn, 3)


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _step_1),
    (2, _step_2),
    (3, _step_3),
]
LATEST_VERSION = MIGRATIONS[-1][0]
TABLES = build_tables(LATEST_VERSION)
ORDERS = TABLES.tables["fulfillment_orders"]
LINES = TABLES.tables["fulfillment_lines"]
REJECTED = TABLES.tables["rejected_records"]
SHIPMENTS = TABLES.tables["shipments"]
SHIPMENT_LINES = TABLES.tables["shipment_lines"]
SHIPMENT_TRACKS = TABLES.tables["shipment_tracks"]


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer target-dropstream."""


def current_version(conn: Connection) -> int:
    """The schema version recorded in the database (0 for an empty database)."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    table = TABLES.tables["schema_version"]
    found = conn.execute(select(table.c.version).order_by(table.c.version.desc())).first()
    return int(found[0]) if found else 0


def upgrade(conn: Connection, *, target: int = LATEST_VERSION, now: datetime) -> int:
    """Apply the missing migration steps up to ``target`` (caller holds the write lock).

    Returns:
        The version the database is at afterwards.

    Raises:
        SchemaTooNewError: when the database is newer than this code.
    """
    version = current_version(conn)
    if version > LATEST_VERSION:
        msg = (
            f"the fulfillment store has schema version {version}, newer than this "
            f"target-dropstream supports ({LATEST_VERSION}): upgrade magento2-dropstream"
        )
        raise SchemaTooNewError(msg)
    table = TABLES.tables["schema_version"]
    for step_version, step in MIGRATIONS:
        if version < step_version <= target:
            step(conn)
            conn.execute(table.insert().values(version=step_version, applied_at=now))
            version = step_version
    return version

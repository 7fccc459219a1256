"""Engines for the fulfillment store: SQLite tuned for one writer and live readers, or PostgreSQL.

SQLite runs in WAL mode with a busy timeout; pysqlite's implicit transactions are turned
off and every write transaction starts with ``BEGIN IMMEDIATE`` (the store-wide write
lock), reads with a plain ``BEGIN`` that never waits for the writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "dropstream_read_only"


class StoreError(RuntimeError):
    """The fulfillment store cannot be opened or used (message never shows a password)."""


def make_engine(url: URL, *, create: bool, shown: str) -> Engine:
    """An engine for ``url``; ``create=False`` refuses to create a missing SQLite file."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, create=create, shown=shown)
    return create_engine(url, pool_pre_ping=True)


def without_password(message: str, password: str | None) -> str:
    """``message`` with any occurrence of the password masked."""
    return message.replace(password, "***") if password else message


def _sqlite_engine(url: Any, *, create: bool, shown: str) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        if not path.exists():
            if not create:
                msg = (
                    f"no fulfillment store at {shown}: run target-dropstream first, or pass "
                    "--database-url / --config / TARGET_DROPSTREAM_DATABASE_URL"
                )
                raise StoreError(msg)
            path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly below; pysqlite's implicit BEGIN is turned off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

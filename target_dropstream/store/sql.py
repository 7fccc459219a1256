"""SQL helpers every part of the store shares: dialect-aware inserts and id filters, COPY.

Also :class:`Transactions`, what a repository needs of the store: its engine and its read
and write transactions (``FulfillmentStore`` is one).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from sqlalchemy import BigInteger, Connection, Engine, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

_CHUNK = 500  # SQLite: order ids per IN (...) list


class Transactions(Protocol):
    """The engine, and one transaction to read or (under the write lock) to write."""

    engine: Engine

    def read(self) -> AbstractContextManager[Connection]: ...

    def write(self) -> AbstractContextManager[Connection]: ...


def order_id_filters(conn: Connection, column: Any, ids: Iterable[int]) -> list[Any]:
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


def copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
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


def insert(conn: Connection, table: Any) -> Any:
    """The dialect's INSERT for ``table`` (it has ``on_conflict_do_update`` / ``_do_nothing``)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)

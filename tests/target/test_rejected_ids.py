"""A rejected record names its order as the tap sent it, never "without id" while it has one.

``"entity_id": "123"`` fails an integer schema and is rejected (right), but it is order 123:
the rejection stores that id and the log line and ``dropstream status`` show it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from target_dropstream.cli import main
from target_dropstream.record_ids import order_id_as_given, rejected_order_id
from tests.target.conftest import NOW, order, orders_stream, run_target


def with_id(entity_id: Any, n: int) -> dict[str, Any]:
    record = order(n)
    if entity_id is None:
        record.pop("entity_id")
    else:
        record["entity_id"] = entity_id
    return record


@pytest.mark.parametrize(
    ("entity_id", "stored", "shown"),
    [
        (123, 123, "123"),
        ("123", 123, "'123'"),
        (" 42 ", 42, "' 42 '"),
        ("12a", None, "'12a'"),
        ("²", None, "'²'"),  # str.isdigit says yes, int() says no
        (12.5, None, "12.5"),
        (True, None, "True"),
        (-1, None, "-1"),
        (2**63, None, str(2**63)),
        (None, None, "without entity_id"),
    ],
)
def test_the_stored_id_and_the_id_as_given(entity_id: Any, stored: int | None, shown: str) -> None:
    record = {} if entity_id is None else {"entity_id": entity_id}
    assert rejected_order_id(record) == stored
    assert order_id_as_given(record) == shown


def test_a_string_id_under_the_integer_schema_is_rejected_with_the_id_it_carries(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    records = [with_id("123", 1), with_id("abc", 2), with_id(None, 3)]
    with caplog.at_level(logging.WARNING):
        run_target({"database_url": database_url}, orders_stream(records))
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT order_id, reason FROM rejected_records ORDER BY id")
            ).all()
            assert conn.execute(text("SELECT count(*) FROM fulfillment_orders")).scalar() == 0
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [
        (123, "does not match the stream schema at entity_id: '123' is not of type 'integer'"),
        (None, "does not match the stream schema at entity_id: 'abc' is not of type 'integer'"),
        (None, "entity_id is missing: the order id is required"),
    ]
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Rejected")]
    assert [m.split(":")[0] for m in logged] == [
        "Rejected a 'orders' record (order '123')",
        "Rejected a 'orders' record (order 'abc')",
        "Rejected a 'orders' record (order without entity_id)",
    ]


def test_status_shows_the_id_as_given(sqlite_url: str) -> None:
    run_target({"database_url": sqlite_url}, orders_stream([with_id("123", 1), with_id("x9", 2)]))
    result = CliRunner().invoke(
        main, ["status", "--database-url", sqlite_url], obj={"clock": lambda: NOW}
    )
    assert result.exit_code == 0, result.output
    assert " orders order 123 at " in result.output
    assert " orders order 'x9' at " in result.output
    assert "no id" not in result.output


def test_an_id_of_non_ascii_digits_is_rejected_not_a_crash(sqlite_url: str) -> None:
    """Without the schema check the id reaches the mapping; ``int("²")`` would raise there."""
    config = {"database_url": sqlite_url, "validate_records": False}
    run_target(config, orders_stream([with_id("²", 1), order(2)]))
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            reasons = conn.execute(text("SELECT order_id, reason FROM rejected_records")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in reasons] == [(None, "entity_id '²' is not an integer")]

"""singer-sdk's standard target cases, shaped as Magento orders, with what a user relies on.

The SDK's own files (test_core.py) use streams other than ``orders``, which this target
ignores, so they only show that nothing breaks. The files in ``sdk_cases/`` replay the same
situations on the ``orders`` stream, through the SDK's own test harness, and each case
checks what is stored, what is rejected with which reason, which STATE is passed on and
which error is raised. They run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import RecordsWithoutSchemaException
from singer_sdk.testing import SuiteConfig, get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner
from singer_sdk.testing.suites import SingerTestSuite
from singer_sdk.testing.templates import TargetFileTestTemplate
from sqlalchemy import create_engine, inspect, text

from target_dropstream.target import TargetDropstream
from tests.target.conftest import NOW

CASES = Path(__file__).resolve().parent / "sdk_cases"


def bookmark(value: str) -> dict[str, Any]:
    return {"bookmarks": {"orders": {"replication_key_value": value}}}


class OrdersCase(TargetFileTestTemplate):
    """An SDK target case on the ``orders`` stream; ``validate`` reads the store."""

    @property
    def singer_filepath(self) -> Path:
        return CASES / f"{self.name}.singer"

    @property
    def database_url(self) -> str:
        return self.resource

    def rows(self, sql: str) -> list[tuple]:
        """Rows of ``sql``; none when the run never created the store."""
        engine = create_engine(self.database_url)
        try:
            if not inspect(engine).has_table("fulfillment_orders"):
                return []
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def orders(self) -> dict[int, str]:
        return dict(self.rows("SELECT order_id, state FROM fulfillment_orders"))

    def lines(self) -> dict[int, list[tuple]]:
        found: dict[int, list[tuple]] = {}
        for order_id, sku, qty in self.rows(
            "SELECT order_id, sku, qty FROM fulfillment_lines ORDER BY order_id, item_id"
        ):
            found.setdefault(order_id, []).append((sku, float(qty)))
        return found

    def rejected(self) -> list[tuple]:
        return self.rows("SELECT order_id, reason FROM rejected_records ORDER BY id")

    def states(self) -> list[dict[str, Any]]:
        """The STATE messages the target passed on, in order."""
        return list(self.runner.state_messages)


class OrdersSchemaUpdates(OrdersCase):
    """New properties mid-stream: every record loads under the schema sent before it, and a
    later version of an order sent under a newer schema wins over the earlier one."""

    name = "schema_updates"

    def validate(self) -> None:
        assert self.orders() == {1: "held", 2: "ready", 3: "ready"}  # 1: put on hold later
        assert self.rows("SELECT ship_to_city FROM fulfillment_orders WHERE order_id = 2") == [
            ("Calder",)
        ]
        assert self.rejected() == []
        assert self.states() == [bookmark("2026-01-15 10:07:00")]


class OrdersDuplicateRecords(OrdersCase):
    """The same order several times in one batch: one order, one set of lines, the newest
    ``updated_at`` wins and an older copy arriving later never overwrites it."""

    name = "duplicate_records"

    def validate(self) -> None:
        assert self.orders() == {1: "ready", 2: "ready"}
        assert self.lines() == {1: [("SKU-1", 3.0)], 2: [("SKU-2", 1.0)]}
        assert self.rejected() == []
        assert self.states() == [bookmark("2026-01-15 10:10:00")]


class OrdersNoPrimaryKeys(OrdersCase):
    """A SCHEMA that declares no key properties: orders are still keyed by ``entity_id``."""

    name = "no_primary_keys"

    def validate(self) -> None:
        assert self.orders() == {1: "ready"}
        assert self.lines() == {1: [("SKU-1", 2.0)]}


class OrdersRecordBeforeSchema(OrdersCase):
    """An ``orders`` record before its SCHEMA stops the run: nothing stored or passed on."""

    name = "record_before_schema"

    def test(self) -> None:
        with pytest.raises(RecordsWithoutSchemaException, match="'orders'"):
            super().test()

    def validate(self) -> None:
        assert self.orders() == {}
        assert self.states() == []


class OrdersRecordMissingKeyProperty(OrdersCase):
    """No ``entity_id``: not the SDK's MissingKeyPropertiesError but a rejection with the
    reason, while the rest loads and the STATE is passed on."""

    name = "record_missing_key_property"

    def validate(self) -> None:
        assert self.orders() == {2: "ready"}
        assert self.rejected() == [(None, "entity_id is missing: the order id is required")]
        assert self.states() == [bookmark("2026-01-15 10:00:00")]


class OrdersTypeChanges(OrdersCase):
    """A SCHEMA that changes a property's type applies to the records after it: the string
    id is rejected under the integer schema (stored with its id), loaded under the one that
    allows strings, and rejected again once the schema is back to integer."""

    name = "type_changes"

    def validate(self) -> None:
        assert self.orders() == {7: "ready", 8: "ready"}
        assert self.rows("SELECT store_id FROM fulfillment_orders WHERE order_id = 7") == [(1,)]
        assert self.lines()[7] == [("SKU-7", 2.0)]
        schema_error = (
            "does not match the stream schema at entity_id: '{}' is not of type 'integer'"
        )
        assert self.rejected() == [(7, schema_error.format(7)), (9, schema_error.format(9))]
        assert self.states() == [bookmark("2026-01-15 10:05:00")]


class OrdersMultipleStateMessages(OrdersCase):
    """Three STATEs in: the last one comes out, once everything before it is committed (the
    SDK case expects each one echoed; singer-sdk targets pass STATE on when they drain). The
    rejected record it covers is kept in rejected_records: passing STATE beyond it loses
    nothing."""

    name = "multiple_state_messages"

    def validate(self) -> None:
        assert self.orders() == {1: "ready", 2: "ready"}
        assert self.rejected() == [(3, "created_at 'yesterday' is not a date-time")]
        assert self.states() == [bookmark("2026-01-15 10:00:00#3")]


orders_cases = SingerTestSuite(
    kind="target",
    tests=[
        OrdersSchemaUpdates,
        OrdersDuplicateRecords,
        OrdersNoPrimaryKeys,
        OrdersRecordBeforeSchema,
        OrdersRecordMissingKeyProperty,
        OrdersTypeChanges,
        OrdersMultipleStateMessages,
    ],
)


class TestTargetDropstreamOrdersCases(
    get_target_test_class(
        TargetDropstream,
        config={},
        custom_suites=[orders_cases],
        suite_config=SuiteConfig(),
        include_target_tests=False,
    )
):
    """The SDK's test class, with the store (SQLite, PostgreSQL) as the case's resource."""

    @pytest.fixture
    def resource(self, database_url: str) -> str:
        return database_url

    @pytest.fixture
    def runner(self, resource: str) -> TargetTestRunner:
        return TargetTestRunner(
            TargetDropstream, config={"database_url": resource}, clock=lambda: NOW
        )

"""TargetDropstream in-process: the rules applied end to end, bad records, replays, releases."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError
from sqlalchemy import create_engine, text

from target_dropstream.target import TargetDropstream
from tests.target.conftest import (
    DATA_DIR,
    NOW,
    dump_store,
    no_new_orders,
    order,
    orders_stream,
    record_message,
    run_target,
    schema_message,
    tutorial_order,
)


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("include_parent", "expected"),
    [
        (
            False,
            [
                (3, "item"),
                (6, "bundle_component"),
                (7, "bundle_component"),
                (8, "bundle_component"),
                (9, "bundle_component"),
                (10, "item"),
            ],
        ),
        (
            True,
            [
                (3, "item"),
                (5, "bundle_parent"),
                (6, "bundle_component"),
                (7, "bundle_component"),
                (8, "bundle_component"),
                (9, "bundle_component"),
                (10, "item"),
            ],
        ),
    ],
)
def test_tutorial_order_lines(
    database_url: str,
    include_parent: bool,
    expected: list[tuple[int, str]],
) -> None:
    config = {"database_url": database_url, "include_bundle_parent": include_parent}
    run_target(config, orders_stream([tutorial_order()]))
    lines = query(
        database_url,
        "SELECT item_id, line_type, sku, parent_item_id, ship_item_id FROM fulfillment_lines "
        "ORDER BY item_id",
    )
    assert [(line[0], line[1]) for line in lines] == expected
    by_id = {line[0]: line for line in lines}
    assert by_id[10][2] == "MH01-S-Gray"  # configurable: the chosen simple's SKU, parent id
    assert by_id[10][4] == 10
    assert by_id[6][3] == 5
    assert by_id[6][4] is None
    assert 4 not in by_id
    assert 11 not in by_id
    assert query(database_url, "SELECT source, state FROM fulfillment_orders") == [
        ("default", "ready")
    ]


def test_source_is_the_normalised_store_url(sqlite_url: str) -> None:
    run_target(
        {"database_url": sqlite_url, "store_url": "HTTPS://Shop.example.com/rest/V1/"},
        orders_stream([order(1)]),
    )
    assert query(sqlite_url, "SELECT source FROM fulfillment_orders") == [
        ("https://Shop.example.com",)
    ]


def test_other_streams_are_ignored_with_one_log_line(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    messages = [
        schema_message("store_views"),
        record_message({"id": 1, "code": "default"}, "store_views"),
        record_message({"id": 2, "code": "fr"}, "store_views"),
        schema_message("orders"),
        record_message(order(1)),
        {
            "type": "SCHEMA",
            "stream": "customers",
            "key_properties": ["id"],
            "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
        },
        record_message({"no_id": True}, "customers"),
    ]
    with caplog.at_level(logging.INFO):
        run_target({"database_url": sqlite_url}, messages)
    ignored = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Ignoring")]
    assert len(ignored) == 2
    assert any("'store_views'" in m for m in ignored)
    assert any("'customers'" in m for m in ignored)
    assert query(sqlite_url, "SELECT order_id FROM fulfillment_orders") == [(1,)]


def test_bad_records_are_kept_with_their_reason_and_the_rest_loads(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    no_id = order(2)
    no_id.pop("entity_id")
    bad_date = order(3, created_at="31/12/2025 10:00")
    bad_qty = order(4)
    bad_qty["items"][0]["qty_ordered"] = "twelve"
    no_sku = order(5)
    no_sku["items"][0].pop("sku")
    wrong_type = order(6)
    wrong_type["entity_id"] = "six"  # fails the stream's JSON schema (integer)
    records = [order(1), no_id, bad_date, bad_qty, no_sku, wrong_type, order(7)]
    with caplog.at_level(logging.INFO):
        run_target({"database_url": sqlite_url, "batch_size_rows": 100}, orders_stream(records))
    assert query(sqlite_url, "SELECT order_id FROM fulfillment_orders ORDER BY 1") == [(1,), (7,)]
    rejected = dict(
        query(sqlite_url, "SELECT COALESCE(order_id, -1), reason FROM rejected_records")
    )
    assert rejected[-1] in {
        "entity_id is missing: the order id is required",
        "does not match the stream schema at entity_id: 'six' is not of type 'integer'",
    }
    assert "created_at '31/12/2025 10:00' is not a date-time" in rejected[3]
    assert "qty_ordered 'twelve' is not a number" in rejected[4]
    assert "has no SKU" in rejected[5]
    reasons = {r for (r,) in query(sqlite_url, "SELECT reason FROM rejected_records")}
    assert "does not match the stream schema at entity_id: 'six' is not of type 'integer'" in (
        reasons
    )
    assert len(reasons) == 5
    # the raw record is kept as received (the date text, not a parsed value)
    raw = query(sqlite_url, "SELECT record_json FROM rejected_records WHERE order_id = 3")[0][0]
    assert '"created_at": "31/12/2025 10:00"' in raw
    assert any("5 record(s) were rejected" in r.getMessage() for r in caplog.records)


def test_schema_checks_follow_validate_records(sqlite_url: str) -> None:
    record = order(6)
    record["store_id"] = "1"  # a string where the schema says integer; the rules don't mind
    run_target({"database_url": sqlite_url, "validate_records": False}, orders_stream([record]))
    assert query(sqlite_url, "SELECT order_id, store_id FROM fulfillment_orders") == [(6, 1)]


def test_replaying_the_same_file_gives_the_same_store(sqlite_url: str) -> None:
    singer_file = DATA_DIR / "magento_orders.singer"
    config = {"database_url": sqlite_url, "delay_minutes": 30}
    run_target(config, singer_file.read_text())
    first = dump_store(sqlite_url)
    run_target(config, singer_file.read_text())
    assert dump_store(sqlite_url) == first
    # 102 arrives canceled and was never imported: not stored.
    stored = sorted(int(dict(row)["order_id"]) for row in first["fulfillment_orders"])
    assert stored == [3, 101, 103, 105]  # 104 is the rejected record
    assert len(first["rejected_records"]) == 1


def test_held_orders_are_released_by_a_later_run_without_records(sqlite_url: str) -> None:
    config = {"database_url": sqlite_url, "delay_minutes": 90}
    placed = (NOW - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    run_target(config, orders_stream([order(1, created_at=placed)]))
    assert query(sqlite_url, "SELECT state FROM fulfillment_orders") == [("held",)]
    run_target(config, no_new_orders(), now=NOW + timedelta(minutes=59))
    assert query(sqlite_url, "SELECT state FROM fulfillment_orders") == [("held",)]
    run_target(config, no_new_orders(), now=NOW + timedelta(minutes=60))  # nothing new from Magento
    assert query(sqlite_url, "SELECT state FROM fulfillment_orders") == [("ready",)]


BAD_SETTINGS: list[tuple[dict[str, Any], str]] = [
    ({"delay_minutes": -5}, "delay_minutes"),
    ({"delay_minutes": "soon"}, "delay_minutes"),
    ({"database_url": "mysql://u@h/db"}, "database_url"),
    ({"database_url": "postgresql+psycopg2://u@h/db"}, "postgresql+psycopg://"),
    ({"database_url": "not a url"}, "database_url"),
    ({"order_import_status": []}, "order_import_status"),
    ({"store_url": "shop.example.com"}, "store_url"),
    ({"include_bundle_parent": "maybe"}, "include_bundle_parent"),
    ({"notify_on_run": "sometimes"}, "notify_on_run"),
    ({"consumer_key": "k"}, "consumer_secret"),
]


@pytest.mark.parametrize(("config", "named"), BAD_SETTINGS)
def test_invalid_settings_fail_fast_naming_the_setting(config: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TargetDropstream(config=config)
    assert named in " ".join(caught.value.errors)


def test_setting_errors_never_show_secrets_or_passwords() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TargetDropstream(
            config={
                "database_url": "mysql://user:hunter2@db/x",
                "access_token": 12345,
                "consumer_key": "k",
                "consumer_secret": "very-secret",
            }
        )
    text_ = " ".join(caught.value.errors) + str(caught.value)
    assert "hunter2" not in text_
    assert "very-secret" not in text_


def test_default_database_is_dropstream_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run_target({}, orders_stream([order(1)]))
    assert (tmp_path / "dropstream.db").exists()
    assert query(
        f"sqlite:///{tmp_path / 'dropstream.db'}", "SELECT order_id FROM fulfillment_orders"
    ) == [(1,)]

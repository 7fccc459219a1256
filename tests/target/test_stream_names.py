"""A tap that names its orders stream otherwise: warned, failed, or aliased with stream_maps.

Orders sent as ``sales_order`` (another tap's name) used to be dropped quietly: exit 0,
nothing stored, and the tap's STATE passed on, so the next run started past them.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from target_dropstream.stream_names import NoOrdersStreamError
from target_dropstream.target import TargetDropstream
from tests.target.conftest import (
    NOW,
    no_new_orders,
    order,
    record_message,
    run_target,
    schema_message,
    singer_text,
    state_message,
)

ALIAS = {"stream_maps": {"sales_order": {"__alias__": "orders"}}}


class EagerTarget(TargetDropstream):
    """Drains (and would pass STATE on) after every message, as after 5 minutes of input."""

    _MAX_RECORD_AGE_IN_MINUTES = 0.0


def sales_order_run(*records: dict[str, Any]) -> list[dict[str, Any]]:
    """Orders under another tap's stream name, with a STATE after each record."""
    messages = [schema_message("sales_order")]
    for n, record in enumerate(records, start=1):
        messages += [record_message(record, "sales_order"), state_message(n)]
    return messages


def stored_orders(url: str) -> list[int]:
    """The stored order ids; none when the run never created the store."""
    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("fulfillment_orders"):
            return []
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT order_id FROM fulfillment_orders ORDER BY 1"))
            return [row[0] for row in rows]
    finally:
        engine.dispose()


def test_a_run_without_the_orders_stream_fails_naming_the_streams_and_the_alias(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    messages = [
        *sales_order_run(order(1), order(2)),
        schema_message("store_views"),
        record_message({"store_id": 1, "code": "default"}, "store_views"),
    ]
    with caplog.at_level(logging.INFO), pytest.raises(NoOrdersStreamError) as caught:
        run_target({"database_url": sqlite_url}, messages)
    message = str(caught.value)
    assert "No 'orders' stream" in message
    assert "'sales_order' (2 records), 'store_views' (1 record)" in message
    assert '{"stream_maps": {"sales_order": {"__alias__": "orders"}}}' in message
    assert "allow_missing_orders_stream" in message
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    ignored = [w for w in warnings if w.startswith("Ignoring stream 'sales_order'")]
    assert len(ignored) == 1
    assert '"__alias__": "orders"' in ignored[0]
    assert stored_orders(sqlite_url) == []


def test_no_state_is_passed_on_before_an_orders_stream_arrives(sqlite_url: str) -> None:
    """Even when the SDK drains mid-run (records aged): the bookmark must not move."""
    target = EagerTarget(config={"database_url": sqlite_url}, clock=lambda: NOW)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(NoOrdersStreamError):
        target.listen(file_input=io.StringIO(singer_text(sales_order_run(order(1), order(2)))))
    assert out.getvalue() == ""


def test_the_cli_exits_non_zero_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "target.json"
    config.write_text(json.dumps({"database_url": f"sqlite:///{tmp_path / 'store.db'}"}))
    singer = tmp_path / "in.singer"
    singer.write_text(singer_text(sales_order_run(order(1))))
    target = Path(sys.executable).parent / "target-dropstream"
    run = subprocess.run(
        [str(target), "--config", str(config), "--input", str(singer)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert run.stdout == ""  # no STATE
    assert "No 'orders' stream in this run" in run.stderr
    assert "'sales_order' (1 record)" in run.stderr


def test_an_empty_input_fails_too(sqlite_url: str) -> None:
    """No SCHEMA at all: the tap selected nothing, or sent nothing; not a quiet success."""
    with pytest.raises(NoOrdersStreamError, match="none \\(the input held no SCHEMA message\\)"):
        run_target({"database_url": sqlite_url}, "")


def test_the_orders_schema_without_records_is_a_normal_empty_run(sqlite_url: str) -> None:
    states = run_target({"database_url": sqlite_url}, [*no_new_orders(), state_message(7)])
    assert states == [state_message(7)["value"]]


def test_allow_missing_orders_stream_lets_the_run_succeed_and_pass_state_on(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = {"database_url": sqlite_url, "allow_missing_orders_stream": True}
    with caplog.at_level(logging.INFO):
        states = run_target(config, sales_order_run(order(1), order(2)))
    assert states == [state_message(2)["value"]]
    assert any(
        r.levelno == logging.WARNING and r.getMessage().startswith("Ignoring stream 'sales_order'")
        for r in caplog.records
    )
    assert stored_orders(sqlite_url) == []


def test_a_stream_map_alias_loads_another_taps_orders_end_to_end(database_url: str) -> None:
    bad = order(3)
    bad["items"][0].pop("product_type")
    states = run_target(
        {"database_url": database_url, **ALIAS}, sales_order_run(order(1), order(2), bad)
    )
    assert states == [state_message(3)["value"]]
    assert stored_orders(database_url) == [1, 2]
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rejected = conn.execute(text("SELECT stream, order_id FROM rejected_records")).all()
            lines = conn.execute(text("SELECT order_id, sku FROM fulfillment_lines ORDER BY 1"))
            assert [tuple(row) for row in lines] == [(1, "SKU-1"), (2, "SKU-2")]
    finally:
        engine.dispose()
    assert [tuple(row) for row in rejected] == [("orders", 3)]

"""The tap writes RECORD lines in blocks: every line arrives, in order, and no STATE ahead of
the records it covers, also when the sync stops on an error."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from singer_sdk.singerlib import RecordMessage, StateMessage

from magento2_sandbox import MagentoSandbox
from tap_magento2.order_streams import OrdersStream
from tap_magento2.tap import SingerLineWriter, TapMagento2
from tests.conftest import sandbox_config

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _record(n: int, size: int = 10) -> RecordMessage:
    return RecordMessage(stream="orders", record={"entity_id": n, "note": "x" * size})


def _lines(out: io.TextIOWrapper) -> list[dict[str, Any]]:
    out.flush()
    raw = out.buffer.getvalue()  # type: ignore[attr-defined]
    return [json.loads(line) for line in raw.splitlines()]


def test_records_wait_for_a_state_which_follows_them() -> None:
    writer = SingerLineWriter()
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out):
        for n in range(3):
            writer.write_message(_record(n))
        assert _lines(out) == []
        writer.write_message(StateMessage(value={"bookmarks": {"orders": {"n": 2}}}))
    lines = _lines(out)
    assert [line["type"] for line in lines] == ["RECORD"] * 3 + ["STATE"]
    assert [line["record"]["entity_id"] for line in lines[:3]] == [0, 1, 2]


def test_a_full_block_is_written_without_waiting() -> None:
    writer = SingerLineWriter()
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    per_record = 20_000
    with contextlib.redirect_stdout(out):
        count = SingerLineWriter.BLOCK_BYTES // per_record + 1
        for n in range(count):
            writer.write_message(_record(n, per_record))
        assert [line["record"]["entity_id"] for line in _lines(out)] == list(range(count))
        writer.write_message(_record(count))
        writer.flush()
    assert len(_lines(out)) == count + 1


def test_text_stdout_gets_the_same_lines() -> None:
    writer = SingerLineWriter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        writer.write_message(_record(1))
        writer.flush()
    assert json.loads(out.getvalue())["record"]["entity_id"] == 1


def test_records_read_before_a_failure_are_written(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = 0
    original = OrdersStream.parse_response

    def parse_response(self: OrdersStream, response: Any) -> Any:
        nonlocal pages
        pages += 1
        if pages == 3:
            raise RuntimeError("the third page breaks")
        return original(self, response)

    monkeypatch.setattr(OrdersStream, "parse_response", parse_response)
    with MagentoSandbox(order_count=60, seed=5, now=NOW) as sb:
        config = sandbox_config(
            sb,
            order_import_status="pending,processing,complete",
            page_size=5,
            max_concurrent_requests=1,
        )
        tap = TapMagento2(config=config, parse_env_config=False)
        for name, stream in tap.streams.items():
            stream.selected = name == "orders"
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(RuntimeError, match="third page"):
            tap.sync_all()
    records = [json.loads(line) for line in out.getvalue().splitlines() if '"RECORD"' in line]
    assert len(records) == 10  # both pages read before the failure


def test_a_dry_run_writes_the_last_streams_record(monkeypatch: pytest.MonkeyPatch) -> None:
    from singer_sdk import Stream

    # The SDK's dry run stops each stream at its record limit; nothing follows the last
    # stream's record but the end of the run.
    monkeypatch.setattr(Stream, "_write_state_message", lambda self: None)
    with MagentoSandbox(order_count=20, seed=5, now=NOW) as sb:
        config = sandbox_config(sb, order_import_status="pending,processing,complete")
        tap = TapMagento2(config=config, parse_env_config=False)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            tap.run_sync_dry_run(dry_run_record_limit=1)
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    assert (lines[-1]["type"], lines[-1]["stream"]) == ("RECORD", "store_views")

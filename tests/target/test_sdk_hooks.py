"""The singer-sdk hooks the target relies on still exist and are still called.

Two private SDK methods are overridden: ``OrdersSink._parse_timestamps_in_record`` (for
speed: nothing public turns the SDK's date parsing off) and
``TargetDropstream._write_state_message`` (no STATE before an ``orders`` stream arrives:
nothing public sits between a drain and the STATE it writes). If a singer-sdk release
renames them or stops calling them, the overrides would silently do nothing; these tests
fail instead. The reader check uses the public ``deserialize_json`` hook.
"""

from __future__ import annotations

import inspect
import io
from typing import Any

import pytest
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.sinks import BatchSink
from singer_sdk.target_base import Target

from target_dropstream.sinks import LoadContext, OrdersSink
from target_dropstream.target import SingerObjectReader, TargetDropstream
from tests.target.conftest import NOW, order, orders_stream, singer_text


def test_the_overridden_private_hook_keeps_the_sdks_signature() -> None:
    ours = inspect.signature(OrdersSink._parse_timestamps_in_record)
    sdks = inspect.signature(BatchSink._parse_timestamps_in_record)
    assert list(ours.parameters) == list(sdks.parameters)


def test_the_sdk_calls_the_override_for_every_record(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    calls: list[dict[str, Any]] = []
    original = OrdersSink._parse_timestamps_in_record

    def spy(self: OrdersSink, record: dict, schema: dict, treatment: Any) -> None:
        calls.append(record)
        original(self, record, schema, treatment)

    monkeypatch.setattr(OrdersSink, "_parse_timestamps_in_record", spy)
    target = TargetDropstream(config={"database_url": sqlite_url}, clock=lambda: NOW)
    target.listen(file_input=io.StringIO(singer_text(orders_stream([order(1), order(2)]))))
    assert [record["entity_id"] for record in calls] == [1, 2]
    # The override left the dates as the tap sent them.
    assert all(isinstance(record["updated_at"], str) for record in calls)


def test_the_state_hook_keeps_the_sdks_signature_and_writes_every_state(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    ours = inspect.signature(TargetDropstream._write_state_message)
    sdks = inspect.signature(Target._write_state_message)
    assert list(ours.parameters) == list(sdks.parameters)
    written: list[dict] = []
    original = TargetDropstream._write_state_message

    def spy(self: TargetDropstream, state: dict) -> None:
        written.append(state)
        original(self, state)

    monkeypatch.setattr(TargetDropstream, "_write_state_message", spy)
    target = TargetDropstream(config={"database_url": sqlite_url}, clock=lambda: NOW)
    target.listen(file_input=io.StringIO(singer_text(orders_stream([order(1)]))))
    assert written == [
        {"bookmarks": {"orders": {"replication_key_value": "2026-01-15 10:00:00#1#end"}}}
    ]


def test_sinks_see_the_run_only_through_the_load_context(sqlite_url: str) -> None:
    target = TargetDropstream(config={"database_url": sqlite_url}, clock=lambda: NOW)
    assert isinstance(target.load_context, LoadContext)
    target.listen(file_input=io.StringIO(singer_text(orders_stream([order(1)]))))
    assert target.load_context.counters.rejected == 0


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('{"type": "RECORD", "stream": "orders", "record": [1]}', "carries list instead"),
        ("5", "holds int instead of a Singer message"),
    ],
)
def test_the_reader_refuses_lines_that_are_not_objects(line: str, words: str) -> None:
    with pytest.raises(InvalidInputLine, match=words):
        SingerObjectReader().deserialize_json(line)

"""The private singer-sdk hook the tap overrides still exists, is still called, and still
writes what the override writes.

``KeysetSearchStream._generate_record_messages`` is overridden for speed: nothing public
turns off the SDK's deselected-property pass, which walks every object of every record even
when every property is selected. When nothing is deselected the override writes the SDK's
RECORD messages without that pass; otherwise it calls the SDK's. If a singer-sdk release
renames the method, stops calling it or changes what it writes, these tests fail instead of
the override silently doing nothing or writing something else.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest
from singer_sdk import Stream

from magento2_sandbox import MagentoSandbox
from tap_magento2.streams import KeysetSearchStream
from tap_magento2.tap import TapMagento2
from tests.conftest import sandbox_config
from tests.tap.support import run_tap


def _message_dicts(messages: Any) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        as_dict = message.to_dict()
        as_dict.pop("time_extracted", None)
        out.append(as_dict)
    return out


def _orders_tap(config: dict[str, Any], deselect: str | None = None) -> TapMagento2:
    catalog = TapMagento2(config=config, parse_env_config=False).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == "orders"
            elif entry["breadcrumb"] == ["properties", deselect]:
                entry["metadata"]["selected"] = False
    return TapMagento2(config=config, catalog=catalog, parse_env_config=False)


def test_the_overridden_private_hook_keeps_the_sdks_signature() -> None:
    ours = inspect.signature(KeysetSearchStream._generate_record_messages)
    sdks = inspect.signature(Stream._generate_record_messages)
    assert list(ours.parameters) == list(sdks.parameters)


def test_the_sdk_calls_the_override_for_every_record(
    monkeypatch: pytest.MonkeyPatch, sandbox: MagentoSandbox
) -> None:
    calls: list[int] = []
    original = KeysetSearchStream._generate_record_messages

    def spy(self: KeysetSearchStream, record: dict[str, Any]) -> Any:
        calls.append(record["entity_id"])
        return original(self, record)

    monkeypatch.setattr(KeysetSearchStream, "_generate_record_messages", spy)
    run = run_tap(sandbox_config(sandbox), streams=("orders",))
    assert calls == [record["entity_id"] for record in run.records()]
    assert len(calls) > 10


def test_with_every_property_selected_it_writes_the_sdks_messages(
    sandbox: MagentoSandbox,
) -> None:
    records = run_tap(sandbox_config(sandbox), streams=("orders",)).records()[:20]
    stream = _orders_tap(sandbox_config(sandbox)).streams["orders"]
    assert isinstance(stream, KeysetSearchStream)
    assert stream.every_property_selected
    for record in records:
        ours = _message_dicts(stream._generate_record_messages(copy.deepcopy(record)))
        sdks = _message_dicts(Stream._generate_record_messages(stream, copy.deepcopy(record)))
        assert ours == sdks
        assert len(ours) == 1


def test_a_deselected_property_still_goes_through_the_sdks_pass(
    sandbox: MagentoSandbox,
) -> None:
    records = run_tap(sandbox_config(sandbox), streams=("orders",)).records()[:5]
    stream = _orders_tap(sandbox_config(sandbox), deselect="customer_email").streams["orders"]
    assert isinstance(stream, KeysetSearchStream)
    assert not stream.every_property_selected
    for record in records:
        assert "customer_email" in record
        (message,) = _message_dicts(stream._generate_record_messages(copy.deepcopy(record)))
        assert "customer_email" not in message["record"]
        assert message["record"]["entity_id"] == record["entity_id"]

"""The cheaper per-record work gives singer-sdk's and jsonschema's results exactly.

``tap_magento2.conform.RecordConformer`` replaces the SDK's type conformance (plus the
timestamp walk); ``target_dropstream.record_check`` answers "valid?" before jsonschema is
asked for the wording. Both are compared with the originals on every sandbox order and on
records broken on purpose, and the target still puts schema-invalid records in
rejected_records.
"""

from __future__ import annotations

import copy
import io
import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from singer_sdk.helpers._typing import _conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

from tap_magento2.conform import RecordConformer
from tap_magento2.sandbox import MagentoSandbox
from tap_magento2.timestamps import convert_timestamps
from target_dropstream.record_check import compile_check
from target_dropstream.target import TargetDropstream

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "tap_magento2" / "schemas" / "orders.json"
DECODER = msgspec.json.Decoder(float_hook=Decimal)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


@pytest.fixture(scope="module")
def orders() -> list[dict[str, Any]]:
    """Sandbox orders exactly as the tap decodes them (decimals as Decimal)."""
    sb = MagentoSandbox(order_count=300, seed=21, now=datetime(2026, 1, 15, tzinfo=UTC))
    return [DECODER.decode(json.dumps(sb.data.order_json(p)).encode()) for p in range(300)]


def sdk_result(record: Any, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    return _conform_record_data_types(
        convert_timestamps(record), schema, TypeConformanceLevel.RECURSIVE, None
    )


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (True == 1 must not pass)."""
    return json.dumps(a, default=repr, sort_keys=False) == json.dumps(
        b, default=repr, sort_keys=False
    )


def test_conformer_matches_the_sdk_on_every_sandbox_order(
    schema: dict[str, Any], orders: list[dict[str, Any]]
) -> None:
    conform = RecordConformer(schema)
    for order in orders:
        mine, unmapped = conform(copy.deepcopy(order))
        theirs, their_unmapped = sdk_result(copy.deepcopy(order), schema)
        assert same(mine, theirs)
        assert unmapped == their_unmapped == []


EDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "flag": {"type": ["boolean", "null"]},
        "amount": {"type": ["number", "null"]},
        "created_at": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": ["boolean"]}},
        "lines": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "additionalProperties": True,
                "properties": {"shipped_at": {"type": ["string", "null"]}},
            },
        },
        "blob": {"type": ["object", "null"]},
    },
}


@pytest.mark.parametrize(
    "record",
    [
        {"flag": 1, "amount": float("nan"), "note": "x"},
        {"flag": 0, "amount": float("inf"), "created_at": "2026-01-02 03:04:05"},
        {"flag": "yes", "amount": Decimal("1.50"), "created_at": "0000-00-00 00:00:00"},
        {"flag": None, "unknown": 5, "other_at": "2026-01-02 03:04:05"},
        {"tags": [1, 0, True, None], "note": {"nested_at": "2026-01-02 03:04:05"}},
        {
            "lines": [
                {"shipped_at": "2026-01-02 03:04:05", "extra_at": "2026-01-02 03:04:06"},
                {"free": [{"deep_at": "2026-01-02 03:04:07"}]},
                "not an object",
            ]
        },
        {"blob": {"a_at": "2026-01-02 03:04:05", "b": [1, {"c_at": "bad"}]}},
        {"note": ["list", "where", "a string", "was", "declared"], "flag": [1]},
    ],
)
def test_conformer_matches_the_sdk_on_edge_cases(record: dict[str, Any]) -> None:
    mine, unmapped = RecordConformer(EDGE_SCHEMA)(copy.deepcopy(record))
    theirs, their_unmapped = sdk_result(copy.deepcopy(record), EDGE_SCHEMA)
    assert same(mine, theirs)
    assert unmapped == their_unmapped


def _validator(schema: dict[str, Any]) -> Any:
    return DEFAULT_JSONSCHEMA_VALIDATOR(schema, format_checker=jsonschema.FormatChecker(formats=()))


def _breakages(order: dict[str, Any]) -> list[dict[str, Any]]:
    broken = []
    for path, value in [
        (("entity_id",), "12"),
        (("entity_id",), True),
        (("entity_id",), 1.0),
        (("grand_total",), "12.00"),
        (("grand_total",), True),
        (("items",), {"not": "a list"}),
        (("items", 0, "qty_ordered"), "two"),
        (("items", 0, "sku"), 7),
        (("billing_address",), "street"),
        (("billing_address", "street"), "one line"),
        (("status_histories",), [1, 2]),
        (("extension_attributes", "shipping_assignments"), {"a": 1}),
        (("created_at",), 20260101),
    ]:
        record = copy.deepcopy(order)
        target: Any = record
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
        broken.append(record)
    return broken


def test_record_check_agrees_with_jsonschema(
    schema: dict[str, Any], orders: list[dict[str, Any]]
) -> None:
    tap_schema = json.loads(json.dumps(schema))  # as the target receives it
    check = compile_check(tap_schema, DEFAULT_JSONSCHEMA_VALIDATOR.TYPE_CHECKER)
    assert check is not None, "the tap's orders schema should be compiled"
    validator = _validator(tap_schema)
    invalid_seen = 0
    for order in orders[:60]:
        record = json.loads(json.dumps(order, default=float))
        for candidate in [record, *_breakages(record)]:
            expected = not any(True for _ in validator.iter_errors(candidate))
            assert check(candidate) is expected, candidate.get("entity_id")
            invalid_seen += not expected
    assert validator.is_valid(json.loads(json.dumps(orders[0], default=float)))
    assert invalid_seen > 100


@pytest.mark.parametrize(
    ("schema", "compiled"),
    [
        ({"type": "object", "properties": {"a": {"type": "integer", "minimum": 1}}}, False),
        ({"anyOf": [{"type": "string"}]}, False),
        ({"type": "object", "properties": {"a": {"$ref": "#/x"}}}, False),
        ({"type": "object", "required": ["a"], "additionalProperties": False}, True),
        ({"type": "array", "items": [{"type": "string"}]}, False),
    ],
)
def test_record_check_compiles_only_what_it_understands(
    schema: dict[str, Any], compiled: bool
) -> None:
    check = compile_check(schema, DEFAULT_JSONSCHEMA_VALIDATOR.TYPE_CHECKER)
    assert (check is not None) is compiled
    if check is not None:
        validator = _validator(schema)
        for instance in [{}, {"a": 1}, {"b": 2}, [], "x", None]:
            assert check(instance) is validator.is_valid(instance)


def test_target_still_rejects_schema_invalid_records(
    tmp_path: Path, schema: dict[str, Any], orders: list[dict[str, Any]]
) -> None:
    good = [json.loads(json.dumps(convert_timestamps(o), default=float)) for o in orders[:5]]
    bad = copy.deepcopy(good[1])
    bad["entity_id"] = 99_999
    bad["items"][0]["qty_ordered"] = "two"
    lines = [
        {"type": "SCHEMA", "stream": "orders", "schema": schema, "key_properties": ["entity_id"]}
    ]
    lines += [{"type": "RECORD", "stream": "orders", "record": r} for r in [*good, bad]]
    db = tmp_path / "store.db"
    target = TargetDropstream(
        config={"database_url": f"sqlite:///{db}", "store_url": "https://shop.example.test"},
        parse_env_config=False,
    )
    target.listen(file_input=io.StringIO("\n".join(json.dumps(m) for m in lines) + "\n"))
    with sqlite3.connect(db) as conn:
        loaded = {row[0] for row in conn.execute("SELECT order_id FROM fulfillment_orders")}
        rejected = conn.execute("SELECT order_id, reason FROM rejected_records").fetchall()
    assert loaded == {o["entity_id"] for o in good}
    assert len(rejected) == 1
    assert rejected[0][0] == 99_999
    assert "items/0/qty_ordered" in rejected[0][1]

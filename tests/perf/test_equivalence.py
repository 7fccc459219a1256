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
import itertools
import json
import logging
import sqlite3
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from singer_sdk.exceptions import EmptySchemaTypeError
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

from magento2_sandbox import MagentoSandbox
from tap_magento2.conform import RecordConformer
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


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_SDK_LOGGER = logging.getLogger("tests.perf.sdk_conformance")
_SDK_LOGGER.propagate = False
_SDK_WARNINGS = _Warnings()
_SDK_LOGGER.addHandler(_SDK_WARNINGS)
_CALLS = itertools.count()


def sdk_result(record: Any, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """The SDK's conformance of ``record``, through the function its streams call.

    singer-sdk has no public entry point for it: ``Stream`` calls
    ``helpers._typing.conform_record_data_types`` (the one without an underscore) with the
    stream's schema and conformance level, and only ``Stream.sync`` reaches it publicly,
    which needs a tap and turns records into JSON. The dropped properties come back only as
    the warning it logs (once per stream name, so each call gets a new one).
    """
    _SDK_WARNINGS.records.clear()
    conformed = conform_record_data_types(
        stream_name=f"edge-{next(_CALLS)}",
        record=convert_timestamps(record),
        schema=schema,
        level=TypeConformanceLevel.RECURSIVE,
        logger=_SDK_LOGGER,
    )
    unmapped = [list(w.args[0]) for w in _SDK_WARNINGS.records]  # type: ignore[index]
    assert len(unmapped) <= 1
    return conformed, unmapped[0] if unmapped else []


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (True == 1, 0.0 == 0 and 1.5 == Decimal("1.5") fail)."""
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


_OBJECT_OF = {"type": "object", "additionalProperties": False}

EDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "flag": {"type": ["boolean", "null"]},
        "strict_flag": {"type": "boolean"},
        "amount": {"type": ["number", "null"]},
        "created_at": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"]},
        "when": {"type": ["string", "null"], "format": "date-time"},
        "bits": {"anyOf": [{"type": "string"}, {"type": ["boolean", "null"]}]},
        "raw": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": ["boolean"]}},
        "seen_at": {"type": ["array", "null"], "items": {"type": "string"}},
        "lines": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "additionalProperties": True,
                "properties": {
                    "shipped_at": {"type": ["string", "null"]},
                    "qty": {"type": "number"},
                    "gift": {"type": ["null", "boolean"]},
                    "box": {**_OBJECT_OF, "properties": {"weight": {"type": "number"}}},
                    "parts": {
                        "type": "array",
                        "items": {
                            **_OBJECT_OF,
                            "properties": {
                                "sku": {"type": "string"},
                                "ok": {"type": "boolean"},
                                "cost": {"type": ["number", "null"]},
                            },
                        },
                    },
                },
            },
        },
        "grid": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        "choices": {
            "anyOf": [{"type": "array"}, {"type": "null"}],
            "items": {"type": ["number", "null"]},
        },
        "checks": {
            "allOf": [{"type": "array"}, {"type": ["array", "null"]}],
            "items": {"type": "boolean"},
        },
        "not_all": {
            "allOf": [{"type": "array"}, {"type": "null"}],
            "items": {"type": "boolean"},
        },
        "pair": {
            "type": "array",
            "items": {"type": "boolean"},
            "prefixItems": [{"type": "boolean"}],
        },
        "loose": {"type": "array", "items": {"type": "object"}},
        "maybe": {
            "anyOf": [{"type": "object"}, {"type": "null"}],
            "properties": {"a": {"type": "boolean"}},
        },
        "anything": {},
        "blob": {"type": ["object", "null"]},
        "address": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "street": {"type": "string"},
                "total": {"type": "number"},
                "default": {"type": ["boolean", "null"]},
                "geo": {
                    "type": "object",
                    "additionalProperties": True,
                    "properties": {"lat": {"type": "number"}},
                },
            },
        },
    },
}

_TS = "2026-01-02 03:04:05"
_NAN = float("nan")
_INF = float("inf")


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({}, id="empty"),
        # Boolean-only properties: null stays, floats and decimals are left alone (NaN and
        # infinity aside), anything else is ``!= 0``.
        {"flag": 1, "strict_flag": 0, "amount": _NAN, "note": "x"},
        {"flag": 0, "strict_flag": True, "amount": _INF, "created_at": _TS},
        {"flag": 2, "strict_flag": False, "amount": -_INF},
        {
            "flag": "yes",
            "strict_flag": "",
            "amount": Decimal("1.50"),
            "created_at": "0000-00-00 00:00:00",
        },
        {"flag": 0.0, "strict_flag": Decimal("0"), "amount": Decimal("NaN")},
        {"flag": _NAN, "strict_flag": Decimal("Infinity"), "amount": Decimal("-Infinity")},
        {"flag": {"a": 1}, "strict_flag": [], "note": {"nested_at": _TS}},
        {"note": ["list", "where", "a string", "was", "declared"], "flag": [1]},
        # Python values JSON lacks.
        {
            "when": datetime(2026, 1, 2, 3, 4, 5),  # noqa: DTZ001 (naive: the SDK means UTC)
            "note": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
            "raw": date(2026, 1, 2),
            "created_at": time(3, 4, 5, 250),
            "amount": timedelta(days=1, seconds=5),
            "flag": datetime(2026, 1, 2, tzinfo=UTC),
        },
        {"bits": b"\x00", "raw": b"\x01\xff", "flag": b"\x00", "note": b""},
        {"bits": b"\x02", "raw": b"\x00", "strict_flag": b"\x01"},
        # Unlisted properties, at the root and below (reported in the SDK's order).
        {"flag": None, "unknown": 5, "other_at": _TS},
        {"zzz": _NAN, "address": {"zip": "x", "street": "s"}, "aaa": 2},
        {
            "address": {
                "street": "s",
                "total": _NAN,
                "default": 0,
                "zip": "x",
                "geo": {"lat": _INF, "alt_at": _TS, "kept": _NAN, "deep": [{"x_at": _TS}]},
            }
        },
        {"address": "street"},
        {"address": None, "blob": None, "lines": None},
        # Arrays: elements conformed to ``items``; arrays in arrays, tuples kept.
        {"tags": [1, 0, True, False, None, "x", 0.0, _NAN, Decimal("Infinity"), [], {}]},
        {"seen_at": [_TS, "0000-00-00 00:00:00"]},
        {
            "lines": [
                {
                    "shipped_at": _TS,
                    "extra_at": "2026-01-02 03:04:06",
                    "qty": _NAN,
                    "gift": 1,
                    "unlisted_nan": _NAN,
                    "box": {"weight": Decimal("Infinity"), "color": "red"},
                    "parts": [
                        {"sku": "a", "ok": 0, "bin": 3, "cost": Decimal("NaN")},
                        {"sku": "b", "ok": "y", "cost": _INF},
                        None,
                        7,
                        [{"bin": 4}],
                    ],
                },
                {"free": [{"deep_at": "2026-01-02 03:04:07"}], "gift": "no"},
                {"box": {"weight": 1.5, "color": "blue"}, "parts": [{"sku": "c", "bin": 5}]},
                "not an object",
                None,
                [1, _NAN],
            ]
        },
        {"grid": [[_NAN, 1], [Decimal("NaN")], 3.0, _INF, {"a_at": _TS}]},
        {
            "choices": [1.5, _NAN, None, Decimal("-Infinity")],
            "checks": [1, 0, None],
            "not_all": [1, 0],
        },
        {"pair": [1, _NAN]},
        {"loose": [{}, None, 1.0, _NAN]},
        {"maybe": {"a": 1, "b": _NAN, "c_at": _TS}},
        {"anything": {"x": _NAN}, "blob": {"a_at": _TS, "b": [1, {"c_at": "bad"}]}},
        {"anything": _NAN},
        {"anything": "0000-00-00 00:00:00", "blob": _NAN},
    ],
)
def test_conformer_matches_the_sdk_on_edge_cases(record: dict[str, Any]) -> None:
    mine, unmapped = RecordConformer(EDGE_SCHEMA)(copy.deepcopy(record))
    theirs, their_unmapped = sdk_result(copy.deepcopy(record), EDGE_SCHEMA)
    assert same(mine, theirs)
    assert unmapped == their_unmapped


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ({"loose": [{"a_at": _TS, "b": _NAN}]}, KeyError),
        ({"anything": [_NAN, {"a_at": _TS}]}, EmptySchemaTypeError),
    ],
)
def test_conformer_keeps_what_the_sdk_cannot_conform(
    record: dict[str, Any], error: type[Exception]
) -> None:
    """The SDK raises on these; the conformer keeps the value (timestamps converted)."""
    with pytest.raises(error):
        sdk_result(copy.deepcopy(record), EDGE_SCHEMA)
    mine, unmapped = RecordConformer(EDGE_SCHEMA)(copy.deepcopy(record))
    assert same(mine, convert_timestamps(record))
    assert unmapped == []


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
    statuses = sorted({o["status"] for o in good})  # every order here is one to import
    target = TargetDropstream(
        config={
            "database_url": f"sqlite:///{db}",
            "store_url": "https://shop.example.test",
            "order_import_status": statuses,
        },
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

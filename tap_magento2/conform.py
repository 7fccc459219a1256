"""One pass per record: Magento timestamps to RFC 3339 and singer-sdk's type conformance.

singer-sdk conforms every record to the stream schema (drop properties the schema does not
allow, NaN/Infinity to null, non-boolean values of boolean-only properties to booleans),
re-reading the schema for each of the hundreds of values in an order. ``RecordConformer``
reads the schema once, into a tree of per-property rules, and applies the same rules in
the same walk that converts the timestamps, so the stream can turn the SDK's own pass off.
The result is the SDK's result (``tests/perf`` compares both on every sandbox order and on
generated records).
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from singer_sdk.helpers._typing import (
    _conform_primitive_property,
    _conform_record_data_types,
    _is_exclusive_boolean_type,
    is_object_type,
    is_uniform_list,
)
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_magento2.timestamps import _MAGENTO_TIMESTAMP, convert_timestamps, magento_to_rfc3339

_JSON_SCALARS = (str, int, type(None))
_SDK_CONVERTS = (
    datetime.datetime,
    datetime.date,
    datetime.timedelta,
    datetime.time,
    bytes,
)

#: Orders, their items and addresses share a handful of distinct timestamps.
_rfc3339 = lru_cache(maxsize=4096)(magento_to_rfc3339)


def _timestamp(key: str, value: Any) -> Any:
    """``convert_timestamps``'s rule for one value under ``key`` (scalars only)."""
    if key.endswith("_at") and isinstance(value, str) and _MAGENTO_TIMESTAMP.match(value):
        return _rfc3339(value)
    return value


def _primitive(value: Any, boolean_only: bool, schema: dict[str, Any]) -> Any:
    """singer-sdk's ``_conform_primitive_property`` for JSON values."""
    if isinstance(value, _SDK_CONVERTS):
        return _conform_primitive_property(value, schema)
    if isinstance(value, float | decimal.Decimal):
        return None if math.isnan(value) or math.isinf(value) else value
    if boolean_only:
        return None if value is None else value != 0
    return value


#: Values the SDK's conformance never changes unless their property is boolean-only.
_PLAIN = frozenset({str, int, bool, type(None), decimal.Decimal})


class _Node:
    """The rules of one object schema: what to do with each property."""

    __slots__ = ("additional", "fix", "known", "rules")

    def __init__(self, schema: dict[str, Any]) -> None:
        self.additional = bool(schema.get("additionalProperties"))
        props: dict[str, Any] = schema["properties"]
        self.rules: dict[str, Callable[[str, Any, list[str], str], Any]] = {
            name: _rule(prop) for name, prop in props.items()
        }
        self.known = frozenset(props)
        # Scalars under these keys may change (timestamps, boolean-only properties).
        self.fix = tuple(
            name
            for name, prop in props.items()
            if name.endswith("_at") or _is_exclusive_boolean_type(prop)
        )

    def apply(self, obj: dict[str, Any], unmapped: list[str], parent: str | None) -> dict:
        # Copy, then touch only what can change: scalars under timestamp or boolean-only
        # keys, containers (walked by their own rules) and keys the schema does not know.
        out = dict(obj)
        rules = self.rules
        for key in self.fix:
            if key in out and type(out[key]) in _PLAIN:
                out[key] = rules[key](key, out[key], unmapped, _path(parent, key))
        extra = obj.keys() - self.known
        for key in [k for k, v in obj.items() if type(v) not in _PLAIN]:
            if key not in extra:
                out[key] = rules[key](key, obj[key], unmapped, _path(parent, key))
        if extra:
            for key in [k for k in obj if k in extra]:
                value = obj[key]
                if not self.additional:
                    del out[key]
                    unmapped.append(_path(parent, key))
                elif isinstance(value, dict | list):
                    out[key] = convert_timestamps(value)
                else:
                    out[key] = _timestamp(key, value)
        return out


def _path(parent: str | None, key: str) -> str:
    return key if parent is None else f"{parent}.{key}"


def _rule(schema: dict[str, Any]) -> Callable[[str, Any, list[str], str], Any]:
    """The conformance of one property, decided once from its schema."""
    boolean_only = _is_exclusive_boolean_type(schema)
    as_list = is_uniform_list(schema)
    as_object = is_object_type(schema) and "properties" in schema
    node = _Node(schema) if as_object else None
    item_rule = _item_rule(schema["items"]) if as_list else None

    def rule(key: str, value: Any, unmapped: list[str], path: str) -> Any:
        if type(value) is str:
            value = _timestamp(key, value)
            return (None if value is None else True) if boolean_only else value
        if isinstance(value, list):
            if item_rule is not None:
                return [item_rule(key, item, unmapped, path) for item in value]
            return _primitive(convert_timestamps(value), boolean_only, schema)
        if isinstance(value, dict):
            if node is not None:
                return node.apply(value, unmapped, path)
            return _primitive(convert_timestamps(value), boolean_only, schema)
        return _primitive(value, boolean_only, schema)

    return rule


def _item_rule(schema: dict[str, Any]) -> Callable[[str, Any, list[str], str], Any]:
    """How one element of a uniform list is conformed (the list's key applies)."""
    boolean_only = _is_exclusive_boolean_type(schema)
    node = _Node(schema) if is_object_type(schema) and "properties" in schema else None
    object_items = is_object_type(schema)

    def rule(key: str, item: Any, unmapped: list[str], path: str) -> Any:
        if isinstance(item, dict) and object_items:
            if node is not None:
                return node.apply(item, unmapped, path)
            # The SDK conforms such an item against a schema without properties.
            return _conform_item_without_properties(item, schema, unmapped, path)
        if isinstance(item, dict | list):
            item = convert_timestamps(item)
        elif type(item) is str:
            item = _timestamp(key, item)
        return _primitive(item, boolean_only, schema)

    return rule


def _conform_item_without_properties(
    item: dict[str, Any], schema: dict[str, Any], unmapped: list[str], path: str
) -> dict[str, Any]:
    """An object item whose schema lists no properties: exactly what the SDK does."""
    out, sub = _conform_record_data_types(
        convert_timestamps(item), schema, TypeConformanceLevel.RECURSIVE, path
    )
    unmapped.extend(sub)
    return out


class RecordConformer:
    """Timestamps and type conformance of one stream's records, in one walk."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._node = _Node(schema)

    def __call__(self, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The converted, conformed record and the paths of properties it dropped."""
        unmapped: list[str] = []
        return self._node.apply(record, unmapped, None), unmapped

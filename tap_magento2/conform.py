"""One pass per record: Magento timestamps to RFC 3339 and singer-sdk's type conformance.

singer-sdk conforms every record to the stream schema before writing it, re-reading the
schema for each of the hundreds of values in an order. ``RecordConformer`` reads the schema
once, into a tree of per-property rules, and applies them in the same walk that converts
the timestamps, so the stream can turn the SDK's own pass off. The rules are the SDK's
(``TypeConformanceLevel.RECURSIVE``), written here so that no private SDK helper is needed:

* A property the object's schema does not list is dropped and reported as unmapped (its
  dotted path), unless the schema sets ``additionalProperties``; then it is kept unchanged.
* An object whose schema has ``type`` ``object`` and lists ``properties`` is conformed by
  these rules, recursively; an object without listed properties is kept unchanged.
* An array whose schema has ``type`` ``array`` (directly, in any ``anyOf`` option or in
  every ``allOf`` option) and one ``items`` schema has each element conformed to ``items``
  (objects as above, reported under the array's own path); other arrays are kept.
* NaN and infinite floats and decimals become null.
* Under a boolean-only property (``boolean`` or ``[boolean, null]``) any other value that
  is not null becomes a boolean: ``value != 0``, so 0 and False are false and everything
  else (strings, objects, arrays) is true. Floats and decimals are left alone.
* Python values JSON lacks: datetime to ISO 8601 with microseconds (naive means UTC), date
  and time to ISO 8601, timedelta to the moment that long after the Unix epoch, bytes to
  hex (or, if the schema allows ``boolean`` anywhere, to ``bytes != b"\\x00"``).

Where the SDK raises instead (an array under a property schema without ``type``; a
non-empty object in an array whose ``items`` is an object schema listing no properties),
the value is kept unchanged. ``tests/perf/test_equivalence.py`` compares the result with the
SDK's on every sandbox order and on edge cases for each rule.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from tap_magento2.timestamps import (
    _MAGENTO_TIMESTAMP,
    convert_timestamps,
    is_timestamp_key,
    magento_to_rfc3339,
)

#: Conforms one value; appends the paths of the properties it drops to the list.
Rule = Callable[[Any, list[str]], Any]

#: Types whose values no rule changes unless the key is a timestamp or boolean-only key
#: (finite decimals too, but ``_Object.apply`` tells those apart from the others).
_PLAIN = frozenset({str, int, bool, type(None)})
_ABSENT = object()

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


# What the SDK reads from a property's schema.


def _types(schema: dict[str, Any]) -> list[str]:
    """The type names of a schema's ``type`` keyword (none when it has no ``type``)."""
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _is_boolean_only(schema: dict[str, Any]) -> bool:
    types = _types(schema)
    return types == ["boolean"] or set(types) == {"boolean", "null"}


def _allows_boolean(schema: dict[str, Any]) -> bool:
    """``boolean`` is in ``type``, or in the ``type`` of one of the ``anyOf`` options."""
    options = schema.get("anyOf", [schema])
    return any(isinstance(o, dict) and "boolean" in _types(o) for o in options)


def _is_object(schema: dict[str, Any]) -> bool:
    """``object`` is in ``type`` (the SDK does not look into ``anyOf`` options for it)."""
    return "anyOf" not in schema and "object" in _types(schema)


def _is_array(schema: dict[str, Any]) -> bool:
    if "anyOf" in schema:
        return any(_is_array(option) for option in schema["anyOf"])
    if "allOf" in schema:
        return all(_is_array(option) for option in schema["allOf"])
    return "array" in _types(schema)


def _has_one_items_schema(schema: dict[str, Any]) -> bool:
    return (
        _is_array(schema) and isinstance(schema.get("items"), dict) and "prefixItems" not in schema
    )


# Values.


@lru_cache(maxsize=4096)  # orders, their items and addresses share a few timestamps
def _timestamp(value: str) -> str | None:
    """A string under a ``*_at`` key, in RFC 3339 if it is a Magento timestamp."""
    return magento_to_rfc3339(value) if _MAGENTO_TIMESTAMP.match(value) else value


def _scalar(value: Any, boolean_only: bool, allows_boolean: bool) -> Any:
    """A value that is not a string, object or array, as the SDK writes it."""
    if isinstance(value, float | Decimal):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime.datetime):
        moment = value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value
        return moment.isoformat(timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return (_EPOCH + value).isoformat()
    if isinstance(value, bytes):
        return value != b"\x00" if allows_boolean else value.hex()
    if boolean_only and value is not None:
        return value != 0
    return value


class _Compiled(NamedTuple):
    """A property schema read once: its rule, and the parts ``_Object.apply`` calls directly."""

    rule: Rule
    #: What ``rule`` does with an object: ``node.apply`` (an object schema listing properties).
    node: _Object | None
    #: What ``rule`` does with an array: each element by ``items.rule`` (one items schema).
    items: _Compiled | None

    def conform_elements(self, values: list[Any], unmapped: list[str]) -> list[Any]:
        """``rule`` of an array: each element by ``items``, objects straight to its node."""
        element = self.items
        assert element is not None
        node, rule = element.node, element.rule
        if node is None:
            return [rule(value, unmapped) for value in values]
        return [
            node.apply(value, unmapped) if type(value) is dict else rule(value, unmapped)
            for value in values
        ]


def _compile(schema: dict[str, Any], path: str, *, timestamps: bool, element: bool) -> _Compiled:
    """How a value under ``schema`` (at ``path``) is conformed, decided once.

    ``timestamps``: the value's key ends in ``_at``, so a Magento timestamp string there is
    converted. ``element``: the value is an array's element; the SDK walks objects there
    but not arrays, and ``convert_timestamps`` converts no string there.
    """
    boolean_only = _is_boolean_only(schema)
    allows_boolean = _allows_boolean(schema)
    node = _Object(schema, path) if _is_object(schema) and "properties" in schema else None
    items = None
    if not element and _has_one_items_schema(schema):
        items = _compile(schema["items"], path, timestamps=False, element=True)

    def conform(value: Any, unmapped: list[str]) -> Any:
        if isinstance(value, str):
            if timestamps:
                value = _timestamp(value)
        elif isinstance(value, dict):
            if node is not None:
                return node.apply(value, unmapped)
            value = convert_timestamps(value)
        elif isinstance(value, list):
            if compiled.items is not None:
                return compiled.conform_elements(value, unmapped)
            value = convert_timestamps(value)
        else:
            return _scalar(value, boolean_only, allows_boolean)
        return True if boolean_only and value is not None else value

    compiled = _Compiled(conform, node, items)
    return compiled


class _Object:
    """The rules of one object schema at one place in the record."""

    __slots__ = (
        "arrays",
        "keep_unlisted",
        "listed",
        "objects",
        "prefix",
        "rules",
        "stamps",
        "touch",
    )

    def __init__(self, schema: dict[str, Any], path: str | None) -> None:
        properties: dict[str, Any] = schema["properties"]
        #: Put before a key to give its path (the SDK's dotted path; none at the root).
        self.prefix = "" if path is None else f"{path}."
        self.keep_unlisted = bool(schema.get("additionalProperties"))
        self.listed = frozenset(properties)
        compiled = {
            name: _compile(
                prop, self.prefix + name, timestamps=is_timestamp_key(name), element=False
            )
            for name, prop in properties.items()
        }
        self.rules: dict[str, Rule] = {name: c.rule for name, c in compiled.items()}
        #: Shortcuts to what ``rules`` do with an object or an array under these keys.
        self.objects = {name: c.node for name, c in compiled.items() if c.node is not None}
        self.arrays = {name: c for name, c in compiled.items() if c.items is not None}
        #: Timestamp keys whose rule changes only strings (to ``_timestamp``), and the other
        #: keys whose strings, integers, booleans or nulls may change.
        self.stamps = tuple(
            name
            for name, prop in properties.items()
            if is_timestamp_key(name) and not _is_boolean_only(prop)
        )
        self.touch = tuple(
            (name, self.rules[name]) for name, prop in properties.items() if _is_boolean_only(prop)
        )

    def apply(self, obj: dict[str, Any], unmapped: list[str]) -> dict[str, Any]:
        all_listed = self.listed.issuperset(obj)
        if not all_listed and not self.keep_unlisted:
            return self._apply_in_order(obj, unmapped)
        # Copy, then rewrite only what can change: strings under the keys in ``stamps``;
        # plain values under the keys in ``touch``; objects, arrays, floats, NaN or infinite
        # decimals and values of other types under any key; unlisted keys.
        out = dict(obj)
        get = obj.get
        for key in self.stamps:
            value = get(key)
            if type(value) is str:
                out[key] = _timestamp(value)
        for key, rule in self.touch:
            value = get(key, _ABSENT)
            if type(value) in _PLAIN:
                out[key] = rule(value, unmapped)
        rules, objects, arrays = self.rules, self.objects, self.arrays
        for key, value in obj.items():
            kind = type(value)
            if kind in _PLAIN or (kind is Decimal and value.is_finite()):
                continue
            # What ``rules[key]`` would do, without its type checks for the common cases.
            if kind is dict and key in objects:
                out[key] = objects[key].apply(value, unmapped)
            elif kind is list and key in arrays:
                out[key] = arrays[key].conform_elements(value, unmapped)
            else:
                rule = rules.get(key)
                if rule is not None:
                    out[key] = rule(value, unmapped)
        if not all_listed:
            for key in obj.keys() - self.listed:
                out[key] = _unlisted(key, obj[key])
        return out

    def _apply_in_order(self, obj: dict[str, Any], unmapped: list[str]) -> dict[str, Any]:
        """Drop unlisted keys, key by key, so paths are reported in the SDK's order."""
        out = {}
        for key, value in obj.items():
            rule = self.rules.get(key)
            if rule is None:
                unmapped.append(self.prefix + key)
            else:
                out[key] = rule(value, unmapped)
        return out


def _unlisted(key: str, value: Any) -> Any:
    """A property the schema does not list but allows: kept, its timestamps converted."""
    if isinstance(value, str):
        return _timestamp(value) if is_timestamp_key(key) else value
    return convert_timestamps(value)


class RecordConformer:
    """Timestamps and type conformance of one stream's records, in one walk."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self._root = _Object(schema, None)

    def __call__(self, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The converted, conformed record and the paths of properties it dropped."""
        unmapped: list[str] = []
        return self._root.apply(record, unmapped), unmapped

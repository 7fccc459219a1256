"""A compiled yes/no check of records against a stream schema, for the common keywords.

``jsonschema`` re-enters its validator machinery for every value (hundreds per Magento
order), which made schema validation most of the target's CPU time. ``compile_check``
turns a schema that uses only ``type``, ``properties``, ``additionalProperties``,
``items`` (one schema), ``required`` and annotations (``format`` is not checked, as in the
target's jsonschema validator) into nested closures, once per stream. It answers only
"valid or not", with jsonschema's own type semantics; a record it finds invalid is then
given to jsonschema for the error message, so the rejection reason is unchanged. A schema
with any other keyword is not compiled (``None``) and jsonschema checks every record.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

from jsonschema import TypeChecker

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "format",
    }
)
_HANDLED = frozenset({"type", "properties", "additionalProperties", "items", "required"})
#: Python types every validator accepts for a JSON type, without asking the type checker.
_EXACT: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float, decimal.Decimal),
    "string": (str,),
    "object": (dict,),
    "array": (list,),
}


class UnsupportedSchemaError(Exception):
    """The schema uses a keyword this module does not compile."""


def compile_check(schema: Any, type_checker: TypeChecker) -> Check | None:
    """A function telling whether a record is valid against ``schema``, or None."""
    try:
        return _compile(schema, type_checker)
    except UnsupportedSchemaError:
        return None


def _compile(schema: Any, checker: TypeChecker) -> Check:
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise UnsupportedSchemaError
    unknown = schema.keys() - _HANDLED - _ANNOTATIONS
    if unknown:
        raise UnsupportedSchemaError
    checks: list[Check] = []
    if "type" in schema:
        checks.append(_type_check(schema["type"], checker))
    object_check = _object_check(schema, checker)
    if object_check is not None:
        checks.append(object_check)
    if "items" in schema:
        item = _compile(schema["items"], checker)

        def items_ok(value: Any) -> bool:
            return not isinstance(value, list) or all(item(element) for element in value)

        checks.append(items_ok)
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    first, *rest = checks
    if len(rest) == 1:
        second = rest[0]

        def both_ok(value: Any) -> bool:
            return first(value) and second(value)

        return both_ok

    def all_ok(value: Any) -> bool:
        return all(check(value) for check in checks)

    return all_ok


def _type_names(types: Any) -> list[str]:
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or not all(name in _EXACT for name in names):
        raise UnsupportedSchemaError
    return names


def _exact(names: list[str]) -> frozenset[type]:
    return frozenset(kind for name in names for kind in _EXACT[name])


def _type_check(types: Any, checker: TypeChecker) -> Check:
    names = _type_names(types)
    exact = _exact(names)

    def type_ok(value: Any) -> bool:
        if type(value) in exact:
            return True
        return any(checker.is_type(value, name) for name in names)

    return type_ok


def _only_type(schema: Any) -> bool:
    """A schema that declares a non-empty type and nothing else to check."""
    return (
        isinstance(schema, dict)
        and bool(schema.get("type"))
        and not (schema.keys() - {"type"} - _ANNOTATIONS)
    )


def _object_check(schema: dict[str, Any], checker: TypeChecker) -> Check | None:
    props = schema.get("properties", {})
    additional = schema.get("additionalProperties", True)
    required = schema.get("required", [])
    if not isinstance(props, dict) or not isinstance(required, list):
        raise UnsupportedSchemaError
    if not props and additional is True and not required:
        return None
    # Properties that only declare a type are checked inline (most of an order's values).
    plain = {
        name: _exact(_type_names(sub["type"])) for name, sub in props.items() if _only_type(sub)
    }
    names = {name: _type_names(props[name]["type"]) for name in plain}
    rules = {name: _compile(sub, checker) for name, sub in props.items() if name not in plain}
    extra = None if additional is True else _compile(additional, checker)
    needed = tuple(required)
    no_types: frozenset[type] = frozenset()

    def object_ok(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key in needed:
            if key not in value:
                return False
        for key, item in value.items():
            exact = plain.get(key, no_types)
            if type(item) in exact:
                continue
            if exact:
                if not any(checker.is_type(item, name) for name in names[key]):
                    return False
                continue
            rule = rules.get(key)
            if rule is None:
                if extra is not None and not extra(item):
                    return False
            elif rule is not _always and not rule(item):
                return False
        return True

    return object_ok


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False

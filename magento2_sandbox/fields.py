"""The ``fields`` partial-response filter, applied to the finished response like Magento's
FieldsFilter.
"""

from __future__ import annotations

from typing import Any

FieldSpec = dict[str, "FieldSpec | None"]


def parse_fields(text: str) -> FieldSpec | None:
    """Parse ``items[entity_id,increment_id],total_count`` (nestable); None if malformed."""
    stack: list[FieldSpec] = [{}]
    name = ""
    last: str | None = None
    for ch in text:
        if ch == ",":
            if name:
                stack[-1][name.strip()] = None
                last = name.strip()
            name = ""
        elif ch == "[":
            key = name.strip()
            if not key:
                return None
            child: FieldSpec = {}
            stack[-1][key] = child
            stack.append(child)
            name = ""
        elif ch == "]":
            if len(stack) == 1:
                return None
            if name.strip():
                stack[-1][name.strip()] = None
            name = ""
            stack.pop()
        else:
            name += ch
    if len(stack) != 1:
        return None
    if name.strip():
        stack[-1][name.strip()] = None
    del last
    return stack[0] or None


def apply_fields(data: Any, spec: FieldSpec) -> Any:
    """Keep only the named keys (recursively); lists are filtered element by element."""
    if isinstance(data, list):
        return [apply_fields(item, spec) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in spec:
            continue
        sub = spec[key]
        out[key] = value if sub is None else apply_fields(value, sub)
    return out

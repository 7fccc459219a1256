"""The orders schema types every field Magento sends and accepts fields it does not know."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import jsonschema
import pytest

from tap_magento2 import schemas
from tap_magento2.timestamps import convert_timestamps


def load(name: str) -> dict[str, Any]:
    return json.loads(files(schemas).joinpath(f"{name}.json").read_text())


def undeclared(value: Any, schema: dict[str, Any], path: str = "") -> set[str]:
    """Paths of keys in ``value`` that the schema does not declare."""
    found: set[str] = set()
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key not in schema["properties"]:
                found.add(f"{path}.{key}")
            else:
                found |= undeclared(item, schema["properties"][key], f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            found |= undeclared(item, schema["items"], f"{path}[]")
    return found


def nullable_everywhere(schema: dict[str, Any], path: str = "") -> list[str]:
    """Paths of fields that do not allow null (primary keys excepted)."""
    problems = []
    for key, sub in schema.get("properties", {}).items():
        if "null" not in sub.get("type", []) and path + key not in {"entity_id", "id"}:
            problems.append(path + key)
        problems += nullable_everywhere(sub, f"{path}{key}.")
        if "items" in sub:
            problems += nullable_everywhere(sub["items"], f"{path}{key}[].")
    return problems


@pytest.fixture(scope="module")
def seeded_orders() -> list[dict[str, Any]]:
    from magento2_sandbox import MagentoSandbox

    sandbox = MagentoSandbox(order_count=300, seed=1, now=datetime(2026, 1, 15, tzinfo=UTC))
    return [convert_timestamps(order) for order in sandbox.data.orders.values()]


def test_every_seeded_order_validates_and_every_field_is_typed(
    seeded_orders: list[dict[str, Any]],
) -> None:
    schema = load("orders")
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for order in seeded_orders:
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(order)]
        assert not errors, errors[:5]
        assert not undeclared(order, schema), undeclared(order, schema)


def test_required_nested_shapes_are_declared() -> None:
    props = load("orders")["properties"]
    item = props["items"]["items"]["properties"]
    assert {"parent_item", "product_option", "parent_item_id", "product_type", "sku"} <= set(item)
    assert (
        "configurable_item_options"
        in item["product_option"]["properties"]["extension_attributes"]["properties"]
    )
    assignment = props["extension_attributes"]["properties"]["shipping_assignments"]["items"]
    shipping = assignment["properties"]["shipping"]["properties"]
    assert {"address", "method"} <= set(shipping)
    assert props["updated_at"]["format"] == "date-time"
    assert props["status_histories"]["items"]["properties"]["created_at"]["format"] == "date-time"
    assert {"billing_address", "payment"} <= set(props)


def test_every_field_is_nullable_except_the_keys() -> None:
    assert nullable_everywhere(load("orders")) == []
    assert nullable_everywhere(load("store_views")) == []


def test_unknown_keys_are_allowed_at_every_level() -> None:
    schema = load("orders")
    order = {
        "entity_id": 1,
        "some_extension_field": {"x": 1},
        "items": [{"item_id": 5, "vendor_flag": True}],
        "extension_attributes": {"gift_cards": [{"id": 3}]},
    }
    jsonschema.validate(order, schema)

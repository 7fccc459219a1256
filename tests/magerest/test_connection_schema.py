"""The connection settings are described once and both plugins publish that description."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from singer_sdk.exceptions import ConfigValidationError

from magerest.connection_schema import CONNECTION_PROPERTIES, with_connection_settings
from tap_magento2.tap import TapMagento2
from target_dropstream.target import TargetDropstream

PLUGINS = [TapMagento2, TargetDropstream]


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_each_plugin_publishes_the_shared_connection_settings_word_for_word(plugin: type) -> None:
    published = plugin.config_jsonschema["properties"]
    for name, spec in CONNECTION_PROPERTIES.items():
        assert published[name] == spec, name


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_each_plugins_published_settings_are_valid_json_schema(plugin: type) -> None:
    schema = copy.deepcopy(plugin.config_jsonschema)
    plugin.append_builtin_config(schema)  # singer-sdk's own settings, as --about shows them
    jsonschema.Draft7Validator.check_schema(schema)
    # A bare "null" inside anyOf is not a schema, but check_schema lets it pass; the
    # SDK's validator then crashes on a wrong value (AttributeError on str.get).
    assert bare_nulls(schema) == []


def bare_nulls(schema: Any, path: str = "") -> list[str]:
    """Where a bare ``"null"`` stands inside an ``anyOf``/``oneOf``."""
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("anyOf", "oneOf") and "null" in value:
                found.append(f"{path}/{key}")
            found += bare_nulls(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, part in enumerate(schema):
            found += bare_nulls(part, f"{path}/{index}")
    return found


WRONG_VALUES = [
    ({"order_import_status": 5}, "order_import_status"),
    ({"stream_maps": {"orders": {"__else__": 5}}}, "stream_maps"),
]


@pytest.mark.parametrize(("wrong", "named"), WRONG_VALUES)
def test_a_wrong_value_is_named_by_the_target(wrong: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TargetDropstream(config={"database_url": "sqlite://", **wrong})
    assert named in " ".join(caught.value.errors)


@pytest.mark.parametrize(("wrong", "named"), WRONG_VALUES[:1])
def test_a_wrong_value_is_named_by_the_tap(wrong: dict[str, Any], named: str) -> None:
    config = {"store_url": "https://shop.example.com", "access_token": "t", **wrong}
    with pytest.raises(ConfigValidationError) as caught:
        TapMagento2(config=config, parse_env_config=False)
    assert named in str(caught.value) + " ".join(caught.value.errors)


def test_a_null_status_list_means_the_default() -> None:
    target = TargetDropstream(config={"database_url": "sqlite://", "order_import_status": None})
    assert target.settings.import_statuses == ("processing",)


def test_only_the_tap_requires_a_store_to_run() -> None:
    assert set(TapMagento2.config_jsonschema["required"]) == {"store_url", "access_token"}
    assert not TargetDropstream.config_jsonschema.get("required")


def test_a_plugin_cannot_redescribe_a_shared_setting() -> None:
    own = {"type": "object", "properties": {"store_url": {"type": "string"}}}
    with pytest.raises(ValueError, match="store_url"):
        with_connection_settings(own)


def test_required_names_must_be_connection_settings() -> None:
    with pytest.raises(ValueError, match="database_url"):
        with_connection_settings({"properties": {}}, required=["database_url"])


def test_extending_leaves_the_shared_fragment_untouched() -> None:
    schema = with_connection_settings({"properties": {}}, required=["store_url"])
    schema["properties"]["store_url"]["description"] = "changed"
    assert CONNECTION_PROPERTIES["store_url"]["description"] != "changed"

"""The connection settings are described once and both plugins publish that description."""

from __future__ import annotations

import jsonschema
import pytest

from magerest.connection_schema import CONNECTION_PROPERTIES, with_connection_settings
from scripts.readme_settings import builtin_settings
from tap_magento2.tap import TapMagento2
from target_dropstream.target import TargetDropstream

PLUGINS = [TapMagento2, TargetDropstream]


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_each_plugin_publishes_the_shared_connection_settings_word_for_word(plugin: type) -> None:
    published = plugin.config_jsonschema["properties"]
    for name, spec in CONNECTION_PROPERTIES.items():
        assert published[name] == spec, name


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_each_plugins_own_settings_are_valid_json_schema(plugin: type) -> None:
    builtin = builtin_settings(plugin)  # singer-sdk's own (stream maps, ...) are its business
    own = {
        name: spec
        for name, spec in plugin.config_jsonschema["properties"].items()
        if name not in builtin
    }
    jsonschema.Draft7Validator.check_schema({"type": "object", "properties": own})
    for name, spec in own.items():
        # A bare "null" inside anyOf is not a schema: the SDK's validator crashes on a
        # wrong value there (AttributeError on str.get) instead of naming the setting.
        assert "null" not in spec.get("anyOf", []), name


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

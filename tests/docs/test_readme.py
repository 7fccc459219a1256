"""README.md stays true: its settings tables are the plugins' own config schemas."""

from __future__ import annotations

from scripts.readme_settings import BLOCK, PLUGINS, README, render


def test_readme_has_a_settings_table_for_each_plugin_and_a_streams_table() -> None:
    blocks = {
        (match.group("name"), match.group("kind"))
        for match in BLOCK.finditer(README.read_text(encoding="utf-8"))
    }
    assert blocks == {(name, "settings") for name in PLUGINS} | {("tap-magento2", "streams")}


def test_readme_settings_tables_match_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    assert render(text) == text, "README.md settings tables drifted: run `make readme`"


def test_readme_names_the_two_commands_and_the_bearer_setting() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text
    assert "Allow OAuth Access Tokens to be used as standalone Bearer tokens" in text


def test_tables_ignore_the_sdk_settings_added_once_a_plugin_runs() -> None:
    # The SDK appends its built-in settings to config_jsonschema when a plugin is used;
    # the README documents only the plugins' own (a test order used to change the result).
    for plugin in PLUGINS.values():
        plugin.append_builtin_config(plugin.config_jsonschema)
    text = README.read_text(encoding="utf-8")
    assert render(text) == text
    assert "stream_maps" not in text.split("BEGIN GENERATED")[1].split("END GENERATED")[0]

"""Regenerate README.md's settings tables and streams table from the plugins' own code.

Settings come from the config schemas, streams from the tap's discovered streams.
`python -m scripts.readme_settings` rewrites the tables between the GENERATED markers;
`--check` exits 1 when README.md is out of date (tests/docs runs the same comparison).
SDK built-in settings (stream maps, flattening, batch, ...) are left to `--about`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from tap_magento2.tap import TapMagento2
from target_dropstream.target import TargetDropstream

README = Path(__file__).resolve().parent.parent / "README.md"
PLUGINS = {"tap-magento2": TapMagento2, "target-dropstream": TargetDropstream}
BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[\w-]+) (?P<kind>settings|streams) -->\n)(?P<body>.*?)"
    r"(<!-- END GENERATED: (?P=name) (?P=kind) -->)",
    re.DOTALL,
)


def _default(spec: dict[str, Any]) -> str:
    if "default" not in spec or spec["default"] is None:
        return ""
    value = spec["default"]
    return f"`{json.dumps(value) if not isinstance(value, str) else value}`"


def builtin_settings(plugin: type[Any]) -> set[str]:
    """Names the SDK adds to every plugin with these capabilities (documented by --about).

    The SDK appends them to ``config_jsonschema`` itself once a plugin is used, so they are
    told apart by what it would add to an empty schema.
    """
    empty: dict[str, Any] = {"properties": {}}
    plugin.append_builtin_config(empty)
    return set(empty["properties"])


def settings_table(plugin: type[Any]) -> str:
    """A markdown table of the plugin's own settings, in declaration order."""
    schema = plugin.config_jsonschema
    required = set(schema.get("required", []))
    builtin = builtin_settings(plugin)
    rows = [
        "| Setting | Required | Default | Secret | Description |",
        "|:--|:--:|:--|:--:|:--|",
    ]
    for name, spec in schema["properties"].items():
        if name in builtin:
            continue
        description = " ".join(str(spec.get("description", "")).split()).replace("|", "\\|")
        rows.append(
            f"| `{name}` | {'yes' if name in required else ''} | {_default(spec)} | "
            f"{'yes' if spec.get('secret') else ''} | {description} |"
        )
    return "\n".join(rows) + "\n"


def streams_table(plugin: type[Any]) -> str:
    """A markdown table of the tap's streams: endpoint, key, replication, what it holds."""
    tap = plugin(
        config={"store_url": "https://store.example.com", "access_token": "-"},
        parse_env_config=False,
        validate_config=False,
    )
    rows = [
        "| Stream | Endpoint | Key | Replication | Notes |",
        "|:--|:--|:--|:--|:--|",
    ]
    for name, stream in sorted(tap.streams.items()):
        path = getattr(stream, "path", None)
        parent = getattr(stream, "parent_stream_type", None)
        endpoint = f"`GET {path}`" if path else f"from the `{parent.name}` pages"
        if stream.replication_key:
            replication = f"incremental on `{stream.replication_key}`"
        elif parent is not None:
            replication = f"with `{parent.name}`"
        else:
            replication = "full table"
        doc = (type(stream).__doc__ or "").strip().splitlines()[0]
        note = re.sub(r"^``[^`]*``:\s*", "", doc)
        key = ", ".join(f"`{k}`" for k in stream.primary_keys or ())
        rows.append(f"| `{name}` | {endpoint} | {key} | {replication} | {note} |")
    return "\n".join(rows) + "\n"


def render(text: str) -> str:
    """README text with every generated block replaced by the current table."""

    def replace(match: re.Match[str]) -> str:
        plugin = PLUGINS[match.group("name")]
        table = (
            settings_table(plugin) if match.group("kind") == "settings" else streams_table(plugin)
        )
        return f"{match.group(1)}{table}{match.group(5)}"

    return BLOCK.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if wanted == current:
        return 0
    if args.check:
        sys.stderr.write("README.md settings tables are out of date: run `make readme`\n")
        return 1
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Write the Meltano plugin definition files in plugins/ from the plugins' own code.

``meltano add tap-magento2 --from-ref plugins/extractors/tap-magento2.yml`` reads them, so
other people's Meltano projects get every setting with its kind, default and secrecy. They
are generated so they cannot drift: settings come from the config schemas (the SDK's built-in
ones included, as ``--about`` lists them), capabilities from the plugins (those Meltano knows),
the loader's commands from the ``dropstream`` CLI. A setting added to a schema appears here
without an edit; the tables below only hold labels a name cannot give.

``python -m scripts.plugin_definitions`` rewrites the files; ``--check`` exits 1 when they are
out of date (tests/packaging runs the same comparison); `make definitions` runs it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from tap_magento2.tap import TapMagento2
from target_dropstream.cli import main as dropstream_cli
from target_dropstream.target import TargetDropstream

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "plugins"
#: Where Meltano installs the plugins from: a git URL (optionally ``@<tag>``) or a ``file://``
#: path of a clone. Meltano expands it in ``pip_url`` at install time.
SOURCE_VARIABLE = "DROPSTREAM_SOURCE"
#: The selection the fulfillment pipeline needs (other streams need more ACL resources).
EXTRACTOR_SELECT = ["orders.*"]

#: What Meltano 4.4's meltano.yml schema accepts as capabilities (tests/packaging checks it).
MELTANO_CAPABILITIES = {
    "extractors": {
        "about", "activate-version", "batch", "catalog", "discover", "log-based", "properties",
        "schema-flattening", "state", "stream-maps", "structured-logging", "test",
    },
    "loaders": {
        "about", "activate-version", "batch", "datatype-failsafe", "hard-delete",
        "schema-flattening", "soft-delete", "stream-maps", "structured-logging",
    },
}  # fmt: skip

#: Labels a setting's name does not give (the rest: its words, acronyms upper-cased).
LABELS = {
    "consumer_key": "OAuth Consumer Key",
    "consumer_secret": "OAuth Consumer Secret",
    "access_token_secret": "OAuth Access Token Secret",
    "delay_minutes": "Delay Orders Imported By (minutes)",
    "use_compact_shipment": "Use Compact Shipment Ship Notification",
    "recheck_interval_minutes": "Re-check Interval (minutes)",
    "recheck_page_size": "Re-check Page Size",
    "ship_lookup_delay_seconds": "Ship Look-up Delay (seconds)",
    "flattening_enabled": "Enable Schema Flattening",
    "flattening_max_depth": "Max Flattening Depth",
    "flattening_max_key_length": "Max Flattened Key Length",
}
ACRONYMS = {"url": "URL", "http": "HTTP", "ca": "CA", "id": "ID", "oauth": "OAuth"}

#: JSON schema type -> Meltano setting kind, most specific first.
KIND_OF_TYPE = (
    ("array", "array"),
    ("object", "object"),
    ("boolean", "boolean"),
    ("integer", "integer"),
    ("number", "decimal"),
    ("string", "string"),
)


def label(name: str) -> str:
    """The label Meltano shows for a setting."""
    if name in LABELS:
        return LABELS[name]
    return " ".join(ACRONYMS.get(word, word.capitalize()) for word in name.split("_"))


def kind(spec: dict[str, Any]) -> str:
    """The Meltano kind that holds every value the JSON schema accepts."""
    if "enum" in spec:
        return "options"
    if spec.get("format") == "date-time":
        return "date_iso8601"
    declared = spec.get("type", "string")
    types = {declared} if isinstance(declared, str) else set(declared)
    return next((kind for json_type, kind in KIND_OF_TYPE if json_type in types), "string")


def setting(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """One Meltano setting definition from one JSON-schema property."""
    entry: dict[str, Any] = {"name": name, "label": label(name), "kind": kind(spec)}
    default = spec.get("default")
    if entry["kind"] == "array" and isinstance(default, str):
        default = [status for status in default.split(",") if status]  # "a,b" means [a, b]
    if default is not None:
        entry["value"] = default
    if entry["kind"] == "options":
        entry["options"] = [
            {"label": str(value).replace("-", " ").capitalize(), "value": value}
            for value in spec["enum"]
        ]
    if spec.get("secret"):
        entry["sensitive"] = True
    entry["description"] = " ".join(str(spec.get("description") or spec["title"]).split())
    return entry


def all_settings(plugin: type[Any]) -> dict[str, Any]:
    """The plugin's config schema with the SDK's built-in settings, as ``--about`` shows it."""
    schema = copy.deepcopy(plugin.config_jsonschema)
    plugin.append_builtin_config(schema)
    return json.loads(json.dumps(schema))  # plain values: the SDK's enums are str subclasses


def capabilities(plugin: type[Any]) -> set[str]:
    """What the plugin reports in ``--about`` (the SDK's enum members, as plain names)."""
    return {str(getattr(capability, "value", capability)) for capability in plugin.capabilities}


def commands(group: click.Group, executable: str) -> dict[str, Any]:
    """Meltano commands running each subcommand of a click CLI, described by its help."""
    found = {}
    for name, command in sorted(group.commands.items()):
        summary = (command.help or "").split("\n\n")[0]
        found[name] = {
            "executable": executable,
            "args": name,
            "description": " ".join(summary.split()),
        }
    return found


def definition(plugin_type: str, plugin: type[Any], **fields: Any) -> dict[str, Any]:
    """A MeltanoHub-style plugin definition of ``plugin``."""
    schema = all_settings(plugin)
    name = plugin.name
    doc: dict[str, Any] = {
        "name": name,
        "namespace": name.replace("-", "_"),
        "label": fields.pop("label"),
        "description": fields.pop("description"),
        "pip_url": f"git+${{{SOURCE_VARIABLE}}}#subdirectory=packaging/{name}",
        "executable": name,
        "capabilities": sorted(capabilities(plugin) & MELTANO_CAPABILITIES[plugin_type]),
    }
    required = list(schema.get("required", []))
    if required:
        doc["settings_group_validation"] = [required]
    doc["settings"] = [setting(key, spec) for key, spec in schema["properties"].items()]
    doc.update(fields)
    return doc


def definitions() -> dict[Path, dict[str, Any]]:
    """Each definition file, by path, with its content."""
    return {
        DEFINITIONS / "extractors" / "tap-magento2.yml": definition(
            "extractors",
            TapMagento2,
            label="Magento 2",
            description="Magento 2 orders (and order items, shipments, invoices, credit memos, "
            "products, customers, stock, store views) from the REST API, incremental on "
            "updated_at",
            select=EXTRACTOR_SELECT,
        ),
        DEFINITIONS / "loaders" / "target-dropstream.yml": definition(
            "loaders",
            TargetDropstream,
            label="DropStream fulfillment store",
            description="Paid Magento orders into a fulfillment store; tracking numbers back "
            "to Magento",
            commands=commands(dropstream_cli, "dropstream"),
        ),
    }


def header(doc: dict[str, Any], path: Path) -> str:
    """The comment on top of a file: how to use it, and that it is generated."""
    lines = [
        f"# Meltano plugin definition of {doc['name']}, generated from the plugin's own code by",
        "# `python -m scripts.plugin_definitions`: edit the code, not this file. README.md,",
        '# "Add to your Meltano project", explains each step:',
        "#",
        f"#   export {SOURCE_VARIABLE}=https://<host>/<owner>/magento2-dropstream.git@v<version>",
        f"#   meltano add {doc['name']} --from-ref {path.relative_to(ROOT).as_posix()}",
    ]
    if "select" in doc:
        lines.append(
            f"#   meltano select {doc['name']} orders '*'    # `--from-ref` drops `select`"
        )
    return "\n".join(lines) + "\n"


def render(doc: dict[str, Any], path: Path) -> str:
    body = yaml.safe_dump(doc, sort_keys=False, width=100, allow_unicode=True)
    return header(doc, path) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift")
    args = parser.parse_args(argv)
    stale = []
    for path, doc in definitions().items():
        wanted = render(doc, path)
        if path.exists() and path.read_text(encoding="utf-8") == wanted:
            continue
        stale.append(path.relative_to(ROOT).as_posix())
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted, encoding="utf-8")
    if stale and args.check:
        sys.stderr.write(
            f"out of date: {', '.join(stale)}: run `python -m scripts.plugin_definitions`\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

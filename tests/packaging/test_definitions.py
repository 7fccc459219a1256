"""plugins/*.yml, meltano.yml and the README tell the same story about the two plugins.

The definition files are generated from the plugins' code (``scripts/plugin_definitions.py``);
meltano.yml is written by hand for this repository's own project, and the README's
"Add to your Meltano project" section tells other projects how to use the files.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import plugin_definitions
from scripts.readme_settings import BLOCK, PLUGINS, README, builtin_settings
from tests.meltano.meltano_project import REPO_ROOT

PLUGIN_TYPES = {"tap-magento2": "extractors", "target-dropstream": "loaders"}
README_SECTION = "## Add to your Meltano project"


def definition_path(name: str) -> Path:
    return REPO_ROOT / "plugins" / PLUGIN_TYPES[name] / f"{name}.yml"


def definition(name: str) -> dict[str, Any]:
    return yaml.safe_load(definition_path(name).read_text(encoding="utf-8"))


def project_plugin(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))
    (found,) = [p for p in doc["plugins"][PLUGIN_TYPES[name]] if p["name"] == name]
    return found


def readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{README_SECTION}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def by_name(settings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in settings}


def test_definition_files_are_generated_from_the_code() -> None:
    for path, doc in plugin_definitions.definitions().items():
        assert path.read_text(encoding="utf-8") == plugin_definitions.render(doc, path), (
            f"{path.name} is out of date: run `python -m scripts.plugin_definitions`"
        )


@pytest.mark.parametrize("name", sorted(PLUGIN_TYPES))
def test_meltano_yml_declares_what_the_definition_declares(name: str) -> None:
    ours, theirs = project_plugin(name), definition(name)
    for key in ("namespace", "executable", "label"):
        assert ours[key] == theirs[key], key
    assert set(ours["capabilities"]) == set(theirs["capabilities"])
    assert ours.get("settings_group_validation") == theirs.get("settings_group_validation")
    mine, defined = by_name(ours["settings"]), by_name(theirs["settings"])
    assert sorted(mine) == sorted(defined), "meltano.yml and the definition list other settings"
    problems = [
        f"{setting} {field}: meltano.yml {mine[setting].get(field)!r}, "
        f"definition {defined[setting].get(field)!r}"
        for setting in defined
        for field in ("kind", "value", "sensitive", "options")
        if mine[setting].get(field) != defined[setting].get(field)
    ]
    assert not problems, "\n".join(problems)
    assert ours.get("select") == theirs.get("select")
    assert set(ours.get("commands", {})) == set(theirs.get("commands", {}))


def test_status_settings_are_arrays_and_the_fulfillment_selection_is_orders() -> None:
    tap, target = by_name(definition("tap-magento2")["settings"]), definition("target-dropstream")
    assert tap["order_import_status"]["kind"] == "array"
    assert tap["order_follow_status"]["kind"] == "array"
    assert by_name(target["settings"])["order_import_status"]["kind"] == "array"
    assert definition("tap-magento2")["select"] == ["orders.*"]
    kinds = {s["kind"] for name in PLUGIN_TYPES for s in definition(name)["settings"]}
    assert not kinds & {"password", "hidden"}, "deprecated kinds: use string + sensitive: true"


def test_readme_commands_use_the_definition_files() -> None:
    section = readme_section()
    for name in PLUGIN_TYPES:
        relative = definition_path(name).relative_to(REPO_ROOT).as_posix()
        assert f"meltano add {name} --from-ref <clone>/{relative}" in section
        pip_url = definition(name)["pip_url"]
        assert pip_url == f"git+${{DROPSTREAM_SOURCE}}#subdirectory=packaging/{name}"
        assert (REPO_ROOT / "packaging" / name / "pyproject.toml").is_file()
    assert "git+${DROPSTREAM_SOURCE}#subdirectory=packaging/<plugin>" in section
    assert "export DROPSTREAM_SOURCE=" in section
    (pattern,) = definition("tap-magento2")["select"]
    stream, props = pattern.split(".")
    assert f"meltano select tap-magento2 {stream} '{props}'" in section
    assert "meltano run tap-magento2 target-dropstream" in section
    assert "--custom" in section


def test_readme_names_settings_the_definitions_have() -> None:
    what_to_set = readme_section().split("- **What to set**", 1)[1].split("\n- **", 1)[0]
    named = set(re.findall(r"`([a-z]+(?:_[a-z]+)+)`", what_to_set))
    defined = {s["name"] for name in PLUGIN_TYPES for s in definition(name)["settings"]}
    assert named >= {"store_url", "consumer_key", "access_token_secret", "database_url"}
    assert named <= defined, named - defined


def test_readme_settings_tables_list_the_definitions_settings() -> None:
    """The generated README tables hold each plugin's own settings; the files add the SDK's."""
    for match in BLOCK.finditer(README.read_text(encoding="utf-8")):
        if match.group("kind") != "settings":
            continue
        name = match.group("name")
        in_table = set(re.findall(r"^\| `(\w+)` \|", match.group("body"), flags=re.MULTILINE))
        defined = {s["name"] for s in definition(name)["settings"]}
        assert in_table == defined - builtin_settings(PLUGINS[name])


def meltano_schema_check(meltano_python: Path, document: dict[str, Any]) -> str:
    """Errors of ``document`` against Meltano's own meltano.yml JSON schema ("" when none)."""
    script = """
import json, sys, jsonschema
from importlib.resources import files
schema = json.loads(files("meltano").joinpath("schemas/meltano.schema.json").read_text())
doc = json.loads(sys.stdin.read())
errors = [f"{list(e.path)}: {e.message}" for e in
          jsonschema.Draft202012Validator(schema).iter_errors(doc)]
print("\\n".join(errors[:20]))
"""
    result = subprocess.run(
        [str(meltano_python), "-c", script],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def test_definitions_are_valid_meltano_plugins(meltano_executable: Path) -> None:
    python = meltano_executable.parent / "python"
    plugins = {kind: [definition(name)] for name, kind in PLUGIN_TYPES.items()}
    assert meltano_schema_check(python, {"plugins": plugins}) == ""


def test_capabilities_table_is_meltanos(meltano_executable: Path) -> None:
    script = """
import json
from importlib.resources import files
schema = json.loads(files("meltano").joinpath("schemas/meltano.schema.json").read_text())
known = {}
for kind in ("extractors", "loaders"):
    for part in schema["$defs"]["plugins"][kind]["allOf"]:
        caps = part.get("properties", {}).get("capabilities")
        if caps:
            known[kind] = sorted(caps["items"]["enum"])
print(json.dumps(known))
"""
    result = subprocess.run(
        [str(meltano_executable.parent / "python"), "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    known = json.loads(result.stdout)
    assert {k: set(v) for k, v in known.items()} == plugin_definitions.MELTANO_CAPABILITIES

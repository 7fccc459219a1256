"""meltano.yml says what the plugins really are: settings, capabilities, commands, environments.

A setting renamed in a plugin, a default changed, a secret not marked sensitive, a new
``dropstream`` command without a Meltano command: each of these fails here first.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.__main__ import build_parser
from scripts import demo
from tests.conftest import oauth_keys
from tests.meltano.meltano_project import REPO_ROOT, MeltanoProject

BIN = Path(sys.executable).parent
PLUGINS = {"extractors": "tap-magento2", "loaders": "target-dropstream"}
# JSON schema type -> the Meltano setting kinds that can carry it.
KINDS_FOR_TYPE = {
    "string": {"string", "options", "date_iso8601", "email", "file"},
    "integer": {"integer"},
    "number": {"decimal", "integer"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
}


def meltano_yml() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))


def plugin(plugin_type: str, name: str) -> dict[str, Any]:
    (found,) = [p for p in meltano_yml()["plugins"][plugin_type] if p["name"] == name]
    return found


def about(executable: str) -> dict[str, Any]:
    result = subprocess.run(
        [str(BIN / executable), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout)


def json_types(prop: dict[str, Any]) -> set[str]:
    """The non-null JSON types a property accepts (anyOf/oneOf flattened)."""
    types: set[str] = set()
    declared = prop.get("type")
    if isinstance(declared, str):
        types.add(declared)
    elif isinstance(declared, list):
        types.update(declared)
    for key in ("anyOf", "oneOf"):
        for option in prop.get(key, []):
            if isinstance(option, dict):
                types |= json_types(option)
    types.discard("null")
    return types


def meltano_value(kind: str | None, default: Any) -> Any:
    """A schema default as Meltano holds it: an array setting's "a,b" is the list [a, b]."""
    if kind == "array" and isinstance(default, str):
        return [part for part in default.split(",") if part]
    return default


@pytest.mark.parametrize(("plugin_type", "name"), sorted(PLUGINS.items()))
def test_settings_match_the_plugin(plugin_type: str, name: str) -> None:
    """Every setting of --about is declared with the same default and secrecy, and no more."""
    properties = about(name)["settings"]["properties"]
    declared = {s["name"]: s for s in plugin(plugin_type, name)["settings"]}

    assert sorted(declared) == sorted(properties), "meltano.yml settings differ from --about"
    problems = []
    for setting, prop in properties.items():
        ours = declared[setting]
        if ours.get("value") != meltano_value(ours.get("kind"), prop.get("default")):
            problems.append(f"{setting}: default {ours.get('value')!r} != {prop.get('default')!r}")
        if bool(ours.get("sensitive")) != bool(prop.get("secret")):
            problems.append(
                f"{setting}: sensitive={ours.get('sensitive')} secret={prop.get('secret')}"
            )
        types = json_types(prop)
        kind = ours.get("kind")
        if prop.get("format") == "date-time" and kind != "date_iso8601":
            problems.append(
                f"{setting}: a date-time setting should be kind date_iso8601, not {kind}"
            )
        if types and not any(kind in KINDS_FOR_TYPE.get(t, set()) for t in types):
            problems.append(f"{setting}: kind {kind} cannot hold {sorted(types)}")
        if not ours.get("label") or not ours.get("description"):
            problems.append(f"{setting}: needs a label and a description")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("plugin_type", "name"), sorted(PLUGINS.items()))
def test_capabilities_are_the_ones_the_plugin_reports(
    plugin_type: str, name: str, meltano_python: Path
) -> None:
    """Declared = reported by --about, limited to what Meltano's schema knows for the type."""
    known = meltano_capabilities(meltano_python, plugin_type)
    reported = set(about(name)["capabilities"])
    assert set(plugin(plugin_type, name)["capabilities"]) == reported & known


def test_meltano_yml_validates_against_meltanos_schema(meltano_python: Path) -> None:
    script = """
import json, sys, yaml, jsonschema
from importlib.resources import files
schema = json.loads(files("meltano").joinpath("schemas/meltano.schema.json").read_text())
doc = yaml.safe_load(open(sys.argv[1]))
errors = [f"{list(e.path)}: {e.message}" for e in
          jsonschema.Draft202012Validator(schema).iter_errors(doc)]
print("\\n".join(errors[:20]))
sys.exit(1 if errors else 0)
"""
    result = subprocess.run(
        [str(meltano_python), "-c", script, str(REPO_ROOT / "meltano.yml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    doc = meltano_yml()
    assert "version" not in doc, "`version: 1` is deprecated in Meltano 4"
    kinds = {
        s.get("kind")
        for plugins in doc["plugins"].values()
        for p in plugins
        for s in p.get("settings", [])
    }
    assert not kinds & {"password", "hidden"}, "deprecated kinds: use string + sensitive: true"


def test_every_dropstream_command_is_a_meltano_command() -> None:
    """`meltano invoke target-dropstream:<command>` exists for each `dropstream` command."""
    result = subprocess.run(
        [str(BIN / "dropstream"), "--help"], capture_output=True, text=True, check=True
    )
    listed = result.stdout.split("Commands:", 1)[1]
    commands = set(re.findall(r"^\s{2}([a-z][\w-]*)\s", listed, flags=re.MULTILINE))
    assert commands >= {"status", "release"}
    declared = plugin("loaders", "target-dropstream")["commands"]
    assert set(declared) == commands
    for command, spec in declared.items():
        assert spec["executable"] == "dropstream"
        assert spec["args"].split()[0] == command


def test_dev_environment_points_at_the_sandbox_the_demo_starts() -> None:
    """Port, token and store in the dev environment are the ones `make demo` serves."""
    (dev,) = [e for e in meltano_yml()["environments"] if e["name"] == "dev"]
    env = dev["env"]
    assert env["MAGENTO_STORE_URL"] == f"http://127.0.0.1:{demo.SANDBOX_PORT}"
    assert build_parser().parse_args([]).port == demo.SANDBOX_PORT
    keys = oauth_keys(MagentoSandbox(seed=int(demo.SANDBOX_SEED), order_count=1))
    for name, value in keys.items():  # the sandbox refuses Bearer, as a new store does
        assert env[f"MAGENTO_{name.upper()}"] == value
    assert env["DROPSTREAM_DATABASE_URL"].endswith("/" + demo.DEV_STORE.name)
    tap = plugin("extractors", "tap-magento2")["config"]
    target = plugin("loaders", "target-dropstream")["config"]
    assert tap["store_url"] == target["store_url"] == "${MAGENTO_STORE_URL}"
    for name in keys:
        assert tap[name] == target[name] == f"${{MAGENTO_{name.upper()}}}"
    assert target["database_url"] == "${DROPSTREAM_DATABASE_URL}"


def printed_config(
    project: MeltanoProject, environment: str, name: str, *, unsafe: bool = False, **env: str
) -> Any:
    """``meltano config print`` (secrets masked, Meltano's default, unless unsafe) as a dict."""
    safety = "--unsafe" if unsafe else "--safe"
    result = project.run("--environment", environment, "config", safety, "print", name, env=env)
    return json.loads(result.stdout[result.stdout.index("{") :])


def test_prod_environment_reads_the_store_from_environment_variables(
    project_without_sandbox: MeltanoProject,
) -> None:
    """prod takes MAGENTO_STORE_URL / MAGENTO_ACCESS_TOKEN; the token never reaches output."""
    secret = "prodsecret0123456789abcdef012345"
    env = {
        "MAGENTO_STORE_URL": "https://shop.example.com",
        "MAGENTO_ACCESS_TOKEN": secret,
        "DROPSTREAM_DATABASE_URL": "postgresql+psycopg://dropstream@db.example.com/dropstream",
    }
    tap = printed_config(project_without_sandbox, "prod", "tap-magento2", **env)
    assert tap["store_url"] == "https://shop.example.com"
    assert tap["access_token"] not in ("", None, secret)
    target = printed_config(project_without_sandbox, "prod", "target-dropstream", **env)
    assert target["database_url"] not in ("", None, env["DROPSTREAM_DATABASE_URL"])  # masked
    assert target["store_url"] == "https://shop.example.com"
    unmasked = printed_config(
        project_without_sandbox, "prod", "target-dropstream", unsafe=True, **env
    )
    assert unmasked["database_url"] == env["DROPSTREAM_DATABASE_URL"]
    listed = project_without_sandbox.run(
        "--environment", "prod", "config", "list", "tap-magento2", env=env
    )
    assert secret not in listed.output


def test_store_view_pipelines_and_schedule(project_without_sandbox: MeltanoProject) -> None:
    """Per-store-view extractors inherit everything but their code; a 15-minute schedule."""
    for code in ("default", "fr"):
        config = printed_config(project_without_sandbox, "dev", f"tap-magento2-{code}")
        assert config["store_view_code"] == code
        assert config["store_url"] == "http://127.0.0.1:8765"
        assert config["order_import_status"] == ["processing"]
    schedules = project_without_sandbox.run("schedule", "list", "--format", "json")
    data = json.loads(schedules.stdout[schedules.stdout.index("{") :])
    jobs = {j["name"]: j for j in data["schedules"]["job"]}
    assert jobs["magento-to-dropstream-every-15m"]["cron_interval"] == "*/15 * * * *"
    assert jobs["magento-to-dropstream-every-15m"]["job"]["tasks"] == [
        "tap-magento2 target-dropstream"
    ]


def meltano_capabilities(meltano_python: Path, plugin_type: str) -> set[str]:
    script = """
import json, sys
from importlib.resources import files
schema = json.loads(files("meltano").joinpath("schemas/meltano.schema.json").read_text())
for part in schema["$defs"]["plugins"][sys.argv[1]]["allOf"]:
    caps = part.get("properties", {}).get("capabilities")
    if caps:
        print(json.dumps(caps["items"]["enum"]))
"""
    result = subprocess.run(
        [str(meltano_python), "-c", script, plugin_type],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))

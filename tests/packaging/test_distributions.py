"""The plugin distributions build, pass ``twine check`` and hold what each plugin needs only.

A Meltano project gives every plugin its own virtualenv: the tap's must not pull in the
target's database drivers or CLI, both need magerest, and the sandbox is for development only.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

from magerest.version import __version__
from tests.meltano.meltano_project import REPO_ROOT
from tests.packaging.conftest import PLUGIN_DISTRIBUTIONS, Built

OWN_PACKAGE = {"tap-magento2": "tap_magento2", "target-dropstream": "target_dropstream"}
EXECUTABLES = {
    "tap-magento2": {"tap-magento2"},
    "target-dropstream": {"target-dropstream", "dropstream"},
}
TARGET_ONLY_REQUIREMENTS = {"sqlalchemy", "psycopg", "click"}


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode("utf-8"))


def top_level(names: list[str]) -> set[str]:
    return {name.split("/", 1)[0] for name in names if "/" in name}


def requirement_names(metadata: Message) -> set[str]:
    """Distribution names of Requires-Dist, normalised (extras and versions dropped)."""
    names = set()
    for requirement in metadata.get_all("Requires-Dist") or []:
        match = re.match(r"[A-Za-z0-9._-]+", requirement)
        assert match, requirement
        names.add(re.sub(r"[-_.]+", "-", match.group(0)).lower())
    return names


def test_twine_check_passes(built: dict[str, Built]) -> None:
    files = [str(path) for b in built.values() for path in (b.sdist, b.wheel)]
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", PLUGIN_DISTRIBUTIONS)
def test_wheel_holds_its_plugin_and_magerest_only(built: dict[str, Built], name: str) -> None:
    files = wheel_files(built[name].wheel)
    packages = top_level(files) - {f"{name.replace('-', '_')}-{__version__}.dist-info"}
    assert packages == {OWN_PACKAGE[name], "magerest"}
    assert f"{OWN_PACKAGE[name]}/__init__.py" in files
    assert "magerest/version.py" in files
    assert not any("__pycache__" in f or f.endswith(".pyc") for f in files)
    license_files = [f for f in files if ".dist-info/licenses/" in f]
    assert [f.rsplit("/", 1)[1] for f in license_files] == ["LICENSE"]


def test_tap_schemas_are_packaged(built: dict[str, Built]) -> None:
    files = wheel_files(built["tap-magento2"].wheel)
    assert "tap_magento2/schemas/orders.json" in files


@pytest.mark.parametrize("name", PLUGIN_DISTRIBUTIONS)
def test_wheel_metadata(built: dict[str, Built], name: str) -> None:
    metadata = wheel_metadata(built[name].wheel)
    assert metadata["Name"] == name
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    with zipfile.ZipFile(built[name].wheel) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
        scripts = archive.read(entry_points).decode("utf-8").split("[console_scripts]")[1]
    declared = {line.split("=")[0].strip() for line in scripts.splitlines() if "=" in line}
    assert declared == EXECUTABLES[name]


def test_tap_requires_no_database_driver_and_no_click(built: dict[str, Built]) -> None:
    """Its venv gets SQLAlchemy and click only as singer-sdk's own dependencies, never psycopg."""
    tap = requirement_names(wheel_metadata(built["tap-magento2"].wheel))
    assert not tap & TARGET_ONLY_REQUIREMENTS
    target = requirement_names(wheel_metadata(built["target-dropstream"].wheel))
    assert target >= TARGET_ONLY_REQUIREMENTS | {"singer-sdk"}


@pytest.mark.parametrize("name", PLUGIN_DISTRIBUTIONS)
def test_sdist_builds_alone(built: dict[str, Built], name: str) -> None:
    """The sdist carries the shared packages itself: the wheel above was built from it."""
    with tarfile.open(built[name].sdist) as archive:
        members = [member.name for member in archive.getmembers()]
    names = [member.split("/", 1)[1] for member in members if "/" in member]
    for needed in ("pyproject.toml", "hatch_build.py", "LICENSE", "README.md", "PKG-INFO"):
        assert needed in names
    assert f"{OWN_PACKAGE[name]}/__init__.py" in names
    assert "magerest/__init__.py" in names
    assert not any(n.startswith("magento2_sandbox") for n in names)


def plugin_pyproject(name: str) -> dict:
    return tomllib.loads((REPO_ROOT / "packaging" / name / "pyproject.toml").read_text())


@pytest.mark.parametrize("name", PLUGIN_DISTRIBUTIONS)
def test_dependencies_are_the_development_distributions(name: str) -> None:
    """Each plugin requirement is one of the root pyproject's, word for word."""
    root = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert set(plugin_pyproject(name)["project"]["dependencies"]) <= set(root)


def test_every_distribution_takes_its_version_from_magerest() -> None:
    root = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "version" not in root["project"]
    assert root["tool"]["hatch"]["version"]["path"] == "magerest/version.py"
    for name in PLUGIN_DISTRIBUTIONS:
        pyproject = plugin_pyproject(name)
        assert pyproject["project"]["dynamic"] == ["version"]
        assert pyproject["tool"]["hatch"]["version"]["path"] == "../../magerest/version.py"


def test_copies_in_each_distribution_folder_are_identical() -> None:
    """Each sdist needs its own build hook and licence text; they must not drift apart."""
    license_text = (REPO_ROOT / "LICENSE").read_bytes()
    folders = [REPO_ROOT / "packaging" / name for name in PLUGIN_DISTRIBUTIONS]
    hooks = {(folder / "hatch_build.py").read_bytes() for folder in folders}
    assert len(hooks) == 1
    for name in PLUGIN_DISTRIBUTIONS:
        assert (REPO_ROOT / "packaging" / name / "LICENSE").read_bytes() == license_text
    assert b"Apache License" in license_text
    assert b"Version 2.0, January 2004" in license_text

"""Another team's Meltano project, set up with the README's commands, loads the sandbox's orders.

``meltano init`` makes a fresh project; the plugins come from a git repository of this
checkout through the definition files and ``DROPSTREAM_SOURCE``, exactly as the section
"Add to your Meltano project" says. Meltano's uv backend keeps the two installs to seconds
(the same backend this repository's meltano.yml uses).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from magento2_sandbox import MagentoSandbox
from magerest.version import __version__
from tests.conftest import oauth_keys
from tests.meltano.meltano_project import MeltanoProject, clean_environ
from tests.meltano.observe import order_ids, paid_orders

README_STEPS = (
    ("add", "tap-magento2", "--from-ref", "{source}/plugins/extractors/tap-magento2.yml"),
    ("add", "target-dropstream", "--from-ref", "{source}/plugins/loaders/target-dropstream.yml"),
    ("select", "tap-magento2", "orders", "*"),
)


@pytest.fixture
def sandbox() -> Iterator[MagentoSandbox]:
    with MagentoSandbox(order_count=60, seed=11) as sb:
        yield sb


def settings_env(sandbox: MagentoSandbox, database: Path) -> dict[str, str]:
    """The settings the README says to set, as Meltano's environment variables."""
    env = {
        "TAP_MAGENTO2_STORE_URL": sandbox.base_url,
        "TARGET_DROPSTREAM_STORE_URL": sandbox.base_url,
        "TARGET_DROPSTREAM_DATABASE_URL": f"sqlite:///{database}",
    }
    for name, value in oauth_keys(sandbox).items():
        env[f"TAP_MAGENTO2_{name.upper()}"] = value
        env[f"TARGET_DROPSTREAM_{name.upper()}"] = value
    return env


def stored_orders(database: Path) -> set[int]:
    with sqlite3.connect(database) as conn:
        return {row[0] for row in conn.execute("SELECT order_id FROM fulfillment_orders")}


def test_readme_commands_set_up_a_working_pipeline(
    tmp_path: Path,
    meltano_executable: Path,
    source_repository: Path,
    sandbox: MagentoSandbox,
) -> None:
    init = subprocess.run(
        [str(meltano_executable), "init", "project"],
        cwd=tmp_path,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    database = tmp_path / "fulfillment.db"
    project = MeltanoProject(
        executable=meltano_executable,
        root=tmp_path / "project",
        env=clean_environ(
            {
                "DROPSTREAM_SOURCE": source_repository.as_uri(),
                "MELTANO_VENV_BACKEND": "uv",
                **settings_env(sandbox, database),
            }
        ),
    )
    for step in README_STEPS:
        project.run(*(part.format(source=source_repository) for part in step), timeout=600)

    project.run("run", "tap-magento2", "target-dropstream", timeout=300)

    assert stored_orders(database) == order_ids(paid_orders(sandbox))
    status = project.run("invoke", "target-dropstream:status")
    assert "ready" in status.output or "held" in status.output
    tap = project.root / ".meltano" / "extractors" / "tap-magento2" / "venv" / "bin"
    version = subprocess.run(
        [str(tap / "tap-magento2"), "--version"], capture_output=True, text=True, check=True
    )
    assert f"v{__version__}," in version.stdout


def test_pip_installs_the_tap_from_git_without_the_targets_drivers(
    tmp_path: Path, source_repository: Path
) -> None:
    """``pip install git+file://...#subdirectory=packaging/tap-magento2`` into a fresh venv."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    url = f"git+{source_repository.as_uri()}#subdirectory=packaging/tap-magento2"
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", url],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    version = subprocess.run(
        [str(venv / "bin" / "tap-magento2"), "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert f"tap-magento2 v{__version__}," in version.stdout
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "freeze"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.lower()
    assert "psycopg" not in listed
    assert "magento2-dropstream" not in listed

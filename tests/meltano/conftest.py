"""Fixtures for the Meltano tests: Meltano itself, the installed plugins, a sandbox store.

Meltano lives in its own virtualenv (``.venv/meltano``, see ``scripts/meltano_venv.py``)
because it pins SQLAlchemy < 2.1. The plugins are installed once into a cache folder
inside it and shared by every test project; everything else (meltano.yml copy, system
database with the saved state, run and log folders, fulfillment store) is per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from magento2_sandbox import MagentoSandbox
from scripts.meltano_venv import MeltanoInstallError, ensure_meltano, install_plugins
from tests.conftest import oauth_keys
from tests.meltano.meltano_project import (
    REPO_ROOT,
    MeltanoProject,
)

SANDBOX_ORDERS = 240


@pytest.fixture(scope="session")
def meltano_executable() -> Path:
    """The ``meltano`` command, installed into ``.venv/meltano`` on first use."""
    try:
        return ensure_meltano(REPO_ROOT)
    except MeltanoInstallError as exc:
        pytest.skip(f"Meltano could not be installed here, so the Meltano tests cannot run: {exc}")


@pytest.fixture(scope="session")
def meltano_python(meltano_executable: Path) -> Path:
    """The Python of Meltano's virtualenv (it has Meltano's JSON schema and jsonschema)."""
    return meltano_executable.parent / "python"


@pytest.fixture(scope="session")
def plugin_cache(meltano_executable: Path) -> Path:
    """A Meltano system folder whose extractors/ and loaders/ hold the installed plugins."""
    try:
        return install_plugins(meltano_executable, REPO_ROOT)
    except MeltanoInstallError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def sandbox() -> Iterator[MagentoSandbox]:
    """A fresh sandbox store on a free loopback port, a few hundred orders."""
    with MagentoSandbox(order_count=SANDBOX_ORDERS, seed=7) as sb:
        yield sb


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """The fulfillment store of one test (SQLite file in the test's folder)."""
    return f"sqlite:///{tmp_path / 'fulfillment.db'}"


@pytest.fixture
def project(
    tmp_path: Path,
    meltano_executable: Path,
    plugin_cache: Path,
    sandbox: MagentoSandbox,
    store_url: str,
) -> MeltanoProject:
    """A private Meltano project whose dev environment points at this test's sandbox."""
    return MeltanoProject.create(
        meltano_executable,
        tmp_path / "project",
        plugin_cache,
        env=sandbox_env(sandbox, store_url),
    )


@pytest.fixture
def project_without_sandbox(
    tmp_path: Path, meltano_executable: Path, plugin_cache: Path
) -> MeltanoProject:
    """A private Meltano project for commands that do not talk to a store."""
    return MeltanoProject.create(meltano_executable, tmp_path / "project", plugin_cache)


def sandbox_env(sandbox: MagentoSandbox, database_url: str) -> dict[str, str]:
    """Settings, as Meltano's environment variables, for a pipeline against ``sandbox``."""
    env = {
        "TAP_MAGENTO2_STORE_URL": sandbox.base_url,
        "TARGET_DROPSTREAM_STORE_URL": sandbox.base_url,
        "TARGET_DROPSTREAM_DATABASE_URL": database_url,
    }
    for name, value in oauth_keys(sandbox).items():  # OAuth 1.0a: the sandbox refuses Bearer
        env[f"TAP_MAGENTO2_{name.upper()}"] = value
        env[f"TARGET_DROPSTREAM_{name.upper()}"] = value
    return env

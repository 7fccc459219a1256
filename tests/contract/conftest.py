"""The contract suite's session: which Magento, its REST transport, and one fixture set per run.

With the ``MAGENTO_CONTRACT_*`` variables set, everything runs against that store; without
them, against a MagentoSandbox started here. Nothing below differs between the two except
where the store comes from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from magento2_sandbox import MagentoSandbox
from scripts.meltano_venv import MeltanoInstallError, ensure_meltano, install_plugins
from tests.conftest import oauth_keys
from tests.contract.fixtures import Fixtures, build_fixtures
from tests.contract.processes import Workspace, discover
from tests.contract.store import (
    SANDBOX_VIEWS,
    ContractSetupError,
    ContractStore,
    MagentoRest,
    describe_target,
    requested_store,
    run_prefix,
)
from tests.meltano.meltano_project import REPO_ROOT

_ran_against: list[str] = []
_prefixes: list[str] = []


def pytest_report_header(config: pytest.Config) -> str:
    return describe_target()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _ran_against:
        line = f"contract suite ran against {_ran_against[0]}"
        if _prefixes:
            line += f"; everything it created starts with {_prefixes[0]}"
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def contract_store() -> Iterator[ContractStore]:
    """The store named by MAGENTO_CONTRACT_*, else a sandbox started for this session."""
    try:
        real = requested_store()
    except ContractSetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    if real is not None:
        _ran_against[:] = [real.describe()]
        yield real
        return
    with MagentoSandbox(order_count=30, seed=13) as sb:
        store = ContractStore(
            url=sb.base_url,
            admin_user=sb.admin_user,
            admin_password=sb.admin_password,
            oauth=oauth_keys(sb),
            store_views=SANDBOX_VIEWS,
            is_sandbox=True,
        )
        _ran_against[:] = [store.describe()]
        yield store


@pytest.fixture(scope="session")
def rest(contract_store: ContractStore) -> MagentoRest:
    return MagentoRest(contract_store)


@pytest.fixture(scope="session")
def fixtures(rest: MagentoRest, contract_store: ContractStore) -> Fixtures:
    """The run's catalog and orders, built once (see fixtures.py)."""
    prefix = run_prefix()
    _prefixes[:] = [prefix]
    try:
        return build_fixtures(rest, prefix, contract_store.store_views)
    except ContractSetupError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def tap_catalog(
    tmp_path_factory: pytest.TempPathFactory, contract_store: ContractStore
) -> dict[str, Any]:
    return discover(tmp_path_factory.mktemp("discover"), contract_store)


@pytest.fixture
def work(
    tmp_path: Path,
    contract_store: ContractStore,
    fixtures: Fixtures,
    tap_catalog: dict[str, Any],
) -> Workspace:
    """This test's folder and fulfillment store, with the run's fixtures."""
    return Workspace(tmp_path, contract_store, fixtures, tap_catalog)


@pytest.fixture(scope="session")
def meltano_executable() -> Path:
    """Meltano in .venv/meltano (installed once); the suite fails, never skips, without it."""
    try:
        return ensure_meltano(REPO_ROOT)
    except MeltanoInstallError as exc:
        pytest.fail(f"Meltano could not be installed, so `meltano run` cannot be proved: {exc}")


@pytest.fixture(scope="session")
def plugin_cache(meltano_executable: Path) -> Path:
    try:
        return install_plugins(meltano_executable, REPO_ROOT)
    except MeltanoInstallError as exc:
        pytest.fail(str(exc))

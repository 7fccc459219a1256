"""Shared pytest options. Fixtures live next to the tests that use them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tap_magento2.sandbox import MagentoSandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow", action="store_true", default=False, help="run long soaks and large runs"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip_slow = pytest.mark.skip(reason="long run: pass --run-slow (or `make test-slow`)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


# --- Magento sandbox fixtures (shared by every suite) ---------------------------------------------
SANDBOX_NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[MagentoSandbox]:
    """A started sandbox: 200 seeded orders, seed 1, fixed `now` (SANDBOX_NOW), default settings."""
    with MagentoSandbox(order_count=200, seed=1, now=SANDBOX_NOW) as sb:
        yield sb


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., MagentoSandbox]]:
    """Start sandboxes with custom settings (`now` defaults to SANDBOX_NOW); stopped at teardown."""
    started: list[MagentoSandbox] = []

    def make(**settings: Any) -> MagentoSandbox:
        settings.setdefault("now", SANDBOX_NOW)
        sb = MagentoSandbox(**settings).start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()

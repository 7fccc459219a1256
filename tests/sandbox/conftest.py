"""The sandbox's own tests send plain Bearer requests, so their sandboxes allow them.

A new store refuses the integration token as a Bearer token (the sandbox's default); these
tests exercise search, paging and shipping, not authentication. ``test_routes_auth`` covers
the defaults and OAuth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from magento2_sandbox import MagentoSandbox
from tests.conftest import SANDBOX_NOW, started_sandboxes


@pytest.fixture
def sandbox() -> Iterator[MagentoSandbox]:
    """200 seeded orders, seed 1, fixed `now`, Bearer allowed."""
    with MagentoSandbox(order_count=200, seed=1, now=SANDBOX_NOW, bearer_enabled=True) as sb:
        yield sb


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., MagentoSandbox]]:
    """Sandboxes on SANDBOX_NOW with Bearer allowed unless a test says otherwise."""
    with started_sandboxes(SANDBOX_NOW) as start:

        def start_with_bearer(**settings: Any) -> MagentoSandbox:
            settings.setdefault("bearer_enabled", True)
            return start(**settings)

        yield start_with_bearer

"""Fixtures for the performance-path tests: sandboxes and fast retries."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tap_magento2.client import Magento2Stream
from tap_magento2.retry import RetryPolicy
from tests.tap.support import FAST_RETRIES


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    """Make the streams retry after milliseconds."""
    monkeypatch.setattr(Magento2Stream, "retry_policy", FAST_RETRIES)
    return FAST_RETRIES


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Any]]:
    """Start MagentoSandbox instances (loopback only) that stop when the test ends."""
    from tap_magento2.sandbox import MagentoSandbox

    with contextlib.ExitStack() as stack:

        def start(**kwargs: Any) -> Any:
            return stack.enter_context(MagentoSandbox(**kwargs))

        yield start

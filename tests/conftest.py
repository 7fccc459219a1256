"""Shared pytest options, plus the sandbox and retry fixtures that several test packages use.

Fixtures used by one package only stay in that package's conftest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from magento2_sandbox import MagentoSandbox
from magerest.auth import OAuth1Auth
from magerest.retry import RetryPolicy
from tap_magento2.client import Magento2Stream


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


# --- Magento sandboxes ----------------------------------------------------------------------------
SANDBOX_NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@contextlib.contextmanager
def started_sandboxes(now: datetime | None) -> Iterator[Callable[..., MagentoSandbox]]:
    """Yield a function that starts loopback sandboxes, ``now`` defaulting to *now*; all stop
    on exit. ``None`` means the wall clock."""
    with contextlib.ExitStack() as stack:

        def start(**settings: Any) -> MagentoSandbox:
            settings.setdefault("now", now)
            return stack.enter_context(MagentoSandbox(**settings))

        yield start


@pytest.fixture
def sandbox() -> Iterator[MagentoSandbox]:
    """A started sandbox: 200 seeded orders, seed 1, fixed `now` (SANDBOX_NOW), default settings."""
    with MagentoSandbox(order_count=200, seed=1, now=SANDBOX_NOW) as sb:
        yield sb


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., MagentoSandbox]]:
    """Start sandboxes whose clock starts at SANDBOX_NOW, so data and bookmarks are repeatable."""
    with started_sandboxes(SANDBOX_NOW) as start:
        yield start


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., MagentoSandbox]]:
    """Start sandboxes on the wall clock (tap and perf tests that read "now" from the tap too)."""
    with started_sandboxes(None) as start:
        yield start


def sandbox_config(sb: MagentoSandbox, **overrides: Any) -> dict[str, Any]:
    """Tap settings pointing at a sandbox, signed with OAuth 1.0a (the four Integration keys),
    the path that works on an untouched store; None values are left out.

    The tap follows no status here (``order_follow_status: ""``), so it streams exactly
    ``order_import_status``; ``order_follow_status=None`` gives the tap's default."""
    config: dict[str, Any] = {"store_url": sb.base_url, **oauth_keys(sb), "order_follow_status": ""}
    config.update(overrides)
    return {key: value for key, value in config.items() if value is not None}


def oauth_keys(sb: MagentoSandbox) -> dict[str, str]:
    """The sandbox Integration's four OAuth 1.0a keys, named as the plugins' settings."""
    keys = sb.oauth
    return {
        "consumer_key": keys.consumer_key,
        "consumer_secret": keys.consumer_secret,
        "access_token": keys.access_token,
        "access_token_secret": keys.access_token_secret,
    }


def signed(sb: MagentoSandbox) -> OAuth1Auth:
    """``requests`` auth that signs like the plugins do, for tests calling the sandbox directly."""
    return OAuth1Auth(**oauth_keys(sb))


def bearer_config(sb: MagentoSandbox, **overrides: Any) -> dict[str, Any]:
    """Settings with the access token alone, sent as a Bearer token (the sandbox must allow it)."""
    return sandbox_config(
        sb, consumer_key=None, consumer_secret=None, access_token_secret=None, **overrides
    )


# --- Retries --------------------------------------------------------------------------------------
#: Retries that wait milliseconds instead of seconds, so failure tests stay fast.
FAST_RETRIES = RetryPolicy(max_tries=4, base_seconds=0.01, cap_seconds=5.0)


def use_retry_policy(
    monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str] | None = None
) -> RetryPolicy:
    """Give the streams FAST_RETRIES, or with *env* the policy those documented
    ``TAP_MAGENTO2_RETRY_*`` variables build (what the CLI would use)."""
    policy = FAST_RETRIES
    if env is not None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        policy = RetryPolicy()
    monkeypatch.setattr(Magento2Stream, "retry_policy", policy)
    return policy


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    """Make the streams retry after milliseconds."""
    return use_retry_policy(monkeypatch)

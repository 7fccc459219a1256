"""Fixtures for the reliability suite: the real CLIs as subprocesses, retries, secrets.

Sandboxes come from ``sandbox_factory`` in ``tests/conftest.py`` (clock at SANDBOX_NOW).

Every server here listens on 127.0.0.1 only. Retry waits are shortened through the
documented ``TAP_MAGENTO2_RETRY_*`` environment variables, never by patching privates.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from magerest.retry import ENV_BASE_SECONDS, ENV_CAP_SECONDS, ENV_MAX_TRIES, RetryPolicy
from tests.conftest import use_retry_policy

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TAP = str(BIN / "tap-magento2")
TARGET = str(BIN / "target-dropstream")
DROPSTREAM = str(BIN / "dropstream")
MAX_TRIES = 4
#: Environment that makes every retry wait milliseconds (4 attempts, waits <= 0.2 s).
FAST_RETRY_ENV = {ENV_MAX_TRIES: str(MAX_TRIES), ENV_BASE_SECONDS: "0.01", ENV_CAP_SECONDS: "0.2"}
# Variables a developer may have exported that would change what the CLIs run against.
_LEAKY_PREFIXES = ("TAP_MAGENTO2", "TARGET_DROPSTREAM", "MELTANO_", "REQUESTS_CA_BUNDLE")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without plugin settings, with fast retries and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_LEAKY_PREFIXES)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(FAST_RETRY_ENV)
    env.update(extra or {})
    return env


@dataclass
class CliRun:
    """What one CLI run did."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def records(self, stream: str = "orders") -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m.get("type") == "RECORD" and m.get("stream") == stream
        ]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m.get("type") == "STATE"]


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> CliRun:
    """Run a console script to the end and keep its exit code and both outputs."""
    proc = subprocess.run(
        list(args),
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    """Overrides the shared one: in-process runs use the policy the documented environment
    variables build, so they retry exactly like the CLI subprocesses here."""
    policy = use_retry_policy(monkeypatch, env=FAST_RETRY_ENV)
    assert (policy.max_tries, policy.base_seconds, policy.cap_seconds) == (MAX_TRIES, 0.01, 0.2)
    return policy


def order_ids(records: Sequence[Mapping[str, Any]]) -> list[int]:
    return [int(r["entity_id"]) for r in records]


def openssl() -> str:
    """The openssl executable (used to make throwaway certificates)."""
    found = shutil.which("openssl")
    if found is None:
        pytest.skip("openssl is not installed")
    return found

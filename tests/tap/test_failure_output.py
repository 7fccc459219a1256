"""Expected failures end the command in a line or two that say what to do, not in tracebacks;
refused credentials stop the run at the first stream."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from magento2_sandbox import MagentoSandbox
from magerest.errors import BEARER_SETTING
from tap_magento2.client import AccessDeniedError, CredentialsError
from tests.conftest import bearer_config, sandbox_config
from tests.tap.support import run_tap
from tests.tap.test_cli import EXECUTABLE
from tests.tap.test_more_streams import acl_refusal

WRONG_TOKEN = "0" * 32


def run_command(
    config: dict[str, Any], folder: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """``tap-magento2 --config`` with retries that wait milliseconds."""
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TAP_MAGENTO2_")}
    environment.update({"TAP_MAGENTO2_RETRY_BASE_SECONDS": "0.01", **env})
    return subprocess.run(
        [str(EXECUTABLE), "--config", str(path)],
        capture_output=True, text=True, timeout=120, cwd=folder, env=environment, check=False,
    )  # fmt: skip


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR " in line]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_store_ends_in_one_line_naming_host_and_what_to_check(
    tmp_path: Path,
) -> None:
    port = closed_port()
    config = {"store_url": f"http://127.0.0.1:{port}", "access_token": "token"}
    result = run_command(config, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 15, result.stderr
    [error] = errors(result.stderr)
    assert error == result.stderr.strip().splitlines()[-1]
    assert f"http://127.0.0.1:{port}" in error
    assert "after 5 attempts" in error
    assert "store_url" in error
    retries = [line for line in result.stderr.splitlines() if "Retrying" in line]
    assert len(retries) == 4
    assert re.search(
        rf"Retrying in [\d.]+ s: GET http://127\.0\.0\.1:{port}/rest/V1/\w+, "
        r"attempt 1 of 5 failed: could not connect",
        retries[0],
    )
    for noise in ("Backing off", "Giving up", "refuse_untrusted_store", "unhandled error"):
        assert noise not in result.stderr


def test_the_traceback_is_there_at_debug_level(tmp_path: Path) -> None:
    config = {"store_url": f"http://127.0.0.1:{closed_port()}", "access_token": "token"}
    result = run_command(config, tmp_path, TAP_MAGENTO2_LOGLEVEL="DEBUG")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "ConnectionRefusedError" in result.stderr


def test_a_wrong_bearer_token_stops_at_the_first_stream_with_one_message(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(order_count=20, seed=5, bearer_enabled=True)
    result = run_command(bearer_config(sb, access_token=WRONG_TOKEN), tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [error] = errors(result.stderr)
    assert "| Magento refused the access token: GET /rest/V1/orders" in error
    assert BEARER_SETTING in error
    assert "skipped" not in result.stderr
    assert sb.base_url in error
    assert len(sb.requests) == 2  # the first stream's request and one check of the token
    assert '"RECORD"' not in result.stdout


def test_wrong_oauth_keys_stop_at_the_first_request_with_one_message(
    make_sandbox: Any, tmp_path: Path
) -> None:
    sb = make_sandbox(order_count=20, seed=5)
    result = run_command(sandbox_config(sb, consumer_secret="x" * 32), tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [error] = errors(result.stderr)
    assert "HTTP 401: The signature is invalid" in error
    assert "Magento refused the OAuth 1.0a credentials" in error
    assert "x" * 32 not in result.stderr
    assert len(sb.requests) == 1


def test_a_valid_bearer_token_missing_one_resource_still_fails_only_that_stream(
    make_sandbox: Any,
) -> None:
    sb = make_sandbox(order_count=40, seed=6, bearer_enabled=True)
    acl_refusal(sb, "/V1/invoices", "Magento_Sales::sales_invoice")
    with pytest.raises(AccessDeniedError, match="Magento_Sales::sales_invoice") as caught:
        run_tap(bearer_config(sb), streams=("orders", "invoices", "shipments"))
    assert not isinstance(caught.value, CredentialsError)
    assert [r.route for r in sb.requests if r.status == 200 and r.route == "/V1/shipments"]
    assert len([r for r in sb.requests if r.route == "/V1/orders"]) == 2  # the check + the page


def test_strict_mode_reports_a_wrong_bearer_token_as_credentials(make_sandbox: Any) -> None:
    sb: MagentoSandbox = make_sandbox(order_count=10, seed=5, bearer_enabled=True)
    with pytest.raises(CredentialsError, match="Magento refused the access token"):
        run_tap(bearer_config(sb, access_token=WRONG_TOKEN, strict_mode=True))


def test_a_valid_bearer_token_refused_the_store_views_is_an_acl_refusal_not_credentials(
    make_sandbox: Any,
) -> None:
    """The orders stream is refused through the store views it asks first: the check asks the
    orders themselves, which answer, so the token is fine and only that resource is missing."""
    sb = make_sandbox(order_count=20, seed=6, bearer_enabled=True)
    acl_refusal(sb, "/V1/store/storeViews", "Magento_Backend::store")
    with pytest.raises(AccessDeniedError, match="Magento_Backend::store") as caught:
        run_tap(bearer_config(sb, store_view_code="de"), streams=("orders",))
    assert not isinstance(caught.value, CredentialsError)
    assert [r.status for r in sb.requests if r.route == "/V1/orders"] == [200]  # the check
